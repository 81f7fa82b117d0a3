//! Table: a DynamoDB-shaped key-value table with string `pk`/`sk` keys.
//!
//! Items are JSON objects; `pk` and `sk` are ordinary string attributes of the item. Sort keys
//! compare as UTF-8 bytes (as DynamoDB compares strings), so numbers that must sort are stored
//! zero-padded.

use async_trait::async_trait;
use serde_json::{Map, Value};

/// One item: a JSON object that always holds string attributes `pk` and `sk`.
pub type Item = Map<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }

    /// The key of an item, or `None` when it lacks string `pk`/`sk` attributes.
    pub fn of(item: &Item) -> Option<Key> {
        Some(Key::new(item.get("pk")?.as_str()?, item.get("sk")?.as_str()?))
    }
}

/// A condition on the item currently stored under a key.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Condition {
    #[default]
    Always,
    /// No item is stored under the key.
    NotExists,
    /// An item exists under the key and its attribute equals the value.
    AttributeEquals { name: String, value: Value },
    /// No item is stored under the key, or the stored one has expired: its number attribute
    /// `name` (a Unix time in seconds, as DynamoDB's TTL reads it) is below `now`. TTL deletes
    /// expired items only eventually, so records that expire are checked by their time, never
    /// by their presence.
    AbsentOrExpired { name: String, now: i64 },
}

impl Condition {
    pub fn attribute_equals(name: impl Into<String>, value: impl Into<Value>) -> Self {
        Condition::AttributeEquals { name: name.into(), value: value.into() }
    }

    /// Whether the condition holds for the item currently stored (or its absence).
    pub fn holds_for(&self, current: Option<&Item>) -> bool {
        match self {
            Condition::Always => true,
            Condition::NotExists => current.is_none(),
            Condition::AttributeEquals { name, value } => {
                current.and_then(|item| item.get(name)) == Some(value)
            }
            Condition::AbsentOrExpired { name, now } => {
                current.is_none_or(|item| is_expired(item, name, *now))
            }
        }
    }
}

/// The attribute DynamoDB's TTL deletes items by (Unix seconds), on every table that expires items.
pub const EXPIRES_AT: &str = "expires_at";

/// Whether `item`'s expiry attribute `name` (Unix seconds) is below `now`; an item without one
/// never expires.
pub fn is_expired(item: &Item, name: &str, now: i64) -> bool {
    item.get(name).and_then(Value::as_i64).is_some_and(|expires_at| expires_at < now)
}

/// Which sort keys a query visits (always within one partition key).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SkRange {
    #[default]
    All,
    Prefix(String),
    /// Both ends inclusive.
    Between(String, String),
    AtLeast(String),
    AtMost(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Forward,
    Backward,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub pk: String,
    pub range: SkRange,
    pub direction: Direction,
    pub limit: usize,
    /// Resume after this key (the `next` of the previous page).
    pub after: Option<Key>,
}

impl Query {
    pub fn new(pk: impl Into<String>) -> Self {
        Self { pk: pk.into(), range: SkRange::All, direction: Direction::Forward, limit: 100, after: None }
    }
    pub fn range(mut self, range: SkRange) -> Self {
        self.range = range;
        self
    }
    pub fn backward(mut self) -> Self {
        self.direction = Direction::Backward;
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
    pub fn after(mut self, after: Option<Key>) -> Self {
        self.after = after;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// The key to resume after for the next page; `None` on the last page.
    pub next: Option<Key>,
}

/// One write inside an all-or-nothing transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum TransactWrite {
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        key: Key,
        condition: Condition,
    },
    /// Add `delta` to a number attribute (missing counts as 0), creating the item if needed.
    Add {
        key: Key,
        attribute: String,
        delta: i64,
    },
    /// Write nothing; only require the condition.
    Check {
        key: Key,
        condition: Condition,
    },
}

impl TransactWrite {
    pub fn key(&self) -> Option<Key> {
        match self {
            TransactWrite::Put { item, .. } => Key::of(item),
            TransactWrite::Delete { key, .. }
            | TransactWrite::Add { key, .. }
            | TransactWrite::Check { key, .. } => Some(key.clone()),
        }
    }
}

/// The most writes one transaction may hold (DynamoDB's TransactWriteItems limit).
pub const MAX_TRANSACT_WRITES: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A condition did not hold; for a transaction, `index` names the first failing write.
    #[error("condition failed{}", index.map(|i| format!(" on write {i}")).unwrap_or_default())]
    ConditionFailed { index: Option<usize> },
    /// Another transaction touched the same items at the same time; safe to retry.
    #[error("transaction conflict, retry")]
    TransactionConflict,
    /// The request itself is not acceptable (bad item, too many writes, duplicate keys).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Throttled or unreachable; safe to retry later.
    #[error("table unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Table: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError>;
    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError>;
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError>;
    async fn query(&self, query: &Query) -> Result<Page, TableError>;
    /// Visit the whole table in pages, each partition's items in sort-key order.
    async fn scan(&self, after: Option<&Key>, limit: usize) -> Result<Page, TableError>;
    /// Atomically add `delta` to a number attribute and return the new value.
    async fn add(&self, key: &Key, attribute: &str, delta: i64) -> Result<i64, TableError>;
    /// [`add`](Table::add) to an item that expires: a new item gets [`EXPIRES_AT`] (Unix seconds),
    /// an existing one keeps its own.
    async fn add_expiring(
        &self,
        key: &Key,
        attribute: &str,
        delta: i64,
        expires_at: i64,
    ) -> Result<i64, TableError>;
    /// Apply every write or none; no two writes may touch the same key.
    async fn transact(&self, writes: Vec<TransactWrite>) -> Result<(), TableError>;
}

/// DynamoDB's limits on the key attributes, in UTF-8 bytes.
pub const MAX_PK_BYTES: usize = 2048;
pub const MAX_SK_BYTES: usize = 1024;

/// A partition key DynamoDB would take. Both adapter families check every key as DynamoDB does,
/// reads included (moto checks only writes, and SQLite takes any size), so an unchecked key
/// fails the same way on every family.
pub fn validate_pk(pk: &str) -> Result<(), TableError> {
    if pk.len() > MAX_PK_BYTES {
        return Err(TableError::Invalid(format!("a partition key holds at most {MAX_PK_BYTES} bytes")));
    }
    Ok(())
}

/// A key DynamoDB would take: see [`validate_pk`].
pub fn validate_key(key: &Key) -> Result<(), TableError> {
    validate_pk(&key.pk)?;
    if key.sk.len() > MAX_SK_BYTES {
        return Err(TableError::Invalid(format!("a sort key holds at most {MAX_SK_BYTES} bytes")));
    }
    Ok(())
}

/// Checks both adapter families apply before a transaction reaches storage.
pub fn validate_transaction(writes: &[TransactWrite]) -> Result<(), TableError> {
    if writes.is_empty() || writes.len() > MAX_TRANSACT_WRITES {
        return Err(TableError::Invalid(format!(
            "a transaction holds 1 to {MAX_TRANSACT_WRITES} writes, not {}",
            writes.len()
        )));
    }
    let mut keys = std::collections::HashSet::new();
    for write in writes {
        let key = write.key().ok_or_else(|| TableError::Invalid("item without string pk and sk".into()))?;
        validate_key(&key)?;
        if !keys.insert(key) {
            return Err(TableError::Invalid("two writes in one transaction touch the same key".into()));
        }
    }
    Ok(())
}
