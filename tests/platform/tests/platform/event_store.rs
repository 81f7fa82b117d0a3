use huddle_eventstore::{
    decode, decode_personal, encode, encode_personal, AppendError, EventSchema, EventStore, ExpectedVersion,
    Idempotency, KeyChange, Metadata, NewEvent, StreamWrite, SubjectKey, MAX_EVENT_BYTES, MAX_NAME_BYTES,
};
use huddle_ports::{Condition, Key, Scan, TableError, EXPIRES_AT};
use huddle_test_support::decorated_table::{faulty, DecoratedTable, Faults, Interceptor, Operation};
use huddle_test_support::{on_both_families, Family};
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

fn event(n: u64) -> NewEvent {
    NewEvent { event_type: "Noted".into(), schema_version: 1, payload: json!({"n": n}) }
}

async fn store(family: Family) -> EventStore {
    EventStore::new(family.backend().await.table(true).await)
}

/// The attempts an append makes while its transaction keeps meeting conflicts (`MAX_ATTEMPTS`
/// in the store).
const APPEND_ATTEMPTS: usize = 20;

fn meta() -> Metadata {
    Metadata::new("corr-1").actor("acc_1")
}

on_both_families!(
    appends_number_versions_and_keep_metadata,
    expected_versions_are_enforced_with_the_current_version,
    fifty_concurrent_writers_leave_contiguous_versions,
    a_repeated_idempotency_key_writes_nothing_and_returns_the_first_result,
    several_streams_append_atomically,
    oversized_events_are_refused_before_any_write,
    scan_returns_each_stream_in_version_order_and_skips_other_items,
    subject_keys_are_born_with_an_append_and_shredding_erases_the_sealed_fields,
    an_idempotency_record_expires_a_day_after_its_write,
    a_transaction_conflict_is_retried_until_the_append_lands,
    an_append_that_keeps_conflicting_gives_up_as_unavailable,
    throttling_is_reported_as_unavailable_and_writes_nothing,
    a_conditional_failure_naming_no_write_is_pinned_on_the_stream_that_moved,
    an_append_resting_on_another_stream_commits_only_while_that_stream_is_unchanged,
);

