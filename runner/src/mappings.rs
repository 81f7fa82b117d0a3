//! Event source mappings, as Lambda runs them: a stream feeding the fan-out, and queues feeding
//! SQS handlers with partial batch failures. Each runs until `shutdown` turns true.

use async_trait::async_trait;
use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use huddle_aws::streams::StreamPoller;
use huddle_delivery::{fan_out, SqsHandler};
use huddle_embedded::ChangeFeed;
use huddle_ports::{Queue, Topic};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Pause after a failed batch before trying it again, as Lambda backs off a failing shard.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// A stream read the way Lambda's event source mapping reads it: batches per shard, and a
/// failed batch read again from its first failed record.
#[async_trait]
pub trait StreamSource: Send {
    /// The next batches, waiting briefly when there are none. Each names its shard.
    async fn next_batches(&mut self) -> Vec<(String, Event)>;
    async fn retry_from(&mut self, shard: &str, sequence_number: &str);
}

/// The embedded table's change feed: one shard.
pub struct EmbeddedStream {
    pub feed: ChangeFeed,
    /// The last sequence number handed to the fan-out and not failed.
    pub after: u64,
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
}

fn sequence(number: Option<&str>) -> u64 {
    number.and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// A DynamoDB stream on an AWS endpoint, read through the GetRecords poller.
pub struct AwsStream(pub StreamPoller);

#[async_trait]
impl StreamSource for AwsStream {
    async fn next_batches(&mut self) -> Vec<(String, Event)> {
        match self.0.poll().await {
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
        if let Err(error) = self.0.retry_from(shard, sequence_number).await {
            tracing::error!(%error, shard, "cannot rewind shard");
        }
    }
}

/// Stream → fan-out → topic, until shutdown.
pub async fn run_stream(
    mut source: Box<dyn StreamSource>,
    topic: Arc<dyn Topic>,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        let batches = tokio::select! {
            batches = source.next_batches() => batches,
            _ = shutdown.changed() => break,
        };
        for (shard, event) in batches {
            let response = fan_out(topic.as_ref(), event).await;
            if let Some(sequence) =
                response.batch_item_failures.first().and_then(|f| f.item_identifier.clone())
            {
                tracing::warn!(%shard, %sequence, "fan-out failed; retrying from the failed record");
                source.retry_from(&shard, &sequence).await;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }
}

/// How a queue is polled: Lambda's batch size, the queue's visibility timeout, and how many
/// invocations run at once.
#[derive(Debug, Clone, Copy)]
pub struct QueuePolling {
    pub batch_size: usize,
    pub visibility_timeout: Duration,
    pub concurrency: usize,
}

/// Queue → handler, until shutdown. Succeeded messages are deleted; failed ones stay hidden
/// until their visibility timeout ends and come back (and past the redrive limit move to the
/// dead-letter queue), as with Lambda's ReportBatchItemFailures.
pub async fn run_queue(
    queue: Arc<dyn Queue>,
    handler: Arc<dyn SqsHandler>,
    polling: QueuePolling,
    shutdown: watch::Receiver<bool>,
) {
    let workers = (0..polling.concurrency.max(1)).map(|_| {
        let (queue, handler, mut shutdown) = (queue.clone(), handler.clone(), shutdown.clone());
        tokio::spawn(async move {
            while !*shutdown.borrow() {
                let received = tokio::select! {
                    received = queue.receive(polling.batch_size, polling.visibility_timeout, Duration::from_secs(1)) => received,
                    _ = shutdown.changed() => break,
                };
                match received {
                    Ok(messages) if !messages.is_empty() => deliver(queue.as_ref(), handler.as_ref(), messages).await,
                    Ok(_) => {}
                    Err(error) => {
                        tracing::error!(%error, queue = queue.address(), "receive failed");
                        tokio::time::sleep(RETRY_PAUSE).await;
                    }
                }
            }
        })
    });
    futures::future::join_all(workers).await;
}

async fn deliver(queue: &dyn Queue, handler: &dyn SqsHandler, messages: Vec<huddle_ports::ReceivedMessage>) {
    let mut event = SqsEvent::default();
    event.records = messages.iter().map(|m| sqs_message(m, queue.address())).collect();
    let response = handler.handle(event).await;
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
