//! Snapshots on both families: written in the append's transaction once a stream's tail reaches
//! the interval, loaded with the events after them, never the truth (every kind of unusable
//! snapshot falls back to the events), sealed like personal fields, invisible to everything that
//! reads events, and never ahead of or inconsistent with their stream under racing appends.

use async_trait::async_trait;
use huddle_delivery::fan_out;
use huddle_eventstore::{
    decode_personal, encode, encode_personal, AppendError, Appended, Envelope, EventSchema, EventStore,
    ExpectedVersion, KeyChange, Loaded, Metadata, SnapshotPolicy, StreamWrite, SubjectKey,
};
use huddle_ports::{
    Condition, FilterPolicy, Item, Key, PublishFailure, Queue, Scan, Table, TableError, Topic, TopicError,
    TopicMessage,
};
use huddle_test_support::decorated_table::{DecoratedTable, Interceptor, Operation};
use huddle_test_support::{on_both_families, scan_all, Family};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

on_both_families!(
    a_snapshot_is_written_once_the_tail_reaches_the_interval,
    a_load_reads_the_snapshot_and_only_the_events_after_it,
    an_unusable_snapshot_falls_back_to_the_events_and_the_next_append_replaces_it,
    a_sealed_snapshot_shows_no_personal_data_and_dies_with_its_key,
    snapshots_are_not_events_to_readers_scans_or_the_fan_out,
    racing_appends_never_leave_a_snapshot_ahead_of_or_inconsistent_with_the_stream,
    snapshots_the_store_cannot_take_are_refused_or_left_out,
);

const TALLIES: SnapshotPolicy = SnapshotPolicy { interval: 5, schema: 1 };

/// The test aggregate: numbers added with a memo, which is personal data.
#[derive(Debug, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
enum TallyEvent {
    Added { n: u64, memo: String },
}

