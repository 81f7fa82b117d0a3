//! The Queue port on SQS. Message attributes travel as String attributes; SQS counts visibility
//! timeouts and waits in whole seconds, so both are rounded up (a message is never shown early).

use crate::messaging::{attribute_map, classify, CallFailure};
use async_trait::async_trait;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    Message, MessageAttributeValue, MessageSystemAttributeName, SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;
use huddle_ports::queue::{validate_receive, validate_send, validate_visibility, MAX_RECEIVE_WAIT};
use huddle_ports::{Attributes, OutgoingMessage, Queue, QueueError, ReceivedMessage};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
    arn: String,
}

impl SqsQueue {
    /// The queue at `url`; `arn` is its address, what a topic subscription names.
    pub fn new(client: Client, url: impl Into<String>, arn: impl Into<String>) -> Self {
        Self { client, url: url.into(), arn: arn.into() }
    }
}

/// SQS error codes of requests that can never succeed as sent (the rest may on a retry).
const REFUSED: &[&str] = &[
    "BatchEntryIdsNotDistinct",
    "BatchRequestTooLong",
    "EmptyBatchRequest",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidBatchEntryId",
    "InvalidMessageContents",
    "InvalidParameterValue",
    "MessageNotInflight",
    "MissingParameter",
    "ReceiptHandleIsInvalid",
    "TooManyEntriesInBatchRequest",
];

fn queue_error<E, R>(error: SdkError<E, R>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match classify(error, REFUSED) {
        CallFailure::Refused(reason) => QueueError::Invalid(reason),
        CallFailure::Unavailable(reason) => QueueError::Unavailable(reason),
    }
}

/// SQS takes whole seconds; rounding up keeps "hidden for at least" and "wait at least" true.
fn whole_seconds(duration: Duration) -> i32 {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i32::try_from(seconds).expect("validated durations fit SQS's limits")
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

fn received(message: Message) -> Result<ReceivedMessage, QueueError> {
    let missing = |field: &str| QueueError::Unavailable(format!("SQS returned a message without {field}"));
    let receive_count = message
        .attributes
        .as_ref()
        .and_then(|system| system.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|count| count.parse().ok())
        .ok_or_else(|| missing("a receive count"))?;
    let attributes = message
        .message_attributes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.string_value?)))
        .collect();
    Ok(ReceivedMessage {
        message_id: message.message_id.ok_or_else(|| missing("an id"))?,
        receipt_handle: message.receipt_handle.ok_or_else(|| missing("a receipt handle"))?,
        body: message.body.unwrap_or_default(),
        attributes,
        receive_count,
    })
}

#[async_trait]
impl Queue for SqsQueue {
    fn address(&self) -> &str {
        &self.arn
    }

    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        validate_send(&messages)?;
        if messages.is_empty() {
            return Ok(());
        }
        let entries = messages
            .into_iter()
            .enumerate()
            .map(|(index, message)| {
                SendMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .message_body(message.body)
                    .set_message_attributes(string_attributes(message.attributes))
                    .build()
                    .expect("id and body are set")
            })
            .collect();
        let output = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(queue_error)?;
        match output.failed.first() {
            None => Ok(()),
            Some(failed) => {
                let reason = format!(
                    "message {} of the batch: {}: {}",
                    failed.id,
                    failed.code,
                    failed.message.as_deref().unwrap_or_default()
                );
                Err(if failed.sender_fault {
                    QueueError::Invalid(reason)
                } else {
                    QueueError::Unavailable(reason)
                })
            }
        }
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        validate_receive(max, visibility)?;
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max as i32)
            .visibility_timeout(whole_seconds(visibility))
            .wait_time_seconds(whole_seconds(wait.min(MAX_RECEIVE_WAIT)))
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(queue_error)?;
        output.messages.unwrap_or_default().into_iter().map(received).collect()
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }

    async fn release(&self, receipt_handle: &str, after: Duration) -> Result<(), QueueError> {
        validate_visibility(after)?;
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(whole_seconds(after))
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }
}
