//! The version-gated projector runtime. Per stream it keeps the last applied version in a
//! checkpoint item of the read-model table, written in the same transaction as the read-model
//! change. Delivery is a doorbell; the log is the truth: a duplicate is skipped, the next
//! version is applied, and a gap is filled from the event store before going on. A stream that
//! still fails on its message's last receive is parked (`parking.rs`) instead of dead-lettered:
//! its later events are acknowledged unapplied, and an operator's retry or skip
//! (`operations.rs`) brings it up to its head from the log.

use crate::fan_out_writes::{self, checkpoint_item, checkpoint_key, unleased_condition, FanOutWriter};
use crate::parking::{self, Checkpoint, Parked};
use crate::{Dispatcher, Projected, ReplayTarget, Sinks};
use async_trait::async_trait;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use huddle_eventstore::{decode_personal, sealed_subject, AppendError, Envelope, EventSchema, EventStore};
use huddle_ports::table::MAX_TRANSACT_WRITES;
use huddle_ports::{FilterPolicy, Table, TableError, TransactWrite};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// Checkpoint items live at `pk = CHECKPOINT_PREFIX + stream`, `sk = "checkpoint"`.
pub const CHECKPOINT_PREFIX: &str = "checkpoint#";

/// What a domain plugs into the runtime: the read-model writes one event causes.
#[async_trait]
pub trait Projection: Send + Sync {
    /// What `event` causes, read-model state read from `read_model` as needed. Events the
    /// projection does not care about yield [`Projected::nothing`] (their version is still
    /// recorded).
    async fn project(&self, event: &Envelope, read_model: &dyn Table) -> Result<Projected, ProjectionError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("read model: {0}")]
    Table(#[from] TableError),
    #[error("cannot project event: {0}")]
    Invalid(String),
    /// Reading the event store (a data subject's key) failed.
    #[error("event store: {0}")]
    EventStore(#[from] AppendError),
    /// The blob store failed (an erasure deleting an account's files).
    #[error("blob store: {0}")]
    Blobs(#[from] huddle_ports::BlobError),
}

/// `event` as a projection reads it: typed, its sealed fields opened with its data subject's key
/// (read from `events`); `None` when the key is gone, so the subject was erased since and its
/// personal data must not come back (a replay then projects nothing of it).
pub async fn open_personal<E: EventSchema>(
    events: &EventStore,
    event: &Envelope,
) -> Result<Option<E>, ProjectionError> {
    let key = match sealed_subject(event) {
        Some(subject) => events.subject_key(subject).await?,
        None => None,
    };
    decode_personal::<E>(event, key.as_ref()).map_err(|e| ProjectionError::Invalid(e.to_string()))
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error("event store: {0}")]
    EventStore(#[from] AppendError),
    #[error("event store lacks version {version} of {stream}")]
    MissingEvent { stream: String, version: u64 },
    #[error("cannot park the stream: {0}")]
    Unparkable(String),
    /// Another worker is writing this event's fan-out (a duplicate delivery); retried later.
    #[error("another worker holds the fan-out lease of {stream}")]
    Leased { stream: String },
    /// The fan-out took longer than half its lease; the lease expires and the message is retried.
    #[error("fan-out of {stream} unfinished after {after:?}")]
    FanOutOverran { stream: String, after: Duration },
}

impl From<TableError> for ProjectorError {
    fn from(error: TableError) -> Self {
        ProjectorError::Projection(ProjectionError::Table(error))
    }
}

/// A function fed by an SQS queue, reporting partial batch failures.
#[async_trait]
pub trait SqsHandler: Send + Sync {
    async fn handle(&self, event: SqsEvent) -> SqsBatchResponse;
}

/// The answer of an [`SqsHandler`] whose messages `failed` (by message id) are to come back.
pub fn batch_failures(failed: impl IntoIterator<Item = String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

#[async_trait]
impl SqsHandler for Projector {
    async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        Projector::handle(self, event).await
    }
}

/// The most events one read of the event store brings while healing a gap: each window is
/// applied (its checkpoints committed) before the next is read, so a long gap makes progress on
/// every delivery even if the delivery ends before the gap is closed.
pub const CATCH_UP_WINDOW: u64 = 200;

#[derive(Clone)]
pub struct Projector {
    projection: Arc<dyn Projection>,
    read_model: Arc<dyn Table>,
    events: EventStore,
    catch_up_window: u64,
    /// The queue's redrive limit: a stream failing on a message's receive number this high is
    /// parked. `None`: never park (the message goes to the dead-letter queue).
    max_receives: Option<u32>,
    /// Records the effects of each event in its transaction and performs them after.
    dispatcher: Dispatcher,
    fan_out: FanOutWriter,
}

/// The SQS attribute that counts a message's receives, this one included.
const RECEIVE_COUNT: &str = "ApproximateReceiveCount";

/// What the projector did with one event, as its log line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Its writes and checkpoint committed.
    Applied,
    /// Its checkpoint committed; the projection had nothing to write for it.
    Ignored,
    /// Delivered again after it was applied.
    Duplicate,
    /// Another worker applied it first.
    Raced,
    /// Acknowledged unapplied: its stream is parked behind an earlier version.
    Parked,
}

impl Outcome {
    fn log(self, envelope: &Envelope) {
        let outcome = match self {
            Outcome::Applied => "applied",
            Outcome::Ignored => "ignored",
            Outcome::Duplicate => "duplicate",
            Outcome::Raced => "raced",
            Outcome::Parked => "parked",
        };
        let (stream, version, correlation_id) =
            (&envelope.stream, envelope.version, &envelope.correlation_id);
        // A parked stream needs an operator, so it shows at the levels production runs at.
        if self == Outcome::Parked {
            tracing::warn!(outcome, %stream, version, %correlation_id, "event {outcome}");
        } else {
            tracing::debug!(outcome, %stream, version, %correlation_id, "event {outcome}");
        }
    }
}

/// Where bringing a stream up to date stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reached {
    /// Applied up to the target.
    Target,
    /// The stream is parked; nothing past its checkpoint was applied.
    Parked,
}

