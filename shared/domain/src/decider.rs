//! Deciders: an aggregate as two pure functions, `decide` (a command against the state: the
//! events it causes, or why not) and `evolve` (the state after an event), and the one way a
//! command runs against the log ([`Execution`]): load the stream (from its snapshot), fold it,
//! decide, append at the version it was loaded at, and decide again on a conflict, a bounded
//! number of times. [`testing`] checks a decider with `given(..).when(..).then(..)`.

mod execute;
mod stream;
pub mod testing;

pub use execute::{refused, Also, ExecuteError, Executed, Execution, EXECUTE_ATTEMPTS};
pub use stream::{load, Current, StreamError};

use huddle_eventstore::SnapshotPolicy;

/// One kind of aggregate, decided and folded without I/O.
pub trait Decider {
    /// What the stream's events fold into; `Default` is the state of a stream with no events.
    type State: Default + Clone;
    type Command;
    type Event;
    /// Why a command is refused (nothing is appended then).
    type Error;

    /// How the aggregate's streams are snapshotted; `None`: loaded from their first event.
    const SNAPSHOTS: Option<SnapshotPolicy> = None;

    /// The events `command` causes in `state`; none when it changes nothing.
    fn decide(state: &Self::State, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// The data subject whose key seals the personal fields of `stream`'s events (and its
    /// snapshots); `None`: nothing in the stream is sealed.
    fn data_subject(_stream: &str) -> Option<&str> {
        None
    }
}
