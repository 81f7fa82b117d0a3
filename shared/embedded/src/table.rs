//! The Table port on SQLite, with a DynamoDB-Streams-shaped change feed.

use crate::database::now_ms;
use crate::Database;
use async_trait::async_trait;
use aws_lambda_events::dynamodb::{EventRecord, StreamRecord, StreamViewType};
use huddle_ports::table::{
    validate_batch, validate_batch_get, validate_item, validate_key, validate_pk, validate_transaction,
};
use huddle_ports::{
    BatchWrite, Condition, Direction, Item, Key, Page, Query, Scan, SkRange, Table, TableError,
    TransactWrite, EXPIRES_AT,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

/// One named table inside the embedded database.
#[derive(Clone)]
pub struct SqliteTable {
    db: Database,
    name: String,
    /// Whether writes are recorded in the change feed (the table has a stream).
    streamed: bool,
}

impl SqliteTable {
    pub fn new(db: &Database, name: impl Into<String>, streamed: bool) -> Self {
        Self { db: db.clone(), name: name.into(), streamed }
    }

    /// The change feed of this table; empty unless the table was opened with a stream.
    pub fn change_feed(&self) -> ChangeFeed {
        ChangeFeed { db: self.db.clone(), table: self.name.clone(), changes: self.db.watch_changes() }
    }
}

fn storage_error(error: rusqlite::Error) -> TableError {
    TableError::Unavailable(error.to_string())
}

fn parse_item(body: String) -> Result<Item, TableError> {
    serde_json::from_str(&body).map_err(|e| TableError::Unavailable(format!("corrupt item: {e}")))
}

fn key_of(item: &Item) -> Result<Key, TableError> {
    let key = Key::of(item).ok_or_else(|| TableError::Invalid("item without string pk and sk".into()))?;
    validate_key(&key)?;
    Ok(key)
}

/// Reads and writes inside one SQLite connection (and so inside any open transaction).
struct Tx<'c> {
    conn: &'c Connection,
    table: &'c SqliteTable,
}

impl Tx<'_> {
    fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        self.conn
            .prepare_cached("SELECT body FROM items WHERE tbl = ?1 AND pk = ?2 AND sk = ?3")
            .and_then(|mut stmt| {
                stmt.query_row(params![self.table.name, key.pk, key.sk], |row| row.get::<_, String>(0))
                    .optional()
            })
            .map_err(storage_error)?
            .map(parse_item)
            .transpose()
    }

    fn write(&self, key: &Key, item: &Item, existed: bool) -> Result<(), TableError> {
        let mut stored = Value::Object(item.clone());
        store_numbers_as_dynamodb_does(&mut stored);
        let body = stored.to_string();
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO items (tbl, pk, sk, body) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut stmt| stmt.execute(params![self.table.name, key.pk, key.sk, body]))
            .map_err(storage_error)?;
        self.record_change(if existed { "MODIFY" } else { "INSERT" }, key, Some(&body))
    }

    fn remove(&self, key: &Key) -> Result<(), TableError> {
        let removed = self
            .conn
            .prepare_cached("DELETE FROM items WHERE tbl = ?1 AND pk = ?2 AND sk = ?3")
            .and_then(|mut stmt| stmt.execute(params![self.table.name, key.pk, key.sk]))
            .map_err(storage_error)?;
        if removed > 0 {
            self.record_change("REMOVE", key, None)?;
        }
        Ok(())
    }

    fn record_change(&self, event_name: &str, key: &Key, new_image: Option<&str>) -> Result<(), TableError> {
        if !self.table.streamed {
            return Ok(());
        }
        self.conn
            .prepare_cached(
                "INSERT INTO changes (tbl, event_name, pk, sk, new_image, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![self.table.name, event_name, key.pk, key.sk, new_image, now_ms()])
            })
            .map_err(storage_error)?;
        Ok(())
    }

    fn check(&self, key: &Key, condition: &Condition) -> Result<Option<Item>, Option<TableError>> {
        let current = self.get(key).map_err(Some)?;
        if condition.holds_for(current.as_ref()) {
            Ok(current)
        } else {
            Err(None)
        }
    }

    fn add(
        &self,
        key: &Key,
        attribute: &str,
        delta: i64,
        expires_at: Option<i64>,
    ) -> Result<i64, TableError> {
        let current = self.get(key)?;
        let existed = current.is_some();
        let mut item = current.unwrap_or_else(|| {
            let mut fresh = Item::new();
            fresh.insert("pk".into(), key.pk.clone().into());
            fresh.insert("sk".into(), key.sk.clone().into());
            if let Some(expires_at) = expires_at {
                fresh.insert(EXPIRES_AT.into(), expires_at.into());
            }
            fresh
        });
        let old = match item.get(attribute) {
            None => 0,
            Some(value) => value
                .as_i64()
                .ok_or_else(|| TableError::Invalid(format!("attribute {attribute} is not an integer")))?,
        };
        let new = old
            .checked_add(delta)
            .ok_or_else(|| TableError::Invalid(format!("attribute {attribute} would overflow")))?;
        item.insert(attribute.into(), new.into());
        self.write(key, &item, existed)?;
        Ok(new)
    }

    /// Apply one write whose condition already holds (`current` is what is stored now).
    fn apply(&self, write: &TransactWrite, current: Option<Item>) -> Result<(), TableError> {
        match write {
            TransactWrite::Put { item, .. } => self.write(&key_of(item)?, item, current.is_some()),
            TransactWrite::Delete { key, .. } => self.remove(key),
            TransactWrite::Add { key, attribute, delta } => self.add(key, attribute, *delta, None).map(drop),
            TransactWrite::Check { .. } => Ok(()),
        }
    }
}

