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

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// What a topic subscription names: the queue ARN on AWS, the queue name when embedded.
    fn address(&self) -> &str;
    /// Send up to [`MAX_QUEUE_BATCH`] messages.
    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<(), QueueError>;
    /// Receive up to `max` messages, hiding them for `visibility`; wait up to `wait` for the first.
    /// A message received more often than the queue's redrive limit moves to its dead-letter queue
    /// instead of being delivered.
    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError>;
    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError>;
    /// Make a received message visible again after `after` (zero: at once).
    async fn release(&self, receipt_handle: &str, after: Duration) -> Result<(), QueueError>;
}