impl EventSchema for TallyEvent {
    fn personal_fields(_event_type: &str) -> &'static [&'static str] {
        &["memo"]
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Tally {
    events: u64,
    sum: u64,
    memo: Option<String>,
}

impl Tally {
    fn evolve(mut self, event: &TallyEvent) -> Self {
        let TallyEvent::Added { n, memo } = event;
        self.events += 1;
        self.sum += n;
        self.memo = Some(memo.clone());
        self
    }

    /// `events` folded onto this state; events whose memo was shredded are skipped.
    fn fold(self, events: &[Envelope], key: Option<&SubjectKey>) -> Self {
        events.iter().fold(self, |tally, envelope| {
            match decode_personal::<TallyEvent>(envelope, key).expect("tally events decode") {
                Some(event) => tally.evolve(&event),
                None => tally,
            }
        })
    }
}

fn meta() -> Metadata {
    Metadata::new("corr-snapshots").actor("acc_1")
}

/// The state a load gives: its snapshot's, with the events after it folded on.
fn state(loaded: &Loaded<Tally>, key: Option<&SubjectKey>) -> Tally {
    loaded.snapshot.clone().unwrap_or_default().fold(&loaded.events, key)
}

/// One command: load the tally, add `n` at the loaded version, offer the state it leads to.
async fn add(
    store: &EventStore,
    stream: &str,
    n: u64,
    key: Option<&SubjectKey>,
) -> Result<Appended, AppendError> {
    let loaded = store.load::<Tally>(stream, &TALLIES, key).await?;
    let event = TallyEvent::Added { n, memo: format!("memo {n}") };
    let after = state(&loaded, key).evolve(&event);
    let new_event = match key {
        Some(key) => encode_personal(&event, key),
        None => encode(&event),
    };
    let write = StreamWrite {
        stream: stream.into(),
        expected: ExpectedVersion::Exact(loaded.version()),
        events: vec![new_event],
    };
    let snapshot = TALLIES.offer(stream, &after, loaded.snapshot_version, key);
    store.append_with_snapshots(vec![write], vec![snapshot], Vec::new(), &meta(), None).await
}

async fn add_all(store: &EventStore, stream: &str, numbers: std::ops::RangeInclusive<u64>) {
    for n in numbers {
        add(store, stream, n, None).await.unwrap();
    }
}

/// The tally folded from every event of its stream: what any load must answer.
async fn truth(store: &EventStore, stream: &str, key: Option<&SubjectKey>) -> Tally {
    Tally::default().fold(&store.read_stream(stream, 1..).await.unwrap(), key)
}

fn snapshot_key(stream: &str) -> Key {
    Key::new(format!("snapshot#{stream}"), "snapshot")
}

async fn stored_snapshot(table: &dyn Table, stream: &str) -> Option<Item> {
    table.get(&snapshot_key(stream)).await.unwrap()
}

fn version_of(snapshot: &Item) -> u64 {
    snapshot["version"].as_u64().unwrap()
}

async fn a_snapshot_is_written_once_the_tail_reaches_the_interval(family: Family) {
    let table = family.backend().await.table(false).await;
    let store = EventStore::new(table.clone());
    add_all(&store, "tally#a", 1..=4).await;
    assert_eq!(stored_snapshot(table.as_ref(), "tally#a").await, None, "4 events, interval 5");

    add(&store, "tally#a", 5, None).await.unwrap();
    let snapshot = stored_snapshot(table.as_ref(), "tally#a").await.expect("a snapshot at the interval");
    assert_eq!((snapshot["kind"].as_str(), version_of(&snapshot)), (Some("snapshot"), 5));
    let fifth = store.read_stream("tally#a", 5..=5).await.unwrap().remove(0);
    assert_eq!(snapshot["event_id"].as_str(), Some(fifth.event_id.to_string().as_str()));

    add_all(&store, "tally#a", 6..=9).await;
    assert_eq!(version_of(&stored_snapshot(table.as_ref(), "tally#a").await.unwrap()), 5);
    add(&store, "tally#a", 10, None).await.unwrap();
    assert_eq!(version_of(&stored_snapshot(table.as_ref(), "tally#a").await.unwrap()), 10);

    let loaded = store.load::<Tally>("tally#a", &TALLIES, None).await.unwrap();
    let expected = Tally { events: 10, sum: 55, memo: Some("memo 10".into()) };
    assert_eq!((loaded.snapshot.as_ref(), loaded.snapshot_version), (Some(&expected), 10));
    assert!(loaded.events.is_empty());
    assert_eq!(loaded.version(), 10);
}

/// Counts the event items the table's reads return.
#[derive(Default)]
struct EventsRead(Mutex<usize>);

impl EventsRead {
    fn take(&self) -> usize {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Interceptor for EventsRead {
    fn before(&self, _operation: Operation) -> Result<(), TableError> {
        Ok(())
    }

    fn returned(&self, items: &[Item]) {
        *self.0.lock().unwrap() += items.iter().filter(|item| item["kind"] == "event").count();
    }
}

async fn a_load_reads_the_snapshot_and_only_the_events_after_it(family: Family) {
    let metered =
        Arc::new(DecoratedTable::new(family.backend().await.table(false).await, EventsRead::default()));
    let store = EventStore::new(metered.clone());
    add_all(&store, "tally#long", 1..=48).await;

    metered.interceptor.take();
    let loaded = store.load::<Tally>("tally#long", &TALLIES, None).await.unwrap();
    assert_eq!(metered.interceptor.take(), 4, "the covered event 45, then 46, 47 and 48");
    assert_eq!(loaded.snapshot_version, 45);
    assert_eq!(loaded.events.iter().map(|e| e.version).collect::<Vec<_>>(), [46, 47, 48]);
    assert_eq!(state(&loaded, None), truth(&store, "tally#long", None).await);
    assert_eq!(state(&loaded, None).sum, (1..=48).sum::<u64>());

    metered.delete(&snapshot_key("tally#long"), Condition::Always).await.unwrap();
    metered.interceptor.take();
    let loaded = store.load::<Tally>("tally#long", &TALLIES, None).await.unwrap();
    assert_eq!(metered.interceptor.take(), 48, "without a snapshot, the whole stream");
    assert_eq!(state(&loaded, None).sum, (1..=48).sum::<u64>());
}

async fn an_unusable_snapshot_falls_back_to_the_events_and_the_next_append_replaces_it(family: Family) {
    let table = family.backend().await.table(false).await;
    let store = EventStore::new(table.clone());
    let stream = "tally#spoilt";
    add_all(&store, stream, 1..=7).await;
    let good = stored_snapshot(table.as_ref(), stream).await.unwrap();
    assert_eq!(version_of(&good), 5);

    let spoil = |change: &dyn Fn(&mut Item)| {
        let mut item = good.clone();
        change(&mut item);
        item
    };
    let spoilt: Vec<(&str, Option<Item>)> = vec![
        ("missing", None),
        ("undecodable state", Some(spoil(&|item| drop(item.insert("state".into(), json!("{not json")))))),
        ("state of another shape", Some(spoil(&|item| drop(item.insert("state".into(), json!("[1, 2]")))))),
        ("malformed item", Some(spoil(&|item| drop(item.remove("version"))))),
        ("another schema", Some(spoil(&|item| drop(item.insert("schema".into(), json!(2)))))),
        (
            "of an event the stream does not hold",
            Some(spoil(&|item| drop(item.insert("event_id".into(), json!(ulid::Ulid::new().to_string()))))),
        ),
        ("ahead of the stream", Some(spoil(&|item| drop(item.insert("version".into(), json!(99)))))),
        ("of another stream", Some(spoil(&|item| drop(item.insert("stream".into(), json!("tally#other")))))),
        ("sealed without a key", {
            let sealed = json!({"subject": "acc_1", "data": "AAAA"});
            Some(spoil(&|item| {
                item.remove("state");
                item.insert("sealed".into(), sealed.clone());
            }))
        }),
    ];
    let mut n = 7;
    for (what, item) in spoilt {
        match item {
            Some(item) => table.put(item, Condition::Always).await.unwrap(),
            None => table.delete(&snapshot_key(stream), Condition::Always).await.unwrap(),
        }
        let loaded = store.load::<Tally>(stream, &TALLIES, None).await.unwrap();
        assert_eq!((loaded.snapshot.as_ref(), loaded.snapshot_version), (None, 0), "{what}: not used");
        assert_eq!(loaded.events.len() as u64, n, "{what}: every event read");
        assert_eq!(state(&loaded, None), truth(&store, stream, None).await, "{what}");

        // Loaded from no snapshot, the next append is past the interval: it writes a good one.
        n += 1;
        add(&store, stream, n, None).await.unwrap();
        let rewritten = stored_snapshot(table.as_ref(), stream).await.unwrap();
        assert_eq!(version_of(&rewritten), n, "{what}: replaced at the append");
        let loaded = store.load::<Tally>(stream, &TALLIES, None).await.unwrap();
        assert_eq!(loaded.snapshot_version, n, "{what}: the new snapshot is used");
        assert_eq!(state(&loaded, None), truth(&store, stream, None).await, "{what}");
    }

    // A policy of another schema ignores every stored snapshot.
    let next_schema = SnapshotPolicy { schema: 2, ..TALLIES };
    let loaded = store.load::<Tally>(stream, &next_schema, None).await.unwrap();
    assert_eq!((loaded.snapshot_version, loaded.events.len() as u64), (0, n));
}

async fn a_sealed_snapshot_shows_no_personal_data_and_dies_with_its_key(family: Family) {
    let table = family.backend().await.table(false).await;
    let store = EventStore::new(table.clone());
    let key = SubjectKey::generate("acc_sealed");
    let born = StreamWrite {
        stream: "person#acc_sealed".into(),
        expected: ExpectedVersion::NoStream,
        events: vec![encode(&TallyEvent::Added { n: 0, memo: String::new() })],
    };
    store.append_with_keys(vec![born], vec![KeyChange::Create(key.clone())], &meta(), None).await.unwrap();
    let stream = "tally#acc_sealed";
    for n in 1..=6 {
        add(&store, stream, n, Some(&key)).await.unwrap();
    }

    let raw = stored_snapshot(table.as_ref(), stream).await.unwrap();
    assert_eq!(raw["sealed"]["subject"], "acc_sealed");
    assert!(raw.get("state").is_none());
    assert!(!Value::Object(raw).to_string().contains("memo"), "the state is sealed whole");
    let loaded = store.load::<Tally>(stream, &TALLIES, Some(&key)).await.unwrap();
    assert_eq!(loaded.snapshot_version, 5);
    assert_eq!(state(&loaded, Some(&key)), Tally { events: 6, sum: 21, memo: Some("memo 6".into()) });

    for (what, other) in [("no key", None), ("another key", Some(SubjectKey::generate("acc_sealed")))] {
        let loaded = store.load::<Tally>(stream, &TALLIES, other.as_ref()).await.unwrap();
        assert_eq!((loaded.snapshot_version, loaded.events.len()), (0, 6), "{what}: the events are read");
    }

    let erased = StreamWrite {
        stream: "person#acc_sealed".into(),
        expected: ExpectedVersion::Exact(1),
        events: vec![encode(&TallyEvent::Added { n: 0, memo: String::new() })],
    };
    let shred = vec![KeyChange::Shred("acc_sealed".into())];
    store.append_with_keys(vec![erased], shred, &meta(), None).await.unwrap();
    let gone = store.subject_key("acc_sealed").await.unwrap();
    assert!(gone.is_none());
    let loaded = store.load::<Tally>(stream, &TALLIES, gone.as_ref()).await.unwrap();
    assert_eq!((loaded.snapshot_version, loaded.events.len()), (0, 6), "after erasure: the events");
    assert_eq!(state(&loaded, None), Tally::default(), "whose memos read as erased");
    let everything = serde_json::to_string(&scan_all(table.as_ref()).await).unwrap();
    assert!(everything.contains("snapshot#tally#acc_sealed"), "the snapshot is still stored");
    assert!(!everything.contains("memo "), "but no item of the table holds a memo in clear");
}

/// The real topic of the family, recording what the fan-out published through it.
struct Recorded {
    inner: Arc<dyn Topic>,
    published: Mutex<Vec<TopicMessage>>,
}

#[async_trait]
impl Topic for Recorded {
    async fn publish_batch(&self, messages: Vec<TopicMessage>) -> Result<Vec<PublishFailure>, TopicError> {
        self.published.lock().unwrap().extend(messages.iter().cloned());
        self.inner.publish_batch(messages).await
    }

    async fn subscribe(&self, queue: Arc<dyn Queue>, policy: &FilterPolicy) -> Result<(), TopicError> {
        self.inner.subscribe(queue, policy).await
    }
}

async fn snapshots_are_not_events_to_readers_scans_or_the_fan_out(family: Family) {
    let backend = family.backend().await;
    let (table, mut changes) = backend.streamed_table().await;
    let store = EventStore::new(table.clone());
    add_all(&store, "tally#seen", 1..=10).await;
    assert_eq!(version_of(&stored_snapshot(table.as_ref(), "tally#seen").await.unwrap()), 10);

    let versions = |events: Vec<Envelope>| events.iter().map(|e| e.version).collect::<Vec<_>>();
    assert_eq!(versions(store.read_stream("tally#seen", 1..).await.unwrap()), (1..=10).collect::<Vec<_>>());
    assert_eq!(store.head("tally#seen").await.unwrap(), 10);
    assert_eq!(store.last_event("tally#seen").await.unwrap().unwrap().version, 10);
    let page = store.scan(&Scan::default().limit(100)).await.unwrap();
    let scanned: Vec<u64> = page.events.iter().map(|event| event.version).collect();
    assert_eq!((scanned, page.next), ((1..=10).collect(), None), "the scan yields events only");

    // The stream carries the snapshot's put (at 5) and overwrite (at 10) beside the 10 events.
    let batch = changes.read_at_least(12).await;
    let snapshot_records = batch
        .records
        .iter()
        .filter(|record| {
            let item: Item = serde_dynamo::from_item(record.change.new_image.clone()).unwrap();
            item["pk"] == "snapshot#tally#seen"
        })
        .count();
    assert_eq!((batch.records.len(), snapshot_records), (12, 2));
    let topic = Recorded { inner: backend.topic().await, published: Mutex::default() };
    assert!(fan_out(&topic, batch).await.batch_item_failures.is_empty());
    let published: Vec<Envelope> =
        topic.published.lock().unwrap().iter().map(|m| serde_json::from_str(&m.body).unwrap()).collect();
    assert_eq!(versions(published), (1..=10).collect::<Vec<_>>(), "the fan-out publishes events only");
}

async fn racing_appends_never_leave_a_snapshot_ahead_of_or_inconsistent_with_the_stream(family: Family) {
    let table = family.backend().await.table(false).await;
    let store = EventStore::new(table.clone());
    let stream = "tally#raced";
    let (writers, adds) = (6, 8);
    let racers = (0..writers).map(|writer| {
        let (store, table) = (store.clone(), table.clone());
        async move {
            for i in 0..adds {
                let n = writer * 100 + i;
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    match add(&store, stream, n, None).await {
                        Ok(_) => break,
                        Err(AppendError::Conflict { .. }) if attempts < 200 => continue,
                        Err(error) => panic!("writer {writer}: {error}"),
                    }
                }
                if let Some(snapshot) = stored_snapshot(table.as_ref(), stream).await {
                    let head = store.head(stream).await.unwrap();
                    assert!(version_of(&snapshot) <= head, "a snapshot at {snapshot:?} ahead of {head}");
                }
            }
        }
    });
    futures::future::join_all(racers).await;

    let events = store.read_stream(stream, 1..).await.unwrap();
    assert_eq!(events.len() as u64, writers * adds);
    let loaded = store.load::<Tally>(stream, &TALLIES, None).await.unwrap();
    let covered = loaded.snapshot_version as usize;
    assert!(covered > 0, "the racers left a snapshot");
    assert_eq!(
        loaded.snapshot.as_ref(),
        Some(&Tally::default().fold(&events[..covered], None)),
        "the snapshot is exactly the fold of the events up to its version"
    );
    assert_eq!(state(&loaded, None), truth(&store, stream, None).await);
}

async fn snapshots_the_store_cannot_take_are_refused_or_left_out(family: Family) {
    let table = family.backend().await.table(false).await;
    let store = EventStore::new(table.clone());
    add_all(&store, "tally#edge", 1..=4).await;
    let write = |expected| StreamWrite {
        stream: "tally#edge".into(),
        expected,
        events: vec![encode(&TallyEvent::Added { n: 5, memo: "m".into() })],
    };
    let offer = |stream: &str, state: &Tally| TALLIES.offer(stream, state, 0, None);
    let tally = Tally::default();
    for (what, writes, snapshot) in [
        ("a write at any version", vec![write(ExpectedVersion::Any)], offer("tally#edge", &tally)),
        ("a stream not written", vec![write(ExpectedVersion::Exact(4))], offer("tally#else", &tally)),
    ] {
        let refused = store.append_with_snapshots(writes, vec![snapshot], Vec::new(), &meta(), None).await;
        assert!(matches!(refused, Err(AppendError::Invalid(_))), "{what}: {refused:?}");
    }
    let twice = vec![offer("tally#edge", &tally), offer("tally#edge", &tally)];
    let refused = store
        .append_with_snapshots(vec![write(ExpectedVersion::Exact(4))], twice, Vec::new(), &meta(), None)
        .await;
    assert!(matches!(refused, Err(AppendError::Invalid(_))), "two snapshots of one stream: {refused:?}");
    let named_like_a_snapshot = store
        .append(
            "snapshot#tally#edge",
            ExpectedVersion::Any,
            vec![write(ExpectedVersion::Any).events[0].clone()],
            &meta(),
            None,
        )
        .await;
    assert!(matches!(named_like_a_snapshot, Err(AppendError::Invalid(_))));
    assert_eq!(store.head("tally#edge").await.unwrap(), 4, "nothing refused was written");

    // A state over DynamoDB's item size is left out; the append lands without it.
    let huge = Tally { memo: Some("x".repeat(420 * 1024)), ..Tally::default() };
    let landed = store
        .append_with_snapshots(
            vec![write(ExpectedVersion::Exact(4))],
            vec![offer("tally#edge", &huge)],
            Vec::new(),
            &meta(),
            None,
        )
        .await;
    assert_eq!(landed.unwrap().streams[0].last_version, 5);
    assert_eq!(stored_snapshot(table.as_ref(), "tally#edge").await, None);
}
