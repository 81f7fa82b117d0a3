//! Event source mappings, as Lambda runs them: a stream feeding the fan-out, and queues feeding
//! SQS handlers with partial batch failures. Each runs until `shutdown` turns true.

use crate::metering::Invoker;
use async_trait::async_trait;
use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use huddle_aws::streams::StreamPoller;
use huddle_delivery::{fan_out, SqsHandler, Sweeper, SWEEP_LOOKBACK};
use huddle_embedded::ChangeFeed;
use huddle_eventstore::attribute;
use huddle_metering::{Attribution, BACKGROUND};
use huddle_ports::{Queue, Topic};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Pause after a failed batch before trying it again, as Lambda backs off a failing shard.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// Retries of a failed stream record before the mapping gives up on it and reads on, as
/// template.yaml's `MaximumRetryAttempts` has Lambda do: the fan-out publishes every other
/// record of a batch before it reports a failure, so giving up loses only the failed one
/// (which stays in the log, for a replay).
const MAX_RETRY_ATTEMPTS: u32 = 10;

/// The name the fan-out's position in the embedded change feed is recorded under.
const FAN_OUT_READER: &str = "fanout";

/// A stream read the way Lambda's event source mapping reads it: batches per shard, and a
/// failed batch read again from its first failed record.
#[async_trait]
pub trait StreamSource: Send {
    /// The next batches, waiting briefly when there are none. Each names its shard.
    async fn next_batches(&mut self) -> Vec<(String, Event)>;
    async fn retry_from(&mut self, shard: &str, sequence_number: &str);
    /// Every record handed over for `shard` so far was published (or given up on).
    async fn published(&mut self, shard: &str);
}

/// The embedded table's change feed: one shard, read from the position the fan-out recorded
/// last, so a restart does not publish the whole history again.
pub struct EmbeddedStream {
    feed: ChangeFeed,
    /// The last sequence number handed to the fan-out and not failed.
    after: u64,
}

impl EmbeddedStream {
    pub fn resume(feed: ChangeFeed) -> Result<Self, huddle_ports::TableError> {
        let after = feed.position(FAN_OUT_READER)?;
        Ok(Self { feed, after })
    }
}

#[async_trait]
impl StreamSource for EmbeddedStream {
    async fn next_batches(&mut self) -> Vec<(String, Event)> {
        let records = match self.feed.read(self.after, 100) {
            Ok(records) => records,
            Err(error) => {
                tracing::error!(%error, "change feed read failed");
                Vec::new()
            }
        };
        let Some(last) = records.last() else {
            self.feed.changed(Duration::from_secs(1)).await;
            return Vec::new();
        };
        self.after = sequence(last.change.sequence_number.as_deref());
        let mut event = Event::default();
        event.records = records;
        vec![("local".into(), event)]
    }

    async fn retry_from(&mut self, _shard: &str, sequence_number: &str) {
        self.after = sequence(Some(sequence_number)).saturating_sub(1);
    }

    async fn published(&mut self, _shard: &str) {
        if let Err(error) = self.feed.record_position(FAN_OUT_READER, self.after) {
            // Harmless but for a restart, which then publishes these records again.
            tracing::warn!(%error, "cannot record the change feed position");
        }
    }
}

