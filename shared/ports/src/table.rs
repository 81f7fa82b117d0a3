//! Table: a DynamoDB-shaped key-value table with string `pk`/`sk` keys.
//!
//! Items are JSON objects; `pk` and `sk` are ordinary string attributes of the item. Sort keys
//! compare as UTF-8 bytes (as DynamoDB compares strings), so numbers that must sort are stored
//! zero-padded.

use async_trait::async_trait;
use serde_json::{Map, Number, Value};

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

    /// An item under this key with `attributes` (a JSON object; anything else adds none).
    pub fn item(&self, attributes: Value) -> Item {
        let mut item = match attributes {
            Value::Object(map) => map,
            _ => Item::new(),
        };
        item.insert("pk".into(), self.pk.clone().into());
        item.insert("sk".into(), self.sk.clone().into());
        item
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
    /// An item exists under the key and its attribute equals the value; numbers compare by
    /// value, as DynamoDB compares them (`1` equals `1.0`).
    AttributeEquals { name: String, value: Value },
    /// No item is stored under the key, or the stored one has expired: its number attribute
    /// `name` (a Unix time in seconds, as DynamoDB's TTL reads it) is below `now`. TTL deletes
    /// expired items only eventually, so records that expire are checked by their time, never
    /// by their presence.
    AbsentOrExpired { name: String, now: i64 },
    /// No item is stored, or the stored one lacks attribute `name`, or its `name` equals
    /// `value` (compared as in [`AttributeEquals`](Condition::AttributeEquals)).
    AttributeAbsentOrEquals { name: String, value: Value },
    /// No item is stored, or the stored one lacks the number attribute `name`, or its `name` is
    /// below `value`. Unlike [`AbsentOrExpired`](Condition::AbsentOrExpired), an item without
    /// the attribute passes: the attribute is optional (a lease that may not be held).
    AttributeAbsentOrBelow { name: String, value: i64 },
    /// Every one of the conditions holds (none: always).
    All(Vec<Condition>),
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
                current.and_then(|item| item.get(name)).is_some_and(|stored| same_value(stored, value))
            }
            Condition::AbsentOrExpired { name, now } => {
                current.is_none_or(|item| is_expired(item, name, *now))
            }
            Condition::AttributeAbsentOrEquals { name, value } => {
                current.and_then(|item| item.get(name)).is_none_or(|stored| same_value(stored, value))
            }
            Condition::AttributeAbsentOrBelow { name, value } => current
                .and_then(|item| item.get(name))
                .is_none_or(|stored| stored.as_i64().is_some_and(|stored| stored < *value)),
            Condition::All(conditions) => conditions.iter().all(|condition| condition.holds_for(current)),
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

/// One part of a parallel scan, as DynamoDB's `Segment` of `TotalSegments`: the segments of one
/// total partition the table (every item in exactly one), each partition key wholly in one, so
/// several workers can each visit a part at once. Built only through [`Segment::new`], so every
/// segment is one DynamoDB takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    index: u32,
    total: u32,
}

impl Segment {
    /// The whole table, as one segment.
    pub const WHOLE: Segment = Segment { index: 0, total: 1 };

    /// DynamoDB's most `TotalSegments`.
    pub const MAX_TOTAL: u32 = 1_000_000;

    /// Segment `index` (from 0) of `total`.
    pub fn new(index: u32, total: u32) -> Result<Self, TableError> {
        if total == 0 || total > Self::MAX_TOTAL || index >= total {
            return Err(TableError::Invalid(format!(
                "segment {index} of {total}: a scan has 1 to {} segments, numbered from 0",
                Self::MAX_TOTAL
            )));
        }
        Ok(Self { index, total })
    }

    /// Every segment of `total`, in order.
    pub fn all(total: u32) -> Result<Vec<Segment>, TableError> {
        (0..total.max(1)).map(|index| Segment::new(index, total)).collect()
    }

    pub fn index(self) -> u32 {
        self.index
    }

    pub fn total(self) -> u32 {
        self.total
    }
}

/// One page of a scan: up to `limit` items of `segment`, after the key `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub segment: Segment,
    pub limit: usize,
    /// Resume after this key (the `next` of the previous page of the same segment).
    pub after: Option<Key>,
}

impl Default for Scan {
    fn default() -> Self {
        Self { segment: Segment::WHOLE, limit: 100, after: None }
    }
}

