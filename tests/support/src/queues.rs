//! Receiving from a queue in tests: with a bounded deadline, never by asserting on elapsed time.

use huddle_ports::{Queue, ReceivedMessage};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// How long a test waits for what should happen within a few seconds; only a broken adapter
/// makes a test wait this long.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Receives, hiding each message for `visibility`, until messages with `count` distinct bodies
/// have arrived; keyed by body, each with its latest delivery (whose receipt is the live one).
/// Fails the test if they do not all arrive within [`PATIENCE`].
pub async fn receive_bodies(
    queue: &dyn Queue,
    count: usize,
    visibility: Duration,
) -> BTreeMap<String, ReceivedMessage> {
    let deadline = Instant::now() + PATIENCE;
    let mut received = BTreeMap::new();
    while received.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} messages arrived: {:?}",
            received.len(),
            received.keys()
        );
        for message in queue.receive(10, visibility, Duration::from_secs(1)).await.expect("receive") {
            received.insert(message.body.clone(), message);
        }
    }
    received
}
