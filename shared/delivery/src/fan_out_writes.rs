//! Fan-out writes: the items an event puts into (or deletes from) many other partitions, too many
//! for its transaction. They are written in batches before the event's transaction, under a
//! lease on the stream held in its checkpoint item, so that of two workers handling one event
//! only the lease holder writes, and its writes have all landed before the checkpoint advances
//! (and so before any later event of the stream can replace or delete them).
//!
//! The checkpoint item `checkpoint#<stream>/checkpoint` holds `version` (the last applied) and,
//! while a fan-out is being written, `lease` (the holder's token) and `lease_until` (Unix ms).
//! * Taking the lease is a conditional put: `version` is still the previous one, the stream is
//!   not parked, and no lease is held or it has expired.
//! * The event's transaction puts the new checkpoint (without a lease) conditioned on `lease`
//!   still being the holder's token.
//! * An event without fan-out writes commits as before, conditioned on the version, on no park
//!   and on no unexpired lease: no extra request, and no commit under another worker's fan-out.
//! * A park rewrites the checkpoint without the lease, so a holder's commit fails on it too.
//! * A holder that fails after every batch it sent has finished gives the lease back; one that
//!   crashes leaves it to expire. A holder stops writing at half its lease, so its last writes
//!   land long before anyone else can take the lease, whatever the function's timeout.

use crate::parking::{self, Checkpoint};
use crate::projector::CHECKPOINT_PREFIX;
use crate::{FanOutWrite, ProjectionError, ProjectorError};
use futures::StreamExt;
use huddle_ports::table::MAX_BATCH_WRITES;
use huddle_ports::{Condition, Item, Key, Table, TableError};
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a fan-out lease lasts unless configured: twice the projector functions' 30 s
/// timeout in template.yaml, so a holder killed by its timeout never overlaps the next one. A
/// crashed holder's stream waits this long (within the queue's 180 s visibility timeout).
pub const FAN_OUT_LEASE: Duration = Duration::from_secs(60);

/// How many batches of one event's fan-out are written at once unless configured.
pub const BATCHES_IN_FLIGHT: usize = 8;

const LEASE: &str = "lease";
const LEASE_UNTIL: &str = "lease_until";
const VERSION: &str = "version";

/// How a projector writes fan-out: the lease it takes and the batches it keeps in flight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FanOutWriter {
    pub lease: Duration,
    pub batches_in_flight: usize,
}

impl Default for FanOutWriter {
    fn default() -> Self {
        Self { lease: FAN_OUT_LEASE, batches_in_flight: BATCHES_IN_FLIGHT }
    }
}

/// A lease on a stream's fan-out, held until the event's transaction commits.
pub(crate) struct Lease {
    token: String,
}

impl Lease {
    /// The condition of the event's checkpoint put: the lease is still this holder's.
    pub fn condition(&self) -> Condition {
        Condition::attribute_equals(LEASE, self.token.as_str())
    }
}

/// The condition of a checkpoint put that follows `applied` without a lease of its own (and of
/// taking the lease): the stream is also not parked.
pub(crate) fn unleased_condition(applied: u64) -> Condition {
    Condition::All(vec![version_is(applied), lease_free(), parking::not_parked()])
}

impl FanOutWriter {
    /// Takes the stream's lease and writes every one of `writes`; `Ok` means all have landed
    /// and the lease is held for the event's transaction.
    pub async fn write(
        &self,
        read_model: &dyn Table,
        stream: &str,
        applied: u64,
        writes: Vec<FanOutWrite>,
    ) -> Result<Lease, ProjectorError> {
        refuse_repeated_keys(&writes)?;
        let lease = Lease { token: ulid::Ulid::new().to_string() };
        let lease_until = now_ms().saturating_add(self.lease.as_millis() as i64);
        let mut leased = checkpoint_item(stream, applied);
        leased.insert(LEASE.into(), lease.token.as_str().into());
        leased.insert(LEASE_UNTIL.into(), lease_until.into());
        match read_model.put(leased, unleased_condition(applied)).await {
            Err(TableError::ConditionFailed { .. }) => {
                return Err(contended(read_model, stream, applied).await)
            }
            other => other?,
        }
        tracing::debug!(%stream, applied, writes = writes.len(), "fan-out lease taken");
        match tokio::time::timeout(self.lease / 2, self.write_batches(read_model, writes)).await {
            Ok(Ok(())) => Ok(lease),
            Ok(Err(error)) => {
                // Every batch sent has finished: nothing of ours lands after the release.
                release(read_model, stream, applied, &lease).await;
                Err(error.into())
            }
            // Batches may still be in flight: the lease expires instead of being released.
            Err(_) => Err(ProjectorError::FanOutOverran { stream: stream.to_owned(), after: self.lease / 2 }),
        }
    }