async fn appends_number_versions_and_keep_metadata(family: Family) {
    let store = store(family).await;
    let first =
        store.append("note#a", ExpectedVersion::NoStream, vec![event(1), event(2)], &meta(), None).await;
    let first = first.unwrap();
    assert_eq!((first.streams[0].first_version, first.streams[0].last_version), (1, 2));
    store.append("note#a", ExpectedVersion::Exact(2), vec![event(3)], &meta(), None).await.unwrap();

    let all = store.read_stream("note#a", 1..).await.unwrap();
    assert_eq!(all.iter().map(|e| e.version).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(all[2].payload, json!({"n": 3}));
    assert_eq!(all[0].actor.as_deref(), Some("acc_1"));
    assert_eq!(all[0].correlation_id, "corr-1");
    assert_eq!(all[0].stream_type(), "note");
    let ids: HashSet<_> = all.iter().map(|e| e.event_id).collect();
    assert_eq!(ids.len(), 3, "every event has its own id");

    let middle = store.read_stream("note#a", 2..=2).await.unwrap();
    assert_eq!(middle.iter().map(|e| e.version).collect::<Vec<_>>(), [2]);
    assert_eq!(store.head("note#a").await.unwrap(), 3);
    assert_eq!(store.head("note#none").await.unwrap(), 0);
    assert!(store.read_stream("note#none", 1..).await.unwrap().is_empty());
}

async fn expected_versions_are_enforced_with_the_current_version(family: Family) {
    let store = store(family).await;
    store.append("note#b", ExpectedVersion::NoStream, vec![event(1)], &meta(), None).await.unwrap();

    for expected in [ExpectedVersion::NoStream, ExpectedVersion::Exact(0), ExpectedVersion::Exact(5)] {
        match store.append("note#b", expected, vec![event(2)], &meta(), None).await {
            Err(AppendError::Conflict { stream, current, .. }) => {
                assert_eq!((stream.as_str(), current), ("note#b", 1))
            }
            other => panic!("{expected:?} should conflict: {other:?}"),
        }
    }
    store.append("note#b", ExpectedVersion::Any, vec![event(2)], &meta(), None).await.unwrap();
    assert_eq!(store.head("note#b").await.unwrap(), 2, "only the accepted appends landed");
}

async fn fifty_concurrent_writers_leave_contiguous_versions(family: Family) {
    // Over a thousand DynamoDB requests, which moto serves one at a time: on a server of its own
    // they queue behind each other instead of in front of every other test's.
    let backend = family.private_backend().await;
    let store = EventStore::new(backend.table(true).await);
    let writers = (0..50u64).map(|writer| {
        let store = store.clone();
        tokio::spawn(async move {
            // Each writer reads the head and appends at it, retrying when another writer won.
            loop {
                let head = store.head("note#race").await.unwrap();
                match store
                    .append("note#race", ExpectedVersion::Exact(head), vec![event(writer)], &meta(), None)
                    .await
                {
                    Ok(appended) => return appended.streams[0].first_version,
                    Err(AppendError::Conflict { current, .. }) => assert!(current > head),
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
        })
    });
    let mut won: Vec<u64> = futures::future::try_join_all(writers).await.unwrap();
    won.sort_unstable();
    assert_eq!(won, (1..=50).collect::<Vec<_>>(), "each writer got its own version");

    let stored = store.read_stream("note#race", 1..).await.unwrap();
    assert_eq!(stored.iter().map(|e| e.version).collect::<Vec<_>>(), (1..=50).collect::<Vec<_>>());
    let writers: HashSet<_> = stored.iter().map(|e| e.payload["n"].as_u64().unwrap()).collect();
    assert_eq!(writers.len(), 50, "no writer's event was lost or written twice");
}

async fn a_repeated_idempotency_key_writes_nothing_and_returns_the_first_result(family: Family) {
    let store = store(family).await;
    let key =
        |receipt| Some(Idempotency { key: "acc_1:req-1".into(), receipt: Some(json!({"status": receipt})) });
    let first =
        store.append("note#c", ExpectedVersion::Any, vec![event(1)], &meta(), key(201)).await.unwrap();
    assert!(!first.replayed);

    let again =
        store.append("note#c", ExpectedVersion::Any, vec![event(1)], &meta(), key(999)).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.streams, first.streams);
    assert_eq!(again.receipt, Some(json!({"status": 201})), "the first receipt answers every repeat");
    assert_eq!(store.head("note#c").await.unwrap(), 1);

    // Racing repeats of one key: one append lands, every caller sees its result.
    let racers = (0..10).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            let key = Some(Idempotency { key: "acc_1:req-2".into(), receipt: None });
            store.append("note#d", ExpectedVersion::Any, vec![event(1)], &meta(), key).await.unwrap()
        })
    });
    let results = futures::future::try_join_all(racers).await.unwrap();
    assert_eq!(store.head("note#d").await.unwrap(), 1);
    assert_eq!(results.iter().filter(|r| !r.replayed).count(), 1);
    assert!(results.iter().all(|r| r.streams[0].last_version == 1));
}

async fn an_idempotency_record_expires_a_day_after_its_write(family: Family) {
    let table = family.backend().await.table(true).await;
    let store = EventStore::new(table.clone());
    let key = Some(Idempotency { key: "acc_1:req-ttl".into(), receipt: None });
    let appended =
        store.append("note#ttl", ExpectedVersion::Any, vec![event(1)], &meta(), key).await.unwrap();

    let record = table.get(&Key::new("idempotency#acc_1:req-ttl", "idempotency")).await.unwrap();
    let record = record.expect("the append stored its idempotency record");
    let written = appended.occurred_at.expect("a first append has a write time");
    // DynamoDB's TTL reads whole seconds since the epoch.
    let day_later = (written + time::Duration::hours(24)).unix_timestamp();
    assert_eq!(record["expires_at"], json!(day_later), "{record:?}");
}

async fn a_transaction_conflict_is_retried_until_the_append_lands(family: Family) {
    let inner = family.backend().await.table(true).await;
    let conflict = || TableError::TransactionConflict;
    let table = faulty(inner, Faults::default().then_repeatedly(Operation::Transact, 2, conflict));
    let store = EventStore::new(table.clone());

    let appended =
        store.append("note#busy", ExpectedVersion::NoStream, vec![event(1)], &meta(), None).await.unwrap();
    assert_eq!((appended.streams[0].first_version, appended.streams[0].last_version), (1, 1));
    assert_eq!(table.interceptor.pending(), 0, "both conflicts were injected");
    assert_eq!(table.interceptor.calls(Operation::Transact), 3, "two conflicts, then the commit");
    let stored = store.read_stream("note#busy", 1..).await.unwrap();
    assert_eq!(stored.iter().map(|e| e.version).collect::<Vec<_>>(), [1], "written once");
}

