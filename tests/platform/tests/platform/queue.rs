use huddle_ports::queue::MAX_RECEIVE_WAIT;
use huddle_ports::{Attributes, OutgoingMessage, QueueError};
use huddle_test_support::queues::{receive_deliveries, PATIENCE};
use huddle_test_support::{on_both_families, Family};
use std::time::Duration;
use tokio::time::Instant;

/// The shortest visibility SQS takes (it counts whole seconds): a message hidden this long comes
/// back on its own within the test.
const BRIEF_VISIBILITY: Duration = Duration::from_secs(1);
/// Longer than any test runs: a message hidden this long comes back only if a test brings it back.
pub(crate) const HIDDEN: Duration = Duration::from_secs(120);

fn attributes(pairs: &[(&str, &str)]) -> Attributes {
    pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
}

pub(crate) fn message(body: &str, pairs: &[(&str, &str)]) -> OutgoingMessage {
    OutgoingMessage { body: body.into(), attributes: attributes(pairs) }
}

on_both_families!(
    send_receive_delete_round_trip_with_attributes,
    a_received_message_stays_hidden_until_its_visibility_timeout_passes,
    release_makes_a_message_visible_at_once,
    oversized_and_malformed_requests_are_refused,
    a_poison_message_moves_to_the_dead_letter_queue_while_its_batch_is_deleted,
    a_receive_waits_for_a_message_and_returns_as_soon_as_one_arrives,
);

