//! Side effects a projection asks for (a push, a message to another domain's queue), and the
//! sinks that perform them. A projection never performs an effect itself: it returns it in its
//! [`Projected`](crate::Projected), the projector records it in the outbox inside the event's
//! transaction, and the [`Dispatcher`](crate::Dispatcher) hands it to its sink once.

use async_trait::async_trait;
use huddle_ports::{Attributes, OutgoingMessage, Queue, QueueError, Topic, TopicError, TopicMessage};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use ulid::Ulid;

/// The message attribute that carries an effect's id on everything a sink sends, so a consumer
/// can drop the rare repeat (see the outbox invariant in ARCHITECTURE.md).
pub const EFFECT_ID_ATTRIBUTE: &str = "effect_id";

/// The message attribute naming the sink an effect went to: a topic's subscriptions filter on it.
pub const EFFECT_SINK_ATTRIBUTE: &str = "effect_sink";

/// One side effect of one event: a message `body` for the sink named `sink`. `key` tells the
/// event's effects on one sink apart (a recipient id, say); with the event id it fixes the
/// effect's id, so every application of the event names the same effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub sink: String,
    pub key: String,
    pub body: String,
}

impl Effect {
    pub fn new(sink: impl Into<String>, key: impl Into<String>, body: impl Into<String>) -> Self {
        Self { sink: sink.into(), key: key.into(), body: body.into() }
    }

    /// The effect's id when `event_id` causes it: the event id, then the first 8 bytes of the
    /// SHA-256 of sink and key in hex (43 characters, letters, digits and `-`, so SNS takes it as
    /// a batch entry id and both SNS and SQS as an attribute value, whatever the key holds).
    pub fn id(&self, event_id: &Ulid) -> String {
        let digest = Sha256::new()
            .chain_update(self.sink.as_bytes())
            .chain_update([0])
            .chain_update(self.key.as_bytes())
            .finalize();
        format!("{event_id}-{}", hex::encode(&digest[..8]))
    }
}

/// What a sink is handed: an effect's id, body and the attributes every effect carries.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectMessage {
    pub id: String,
    pub body: String,
    pub attributes: Attributes,
}

impl EffectMessage {
    pub fn new(id: &str, sink: &str, body: &str) -> Self {
        let attributes = Attributes::from([
            (EFFECT_ID_ATTRIBUTE.to_owned(), id.to_owned()),
            (EFFECT_SINK_ATTRIBUTE.to_owned(), sink.to_owned()),
        ]);
        Self { id: id.to_owned(), body: body.to_owned(), attributes }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The sink will never take this message as it is (a bug, or a sink misconfigured).
    #[error("sink refused the effect: {0}")]
    Refused(String),
    /// Throttled or unreachable: the effect is performed again later.
    #[error("sink unavailable: {0}")]
    Unavailable(String),
}

/// Where effects go. An error means the sink did not perform the effect as far as it knows
/// (SQS and SNS may still have delivered a message they answered with an error).
#[async_trait]
pub trait EffectSink: Send + Sync {
    async fn send(&self, message: &EffectMessage) -> Result<(), SinkError>;
}

/// Effects sent as messages to a queue.
pub struct QueueSink(pub Arc<dyn Queue>);

#[async_trait]
impl EffectSink for QueueSink {
    async fn send(&self, message: &EffectMessage) -> Result<(), SinkError> {
        let outgoing = OutgoingMessage { body: message.body.clone(), attributes: message.attributes.clone() };
        self.0.send_batch(vec![outgoing]).await.map_err(|error| match error {
            QueueError::Invalid(reason) => SinkError::Refused(reason),
            QueueError::Unavailable(reason) => SinkError::Unavailable(reason),
        })
    }
}

/// Effects published to a topic, each with the effect's id as its batch entry id.
pub struct TopicSink(pub Arc<dyn Topic>);

#[async_trait]
impl EffectSink for TopicSink {
    async fn send(&self, message: &EffectMessage) -> Result<(), SinkError> {
        let outgoing = TopicMessage {
            id: message.id.clone(),
            body: message.body.clone(),
            attributes: message.attributes.clone(),
        };
        let failures = self.0.publish_batch(vec![outgoing]).await.map_err(|error| match error {
            TopicError::Invalid(reason) => SinkError::Refused(reason),
            TopicError::Unavailable(reason) => SinkError::Unavailable(reason),
        })?;
        match failures.into_iter().next() {
            None => Ok(()),
            Some(failure) => Err(SinkError::Unavailable(failure.reason)),
        }
    }
}

/// The sinks a projector's effects may name, by name.
#[derive(Clone, Default)]
pub struct Sinks(BTreeMap<String, Arc<dyn EffectSink>>);

impl Sinks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `sink` under `name`, replacing any sink of that name.
    pub fn sink(mut self, name: impl Into<String>, sink: Arc<dyn EffectSink>) -> Self {
        self.0.insert(name.into(), sink);
        self
    }

    /// Effects named `name` become messages on `queue`.
    pub fn queue(self, name: impl Into<String>, queue: Arc<dyn Queue>) -> Self {
        self.sink(name, Arc::new(QueueSink(queue)))
    }

    /// Effects named `name` are published to `topic`.
    pub fn topic(self, name: impl Into<String>, topic: Arc<dyn Topic>) -> Self {
        self.sink(name, Arc::new(TopicSink(topic)))
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn EffectSink>> {
        self.0.get(name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_effects_id_depends_on_its_event_sink_and_key_only() {
        let event = Ulid::from_string("01JABCDEFGHJKMNPQRSTVWXYZ0").unwrap();
        let effect = Effect::new("push", "acc_1", "hello");
        let id = effect.id(&event);
        assert_eq!(id, Effect::new("push", "acc_1", "another body").id(&event));
        assert_ne!(id, Effect::new("push", "acc_2", "hello").id(&event));
        assert_ne!(id, Effect::new("mail", "acc_1", "hello").id(&event));
        assert_ne!(id, effect.id(&Ulid::from_string("01JABCDEFGHJKMNPQRSTVWXYZ1").unwrap()));
        // Sink and key are separated, so moving a character from one to the other changes the id.
        assert_ne!(Effect::new("ab", "c", "").id(&event), Effect::new("a", "bc", "").id(&event));
        assert_eq!(id.len(), 43);
        assert!(id.starts_with("01JABCDEFGHJKMNPQRSTVWXYZ0-"));
    }

    #[test]
    fn an_effects_id_is_a_valid_sns_entry_id_whatever_its_key_holds() {
        let event = Ulid::new();
        let id = Effect::new("push", "ключ with spaces/and:colons".repeat(100), "").id(&event);
        let message = TopicMessage { id, ..Default::default() };
        huddle_ports::topic::validate_publish(&[message]).expect("SNS takes the id");
    }
}