/// Why a stream could not be brought up to date, and where.
#[derive(Debug)]
pub(crate) struct Stuck {
    pub stream: String,
    /// The version that could not be applied; `None` when the checkpoint itself was unreadable.
    pub version: Option<u64>,
    /// That event's id and correlation id, when it was read.
    pub event: Option<(String, String)>,
    pub error: ProjectorError,
}

impl Stuck {
    fn at(stream: &str, version: u64, envelope: Option<&Envelope>, error: impl Into<ProjectorError>) -> Self {
        let event = envelope.map(|e| (e.event_id.to_string(), e.correlation_id.clone()));
        Self { stream: stream.to_owned(), version: Some(version), event, error: error.into() }
    }

    /// Stuck before knowing which version comes next.
    fn unreadable(stream: &str, error: impl Into<ProjectorError>) -> Self {
        Self { stream: stream.to_owned(), version: None, event: None, error: error.into() }
    }
}

/// One decoded message of a batch.
struct Delivered {
    message_id: String,
    envelope: Envelope,
    receive_count: u32,
}

impl Projector {
    pub fn new(projection: Arc<dyn Projection>, read_model: Arc<dyn Table>, events: EventStore) -> Self {
        let dispatcher = Dispatcher::new(read_model.clone(), Sinks::new());
        Self {
            projection,
            read_model,
            events,
            catch_up_window: CATCH_UP_WINDOW,
            max_receives: None,
            dispatcher,
            fan_out: FanOutWriter::default(),
        }
    }

    /// Hold a stream's fan-out lease for `lease` instead of [`FAN_OUT_LEASE`](crate::FAN_OUT_LEASE):
    /// longer than the function's timeout, and shorter than the queue's visibility timeout
    /// times its receive limit, or a crashed holder's stream reaches the dead-letter queue.
    pub fn with_fan_out_lease(self, lease: Duration) -> Self {
        Self { fan_out: FanOutWriter { lease, ..self.fan_out }, ..self }
    }