impl Scan {
    pub fn segment(mut self, segment: Segment) -> Self {
        self.segment = segment;
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

/// One unconditional write of a [`Table::batch_write`].
#[derive(Debug, Clone, PartialEq)]
pub enum BatchWrite {
    Put(Item),
    Delete(Key),
}

impl BatchWrite {
    pub fn key(&self) -> Option<Key> {
        match self {
            BatchWrite::Put(item) => Key::of(item),
            BatchWrite::Delete(key) => Some(key.clone()),
        }
    }
}

/// The most writes one batch may hold (DynamoDB's BatchWriteItem limit).
pub const MAX_BATCH_WRITES: usize = 25;

/// The most keys one batch of reads may name (DynamoDB's BatchGetItem limit).
pub const MAX_BATCH_GETS: usize = 100;

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
    /// Visit one segment of the table (all of it with [`Segment::WHOLE`]) in pages, each
    /// partition's items together and in sort-key order. A page may hold fewer than `limit`
    /// items and still have a `next`.
    async fn scan(&self, scan: &Scan) -> Result<Page, TableError>;
    /// About how many items the table holds, cheaply: DynamoDB's `ItemCount`, which it refreshes
    /// about every six hours; for progress estimates, never for correctness.
    async fn approximate_item_count(&self) -> Result<u64, TableError>;
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
    /// Apply 1 to [`MAX_BATCH_WRITES`] unconditional writes to distinct keys, as DynamoDB's
    /// BatchWriteItem does: each write is atomic on its own, the batch is not (on DynamoDB, an
    /// error after a partial retry may leave some writes applied), so batched writes must be
    /// idempotent. `Ok` means every write landed.
    async fn batch_write(&self, writes: Vec<BatchWrite>) -> Result<(), TableError>;
    /// Read 1 to [`MAX_BATCH_GETS`] distinct keys at once, as DynamoDB's BatchGetItem does
    /// (strongly consistent, each item read on its own, not as of one moment): what each key
    /// holds, in the keys' order. [`get_all`] takes any number of keys, repeats included.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError>;
}

/// What each of `keys` holds, in their order: [`Table::batch_get`] of each distinct key once, in
/// batches of [`MAX_BATCH_GETS`] sent at once. A list page reads its items' records, counts and
/// markers this way, one request per hundred instead of one each.
pub async fn get_all(table: &dyn Table, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
    let mut distinct: Vec<Key> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    let positions: Vec<usize> = keys
        .iter()
        .map(|key| {
            *seen.entry(key.clone()).or_insert_with(|| {
                distinct.push(key.clone());
                distinct.len() - 1
            })
        })
        .collect();
    // An adapter answers each key of a batch; one that did not would shift every item after.
    let batches = distinct.chunks(MAX_BATCH_GETS).map(|batch| async move {
        let found = table.batch_get(batch).await?;
        match found.len() == batch.len() {
            true => Ok(found),
            false => Err(TableError::Invalid(format!("{} answers to {} keys", found.len(), batch.len()))),
        }
    });
    let found: Vec<Option<Item>> =
        futures::future::try_join_all(batches).await?.into_iter().flatten().collect();
    Ok(positions.into_iter().map(|at| found[at].clone()).collect())
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

/// Checks both adapter families apply before a transaction reaches storage: DynamoDB's limits
/// on its writes, its items ([`validate_item`]) and their total size.
pub fn validate_transaction(writes: &[TransactWrite]) -> Result<(), TableError> {
    if writes.is_empty() || writes.len() > MAX_TRANSACT_WRITES {
        return Err(TableError::Invalid(format!(
            "a transaction holds 1 to {MAX_TRANSACT_WRITES} writes, not {}",
            writes.len()
        )));
    }
    let mut keys = std::collections::HashSet::new();
    let mut bytes = 0;
    for write in writes {
        let key = write.key().ok_or_else(|| TableError::Invalid("item without string pk and sk".into()))?;
        validate_key(&key)?;
        bytes += match write {
            TransactWrite::Put { item, .. } => validate_item(item)?,
            // Only the key is known here; these writes touch small items (counters, markers).
            _ => key_size(&key),
        };
        if !keys.insert(key) {
            return Err(TableError::Invalid("two writes in one transaction touch the same key".into()));
        }
    }
    if bytes > MAX_TRANSACTION_BYTES {
        return Err(TableError::Invalid(format!(
            "a transaction's items hold at most {MAX_TRANSACTION_BYTES} bytes, not {bytes}"
        )));
    }
    Ok(())
}

/// Checks both adapter families apply before a batch reaches storage, as DynamoDB's
/// BatchWriteItem refuses: 1 to [`MAX_BATCH_WRITES`] writes, no two on one key, each put's item
/// valid ([`validate_item`]). (Its 16 MB limit on a request no 25 valid items reach.)
pub fn validate_batch(writes: &[BatchWrite]) -> Result<(), TableError> {
    if writes.is_empty() || writes.len() > MAX_BATCH_WRITES {
        return Err(TableError::Invalid(format!(
            "a batch holds 1 to {MAX_BATCH_WRITES} writes, not {}",
            writes.len()
        )));
    }
    let mut keys = std::collections::HashSet::new();
    for write in writes {
        let key = write.key().ok_or_else(|| TableError::Invalid("item without string pk and sk".into()))?;
        validate_key(&key)?;
        if let BatchWrite::Put(item) = write {
            validate_item(item)?;
        }
        if !keys.insert(key) {
            return Err(TableError::Invalid("two writes in one batch touch the same key".into()));
        }
    }
    Ok(())
}

/// Checks both adapter families apply before a batch of reads reaches storage, as DynamoDB's
/// BatchGetItem refuses: 1 to [`MAX_BATCH_GETS`] keys, each valid, no two the same.
pub fn validate_batch_get(keys: &[Key]) -> Result<(), TableError> {
    if keys.is_empty() || keys.len() > MAX_BATCH_GETS {
        return Err(TableError::Invalid(format!(
            "a batch of reads names 1 to {MAX_BATCH_GETS} keys, not {}",
            keys.len()
        )));
    }
    let mut distinct = std::collections::HashSet::new();
    for key in keys {
        validate_key(key)?;
        if !distinct.insert(key) {
            return Err(TableError::Invalid("a batch of reads names one key twice".into()));
        }
    }
    Ok(())
}

/// DynamoDB's largest item: 400 KB, attribute names and values counted by [`item_size`].
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// DynamoDB's limit on the items of one transaction together: 4 MB.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// An item DynamoDB would store, checked the same on both adapter families (moto refuses items
/// somewhat smaller than DynamoDB does and takes numbers DynamoDB refuses; SQLite takes
/// anything): its key ([`validate_key`]), every number within DynamoDB's range, and at most
/// [`MAX_ITEM_BYTES`]. Returns its size.
pub fn validate_item(item: &Item) -> Result<usize, TableError> {
    validate_key(&Key::of(item).ok_or_else(|| TableError::Invalid("item without string pk and sk".into()))?)?;
    item.values().try_for_each(check_numbers)?;
    let bytes = item_size(item);
    if bytes > MAX_ITEM_BYTES {
        return Err(TableError::Invalid(format!(
            "an item holds at most {MAX_ITEM_BYTES} bytes, not {bytes}"
        )));
    }
    Ok(bytes)
}

/// An item's size by DynamoDB's documented rules: each attribute's UTF-8 name plus its value; a
/// string its UTF-8 bytes, a number 1 byte per two significant digits (rounded up) plus 1, a
/// boolean or null 1, a list or map 3 plus 1 per element (and a map element's name). DynamoDB
/// calls its number rule approximate; rounding up keeps this count from falling below its own.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::String(text) => text.len(),
        Value::Number(number) => Decimal::of(number).digits.len().div_ceil(2) + 1,
        Value::Bool(_) | Value::Null => 1,
        Value::Array(values) => 3 + values.iter().map(|value| 1 + value_size(value)).sum::<usize>(),
        Value::Object(map) => {
            3 + map.iter().map(|(name, value)| 1 + name.len() + value_size(value)).sum::<usize>()
        }
    }
}

