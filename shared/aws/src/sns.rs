//! The Topic port on SNS. Message attributes travel as String attributes; queue subscriptions use
//! raw message delivery with the filter policy applied to message attributes, so a subscribed
//! queue receives the body and attributes exactly as published.

use crate::messaging::{attribute_map, classify, CallFailure};
use async_trait::async_trait;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use aws_sdk_sns::Client;
use huddle_ports::topic::validate_publish;
use huddle_ports::{Attributes, FilterPolicy, PublishFailure, Queue, Topic, TopicError, TopicMessage};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone)]
pub struct SnsTopic {
    client: Client,
    arn: String,
}

impl SnsTopic {
    pub fn new(client: Client, arn: impl Into<String>) -> Self {
        Self { client, arn: arn.into() }
    }
}

/// SNS error codes of requests that can never succeed as sent (the rest may on a retry).
const REFUSED: &[&str] = &[
    "BatchEntryIdsNotDistinct",
    "BatchRequestTooLong",
    "EmptyBatchRequest",
    "FilterPolicyLimitExceeded",
    "InvalidBatchEntryId",
    "InvalidParameter",
    "InvalidParameterValue",
    "NotFound",
    "TooManyEntriesInBatchRequest",
];

fn topic_error<E, R>(error: SdkError<E, R>) -> TopicError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match classify(error, REFUSED) {
        CallFailure::Refused(reason) => TopicError::Invalid(reason),
        CallFailure::Unavailable(reason) => TopicError::Unavailable(reason),
    }
}

fn string_attributes(attributes: Attributes) -> Option<HashMap<String, MessageAttributeValue>> {
    attribute_map(attributes, |value| {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .expect("data type is set")
    })
}

#[async_trait]
impl Topic for SnsTopic {
    async fn publish_batch(&self, messages: Vec<TopicMessage>) -> Result<Vec<PublishFailure>, TopicError> {
        validate_publish(&messages)?;
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let entries = messages
            .into_iter()
            .map(|message| {
                PublishBatchRequestEntry::builder()
                    .id(message.id)
                    .message(message.body)
                    .set_message_attributes(string_attributes(message.attributes))
                    .build()
                    .expect("id and message are set")
            })
            .collect();
        let output = self
            .client
            .publish_batch()
            .topic_arn(&self.arn)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await
            .map_err(topic_error)?;
        Ok(output
            .failed
            .unwrap_or_default()
            .into_iter()
            .map(|failed| PublishFailure {
                id: failed.id,
                reason: format!("{}: {}", failed.code, failed.message.unwrap_or_default()),
            })
            .collect())
    }

    async fn subscribe(&self, queue: Arc<dyn Queue>, policy: &FilterPolicy) -> Result<(), TopicError> {
        self.client
            .subscribe()
            .topic_arn(&self.arn)
            .protocol("sqs")
            .endpoint(queue.address())
            .attributes("RawMessageDelivery", "true")
            .attributes("FilterPolicyScope", "MessageAttributes")
            .attributes("FilterPolicy", policy.to_json())
            .send()
            .await
            .map_err(topic_error)?;
        Ok(())
    }
}