    /// Keep at most `batches` of one event's fan-out in flight instead of
    /// [`BATCHES_IN_FLIGHT`](crate::BATCHES_IN_FLIGHT).
    pub fn with_batches_in_flight(self, batches: usize) -> Self {
        Self { fan_out: FanOutWriter { batches_in_flight: batches.max(1), ..self.fan_out }, ..self }
    }

    /// Park a stream that still fails on receive number `max_receives` of a message (the queue's
    /// redrive limit, after which the message would move to the dead-letter queue).
    pub fn with_max_receives(self, max_receives: u32) -> Self {
        Self { max_receives: Some(max_receives.max(1)), ..self }
    }

    pub(crate) fn read_model(&self) -> &dyn Table {
        self.read_model.as_ref()
    }

    /// What a replay of this projector's projection rebuilds, fed by the subscription `consumes`.
    pub(crate) fn replay_target(&self, consumes: FilterPolicy) -> ReplayTarget {
        ReplayTarget {
            projection: self.projection.clone(),
            read_model: self.read_model.clone(),
            events: self.events.clone(),
            consumes,
        }
    }

    /// Send the projection's effects to `sinks` (without any, an effect is a projection error).
    pub fn with_sinks(self, sinks: Sinks) -> Self {
        Self { dispatcher: self.dispatcher.with_sinks(sinks), ..self }
    }

    /// Record effects as muted and send none: for replays.
    pub fn with_effects_muted(self) -> Self {
        Self { dispatcher: self.dispatcher.muted(), ..self }
    }

    /// The dispatcher of this projector's outbox, for a periodic [`Dispatcher::drain`].
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    /// Heal gaps reading at most `events` events at a time instead of [`CATCH_UP_WINDOW`].
    pub fn with_catch_up_window(self, events: u64) -> Self {
        Self { catch_up_window: events.max(1), ..self }
    }

