//! The replay runner on both families: beside live appends and deliveries it ends where a clean
//! projection ends, an interrupted replay resumes from its recorded position without reading
//! its completed pages again, `rebuild` repairs a corrupted read model, and streams the
//! subscription skips are never applied.

use crate::delivery::{append_notes, sqs_event};
use huddle_delivery::{
    replay, Operations, Progress, Projector, ReplayOptions, ReplayTarget, REPLAY_POSITION_PK,
};
use huddle_eventstore::{attribute, Envelope, EventStore, ExpectedVersion, Metadata};
use huddle_ports::{Condition, FilterPolicy, Key, Query, Table, TableError};
use huddle_test_support::decorated_table::{DecoratedTable, Interceptor, Operation};
use huddle_test_support::notes::{events, stream_of, NoteEvent, NotesProjection};
use huddle_test_support::{on_both_families, scan_all, Family};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

on_both_families!(
    a_replay_beside_live_appends_and_deliveries_ends_equal_to_a_clean_projection,
    an_interrupted_replay_resumes_without_reading_its_completed_pages_again,
    a_rebuild_restores_a_corrupted_read_model,
    streams_the_subscription_skips_are_never_applied,
    the_operator_role_replays_as_huddle_replay_does,
);

/// The operator role's `replay` operation (a JSON request, as the Lambda receives it) rebuilds
/// a corrupted read model as `huddle replay --rebuild` does.
async fn the_operator_role_replays_as_huddle_replay_does(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    append_notes(&store, 20).await;
    append_drafts(&store, 3).await;
    let read_model = backend.table(false).await;
    let stray = json!({"pk": "notes", "sk": "n-stray"}).as_object().unwrap().clone();
    read_model.put(stray, Condition::Always).await.unwrap();
    let projector = Projector::new(Arc::new(NotesProjection), read_model.clone(), store.clone());
    let operations = Operations::new(projector, backend.queue(None).await, notes_subscription());

    let request = json!({"operation": "replay", "rebuild": true, "segments": 2});
    let report = operations.run(serde_json::from_value(request).unwrap(), "test operator").await.unwrap();
    assert_eq!((report["applied"].as_u64(), report["segments"].as_u64()), (Some(20), Some(2)), "{report}");
    let clean = clean_projection(backend.table(false).await, &store, 5).await;
    assert_eq!(scan_all(read_model.as_ref()).await, scan_all(clean.as_ref()).await);
}

/// What the notes projection subscribes to: note streams only, by stream type and event type.
fn notes_subscription() -> FilterPolicy {
    FilterPolicy::all_of(&[
        (attribute::STREAM_TYPE, &["note"]),
        (attribute::EVENT_TYPE, &["NoteWritten", "NoteEdited", "NoteLiked", "NoteDeleted"]),
    ])
}

fn target(events: &EventStore, read_model: &Arc<dyn Table>) -> ReplayTarget {
    ReplayTarget {
        projection: Arc::new(NotesProjection),
        read_model: read_model.clone(),
        events: events.clone(),
        consumes: notes_subscription(),
    }
}

fn options(segments: u32, page_size: usize) -> ReplayOptions {
    ReplayOptions { segments, page_size, ..ReplayOptions::default() }
}

/// The read model live delivery of every note event of `events` makes, on a fresh table.
async fn clean_projection(
    family_table: Arc<dyn Table>,
    events: &EventStore,
    streams: usize,
) -> Arc<dyn Table> {
    let projector = Projector::new(Arc::new(NotesProjection), family_table.clone(), events.clone());
    for n in 0..streams {
        let envelopes = events.read_stream(&stream_of(&format!("n{n}")), 1..).await.unwrap();
        assert!(projector.handle(sqs_event(&envelopes)).await.batch_item_failures.is_empty());
    }
    family_table
}

/// Streams of another type reusing a note event's name, which a note projection cannot
/// project (it fails on a stream that is not a note's).
async fn append_drafts(events: &EventStore, count: usize) {
    let meta = Metadata::new("corr-drafts");
    for n in 0..count {
        let written = events_of(NoteEvent::NoteWritten { text: format!("draft {n}") });
        events
            .append(&format!("draft#d{}", n % 3), ExpectedVersion::Any, written, &meta, None)
            .await
            .unwrap();
    }
}

fn events_of(event: NoteEvent) -> Vec<huddle_eventstore::NewEvent> {
    events(&[event])
}

