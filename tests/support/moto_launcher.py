"""Starts a moto server on a free loopback port for one test process.

Prints the port once the server accepts requests, then serves until its standard input
closes: the test process holds the other end, so the server never outlives the tests.

moto serves requests on many threads but does not make DynamoDB's conditional writes atomic
across them (two racing TransactWriteItems can both pass the same condition). DynamoDB itself
serializes writes to an item, so DynamoDB requests are served one at a time here; everything
else, SQS long polls included, stays concurrent.

moto's TransactWriteItems also lies on DynamoDB Streams: it applies the writes one by one,
recording each on the table's stream, and on a failed condition puts back a copy of the tables
taken before. The copy brings a copy of the stream shard, so a reader's iterator stays on the
discarded shard (it sees a phantom record of a write that never happened, then nothing more),
and the restored shard hands the phantom's sequence number to the next real write. DynamoDB
records a transaction's writes only once the whole transaction commits, and nothing for a
cancelled one; `record_stream_after_commit` makes moto do the same.
"""
import logging
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def record_stream_after_commit():
    """Holds back the stream records of a transaction's writes until it commits, drops them
    when it is cancelled, and keeps each table's live shard through moto's rollback."""
    record = StreamShard.add
    transact = DynamoDBBackend.transact_write_items
    held = threading.local()  # `records`: the running transaction's, on the thread that runs it

    def add(shard, old, new):
        records = getattr(held, "records", None)
        if records is None:
            record(shard, old, new)
        else:
            records.append((shard, old, new))

    def transact_write_items(backend, transact_items):
        live_shards = {name: table.stream_shard for name, table in backend.tables.items()}
        held.records = []
        try:
            transact(backend, transact_items)
            committed = held.records
        finally:
            held.records = None
            for name, shard in live_shards.items():
                table = backend.tables.get(name)
                if table is not None and shard is not None:
                    table.stream_shard, shard.table = shard, table
        for shard, old, new in committed:
            record(shard, old, new)

    StreamShard.add = add
    DynamoDBBackend.transact_write_items = transact_write_items


record_stream_after_commit()

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request in test output
dynamodb_lock = threading.Lock()
moto_app = DomainDispatcherApplication(create_backend_app)


def app(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with dynamodb_lock:
            return moto_app(environ, start_response)
    return moto_app(environ, start_response)


server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_port, flush=True)
sys.stdin.read()
server.shutdown()
