//! The delivery runtime on both families: the fan-out fed by each family's real change stream,
//! and the version-gated projector under duplicated, shuffled and gapped delivery.

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodbstreams::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodbstreams::config::{ConfigBag, Intercept};
use aws_sdk_dynamodbstreams::error::BoxError;
use aws_sdk_dynamodbstreams::operation::get_records::GetRecordsInput;
use huddle_aws::streams::StreamPoller;
use huddle_delivery::{fan_out, Projector};
use huddle_delivery::{Projected, Projection, ProjectionError};
use huddle_eventstore::{
    AppendError, Envelope, EventStore, ExpectedVersion, Metadata, NewEvent, MAX_EVENT_BYTES, MAX_NAME_BYTES,
};
use huddle_ports::queue::MAX_QUEUE_BATCH;
use huddle_ports::{
    FilterPolicy, Item, PublishFailure, Queue, Table, TableError, Topic, TopicError, TopicMessage,
};
use huddle_test_support::decorated_table::{DecoratedTable, Interceptor, Operation};
use huddle_test_support::notes::{events, stream_of, NoteEvent, NotesProjection};
use huddle_test_support::queues::receive_deliveries;
use huddle_test_support::seed::seeded_rng;
use huddle_test_support::{moto, on_both_families, scan_all, unique_name, Family};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::instrument::WithSubscriber;

/// A topic that records every publish call and fails the messages whose body matches, as
/// often as `failures` allows (SNS's per-entry failures).
#[derive(Default)]
struct RecordingTopic {
    calls: Mutex<Vec<Vec<TopicMessage>>>,
    fail_body_containing: Option<String>,
    failures: Mutex<usize>,
}

impl RecordingTopic {
    fn failing(needle: String, times: usize) -> Self {
        Self { fail_body_containing: Some(needle), failures: Mutex::new(times), ..Default::default() }
    }
}

#[async_trait]
impl Topic for RecordingTopic {
    async fn publish_batch(&self, messages: Vec<TopicMessage>) -> Result<Vec<PublishFailure>, TopicError> {
        let mut failures_left = self.failures.lock().unwrap();
        let mut failures = Vec::new();
        for message in &messages {
            let matches = self
                .fail_body_containing
                .as_ref()
                .is_some_and(|needle| message.body.contains(needle.as_str()));
            if matches && *failures_left > 0 {
                *failures_left -= 1;
                failures.push(PublishFailure { id: message.id.clone(), reason: "injected".into() });
            }
        }
        self.calls.lock().unwrap().push(messages);
        Ok(failures)
    }

    async fn subscribe(&self, _queue: Arc<dyn Queue>, _policy: &FilterPolicy) -> Result<(), TopicError> {
        unreachable!("the fan-out never subscribes")
    }
}

/// The correlation id of every event [`append_notes`] appends.
pub(crate) const NOTES_CORRELATION_ID: &str = "corr-delivery";

/// Appends `count` note events spread over five streams (write, then edits and likes).
pub(crate) async fn append_notes(store: &EventStore, count: usize) -> Vec<Envelope> {
    let meta = Metadata::new(NOTES_CORRELATION_ID).actor("acc_test");
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
    a_failing_message_is_retried_alone_and_reported_after_its_neighbours_are_published,
    a_batch_refused_for_one_malformed_message_still_publishes_the_others,
    the_store_refuses_events_the_topic_would_refuse,
    a_long_gap_is_healed_window_by_window,
    two_domains_reusing_an_event_name_receive_only_their_own,
    the_projector_logs_each_outcome_per_event,
    ten_events_of_the_largest_size_fit_one_publish,
    duplicated_shuffled_delivery_matches_an_in_order_run,
    a_gap_is_filled_from_the_event_store,
    a_failed_stream_reports_every_message_of_it,
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
    assert_eq!(first.attributes["correlation_id"], NOTES_CORRELATION_ID);
    // Within a stream, the topic sees versions in order.
    for n in 0..5 {
        let stream = stream_of(&format!("n{n}"));
        let versions: Vec<u64> = published.iter().filter(|e| e.stream == stream).map(|e| e.version).collect();
        assert_eq!(versions, [1, 2, 3, 4, 5]);
    }
}