async fn a_replay_beside_live_appends_and_deliveries_ends_equal_to_a_clean_projection(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let envelopes = append_notes(&store, 30).await;
    append_drafts(&store, 6).await;

    let rebuilt = backend.table(false).await;
    let live = Projector::new(Arc::new(NotesProjection), rebuilt.clone(), store.clone());
    let reports = Mutex::new(Vec::<Progress>::new());
    let replaying = replay(target(&store, &rebuilt), options(3, 4), |progress: &Progress| {
        reports.lock().unwrap().push(*progress)
    });
    // Live traffic meanwhile: half the old events delivered again, and new events appended and
    // delivered as the fan-out would.
    let traffic = async {
        assert!(live.handle(sqs_event(&envelopes[..15])).await.batch_item_failures.is_empty());
        let meta = Metadata::new("corr-live");
        for n in 0..10 {
            let stream = stream_of(&format!("n{}", n % 6));
            let event = if n == 5 {
                NoteEvent::NoteWritten { text: "a new note".into() }
            } else {
                NoteEvent::NoteLiked { by: format!("acc_live{n}") }
            };
            let appended =
                store.append(&stream, ExpectedVersion::Any, events_of(event), &meta, None).await.unwrap();
            let version = appended.streams[0].last_version;
            let new: Vec<Envelope> = store.read_stream(&stream, version..=version).await.unwrap();
            assert!(live.handle(sqs_event(&new)).await.batch_item_failures.is_empty());
        }
    };
    let (summary, ()) = tokio::join!(replaying, traffic);
    let summary = summary.unwrap();

    let clean = clean_projection(backend.table(false).await, &store, 6).await;
    assert_eq!(scan_all(rebuilt.as_ref()).await, scan_all(clean.as_ref()).await);
    assert!(summary.visited >= 36, "every item present when the scan began is visited: {summary:?}");
    assert!(summary.applied >= 30 && summary.streams >= 5, "{summary:?}");
    assert_eq!((summary.segments, summary.resumed), (3, false));
    let reports = reports.into_inner().unwrap();
    assert!(!reports.is_empty(), "progress is reported after every page");
    assert!(reports.windows(2).all(|pair| pair[0].visited <= pair[1].visited), "progress only grows");
    assert!(reports.iter().all(|progress| progress.estimated_items >= 36), "{:?}", reports[0]);
}

/// Counts the scans of a table and fails the one after the first `pages`, once.
struct ScansFailingAfter {
    pages: usize,
    scans: AtomicUsize,
}

impl ScansFailingAfter {
    fn new(pages: usize) -> Self {
        Self { pages, scans: AtomicUsize::new(0) }
    }

    fn scans(&self) -> usize {
        self.scans.load(Ordering::SeqCst)
    }
}

impl Interceptor for ScansFailingAfter {
    fn before(&self, operation: Operation) -> Result<(), TableError> {
        if operation != Operation::Scan {
            return Ok(());
        }
        match self.scans.fetch_add(1, Ordering::SeqCst) {
            scan if scan == self.pages => {
                Err(TableError::Unavailable("injected: the replay is interrupted".into()))
            }
            _ => Ok(()),
        }
    }
}

