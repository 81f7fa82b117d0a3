//! The Topic port in process: SNS filter-policy semantics and raw delivery to subscribed queues.

use async_trait::async_trait;
use huddle_ports::topic::validate_publish;
use huddle_ports::{FilterPolicy, OutgoingMessage, PublishFailure, Queue, Topic, TopicError, TopicMessage};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A topic that delivers each published message, synchronously, to every subscribed queue whose
/// filter policy matches the message's attributes.
#[derive(Default)]
pub struct InProcessTopic {
    /// Replaced whole on subscribe, so a publish reads a snapshot without holding the lock.
    subscriptions: Mutex<Arc<Vec<Subscription>>>,
}

#[derive(Clone)]
struct Subscription {
    policy: FilterPolicy,
    queue: Arc<dyn Queue>,
}

impl InProcessTopic {
    fn locked_subscriptions(&self) -> std::sync::MutexGuard<'_, Arc<Vec<Subscription>>> {
        // The list is only ever extended by one push, so a poisoned lock still holds a whole list.
        self.subscriptions.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Topic for InProcessTopic {
    async fn publish_batch(&self, messages: Vec<TopicMessage>) -> Result<Vec<PublishFailure>, TopicError> {
        validate_publish(&messages)?;
        let subscriptions = Arc::clone(&self.locked_subscriptions());
        // One send per subscribed queue carries every message of the batch that matches it.
        let mut failed: HashMap<&str, String> = HashMap::new();
        for subscription in subscriptions.iter() {
            let matching: Vec<&TopicMessage> =
                messages.iter().filter(|m| subscription.policy.matches(&m.attributes)).collect();
            if matching.is_empty() {
                continue;
            }
            let batch = matching
                .iter()
                .map(|m| OutgoingMessage { body: m.body.clone(), attributes: m.attributes.clone() })
                .collect();
            if let Err(error) = subscription.queue.send_batch(batch).await {
                let reason = format!("delivery to {} failed: {error}", subscription.queue.address());
                for message in matching {
                    failed.entry(message.id.as_str()).or_insert_with(|| reason.clone());
                }
            }
        }
        Ok(messages
            .iter()
            .filter_map(|m| {
                failed.remove(m.id.as_str()).map(|reason| PublishFailure { id: m.id.clone(), reason })
            })
            .collect())
    }

    async fn subscribe(&self, queue: Arc<dyn Queue>, policy: &FilterPolicy) -> Result<(), TopicError> {
        let mut subscriptions = self.locked_subscriptions();
        if let Some(existing) = subscriptions.iter().find(|s| s.queue.address() == queue.address()) {
            return if existing.policy == *policy {
                Ok(())
            } else {
                Err(TopicError::Invalid(format!(
                    "{} is already subscribed with another filter policy",
                    queue.address()
                )))
            };
        }
        Arc::make_mut(&mut subscriptions).push(Subscription { policy: policy.clone(), queue });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Database, SqliteQueue};
    use huddle_ports::{Attributes, ReceivedMessage};
    use serde_json::json;
    use std::time::Duration;

    /// A queue that refuses every send, as an unreachable one would.
    struct UnreachableQueue;

    #[async_trait]
    impl Queue for UnreachableQueue {
        fn address(&self) -> &str {
            "unreachable"
        }
        async fn send_batch(&self, _: Vec<OutgoingMessage>) -> Result<(), huddle_ports::QueueError> {
            Err(huddle_ports::QueueError::Unavailable("down".into()))
        }
        async fn receive(
            &self,
            _: usize,
            _: Duration,
            _: Duration,
        ) -> Result<Vec<ReceivedMessage>, huddle_ports::QueueError> {
            unreachable!("the topic only sends")
        }
        async fn delete(&self, _: &str) -> Result<(), huddle_ports::QueueError> {
            unreachable!("the topic only sends")
        }
        async fn release(&self, _: &str, _: Duration) -> Result<(), huddle_ports::QueueError> {
            unreachable!("the topic only sends")
        }
    }

    fn message(id: &str, kind: &str) -> TopicMessage {
        let attributes: Attributes = [("kind".to_owned(), kind.to_owned())].into();
        TopicMessage { id: id.into(), body: id.into(), attributes }
    }

    #[tokio::test]
    async fn a_failed_delivery_fails_only_the_messages_it_carried() {
        let db = Database::in_memory().unwrap();
        let healthy = Arc::new(SqliteQueue::new(&db, "healthy", None));
        let topic = InProcessTopic::default();
        topic.subscribe(healthy.clone(), &FilterPolicy::attribute_in("kind", &["a", "b"])).await.unwrap();
        topic
            .subscribe(Arc::new(UnreachableQueue), &FilterPolicy::attribute_in("kind", &["b"]))
            .await
            .unwrap();
        let other_policy = FilterPolicy::parse(json!({"kind": [{"prefix": "c"}]})).unwrap();
        let refused = topic.subscribe(healthy.clone(), &other_policy).await;
        assert!(matches!(refused, Err(TopicError::Invalid(_))), "{refused:?}");

        let failures =
            topic.publish_batch(vec![message("first", "a"), message("second", "b")]).await.unwrap();
        let failed: Vec<&str> = failures.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(failed, ["second"], "{failures:?}");
        let delivered = healthy.receive(10, Duration::from_secs(60), Duration::ZERO).await.unwrap();
        let bodies: Vec<&str> = delivered.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["first", "second"], "the healthy subscription still got both");
    }
}
