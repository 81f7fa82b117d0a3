//! Snapshots: a stream's folded state at some version, kept beside the stream so loading it reads
//! the snapshot and the events after it instead of the whole stream.
//!
//! A snapshot is written in the transaction of the append whose state it holds, so it can never
//! be ahead of its stream or describe events that were not committed. It is never the truth: a
//! load that finds none, or one it cannot use (another state schema, a key that no longer opens
//! it, a state that does not decode, a version whose event is not the one it names), reads the
//! stream from its first event instead, and the next append writes a fresh one.
//!
//! Stored shape: `pk = snapshot#<stream>`, `sk = snapshot`, `kind = snapshot`, the stream, the
//! version it covers and that event's id, the state schema, and the state as JSON text
//! (`state`), or sealed under a data subject's key (`sealed`, as in `personal`): erasing the
//! subject makes its snapshots unreadable along with its events.

use crate::personal::SubjectKey;
use crate::Envelope;
use huddle_ports::table::{validate_item, Condition, TransactWrite};
use huddle_ports::Item;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use ulid::Ulid;

pub(crate) const SNAPSHOT_PREFIX: &str = "snapshot#";
const SNAPSHOT_SK: &str = "snapshot";
const KIND_SNAPSHOT: &str = "snapshot";

/// How one kind of stream is snapshotted; declared once per aggregate and used both to load and
/// to write its snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// How many events a load may have to read after the snapshot before the next append writes
    /// a new one.
    pub interval: u64,
    /// The shape of the state; a snapshot of another schema is ignored (the events are read).
    pub schema: u32,
}

impl SnapshotPolicy {
    /// The snapshot to offer with an append to `stream`: `state` is the state after the append's
    /// events, `loaded_from` the version of the snapshot it was folded from ([`Loaded`]'s
    /// `snapshot_version`). The store writes it only if the append takes the stream `interval`
    /// or more events past that version, sealed under `seal` when the state holds personal data.
    pub fn offer<S: Serialize>(
        &self,
        stream: impl Into<String>,
        state: &S,
        loaded_from: u64,
        seal: Option<&SubjectKey>,
    ) -> NewSnapshot {
        NewSnapshot {
            stream: stream.into(),
            state: serde_json::to_string(state).expect("states serialize"),
            policy: *self,
            loaded_from,
            seal: seal.cloned(),
        }
    }
}

/// A state offered with an append (see [`SnapshotPolicy::offer`]).
#[derive(Debug, Clone)]
pub struct NewSnapshot {
    stream: String,
    /// The state as JSON text.
    state: String,
    policy: SnapshotPolicy,
    /// The version of the snapshot the state was loaded from (0: folded from the first event).
    loaded_from: u64,
    seal: Option<SubjectKey>,
}

impl NewSnapshot {
    pub(crate) fn stream(&self) -> &str {
        &self.stream
    }

    /// The put that stores this snapshot once the append brings the stream to `head`, whose event
    /// is `event_id`; `None` when the tail is still shorter than the interval, or the snapshot
    /// would be an item DynamoDB refuses (the append then goes ahead without it).
    pub(crate) fn write(&self, head: u64, event_id: Ulid) -> Option<TransactWrite> {
        if head < self.loaded_from + self.policy.interval {
            return None;
        }
        let mut item = json!({
            "pk": snapshot_pk(&self.stream),
            "sk": SNAPSHOT_SK,
            "kind": KIND_SNAPSHOT,
            "stream": self.stream,
            "version": head,
            "event_id": event_id.to_string(),
            "schema": self.policy.schema,
        });
        match &self.seal {
            Some(key) => {
                let context = context(&self.stream, head, event_id, self.policy.schema);
                item["sealed"] = key.seal_bytes(context.as_bytes(), self.state.clone().into_bytes());
            }
            None => item["state"] = self.state.clone().into(),
        }
        let Value::Object(item) = item else { unreachable!("a JSON object") };
        validate_item(&item).ok()?;
        Some(TransactWrite::Put { item, condition: Condition::Always })
    }
}