impl SqliteTable {
    fn with_tx<T>(&self, body: impl FnOnce(&Tx) -> Result<T, TableError>) -> Result<T, TableError> {
        let mut conn = self.db.lock();
        let sql_tx = conn.transaction().map_err(storage_error)?;
        let result = body(&Tx { conn: &sql_tx, table: self })?;
        sql_tx.commit().map_err(storage_error)?;
        if self.streamed {
            self.db.notify_changes();
        }
        Ok(result)
    }
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        validate_key(key)?;
        let conn = self.db.lock();
        Tx { conn: &conn, table: self }.get(key)
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        validate_item(&item)?;
        let key = key_of(&item)?;
        self.with_tx(|tx| {
            let current = tx
                .check(&key, &condition)
                .map_err(|e| e.unwrap_or(TableError::ConditionFailed { index: None }))?;
            tx.write(&key, &item, current.is_some())
        })
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        validate_key(key)?;
        self.with_tx(|tx| {
            tx.check(key, &condition)
                .map_err(|e| e.unwrap_or(TableError::ConditionFailed { index: None }))?;
            tx.remove(key)
        })
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        validate_pk(&query.pk)?;
        let (low, high, prefix) = bounds(&query.range);
        let backward = query.direction == Direction::Backward;
        // Only the bounds a query has go into the statement, each a plain comparison on `sk`,
        // so SQLite walks the primary key's range (a cursor deep in a partition costs what the
        // first page does, as DynamoDB's ExclusiveStartKey does); `?n IS NULL OR …` would not.
        let mut sql = String::from("SELECT body FROM items WHERE tbl = ? AND pk = ? AND sk >= ?");
        let limit = query.limit as i64;
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&self.name, &query.pk, &low];
        if let Some(high) = &high {
            sql.push_str(" AND sk <= ?");
            values.push(high);
        }
        if let Some(prefix) = &prefix {
            sql.push_str(" AND substr(sk, 1, length(?)) = ?");
            values.extend([prefix as &dyn rusqlite::ToSql, prefix]);
        }
        if let Some(after) = &query.after {
            sql.push_str(if backward { " AND sk < ?" } else { " AND sk > ?" });
            values.push(&after.sk);
        }
        sql.push_str(if backward { " ORDER BY sk DESC LIMIT ?" } else { " ORDER BY sk ASC LIMIT ?" });
        values.push(&limit);
        let bodies = {
            let conn = self.db.lock();
            let mut stmt = conn.prepare_cached(&sql).map_err(storage_error)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values), |row| row.get::<_, String>(0))
                .map_err(storage_error)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(storage_error)?
        };
        let items = bodies.into_iter().map(parse_item).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(items, query.limit))
    }

    async fn scan(&self, scan: &Scan) -> Result<Page, TableError> {
        let (after_pk, after_sk) = match &scan.after {
            Some(key) => (Some(key.pk.as_str()), key.sk.as_str()),
            None => (None, ""),
        };
        let bodies = {
            let conn = self.db.lock();
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT body FROM items WHERE tbl = ?1 AND {SEGMENT_FUNCTION}(pk, ?2) = ?3 \
                     AND (?4 IS NULL OR pk > ?4 OR (pk = ?4 AND sk > ?5)) ORDER BY pk, sk LIMIT ?6"
                ))
                .map_err(storage_error)?;
            let (index, total) = (scan.segment.index(), scan.segment.total());
            let rows = stmt
                .query_map(params![self.name, total, index, after_pk, after_sk, scan.limit as i64], |row| {
                    row.get::<_, String>(0)
                })
                .map_err(storage_error)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(storage_error)?
        };
        let items = bodies.into_iter().map(parse_item).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(items, scan.limit))
    }

    async fn approximate_item_count(&self) -> Result<u64, TableError> {
        let conn = self.db.lock();
        let count: i64 = conn
            .prepare_cached("SELECT COUNT(*) FROM items WHERE tbl = ?1")
            .and_then(|mut stmt| stmt.query_row(params![self.name], |row| row.get(0)))
            .map_err(storage_error)?;
        Ok(count as u64)
    }

    async fn add(&self, key: &Key, attribute: &str, delta: i64) -> Result<i64, TableError> {
        validate_key(key)?;
        self.with_tx(|tx| tx.add(key, attribute, delta, None))
    }

    async fn add_expiring(
        &self,
        key: &Key,
        attribute: &str,
        delta: i64,
        expires_at: i64,
    ) -> Result<i64, TableError> {
        validate_key(key)?;
        self.with_tx(|tx| tx.add(key, attribute, delta, Some(expires_at)))
    }

    async fn transact(&self, writes: Vec<TransactWrite>) -> Result<(), TableError> {
        validate_transaction(&writes)?;
        self.with_tx(|tx| {
            let mut currents = Vec::with_capacity(writes.len());
            for (index, write) in writes.iter().enumerate() {
                let key = write.key().expect("validated");
                let condition = match write {
                    TransactWrite::Put { condition, .. }
                    | TransactWrite::Delete { condition, .. }
                    | TransactWrite::Check { condition, .. } => condition.clone(),
                    TransactWrite::Add { .. } => Condition::Always,
                };
                currents.push(
                    tx.check(&key, &condition)
                        .map_err(|e| e.unwrap_or(TableError::ConditionFailed { index: Some(index) }))?,
                );
            }
            for (write, current) in writes.iter().zip(currents) {
                tx.apply(write, current)?;
            }
            Ok(())
        })
    }

    /// Under one lock of the database: the keys read as of one moment (DynamoDB reads each on
    /// its own, which promises less).
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        validate_batch_get(keys)?;
        let conn = self.db.lock();
        let tx = Tx { conn: &conn, table: self };
        keys.iter().map(|key| tx.get(key)).collect()
    }

    /// One SQLite transaction for the whole batch: one commit (one fsync) for up to 25 writes.
    async fn batch_write(&self, writes: Vec<BatchWrite>) -> Result<(), TableError> {
        validate_batch(&writes)?;
        self.with_tx(|tx| {
            writes.iter().try_for_each(|write| match write {
                BatchWrite::Put(item) => {
                    let key = key_of(item)?;
                    let existed = tx.get(&key)?.is_some();
                    tx.write(&key, item, existed)
                }
                BatchWrite::Delete(key) => tx.remove(key),
            })
        })
    }
}