async fn an_append_that_keeps_conflicting_gives_up_as_unavailable(family: Family) {
    let inner = family.backend().await.table(true).await;
    let conflict = || TableError::TransactionConflict;
    let faults = Faults::default().then_repeatedly(Operation::Transact, APPEND_ATTEMPTS, conflict);
    let table = faulty(inner, faults);
    let store = EventStore::new(table.clone());

    let refused = store.append("note#stuck", ExpectedVersion::Any, vec![event(1)], &meta(), None).await;
    assert!(matches!(refused, Err(AppendError::Unavailable(_))), "{refused:?}");
    // A 21st attempt would have reached the table and committed.
    assert_eq!(table.interceptor.pending(), 0);
    assert_eq!(table.interceptor.calls(Operation::Transact), APPEND_ATTEMPTS);
    assert_eq!(store.head("note#stuck").await.unwrap(), 0);
}

async fn throttling_is_reported_as_unavailable_and_writes_nothing(family: Family) {
    let inner = family.backend().await.table(true).await;
    let throttled = || TableError::Unavailable("ProvisionedThroughputExceededException".into());
    // The SDK has retried a throttled call before the store sees it, so the store does not.
    let faults = Faults::default().then(Operation::Transact, throttled()).then(Operation::Query, throttled());
    let table = faulty(inner, faults);
    let store = EventStore::new(table.clone());

    let refused = store.append("note#hot", ExpectedVersion::NoStream, vec![event(1)], &meta(), None).await;
    assert!(matches!(refused, Err(AppendError::Unavailable(_))), "a throttled write: {refused:?}");
    assert_eq!(table.interceptor.calls(Operation::Transact), 1, "not retried by the store");
    let refused = store.append("note#hot", ExpectedVersion::Any, vec![event(1)], &meta(), None).await;
    assert!(matches!(refused, Err(AppendError::Unavailable(_))), "a throttled head read: {refused:?}");
    assert_eq!(table.interceptor.calls(Operation::Transact), 1, "no write without the head");
    assert_eq!(table.interceptor.pending(), 0);
    assert_eq!(store.head("note#hot").await.unwrap(), 0);
}

async fn a_conditional_failure_naming_no_write_is_pinned_on_the_stream_that_moved(family: Family) {
    let inner = family.backend().await.table(true).await;
    let plain = EventStore::new(inner.clone());
    for stream in ["account#1", "username#ana"] {
        plain.append(stream, ExpectedVersion::NoStream, vec![event(0)], &meta(), None).await.unwrap();
    }
    // A storage that cannot say which condition failed, as a single-item conditional write reports.
    let unnamed = || TableError::ConditionFailed { index: None };
    let table = faulty(inner, Faults::default().then_repeatedly(Operation::Transact, 2, unnamed));
    let store = EventStore::new(table.clone());
    let write =
        |stream: &str, expected| StreamWrite { stream: stream.into(), expected, events: vec![event(1)] };

    // The account is where the append expects it; the reservation moved on.
    let taken = store
        .append_all(
            vec![
                write("account#1", ExpectedVersion::Exact(1)),
                write("username#ana", ExpectedVersion::NoStream),
            ],
            &meta(),
            None,
        )
        .await;
    match taken {
        Err(AppendError::Conflict { stream, current: 1, expected: ExpectedVersion::NoStream }) => {
            assert_eq!(stream, "username#ana")
        }
        other => panic!("expected the reservation to conflict: {other:?}"),
    }
    // Nothing moved: the refusal has no reason the store can give.
    let refused = store.append("account#1", ExpectedVersion::Exact(1), vec![event(1)], &meta(), None).await;
    assert!(matches!(refused, Err(AppendError::Unavailable(_))), "{refused:?}");
    assert_eq!(table.interceptor.pending(), 0);
    for stream in ["account#1", "username#ana"] {
        assert_eq!(plain.head(stream).await.unwrap(), 1, "{stream} is unchanged");
    }
}