fn key_size(key: &Key) -> usize {
    "pk".len() + key.pk.len() + "sk".len() + key.sk.len()
}

/// Refuses numbers DynamoDB cannot store: magnitudes from 1E-130 to below 1E+126 (and zero). Its
/// other limit, 38 significant digits, no JSON number here reaches: integers are i64 or u64 (at
/// most 20 digits) and a float is written with the fewest digits that read back as it (at most 17).
fn check_numbers(value: &Value) -> Result<(), TableError> {
    match value {
        Value::Number(number) => {
            let decimal = Decimal::of(number);
            // The value is 0.<digits> × 10^point: 1E+126 has point 127, 1E-130 has point -129.
            if decimal.digits.is_empty() || (-129..=126).contains(&decimal.point) {
                Ok(())
            } else {
                Err(TableError::Invalid(format!("DynamoDB cannot store the number {number}")))
            }
        }
        Value::Array(values) => values.iter().try_for_each(check_numbers),
        Value::Object(map) => map.values().try_for_each(check_numbers),
        Value::String(_) | Value::Bool(_) | Value::Null => Ok(()),
    }
}

/// Whether two values are equal as DynamoDB compares them: numbers by their decimal value, lists
/// and maps element by element, everything else as JSON.
fn same_value(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => Decimal::of(left) == Decimal::of(right),
        (Value::Array(left), Value::Array(right)) => {
            left.len() == right.len() && left.iter().zip(right).all(|(left, right)| same_value(left, right))
        }
        (Value::Object(left), Value::Object(right)) => {
            left.len() == right.len()
                && left
                    .iter()
                    .all(|(name, value)| right.get(name).is_some_and(|other| same_value(value, other)))
        }
        _ => left == right,
    }
}

