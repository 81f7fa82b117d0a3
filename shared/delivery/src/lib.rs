//! The delivery runtime (../shared/DESIGN.md section 3): the stream fan-out that publishes every
//! stored event to the topic, the version-gated projector that turns queued events into
//! read-model writes, and the replay that rebuilds a read model from the log through it. None
//! knows a domain: domains plug in a [`Projection`].

mod dispatcher;
mod effects;
mod fan_out_writes;
mod fanout;
mod operations;
mod parking;
mod projected;
mod projector;
mod replay;
mod sweeper;
pub mod testing;

pub use dispatcher::{
    Dispatcher, Drained, LEASE, OUTBOX_PREFIX, PENDING_PREFIX, PENDING_SHARDS, WRITES_PER_EFFECT,
};
pub use effects::{
    Effect, EffectMessage, EffectSink, QueueSink, SinkError, Sinks, TopicSink, EFFECT_ID_ATTRIBUTE,
    EFFECT_SINK_ATTRIBUTE,
};
pub use fan_out_writes::{BATCHES_IN_FLIGHT, FAN_OUT_LEASE};
pub use fanout::fan_out;
pub use operations::{
    DeadLetter, Listing, Operation, OperationError, Operations, RetryReport, SkipReport, StreamRetry,
    REPLAY_SEGMENTS,
};
pub use parking::{skip_key, Parked, Skip, PARKED_INDEX, SKIPPED_PREFIX};
pub use projected::{FanOutWrite, Projected};
pub use projector::{
    applied_version, batch_failures, open_personal, Projection, ProjectionError, Projector, ProjectorError,
    SqsHandler, CATCH_UP_WINDOW, CHECKPOINT_PREFIX,
};
pub use replay::{replay, Progress, ReplayError, ReplayOptions, ReplayTarget, REPLAY_POSITION_PK};
pub use sweeper::{SweepReport, Sweeper, SETTLE_TIME, SWEEP_INTERVAL, SWEEP_LOOKBACK};