fn sequence(number: Option<&str>) -> u64 {
    number.and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// A DynamoDB stream on an AWS endpoint, read through the GetRecords poller. With a positions
/// file, the position of each shard's last published record is recorded there (JSON, shard id →
/// sequence number) and a restarted runner resumes after it instead of republishing up to 24 h.
pub struct AwsStream {
    poller: StreamPoller,
    positions_file: Option<PathBuf>,
    positions: HashMap<String, String>,
}

impl AwsStream {
    pub fn new(poller: StreamPoller, positions_file: Option<PathBuf>) -> Self {
        let positions: HashMap<String, String> = positions_file
            .as_deref()
            .and_then(|file| std::fs::read(file).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Self { poller: poller.resume_after(positions.clone()), positions_file, positions }
    }
}

#[async_trait]
impl StreamSource for AwsStream {
    async fn next_batches(&mut self) -> Vec<(String, Event)> {
        match self.poller.poll().await {
            Ok(batches) if !batches.is_empty() => {
                batches.into_iter().map(|b| (b.shard_id, b.event)).collect()
            }
            Ok(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Vec::new()
            }
            Err(error) => {
                tracing::error!(%error, "stream poll failed");
                tokio::time::sleep(RETRY_PAUSE).await;
                Vec::new()
            }
        }
    }

    async fn retry_from(&mut self, shard: &str, sequence_number: &str) {
        self.poller.retry_from(shard, sequence_number);
    }

    async fn published(&mut self, shard: &str) {
        let (Some(file), Some(position)) = (&self.positions_file, self.poller.position(shard)) else {
            return;
        };
        self.positions.insert(shard.to_owned(), position.to_owned());
        let written = serde_json::to_vec(&self.positions).map_err(std::io::Error::other).and_then(|json| {
            // Written aside and renamed, so a crash never leaves half a file.
            let partial = file.with_extension("partial");
            std::fs::write(&partial, json)?;
            std::fs::rename(&partial, file)
        });
        if let Err(error) = written {
            // Harmless but for a restart, which then publishes these records again.
            tracing::warn!(%error, "cannot record the stream positions");
        }
    }
}

/// Stream → fan-out → topic, until shutdown; each batch one invocation of `fan_out_function`,
/// charged to the actions whose events it carries.
pub async fn run_stream(
    mut source: Box<dyn StreamSource>,
    topic: Arc<dyn Topic>,
    fan_out_function: Invoker,
    mut shutdown: watch::Receiver<bool>,
) {
    // The record each shard is being retried from, and how often it was.
    let mut retries: HashMap<String, (String, u32)> = HashMap::new();
    while !*shutdown.borrow() {
        let batches = tokio::select! {
            batches = source.next_batches() => batches,
            _ = shutdown.changed() => break,
        };
        for (shard, mut event) in batches {
            // Lambda drops what the mapping's filter refuses before it invokes anything.
            event.records.retain(passes_the_fan_out_filter);
            if event.records.is_empty() {
                source.published(&shard).await;
                continue;
            }
            let attribution = Attribution::among(event.records.iter().filter_map(record_correlation_id));
            let response = fan_out_function.run(attribution, fan_out(topic.as_ref(), event)).await;
            let Some(sequence) = response.batch_item_failures.first().and_then(|f| f.item_identifier.clone())
            else {
                retries.remove(&shard);
                source.published(&shard).await;
                continue;
            };
            let attempts = match retries.get(&shard) {
                Some((retried, attempts)) if *retried == sequence => attempts + 1,
                _ => 1,
            };
            if attempts > MAX_RETRY_ATTEMPTS {
                tracing::error!(%shard, %sequence, "fan-out gave up on a record after {MAX_RETRY_ATTEMPTS} retries");
                retries.remove(&shard);
                source.published(&shard).await;
                continue;
            }
            tracing::warn!(%shard, %sequence, attempts, "fan-out failed; retrying from the failed record");
            retries.insert(shard.clone(), (sequence.clone(), attempts));
            source.retry_from(&shard, &sequence).await;
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }
}

/// Whether a stream record passes template.yaml's filter on the fan-out's stream mapping
/// (inserts of event items only; the test below holds the two together).
fn passes_the_fan_out_filter(record: &aws_lambda_events::dynamodb::EventRecord) -> bool {
    record.event_name == "INSERT"
        && matches!(record.change.new_image.get("kind"), Some(serde_dynamo::AttributeValue::S(kind)) if kind == "event")
}

/// The correlation id an event's stream record carries (none for other items' changes).
fn record_correlation_id(record: &aws_lambda_events::dynamodb::EventRecord) -> Option<&str> {
    match record.change.new_image.get(attribute::CORRELATION_ID) {
        Some(serde_dynamo::AttributeValue::S(correlation_id)) => Some(correlation_id),
        _ => None,
    }
}

/// The sweeper on a schedule, as template.yaml's EventBridge rule invokes the projector
/// (`projector_function`) with it, until shutdown. The first sweep runs one interval after start.
pub async fn run_sweeps(
    sweeper: Sweeper,
    interval: Duration,
    projector_function: Invoker,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    while !*shutdown.borrow() {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.changed() => break,
        }
        let sweep = sweeper.sweep(time::OffsetDateTime::now_utc(), SWEEP_LOOKBACK);
        if let Err(error) = projector_function.run(Attribution::to(BACKGROUND), sweep).await {
            tracing::error!(%error, "sweep failed; the next one looks back far enough to make up for it");
        }
    }
}

/// How a queue is polled: Lambda's batch size, the queue's visibility timeout, how many
/// invocations run at once, and how long a receive waits for a first message (Lambda's pollers
/// wait 20 s; shorter here so a shutdown is quick, zero where every poll is stepped by hand).
#[derive(Debug, Clone, Copy)]
pub struct QueuePolling {
    pub batch_size: usize,
    pub visibility_timeout: Duration,
    pub concurrency: usize,
    pub wait: Duration,
}

/// Holds the queue mappings between batches, as disabling Lambda's event source mappings does:
/// `huddle cost` pauses them so an action's fan-out has published all its events before a
/// projector receives any, and steps them one receive at a time, so every action is measured in
/// the same batches whatever the timing.
#[derive(Clone)]
pub struct DeliveryGate {
    lock: Arc<tokio::sync::RwLock<()>>,
    /// How many receives each worker (of every mapping on the gate) has begun.
    begun: Arc<watch::Sender<Vec<u64>>>,
}

impl Default for DeliveryGate {
    fn default() -> Self {
        Self { lock: Arc::default(), begun: Arc::new(watch::Sender::new(Vec::new())) }
    }
}

impl DeliveryGate {
    /// Stops every queue mapping once its current receive and delivery are done; they go on when
    /// the answer is dropped.
    pub async fn pause(&self) -> PausedDeliveries {
        PausedDeliveries { gate: self.clone(), held: Some(self.lock.clone().write_owned().await) }
    }

    /// A new worker's number.
    fn enroll(&self) -> usize {
        let mut number = 0;
        self.begun.send_modify(|begun| {
            number = begun.len();
            begun.push(0);
        });
        number
    }

    /// Waits until the gate is open, and counts the receive `worker` begins.
    async fn begin(&self, worker: usize) -> tokio::sync::RwLockReadGuard<'_, ()> {
        let open = self.lock.read().await;
        self.begun.send_modify(|begun| begun[worker] += 1);
        open
    }
}

/// Queue mappings held by [`DeliveryGate::pause`].
pub struct PausedDeliveries {
    gate: DeliveryGate,
    held: Option<tokio::sync::OwnedRwLockWriteGuard<()>>,
}

impl PausedDeliveries {
    /// Lets every queue mapping worker begin one receive and deliver what it got, then holds them
    /// all again once those deliveries are done.
    pub async fn step(&mut self) {
        let mut begun = self.gate.begun.subscribe();
        let before = begun.borrow_and_update().clone();
        self.held = None;
        let every_worker_began =
            begun.wait_for(|now| now.iter().zip(&before).all(|(now, before)| now > before)).await;
        drop(every_worker_began);
        self.held = Some(self.gate.lock.clone().write_owned().await);
    }
}

/// A queue mapping: `handler` as the function it invokes, the queue it polls, how, and the gate
/// that may hold it.
pub struct QueueMapping {
    pub queue: Arc<dyn Queue>,
    pub handler: Arc<dyn SqsHandler>,
    pub function: Invoker,
    pub polling: QueuePolling,
    pub gate: DeliveryGate,
}

/// Queue → handler, until shutdown. Succeeded messages are deleted; failed ones stay hidden
/// until their visibility timeout ends and come back (and past the redrive limit move to the
/// dead-letter queue), as with Lambda's ReportBatchItemFailures. Each batch is one invocation,
/// charged to the actions whose events it carries.
/// The workers start (and enroll at the gate) at the call; the future ends with them.
pub fn run_queue(
    mapping: QueueMapping,
    shutdown: watch::Receiver<bool>,
) -> impl std::future::Future<Output = ()> {
    let mapping = Arc::new(mapping);
    let workers: Vec<_> = (0..mapping.polling.concurrency.max(1)).map(|_| {
        let (mapping, mut shutdown) = (mapping.clone(), shutdown.clone());
        let worker = mapping.gate.enroll();
        tokio::spawn(async move {
            let (queue, polling) = (mapping.queue.as_ref(), mapping.polling);
            while !*shutdown.borrow() {
                let _open = tokio::select! {
                    open = mapping.gate.begin(worker) => open,
                    _ = shutdown.changed() => break,
                };
                let received = tokio::select! {
                    received = queue.receive(polling.batch_size, polling.visibility_timeout, polling.wait) => received,
                    _ = shutdown.changed() => break,
                };
                match received {
                    Ok(messages) if !messages.is_empty() => {
                        let attribution = Attribution::among(
                            messages.iter().filter_map(|m| m.attributes.get(attribute::CORRELATION_ID)).map(String::as_str),
                        );
                        attribution.clone().scope(deliver(&mapping, attribution, messages)).await
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::error!(%error, queue = queue.address(), "receive failed");
                        tokio::time::sleep(RETRY_PAUSE).await;
                    }
                }
            }
        })
    }).collect();
    async move {
        futures::future::join_all(workers).await;
    }
}

/// One invocation of the mapping's function with `messages`, then, as Lambda's poller does,
/// the deletes of those it did not report failed.
async fn deliver(
    mapping: &QueueMapping,
    attribution: Attribution,
    messages: Vec<huddle_ports::ReceivedMessage>,
) {
    let queue = mapping.queue.as_ref();
    let mut event = SqsEvent::default();
    event.records = messages.iter().map(|m| sqs_message(m, queue.address())).collect();
    let response = mapping.function.run(attribution, mapping.handler.handle(event)).await;
    let failed: HashSet<&str> =
        response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    for message in &messages {
        if failed.contains(message.message_id.as_str()) {
            continue;
        }
        if let Err(error) = queue.delete(&message.receipt_handle).await {
            tracing::error!(%error, message_id = %message.message_id, "delete failed; the message will come again");
        }
    }
}

/// A received message as Lambda's SQS event source hands it over.
fn sqs_message(message: &huddle_ports::ReceivedMessage, queue_address: &str) -> SqsMessage {
    let mut sqs = SqsMessage::default();
    sqs.message_id = Some(message.message_id.clone());
    sqs.receipt_handle = Some(message.receipt_handle.clone());
    sqs.body = Some(message.body.clone());
    sqs.attributes.insert("ApproximateReceiveCount".into(), message.receive_count.to_string());
    sqs.message_attributes = message
        .attributes
        .iter()
        .map(|(name, value)| {
            let mut attribute = SqsMessageAttribute::default();
            attribute.string_value = Some(value.clone());
            attribute.data_type = Some("String".into());
            (name.clone(), attribute)
        })
        .collect();
    sqs.event_source = Some("aws:sqs".into());
    sqs.event_source_arn = Some(queue_address.to_owned());
    sqs
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_embedded::{Database, SqliteTable};
    use huddle_eventstore::{Envelope, EventStore, ExpectedVersion, Metadata, NewEvent};
    use huddle_ports::{FilterPolicy, PublishFailure, TopicError, TopicMessage};
    use std::sync::Mutex;

    /// Records every message published.
    #[derive(Default)]
    struct RecordingTopic(Mutex<Vec<TopicMessage>>);

    #[async_trait]
    impl Topic for RecordingTopic {
        async fn publish_batch(
            &self,
            messages: Vec<TopicMessage>,
        ) -> Result<Vec<PublishFailure>, TopicError> {
            self.0.lock().unwrap().extend(messages);
            Ok(Vec::new())
        }

        async fn subscribe(&self, _queue: Arc<dyn Queue>, _policy: &FilterPolicy) -> Result<(), TopicError> {
            Err(TopicError::Invalid("the fan-out never subscribes".into()))
        }
    }

    /// Opens the database at `path`, appends `count` events to one stream, runs the change feed
    /// into a fresh topic until it has published `count` messages, stops it, and returns the
    /// versions the topic received.
    async fn append_and_publish(path: &std::path::Path, count: usize) -> Vec<u64> {
        let db = Database::open(path).unwrap();
        let table = SqliteTable::new(&db, "events", true);
        let feed = table.change_feed();
        let store = EventStore::new(Arc::new(table));
        for _ in 0..count {
            let event =
                NewEvent { event_type: "Ticked".into(), schema_version: 1, payload: serde_json::json!({}) };
            store
                .append("clock#1", ExpectedVersion::Any, vec![event], &Metadata::new("c"), None)
                .await
                .unwrap();
        }
        let topic = Arc::new(RecordingTopic::default());
        let (stop, stopped) = watch::channel(false);
        let fan_out = Invoker::new(crate::metering::DeployedFunction::named("FanoutFunction"), None);
        let mapping = tokio::spawn(run_stream(
            Box::new(EmbeddedStream::resume(feed).unwrap()),
            topic.clone(),
            fan_out,
            stopped,
        ));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while topic.0.lock().unwrap().len() < count && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.send(true).unwrap();
        mapping.await.unwrap();
        let published = topic.0.lock().unwrap();
        published.iter().map(|m| serde_json::from_str::<Envelope>(&m.body).unwrap().version).collect()
    }

    /// template.yaml's filter on the fan-out's stream mapping: inserts of event items only.
    const FAN_OUT_FILTER: &str =
        r#"{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["event"]}}}}"#;

    #[test]
    fn the_fan_out_filter_is_template_yamls() {
        assert!(
            crate::TEMPLATE.contains(&format!("- Pattern: '{FAN_OUT_FILTER}'")),
            "template.yaml's FanoutFunction filter changed: change FAN_OUT_FILTER and passes_the_fan_out_filter with it"
        );
        let record = |event_name: &str, kind: &str| {
            let mut record = aws_lambda_events::dynamodb::EventRecord::default();
            record.event_name = event_name.into();
            let image = [("kind".to_owned(), serde_dynamo::AttributeValue::S(kind.into()))];
            record.change.new_image = std::collections::HashMap::from(image).into();
            record
        };
        assert!(passes_the_fan_out_filter(&record("INSERT", "event")));
        assert!(!passes_the_fan_out_filter(&record("MODIFY", "event")), "only inserts");
        assert!(!passes_the_fan_out_filter(&record("INSERT", "idempotency")), "only event items");
        assert!(!passes_the_fan_out_filter(&record("REMOVE", "event")));
    }

    #[tokio::test]
    async fn the_change_feed_resumes_after_what_it_published_before_a_restart() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("huddle.sqlite3");
        assert_eq!(append_and_publish(&path, 3).await, [1, 2, 3]);
        assert_eq!(append_and_publish(&path, 2).await, [4, 5], "the history is not published again");
    }
}
