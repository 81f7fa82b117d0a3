//! A metered `Queue` and `Topic`: each call billed as SQS and SNS bill it, one request per 64 KB
//! of the messages it carries.
//!
//! A receive is charged to the actions whose events it brought (by each message's
//! `correlation_id` attribute, which the fan-out publishes every event with); one that brings
//! nothing is an idle poll, charged to [`BACKGROUND`](crate::BACKGROUND). A publish is charged
//! the same way, by the events it carries. Deliveries from SNS to a subscribed SQS queue are not
//! billed by either service, so the topic's subscriptions take the queue unmetered.

use crate::units::messaging_requests;
use crate::{Attribution, Line, Meter, Service, Tally, Unit};
use async_trait::async_trait;
use huddle_eventstore::attribute::CORRELATION_ID;
use huddle_ports::topic::{message_bytes, payload_bytes};
use huddle_ports::{
    Attributes, FilterPolicy, OutgoingMessage, PublishFailure, Queue, QueueError, ReceivedMessage, Topic,
    TopicError, TopicMessage,
};
use std::sync::Arc;
use std::time::Duration;

fn charge(meter: &Meter, attribution: &Attribution, service: Service, operation: &str, bytes: usize) {
    let unit = match service {
        Service::Sns => Unit::SnsRequests,
        _ => Unit::SqsRequests,
    };
    let tally = Tally { calls: 1.0, billed: messaging_requests(bytes), stored_bytes: 0.0 };
    meter.record_for(attribution, Line::new(service, operation, unit), tally);
}

/// The actions whose events `messages` carry; the current attribution when none carries one.
/// Either way the call is made by the current attribution's function (the fan-out's publish is
/// the fan-out function's, whoever's events it carries).
fn carried<'a>(messages: impl IntoIterator<Item = &'a Attributes>) -> Attribution {
    let current = Attribution::current();
    let ids: Vec<&str> = messages
        .into_iter()
        .filter_map(|attributes| attributes.get(CORRELATION_ID))
        .map(String::as_str)
        .collect();
    if ids.is_empty() {
        current
    } else {
        Attribution::among(ids).made_as(&current)
    }
}

pub struct MeteredQueue {
    inner: Arc<dyn Queue>,
    meter: Meter,
}

impl MeteredQueue {
    pub fn new(inner: Arc<dyn Queue>, meter: Meter) -> Self {
        Self { inner, meter }
    }
}

#[async_trait]
impl Queue for MeteredQueue {
    fn address(&self) -> &str {
        self.inner.address()
    }

    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        if messages.is_empty() {
            return self.inner.send_batch(messages).await;
        }
        let bytes = messages.iter().map(|m| payload_bytes(&m.body, &m.attributes)).sum();
        let attribution = carried(messages.iter().map(|m| &m.attributes));
        let result = self.inner.send_batch(messages).await;
        if result.is_ok() {
            charge(&self.meter, &attribution, Service::Sqs, "SendMessageBatch", bytes);
        }
        result
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let result = self.inner.receive(max, visibility, wait).await;
        if let Ok(messages) = &result {
            let bytes = messages.iter().map(|m| payload_bytes(&m.body, &m.attributes)).sum();
            let attribution = if messages.is_empty() {
                Attribution::to(crate::BACKGROUND).made_as(&Attribution::current())
            } else {
                carried(messages.iter().map(|m| &m.attributes))
            };
            charge(&self.meter, &attribution, Service::Sqs, "ReceiveMessage", bytes);
        }
        result
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        let result = self.inner.delete(receipt_handle).await;
        if result.is_ok() {
            charge(&self.meter, &Attribution::current(), Service::Sqs, "DeleteMessage", 0);
        }
        result
    }

    async fn release(&self, receipt_handle: &str, after: Duration) -> Result<(), QueueError> {
        let result = self.inner.release(receipt_handle, after).await;
        if result.is_ok() {
            charge(&self.meter, &Attribution::current(), Service::Sqs, "ChangeMessageVisibility", 0);
        }
        result
    }
}

pub struct MeteredTopic {
    inner: Arc<dyn Topic>,
    meter: Meter,
}

impl MeteredTopic {
    pub fn new(inner: Arc<dyn Topic>, meter: Meter) -> Self {
        Self { inner, meter }
    }
}

#[async_trait]
impl Topic for MeteredTopic {
    async fn publish_batch(&self, messages: Vec<TopicMessage>) -> Result<Vec<PublishFailure>, TopicError> {
        if messages.is_empty() {
            return self.inner.publish_batch(messages).await;
        }
        let bytes = messages.iter().map(message_bytes).sum();
        let attribution = carried(messages.iter().map(|m| &m.attributes));
        let sent: Vec<(String, Option<String>)> =
            messages.iter().map(|m| (m.id.clone(), m.attributes.get(CORRELATION_ID).cloned())).collect();
        let result = self.inner.publish_batch(messages).await;
        if let Ok(failures) = &result {
            charge(&self.meter, &attribution, Service::Sns, "PublishBatch", bytes);
            let delivered = sent.iter().filter(|(id, _)| !failures.iter().any(|failure| failure.id == *id));
            for correlation_id in delivered.filter_map(|(_, correlation_id)| correlation_id.as_deref()) {
                self.meter.count_published(correlation_id);
            }
        }
        result
    }

    /// Subscribing is provisioning, not billed; the queue is subscribed as given (unmetered: SNS's
    /// deliveries to SQS are free).
    async fn subscribe(&self, queue: Arc<dyn Queue>, policy: &FilterPolicy) -> Result<(), TopicError> {
        self.inner.subscribe(queue, policy).await
    }
}