async fn an_interrupted_replay_resumes_without_reading_its_completed_pages_again(family: Family) {
    let backend = family.backend().await;
    let events_table = backend.table(true).await;
    let store = EventStore::new(events_table.clone());
    append_notes(&store, 30).await;
    append_drafts(&store, 6).await;

    // A clean replay, to know how many pages the table has.
    let counted = Arc::new(DecoratedTable::new(events_table.clone(), ScansFailingAfter::new(usize::MAX)));
    let clean = backend.table(false).await;
    let uninterrupted =
        replay(target(&EventStore::new(counted.clone()), &clean), options(1, 4), |_: &Progress| {})
            .await
            .unwrap();
    let pages = counted.interceptor.scans();
    assert!(pages >= 9, "36 items in pages of 4: {pages}");

    let completed = 5;
    let interrupted = Arc::new(DecoratedTable::new(events_table.clone(), ScansFailingAfter::new(completed)));
    let rebuilt = backend.table(false).await;
    let failed =
        replay(target(&EventStore::new(interrupted.clone()), &rebuilt), options(1, 4), |_: &Progress| {})
            .await;
    assert!(failed.is_err(), "the injected failure ends the replay: {failed:?}");
    assert_eq!(interrupted.interceptor.scans(), completed + 1);
    let positions = rebuilt.query(&Query::new(REPLAY_POSITION_PK)).await.unwrap();
    assert_eq!(positions.items.len(), 1, "one segment, one recorded position");

    // Resumed with another segment count asked for: it keeps the one it started with.
    let resumed_table =
        Arc::new(DecoratedTable::new(events_table.clone(), ScansFailingAfter::new(usize::MAX)));
    let resumed =
        replay(target(&EventStore::new(resumed_table.clone()), &rebuilt), options(4, 4), |_: &Progress| {})
            .await
            .unwrap();
    assert_eq!(resumed_table.interceptor.scans(), pages - completed, "completed pages are not read again");
    assert_eq!((resumed.segments, resumed.resumed), (1, true));
    assert_eq!(
        (resumed.visited, resumed.applied, resumed.streams),
        (uninterrupted.visited, uninterrupted.applied, uninterrupted.streams),
        "the counts carry over the interruption"
    );
    assert_eq!(scan_all(rebuilt.as_ref()).await, scan_all(clean.as_ref()).await);
    assert!(
        rebuilt.query(&Query::new(REPLAY_POSITION_PK)).await.unwrap().items.is_empty(),
        "a completed replay leaves no position"
    );

    // Completed, it starts over next time.
    let again_table = Arc::new(DecoratedTable::new(events_table, ScansFailingAfter::new(usize::MAX)));
    let again =
        replay(target(&EventStore::new(again_table.clone()), &rebuilt), options(1, 4), |_: &Progress| {})
            .await
            .unwrap();
    assert_eq!((again_table.interceptor.scans(), again.resumed), (pages, false));
}

async fn a_rebuild_restores_a_corrupted_read_model(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    append_notes(&store, 30).await;
    let rebuilt = backend.table(false).await;
    replay(target(&store, &rebuilt), options(2, 8), |_: &Progress| {}).await.unwrap();
    let clean = clean_projection(backend.table(false).await, &store, 5).await;
    let expected = scan_all(clean.as_ref()).await;
    assert_eq!(scan_all(rebuilt.as_ref()).await, expected);

    // Corrupted: a counter changed, a note's text gone, an item no event wrote.
    let likes = Key::new(stream_of("n1"), "note");
    let mut note = rebuilt.get(&likes).await.unwrap().unwrap();
    note.insert("likes".into(), json!(1000));
    rebuilt.put(note, Condition::Always).await.unwrap();
    rebuilt.delete(&Key::new(stream_of("n2"), "text"), Condition::Always).await.unwrap();
    let stray = json!({"pk": "notes", "sk": "n-stray"}).as_object().unwrap().clone();
    rebuilt.put(stray, Condition::Always).await.unwrap();

    // A replay alone changes nothing: every checkpoint says its events are applied.
    replay(target(&store, &rebuilt), options(2, 8), |_: &Progress| {}).await.unwrap();
    assert_ne!(scan_all(rebuilt.as_ref()).await, expected);

    let rebuild = ReplayOptions { rebuild: true, ..options(2, 8) };
    let summary = replay(target(&store, &rebuilt), rebuild, |_: &Progress| {}).await.unwrap();
    assert_eq!(scan_all(rebuilt.as_ref()).await, expected);
    assert_eq!(summary.applied, 30);
}

async fn streams_the_subscription_skips_are_never_applied(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    append_notes(&store, 20).await;
    // Were they applied, the note projection would fail on them.
    append_drafts(&store, 9).await;
    let rebuilt = backend.table(false).await;
    let summary = replay(target(&store, &rebuilt), options(2, 5), |_: &Progress| {}).await.unwrap();
    // Visited: the 29 events and the appended-streams index entries of the 8 streams.
    assert_eq!((summary.visited, summary.applied, summary.streams), (29 + 8, 20, 5), "{summary:?}");
    let clean = clean_projection(backend.table(false).await, &store, 5).await;
    assert_eq!(scan_all(rebuilt.as_ref()).await, scan_all(clean.as_ref()).await);
    for draft in 0..3 {
        let checkpoint = Key::new(format!("checkpoint#draft#d{draft}"), "checkpoint");
        assert_eq!(rebuilt.get(&checkpoint).await.unwrap(), None, "draft#d{draft} was never applied");
    }
}
