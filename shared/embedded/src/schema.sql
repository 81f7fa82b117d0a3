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