/// The envelope a stream record holds.
fn envelope_in(record: &aws_lambda_events::dynamodb::EventRecord) -> Envelope {
    event_in(record).expect("an event record")
}

/// The event a stream record holds, if it holds one (the store's other items, such as the
/// appended-streams index, are on the stream too).
fn event_in(record: &aws_lambda_events::dynamodb::EventRecord) -> Option<Envelope> {
    let item: Item = serde_dynamo::from_item(record.change.new_image.clone()).unwrap();
    Envelope::from_item(&item).map(Result::unwrap)
}

async fn a_failing_message_is_retried_alone_and_reported_after_its_neighbours_are_published(family: Family) {
    let backend = family.backend().await;
    let (events_table, mut stream) = backend.streamed_table().await;
    let store = EventStore::new(events_table);
    append_notes(&store, 15).await;
    let batch = stream.read_at_least(15).await;
    let expected_sequence = batch.records[12].change.sequence_number.clone();
    let failing = envelope_in(&batch.records[12]).event_id.to_string();

    // Failing once: its retry, alone, gets it through.
    let topic = RecordingTopic::failing(failing.clone(), 1);
    let response = fan_out(&topic, batch.clone()).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    let sizes: Vec<usize> = topic.calls.lock().unwrap().iter().map(Vec::len).collect();
    assert_eq!(sizes, [10, 5, 1], "two batch calls, then the failed message alone");

    // Failing for good: it is tried alone twice, and named; every other record is published.
    let topic = RecordingTopic::failing(failing.clone(), usize::MAX);
    let response = fan_out(&topic, batch.clone()).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, expected_sequence);
    let calls = topic.calls.lock().unwrap();
    assert_eq!(calls.iter().map(Vec::len).collect::<Vec<_>>(), [10, 5, 1, 1]);
    let published: BTreeSet<String> = calls[..2]
        .iter()
        .flatten()
        .map(|m| serde_json::from_str::<Envelope>(&m.body).unwrap().event_id.to_string())
        .filter(|id| *id != failing)
        .collect();
    assert_eq!(published.len(), 14, "the failing record's neighbours, after it too, were published");
}

/// Writes an event item the store would refuse straight into the events table, as a bug or
/// an older version of the store might have: its correlation id is empty.
async fn put_malformed_event(events_table: &dyn Table, stream: &str) {
    let envelope = json!({
        "stream": stream, "version": 1, "event_id": ulid::Ulid::new().to_string(),
        "event_type": "NoteDeleted", "schema_version": 1, "occurred_at": "2026-01-01T00:00:00Z",
        "actor": null, "correlation_id": "", "causation_id": null, "payload": {},
        "pk": stream, "sk": "000000000001", "kind": "event",
    });
    let serde_json::Value::Object(item) = envelope else { unreachable!("an object") };
    events_table.put(item, huddle_ports::Condition::NotExists).await.unwrap();
}

async fn a_batch_refused_for_one_malformed_message_still_publishes_the_others(family: Family) {
    let backend = family.backend().await;
    let (events_table, mut changes) = backend.streamed_table().await;
    let store = EventStore::new(events_table.clone());
    let meta = Metadata::new("corr-isolation");
    for n in 0..14 {
        if n == 6 {
            put_malformed_event(events_table.as_ref(), "note#malformed").await;
        }
        let event = events(&[NoteEvent::NoteWritten { text: format!("note {n}") }]);
        store
            .append(&stream_of(&format!("i{n}")), ExpectedVersion::NoStream, event, &meta, None)
            .await
            .unwrap();
    }
    let batch = changes.read_at_least(15).await;
    assert_eq!(batch.records.len(), 15);
    let malformed = batch.records.iter().find(|r| envelope_in(r).stream == "note#malformed").unwrap();
    let malformed_sequence = malformed.change.sequence_number.clone();

    let topic = backend.topic().await;
    let queue = backend.queue(None).await;
    topic.subscribe(queue.clone(), &FilterPolicy::attribute_in("stream_type", &["note"])).await.unwrap();
    let response = fan_out(topic.as_ref(), batch).await;
    assert_eq!(response.batch_item_failures.len(), 1, "{:?}", response.batch_item_failures);
    assert_eq!(response.batch_item_failures[0].item_identifier, malformed_sequence);

    // The topic refuses the malformed message's whole batch; its nine neighbours there, and the
    // records after it, still arrive.
    let delivered = receive_deliveries(queue.as_ref(), 14, Duration::from_secs(120)).await;
    let streams: BTreeSet<String> =
        delivered.0.iter().map(|m| serde_json::from_str::<Envelope>(&m.body).unwrap().stream).collect();
    let expected: BTreeSet<String> = (0..14).map(|n| stream_of(&format!("i{n}"))).collect();
    assert_eq!(streams, expected);
}

