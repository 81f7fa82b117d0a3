"""Starts a moto server on a free loopback port for one test process.

Prints the port once the server accepts requests, then serves until its standard input
closes: the test process holds the other end, so the server never outlives the tests.

moto serves requests on many threads but does not make DynamoDB's conditional writes atomic
across them (two racing TransactWriteItems can both pass the same condition). DynamoDB itself
serializes writes to an item, so DynamoDB requests are served one at a time here; everything
else, SQS long polls included, stays concurrent.
"""
import logging
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

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
