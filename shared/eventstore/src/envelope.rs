use huddle_ports::{Attributes, Item};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use ulid::Ulid;

/// One stored event with everything a consumer needs to route, order, trace and decode it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The aggregate's stream, e.g. `post#01J…`; the part before `#` is the stream type.
    pub stream: String,
    /// 1, 2, 3 … within the stream, without gaps.
    pub version: u64,
    pub event_id: Ulid,
    pub event_type: String,
    /// The payload's schema version; old versions are upcast on decode.
    pub schema_version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// Who caused the event: an account id, or a system role such as `system:media`.
    pub actor: Option<String>,
    /// The request (or job) the event came from; it travels into every log line it causes.
    pub correlation_id: String,
    /// The event or request that directly caused this one.
    pub causation_id: Option<String>,
    pub payload: Value,
}

/// What the caller of an append knows about why events happen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    pub actor: Option<String>,
    pub correlation_id: String,
    pub causation_id: Option<String>,
}

impl Metadata {
    pub fn new(correlation_id: impl Into<String>) -> Self {
        Self { correlation_id: correlation_id.into(), ..Self::default() }
    }
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }
    pub fn caused_by(mut self, causation_id: impl Into<String>) -> Self {
        self.causation_id = Some(causation_id.into());
        self
    }
}

/// An event about to be appended: its type, schema version and JSON payload.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Value,
}

pub(crate) const KIND_EVENT: &str = "event";

/// The correlation id an event item carries; `None` for an item that is no event.
pub fn event_correlation_id(item: &Item) -> Option<&str> {
    if item.get("kind").and_then(Value::as_str) != Some(KIND_EVENT) {
        return None;
    }
    item.get(attribute::CORRELATION_ID).and_then(Value::as_str)
}

/// The part of a stream id before its first `#` (`account#01J…` is of type `account`).
pub fn stream_type(stream: &str) -> &str {
    stream.split_once('#').map_or(stream, |(kind, _)| kind)
}

/// The sort key of a version: zero-padded so string order is numeric order.
pub(crate) fn version_sk(version: u64) -> String {
    format!("{version:012}")
}

/// The message attributes the fan-out publishes every event with, which subscriptions filter on.
pub mod attribute {
    pub const EVENT_TYPE: &str = "event_type";
    pub const STREAM_TYPE: &str = "stream_type";
    pub const STREAM: &str = "stream";
    pub const CORRELATION_ID: &str = "correlation_id";
}

fn message_attributes(stream: &str, event_type: &str, correlation_id: &str) -> Attributes {
    Attributes::from([
        (attribute::EVENT_TYPE.into(), event_type.to_owned()),
        (attribute::STREAM_TYPE.into(), stream_type(stream).to_owned()),
        (attribute::STREAM.into(), stream.to_owned()),
        (attribute::CORRELATION_ID.into(), correlation_id.to_owned()),
    ])
}

impl Envelope {
    pub fn stream_type(&self) -> &str {
        stream_type(&self.stream)
    }

    /// The attributes the fan-out publishes this event with; the store refuses an event whose
    /// attributes SNS or SQS would refuse, so every stored event can be published.
    pub fn message_attributes(&self) -> Attributes {
        message_attributes(&self.stream, &self.event_type, &self.correlation_id)
    }

    pub(crate) fn to_item(&self) -> Item {
        let Value::Object(mut item) = serde_json::to_value(self).expect("envelopes serialize") else {
            unreachable!("an envelope serializes to an object")
        };
        item.insert("pk".into(), self.stream.clone().into());
        item.insert("sk".into(), version_sk(self.version).into());
        item.insert("kind".into(), KIND_EVENT.into());
        item
    }

    /// The envelope stored in an events-table item; `None` for items that are not events.
    pub fn from_item(item: &Item) -> Option<Result<Envelope, serde_json::Error>> {
        if item.get("kind").and_then(Value::as_str) != Some(KIND_EVENT) {
            return None;
        }
        Some(serde_json::from_value(Value::Object(item.clone())))
    }
}

/// An event as a scan of the store found it: its stream, version and message attributes are
/// read from the item's top-level strings, and the rest (the payload) is decoded only for the
/// events a reader wants.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannedEvent {
    pub stream: String,
    pub version: u64,
    /// As [`Envelope::message_attributes`], for subscription filters.
    pub attributes: Attributes,
    item: Item,
}

impl ScannedEvent {
    /// The event stored in an events-table item; `None` for items that are not events, an error
    /// for an event item without its stream, version, type or correlation id.
    pub(crate) fn from_item(item: Item) -> Option<Result<ScannedEvent, String>> {
        if item.get("kind").and_then(Value::as_str) != Some(KIND_EVENT) {
            return None;
        }
        let text = |name: &str| item.get(name).and_then(Value::as_str);
        let fields = (
            text("stream"),
            item.get("version").and_then(Value::as_u64),
            text("event_type"),
            text("correlation_id"),
        );
        let (Some(stream), Some(version), Some(event_type), Some(correlation_id)) = fields else {
            return Some(Err(format!(
                "event item {:?} lacks its routing fields",
                huddle_ports::Key::of(&item)
            )));
        };
        let attributes = message_attributes(stream, event_type, correlation_id);
        Some(Ok(ScannedEvent { stream: stream.to_owned(), version, attributes, item }))
    }

    pub fn decode(self) -> Result<Envelope, serde_json::Error> {
        serde_json::from_value(Value::Object(self.item))
    }
}