async fn the_store_refuses_events_the_topic_would_refuse(family: Family) {
    let backend = family.backend().await;
    let table = backend.table(true).await;
    let store = EventStore::new(table.clone());
    let note = || events(&[NoteEvent::NoteDeleted]);
    let refusals: Vec<(&str, String, Vec<NewEvent>, Metadata)> = vec![
        ("an empty correlation id", stream_of("a"), note(), Metadata::new("")),
        ("an empty stream type", "#a".into(), note(), Metadata::new("c")),
        (
            "an over-long stream id",
            format!("note#{}", "a".repeat(MAX_NAME_BYTES)),
            note(),
            Metadata::new("c"),
        ),
        (
            "a control character in the event type",
            stream_of("a"),
            vec![NewEvent { event_type: "Note\u{1}".into(), schema_version: 1, payload: json!({}) }],
            Metadata::new("c"),
        ),
        (
            "a character SQS refuses in the payload",
            stream_of("a"),
            vec![NewEvent {
                event_type: "NoteEdited".into(),
                schema_version: 1,
                payload: json!({"text": "\u{FFFF}"}),
            }],
            Metadata::new("c"),
        ),
    ];
    for (what, stream, events, meta) in refusals {
        match store.append(&stream, ExpectedVersion::Any, events, &meta, None).await {
            Err(AppendError::Invalid(_)) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
    assert!(scan_all(table.as_ref()).await.is_empty(), "nothing was written");
}

/// Lets the first `allowed` queries through and fails every later one: a delivery that runs
/// out of time (or luck) in the middle of a long catch-up.
struct QueriesUntil {
    allowed: usize,
    queries: Mutex<usize>,
}

impl Interceptor for QueriesUntil {
    fn before(&self, operation: Operation) -> Result<(), TableError> {
        if operation != Operation::Query {
            return Ok(());
        }
        let mut queries = self.queries.lock().unwrap();
        *queries += 1;
        if *queries > self.allowed {
            return Err(TableError::Unavailable("injected: the delivery ran out".into()));
        }
        Ok(())
    }
}

async fn a_long_gap_is_healed_window_by_window(family: Family) {
    let backend = family.backend().await;
    let events_table = backend.table(true).await;
    let store = EventStore::new(events_table.clone());
    let meta = Metadata::new("corr-gap");
    let stream = stream_of("long");
    let mut history = vec![NoteEvent::NoteWritten { text: "long".into() }];
    history.extend((1..23).map(|n| NoteEvent::NoteLiked { by: format!("acc_{n}") }));
    for event in &history {
        store
            .append(&stream, ExpectedVersion::Any, events(std::slice::from_ref(event)), &meta, None)
            .await
            .unwrap();
    }
    let newest = store.read_stream(&stream, 23..=23).await.unwrap();
    let read_model = backend.table(false).await;
    let projector = |allowed| {
        let reads = QueriesUntil { allowed, queries: Mutex::new(0) };
        let events = EventStore::new(Arc::new(DecoratedTable::new(events_table.clone(), reads)));
        Projector::new(Arc::new(NotesProjection), read_model.clone(), events).with_catch_up_window(5)
    };

    // Two windows of five are read and applied before the reads fail: the checkpoint keeps them.
    let response = projector(2).handle(sqs_event(&newest)).await;
    assert_eq!(response.batch_item_failures.len(), 1, "the third window's read failed");
    assert_eq!(projector(0).checkpoint(&stream).await.unwrap(), 10);
    // The redelivery goes on from there: versions 11 to 22 in three windows, 23 delivered.
    let response = projector(3).handle(sqs_event(&newest)).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    assert_eq!(projector(0).checkpoint(&stream).await.unwrap(), 23);
    let note = read_model.get(&huddle_ports::Key::new(&stream, "note")).await.unwrap().unwrap();
    assert_eq!(note["likes"].as_i64(), Some(22), "each like counted once");
}

async fn two_domains_reusing_an_event_name_receive_only_their_own(family: Family) {
    let backend = family.backend().await;
    let (events_table, mut changes) = backend.streamed_table().await;
    let store = EventStore::new(events_table);
    let topic = backend.topic().await;
    let (notes, posts) = (backend.queue(None).await, backend.queue(None).await);
    let consumes = |stream_type| {
        FilterPolicy::all_of(&[("stream_type", &[stream_type]), ("event_type", &["NoteDeleted"])])
    };
    topic.subscribe(notes.clone(), &consumes("note")).await.unwrap();
    topic.subscribe(posts.clone(), &consumes("post")).await.unwrap();
    let meta = Metadata::new("corr-reuse");
    // Interleaved, each stream type's events before and after the other's.
    for stream in ["note#1", "post#1", "note#2", "post#2", "note#3"] {
        store
            .append(stream, ExpectedVersion::NoStream, events(&[NoteEvent::NoteDeleted]), &meta, None)
            .await
            .unwrap();
    }
    let batch = changes.read_at_least(5).await;
    assert!(fan_out(topic.as_ref(), batch).await.batch_item_failures.is_empty());

    for (queue, wanted) in [(notes, vec!["note#1", "note#2", "note#3"]), (posts, vec!["post#1", "post#2"])] {
        let delivered = receive_deliveries(queue.as_ref(), wanted.len(), Duration::from_secs(120)).await;
        let mut streams: Vec<String> =
            delivered.0.iter().map(|m| serde_json::from_str::<Envelope>(&m.body).unwrap().stream).collect();
        streams.sort();
        assert_eq!(streams, wanted);
    }
}

/// The notes projection, except that it has nothing to write for a like.
struct IgnoringLikes;

#[async_trait]
impl Projection for IgnoringLikes {
    async fn project(&self, event: &Envelope, read_model: &dyn Table) -> Result<Projected, ProjectionError> {
        if event.event_type == "NoteLiked" {
            return Ok(Projected::nothing());
        }
        NotesProjection.project(event, read_model).await
    }
}

/// Hides one key from the first `get` of it: a worker that read a checkpoint just before
/// another worker moved it.
struct StaleOnce {
    key: huddle_ports::Key,
    hidden: Mutex<bool>,
}

impl Interceptor for StaleOnce {
    fn before(&self, _operation: Operation) -> Result<(), TableError> {
        Ok(())
    }

    fn hides(&self, key: &huddle_ports::Key) -> bool {
        let mut hidden = self.hidden.lock().unwrap();
        let hide = *key == self.key && !*hidden;
        *hidden |= hide;
        hide
    }
}

/// Log lines as JSON objects, written by the subscriber the test installs.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    /// `(outcome, stream, version, correlation_id)` of every outcome line, in order.
    fn outcomes(&self) -> Vec<(String, String, u64, String)> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .filter_map(|line| {
                let fields = &line["fields"];
                Some((
                    fields["outcome"].as_str()?.to_owned(),
                    fields["stream"].as_str()?.to_owned(),
                    fields["version"].as_u64()?,
                    fields["correlation_id"].as_str()?.to_owned(),
                ))
            })
            .collect()
    }
}

