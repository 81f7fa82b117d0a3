//! What an operator does about one domain's delivery failures, on ports only: list the parked
//! streams and the dead-letter queue's messages, retry them all, or skip a parked stream's
//! poison event with a recorded reason. `huddle dead-letters` and the domain binary's `operator`
//! role both run these; [`Operation`] is the request either hands over.

use crate::parking::{self, Parked, Skip, PARKED_INDEX};
use crate::projector::{Projector, ProjectorError, Reached, Stuck};
use crate::replay::{replay, Progress, ReplayError, ReplayOptions, ReplayTarget};
use huddle_eventstore::Envelope;
use huddle_ports::queue::MAX_QUEUE_BATCH;
use huddle_ports::{FilterPolicy, Query, Queue, QueueError, ReceivedMessage, TableError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// How long a dead-lettered message stays hidden while it is listed or redriven; a listing
/// makes every message it saw visible again at once when it ends.
const HOLD: Duration = Duration::from_secs(60);

/// How long a receive of the dead-letter queue waits for a first message: SQS's short poll may
/// miss messages, a long poll answers as soon as one is there.
const RECEIVE_WAIT: Duration = Duration::from_secs(1);

/// The most dead-lettered messages one listing shows (a retry redrives them all).
pub const MAX_LISTED: usize = 1000;

/// The longest skip reason kept.
pub const MAX_REASON_CHARS: usize = 1000;

/// An operator's request, as the `operator` role receives it in JSON
/// (`{"operation": "skip", "stream": …, "version": …, "reason": …}`). A new operation is a new
/// variant and its arm in [`Operations::run`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "operation", rename_all = "kebab-case")]
pub enum Operation {
    /// List the parked streams and the dead-letter queue's messages.
    DeadLetters,
    /// Unpark every parked stream and redrive every dead-lettered message.
    Retry,
    /// Move a parked stream past its poison event, recording why and who decided.
    Skip { stream: String, version: u64, reason: String, by: Option<String> },
    /// Rebuild (`rebuild: true`) or first populate the read model from the log, as
    /// `huddle replay` does, effects muted. A replay the function's timeout cuts short resumes
    /// where it stopped on the next invocation.
    Replay {
        #[serde(default)]
        rebuild: bool,
        /// Parallel scan segments (default [`REPLAY_SEGMENTS`]).
        segments: Option<u32>,
    },
}

/// The operator role's parallel scan segments when a replay request names none.
pub const REPLAY_SEGMENTS: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    #[error("{0}")]
    Invalid(String),
    #[error("{stream} is not parked")]
    NotParked { stream: String },
    #[error("{stream} is parked at version {parked}, not {asked}: only the parked version can be skipped")]
    NotTheParkedVersion { stream: String, parked: u64, asked: u64 },
    #[error(transparent)]
    Projector(#[from] ProjectorError),
    #[error("dead-letter queue: {0}")]
    Queue(#[from] QueueError),
    #[error("replay: {0}")]
    Replay(#[from] ReplayError),
}

impl From<TableError> for OperationError {
    fn from(error: TableError) -> Self {
        OperationError::Projector(error.into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParkedStream {
    pub stream: String,
    #[serde(flatten)]
    pub parked: Parked,
}

/// A dead-lettered message as listed: what its envelope says, never its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    pub message_id: String,
    /// `None` when the body is no envelope.
    pub stream: Option<String>,
    pub version: Option<u64>,
    pub event_type: Option<String>,
    pub correlation_id: Option<String>,
    pub receive_count: u32,
}

impl DeadLetter {
    fn of(message: &ReceivedMessage, envelope: Option<&Envelope>) -> Self {
        Self {
            message_id: message.message_id.clone(),
            stream: envelope.map(|e| e.stream.clone()),
            version: envelope.map(|e| e.version),
            event_type: envelope.map(|e| e.event_type.clone()),
            correlation_id: envelope.map(|e| e.correlation_id.clone()),
            receive_count: message.receive_count,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    pub parked: Vec<ParkedStream>,
    pub dead_letters: Vec<DeadLetter>,
}

/// Where a stream ended after it was unparked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StreamRetry {
    /// Applied up to its head.
    CaughtUp { stream: String, version: u64 },
    /// An event failed again: the stream is parked at it.
    ParkedAgain(ParkedStream),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedRedrive {
    #[serde(flatten)]
    pub message: DeadLetter,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryReport {
    pub streams: Vec<StreamRetry>,
    /// Dead-lettered messages applied and deleted from the queue.
    pub redriven: usize,
    /// Messages that failed again and stay in the dead-letter queue.
    pub still_dead: Vec<FailedRedrive>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkipReport {
    pub skip: Skip,
    pub stream: StreamRetry,
}

/// One domain's operations: its projector (on its read table and the event store) and its
/// queue's dead-letter queue.
pub struct Operations {
    projector: Projector,
    dead_letters: Arc<dyn Queue>,
    replay: ReplayTarget,
}

impl Operations {
    /// The operations on one domain: its `projector` (parked streams, and the projection a
    /// replay rebuilds), its queue's `dead_letters`, and its subscription `consumes`.
    pub fn new(projector: Projector, dead_letters: Arc<dyn Queue>, consumes: FilterPolicy) -> Self {
        let replay = projector.replay_target(consumes);
        Self { projector, dead_letters, replay }
    }

    /// Run `operation`; `operator` names who asked, unless the request names someone.
    pub async fn run(
        &self,
        operation: Operation,
        operator: &str,
    ) -> Result<serde_json::Value, OperationError> {
        let report = match operation {
            Operation::DeadLetters => serde_json::to_value(self.list().await?),
            Operation::Retry => serde_json::to_value(self.retry().await?),
            Operation::Skip { stream, version, reason, by } => serde_json::to_value(
                self.skip(&stream, version, &reason, by.as_deref().unwrap_or(operator)).await?,
            ),
            Operation::Replay { rebuild, segments } => {
                let options = ReplayOptions {
                    rebuild,
                    segments: segments.unwrap_or(REPLAY_SEGMENTS),
                    ..ReplayOptions::default()
                };
                let summary = replay(self.replay.clone(), options, |_: &Progress| {}).await?;
                Ok(serde_json::json!({
                    "visited": summary.visited,
                    "applied": summary.applied,
                    "streams": summary.streams,
                    "segments": summary.segments,
                    "resumed": summary.resumed,
                    "seconds": summary.elapsed.as_secs_f64(),
                }))
            }
        };
        Ok(report.expect("reports are plain structs with string keys"))
    }

    /// The parked streams and (up to [`MAX_LISTED`] of) the dead-letter queue's messages, which
    /// stay in the queue.
    pub async fn list(&self) -> Result<Listing, OperationError> {
        let mut parked = Vec::new();
        for stream in self.indexed_streams().await? {
            if let Some(record) = self.projector.read_checkpoint(&stream).await?.parked {
                parked.push(ParkedStream { stream, parked: record });
            }
        }
        let mut seen = Vec::new();
        let received = self.receive_unseen(&mut seen, MAX_LISTED).await;
        let released = self.release(&seen).await;
        let dead_letters = received?.iter().map(|m| DeadLetter::of(m, envelope_of(m).as_ref())).collect();
        released?;
        Ok(Listing { parked, dead_letters })
    }

    /// Unpark every parked stream and bring it up to its head, then apply every dead-lettered
    /// message and delete it from the queue. What fails again is parked again, or stays in the
    /// queue, and is reported.
    pub async fn retry(&self) -> Result<RetryReport, OperationError> {
        let read_model = self.projector.read_model();
        let mut streams = Vec::new();
        for stream in self.indexed_streams().await? {
            let Some(parked) = self.projector.read_checkpoint(&stream).await?.parked else {
                read_model.transact(vec![parking::forget_index_entry(&stream)]).await?;
                streams.push(self.resume(&stream).await?);
                continue;
            };
            match read_model.transact(parking::unpark(&stream, parked.version)).await {
                Ok(()) => streams.push(self.resume(&stream).await?),
                // Another operator unparked or skipped it meanwhile.
                Err(TableError::ConditionFailed { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        let (redriven, still_dead) = self.redrive().await?;
        Ok(RetryReport { streams, redriven, still_dead })
    }

    /// Skip version `version` of `stream`, which must be the version it is parked at: the skip is
    /// recorded (with `reason` and `by`), the checkpoint moved past it and the stream caught up.
    pub async fn skip(
        &self,
        stream: &str,
        version: u64,
        reason: &str,
        by: &str,
    ) -> Result<SkipReport, OperationError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(OperationError::Invalid(format!(
                "a skip needs a reason of 1 to {MAX_REASON_CHARS} characters"
            )));
        }
        if by.trim().is_empty() {
            return Err(OperationError::Invalid("a skip names who decided it".into()));
        }
        let not_parked = || OperationError::NotParked { stream: stream.to_owned() };
        let parked = self.projector.read_checkpoint(stream).await?.parked.ok_or_else(not_parked)?;
        if parked.version != version {
            return Err(OperationError::NotTheParkedVersion {
                stream: stream.to_owned(),
                parked: parked.version,
                asked: version,
            });
        }
        let skip = Skip {
            stream: stream.to_owned(),
            version,
            reason: reason.to_owned(),
            by: by.trim().to_owned(),
            at: parking::rfc3339(time::OffsetDateTime::now_utc()),
        };
        match self.projector.read_model().transact(parking::skip(&skip)).await {
            Ok(()) => {}
            Err(TableError::ConditionFailed { .. }) => return Err(not_parked()),
            Err(other) => return Err(other.into()),
        }
        tracing::warn!(%stream, version, "parked event skipped by an operator");
        Ok(SkipReport { stream: self.resume(stream).await?, skip })
    }

    /// The streams the parked index names, page by page.
    async fn indexed_streams(&self) -> Result<Vec<String>, OperationError> {
        let mut streams = Vec::new();
        let mut after = None;
        loop {
            let page = self.projector.read_model().query(&Query::new(PARKED_INDEX).after(after)).await?;
            streams.extend(page.items.iter().filter_map(|item| item.get("sk")?.as_str().map(str::to_owned)));
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(streams),
            }
        }
    }

    /// Bring an unparked stream up to its head, parking it again where it fails.
    async fn resume(&self, stream: &str) -> Result<StreamRetry, OperationError> {
        match self.projector.catch_up_to_head(stream).await {
            Ok(Reached::Target) => Ok(StreamRetry::CaughtUp {
                stream: stream.to_owned(),
                version: self.projector.checkpoint(stream).await?,
            }),
            // A live delivery parked it again meanwhile.
            Ok(Reached::Parked) => self.parked_again(stream).await,
            Err(stuck) => {
                let Stuck { ref error, .. } = stuck;
                tracing::error!(%stream, %error, "retry failed");
                self.projector.park(&stuck).await?;
                self.parked_again(stream).await
            }
        }
    }

    async fn parked_again(&self, stream: &str) -> Result<StreamRetry, OperationError> {
        let checkpoint = self.projector.read_checkpoint(stream).await?;
        Ok(match checkpoint.parked {
            Some(parked) => StreamRetry::ParkedAgain(ParkedStream { stream: stream.to_owned(), parked }),
            None => StreamRetry::CaughtUp { stream: stream.to_owned(), version: checkpoint.version },
        })
    }

    /// Apply the dead-letter queue's messages stream by stream, deleting each applied one; the
    /// ones that fail again are made visible again when the redrive ends.
    async fn redrive(&self) -> Result<(usize, Vec<FailedRedrive>), OperationError> {
        let mut seen = Vec::new();
        let mut redriven = 0;
        let mut failed: Vec<(ReceivedMessage, String)> = Vec::new();
        let outcome = async {
            loop {
                let batch = self.receive_unseen(&mut seen, MAX_QUEUE_BATCH).await?;
                if batch.is_empty() {
                    return Ok::<_, OperationError>(());
                }
                let mut by_stream: BTreeMap<String, Vec<(ReceivedMessage, Envelope)>> = BTreeMap::new();
                for message in batch {
                    match envelope_of(&message) {
                        Some(envelope) => {
                            by_stream.entry(envelope.stream.clone()).or_default().push((message, envelope))
                        }
                        None => failed.push((message, "the body is no event envelope".into())),
                    }
                }
                for messages in by_stream.into_values() {
                    let envelopes = messages.iter().map(|(_, envelope)| envelope.clone()).collect();
                    match self.projector.apply_stream(envelopes).await {
                        Ok(()) => {
                            for (message, _) in &messages {
                                self.dead_letters.delete(&message.receipt_handle).await?;
                                redriven += 1;
                            }
                        }
                        Err(error) => {
                            failed.extend(messages.into_iter().map(|(m, _)| (m, error.to_string())))
                        }
                    }
                }
            }
        }
        .await;
        let held: Vec<ReceivedMessage> = failed.iter().map(|(message, _)| message.clone()).collect();
        self.release(&held).await?;
        outcome?;
        let still_dead = failed
            .iter()
            .map(|(message, error)| FailedRedrive {
                message: DeadLetter::of(message, envelope_of(message).as_ref()),
                error: error.clone(),
            })
            .collect();
        Ok((redriven, still_dead))
    }

    /// Receive up to `max` messages not received before by this operation (each delivery is
    /// added to `seen`), hiding them for [`HOLD`]: a message seen again means the queue went
    /// round.
    async fn receive_unseen(
        &self,
        seen: &mut Vec<ReceivedMessage>,
        max: usize,
    ) -> Result<Vec<ReceivedMessage>, OperationError> {
        let mut ids: HashSet<String> = seen.iter().map(|m| m.message_id.clone()).collect();
        let mut fresh = Vec::new();
        while fresh.len() < max {
            let batch =
                self.dead_letters.receive(MAX_QUEUE_BATCH.min(max - fresh.len()), HOLD, RECEIVE_WAIT).await?;
            let before = fresh.len();
            for message in batch {
                seen.push(message.clone());
                if ids.insert(message.message_id.clone()) {
                    fresh.push(message);
                }
            }
            if fresh.len() == before {
                break;
            }
        }
        Ok(fresh)
    }

    /// Make `messages` visible again at once.
    async fn release(&self, messages: &[ReceivedMessage]) -> Result<(), OperationError> {
        for message in messages {
            self.dead_letters.release(&message.receipt_handle, Duration::ZERO).await?;
        }
        Ok(())
    }
}

fn envelope_of(message: &ReceivedMessage) -> Option<Envelope> {
    serde_json::from_str(&message.body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_read_from_json_by_their_operation_name() {
        let read = |value| serde_json::from_value::<Operation>(value);
        assert_eq!(read(json!({"operation": "dead-letters"})).unwrap(), Operation::DeadLetters);
        assert_eq!(read(json!({"operation": "retry"})).unwrap(), Operation::Retry);
        assert_eq!(
            read(json!({"operation": "skip", "stream": "note#1", "version": 2, "reason": "r"})).unwrap(),
            Operation::Skip { stream: "note#1".into(), version: 2, reason: "r".into(), by: None }
        );
        for bad in [
            json!({"operation": "drop-everything"}),
            json!({"operation": "skip", "stream": "note#1", "reason": "r"}),
            json!({"operation": "skip", "stream": "note#1", "version": -1, "reason": "r"}),
            json!({"stream": "note#1"}),
            json!("retry"),
        ] {
            assert!(read(bad.clone()).is_err(), "{bad} was taken");
        }
    }
}