async fn send_receive_delete_round_trip_with_attributes(family: Family) {
    let queue = family.backend().await.queue(None).await;
    let tagged = attributes(&[("event_type", "PostCreated"), ("stream", "post#01J")]);
    queue
        .send_batch(vec![
            OutgoingMessage { body: r#"{"post": 1}"#.into(), attributes: tagged.clone() },
            message("plain", &[]),
        ])
        .await
        .unwrap();
    queue.send_batch(vec![]).await.expect("an empty batch sends nothing");

    // Zero visibility leaves both messages visible, so an empty receive after the deletes below
    // shows they are gone rather than hidden.
    let received = receive_deliveries(&*queue, 2, Duration::ZERO).await;
    let (post, plain) = (received.only(r#"{"post": 1}"#), received.only("plain"));
    assert_eq!(post.attributes, tagged);
    assert_eq!(plain.attributes, Attributes::new());
    assert_ne!(post.message_id, plain.message_id);

    for message in [post, plain] {
        queue.delete(&message.receipt_handle).await.unwrap();
    }
    queue.delete(&post.receipt_handle).await.expect("deleting twice is harmless");
    assert_eq!(queue.receive(10, HIDDEN, Duration::ZERO).await.unwrap(), []);
}

async fn a_received_message_stays_hidden_until_its_visibility_timeout_passes(family: Family) {
    let queue = family.backend().await.queue(None).await;
    // Hidden far longer than the test runs, so "still hidden" holds however slow the machine.
    queue.send_batch(vec![message("held", &[])]).await.unwrap();
    let held = receive_deliveries(&*queue, 1, HIDDEN).await;
    assert_eq!(held.only("held").receive_count, 1);
    assert_eq!(queue.receive(10, HIDDEN, Duration::ZERO).await.unwrap(), [], "hidden while in flight");

    // Hidden briefly: it comes back on its own, as the same message with a new receipt.
    queue.send_batch(vec![message("brief", &[])]).await.unwrap();
    let first = receive_deliveries(&*queue, 1, BRIEF_VISIBILITY).await.only("brief").clone();
    assert_eq!(first.receive_count, 1);
    let second = receive_deliveries(&*queue, 1, HIDDEN).await;
    let second = second.only("brief");
    assert_eq!(second.message_id, first.message_id);
    assert_eq!(second.receive_count, 2);
    assert_ne!(second.receipt_handle, first.receipt_handle, "each delivery has its own receipt");
    queue.delete(&second.receipt_handle).await.unwrap();
    assert_eq!(queue.receive(10, HIDDEN, Duration::ZERO).await.unwrap(), [], "held is still hidden");
}

async fn release_makes_a_message_visible_at_once(family: Family) {
    let queue = family.backend().await.queue(None).await;
    queue.send_batch(vec![message("m", &[("k", "v")])]).await.unwrap();

    let first = receive_deliveries(&*queue, 1, HIDDEN).await.only("m").clone();
    assert_eq!(queue.receive(10, HIDDEN, Duration::ZERO).await.unwrap(), []);
    queue.release(&first.receipt_handle, Duration::ZERO).await.unwrap();

    // Hidden for far longer than the test can wait: only the release brings it back.
    let again = receive_deliveries(&*queue, 1, HIDDEN).await;
    let again = again.only("m");
    assert_eq!((again.message_id.as_str(), again.receive_count), (first.message_id.as_str(), 2));
    assert_eq!(again.attributes, attributes(&[("k", "v")]));
}

async fn oversized_and_malformed_requests_are_refused(family: Family) {
    let queue = family.backend().await.queue(None).await;
    let eleven = (0..11).map(|i| message(&format!("m{i}"), &[])).collect();
    let crowded: Vec<(String, String)> = (0..11).map(|i| (format!("a{i}"), "v".into())).collect();
    let refused = [
        queue.send_batch(eleven).await,
        queue
            .send_batch(vec![OutgoingMessage {
                body: "crowded".into(),
                attributes: crowded.into_iter().collect(),
            }])
            .await,
        queue.send_batch(vec![message("empty attribute", &[("k", "")])]).await,
        queue.receive(11, HIDDEN, Duration::ZERO).await.map(drop),
        queue.receive(0, HIDDEN, Duration::ZERO).await.map(drop),
        queue.delete("not a receipt").await,
        queue.release("not a receipt", Duration::ZERO).await,
    ];
    for (index, outcome) in refused.iter().enumerate() {
        assert!(matches!(outcome, Err(QueueError::Invalid(_))), "request {index}: {outcome:?}");
    }
    assert_eq!(queue.receive(10, HIDDEN, Duration::ZERO).await.unwrap(), [], "a refused send sends nothing");
}

async fn a_poison_message_moves_to_the_dead_letter_queue_while_its_batch_is_deleted(family: Family) {
    let backend = family.backend().await;
    let dead_letters = backend.queue(None).await;
    let queue = backend.queue(Some((&*dead_letters, 2))).await;
    queue
        .send_batch(vec![
            message("ok-1", &[]),
            message("poison", &[("event_type", "Broken")]),
            message("ok-2", &[]),
        ])
        .await
        .unwrap();

    // A consumer handles the batch and fails on the poison message, twice; a failed message is
    // released at once rather than left to a visibility timeout, so no step races a clock.
    let first = receive_deliveries(&*queue, 3, HIDDEN).await;
    assert!(first.0.iter().all(|m| m.receive_count == 1), "{first:?}");
    for handled in ["ok-1", "ok-2"] {
        queue.delete(&first.only(handled).receipt_handle).await.unwrap();
    }
    let poison = first.only("poison");
    queue.release(&poison.receipt_handle, Duration::ZERO).await.unwrap();
    let second = receive_deliveries(&*queue, 1, HIDDEN).await;
    assert_eq!(
        second.counts().into_keys().collect::<Vec<_>>(),
        ["poison"],
        "the handled messages stay deleted"
    );
    assert_eq!(second.only("poison").receive_count, 2);
    queue.release(&second.only("poison").receipt_handle, Duration::ZERO).await.unwrap();

    // Its next receive would be its third, over the limit: it moves instead of being delivered.
    let deadline = Instant::now() + PATIENCE;
    let dead = loop {
        let redelivered = queue.receive(10, HIDDEN, Duration::from_secs(1)).await.unwrap();
        assert_eq!(redelivered, [], "a message past its receive limit is never delivered");
        let dead = dead_letters.receive(10, HIDDEN, Duration::ZERO).await.unwrap();
        if !dead.is_empty() {
            break dead;
        }
        assert!(Instant::now() < deadline, "the poison message never reached the dead-letter queue");
    };
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].message_id, poison.message_id);
    assert_eq!(dead[0].body, "poison");
    assert_eq!(dead[0].attributes, attributes(&[("event_type", "Broken")]));
    assert_eq!(queue.receive(10, HIDDEN, Duration::ZERO).await.unwrap(), []);
}

async fn a_receive_waits_for_a_message_and_returns_as_soon_as_one_arrives(family: Family) {
    let queue = family.backend().await.queue(None).await;
    // On an empty queue a receive waits out its whole wait (it is not a short poll). A lower
    // bound: a slow machine only makes the receive take longer.
    let wait = Duration::from_secs(2);
    let started = Instant::now();
    assert_eq!(queue.receive(1, HIDDEN, wait).await.unwrap(), []);
    assert!(
        started.elapsed() >= wait,
        "an empty receive returned after {:?} of its {wait:?}",
        started.elapsed()
    );

    let (receiving, receive_started) = tokio::sync::oneshot::channel();
    let waiting = tokio::spawn({
        let queue = queue.clone();
        async move {
            receiving.send(()).unwrap();
            queue.receive(1, HIDDEN, MAX_RECEIVE_WAIT).await
        }
    });
    receive_started.await.unwrap();
    // Time for the receive to be waiting on the empty queue (the first half shows that it waits),
    // so the message arrives during its wait.
    tokio::time::sleep(wait).await;
    queue.send_batch(vec![message("wake up", &[])]).await.unwrap();
    // Well within the receive's own 20 s wait: only a wake-up on arrival returns it this soon.
    let received = tokio::time::timeout(MAX_RECEIVE_WAIT / 2, waiting)
        .await
        .expect("the waiting receive returns once a message arrives")
        .unwrap()
        .unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body, "wake up");
}
