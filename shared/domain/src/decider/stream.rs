//! A decider's stream as loaded: its snapshot (where the decider has a policy) and the events
//! after it, opened with the data subject's key where they are sealed, folded with `evolve`.

use super::Decider;
use huddle_eventstore::{
    decode, decode_personal, encode, encode_personal, AppendError, DecodeError, EventSchema, EventStore,
    ExpectedVersion, Loaded, NewSnapshot, StreamWrite, SubjectKey,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Why a stream could not be loaded or written.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Store(#[from] AppendError),
    #[error("event {version} of {stream} does not decode: {source}")]
    Undecodable { stream: String, version: u64, source: DecodeError },
    #[error("events of {stream} are sealed under its data subject's key, which is gone")]
    KeyGone { stream: String },
}

/// One stream of decider `D` as a load found it, with what an append to it needs.
pub struct Current<D: Decider> {
    pub stream: String,
    pub state: D::State,
    /// The version of its last event: an append decided on this state expects it.
    pub version: u64,
    /// When its first event happened; `None` while it has none.
    pub started_at: Option<OffsetDateTime>,
    /// The version of the snapshot it was loaded from (0: folded from the first event).
    snapshot_version: u64,
    /// The data subject's key, for a stream whose events are sealed, while the subject has one.
    key: Option<SubjectKey>,
}

/// What a snapshot holds: the state and when the stream began, which no event's payload says.
#[derive(Serialize, Deserialize)]
struct Folded<S> {
    state: S,
    #[serde(with = "time::serde::rfc3339::option")]
    started_at: Option<OffsetDateTime>,
}

/// `stream` from its snapshot on (when `D` has a snapshot policy), its events opened with the
/// data subject's key (`D::data_subject`) and folded. The snapshot and the key are read at once;
/// an event whose sealed fields were shredded is skipped (its subject was erased, and the events
/// that say so carry no personal data).
pub async fn load<D>(store: &EventStore, stream: impl Into<String>) -> Result<Current<D>, StreamError>
where
    D: Decider,
    D::State: Serialize + DeserializeOwned,
    D::Event: EventSchema,
{
    let stream = stream.into();
    let subject = D::data_subject(&stream);
    let snapshot = async {
        match D::SNAPSHOTS {
            Some(_) => store.read_snapshot(&stream).await,
            None => Ok(None),
        }
    };
    let key = async {
        match subject {
            Some(subject) => store.subject_key(subject).await,
            None => Ok(None),
        }
    };
    let (snapshot, key) = tokio::join!(snapshot, key);
    let (snapshot, key) = (snapshot?, key?);
    let loaded = match &D::SNAPSHOTS {
        Some(policy) => store.load_from::<Folded<D::State>>(&stream, snapshot, policy, key.as_ref()).await?,
        None => {
            Loaded { snapshot: None, snapshot_version: 0, events: store.read_stream(&stream, 1..).await? }
        }
    };
    let version = loaded.version();
    let (mut state, mut started_at) = match loaded.snapshot {
        Some(Folded { state, started_at }) => (state, started_at),
        None => (D::State::default(), None),
    };
    for envelope in &loaded.events {
        started_at.get_or_insert(envelope.occurred_at);
        let event = match subject {
            Some(_) => decode_personal::<D::Event>(envelope, key.as_ref()),
            None => decode::<D::Event>(envelope).map(Some),
        };
        let event = event.map_err(|source| StreamError::Undecodable {
            stream: stream.clone(),
            version: envelope.version,
            source,
        })?;
        if let Some(event) = event {
            state = D::evolve(state, &event);
        }
    }
    Ok(Current { stream, state, version, started_at, snapshot_version: loaded.snapshot_version, key })
}

impl<D: Decider> Current<D> {
    /// A stream known to have no events yet (a fresh id): nothing needs reading.
    pub fn new(stream: impl Into<String>) -> Self {
        Self {
            stream: stream.into(),
            state: D::State::default(),
            version: 0,
            started_at: None,
            snapshot_version: 0,
            key: None,
        }
    }

    /// The events `command` causes in this stream's state.
    pub fn decide(&self, command: D::Command) -> Result<Vec<D::Event>, D::Error> {
        D::decide(&self.state, command)
    }

    pub(super) fn key(&self) -> Option<&SubjectKey> {
        self.key.as_ref()
    }
}

impl<D> Current<D>
where
    D: Decider,
    D::State: Serialize,
    D::Event: EventSchema,
{
    /// The append of `events` to this stream at the version it was loaded at; `None` for no
    /// events. For a use case's other streams (see [`Also`](super::Also)).
    pub fn write(&self, events: &[D::Event]) -> Result<Option<StreamWrite>, StreamError> {
        if events.is_empty() {
            return Ok(None);
        }
        self.write_sealed(events, self.key.as_ref()).map(Some)
    }

    /// The check that this stream is still as it was loaded, for an append whose decision rests
    /// on its state without writing to it (see [`StreamWrite::unchanged`]).
    pub fn unchanged(&self) -> StreamWrite {
        StreamWrite::unchanged(self.stream.clone(), self.version)
    }

    /// The append of `events`, sealed under `key` when the stream's events are.
    pub(super) fn write_sealed(
        &self,
        events: &[D::Event],
        key: Option<&SubjectKey>,
    ) -> Result<StreamWrite, StreamError> {
        let events = match D::data_subject(&self.stream) {
            None => events.iter().map(encode).collect(),
            Some(_) => {
                let key = key.ok_or_else(|| StreamError::KeyGone { stream: self.stream.clone() })?;
                events.iter().map(|event| encode_personal(event, key)).collect()
            }
        };
        Ok(StreamWrite {
            stream: self.stream.clone(),
            expected: ExpectedVersion::Exact(self.version),
            events,
        })
    }

    /// The snapshot to offer with an append that takes this stream to `state`. None without a
    /// policy, and on the stream's first append, so that every snapshot knows when its stream
    /// began (the store writes one only once the stream is an interval past the last anyway).
    pub(super) fn snapshot(&self, state: &D::State, key: Option<&SubjectKey>) -> Option<NewSnapshot> {
        let policy = D::SNAPSHOTS?;
        self.started_at?;
        let folded = Folded { state, started_at: self.started_at };
        Some(policy.offer(self.stream.clone(), &folded, self.snapshot_version, key))
    }
}
