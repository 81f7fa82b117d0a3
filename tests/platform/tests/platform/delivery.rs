//! The delivery runtime on both families: the fan-out fed by each family's real change stream,
//! and the version-gated projector under duplicated, shuffled and gapped delivery.

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use huddle_delivery::{fan_out, Projector};
use huddle_domain::Domain;
use huddle_eventstore::{
    AppendError, Envelope, EventStore, ExpectedVersion, Metadata, NewEvent, MAX_EVENT_BYTES, MAX_NAME_BYTES,
};
use huddle_ports::queue::MAX_QUEUE_BATCH;
use huddle_ports::{FilterPolicy, Item, PublishFailure, Queue, Table, Topic, TopicError, TopicMessage};
use huddle_test_support::notes::{events, stream_of, NoteEvent, NotesProjection};
use huddle_test_support::notes_api::NotesDomain;
use huddle_test_support::queues::receive_deliveries;
use huddle_test_support::seed::seeded_rng;
use huddle_test_support::{on_both_families, Family};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A topic that records every publish call and fails the messages whose body matches.
#[derive(Default)]
struct RecordingTopic {
    calls: Mutex<Vec<Vec<TopicMessage>>>,
    fail_body_containing: Option<String>,
}

#[async_trait]
impl Topic for RecordingTopic {
    async fn publish_batch(&self, messages: Vec<TopicMessage>) -> Result<Vec<PublishFailure>, TopicError> {
        let failures = messages
            .iter()
            .filter(|m| {
                self.fail_body_containing.as_ref().is_some_and(|needle| m.body.contains(needle.as_str()))
            })
            .map(|m| PublishFailure { id: m.id.clone(), reason: "injected".into() })
            .collect();
        self.calls.lock().unwrap().push(messages);
        Ok(failures)
    }

    async fn subscribe(&self, _queue: Arc<dyn Queue>, _policy: &FilterPolicy) -> Result<(), TopicError> {
        unreachable!("the fan-out never subscribes")
    }
}

/// Appends `count` note events spread over five streams (write, then edits and likes).
async fn append_notes(store: &EventStore, count: usize) -> Vec<Envelope> {
    let meta = Metadata::new("corr-delivery").actor("acc_test");
    for n in 0..count {
        let id = format!("n{}", n % 5);
        let event = match n / 5 {
            0 => NoteEvent::NoteWritten { text: format!("note {id}") },
            round if round % 2 == 1 => NoteEvent::NoteLiked { by: format!("acc_{round}") },
            round => NoteEvent::NoteEdited { text: format!("edit {round}") },
        };
        store.append(&stream_of(&id), ExpectedVersion::Any, events(&[event]), &meta, None).await.unwrap();
    }
    let mut all = Vec::new();
    for n in 0..5.min(count) {
        all.extend(store.read_stream(&stream_of(&format!("n{n}")), 1..).await.unwrap());
    }
    all
}

on_both_families!(
    fan_out_publishes_every_stored_event_in_batches_of_ten,
    fan_out_stops_at_the_first_failed_record,
    ten_events_of_the_largest_size_fit_one_publish,
    duplicated_shuffled_delivery_matches_an_in_order_run,
    a_gap_is_filled_from_the_event_store,
    a_failed_stream_reports_every_message_of_it,
    replay_rebuilds_a_projection_from_the_log,
);

async fn fan_out_publishes_every_stored_event_in_batches_of_ten(family: Family) {
    let backend = family.backend().await;
    let (events_table, mut stream) = backend.streamed_table().await;
    let store = EventStore::new(events_table);
    append_notes(&store, 25).await;
    // Idempotency records are in the same table but are not events.
    let key = Some(huddle_eventstore::Idempotency { key: "k".into(), receipt: None });
    store
        .append(
            "note#extra",
            ExpectedVersion::Any,
            events(&[NoteEvent::NoteDeleted]),
            &Metadata::new("c"),
            key,
        )
        .await
        .unwrap();

    let batch = stream.read_at_least(27).await;
    assert_eq!(batch.records.len(), 27, "25 events, one more event and its idempotency record");
    let topic = RecordingTopic::default();
    let response = fan_out(&topic, batch).await;
    assert!(response.batch_item_failures.is_empty());

    let calls = topic.calls.lock().unwrap();
    assert_eq!(calls.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 6], "⌈26/10⌉ calls");
    let published: Vec<Envelope> =
        calls.iter().flatten().map(|m| serde_json::from_str(&m.body).unwrap()).collect();
    let first = &calls[0][0];
    assert_eq!(first.attributes["event_type"], published[0].event_type);
    assert_eq!(first.attributes["stream_type"], "note");
    assert_eq!(first.attributes["correlation_id"], "corr-delivery");
    // Within a stream, the topic sees versions in order.
    for n in 0..5 {
        let stream = stream_of(&format!("n{n}"));
        let versions: Vec<u64> = published.iter().filter(|e| e.stream == stream).map(|e| e.version).collect();
        assert_eq!(versions, [1, 2, 3, 4, 5]);
    }
}

