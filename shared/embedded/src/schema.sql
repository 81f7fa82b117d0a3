-- Every embedded table's items, keyed as DynamoDB keys them; `body` is the item as JSON.
CREATE TABLE IF NOT EXISTS items (
    tbl  TEXT NOT NULL,
    pk   TEXT NOT NULL,
    sk   TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tbl, pk, sk)
) WITHOUT ROWID;

-- The change feed of tables opened with a stream, shaped like DynamoDB Stream records
-- (NEW_IMAGE view): `seq` is the sequence number.
CREATE TABLE IF NOT EXISTS changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl        TEXT NOT NULL,
    event_name TEXT NOT NULL,
    pk         TEXT NOT NULL,
    sk         TEXT NOT NULL,
    new_image  TEXT,
    at_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_table ON changes (tbl, seq);

-- Metadata of the folder blob stores' objects; each object's bytes are one file of its folder.
CREATE TABLE IF NOT EXISTS blobs (
    bucket       TEXT NOT NULL,
    key          TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;

-- Recorded push: the device endpoints registered, one per platform and token ...
CREATE TABLE IF NOT EXISTS push_endpoints (
    id        TEXT PRIMARY KEY,
    platform  TEXT NOT NULL,
    token     TEXT NOT NULL,
    user_data TEXT NOT NULL,
    enabled   INTEGER NOT NULL,
    UNIQUE (platform, token)
);
-- ... and the outbox of what was sent to them, in the order it was sent.
CREATE TABLE IF NOT EXISTS push_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint   TEXT NOT NULL,
    payload    TEXT NOT NULL,
    sent_at_ms INTEGER NOT NULL
);

-- Every embedded queue's messages. A message is receivable once `visible_at_ms` has passed;
-- `receipt` names its latest delivery (NULL before the first), so only that delivery's receipt
-- deletes or releases it. Redrive moves a row to its dead-letter queue by changing `queue`.
CREATE TABLE IF NOT EXISTS queue_messages (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    queue         TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    body          TEXT NOT NULL,
    attributes    TEXT NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    visible_at_ms INTEGER NOT NULL,
    receipt       TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS queue_messages_by_queue ON queue_messages (queue, seq);
