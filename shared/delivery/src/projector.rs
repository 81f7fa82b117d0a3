//! The version-gated projector runtime. Per stream it keeps the last applied version in a
//! checkpoint item of the read-model table, written in the same transaction as the read-model
//! change. Delivery is a doorbell; the log is the truth: a duplicate is skipped, the next
//! version is applied, and a gap is filled from the event store before going on.

use crate::Projected;
use async_trait::async_trait;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use huddle_eventstore::{AppendError, Envelope, EventStore};
use huddle_ports::table::MAX_TRANSACT_WRITES;
use huddle_ports::{Condition, Key, Table, TableError, TransactWrite};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

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
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error("event store: {0}")]
    EventStore(#[from] AppendError),
    #[error("event store lacks version {version} of {stream}")]
    MissingEvent { stream: String, version: u64 },
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
}

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
}

impl Outcome {
    fn log(self, envelope: &Envelope) {
        let outcome = match self {
            Outcome::Applied => "applied",
            Outcome::Ignored => "ignored",
            Outcome::Duplicate => "duplicate",
            Outcome::Raced => "raced",
        };
        tracing::debug!(
            outcome,
            stream = %envelope.stream,
            version = envelope.version,
            correlation_id = %envelope.correlation_id,
            "event {outcome}"
        );
    }
}

impl Projector {
    pub fn new(projection: Arc<dyn Projection>, read_model: Arc<dyn Table>, events: EventStore) -> Self {
        Self { projection, read_model, events, catch_up_window: CATCH_UP_WINDOW }
    }

    /// Heal gaps reading at most `events` events at a time instead of [`CATCH_UP_WINDOW`].
    pub fn with_catch_up_window(self, events: u64) -> Self {
        Self { catch_up_window: events.max(1), ..self }
    }

    /// The SQS handler: returns every message that could not be applied, so only those are
    /// retried (and, past the queue's receive limit, land in its dead-letter queue).
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut failed = Vec::new();
        let mut by_stream: HashMap<String, Vec<(String, Envelope)>> = HashMap::new();
        for message in event.records {
            let id = message.message_id.unwrap_or_default();
            match message.body.as_deref().map(serde_json::from_str::<Envelope>) {
                Some(Ok(envelope)) => {
                    by_stream.entry(envelope.stream.clone()).or_default().push((id, envelope))
                }
                other => {
                    tracing::error!(message_id = %id, error = ?other.map(|r| r.err()), "undecodable message");
                    failed.push(id);
                }
            }
        }
        let streams = by_stream.into_values().map(|messages| async move {
            let ids: Vec<String> = messages.iter().map(|(id, _)| id.clone()).collect();
            let envelopes = messages.into_iter().map(|(_, envelope)| envelope).collect();
            self.apply_stream(envelopes).await.err().map(|_| ids)
        });
        failed.extend(futures::future::join_all(streams).await.into_iter().flatten().flatten());

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

    /// Bring one stream's projection up to the newest of `envelopes` (all of one stream),
    /// reading whatever is missing from the event store.
    pub async fn apply_stream(&self, envelopes: Vec<Envelope>) -> Result<(), ProjectorError> {
        let Some(first) = envelopes.first() else { return Ok(()) };
        let stream = first.stream.clone();
        let correlation_id = first.correlation_id.clone();
        let mut known: BTreeMap<u64, Envelope> = envelopes.into_iter().map(|e| (e.version, e)).collect();
        let target = *known.keys().next_back().expect("not empty");
        let result = self.catch_up(&stream, target, &mut known).await;
        if let Err(error) = &result {
            tracing::error!(%stream, target, %correlation_id, %error, "projection failed");
        }
        result
    }

    async fn catch_up(
        &self,
        stream: &str,
        target: u64,
        known: &mut BTreeMap<u64, Envelope>,
    ) -> Result<(), ProjectorError> {
        let mut applied = self.checkpoint(stream).await?;
        for duplicate in known.range(..=applied).map(|(_, envelope)| envelope) {
            Outcome::Duplicate.log(duplicate);
        }
        while applied < target {
            let next = applied + 1;
            if !known.contains_key(&next) {
                let window_end = target.min(applied + self.catch_up_window);
                for envelope in self.events.read_stream(stream, next..=window_end).await? {
                    known.insert(envelope.version, envelope);
                }
            }
            let envelope = known
                .get(&next)
                .ok_or_else(|| ProjectorError::MissingEvent { stream: stream.to_owned(), version: next })?;
            match self.apply(envelope, applied).await {
                Ok(outcome) => {
                    outcome.log(envelope);
                    applied = next;
                }
                // Another worker moved the checkpoint first: continue from where it is now.
                Err(ProjectorError::Projection(ProjectionError::Table(TableError::ConditionFailed {
                    index: Some(0),
                }))) => {
                    Outcome::Raced.log(envelope);
                    applied = self.checkpoint(stream).await?;
                }
                Err(other) => return Err(other),
            }
            // What is applied is never needed again: a long catch-up holds one window at most.
            known.retain(|&version, _| version > applied);
        }
        Ok(())
    }

    /// Apply one event whose predecessor is the last applied: its writes and the new checkpoint
    /// in one transaction, conditioned on the checkpoint still being `applied`.
    async fn apply(&self, envelope: &Envelope, applied: u64) -> Result<Outcome, ProjectorError> {
        let projected = self.projection.project(envelope, self.read_model.as_ref()).await?;
        let outcome = if projected.is_empty() { Outcome::Ignored } else { Outcome::Applied };
        let mut writes = projected.writes;
        if writes.len() >= MAX_TRANSACT_WRITES {
            return Err(ProjectionError::Invalid(format!("{} writes for one event", writes.len())).into());
        }
        let key = checkpoint_key(&envelope.stream);
        let mut checkpoint = huddle_ports::Item::new();
        checkpoint.insert("pk".into(), key.pk.into());
        checkpoint.insert("sk".into(), key.sk.into());
        checkpoint.insert("version".into(), json!(envelope.version));
        let condition =
            if applied == 0 { Condition::NotExists } else { Condition::attribute_equals("version", applied) };
        writes.insert(0, TransactWrite::Put { item: checkpoint, condition });
        self.read_model.transact(writes).await?;
        Ok(outcome)
    }

    /// The last version of `stream` this projection applied (0 for none).
    pub async fn checkpoint(&self, stream: &str) -> Result<u64, ProjectorError> {
        let item = self.read_model.get(&checkpoint_key(stream)).await?;
        Ok(item.and_then(|i| i.get("version").and_then(serde_json::Value::as_u64)).unwrap_or(0))
    }
}

fn checkpoint_key(stream: &str) -> Key {
    Key::new(format!("{CHECKPOINT_PREFIX}{stream}"), "checkpoint")
}
