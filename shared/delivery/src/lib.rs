//! The delivery runtime (../shared/DESIGN.md section 3): the stream fan-out that publishes every
//! stored event to the topic, the version-gated projector that turns queued events into
//! read-model writes, and the replay that rebuilds a read model from the log through it. None
//! knows a domain: domains plug in a [`Projection`].

mod fanout;
mod projected;
mod projector;
mod replay;

pub use fanout::fan_out;
pub use projected::Projected;
pub use projector::{Projection, ProjectionError, Projector, ProjectorError, SqsHandler, CHECKPOINT_PREFIX};
pub use replay::{replay, Progress, ReplayError, ReplayOptions, ReplayTarget, REPLAY_POSITION_PK};