async fn several_streams_append_atomically(family: Family) {
    let store = store(family).await;
    let reserve = |name: &str| StreamWrite {
        stream: format!("username#{name}"),
        expected: ExpectedVersion::NoStream,
        events: vec![event(0)],
    };
    let account = |id: &str| StreamWrite {
        stream: format!("account#{id}"),
        expected: ExpectedVersion::NoStream,
        events: vec![event(0)],
    };
    store.append_all(vec![account("1"), reserve("ana")], &meta(), None).await.unwrap();

    let taken = store.append_all(vec![account("2"), reserve("ana")], &meta(), None).await;
    match taken {
        Err(AppendError::Conflict { stream, current: 1, .. }) => assert_eq!(stream, "username#ana"),
        other => panic!("expected the reservation to conflict: {other:?}"),
    }
    assert_eq!(store.head("account#2").await.unwrap(), 0, "the other stream of a failed append stays empty");
}

async fn an_append_resting_on_another_stream_commits_only_while_that_stream_is_unchanged(family: Family) {
    let store = store(family).await;
    let follow = |expected| StreamWrite { stream: "follow#a#b".into(), expected, events: vec![event(0)] };
    // Resting on a stream that has no events yet, then on one at version 1.
    let resting = vec![follow(ExpectedVersion::NoStream), StreamWrite::unchanged("block#b#a", 0)];
    let first = store.append_all(resting, &meta(), None).await.unwrap();
    assert_eq!(first.streams.len(), 1, "the unchanged stream is checked, not written: {first:?}");
    assert_eq!(store.head("block#b#a").await.unwrap(), 0);

    store.append("block#b#a", ExpectedVersion::NoStream, vec![event(1)], &meta(), None).await.unwrap();
    let stale = vec![follow(ExpectedVersion::Exact(1)), StreamWrite::unchanged("block#b#a", 0)];
    match store.append_all(stale, &meta(), None).await {
        Err(AppendError::Conflict { stream, current: 1, .. }) => assert_eq!(stream, "block#b#a"),
        other => panic!("expected the moved stream to conflict: {other:?}"),
    }
    assert_eq!(store.head("follow#a#b").await.unwrap(), 1, "nothing of the refused append landed");
    let current = vec![follow(ExpectedVersion::Exact(1)), StreamWrite::unchanged("block#b#a", 1)];
    store.append_all(current, &meta(), None).await.unwrap();
    assert_eq!(store.head("follow#a#b").await.unwrap(), 2);

    for refused in [
        vec![StreamWrite::unchanged("block#b#a", 1)],
        vec![
            follow(ExpectedVersion::Exact(2)),
            StreamWrite { expected: ExpectedVersion::Any, ..StreamWrite::unchanged("block#b#a", 1) },
        ],
    ] {
        assert!(matches!(store.append_all(refused, &meta(), None).await, Err(AppendError::Invalid(_))));
    }
}

async fn oversized_events_are_refused_before_any_write(family: Family) {
    let store = store(family).await;
    let huge = NewEvent {
        event_type: "Huge".into(),
        schema_version: 1,
        payload: json!("x".repeat(MAX_EVENT_BYTES)),
    };
    let refused = store.append("note#e", ExpectedVersion::Any, vec![event(1), huge], &meta(), None).await;
    assert!(matches!(refused, Err(AppendError::EventTooLarge { limit: MAX_EVENT_BYTES, .. })), "{refused:?}");
    assert_eq!(store.head("note#e").await.unwrap(), 0);

    let long = "x".repeat(MAX_NAME_BYTES + 1);
    let named = |event_type: &str| NewEvent { event_type: event_type.into(), ..event(1) };
    let too_long = [
        store.append(&format!("note#{long}"), ExpectedVersion::Any, vec![event(1)], &meta(), None).await,
        store.append("note#e", ExpectedVersion::Any, vec![named(&long)], &meta(), None).await,
        store.append("note#e", ExpectedVersion::Any, vec![event(1)], &Metadata::new(&long), None).await,
    ];
    for (index, refused) in too_long.iter().enumerate() {
        assert!(matches!(refused, Err(AppendError::Invalid(_))), "name {index}: {refused:?}");
    }
    let longest = "x".repeat(MAX_NAME_BYTES);
    store
        .append("note#e", ExpectedVersion::Any, vec![named(&longest)], &Metadata::new(&longest), None)
        .await
        .unwrap();
    assert_eq!(store.head("note#e").await.unwrap(), 1, "only the append with names in bounds landed");

    let empty = store.append("note#e", ExpectedVersion::Any, vec![], &meta(), None).await;
    assert!(matches!(empty, Err(AppendError::Invalid(_))));
    let too_many =
        store.append("note#e", ExpectedVersion::Any, (0..100).map(event).collect(), &meta(), None).await;
    assert!(matches!(too_many, Err(AppendError::Invalid(_))));
}