/// DynamoDB keeps a number as a decimal, not as an integer or a float, and the AWS adapter reads
/// one back as an `i64`, else a `u64`, else an `f64` (serde_dynamo's order): a float with an
/// integral value comes back an integer (`1.0` as `1`). Stored numbers take that form here too,
/// so both families read back the same JSON.
fn store_numbers_as_dynamodb_does(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64()) {
                let decimal = float.to_string();
                if let Ok(integer) = decimal.parse::<i64>() {
                    *value = integer.into();
                } else if let Ok(integer) = decimal.parse::<u64>() {
                    *value = integer.into();
                }
            }
        }
        Value::Array(values) => values.iter_mut().for_each(store_numbers_as_dynamodb_does),
        Value::Object(map) => map.values_mut().for_each(store_numbers_as_dynamodb_does),
        Value::String(_) | Value::Bool(_) | Value::Null => {}
    }
}

/// A sort-key range as SQL parameters: inclusive low and high bounds, and a required prefix.
fn bounds(range: &SkRange) -> (&str, Option<&str>, Option<&str>) {
    match range {
        SkRange::All => ("", None, None),
        SkRange::Prefix(prefix) => (prefix, None, Some(prefix)),
        SkRange::Between(low, high) => (low, Some(high), None),
        SkRange::AtLeast(low) => (low, None, None),
        SkRange::AtMost(high) => ("", Some(high), None),
    }
}

/// The SQL function `huddle_segment(pk, total)`: the scan segment (0 to total - 1) a partition
/// key belongs to, from the first four bytes of its SHA-256, so segments split the key space
/// evenly and the same way in every process and release (a resumed replay relies on it).
const SEGMENT_FUNCTION: &str = "huddle_segment";

/// Makes [`SEGMENT_FUNCTION`] available on `conn`.
pub(crate) fn register_segment_function(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function(SEGMENT_FUNCTION, 2, flags, |context| {
        let pk = context.get_raw(0).as_str().map_err(|e| rusqlite::Error::UserFunctionError(e.into()))?;
        let total: u32 = context.get(1)?;
        Ok(segment_of(pk, total))
    })
}

