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
