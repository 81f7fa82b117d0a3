//! The delivery runtime (../shared/DESIGN.md section 3): the stream fan-out that publishes every
//! stored event to the topic, and the version-gated projector that turns queued events into
//! read-model writes. Neither knows a domain: domains plug in a [`Projection`].

mod fan_out_writes;
mod fanout;
mod projected;
mod projector;

pub use fan_out_writes::{BATCHES_IN_FLIGHT, FAN_OUT_LEASE};
pub use fanout::fan_out;
pub use projected::{FanOutWrite, Projected};
pub use projector::{Projection, ProjectionError, Projector, ProjectorError, SqsHandler, CHECKPOINT_PREFIX};
