//! The event store: an append-only log of envelopes on the Table port.
//!
//! Layout in the events table: one partition per stream (`pk` = stream id such as `post#01J…`),
//! one item per event (`sk` = the version, zero-padded so it sorts), plus one item per
//! idempotency key (`pk` = `idempotency#<key>`) and one per data subject's key
//! (`pk` = `subject-key#<subject>`, see `personal`), one per snapshotted stream
//! (`pk` = `snapshot#<stream>`, see `snapshot`) and the index of recently appended streams
//! (`pk` = `appended#<hour>#<shard>`, see `appended`). Only the items with `kind = "event"` are events;
//! the fan-out and the replay scan skip the rest.

mod appended;
mod envelope;
mod personal;
mod schema;
mod snapshot;
mod store;
mod written;

pub use appended::{hour_of, AppendedPage, AppendedStream, APPENDED_RETENTION, APPENDED_SHARDS};
pub use envelope::{
    attribute, event_correlation_id, stream_type, Envelope, Metadata, NewEvent, ScannedEvent,
};
pub use personal::{decode_personal, encode_personal, sealed_subject, KeyChange, SubjectKey};
pub use schema::{decode, encode, DecodeError, EventSchema};
pub use snapshot::{Loaded, NewSnapshot, SnapshotPolicy, StoredSnapshot};
pub use store::{
    AppendError, Appended, CommittedStream, EventPage, EventStore, ExpectedVersion, Idempotency, StreamWrite,
    MAX_EVENT_BYTES, MAX_NAME_BYTES,
};
pub use written::{recording_appends, Written};
