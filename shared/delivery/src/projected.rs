//! What one event makes a projection do.

use crate::Effect;
use huddle_ports::TransactWrite;

/// A projection's answer to one event. The runtime commits `writes` with the stream's
/// checkpoint in one transaction, so each takes effect exactly once whatever the delivery order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Projected {
    /// Read-model changes in the event's transaction: at most 99 with the effects' writes (the
    /// checkpoint is the 100th); counters on items other streams own change by
    /// `TransactWrite::Add`, never read-then-put.
    pub writes: Vec<TransactWrite>,
    /// Side effects, recorded in the outbox in the same transaction (each costs
    /// [`WRITES_PER_EFFECT`](crate::WRITES_PER_EFFECT) of its writes) and performed once after.
    pub effects: Vec<Effect>,
}

impl Projected {
    /// Nothing to do for this event (its version is still recorded).
    pub fn nothing() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.effects.is_empty()
    }
}

impl From<Vec<TransactWrite>> for Projected {
    fn from(writes: Vec<TransactWrite>) -> Self {
        Self { writes, ..Self::default() }
    }
}