async fn fan_out_stops_at_the_first_failed_record(family: Family) {
    let backend = family.backend().await;
    let (events_table, mut stream) = backend.streamed_table().await;
    let store = EventStore::new(events_table);
    append_notes(&store, 15).await;
    let batch = stream.read_at_least(15).await;
    // Fail the 13th record: the first call publishes records 1-10 and the second 11-15.
    let failing: Envelope = {
        let item: Item = serde_dynamo::from_item(batch.records[12].change.new_image.clone()).unwrap();
        Envelope::from_item(&item).unwrap().unwrap()
    };
    let topic =
        RecordingTopic { fail_body_containing: Some(failing.event_id.to_string()), ..Default::default() };
    let expected_sequence = batch.records[12].change.sequence_number.clone();

    let response = fan_out(&topic, batch).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, expected_sequence);
    assert_eq!(topic.calls.lock().unwrap().len(), 2, "nothing is published after the failed chunk");
}

/// Appends one event to `stream` whose stored envelope is as large as the store takes, give or
/// take the few digits by which the timestamp's length varies.
async fn append_largest(store: &EventStore, stream: &str, event_type: &str, meta: &Metadata) {
    let mut padding = MAX_EVENT_BYTES;
    loop {
        let payload = json!({ "padding": "x".repeat(padding) });
        let event = NewEvent { event_type: event_type.into(), schema_version: 1, payload };
        match store.append(stream, ExpectedVersion::Any, vec![event], meta, None).await {
            Ok(_) => return,
            Err(AppendError::EventTooLarge { bytes, limit, .. }) => padding -= bytes - limit,
            Err(other) => panic!("append of a large event: {other:?}"),
        }
    }
}

async fn ten_events_of_the_largest_size_fit_one_publish(family: Family) {
    let backend = family.backend().await;
    let (events_table, mut changes) = backend.streamed_table().await;
    let store = EventStore::new(events_table);
    // Names as long as the store takes them: the fan-out copies them into each message's
    // attributes, beside the envelope that holds them too.
    let names = MAX_NAME_BYTES;
    let stream = format!("{}#1", "s".repeat(names - 2));
    let meta = Metadata::new("c".repeat(names)).actor("acc_big");
    for _ in 0..10 {
        append_largest(&store, &stream, &"T".repeat(names), &meta).await;
    }
    let batch = changes.read_at_least(10).await;
    assert_eq!(batch.records.len(), 10);
    for record in &batch.records {
        let item: Item = serde_dynamo::from_item(record.change.new_image.clone()).unwrap();
        let bytes = serde_json::Value::Object(item).to_string().len();
        assert!((MAX_EVENT_BYTES - 16..=MAX_EVENT_BYTES).contains(&bytes), "a stored event of {bytes} bytes");
    }

    let topic = backend.topic().await;
    let queue = backend.queue(None).await;
    topic
        .subscribe(queue.clone(), &FilterPolicy::parse(json!({ "stream": [stream] })).unwrap())
        .await
        .unwrap();
    let response = fan_out(topic.as_ref(), batch).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "the publish was refused: {:?}",
        response.batch_item_failures
    );

    let delivered = receive_deliveries(queue.as_ref(), 10, Duration::from_secs(120)).await;
    let stored = store.read_stream(&stream, 1..).await.unwrap();
    for envelope in &stored {
        let body = serde_json::to_string(envelope).unwrap();
        assert_eq!(delivered.only(&body).body, body, "version {} arrives intact", envelope.version);
    }
    assert_eq!(delivered.0.len(), 10);
}

fn sqs_event(envelopes: &[Envelope]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = envelopes
        .iter()
        .enumerate()
        .map(|(n, envelope)| {
            let mut message = SqsMessage::default();
            message.message_id = Some(format!("m{n}"));
            message.body = Some(serde_json::to_string(envelope).unwrap());
            message
        })
        .collect();
    event
}

async fn dump(table: &dyn Table) -> Vec<Item> {
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = table.scan(after.as_ref(), 100).await.unwrap();
        items.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    items.sort_by_key(|i| (i["pk"].as_str().unwrap().to_owned(), i["sk"].as_str().unwrap().to_owned()));
    items
}

