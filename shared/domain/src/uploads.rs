//! Uploads: what hosts do for a domain that takes files. Clients PUT objects under the domain's
//! upload prefix through presigned URLs; the media bucket announces each object created there
//! on the domain's uploads queue (S3's event notification to SQS, the folder store's own on the
//! embedded family), and the queue's mapping hands the batches to [`Uploads`], which calls the
//! domain's [`UploadHandler`] for every object. A failure is retried as the queue retries; on a
//! message's last receive the handler is not tried again but told to give the object up
//! ([`UploadHandler::gave_up`]: the media says so to its owner), since an object that timed the
//! function out or took all its memory would do so again; only what cannot even be given up
//! reaches the queue's dead-letter queue.

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use huddle_delivery::{batch_failures, SqsHandler};
pub use huddle_ports::ObjectCreated;
use std::sync::Arc;

/// A domain's answer to one object created under its upload prefix.
#[async_trait]
pub trait UploadHandler: Send + Sync {
    /// Deal with `object`: `Ok` once it is done with for good, accepted or refused (a refusal a
    /// user should see is the domain's event, not an error); `Err` only for a failure worth
    /// trying again, such as a store that did not answer. Called again for an object it has
    /// dealt with (a redelivery), it must change nothing.
    async fn uploaded(&self, object: &ObjectCreated) -> Result<(), UploadError>;

    /// `object` was not dealt with on any receive but the last, which calls this instead: end
    /// it for good (a refusal its owner sees), so nothing waits on it forever. `Err` leaves the
    /// message to the dead-letter queue.
    async fn gave_up(&self, object: &ObjectCreated) -> Result<(), UploadError>;
}

/// A failure worth retrying; its text is logged, so it names no personal data.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UploadError(pub String);

/// The uploads queue's handler: each message a notification, each of its objects handed to the
/// domain; the messages that failed are reported, so only they come back.
pub struct Uploads {
    handler: Arc<dyn UploadHandler>,
    /// The queue's redrive limit: an object still failing on a message's receive this high is
    /// given up. `None`: never (the message goes on to the dead-letter queue).
    max_receives: Option<u32>,
}

/// The SQS attribute that counts a message's receives, this one included.
const RECEIVE_COUNT: &str = "ApproximateReceiveCount";

impl Uploads {
    pub fn new(handler: Arc<dyn UploadHandler>) -> Self {
        Self { handler, max_receives: None }
    }

    /// Give an object up when it still fails on receive number `max_receives` of its message
    /// (the queue's redrive limit).
    pub fn with_max_receives(self, max_receives: u32) -> Self {
        Self { max_receives: Some(max_receives.max(1)), ..self }
    }

    /// Whether every object `body` announces was dealt with (or, on the last receive, given up).
    async fn deliver(&self, message_id: &str, body: Option<&str>, receive_count: u32) -> bool {
        let objects = match huddle_ports::objects_created(body.unwrap_or_default()) {
            Ok(objects) => objects,
            Err(error) => {
                // Nothing but the bucket sends here: a message of another shape waits in the
                // dead-letter queue for an operator.
                tracing::error!(%message_id, %error, "not an upload notification");
                return false;
            }
        };
        let last_receive = self.max_receives.is_some_and(|max| receive_count >= max);
        let mut dealt_with = true;
        for object in &objects {
            // Each earlier receive tried and failed, or took the function down (a timeout, out
            // of memory): the last one gives up without trying again, so nothing waits forever.
            if last_receive {
                tracing::error!(%message_id, receive_count, "upload not dealt with by its last receive; given up");
                if let Err(error) = self.handler.gave_up(object).await {
                    tracing::error!(%message_id, %error, "upload not given up; it goes to the dead-letter queue");
                    dealt_with = false;
                }
                continue;
            }
            if let Err(error) = self.handler.uploaded(object).await {
                tracing::warn!(%message_id, %error, "upload not dealt with; it is tried again");
                dealt_with = false;
            }
        }
        dealt_with
    }
}

#[async_trait]
impl SqsHandler for Uploads {
    async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let deliveries = event.records.iter().map(|message| async move {
            let message_id = message.message_id.clone().unwrap_or_default();
            let receive_count =
                message.attributes.get(RECEIVE_COUNT).and_then(|n| n.parse().ok()).unwrap_or(1);
            let dealt_with = self.deliver(&message_id, message.body.as_deref(), receive_count).await;
            (!dealt_with).then_some(message_id)
        });
        batch_failures(futures::future::join_all(deliveries).await.into_iter().flatten())
    }
}