    /// The SQS handler: returns every message that could not be applied, so only those are
    /// retried. A stream failing on a message's last receive is parked and its messages
    /// acknowledged, so nothing of it reaches the dead-letter queue.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        // Effects an earlier invocation committed but could not send go first.
        self.dispatcher.drain_or_log().await;
        let mut failed = Vec::new();
        let mut by_stream: HashMap<String, Vec<Delivered>> = HashMap::new();
        for message in event.records {
            let message_id = message.message_id.unwrap_or_default();
            let receive_count =
                message.attributes.get(RECEIVE_COUNT).and_then(|n| n.parse().ok()).unwrap_or(1);
            match message.body.as_deref().map(serde_json::from_str::<Envelope>) {
                Some(Ok(envelope)) => by_stream.entry(envelope.stream.clone()).or_default().push(Delivered {
                    message_id,
                    envelope,
                    receive_count,
                }),
                other => {
                    tracing::error!(%message_id, error = ?other.map(|r| r.err()), "undecodable message");
                    failed.push(message_id);
                }
            }
        }
        let streams = by_stream.into_values().map(|messages| self.handle_stream(messages));
        failed.extend(futures::future::join_all(streams).await.into_iter().flatten());
        batch_failures(failed)
    }

    /// The messages of one stream that failed (all of them, or none).
    async fn handle_stream(&self, messages: Vec<Delivered>) -> Vec<String> {
        let last_receive = messages.iter().map(|m| m.receive_count).max().unwrap_or(1);
        let ids: Vec<String> = messages.iter().map(|m| m.message_id.clone()).collect();
        let Err(stuck) = self.bring_up(messages.into_iter().map(|m| m.envelope).collect()).await else {
            return Vec::new();
        };
        if self.max_receives.is_none_or(|max| last_receive < max) {
            return ids;
        }
        match self.park(&stuck).await {
            Ok(()) => Vec::new(),
            Err(error) => {
                tracing::error!(%error, "cannot park the stream; its messages go on to the dead-letter queue");
                ids
            }
        }
    }

    /// Bring one stream's projection up to the newest of `envelopes` (all of one stream),
    /// reading whatever is missing from the event store. A parked stream is left as it is.
    pub async fn apply_stream(&self, envelopes: Vec<Envelope>) -> Result<(), ProjectorError> {
        self.bring_up(envelopes).await.map(|_| ()).map_err(|stuck| stuck.error)
    }

    async fn bring_up(&self, envelopes: Vec<Envelope>) -> Result<Reached, Stuck> {
        let Some(first) = envelopes.first() else { return Ok(Reached::Target) };
        let stream = first.stream.clone();
        let correlation_id = first.correlation_id.clone();
        let mut known: BTreeMap<u64, Envelope> = envelopes.into_iter().map(|e| (e.version, e)).collect();
        let target = *known.keys().next_back().expect("not empty");
        self.catch_up(&stream, target, &mut known).await.inspect_err(|stuck| {
            tracing::error!(%stream, target, %correlation_id, error = %stuck.error, "projection failed");
        })
    }

    /// Bring `stream` up to its head in the log (an operator's retry or skip).
    pub(crate) async fn catch_up_to_head(&self, stream: &str) -> Result<Reached, Stuck> {
        let head = self.events.head(stream).await.map_err(|error| Stuck::unreadable(stream, error))?;
        self.catch_up(stream, head, &mut BTreeMap::new()).await
    }

    async fn catch_up(
        &self,
        stream: &str,
        target: u64,
        known: &mut BTreeMap<u64, Envelope>,
    ) -> Result<Reached, Stuck> {
        let unreadable = |error| Stuck::unreadable(stream, error);
        let checkpoint = self.read_checkpoint(stream).await.map_err(unreadable)?;
        let mut applied = checkpoint.version;
        for duplicate in known.range(..=applied).map(|(_, envelope)| envelope) {
            Outcome::Duplicate.log(duplicate);
        }
        if checkpoint.parked.is_some() {
            return Ok(wait_behind_park(known, applied));
        }
        while applied < target {
            let next = applied + 1;
            if !known.contains_key(&next) {
                let window_end = target.min(applied + self.catch_up_window);
                let window = self
                    .events
                    .read_stream(stream, next..=window_end)
                    .await
                    .map_err(|e| Stuck::at(stream, next, None, e))?;
                for envelope in window {
                    known.insert(envelope.version, envelope);
                }
            }
            let envelope = known.get(&next).ok_or_else(|| {
                Stuck::at(
                    stream,
                    next,
                    None,
                    ProjectorError::MissingEvent { stream: stream.to_owned(), version: next },
                )
            })?;
            match self.apply(envelope, applied).await {
                Ok(outcome) => {
                    outcome.log(envelope);
                    applied = next;
                }
                // Another worker moved the checkpoint first (or parked the stream): continue
                // from where it is now.
                Err(ProjectorError::Projection(ProjectionError::Table(TableError::ConditionFailed {
                    index: Some(0),
                }))) => {
                    Outcome::Raced.log(envelope);
                    let now = self.read_checkpoint(stream).await.map_err(unreadable)?;
                    if now.parked.is_some() {
                        return Ok(wait_behind_park(known, now.version));
                    }
                    applied = now.version;
                }
                Err(other) => return Err(Stuck::at(stream, next, Some(envelope), other)),
            }
            // What is applied is never needed again: a long catch-up holds one window at most.
            known.retain(|&version, _| version > applied);
        }
        Ok(Reached::Target)
    }

    /// Record that `stuck`'s stream is parked at the version that failed. Another worker having
    /// parked or applied it first is as good.
    pub(crate) async fn park(&self, stuck: &Stuck) -> Result<(), ProjectorError> {
        let Stuck { stream, version, event, error } = stuck;
        let Some(version) = *version else {
            return Err(ProjectorError::Unparkable(error.to_string()));
        };
        let parked = Parked::new(version, error, event.clone(), time::OffsetDateTime::now_utc());
        match self.read_model.transact(parking::park(stream, &parked)).await {
            Ok(()) => {}
            Err(TableError::ConditionFailed { index: Some(0) }) => {
                let now = self.read_checkpoint(stream).await?;
                if now.parked.is_none() && now.version < version {
                    return Err(ProjectorError::Unparkable(format!(
                        "the checkpoint of {stream} moved to {}",
                        now.version
                    )));
                }
            }
            Err(other) => return Err(other.into()),
        }
        tracing::error!(
            %stream,
            version,
            correlation_id = parked.correlation_id.as_deref().unwrap_or(""),
            error = %parked.error,
            "stream parked"
        );
        Ok(())
    }

    /// Apply one event whose predecessor is the last applied: its fan-out writes first, under the
    /// stream's lease (see [`fan_out_writes`]), then its writes and the new checkpoint in one
    /// transaction, conditioned on the checkpoint still being `applied` (or on the lease).
    async fn apply(&self, envelope: &Envelope, applied: u64) -> Result<Outcome, ProjectorError> {
        let projected = self.projection.project(envelope, self.read_model.as_ref()).await?;
        let outcome = if projected.is_empty() { Outcome::Ignored } else { Outcome::Applied };
        let Projected { mut writes, fan_out, effects } = projected;
        let outbox = self.dispatcher.outbox(envelope, effects)?;
        if writes.len() + outbox.writes() >= MAX_TRANSACT_WRITES {
            let count = writes.len() + outbox.writes();
            return Err(ProjectionError::Invalid(format!("{count} writes for one event")).into());
        }
        let stream = envelope.stream.as_str();
        let read_model = self.read_model.as_ref();
        let lease = match fan_out {
            fan_out if fan_out.is_empty() => None,
            fan_out => Some(self.fan_out.write(read_model, stream, applied, fan_out).await?),
        };
        let condition = lease.as_ref().map_or_else(|| unleased_condition(applied), |lease| lease.condition());
        writes.insert(0, TransactWrite::Put { item: checkpoint_item(stream, envelope.version), condition });
        match self.dispatcher.commit(writes, outbox).await {
            Ok(pending) => {
                self.dispatcher.perform_all(pending).await;
                Ok(outcome)
            }
            Err(TableError::ConditionFailed { index: Some(0) }) => {
                Err(fan_out_writes::contended(read_model, stream, applied).await)
            }
            Err(error) => {
                if let Some(lease) = &lease {
                    fan_out_writes::release(read_model, stream, applied, lease).await;
                }
                Err(error.into())
            }
        }
    }

    /// The last version of `stream` this projection applied (0 for none).
    pub async fn checkpoint(&self, stream: &str) -> Result<u64, ProjectorError> {
        Ok(self.read_checkpoint(stream).await?.version)
    }

    pub(crate) async fn read_checkpoint(&self, stream: &str) -> Result<Checkpoint, ProjectorError> {
        Ok(Checkpoint::from_item(self.read_model.get(&checkpoint_key(stream)).await?.as_ref()))
    }
}

/// The last version of `stream` the projection on `read_model` applied (0 for none): what a
/// query waits on to see a write of its own.
pub async fn applied_version(read_model: &dyn Table, stream: &str) -> Result<u64, TableError> {
    Ok(Checkpoint::from_item(read_model.get(&checkpoint_key(stream)).await?.as_ref()).version)
}

/// Later events of a parked stream wait in the log, where its unparking finds them.
fn wait_behind_park(known: &BTreeMap<u64, Envelope>, applied: u64) -> Reached {
    for waiting in known.range(applied + 1..).map(|(_, envelope)| envelope) {
        Outcome::Parked.log(waiting);
    }
    Reached::Parked
}