async fn duplicated_shuffled_delivery_matches_an_in_order_run(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let envelopes = append_notes(&store, 40).await;

    let in_order = backend.table(false).await;
    let projector = Projector::new(Arc::new(NotesProjection), in_order.clone(), store.clone());
    for envelope in &envelopes {
        assert!(projector
            .handle(sqs_event(std::slice::from_ref(envelope)))
            .await
            .batch_item_failures
            .is_empty());
    }

    let shuffled = backend.table(false).await;
    let projector = Projector::new(Arc::new(NotesProjection), shuffled.clone(), store.clone());
    let mut rng = seeded_rng("duplicated_shuffled_delivery_matches_an_in_order_run");
    let mut deliveries: Vec<Envelope> = envelopes.iter().chain(envelopes.iter()).cloned().collect();
    deliveries.shuffle(&mut rng);
    // Batches of one to ten (a queue's most), delivered concurrently as parallel Lambda
    // invocations would be. The seed fixes the order and the batches, not the interleaving.
    let mut batches = Vec::new();
    let mut rest = deliveries.as_slice();
    while !rest.is_empty() {
        let (batch, after) = rest.split_at(rng.random_range(1..=MAX_QUEUE_BATCH).min(rest.len()));
        let projector = projector.clone();
        let event = sqs_event(batch);
        batches.push(tokio::spawn(async move { projector.handle(event).await }));
        rest = after;
    }
    for response in futures::future::try_join_all(batches).await.unwrap() {
        assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    }

    let expected = dump(in_order.as_ref()).await;
    assert_eq!(dump(shuffled.as_ref()).await, expected);
    let note = expected.iter().find(|i| i["pk"] == "note#n1" && i["sk"] == "note").unwrap();
    assert_eq!(
        (note["likes"].as_i64(), note["edits"].as_i64()),
        (Some(4), Some(3)),
        "each like counted once"
    );
}

async fn a_gap_is_filled_from_the_event_store(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let envelopes = append_notes(&store, 20).await;
    let read_model = backend.table(false).await;
    let projector = Projector::new(Arc::new(NotesProjection), read_model.clone(), store.clone());

    let newest: Vec<Envelope> = envelopes.iter().filter(|e| e.version == 4).cloned().collect();
    assert!(projector.handle(sqs_event(&newest)).await.batch_item_failures.is_empty());
    for n in 0..5 {
        assert_eq!(projector.checkpoint(&stream_of(&format!("n{n}"))).await.unwrap(), 4);
    }
    let note = read_model.get(&huddle_ports::Key::new("note#n0", "note")).await.unwrap().unwrap();
    assert_eq!((note["likes"].as_i64(), note["edits"].as_i64()), (Some(2), Some(1)));

    let garbage = {
        let mut event = sqs_event(&newest[..1]);
        event.records[0].body = Some("{not an envelope".into());
        event.records[0].message_id = Some("poison".into());
        event
    };
    let response = projector.handle(garbage).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, "poison");
}

async fn a_failed_stream_reports_every_message_of_it(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let healthy = append_notes(&store, 10).await;
    let read_model = backend.table(false).await;
    let projector = Projector::new(Arc::new(NotesProjection), read_model.clone(), store.clone());
    // Versions 2 to 4 of a stream whose version 1 the log never held: the gap cannot be filled.
    let lost: Vec<Envelope> = (2..=4)
        .map(|version| Envelope { stream: stream_of("lost"), version, ..healthy[0].clone() })
        .collect();
    // One queue batch, the failing stream's messages between the healthy streams' messages.
    let mut batch = Vec::new();
    for (lost, healthy) in lost.iter().zip(healthy.chunks(4)) {
        batch.push(lost.clone());
        batch.extend_from_slice(healthy);
    }
    let lost_ids: BTreeSet<String> = (batch.iter().enumerate())
        .filter(|(_, envelope)| envelope.stream == stream_of("lost"))
        .map(|(position, _)| format!("m{position}"))
        .collect();
    assert_eq!(lost_ids.len(), 3);

    let response = projector.handle(sqs_event(&batch)).await;
    let failed: BTreeSet<String> =
        response.batch_item_failures.iter().map(|failure| failure.item_identifier.clone()).collect();
    assert_eq!(failed, lost_ids, "every message of the failed stream, and only those");
    for n in 0..5 {
        assert_eq!(projector.checkpoint(&stream_of(&format!("n{n}"))).await.unwrap(), 2, "note n{n} landed");
    }
    assert_eq!(projector.checkpoint(&stream_of("lost")).await.unwrap(), 0);
}

async fn replay_rebuilds_a_projection_from_the_log(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let envelopes = append_notes(&store, 30).await;

    let live = backend.table(false).await;
    let projector = Projector::new(Arc::new(NotesProjection), live.clone(), store.clone());
    assert!(projector.handle(sqs_event(&envelopes)).await.batch_item_failures.is_empty());

    let rebuilt = backend.table(false).await;
    let replayer = Projector::new(Arc::new(NotesProjection), rebuilt.clone(), store.clone());
    // Half the live traffic reaches the new projection while the replay runs.
    let consumes = NotesDomain.consumes();
    let (visited, live_batch) =
        tokio::join!(replayer.replay(&consumes, 7), replayer.handle(sqs_event(&envelopes[..15])));
    assert_eq!(visited.unwrap(), 30);
    assert!(
        live_batch.batch_item_failures.is_empty(),
        "the live batch: {:?}",
        live_batch.batch_item_failures
    );
    assert_eq!(dump(rebuilt.as_ref()).await, dump(live.as_ref()).await);
}
