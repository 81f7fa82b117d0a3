//! DynamoDB Stream batch → SNS publish batches. Stays thin: it decodes envelopes and routes them
//! by attributes, it never looks inside a payload.

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use huddle_eventstore::Envelope;
use huddle_ports::topic::MAX_PUBLISH_BATCH;
use huddle_ports::{Attributes, Item, Topic, TopicMessage};

/// The attributes subscriptions filter on.
pub fn message_attributes(envelope: &Envelope) -> Attributes {
    Attributes::from([
        ("event_type".into(), envelope.event_type.clone()),
        ("stream_type".into(), envelope.stream_type().to_owned()),
        ("stream".into(), envelope.stream.clone()),
        ("correlation_id".into(), envelope.correlation_id.clone()),
    ])
}

/// Publish every event of the batch, in order, at most ten to a call. On the first failure it
/// stops and reports that record's sequence number, so Lambda retries from there: records
/// before it are done, records after it were maybe published and will be again (consumers are
/// idempotent by version).
pub async fn fan_out(topic: &dyn Topic, event: Event) -> DynamoDbEventResponse {
    let mut pending: Vec<(&EventRecord, TopicMessage)> = Vec::new();
    for record in &event.records {
        match envelope_of(record) {
            Ok(None) => {}
            Ok(Some(envelope)) => {
                let message = TopicMessage {
                    id: pending.len().to_string(),
                    body: serde_json::to_string(&envelope).expect("envelopes serialize"),
                    attributes: message_attributes(&envelope),
                };
                pending.push((record, message));
            }
            Err(reason) => {
                tracing::error!(sequence = ?record.change.sequence_number, %reason, "undecodable stream record");
                // Publish what precedes the bad record, then hold the shard at it.
                return publish_all(topic, pending).await.unwrap_or_else(|| failure_at(record));
            }
        }
    }
    publish_all(topic, pending).await.unwrap_or_default()
}

/// Publishes in order; `Some(response)` names the first record that failed.
async fn publish_all(
    topic: &dyn Topic,
    pending: Vec<(&EventRecord, TopicMessage)>,
) -> Option<DynamoDbEventResponse> {
    for chunk in pending.chunks(MAX_PUBLISH_BATCH) {
        let messages: Vec<TopicMessage> = chunk.iter().map(|(_, m)| m.clone()).collect();
        let failed_ids = match topic.publish_batch(messages).await {
            Ok(failures) => failures.into_iter().map(|f| f.id).collect::<Vec<_>>(),
            Err(error) => {
                tracing::error!(%error, "publish batch failed");
                chunk.iter().map(|(_, m)| m.id.clone()).collect()
            }
        };
        if let Some((record, _)) = chunk.iter().find(|(_, m)| failed_ids.contains(&m.id)) {
            return Some(failure_at(record));
        }
    }
    None
}

fn failure_at(record: &EventRecord) -> DynamoDbEventResponse {
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = record.change.sequence_number.clone();
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = vec![failure];
    response
}

/// The envelope in an INSERT of an event item; `None` for any other change.
fn envelope_of(record: &EventRecord) -> Result<Option<Envelope>, String> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let item: Item = serde_dynamo::from_item(record.change.new_image.clone()).map_err(|e| e.to_string())?;
    Envelope::from_item(&item).transpose().map_err(|e| e.to_string())
}
