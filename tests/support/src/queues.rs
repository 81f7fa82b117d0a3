//! Receiving from a queue in tests: with a bounded deadline, never by asserting on elapsed time.

use huddle_ports::{Queue, ReceivedMessage};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// How long a test waits for what should happen within a few seconds; only a broken adapter
/// makes a test wait this long.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Every delivery a test received, in arrival order: two copies of one message are two entries,
/// so a test can tell "arrived once" from "arrived twice".
#[derive(Debug)]
pub struct Deliveries(pub Vec<ReceivedMessage>);

impl Deliveries {
    /// How many deliveries carried each body.
    pub fn counts(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for message in &self.0 {
            *counts.entry(message.body.as_str()).or_default() += 1;
        }
        counts
    }

    /// The one delivery of `body`; fails the test if it arrived never or more than once.
    pub fn only(&self, body: &str) -> &ReceivedMessage {
        let mut carrying = self.0.iter().filter(|message| message.body == body);
        let first = carrying.next().unwrap_or_else(|| panic!("{body:?} never arrived: {self:?}"));
        assert!(carrying.next().is_none(), "{body:?} arrived more than once: {self:?}");
        first
    }
}

/// Receives, hiding each message for `visibility`, until at least `count` deliveries have
/// arrived, and returns all of them. Fails the test if fewer arrive within [`PATIENCE`].
pub async fn receive_deliveries(queue: &dyn Queue, count: usize, visibility: Duration) -> Deliveries {
    let deadline = Instant::now() + PATIENCE;
    let mut received = Vec::new();
    while received.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} deliveries arrived: {received:?}",
            received.len()
        );
        received.extend(queue.receive(10, visibility, Duration::from_secs(1)).await.expect("receive"));
    }
    Deliveries(received)
}