fn segment_of(pk: &str, total: u32) -> u32 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(pk.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % total.max(1)
}

/// A page as DynamoDB returns one: a full page names its last key, even if nothing follows.
fn page_of(items: Vec<Item>, limit: usize) -> Page {
    let next = if items.len() == limit { items.last().and_then(Key::of) } else { None };
    Page { items, next }
}

/// Where each reader of a change feed stands, so a restarted reader resumes there.
const POSITIONS_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS change_feed_positions (\
    tbl TEXT NOT NULL, reader TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (tbl, reader)) WITHOUT ROWID";

/// Reads the change feed of one streamed table, oldest first.
pub struct ChangeFeed {
    db: Database,
    table: String,
    changes: tokio::sync::watch::Receiver<u64>,
}

impl ChangeFeed {
    /// Up to `limit` changes with a sequence number above `after`, as DynamoDB Stream records.
    pub fn read(&self, after: u64, limit: usize) -> Result<Vec<EventRecord>, TableError> {
        let conn = self.db.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, event_name, pk, sk, new_image, at_ms FROM changes \
                 WHERE tbl = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )
            .map_err(storage_error)?;
        let rows = stmt
            .query_map(params![self.table, after as i64, limit as i64], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, i64>(5)?,
                ))
            })
            .map_err(storage_error)?;
        let mut records = Vec::new();
        for row in rows {
            let (seq, event_name, pk, sk, new_image, at_ms) = row.map_err(storage_error)?;
            records.push(self.record(seq, event_name, Key { pk, sk }, new_image, at_ms)?);
        }
        Ok(records)
    }

    /// The last sequence number `reader` recorded with [`record_position`](Self::record_position),
    /// 0 if none: where it resumes after a restart instead of reading the whole feed again.
    pub fn position(&self, reader: &str) -> Result<u64, TableError> {
        let conn = self.db.lock();
        conn.execute_batch(POSITIONS_SCHEMA).map_err(storage_error)?;
        let position = conn
            .query_row(
                "SELECT seq FROM change_feed_positions WHERE tbl = ?1 AND reader = ?2",
                params![self.table, reader],
                |row| row.get::<_, i64>(0),
            )
            .optional()
            .map_err(storage_error)?;
        Ok(position.map_or(0, |seq| seq as u64))
    }

    /// Records that `reader` is done with every change up to `sequence`.
    pub fn record_position(&self, reader: &str, sequence: u64) -> Result<(), TableError> {
        let conn = self.db.lock();
        conn.execute_batch(POSITIONS_SCHEMA).map_err(storage_error)?;
        conn.execute(
            "INSERT INTO change_feed_positions (tbl, reader, seq) VALUES (?1, ?2, ?3) \
             ON CONFLICT (tbl, reader) DO UPDATE SET seq = excluded.seq",
            params![self.table, reader, sequence as i64],
        )
        .map_err(storage_error)?;
        Ok(())
    }

    /// Wait until a streamed table changed since the last wait (or `timeout` passes).
    pub async fn changed(&mut self, timeout: std::time::Duration) {
        let _ = tokio::time::timeout(timeout, self.changes.changed()).await;
    }

    fn record(
        &self,
        seq: i64,
        event_name: String,
        key: Key,
        new_image: Option<String>,
        at_ms: i64,
    ) -> Result<EventRecord, TableError> {
        let to_image = |value: Value| {
            serde_dynamo::to_item(value).map_err(|e| TableError::Unavailable(format!("corrupt change: {e}")))
        };
        let size_bytes = new_image.as_ref().map_or(0, |body| body.len()) as i64;
        let mut change = StreamRecord::default();
        change.approximate_creation_date_time =
            chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default();
        change.keys = to_image(serde_json::json!({"pk": key.pk, "sk": key.sk}))?;
        if let Some(body) = new_image {
            change.new_image = to_image(Value::Object(parse_item(body)?))?;
        }
        change.sequence_number = Some(format!("{seq:021}"));
        change.size_bytes = size_bytes;
        change.stream_view_type = Some(StreamViewType::NewImage);
        let mut record = EventRecord::default();
        record.aws_region = "local".into();
        record.change = change;
        record.event_id = seq.to_string();
        record.event_name = event_name;
        record.event_source = Some("aws:dynamodb".into());
        record.event_version = Some("1.1".into());
        record.event_source_arn =
            Some(format!("arn:aws:dynamodb:local:000000000000:table/{}/stream/local", self.table));
        record.table_name = Some(self.table.clone());
        Ok(record)
    }
}
