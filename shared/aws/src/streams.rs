//! DynamoDB Streams read directly, for where no Lambda event source mapping exists (the local
//! runner and tests on an AWS emulator): a poller over the stream's shards, and a converter
//! from GetRecords output to the `aws_lambda_events` type the fan-out handler takes, so the same
//! handler runs behind Lambda and behind this poller.

use aws_lambda_events::dynamodb::{Event, EventRecord, StreamRecord, StreamViewType};
use aws_sdk_dynamodbstreams::types::{OperationType, Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One GetRecords record as Lambda would deliver it.
pub fn to_lambda_record(record: Record, stream_arn: &str) -> EventRecord {
    let mut change = StreamRecord::default();
    if let Some(stream) = record.dynamodb {
        change.approximate_creation_date_time = stream
            .approximate_creation_date_time
            .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
            .unwrap_or_default();
        change.keys = stream.keys.unwrap_or_default().into();
        change.new_image = stream.new_image.unwrap_or_default().into();
        change.old_image = stream.old_image.unwrap_or_default().into();
        change.sequence_number = stream.sequence_number;
        change.size_bytes = stream.size_bytes.unwrap_or_default();
        change.stream_view_type = stream.stream_view_type.and_then(|v| match v.as_str() {
            "NEW_IMAGE" => Some(StreamViewType::NewImage),
            "OLD_IMAGE" => Some(StreamViewType::OldImage),
            "NEW_AND_OLD_IMAGES" => Some(StreamViewType::NewAndOldImages),
            "KEYS_ONLY" => Some(StreamViewType::KeysOnly),
            _ => None,
        });
    }
    let mut lambda_record = EventRecord::default();
    lambda_record.aws_region = record.aws_region.unwrap_or_default();
    lambda_record.change = change;
    lambda_record.event_id = record.event_id.unwrap_or_default();
    lambda_record.event_name = match record.event_name {
        Some(OperationType::Insert) => "INSERT".into(),
        Some(OperationType::Modify) => "MODIFY".into(),
        Some(OperationType::Remove) => "REMOVE".into(),
        other => other.map(|o| o.as_str().to_owned()).unwrap_or_default(),
    };
    lambda_record.event_source = record.event_source;
    lambda_record.event_version = record.event_version;
    lambda_record.event_source_arn = Some(stream_arn.to_owned());
    lambda_record
}

#[derive(Debug, thiserror::Error)]
#[error("stream read failed: {0}")]
pub struct StreamError(String);

fn failed(error: impl std::fmt::Debug) -> StreamError {
    StreamError(format!("{error:?}"))
}

/// Reads every shard of one stream from its oldest record (or from recorded positions), like an
/// event source mapping with starting position TRIM_HORIZON; a failed batch is read again from its failed record. A shard
/// whose read fails (a throttle, an expired iterator) is read again from where it stood, with a
/// fresh iterator, while the other shards' batches are still handed over: no record is skipped.
pub struct StreamPoller {
    client: Client,
    stream_arn: String,
    shards: HashMap<String, Shard>,
    /// Positions recorded by an earlier reader, applied to their shards once discovered.
    restored: HashMap<String, String>,
    /// When the shard list was last read: shards split over time, so it is read again now and then.
    discovered_at: Option<Instant>,
}

/// Where one shard is read next.
struct Shard {
    /// The iterator to read with; `None` when a fresh one must be got from `resume`.
    iterator: Option<String>,
    /// The first record not yet handed over, as a shard iterator request names it.
    resume: (ShardIteratorType, Option<String>),
    /// A closed shard read to its end.
    ended: bool,
    /// Whether `resume` came from [`StreamPoller::resume_after`]: a position recorded by an
    /// earlier process, which the stream may no longer hold (trimmed, or another table's).
    restored: bool,
}

const SHARD_DISCOVERY_INTERVAL: Duration = Duration::from_secs(10);

/// The records one shard yielded, as one Lambda event.
pub struct ShardBatch {
    pub shard_id: String,
    pub event: Event,
}

impl StreamPoller {
    pub fn new(client: Client, stream_arn: impl Into<String>) -> Self {
        Self {
            client,
            stream_arn: stream_arn.into(),
            shards: HashMap::new(),
            restored: HashMap::new(),
            discovered_at: None,
        }
    }

    /// Read each shard of `positions` after the sequence number recorded for it (by
    /// [`position`](Self::position) in an earlier process) instead of from its trim horizon. A
    /// position the stream refuses falls back to the trim horizon (consumers are idempotent).
    pub fn resume_after(mut self, positions: HashMap<String, String>) -> Self {
        self.restored = positions;
        self
    }

    /// The last sequence number of `shard_id` handed over (and not handed back by
    /// [`retry_from`](Self::retry_from)), for a reader that records what it has published.
    pub fn position(&self, shard_id: &str) -> Option<&str> {
        let shard = self.shards.get(shard_id)?;
        match &shard.resume {
            (ShardIteratorType::AfterSequenceNumber, Some(sequence_number)) => Some(sequence_number),
            _ => None,
        }
    }

    /// The next batch of every shard that has records. A shard that cannot be read now is
    /// logged and read again from the same record at the next poll.
    pub async fn poll(&mut self) -> Result<Vec<ShardBatch>, StreamError> {
        self.discover_shards().await?;
        let mut batches = Vec::new();
        let shard_ids: Vec<String> = self.shards.keys().cloned().collect();
        for shard_id in shard_ids {
            match self.read_shard(&shard_id).await {
                Ok(records) if !records.is_empty() => {
                    let mut event = Event::default();
                    event.records = records;
                    batches.push(ShardBatch { shard_id, event });
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, shard = %shard_id, "shard read failed; it is read again from the same record");
                    if let Some(shard) = self.shards.get_mut(&shard_id) {
                        shard.iterator = None;
                    }
                }
            }
        }
        Ok(batches)
    }

    /// The next records of one shard; on success its position moves past them.
    async fn read_shard(&mut self, shard_id: &str) -> Result<Vec<EventRecord>, StreamError> {
        let Some(shard) = self.shards.get(shard_id).filter(|shard| !shard.ended) else {
            return Ok(Vec::new());
        };
        let iterator = match &shard.iterator {
            Some(iterator) => iterator.clone(),
            None => {
                let (kind, sequence_number) = shard.resume.clone();
                match self.iterator(shard_id, kind, sequence_number.as_deref()).await {
                    Ok(iterator) => iterator,
                    Err(error) if shard.restored => {
                        tracing::warn!(%error, shard = %shard_id, "the recorded position is gone; reading from the trim horizon");
                        let shard = self.shards.get_mut(shard_id).expect("a known shard");
                        shard.resume = (ShardIteratorType::TrimHorizon, None);
                        shard.restored = false;
                        return Ok(Vec::new());
                    }
                    Err(error) => return Err(error),
                }
            }
        };
        let output =
            self.client.get_records().shard_iterator(iterator).limit(100).send().await.map_err(failed)?;
        let records = output.records.unwrap_or_default();
        let shard = self.shards.get_mut(shard_id).expect("a known shard");
        shard.restored = false;
        if let Some(last) = records.last().and_then(|r| r.dynamodb.as_ref()?.sequence_number.clone()) {
            shard.resume = (ShardIteratorType::AfterSequenceNumber, Some(last));
        }
        shard.ended = output.next_shard_iterator.is_none();
        shard.iterator = output.next_shard_iterator;
        Ok(records.into_iter().map(|r| to_lambda_record(r, &self.stream_arn)).collect())
    }

    /// Read `shard_id` again from `sequence_number` (the handler's first failed record).
    pub fn retry_from(&mut self, shard_id: &str, sequence_number: &str) {
        let resume = (ShardIteratorType::AtSequenceNumber, Some(sequence_number.to_owned()));
        self.shards
            .insert(shard_id.to_owned(), Shard { iterator: None, resume, ended: false, restored: false });
    }

    async fn discover_shards(&mut self) -> Result<(), StreamError> {
        if self.discovered_at.is_some_and(|at| at.elapsed() < SHARD_DISCOVERY_INTERVAL) {
            return Ok(());
        }
        self.discovered_at = Some(Instant::now());
        let described =
            self.client.describe_stream().stream_arn(&self.stream_arn).send().await.map_err(failed)?;
        let shards = described.stream_description.and_then(|d| d.shards).unwrap_or_default();
        for shard_id in shards.into_iter().filter_map(|shard| shard.shard_id) {
            if self.shards.contains_key(&shard_id) {
                continue;
            }
            let shard = match self.restored.remove(&shard_id) {
                Some(after) => Shard {
                    iterator: None,
                    resume: (ShardIteratorType::AfterSequenceNumber, Some(after)),
                    ended: false,
                    restored: true,
                },
                None => Shard {
                    iterator: None,
                    resume: (ShardIteratorType::TrimHorizon, None),
                    ended: false,
                    restored: false,
                },
            };
            self.shards.insert(shard_id, shard);
        }
        Ok(())
    }

    async fn iterator(
        &self,
        shard_id: &str,
        kind: ShardIteratorType,
        sequence_number: Option<&str>,
    ) -> Result<String, StreamError> {
        let output = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(shard_id)
            .shard_iterator_type(kind)
            .set_sequence_number(sequence_number.map(str::to_owned))
            .send()
            .await
            .map_err(failed)?;
        output.shard_iterator.ok_or_else(|| StreamError(format!("no iterator for shard {shard_id}")))
    }
}