async fn scan_returns_each_stream_in_version_order_and_skips_other_items(family: Family) {
    let store = store(family).await;
    for stream in ["note#s1", "note#s2", "note#s3"] {
        for n in 0..5 {
            let key = (n == 0).then(|| Idempotency { key: format!("k-{stream}"), receipt: None });
            store.append(stream, ExpectedVersion::Any, vec![event(n)], &meta(), key).await.unwrap();
        }
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.scan(&Scan::default().limit(4).after(after)).await.unwrap();
        seen.extend(page.events);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 15, "events only, idempotency records skipped");
    for stream in ["note#s1", "note#s2", "note#s3"] {
        let versions: Vec<u64> = seen.iter().filter(|e| e.stream == stream).map(|e| e.version).collect();
        assert_eq!(versions, [1, 2, 3, 4, 5]);
    }
}

/// Personal data: `email` is sealed under the account's key.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
enum SignUpEvent {
    SignedUp { email: String },
    Erased,
}

impl EventSchema for SignUpEvent {
    fn personal_fields(_event_type: &str) -> &'static [&'static str] {
        &["email"]
    }
}

async fn subject_keys_are_born_with_an_append_and_shredding_erases_the_sealed_fields(family: Family) {
    let store = store(family).await;
    let key = SubjectKey::generate("acc_k");
    let signed_up = encode_personal(&SignUpEvent::SignedUp { email: "ana@example.com".into() }, &key);
    let write =
        |events| StreamWrite { stream: "account#acc_k".into(), expected: ExpectedVersion::Any, events };
    store
        .append_with_keys(vec![write(vec![signed_up])], vec![KeyChange::Create(key)], &meta(), None)
        .await
        .unwrap();

    let stored = store.read_stream("account#acc_k", 1..).await.unwrap();
    assert!(!stored[0].payload.to_string().contains("ana@example.com"), "the log holds no clear email");
    let key = store.subject_key("acc_k").await.unwrap().expect("the key was stored with the events");
    let opened: Option<SignUpEvent> = decode_personal(&stored[0], Some(&key)).unwrap();
    assert_eq!(opened, Some(SignUpEvent::SignedUp { email: "ana@example.com".into() }));

    let again = store
        .append_with_keys(
            vec![write(vec![encode(&SignUpEvent::Erased)])],
            vec![KeyChange::Create(SubjectKey::generate("acc_k"))],
            &meta(),
            None,
        )
        .await;
    assert!(matches!(again, Err(AppendError::Invalid(_))), "a subject keeps its one key: {again:?}");
    assert_eq!(store.head("account#acc_k").await.unwrap(), 1, "and the refused append wrote nothing");

    store
        .append_with_keys(
            vec![write(vec![encode(&SignUpEvent::Erased)])],
            vec![KeyChange::Shred("acc_k".into())],
            &meta(),
            None,
        )
        .await
        .unwrap();
    assert!(store.subject_key("acc_k").await.unwrap().is_none());
    let stored = store.read_stream("account#acc_k", 1..).await.unwrap();
    let erased: Vec<Option<SignUpEvent>> = stored.iter().map(|e| decode_personal(e, None).unwrap()).collect();
    assert_eq!(erased, [None, Some(SignUpEvent::Erased)]);
    let scanned = store.scan(&Scan::default()).await.unwrap();
    assert_eq!(scanned.events.len(), 2, "the key item is not an event");
}

/// An event family whose `Renamed` event changed shape: v1 had `name`, v2 has `display_name`.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
enum ProfileEvent {
    Renamed { display_name: String },
    Cleared,
}

impl EventSchema for ProfileEvent {
    fn schema_version(event_type: &str) -> u32 {
        if event_type == "Renamed" {
            2
        } else {
            1
        }
    }

    fn upcast(
        event_type: &str,
        version: u32,
        mut payload: serde_json::Value,
    ) -> Result<serde_json::Value, huddle_eventstore::DecodeError> {
        match (event_type, version) {
            ("Renamed", 1) => {
                let name = payload["name"].take();
                Ok(json!({ "display_name": name }))
            }
            _ => Err(huddle_eventstore::DecodeError::UnknownSchemaVersion(version)),
        }
    }
}