/// A snapshot as stored, not yet opened.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSnapshot {
    stream: String,
    /// The version of the last event the state folds in.
    pub version: u64,
    event_id: Ulid,
    schema: u32,
    body: Body,
}

#[derive(Debug, Clone, PartialEq)]
enum Body {
    Clear(String),
    Sealed { subject: String, data: String },
}

impl StoredSnapshot {
    pub(crate) fn from_item(item: &Item) -> Option<Self> {
        let text = |name: &str| item.get(name)?.as_str().map(str::to_owned);
        let body = match (text("state"), item.get("sealed")) {
            (Some(state), None) => Body::Clear(state),
            (None, Some(sealed)) => Body::Sealed {
                subject: sealed.get("subject")?.as_str()?.to_owned(),
                data: sealed.get("data")?.as_str()?.to_owned(),
            },
            _ => return None,
        };
        Some(Self {
            stream: text("stream")?,
            version: item.get("version")?.as_u64()?,
            event_id: text("event_id")?.parse().ok()?,
            schema: u32::try_from(item.get("schema")?.as_u64()?).ok()?,
            body,
        })
    }

    /// The state, if this snapshot is of `stream` and `policy`'s schema, opens with `key` when
    /// sealed, and decodes; otherwise why not.
    pub(crate) fn open<S: DeserializeOwned>(
        &self,
        stream: &str,
        policy: &SnapshotPolicy,
        key: Option<&SubjectKey>,
    ) -> Result<S, Unusable> {
        if self.stream != stream {
            return Err(Unusable::OtherStream);
        }
        if self.schema != policy.schema {
            return Err(Unusable::OtherSchema(self.schema));
        }
        let state = match &self.body {
            Body::Clear(state) => state.as_bytes().to_vec(),
            Body::Sealed { subject, data } => {
                let key = key.filter(|key| key.subject() == subject).ok_or(Unusable::NoKey)?;
                let context = context(stream, self.version, self.event_id, self.schema);
                key.open_bytes(context.as_bytes(), data).map_err(|_| Unusable::DoesNotOpen)?
            }
        };
        // The decoding error is not kept: it could quote a (personal) value of the state.
        serde_json::from_slice(&state).map_err(|_| Unusable::Undecodable)
    }

    /// Whether `event` is the one this snapshot says it covers.
    pub(crate) fn covers(&self, event: &Envelope) -> bool {
        event.version == self.version && event.event_id == self.event_id
    }
}

/// Why a stored snapshot is not used; says nothing of the state, so it may be logged.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unusable {
    #[error("a snapshot of another stream")]
    OtherStream,
    #[error("state schema {0} is not the policy's")]
    OtherSchema(u32),
    #[error("sealed under a key that is not at hand (erased?)")]
    NoKey,
    #[error("does not open with the subject's key")]
    DoesNotOpen,
    #[error("the state does not decode")]
    Undecodable,
}

/// What a sealed snapshot binds in as associated data: it opens only as the snapshot of this
/// stream, version, event and schema.
fn context(stream: &str, version: u64, event_id: Ulid, schema: u32) -> String {
    format!("snapshot\n{stream}\n{version}\n{event_id}\n{schema}")
}

pub(crate) fn snapshot_pk(stream: &str) -> String {
    format!("{SNAPSHOT_PREFIX}{stream}")
}

pub(crate) fn snapshot_key(stream: &str) -> huddle_ports::Key {
    huddle_ports::Key::new(snapshot_pk(stream), SNAPSHOT_SK)
}

/// A stream as a load found it: the state of a usable snapshot and the events after it, or
/// every event when there was none.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<S> {
    /// The snapshot's state; `None`: fold `events` from the aggregate's initial state.
    pub snapshot: Option<S>,
    /// The version the snapshot covers (0 without one): `events` are the ones after it.
    pub snapshot_version: u64,
    pub events: Vec<Envelope>,
}

impl<S> Loaded<S> {
    /// The stream's version: what an append after this load expects.
    pub fn version(&self) -> u64 {
        self.events.last().map_or(self.snapshot_version, |event| event.version)
    }
}
