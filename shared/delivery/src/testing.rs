//! For domains' randomized tests: events handed to a projector as SQS hands them over.

use crate::Projector;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use huddle_eventstore::Envelope;

/// Delivers `deliveries` (in the order given, duplicates and all) to `projector` in batches of
/// ten, then delivers what it reported failed again, as SQS would, up to `redeliveries` more
/// times; panics naming what kept failing.
pub async fn deliver_until_applied(
    projector: &Projector,
    mut deliveries: Vec<Envelope>,
    redeliveries: usize,
) {
    for _ in 0..=redeliveries {
        let mut failed = Vec::new();
        for chunk in deliveries.chunks(10) {
            let mut event = SqsEvent::default();
            event.records = chunk
                .iter()
                .enumerate()
                .map(|(position, envelope)| {
                    let mut message = SqsMessage::default();
                    message.message_id = Some(position.to_string());
                    message.body = Some(serde_json::to_string(envelope).expect("envelopes serialize"));
                    message
                })
                .collect();
            let response = projector.handle(event).await;
            for failure in response.batch_item_failures {
                let position: usize = failure.item_identifier.parse().expect("the ids given above");
                failed.push(chunk[position].clone());
            }
        }
        if failed.is_empty() {
            return;
        }
        deliveries = failed;
    }
    panic!(
        "deliveries kept failing: {:?}",
        deliveries.iter().map(|envelope| (&envelope.stream, envelope.version)).collect::<Vec<_>>()
    );
}