#[tokio::test]
async fn old_schema_versions_upcast_on_decode() {
    let store = store(Family::Embedded).await;
    let old = NewEvent { event_type: "Renamed".into(), schema_version: 1, payload: json!({"name": "Ana"}) };
    let current = encode(&ProfileEvent::Renamed { display_name: "Bea".into() });
    assert_eq!(current.schema_version, 2);
    store
        .append(
            "profile#1",
            ExpectedVersion::Any,
            vec![old, current, encode(&ProfileEvent::Cleared)],
            &meta(),
            None,
        )
        .await
        .unwrap();

    let decoded: Vec<ProfileEvent> =
        store.read_stream("profile#1", 1..).await.unwrap().iter().map(|e| decode(e).unwrap()).collect();
    assert_eq!(
        decoded,
        [
            ProfileEvent::Renamed { display_name: "Ana".into() },
            ProfileEvent::Renamed { display_name: "Bea".into() },
            ProfileEvent::Cleared
        ]
    );
}

on_both_families!(
    an_expired_idempotency_record_counts_as_absent_whatever_ttl_has_swept,
    a_twin_that_committed_first_answers_whichever_condition_failed,
);

async fn an_expired_idempotency_record_counts_as_absent_whatever_ttl_has_swept(family: Family) {
    let table = family.backend().await.table(true).await;
    let store = EventStore::new(table.clone());
    let key = || Some(Idempotency { key: "acc_1:req-exp".into(), receipt: Some(json!({"status": 201})) });
    let record_key = Key::new("idempotency#acc_1:req-exp", "idempotency");
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    store.append("note#exp", ExpectedVersion::Any, vec![event(1)], &meta(), key()).await.unwrap();
    let record = table.get(&record_key).await.unwrap().expect("the record is stored");

    // Past its expiry but not yet swept by TTL (which takes up to days on DynamoDB).
    let mut expired = record.clone();
    expired.insert(EXPIRES_AT.into(), json!(before - 1));
    table.put(expired, Condition::Always).await.unwrap();
    assert!(store.previous_append("acc_1:req-exp").await.unwrap().is_none(), "expired is absent");
    let again = store.append("note#exp", ExpectedVersion::Any, vec![event(2)], &meta(), key()).await.unwrap();
    assert!(!again.replayed, "the key is free again");
    assert_eq!(store.head("note#exp").await.unwrap(), 2);
    let renewed = table.get(&record_key).await.unwrap().unwrap();
    assert!(renewed[EXPIRES_AT].as_i64().unwrap() > before, "the new record has a fresh expiry");
}

/// Hides each idempotency record from its first read: the window in which a twin request
/// commits between our look for the record and our own transaction.
#[derive(Default)]
struct LateRecords {
    seen: Mutex<HashSet<Key>>,
}

#[async_trait::async_trait]
impl Interceptor for LateRecords {
    fn before(&self, _operation: Operation) -> Result<(), TableError> {
        Ok(())
    }

    fn hides(&self, key: &Key) -> bool {
        key.pk.starts_with("idempotency#") && self.seen.lock().unwrap().insert(key.clone())
    }
}

async fn a_twin_that_committed_first_answers_whichever_condition_failed(family: Family) {
    let table = family.backend().await.table(true).await;
    let store = EventStore::new(table.clone());
    let key = || Some(Idempotency { key: "acc_1:req-twin".into(), receipt: Some(json!({"status": 201})) });
    let first =
        store.append("note#twin", ExpectedVersion::NoStream, vec![event(1)], &meta(), key()).await.unwrap();

    // The twin misses the record, so its transaction fails first on the event's condition
    // (the stream exists now), not on the record's: it must still answer with the first result.
    let late = EventStore::new(Arc::new(DecoratedTable::new(table, LateRecords::default())));
    let twin = late.append("note#twin", ExpectedVersion::NoStream, vec![event(1)], &meta(), key()).await;
    let twin = twin.expect("a replay, not a conflict");
    assert!(twin.replayed);
    assert_eq!((twin.streams, twin.receipt), (first.streams, first.receipt));
    assert_eq!(store.head("note#twin").await.unwrap(), 1);
}