async fn the_projector_logs_each_outcome_per_event(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let stream = stream_of("logged");
    let history = [
        NoteEvent::NoteWritten { text: "logged".into() },
        NoteEvent::NoteLiked { by: "acc_1".into() },
        NoteEvent::NoteEdited { text: "again".into() },
    ];
    for event in &history {
        let meta = Metadata::new("corr-logged");
        store
            .append(&stream, ExpectedVersion::Any, events(std::slice::from_ref(event)), &meta, None)
            .await
            .unwrap();
    }
    let envelopes = store.read_stream(&stream, 1..).await.unwrap();
    let read_model = backend.table(false).await;
    let checkpoint = huddle_ports::Key::new(format!("checkpoint#{stream}"), "checkpoint");
    let stale = StaleOnce { key: checkpoint, hidden: Mutex::new(true) };
    let stale_reads = Arc::new(DecoratedTable::new(read_model.clone(), stale));
    let projector = Projector::new(Arc::new(IgnoringLikes), stale_reads.clone(), store.clone());

    let log = CapturedLog::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    // The subscriber goes with the future, not with a thread: the runtime may poll it on any of
    // its workers.
    async {
        for delivered in [&envelopes[..1], &envelopes[..1], &envelopes[2..]] {
            assert!(projector.handle(sqs_event(delivered)).await.batch_item_failures.is_empty());
        }
        // The checkpoint read stale once: version 3 is found applied by "another worker".
        *stale_reads.interceptor.hidden.lock().unwrap() = false;
        assert!(projector.handle(sqs_event(&envelopes[2..])).await.batch_item_failures.is_empty());
    }
    .with_subscriber(subscriber)
    .await;

    let line =
        |outcome: &str, version| (outcome.to_owned(), stream.clone(), version, "corr-logged".to_owned());
    assert_eq!(
        log.outcomes(),
        [line("applied", 1), line("duplicate", 1), line("ignored", 2), line("applied", 3), line("raced", 1)]
    );
}

