//! How a parked stream is recorded in the read-model table. The record lives on the stream's
//! checkpoint item, which the projector reads on every delivery anyway, so checking for a park
//! costs nothing; a small index partition names the parked streams so listing them needs no
//! scan; a skip leaves an item of its own. Each change is one transaction.

use crate::fan_out_writes::checkpoint_key;
use huddle_ports::{Condition, Item, Key, TransactWrite};
use serde::Serialize;
use serde_json::{json, Value};

/// The partition naming every parked stream: `pk = PARKED_INDEX`, `sk = stream`.
pub const PARKED_INDEX: &str = "parked";

/// Skip records live at `pk = SKIPPED_PREFIX + stream`, `sk =` the zero-padded version.
pub const SKIPPED_PREFIX: &str = "skipped#";

/// The checkpoint attribute holding the version a stream is parked at.
const PARKED_VERSION: &str = "parked_version";

/// Error texts are cut to this many characters: enough to name the failure, and the checkpoint
/// item stays small.
const MAX_ERROR_CHARS: usize = 1000;

/// Why a stream stopped, as recorded on its checkpoint. Only error messages are kept, never a
/// payload, so the record holds no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parked {
    /// The version that failed: the checkpoint stays one below it.
    pub version: u64,
    pub error: String,
    /// The failed event's id and correlation id, when the event could be read.
    pub event_id: Option<String>,
    pub correlation_id: Option<String>,
    /// RFC 3339.
    pub since: String,
}

impl Parked {
    pub(crate) fn new(
        version: u64,
        error: &dyn std::fmt::Display,
        event: Option<(String, String)>,
        since: time::OffsetDateTime,
    ) -> Self {
        let error: String = error.to_string().chars().take(MAX_ERROR_CHARS).collect();
        let (event_id, correlation_id) = event.unzip();
        Self { version, error, event_id, correlation_id, since: rfc3339(since) }
    }
}

pub(crate) fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).expect("a UTC time formats as RFC 3339")
}

/// A stream's checkpoint item as the projector reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Checkpoint {
    /// The last version applied (0 for none).
    pub version: u64,
    pub parked: Option<Parked>,
}

impl Checkpoint {
    pub(crate) fn from_item(item: Option<&Item>) -> Self {
        let Some(item) = item else { return Self::default() };
        let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
        let parked = item.get(PARKED_VERSION).and_then(Value::as_u64).map(|version| Parked {
            version,
            error: text("parked_error").unwrap_or_default(),
            event_id: text("parked_event_id"),
            correlation_id: text("parked_correlation_id"),
            since: text("parked_since").unwrap_or_default(),
        });
        Self { version: item.get("version").and_then(Value::as_u64).unwrap_or(0), parked }
    }
}

fn checkpoint_item(stream: &str, version: u64) -> Item {
    let key = checkpoint_key(stream);
    let mut item = Item::new();
    item.insert("pk".into(), key.pk.into());
    item.insert("sk".into(), key.sk.into());
    item.insert("version".into(), json!(version));
    item
}

fn index_key(stream: &str) -> Key {
    Key::new(PARKED_INDEX, stream)
}

/// The condition that the checkpoint is still at `applied` (no item at all for 0), as the
/// projector's own writes condition it.
fn still_at(applied: u64) -> Condition {
    if applied == 0 {
        Condition::NotExists
    } else {
        Condition::attribute_equals("version", applied)
    }
}

/// The stream is not parked: a projector's commit and its fan-out lease both require it, so a
/// worker that read the checkpoint before another parked the stream cannot write over the park
/// (and so strand the events acknowledged behind it). Parked versions start at 1.
pub(crate) fn not_parked() -> Condition {
    Condition::AttributeAbsentOrBelow { name: PARKED_VERSION.into(), value: 1 }
}

fn parked_at(version: u64) -> Condition {
    Condition::attribute_equals(PARKED_VERSION, version)
}

/// Park `stream` at `parked.version`, its checkpoint still one below: the checkpoint keeps the
/// record, the index names the stream. Write 0 is the checkpoint.
pub(crate) fn park(stream: &str, parked: &Parked) -> Vec<TransactWrite> {
    let applied = parked.version - 1;
    let mut checkpoint = checkpoint_item(stream, applied);
    checkpoint.insert(PARKED_VERSION.into(), json!(parked.version));
    checkpoint.insert("parked_error".into(), json!(parked.error));
    checkpoint.insert("parked_since".into(), json!(parked.since));
    for (name, value) in
        [("parked_event_id", &parked.event_id), ("parked_correlation_id", &parked.correlation_id)]
    {
        if let Some(value) = value {
            checkpoint.insert(name.into(), json!(value));
        }
    }
    let key = index_key(stream);
    let mut entry = Item::new();
    entry.insert("pk".into(), key.pk.into());
    entry.insert("sk".into(), key.sk.into());
    entry.insert("version".into(), json!(parked.version));
    vec![
        TransactWrite::Put { item: checkpoint, condition: still_at(applied) },
        TransactWrite::Put { item: entry, condition: Condition::Always },
    ]
}

/// Lift the park of `stream` at `version`: the checkpoint goes back to what the projector
/// writes (none at all before the first version, so its first apply finds no item).
pub(crate) fn unpark(stream: &str, version: u64) -> Vec<TransactWrite> {
    let applied = version - 1;
    let checkpoint = if applied == 0 {
        TransactWrite::Delete { key: checkpoint_key(stream), condition: parked_at(version) }
    } else {
        TransactWrite::Put { item: checkpoint_item(stream, applied), condition: parked_at(version) }
    };
    vec![checkpoint, TransactWrite::Delete { key: index_key(stream), condition: Condition::Always }]
}

/// An index entry whose stream is not parked: every change of a park writes the index in its
/// own transaction, so only a projector from before commits required [`not_parked`] leaves one
/// (its commit erased the park). A retry removes it and brings the stream up to its head.
pub(crate) fn forget_index_entry(stream: &str) -> TransactWrite {
    TransactWrite::Delete { key: index_key(stream), condition: Condition::Always }
}

/// What an operator's skip records, besides moving the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub stream: String,
    pub version: u64,
    pub reason: String,
    pub by: String,
    /// RFC 3339.
    pub at: String,
}

/// Move the checkpoint of a stream parked at `skip.version` past it, unpark it, and keep the
/// skip's record, in one transaction.
pub(crate) fn skip(skip: &Skip) -> Vec<TransactWrite> {
    let key = skip_key(&skip.stream, skip.version);
    let mut record = Item::new();
    record.insert("pk".into(), key.pk.into());
    record.insert("sk".into(), key.sk.into());
    for (name, value) in
        [("stream", &skip.stream), ("reason", &skip.reason), ("by", &skip.by), ("at", &skip.at)]
    {
        record.insert(name.into(), json!(value));
    }
    record.insert("version".into(), json!(skip.version));
    vec![
        TransactWrite::Put {
            item: checkpoint_item(&skip.stream, skip.version),
            condition: parked_at(skip.version),
        },
        TransactWrite::Delete { key: index_key(&skip.stream), condition: Condition::Always },
        TransactWrite::Put { item: record, condition: Condition::NotExists },
    ]
}

/// Where the skip of `stream` at `version` is recorded.
pub fn skip_key(stream: &str, version: u64) -> Key {
    Key::new(format!("{SKIPPED_PREFIX}{stream}"), format!("{version:012}"))
}