/// A number as the decimal DynamoDB receives: `0.<digits> × 10^point`, negated if `negative`,
/// with no leading or trailing zero digit (zero has none, and is never negative). The decimal is
/// the one the AWS adapter sends (serde_dynamo writes a float with `f64`'s `Display`, which
/// never uses an exponent).
#[derive(Debug, PartialEq)]
struct Decimal {
    negative: bool,
    digits: String,
    point: i64,
}

impl Decimal {
    fn of(number: &Number) -> Decimal {
        let text = match number.as_f64() {
            Some(float) if number.is_f64() => float.to_string(),
            _ => number.to_string(),
        };
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(unsigned) => (true, unsigned),
            None => (false, text.as_str()),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all = format!("{whole}{fraction}");
        let significant = all.trim_start_matches('0');
        let point = whole.len() as i64 - (all.len() - significant.len()) as i64;
        let digits = significant.trim_end_matches('0').to_owned();
        if digits.is_empty() {
            return Decimal { negative: false, digits, point: 0 };
        }
        Decimal { negative, digits, point }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(extra: Value) -> Item {
        let mut item = extra.as_object().cloned().unwrap();
        item.insert("pk".into(), "p".into());
        item.insert("sk".into(), "s".into());
        item
    }

    #[test]
    fn numbers_are_refused_exactly_outside_dynamodbs_range() {
        // The floats next to the bounds: just below 1E+126, and just below 1E-130.
        let largest = f64::from_bits(1e126_f64.to_bits() - 1);
        let below_smallest = f64::from_bits(1e-130_f64.to_bits() - 1);
        for storable in [0.0, -0.0, largest, -largest, 1e-130, -1e-130, 1.5] {
            assert!(validate_item(&item(json!({ "n": storable }))).is_ok(), "{storable}");
        }
        for unstorable in [1e126, -1e126, 1e300, f64::MAX, below_smallest, f64::MIN_POSITIVE] {
            assert!(validate_item(&item(json!({ "n": [{ "deep": unstorable }] }))).is_err(), "{unstorable}");
        }
        assert!(validate_item(&item(json!({ "n": u64::MAX, "m": i64::MIN }))).is_ok());
    }

    #[test]
    fn sizes_follow_dynamodbs_rules() {
        // "pk" + "p", "sk" + "s": 6 bytes.
        assert_eq!(item_size(&item(json!({}))), 6);
        // A name and 12 345 (3 bytes for five digits, plus 1), 1 200 (two significant digits), 0.
        assert_eq!(item_size(&item(json!({ "n": 12345, "m": 1200, "z": 0 }))), 6 + 1 + 4 + 1 + 2 + 1 + 1);
        // "é" is two bytes; true and null one each; a list or map 3, plus 1 per element.
        assert_eq!(
            item_size(&item(json!({ "é": true, "l": [null, "ab"], "m": { "k": 1.5 } }))),
            6 + 3 + 8 + 9
        );
    }

    #[test]
    fn numbers_compare_by_value() {
        let stored = item(json!({ "n": 1, "f": 0.5, "l": [1, { "x": 2 }], "s": "1" }));
        let holds =
            |name: &str, value: Value| Condition::attribute_equals(name, value).holds_for(Some(&stored));
        assert!(holds("n", json!(1.0)));
        assert!(holds("f", json!(0.5)));
        assert!(holds("l", json!([1.0, { "x": 2.0 }])));
        assert!(!holds("n", json!(10)));
        assert!(!holds("n", json!(-1)));
        assert!(!holds("n", json!("1")));
        assert!(!holds("s", json!(1)));
        assert!(!holds("f", json!(5)));
    }

    #[test]
    fn optional_attribute_conditions_pass_when_it_is_absent() {
        let leased = item(json!({ "version": 3, "until": 100 }));
        let bare = item(json!({}));
        let equals = Condition::AttributeAbsentOrEquals { name: "version".into(), value: json!(3.0) };
        assert!(equals.holds_for(None) && equals.holds_for(Some(&bare)) && equals.holds_for(Some(&leased)));
        let other = Condition::AttributeAbsentOrEquals { name: "version".into(), value: json!(2) };
        assert!(!other.holds_for(Some(&leased)));

        let below = |value| Condition::AttributeAbsentOrBelow { name: "until".into(), value };
        assert!(
            below(101).holds_for(Some(&leased))
                && below(0).holds_for(Some(&bare))
                && below(0).holds_for(None)
        );
        assert!(!below(100).holds_for(Some(&leased)));
        let text = item(json!({ "until": "later" }));
        assert!(!below(i64::MAX).holds_for(Some(&text)), "a non-number is never below");

        assert!(Condition::All(vec![]).holds_for(None));
        assert!(Condition::All(vec![equals.clone(), below(101)]).holds_for(Some(&leased)));
        assert!(!Condition::All(vec![equals, below(100)]).holds_for(Some(&leased)));
    }
}