/// Appends one event to `stream` as large as the store takes (measured as the fan-out publishes
/// it), give or take the few digits by which the timestamp's length varies.
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
        let envelope = envelope_in(record);
        let message = TopicMessage {
            id: String::new(),
            body: serde_json::to_string(&envelope).unwrap(),
            attributes: envelope.message_attributes(),
        };
        let bytes = huddle_ports::topic::message_bytes(&message);
        assert!(
            (MAX_EVENT_BYTES - 16..=MAX_EVENT_BYTES).contains(&bytes),
            "an event of {bytes} bytes as published"
        );
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

/// One SQS batch carrying `envelopes`, the message at position n named `m<n>`.
pub(crate) fn sqs_event(envelopes: &[Envelope]) -> SqsEvent {
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

    let expected = scan_all(in_order.as_ref()).await;
    assert_eq!(scan_all(shuffled.as_ref()).await, expected);
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

/// Kills the iterator of the first GetRecords after it is armed: every later read with it fails,
/// as DynamoDB Streams fails a read with an iterator that expired (15 minutes after it was got).
#[derive(Debug, Default)]
struct IteratorExpiry {
    armed: Mutex<bool>,
    dead: Mutex<BTreeSet<String>>,
}

#[derive(Debug)]
struct ExpiringIterators(Arc<IteratorExpiry>);

impl Intercept for ExpiringIterators {
    fn name(&self) -> &'static str {
        "ExpiringIterators"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(input) = context.input().downcast_ref::<GetRecordsInput>() else { return Ok(()) };
        let iterator = input.shard_iterator().unwrap_or_default().to_owned();
        let mut dead = self.0.dead.lock().unwrap();
        if std::mem::take(&mut *self.0.armed.lock().unwrap()) {
            dead.insert(iterator.clone());
        }
        match dead.contains(&iterator) {
            true => Err("ExpiredIteratorException: injected".into()),
            false => Ok(()),
        }
    }
}

