//! Queue: an SQS-shaped at-least-once queue with visibility timeouts and a dead-letter queue.

use crate::Attributes;
use async_trait::async_trait;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutgoingMessage {
    pub body: String,
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// Names this delivery; deleting or releasing the message takes it.
    pub receipt_handle: String,
    pub body: String,
    pub attributes: Attributes,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
}

/// The most messages one send or receive call handles (SQS's batch limit).
pub const MAX_QUEUE_BATCH: usize = 10;

/// The most message attributes one message carries (SQS's limit).
pub const MAX_MESSAGE_ATTRIBUTES: usize = 10;

/// The longest a receive waits for a first message (SQS's long-poll limit); longer waits are cut
/// to it.
pub const MAX_RECEIVE_WAIT: Duration = Duration::from_secs(20);

/// The longest a message stays hidden after a receive or a release (SQS's limit: 12 hours).
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

/// Checks both adapter families apply before a send reaches storage, so they refuse alike.
pub fn validate_send(messages: &[OutgoingMessage]) -> Result<(), QueueError> {
    if messages.len() > MAX_QUEUE_BATCH {
        return Err(QueueError::Invalid(format!(
            "a send carries at most {MAX_QUEUE_BATCH} messages, not {}",
            messages.len()
        )));
    }
    messages.iter().try_for_each(|m| check_attributes(&m.attributes).map_err(QueueError::Invalid))
}

/// Refuses message attributes SQS and SNS both refuse: more than [`MAX_MESSAGE_ATTRIBUTES`], or an
/// empty value.
pub fn check_attributes(attributes: &Attributes) -> Result<(), String> {
    if attributes.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(format!(
            "a message carries at most {MAX_MESSAGE_ATTRIBUTES} attributes, not {}",
            attributes.len()
        ));
    }
    match attributes.iter().find(|(_, value)| value.is_empty()) {
        Some((name, _)) => Err(format!("message attribute {name:?} is empty")),
        None => Ok(()),
    }
}

/// Checks both adapter families apply before a receive.
pub fn validate_receive(max: usize, visibility: Duration) -> Result<(), QueueError> {
    if !(1..=MAX_QUEUE_BATCH).contains(&max) {
        return Err(QueueError::Invalid(format!(
            "a receive takes 1 to {MAX_QUEUE_BATCH} messages, not {max}"
        )));
    }
    validate_visibility(visibility)
}

/// Checks both adapter families apply to a visibility timeout (a receive's, or a release's).
pub fn validate_visibility(visibility: Duration) -> Result<(), QueueError> {
    if visibility > MAX_VISIBILITY {
        return Err(QueueError::Invalid(format!("visibility {visibility:?} is over the 12 hour limit")));
    }
    Ok(())
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// What a topic subscription names: the queue ARN on AWS, the queue name when embedded.
    fn address(&self) -> &str;
    /// Send up to [`MAX_QUEUE_BATCH`] messages, each with up to [`MAX_MESSAGE_ATTRIBUTES`]
    /// attributes; an empty batch sends nothing. All are sent, or an error says none may have been
    /// (a retry may then send some twice: delivery is at least once).
    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<(), QueueError>;
    /// Receive 1 to [`MAX_QUEUE_BATCH`] messages, hiding them for `visibility` (at most
    /// [`MAX_VISIBILITY`]; SQS rounds up to whole seconds); wait up to `wait` (cut to
    /// [`MAX_RECEIVE_WAIT`]) for the first, returning as soon as one arrives.
    /// A message that would be received more often than the queue's redrive limit moves to its
    /// dead-letter queue instead of being delivered.
    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError>;
    /// Delete a received message. Only the receipt of its latest delivery deletes it: a stale
    /// receipt, or one whose message is already deleted, changes nothing (SQS's documented rule);
    /// a string that is no receipt at all is [`QueueError::Invalid`].
    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError>;
    /// Make a received message visible again after `after` (zero: at once). Like delete, only the
    /// latest delivery's receipt counts.
    async fn release(&self, receipt_handle: &str, after: Duration) -> Result<(), QueueError>;
}
