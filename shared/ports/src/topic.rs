//! Topic: an SNS-shaped publish/subscribe topic whose queue subscriptions carry filter policies.

use crate::{Attributes, FilterPolicy, Queue};
use async_trait::async_trait;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TopicMessage {
    /// Unique within one batch; failures are reported by it.
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

#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("topic unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Topic: Send + Sync {
    /// Publish up to [`MAX_PUBLISH_BATCH`] messages in one call; returns the ones that failed.
    async fn publish_batch(&self, messages: Vec<TopicMessage>) -> Result<Vec<PublishFailure>, TopicError>;
    /// Deliver every message whose attributes match `policy` to `queue`, attributes intact
    /// (raw message delivery: the queue sees the body as published).
    async fn subscribe(&self, queue: Arc<dyn Queue>, policy: &FilterPolicy) -> Result<(), TopicError>;
}
