//! The delivery runtime (../shared/DESIGN.md section 3): the stream fan-out that publishes every
//! stored event to the topic, and the version-gated projector that turns queued events into
//! read-model writes. Neither knows a domain: domains plug in a [`Projection`].

mod dispatcher;
mod effects;
mod fanout;
mod projected;
mod projector;

pub use dispatcher::{
    Dispatcher, Drained, LEASE, OUTBOX_PREFIX, PENDING_PREFIX, PENDING_SHARDS, WRITES_PER_EFFECT,
};
pub use effects::{
    Effect, EffectMessage, EffectSink, QueueSink, SinkError, Sinks, TopicSink, EFFECT_ID_ATTRIBUTE,
    EFFECT_SINK_ATTRIBUTE,
};
pub use fanout::fan_out;
pub use projected::Projected;
pub use projector::{Projection, ProjectionError, Projector, ProjectorError, SqsHandler, CHECKPOINT_PREFIX};
