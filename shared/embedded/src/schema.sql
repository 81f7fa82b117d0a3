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
