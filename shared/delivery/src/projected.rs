//! What one event makes a projection do.

use crate::Effect;
use huddle_ports::{BatchWrite, TransactWrite};

/// One fan-out write: put an item or delete a key, unconditionally (a batch write).
pub type FanOutWrite = BatchWrite;

/// A projection's answer to one event. The runtime commits `writes` with the stream's
/// checkpoint in one transaction, so each takes effect exactly once whatever the delivery order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Projected {
    /// Read-model changes in the event's transaction: at most 99 with the effects' writes (the
    /// checkpoint is the 100th); counters on items other streams own change by
    /// `TransactWrite::Add`, never read-then-put.
    pub writes: Vec<TransactWrite>,
    /// Writes to other partitions, any number (a post into 10,000 feeds): written in batches
    /// before the transaction, which commits only once all have landed. Each must be idempotent
    /// with a key derived from the event (never a fresh id), no two on one key: a redelivery or
    /// a crash mid-way writes them again, and the stream's lease keeps a duplicate delivery from
    /// writing them after a later event of the stream replaced or deleted them.
    pub fan_out: Vec<FanOutWrite>,
    /// Side effects, recorded in the outbox in the same transaction (each costs
    /// [`WRITES_PER_EFFECT`](crate::WRITES_PER_EFFECT) of its writes) and performed once after.
    pub effects: Vec<Effect>,
}

impl Projected {
    /// Nothing to do for this event (its version is still recorded).
    pub fn nothing() -> Self {
        Self::default()
    }

    /// These writes, with `fan_out` as their fan-out writes.
    pub fn with_fan_out(self, fan_out: Vec<FanOutWrite>) -> Self {
        Self { fan_out, ..self }
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.fan_out.is_empty() && self.effects.is_empty()
    }
}

impl From<Vec<TransactWrite>> for Projected {
    fn from(writes: Vec<TransactWrite>) -> Self {
        Self { writes, ..Self::default() }
    }
}
