//! Topic: an SNS-shaped publish/subscribe topic whose queue subscriptions carry filter policies.

use crate::queue::check_attributes;
use crate::{Attributes, FilterPolicy, Queue};
use async_trait::async_trait;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TopicMessage {
    /// Unique within one batch, 1 to 80 letters, digits, `-` or `_` (as SNS requires);
    /// failures are reported by it.
    pub id: String,
    pub body: String,
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublishFailure {
    pub id: String,
    pub reason: String,
}

/// The most messages one publish call carries (SNS PublishBatch's limit).
pub const MAX_PUBLISH_BATCH: usize = 10;

/// The most bytes the messages of one publish call carry together (SNS PublishBatch's limit),
/// counted as SNS counts them: see [`message_bytes`].
pub const MAX_PUBLISH_BATCH_BYTES: usize = 256 * 1024;

/// A message's size as SNS counts it against its limits: see [`payload_bytes`].
pub fn message_bytes(message: &TopicMessage) -> usize {
    payload_bytes(&message.body, &message.attributes)
}

/// A message's size as SNS and SQS count it, for their limits and their bills: the body, and
/// each attribute's name, data type (`String`) and value.
pub fn payload_bytes(body: &str, attributes: &Attributes) -> usize {
    let attributes: usize =
        attributes.iter().map(|(name, value)| name.len() + "String".len() + value.len()).sum();
    body.len() + attributes
}

#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("topic unavailable: {0}")]
    Unavailable(String),
}

/// Checks both adapter families apply before a publish: at most [`MAX_PUBLISH_BATCH`] messages
/// of at most [`MAX_PUBLISH_BATCH_BYTES`] together, ids as SNS takes them (1 to 80 letters,
/// digits, `-` or `_`) and unique within the batch, and attributes that the subscribed queues
/// accept.
pub fn validate_publish(messages: &[TopicMessage]) -> Result<(), TopicError> {
    if messages.len() > MAX_PUBLISH_BATCH {
        return Err(TopicError::Invalid(format!(
            "a publish carries at most {MAX_PUBLISH_BATCH} messages, not {}",
            messages.len()
        )));
    }
    let bytes: usize = messages.iter().map(message_bytes).sum();
    if bytes > MAX_PUBLISH_BATCH_BYTES {
        return Err(TopicError::Invalid(format!(
            "a publish carries at most {MAX_PUBLISH_BATCH_BYTES} bytes of messages, not {bytes}"
        )));
    }
    let well_formed = |id: &str| {
        (1..=80).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if let Some(malformed) = messages.iter().find(|m| !well_formed(&m.id)) {
        return Err(TopicError::Invalid(format!(
            "message id {:?} is not 1 to 80 letters, digits, hyphens or underscores",
            malformed.id
        )));
    }
    let mut ids = std::collections::HashSet::new();
    if let Some(repeated) = messages.iter().find(|m| !ids.insert(m.id.as_str())) {
        return Err(TopicError::Invalid(format!("message id {:?} appears twice in one batch", repeated.id)));
    }
    messages.iter().try_for_each(|m| {
        check_attributes(&m.attributes)
            .map_err(|problem| TopicError::Invalid(format!("message {:?}: {problem}", m.id)))
    })
}

#[async_trait]
pub trait Topic: Send + Sync {
    /// Publish up to [`MAX_PUBLISH_BATCH`] messages with distinct ids in one call (an empty batch
    /// publishes nothing); returns the ones that failed, each of which may still have reached
    /// some subscriptions (delivery is at least once).
    async fn publish_batch(&self, messages: Vec<TopicMessage>) -> Result<Vec<PublishFailure>, TopicError>;
    /// Deliver every message whose attributes match `policy` to `queue`, attributes intact
    /// (raw message delivery: the queue sees the body as published). Subscribing a queue again
    /// with the same policy changes nothing (no message reaches it twice over); with another
    /// policy it is refused, as SNS refuses it.
    async fn subscribe(&self, queue: Arc<dyn Queue>, policy: &FilterPolicy) -> Result<(), TopicError>;
}