    /// Writes `writes` in batches, at most `batches_in_flight` at once. After a failure no new
    /// batch starts, but those already sent are waited for; the first error is returned.
    async fn write_batches(
        &self,
        read_model: &dyn Table,
        writes: Vec<FanOutWrite>,
    ) -> Result<(), TableError> {
        let failed = AtomicBool::new(false);
        let mut remaining = writes.into_iter();
        let batches = std::iter::from_fn(|| {
            let batch: Vec<_> = remaining.by_ref().take(MAX_BATCH_WRITES).collect();
            (!batch.is_empty()).then_some(batch)
        });
        let failed = &failed;
        let results: Vec<_> = futures::stream::iter(batches)
            .map(|batch| async move {
                if failed.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let result = read_model.batch_write(batch).await;
                if result.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                result
            })
            .buffer_unordered(self.batches_in_flight.max(1))
            .collect()
            .await;
        results.into_iter().find(Result::is_err).unwrap_or(Ok(()))
    }
}

/// Two writes of one event to one key would leave whichever landed last: refused as a
/// projection bug rather than left to chance.
fn refuse_repeated_keys(writes: &[FanOutWrite]) -> Result<(), ProjectionError> {
    let mut keys = HashSet::with_capacity(writes.len());
    for write in writes {
        let key = write
            .key()
            .ok_or_else(|| ProjectionError::Invalid("fan-out item without string pk and sk".into()))?;
        if !keys.insert(key) {
            return Err(ProjectionError::Invalid(
                "two fan-out writes of one event touch the same key".into(),
            ));
        }
    }
    Ok(())
}

/// Gives the lease back (the checkpoint stays at `applied`), so a redelivery need not wait for it
/// to expire; a failure to release is logged, and the lease expires instead.
pub(crate) async fn release(read_model: &dyn Table, stream: &str, applied: u64, lease: &Lease) {
    if let Err(error) = read_model.put(checkpoint_item(stream, applied), lease.condition()).await {
        tracing::warn!(%stream, applied, %error, "fan-out lease not released; it expires instead");
    }
}

/// What a checkpoint condition that failed means: if the checkpoint moved past `applied` or the
/// stream was parked, another worker got there first (the error the projector reads as raced,
/// and reads the checkpoint again); if not, another worker holds the stream's lease, and the
/// message is retried later.
pub(crate) async fn contended(read_model: &dyn Table, stream: &str, applied: u64) -> ProjectorError {
    let checkpoint = match read_model.get(&checkpoint_key(stream)).await {
        Ok(item) => Checkpoint::from_item(item.as_ref()),
        Err(error) => return error.into(),
    };
    if checkpoint.version > applied || checkpoint.parked.is_some() {
        TableError::ConditionFailed { index: Some(0) }.into()
    } else {
        ProjectorError::Leased { stream: stream.to_owned() }
    }
}

pub(crate) fn checkpoint_key(stream: &str) -> Key {
    Key::new(format!("{CHECKPOINT_PREFIX}{stream}"), "checkpoint")
}

/// The checkpoint of `stream` at `version`, holding no lease.
pub(crate) fn checkpoint_item(stream: &str, version: u64) -> Item {
    let key = checkpoint_key(stream);
    let mut checkpoint = Item::new();
    checkpoint.insert("pk".into(), key.pk.into());
    checkpoint.insert("sk".into(), key.sk.into());
    checkpoint.insert(VERSION.into(), json!(version));
    checkpoint
}

/// The checkpoint is at `applied` (none, or a lease taken before anything was applied, at 0).
fn version_is(applied: u64) -> Condition {
    if applied == 0 {
        Condition::AttributeAbsentOrEquals { name: VERSION.into(), value: json!(0) }
    } else {
        Condition::attribute_equals(VERSION, applied)
    }
}

/// No lease is held, or the one held has expired.
fn lease_free() -> Condition {
    Condition::AttributeAbsentOrBelow { name: LEASE_UNTIL.into(), value: now_ms() }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64)
}
