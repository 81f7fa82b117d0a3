use crate::appended::{index_write, APPENDED_PREFIX};
use crate::envelope::{stream_type, version_sk, KIND_EVENT};
use crate::personal::{is_key_stream, key_of};
use crate::snapshot::{snapshot_key, NewSnapshot, StoredSnapshot, SNAPSHOT_PREFIX};
use crate::{Envelope, KeyChange, Loaded, Metadata, NewEvent, ScannedEvent, SnapshotPolicy, SubjectKey};
use huddle_ports::table::MAX_TRANSACT_WRITES;
use huddle_ports::topic::message_bytes;
use huddle_ports::{
    is_expired, Condition, Item, Key, Query, Scan, SkRange, Table, TableError, TopicMessage, TransactWrite,
    EXPIRES_AT,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use ulid::Ulid;

/// The largest event, measured as the fan-out publishes it: the envelope as JSON and its message
/// attributes, counted as SNS counts them ([`message_bytes`]). Ten of them fit one SNS publish
/// batch (256 KiB), so the fan-out never needs more than ⌈N/10⌉ calls; the stored item is
/// smaller still, far within DynamoDB's 400 KB.
pub const MAX_EVENT_BYTES: usize = 24 * 1024;

/// The longest stream id, stream type, event type or correlation id: the values of the message
/// attributes the fan-out publishes (see [`Envelope::message_attributes`]).
pub const MAX_NAME_BYTES: usize = 256;

/// How long an idempotency key keeps answering with its first result.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How often an append with [`ExpectedVersion::Any`] retries after losing a race.
const MAX_ATTEMPTS: u32 = 20;

const IDEMPOTENCY_PREFIX: &str = "idempotency#";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append after whatever the stream holds.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be exactly at this version (0 is the same as `NoStream`).
    Exact(u64),
}

/// Events to append to one stream; with no events, a check that the stream is still at
/// `expected` ([`StreamWrite::unchanged`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamWrite {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

impl StreamWrite {
    /// No events: the append commits only while `stream` is still at `version` (nothing was
    /// appended to it since it was read), for a decision that rests on another stream's state.
    pub fn unchanged(stream: impl Into<String>, version: u64) -> Self {
        Self { stream: stream.into(), expected: ExpectedVersion::Exact(version), events: Vec::new() }
    }
}

/// Makes an append answer its first result when repeated.
#[derive(Debug, Clone, PartialEq)]
pub struct Idempotency {
    /// Unique per caller: the HTTP glue scopes the client's key with the caller's id.
    pub key: String,
    /// Stored with the key and returned on every repeat (the HTTP glue keeps its response here).
    pub receipt: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommittedStream {
    pub stream: String,
    pub first_version: u64,
    pub last_version: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub streams: Vec<CommittedStream>,
    pub receipt: Option<Value>,
    /// True when the idempotency key was seen before and nothing was written.
    pub replayed: bool,
    /// The `occurred_at` of the events written; `None` for a replay.
    pub occurred_at: Option<OffsetDateTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("stream {stream} is at version {current}, expected {expected:?}")]
    Conflict { stream: String, expected: ExpectedVersion, current: u64 },
    #[error("event {event_type} is {bytes} bytes, over the limit of {limit}")]
    EventTooLarge { event_type: String, bytes: usize, limit: usize },
    #[error("invalid append: {0}")]
    Invalid(String),
    #[error("event store unavailable: {0}")]
    Unavailable(String),
}

impl From<TableError> for AppendError {
    fn from(error: TableError) -> Self {
        match error {
            TableError::Invalid(message) => AppendError::Invalid(message),
            other => AppendError::Unavailable(other.to_string()),
        }
    }
}

/// One attempt's transaction, with what each of its writes is for.
struct Prepared {
    transaction: Vec<TransactWrite>,
    roles: Vec<Role>,
    committed: Vec<CommittedStream>,
}

/// What a write in the append transaction is for, to tell which condition failed.
enum Role {
    Event(usize),
    VersionCheck(usize),
    SubjectKey(usize),
    Idempotency,
    /// The appended-streams index entry of a write: unconditional, it never fails.
    Index,
    /// Written unconditionally: it never fails a transaction.
    Snapshot,
}