/// The versions of `stream` the poller yields until it has `count` records (10 s at most); a
/// failed poll counts as an empty one, as the runner's mapping treats it.
async fn poll_versions(poller: &mut StreamPoller, count: usize) -> Vec<u64> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut versions = Vec::new();
    while versions.len() < count {
        assert!(std::time::Instant::now() < deadline, "only {versions:?} arrived");
        for batch in poller.poll().await.unwrap_or_default() {
            versions.extend(batch.event.records.iter().filter_map(event_in).map(|event| event.version));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    versions
}

/// The AWS family only: the embedded change feed has no shard iterators to lose.
#[tokio::test]
async fn a_shard_whose_read_fails_is_read_again_from_the_same_record() {
    let config = huddle_aws::sdk_config(Some(moto::endpoint())).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let name = unique_name("table");
    let arn = huddle_aws::provision::table(&dynamodb, &name, true).await.unwrap().expect("a stream");
    let expiry = Arc::new(IteratorExpiry::default());
    let streams = aws_sdk_dynamodbstreams::config::Builder::from(&config)
        .interceptor(ExpiringIterators(expiry.clone()))
        .build();
    let mut poller = StreamPoller::new(aws_sdk_dynamodbstreams::Client::from_conf(streams), arn);
    let store = EventStore::new(Arc::new(huddle_aws::DynamoTable::new(dynamodb, name)));
    let append = |text: &str| {
        let event = events(&[NoteEvent::NoteEdited { text: text.into() }]);
        let store = store.clone();
        async move {
            store.append(&stream_of("polled"), ExpectedVersion::Any, event, &Metadata::new("c"), None).await
        }
    };
    for text in ["a", "b", "c"] {
        append(text).await.unwrap();
    }
    assert_eq!(poll_versions(&mut poller, 3).await, [1, 2, 3]);

    *expiry.armed.lock().unwrap() = true;
    for text in ["d", "e", "f"] {
        append(text).await.unwrap();
    }
    assert_eq!(poll_versions(&mut poller, 3).await, [4, 5, 6], "nothing skipped, nothing twice");
    assert_eq!(expiry.dead.lock().unwrap().len(), 1, "the injected fault fired");
}

/// The AWS family only: the runner's AWS poller records what it published and a new poller
/// resumes there; a position the stream does not know falls back to the trim horizon.
#[tokio::test]
async fn a_poller_resumes_after_the_positions_an_earlier_one_recorded() {
    let config = huddle_aws::sdk_config(Some(moto::endpoint())).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let name = unique_name("table");
    let arn = huddle_aws::provision::table(&dynamodb, &name, true).await.unwrap().expect("a stream");
    let streams = aws_sdk_dynamodbstreams::Client::new(&config);
    let store = EventStore::new(Arc::new(huddle_aws::DynamoTable::new(dynamodb, name)));
    let append = |text: &'static str| {
        let store = store.clone();
        async move {
            let event = events(&[NoteEvent::NoteEdited { text: text.into() }]);
            store.append(&stream_of("resumed"), ExpectedVersion::Any, event, &Metadata::new("c"), None).await
        }
    };
    for text in ["a", "b", "c"] {
        append(text).await.unwrap();
    }
    let mut first = StreamPoller::new(streams.clone(), arn.clone());
    let mut shards = std::collections::HashSet::new();
    let mut versions = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while versions.len() < 3 {
        assert!(std::time::Instant::now() < deadline, "only {versions:?} arrived");
        for batch in first.poll().await.unwrap() {
            versions.extend(batch.event.records.iter().filter_map(event_in).map(|event| event.version));
            shards.insert(batch.shard_id);
        }
    }
    assert_eq!(versions, [1, 2, 3]);
    let positions: std::collections::HashMap<String, String> = shards
        .into_iter()
        .filter_map(|shard| Some((shard.clone(), first.position(&shard)?.to_owned())))
        .collect();
    assert!(!positions.is_empty(), "the first poller has positions to record");

    append("d").await.unwrap();
    let mut resumed = StreamPoller::new(streams.clone(), arn.clone()).resume_after(positions.clone());
    assert_eq!(poll_versions(&mut resumed, 1).await, [4], "nothing published before is read again");

    let unknown = positions.keys().map(|shard| (shard.clone(), "not-a-sequence-number".to_owned())).collect();
    let mut fallen_back = StreamPoller::new(streams, arn).resume_after(unknown);
    assert_eq!(poll_versions(&mut fallen_back, 4).await, [1, 2, 3, 4], "from the trim horizon");
}
