//! DynamoDB Stream batch → SNS publish batches. Stays thin: it decodes envelopes and routes them
//! by attributes, it never looks inside a payload.

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use huddle_eventstore::{attribute, Envelope};
use huddle_ports::topic::MAX_PUBLISH_BATCH;
use huddle_ports::{Item, Topic, TopicMessage};
use std::collections::BTreeSet;
use std::time::Duration;

/// Publish attempts per message within one invocation: the batch call, then the message alone.
const PUBLISH_ATTEMPTS: u32 = 3;

/// Publish every event of the batch, in order, at most ten to a call. A message that fails is
/// tried again on its own (so a batch refused whole for one bad message still delivers the
/// others); every record is tried, whatever failed before it. The response names the first
/// record still failing, so Lambda retries from there: records after it are published again
/// (consumers are idempotent by version), and once Lambda's retries run out the failed record
/// goes to the mapping's failure destination without having held back its neighbours.
pub async fn fan_out(topic: &dyn Topic, event: Event) -> DynamoDbEventResponse {
    // Positions in the batch of the records not delivered, in order.
    let mut failed = BTreeSet::new();
    let mut pending: Vec<(usize, TopicMessage)> = Vec::new();
    for (position, record) in event.records.iter().enumerate() {
        match envelope_of(record) {
            Ok(None) => {}
            Ok(Some(envelope)) => pending.push((
                position,
                TopicMessage {
                    id: position.to_string(),
                    body: serde_json::to_string(&envelope).expect("envelopes serialize"),
                    attributes: envelope.message_attributes(),
                },
            )),
            Err(reason) => {
                tracing::error!(sequence = ?record.change.sequence_number, %reason, "undecodable stream record");
                failed.insert(position);
            }
        }
    }
    for chunk in pending.chunks(MAX_PUBLISH_BATCH) {
        failed.extend(publish_chunk(topic, chunk).await);
    }
    let mut response = DynamoDbEventResponse::default();
    if let Some(&first) = failed.first() {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = event.records[first].change.sequence_number.clone();
        response.batch_item_failures = vec![failure];
    }
    response
}

/// Publishes one chunk; returns the positions of the messages that still failed after
/// [`PUBLISH_ATTEMPTS`]. The first attempt is one batch call, later ones one call per failed
/// message: SNS refuses a whole batch for one malformed entry, and reports others per entry.
async fn publish_chunk(topic: &dyn Topic, chunk: &[(usize, TopicMessage)]) -> Vec<usize> {
    let mut failing: Vec<&(usize, TopicMessage)> = chunk.iter().collect();
    for attempt in 1..=PUBLISH_ATTEMPTS {
        if attempt > 1 {
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
        }
        let calls: Vec<Vec<&(usize, TopicMessage)>> =
            if attempt == 1 { vec![failing] } else { failing.into_iter().map(|m| vec![m]).collect() };
        failing = Vec::new();
        for call in calls {
            failing.extend(failures_of(topic, call).await);
        }
        if failing.is_empty() {
            break;
        }
    }
    for (position, message) in &failing {
        tracing::error!(position, stream = %message.attributes[attribute::STREAM], "publish failed; giving up on this invocation");
    }
    failing.into_iter().map(|(position, _)| *position).collect()
}

/// The messages of one publish call that did not get through.
async fn failures_of<'a>(
    topic: &dyn Topic,
    call: Vec<&'a (usize, TopicMessage)>,
) -> Vec<&'a (usize, TopicMessage)> {
    let messages = call.iter().map(|(_, message)| message.clone()).collect();
    match topic.publish_batch(messages).await {
        Ok(failures) => {
            let ids: BTreeSet<String> = failures
                .into_iter()
                .map(|failure| {
                    tracing::warn!(id = %failure.id, reason = %failure.reason, "publish entry failed");
                    failure.id
                })
                .collect();
            call.into_iter().filter(|(_, message)| ids.contains(&message.id)).collect()
        }
        Err(error) => {
            tracing::warn!(%error, messages = call.len(), "publish call failed");
            call
        }
    }
}

/// The envelope in an INSERT of an event item; `None` for any other change.
fn envelope_of(record: &EventRecord) -> Result<Option<Envelope>, String> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let item: Item = serde_dynamo::from_item(record.change.new_image.clone()).map_err(|e| e.to_string())?;
    Envelope::from_item(&item).transpose().map_err(|e| e.to_string())
}
