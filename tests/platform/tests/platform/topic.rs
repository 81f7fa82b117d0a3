use huddle_ports::topic::MAX_PUBLISH_BATCH_BYTES;
use huddle_ports::{Attributes, FilterPolicy, TopicError, TopicMessage};
use huddle_test_support::queues::receive_deliveries;
use huddle_test_support::{on_both_families, Family};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// Longer than any test runs, so nothing received is redelivered mid-test.
const HIDDEN: Duration = Duration::from_secs(120);

pub(crate) fn message(id: &str, body: &str, pairs: &[(&str, &str)]) -> TopicMessage {
    let attributes: Attributes = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TopicMessage { id: id.into(), body: body.into(), attributes }
}

on_both_families!(
    fan_out_delivers_exactly_the_matching_messages_intact,
    oversized_and_ambiguous_batches_are_refused
);

async fn fan_out_delivers_exactly_the_matching_messages_intact(family: Family) {
    let backend = family.backend().await;
    let topic = backend.topic().await;
    let posts = backend.queue(None).await;
    let traced = backend.queue(None).await;
    // An exact list and a prefix, both required.
    let posts_policy = FilterPolicy::parse(json!({
        "event_type": ["PostCreated", "PostDeleted"],
        "stream": [{"prefix": "post#"}],
    }))
    .unwrap();
    // Anything but one value, and an attribute that must be present.
    let traced_policy = FilterPolicy::parse(json!({
        "event_type": [{"anything-but": ["PostCreated"]}],
        "correlation": [{"exists": true}],
    }))
    .unwrap();
    topic.subscribe(posts.clone(), &posts_policy).await.unwrap();
    topic.subscribe(posts.clone(), &posts_policy).await.expect("subscribing again is idempotent");
    topic.subscribe(traced.clone(), &traced_policy).await.unwrap();

    let batch = vec![
        message(
            "created",
            r#"{"n":1}"#,
            &[("event_type", "PostCreated"), ("stream", "post#1"), ("correlation", "c1")],
        ),
        message(
            "deleted",
            r#"{"n":2}"#,
            &[("event_type", "PostDeleted"), ("stream", "post#2"), ("correlation", "c2")],
        ),
        message(
            "liked",
            r#"{"n":3}"#,
            &[("event_type", "LikeAdded"), ("stream", "like#1"), ("correlation", "c3")],
        ),
        message("off-prefix", r#"{"n":4}"#, &[("event_type", "PostDeleted"), ("stream", "like#9")]),
        message("untraced", r#"{"n":5}"#, &[("event_type", "LikeAdded"), ("stream", "post#3")]),
    ];
    assert_eq!(topic.publish_batch(batch.clone()).await.unwrap(), []);

    for (queue, expected) in [(&posts, ["created", "deleted"]), (&traced, ["deleted", "liked"])] {
        let published: Vec<&TopicMessage> =
            batch.iter().filter(|m| expected.contains(&m.id.as_str())).collect();
        let received = receive_deliveries(&**queue, published.len(), HIDDEN).await;
        let once: BTreeMap<&str, usize> = published.iter().map(|m| (m.body.as_str(), 1)).collect();
        assert_eq!(
            received.counts(),
            once,
            "{} gets each matching message exactly once (the posts queue is subscribed twice)",
            queue.address()
        );
        for sent in &published {
            assert_eq!(
                received.only(&sent.body).attributes,
                sent.attributes,
                "{} arrives with its attributes as published",
                sent.id
            );
        }
        let extra = queue.receive(10, HIDDEN, Duration::from_secs(1)).await.unwrap();
        assert!(
            extra.is_empty(),
            "{} got messages its policy does not match, or a copy twice: {extra:?}",
            queue.address()
        );
    }
}

async fn oversized_and_ambiguous_batches_are_refused(family: Family) {
    let backend = family.backend().await;
    let topic = backend.topic().await;
    let queue = backend.queue(None).await;
    topic
        .subscribe(queue.clone(), &FilterPolicy::parse(json!({"kind": [{"exists": true}]})).unwrap())
        .await
        .unwrap();
    let one = |id: &str| message(id, "body", &[("kind", "k")]);
    // The bodies alone fit SNS's 256 KiB per publish; with their attributes (name, data type
    // "String" and value: 11 bytes each) they are 12 bytes over.
    let half = "x".repeat((MAX_PUBLISH_BATCH_BYTES - 10) / 2);
    let heavy = |id: &str| message(id, &half, &[("kind", "k")]);

    let refused = [
        topic.publish_batch((0..11).map(|i| one(&format!("m{i}"))).collect()).await,
        topic.publish_batch(vec![heavy("h1"), heavy("h2")]).await,
        topic.publish_batch(vec![one("same"), one("same")]).await,
        topic.publish_batch(vec![one("not an id!")]).await,
        topic.publish_batch(vec![message("empty", "body", &[("kind", "")])]).await,
    ];
    for (index, outcome) in refused.iter().enumerate() {
        assert!(matches!(outcome, Err(TopicError::Invalid(_))), "batch {index}: {outcome:?}");
    }
    assert_eq!(topic.publish_batch(vec![]).await.unwrap(), [], "an empty batch publishes nothing");
    let delivered = queue.receive(10, HIDDEN, Duration::from_secs(1)).await.unwrap();
    assert!(delivered.is_empty(), "a refused batch delivers nothing: {delivered:?}");
}