#[derive(Clone)]
pub struct EventStore {
    table: Arc<dyn Table>,
}

impl EventStore {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub(crate) fn table(&self) -> &dyn Table {
        self.table.as_ref()
    }

    /// Append to one stream.
    pub async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        metadata: &Metadata,
        idempotency: Option<Idempotency>,
    ) -> Result<Appended, AppendError> {
        let write = StreamWrite { stream: stream.to_owned(), expected, events };
        self.append_all(vec![write], metadata, idempotency).await
    }

    /// Append to several streams atomically: all land, or none. Costs one transactional write,
    /// plus one read per stream appended with [`ExpectedVersion::Any`] and one for the key.
    pub async fn append_all(
        &self,
        writes: Vec<StreamWrite>,
        metadata: &Metadata,
        idempotency: Option<Idempotency>,
    ) -> Result<Appended, AppendError> {
        self.append_with_keys(writes, Vec::new(), metadata, idempotency).await
    }

    /// [`append_all`](Self::append_all), creating or shredding data subjects' keys in the same
    /// transaction: an account's key is born with the account and dies with its erasure.
    pub async fn append_with_keys(
        &self,
        writes: Vec<StreamWrite>,
        keys: Vec<KeyChange>,
        metadata: &Metadata,
        idempotency: Option<Idempotency>,
    ) -> Result<Appended, AppendError> {
        self.append_with_snapshots(writes, Vec::new(), keys, metadata, idempotency).await
    }

    /// [`append_with_keys`](Self::append_with_keys), offering the states the streams reach: a
    /// snapshot is written in the same transaction when its stream has grown its policy's
    /// interval past the snapshot its state was loaded from (see [`SnapshotPolicy::offer`]).
    pub async fn append_with_snapshots(
        &self,
        writes: Vec<StreamWrite>,
        snapshots: Vec<NewSnapshot>,
        keys: Vec<KeyChange>,
        metadata: &Metadata,
        idempotency: Option<Idempotency>,
    ) -> Result<Appended, AppendError> {
        validate(&writes, metadata, keys.len(), idempotency.is_some())?;
        validate_snapshots(&writes, &snapshots)?;
        if let Some(key) = &idempotency {
            if let Some(first) = self.previous_append(&key.key).await? {
                return Ok(first);
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut bases = Vec::with_capacity(writes.len());
            for write in &writes {
                bases.push(match write.expected {
                    ExpectedVersion::Any => self.head(&write.stream).await?,
                    ExpectedVersion::NoStream => 0,
                    ExpectedVersion::Exact(version) => version,
                });
            }
            let now = OffsetDateTime::now_utc();
            let Prepared { transaction, roles, committed } =
                self.transaction(&writes, &bases, &keys, &snapshots, metadata, idempotency.as_ref(), now)?;
            let failed_role = match self.table.transact(transaction).await {
                Ok(()) => {
                    crate::written::record(&committed);
                    let receipt = idempotency.and_then(|key| key.receipt);
                    return Ok(Appended {
                        streams: committed,
                        receipt,
                        replayed: false,
                        occurred_at: Some(now),
                    });
                }
                Err(TableError::ConditionFailed { index }) => index.map(|i| &roles[i]),
                Err(TableError::TransactionConflict) if attempt < MAX_ATTEMPTS => {
                    backoff(attempt).await;
                    continue;
                }
                Err(other) => return Err(other.into()),
            };
            // Whichever condition failed first, a twin of this request may have committed with
            // the same key (its events make ours conflict before our record does): then the
            // answer is its result, not a conflict.
            if let Some(key) = &idempotency {
                if let Some(first) = self.previous_append(&key.key).await? {
                    return Ok(first);
                }
            }
            match failed_role {
                Some(Role::Idempotency) => {
                    return Err(AppendError::Unavailable("idempotency record vanished".into()));
                }
                Some(Role::Index | Role::Snapshot) => {
                    return Err(AppendError::Unavailable("an unconditional write failed".into()));
                }
                Some(Role::SubjectKey(i)) => {
                    let subject = match &keys[*i] {
                        KeyChange::Create(key) => key.subject(),
                        KeyChange::Shred(subject) => subject,
                    };
                    return Err(AppendError::Invalid(format!("subject {subject} already has a key")));
                }
                Some(Role::Event(i) | Role::VersionCheck(i)) => {
                    let write = &writes[*i];
                    if write.expected == ExpectedVersion::Any && attempt < MAX_ATTEMPTS {
                        continue;
                    }
                    let current = self.head(&write.stream).await?;
                    return Err(AppendError::Conflict {
                        stream: write.stream.clone(),
                        expected: write.expected,
                        current,
                    });
                }
                None => return Err(self.unattributed_conflict(&writes, &bases).await),
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn transaction(
        &self,
        writes: &[StreamWrite],
        bases: &[u64],
        keys: &[KeyChange],
        snapshots: &[NewSnapshot],
        metadata: &Metadata,
        idempotency: Option<&Idempotency>,
        now: OffsetDateTime,
    ) -> Result<Prepared, AppendError> {
        let mut transaction = Vec::new();
        let mut roles = Vec::new();
        let mut committed = Vec::new();
        let mut heads = Vec::with_capacity(writes.len());
        for (index, (write, &base)) in writes.iter().zip(bases).enumerate() {
            if write.events.is_empty() {
                // A stream never loses an event, so "no event after `base`" is "still at `base`".
                transaction.push(TransactWrite::Check {
                    key: Key::new(&write.stream, version_sk(base + 1)),
                    condition: Condition::NotExists,
                });
                roles.push(Role::VersionCheck(index));
                continue;
            }
            if base > 0 {
                let exists = Condition::attribute_equals("kind", KIND_EVENT);
                transaction.push(TransactWrite::Check {
                    key: Key::new(&write.stream, version_sk(base)),
                    condition: exists,
                });
                roles.push(Role::VersionCheck(index));
            }
            for (offset, event) in write.events.iter().enumerate() {
                let envelope = Envelope {
                    stream: write.stream.clone(),
                    version: base + 1 + offset as u64,
                    event_id: Ulid::new(),
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                    occurred_at: now,
                    actor: metadata.actor.clone(),
                    correlation_id: metadata.correlation_id.clone(),
                    causation_id: metadata.causation_id.clone(),
                    payload: event.payload.clone(),
                };
                check_publishable(&envelope)?;
                heads.push((write.stream.as_str(), envelope.version, envelope.event_id));
                let item = envelope.to_item();
                transaction.push(TransactWrite::Put { item, condition: Condition::NotExists });
                roles.push(Role::Event(index));
            }
            transaction.push(index_write(&write.stream, stream_type(&write.stream), now));
            roles.push(Role::Index);
            committed.push(CommittedStream {
                stream: write.stream.clone(),
                first_version: base + 1,
                last_version: base + write.events.len() as u64,
            });
        }
        for (index, change) in keys.iter().enumerate() {
            transaction.push(change.write());
            roles.push(Role::SubjectKey(index));
        }
        if let Some(key) = idempotency {
            let expires_at = (now + IDEMPOTENCY_TTL).unix_timestamp();
            let record = json!({
                "pk": format!("{IDEMPOTENCY_PREFIX}{}", key.key),
                "sk": "idempotency",
                "kind": "idempotency",
                "streams": committed,
                "receipt": key.receipt,
                EXPIRES_AT: expires_at,
            });
            let Value::Object(item) = record else { unreachable!("a JSON object") };
            let condition = Condition::AbsentOrExpired { name: EXPIRES_AT.into(), now: now.unix_timestamp() };
            transaction.push(TransactWrite::Put { item, condition });
            roles.push(Role::Idempotency);
        }
        // Last, so a snapshot that would not fit is simply left out: it is never the truth.
        for snapshot in snapshots {
            let Some(&(_, head, event_id)) = heads.iter().rev().find(|(s, ..)| *s == snapshot.stream())
            else {
                continue;
            };
            if transaction.len() < MAX_TRANSACT_WRITES {
                if let Some(write) = snapshot.write(head, event_id) {
                    transaction.push(write);
                    roles.push(Role::Snapshot);
                }
            }
        }
        Ok(Prepared { transaction, roles, committed })
    }

    /// What the append with idempotency `key` committed, if one did (`replayed` is true). A
    /// record past its `expires_at` is absent, whether or not TTL has deleted it yet.
    pub async fn previous_append(&self, key: &str) -> Result<Option<Appended>, AppendError> {
        let record = self.table.get(&Key::new(format!("{IDEMPOTENCY_PREFIX}{key}"), "idempotency")).await?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let Some(record) = record.filter(|record| !is_expired(record, EXPIRES_AT, now)) else {
            return Ok(None);
        };
        let streams: Vec<CommittedStream> =
            serde_json::from_value(record.get("streams").cloned().unwrap_or_default())
                .map_err(|e| AppendError::Unavailable(format!("corrupt idempotency record: {e}")))?;
        crate::written::record(&streams);
        let receipt = record.get("receipt").cloned().filter(|r| !r.is_null());
        Ok(Some(Appended { streams, receipt, replayed: true, occurred_at: None }))
    }

    /// A storage that cannot say which condition failed: report the first stream not at its base.
    async fn unattributed_conflict(&self, writes: &[StreamWrite], bases: &[u64]) -> AppendError {
        for (write, &base) in writes.iter().zip(bases) {
            match self.head(&write.stream).await {
                Ok(current) if current != base => {
                    return AppendError::Conflict {
                        stream: write.stream.clone(),
                        expected: write.expected,
                        current,
                    }
                }
                Ok(_) => {}
                Err(error) => return error,
            }
        }
        AppendError::Unavailable("append refused without a reason".into())
    }

    /// `stream` from its newest usable snapshot on (see [`load_from`](Self::load_from)).
    pub async fn load<S: DeserializeOwned>(
        &self,
        stream: &str,
        policy: &SnapshotPolicy,
        key: Option<&SubjectKey>,
    ) -> Result<Loaded<S>, AppendError> {
        let snapshot = self.read_snapshot(stream).await?;
        self.load_from(stream, snapshot, policy, key).await
    }

    /// The snapshot stored for `stream`, unopened; `None` when there is none or its item is
    /// malformed. One read, which a caller may make beside others before
    /// [`load_from`](Self::load_from).
    pub async fn read_snapshot(&self, stream: &str) -> Result<Option<StoredSnapshot>, AppendError> {
        let item = self.table.get(&snapshot_key(stream)).await?;
        let snapshot = item.as_ref().and_then(StoredSnapshot::from_item);
        if item.is_some() && snapshot.is_none() {
            tracing::warn!(stream, "malformed snapshot; reading the stream's events");
        }
        Ok(snapshot)
    }

    /// `stream` from `snapshot` on: its state and the events after it, in one query. A snapshot
    /// that is absent, of another schema, sealed under a key that is gone, undecodable, or not of
    /// the event it names is not used: the load reads every event of the stream instead.
    pub async fn load_from<S: DeserializeOwned>(
        &self,
        stream: &str,
        snapshot: Option<StoredSnapshot>,
        policy: &SnapshotPolicy,
        key: Option<&SubjectKey>,
    ) -> Result<Loaded<S>, AppendError> {
        if let Some(snapshot) = snapshot {
            match snapshot.open::<S>(stream, policy, key) {
                Ok(state) => {
                    // The covered event comes first, proving the snapshot is of this stream's history.
                    let mut events = self.read_stream(stream, snapshot.version..).await?;
                    if events.first().is_some_and(|event| snapshot.covers(event)) {
                        events.remove(0);
                        return Ok(Loaded {
                            snapshot: Some(state),
                            snapshot_version: snapshot.version,
                            events,
                        });
                    }
                    tracing::warn!(
                        stream,
                        version = snapshot.version,
                        "a snapshot of an event the stream does not hold; reading every event"
                    );
                }
                Err(reason) => {
                    tracing::debug!(stream, version = snapshot.version, %reason, "snapshot unused; reading every event");
                }
            }
        }
        let events = self.read_stream(stream, 1..).await?;
        Ok(Loaded { snapshot: None, snapshot_version: 0, events })
    }

    /// The data subject's key; `None` once it was shredded (or never existed).
    pub async fn subject_key(&self, subject: &str) -> Result<Option<SubjectKey>, AppendError> {
        let item = self.table.get(&key_of(subject)).await?;
        Ok(item.and_then(|item| SubjectKey::from_item(subject, &item)))
    }

    /// The stream's current version (0 when it does not exist).
    pub async fn head(&self, stream: &str) -> Result<u64, AppendError> {
        Ok(self.last_event(stream).await?.map_or(0, |event| event.version))
    }

    /// The stream's latest event, in one read: for streams whose last event is their state.
    pub async fn last_event(&self, stream: &str) -> Result<Option<Envelope>, AppendError> {
        let page = self.table.query(&Query::new(stream).backward().limit(1)).await?;
        page.items.first().map(decode_item).transpose()
    }

    /// The stream's events whose versions fall in `versions`, in order.
    pub async fn read_stream(
        &self,
        stream: &str,
        versions: impl RangeBounds<u64>,
    ) -> Result<Vec<Envelope>, AppendError> {
        let low = match versions.start_bound() {
            Bound::Included(&v) => v,
            Bound::Excluded(&v) => v + 1,
            Bound::Unbounded => 1,
        };
        let high = match versions.end_bound() {
            Bound::Included(&v) => Some(v),
            Bound::Excluded(&v) => Some(v.saturating_sub(1)),
            Bound::Unbounded => None,
        };
        if high.is_some_and(|high| high < low) {
            return Ok(Vec::new());
        }
        let range = match high {
            Some(high) => SkRange::Between(version_sk(low), version_sk(high)),
            None => SkRange::AtLeast(version_sk(low)),
        };
        let mut envelopes = Vec::new();
        let mut after = None;
        loop {
            let page =
                self.table.query(&Query::new(stream).range(range.clone()).limit(500).after(after)).await?;
            for item in &page.items {
                envelopes.push(decode_item(item)?);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(envelopes),
            }
        }
    }

    /// One page of a scan of the store (of one segment of it), for replays: the events it
    /// found, each stream's in version order and decoded only on demand, and how many items it
    /// visited (non-event items included). Pass `next` back in `scan.after` to continue; `None`
    /// means the segment is complete.
    pub async fn scan(&self, scan: &Scan) -> Result<EventPage, AppendError> {
        let page = self.table.scan(scan).await?;
        let visited = page.items.len();
        let mut events = page
            .items
            .into_iter()
            .filter_map(ScannedEvent::from_item)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AppendError::Unavailable(format!("corrupt event: {e}")))?;
        // DynamoDB returns a partition's items together and in sort-key order; sorting guards the
        // guarantee, keeping the streams in the order the table returned them.
        let mut first_seen: HashMap<String, usize> = HashMap::new();
        for (position, event) in events.iter().enumerate() {
            first_seen.entry(event.stream.clone()).or_insert(position);
        }
        events.sort_by_key(|event| (first_seen[&event.stream], event.version));
        Ok(EventPage { events, visited, next: page.next })
    }

    /// About how many items the events table holds (events and the rest), for a replay's ETA.
    pub async fn approximate_item_count(&self) -> Result<u64, AppendError> {
        Ok(self.table.approximate_item_count().await?)
    }
}

/// One page of [`EventStore::scan`].
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    pub events: Vec<ScannedEvent>,
    /// The items the page visited, events or not.
    pub visited: usize,
    /// Where the next page of the segment starts; `None` on its last page.
    pub next: Option<Key>,
}

fn decode_item(item: &Item) -> Result<Envelope, AppendError> {
    Envelope::from_item(item)
        .ok_or_else(|| AppendError::Unavailable("a stream holds a non-event item".into()))?
        .map_err(|e| AppendError::Unavailable(format!("corrupt event: {e}")))
}

fn validate(
    writes: &[StreamWrite],
    metadata: &Metadata,
    keys: usize,
    idempotent: bool,
) -> Result<(), AppendError> {
    if writes.iter().all(|w| w.events.is_empty()) {
        return Err(AppendError::Invalid("an append needs at least one event".into()));
    }
    if writes.iter().any(|w| w.events.is_empty() && w.expected == ExpectedVersion::Any) {
        return Err(AppendError::Invalid("a stream that must be unchanged needs its version".into()));
    }
    // The values of the message attributes the fan-out publishes: SNS refuses an empty one.
    let names = writes.iter().flat_map(|w| {
        [("stream id", w.stream.as_str()), ("stream type", stream_type(&w.stream))]
            .into_iter()
            .chain(w.events.iter().map(|e| ("event type", e.event_type.as_str())))
    });
    for (what, name) in std::iter::once(("correlation id", metadata.correlation_id.as_str())).chain(names) {
        if name.is_empty() || name.len() > MAX_NAME_BYTES || !sqs_text(name) {
            return Err(AppendError::Invalid(format!(
                "a {what} is 1 to {MAX_NAME_BYTES} bytes of the characters SQS takes, not {name:?}"
            )));
        }
    }
    let mut streams = HashSet::new();
    for write in writes {
        if write.stream.is_empty()
            || write.stream.starts_with(IDEMPOTENCY_PREFIX)
            || write.stream.starts_with(APPENDED_PREFIX)
            || write.stream.starts_with(SNAPSHOT_PREFIX)
            || is_key_stream(&write.stream)
        {
            return Err(AppendError::Invalid(format!("{:?} is not a stream id", write.stream)));
        }
        if !streams.insert(write.stream.as_str()) {
            return Err(AppendError::Invalid(format!("stream {} appears twice", write.stream)));
        }
    }
    // Per stream: its events, a version check, and its appended-streams index entry (a stream
    // that must be unchanged: its check alone).
    let items: usize =
        writes.iter().map(|w| if w.events.is_empty() { 1 } else { w.events.len() + 2 }).sum::<usize>()
            + keys
            + usize::from(idempotent);
    if items > MAX_TRANSACT_WRITES {
        return Err(AppendError::Invalid(format!("too many events in one append ({items} writes)")));
    }
    Ok(())
}

/// Refuses snapshots of streams the append does not write, two of one stream, and one of a
/// stream appended with [`ExpectedVersion::Any`] (its state was folded from a load that the
/// events may no longer follow).
fn validate_snapshots(writes: &[StreamWrite], snapshots: &[NewSnapshot]) -> Result<(), AppendError> {
    let mut streams = HashSet::new();
    for snapshot in snapshots {
        let write = writes.iter().find(|write| write.stream == snapshot.stream());
        if write.is_some_and(|write| write.expected == ExpectedVersion::Any) {
            return Err(AppendError::Invalid(format!(
                "a snapshot of {} needs the version its state was loaded at, not ExpectedVersion::Any",
                snapshot.stream()
            )));
        }
        if write.is_none() {
            return Err(AppendError::Invalid(format!(
                "a snapshot of {}, which the append does not write",
                snapshot.stream()
            )));
        }
        if !streams.insert(snapshot.stream()) {
            return Err(AppendError::Invalid(format!("two snapshots of {}", snapshot.stream())));
        }
    }
    Ok(())
}

/// Refuses an event SNS or SQS would refuse to carry, before anything is written: over
/// [`MAX_EVENT_BYTES`] as published, or with a character SQS does not take in its body (JSON
/// escapes control characters, not U+FFFE or U+FFFF).
fn check_publishable(envelope: &Envelope) -> Result<(), AppendError> {
    let message = TopicMessage {
        id: String::new(),
        body: serde_json::to_string(envelope).expect("envelopes serialize"),
        attributes: envelope.message_attributes(),
    };
    let bytes = message_bytes(&message);
    if bytes > MAX_EVENT_BYTES {
        return Err(AppendError::EventTooLarge {
            event_type: envelope.event_type.clone(),
            bytes,
            limit: MAX_EVENT_BYTES,
        });
    }
    if !sqs_text(&message.body) {
        return Err(AppendError::Invalid(format!(
            "event {} holds a character SQS does not take",
            envelope.event_type
        )));
    }
    Ok(())
}

/// Whether SQS takes `text` in a message body or attribute: #x9, #xA, #xD, #x20 to #xD7FF,
/// #xE000 to #xFFFD and #x10000 to #x10FFFF (a Rust string holds no surrogates).
fn sqs_text(text: &str) -> bool {
    text.chars().all(|c| matches!(c, '\t' | '\n' | '\r' | ' '..='\u{FFFD}' | '\u{10000}'..))
}

async fn backoff(attempt: u32) {
    let jitter = u64::from(Ulid::new().random() as u16 % 8);
    tokio::time::sleep(Duration::from_millis(u64::from(attempt.min(6)) * 5 + jitter)).await;
}
