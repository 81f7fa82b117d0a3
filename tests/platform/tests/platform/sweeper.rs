//! The sweeper on both families: a stream whose last event never reached the projection is found
//! through the appended-streams index and healed from the log; streams of types the domain does
//! not consume, and streams appended too recently, are left alone.

use huddle_delivery::{Projector, Sweeper};
use huddle_eventstore::{hour_of, EventStore, ExpectedVersion, Metadata, APPENDED_SHARDS};
use huddle_ports::FilterPolicy;
use huddle_test_support::notes::{events, stream_of, NoteEvent, NotesProjection};
use huddle_test_support::{on_both_families, scan_all, unique_name, Family};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

on_both_families!(
    a_stream_whose_last_event_was_lost_is_healed_by_the_sweep,
    the_sweep_skips_stream_types_the_domain_does_not_consume_and_streams_not_yet_settled,
    every_append_indexes_its_streams_under_its_hour,
);

const HOUR: Duration = Duration::from_secs(3600);

fn notes_subscription() -> FilterPolicy {
    FilterPolicy::all_of(&[
        ("stream_type", &["note"]),
        ("event_type", &["NoteWritten", "NoteEdited", "NoteLiked", "NoteDeleted"]),
    ])
}

async fn append(store: &EventStore, stream: &str, notes: &[NoteEvent]) {
    let meta = Metadata::new("corr-sweeper");
    store.append(stream, ExpectedVersion::Any, events(notes), &meta, None).await.unwrap();
}

fn later(by: Duration) -> OffsetDateTime {
    OffsetDateTime::now_utc() + by
}

async fn a_stream_whose_last_event_was_lost_is_healed_by_the_sweep(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let (lost_tail, delivered) = (stream_of(&unique_name("tail")), stream_of(&unique_name("whole")));
    let written = NoteEvent::NoteWritten { text: "hello".into() };
    let liked = NoteEvent::NoteLiked { by: "acc_b".into() };
    append(&store, &lost_tail, &[written.clone(), liked.clone()]).await;
    append(&store, &lost_tail, &[NoteEvent::NoteEdited { text: "edited".into() }]).await;
    append(&store, &delivered, &[written, liked]).await;

    let read_model = backend.table(false).await;
    let projector = Projector::new(Arc::new(NotesProjection), read_model.clone(), store.clone());
    // Live delivery brought the first event of one stream (its later ones were lost) and all of
    // the other.
    projector.apply_stream(store.read_stream(&lost_tail, 1..=1).await.unwrap()).await.unwrap();
    projector.apply_stream(store.read_stream(&delivered, 1..).await.unwrap()).await.unwrap();

    let sweeper = Sweeper::new(projector.clone(), store.clone(), notes_subscription());
    let report = sweeper.sweep(later(2 * sweeper_settle()), HOUR).await.unwrap();
    assert_eq!((report.checked, report.behind, report.healed), (2, 1, 1), "{report:?}");
    assert_eq!(projector.checkpoint(&lost_tail).await.unwrap(), 3);

    // The healed read model is the one a clean, in-order projection of the log makes.
    let clean_model = backend.table(false).await;
    let clean = Projector::new(Arc::new(NotesProjection), clean_model.clone(), store.clone());
    for stream in [&lost_tail, &delivered] {
        clean.apply_stream(store.read_stream(stream, 1..).await.unwrap()).await.unwrap();
    }
    assert_eq!(scan_all(read_model.as_ref()).await, scan_all(clean_model.as_ref()).await);

    let again = sweeper.sweep(later(2 * sweeper_settle()), HOUR).await.unwrap();
    assert_eq!((again.checked, again.behind), (2, 0), "nothing is behind any more");
}

fn sweeper_settle() -> Duration {
    huddle_delivery::SETTLE_TIME
}

async fn the_sweep_skips_stream_types_the_domain_does_not_consume_and_streams_not_yet_settled(
    family: Family,
) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let note = stream_of(&unique_name("note"));
    let foreign = format!("memo#{}", unique_name("memo"));
    append(&store, &note, &[NoteEvent::NoteWritten { text: "mine".into() }]).await;
    append(&store, &foreign, &[NoteEvent::NoteWritten { text: "another domain's".into() }]).await;
    let read_model = backend.table(false).await;
    let projector = Projector::new(Arc::new(NotesProjection), read_model.clone(), store.clone());
    let sweeper = Sweeper::new(projector.clone(), store.clone(), notes_subscription());

    // Just appended: live delivery is presumably under way.
    let early = sweeper.sweep(OffsetDateTime::now_utc(), HOUR).await.unwrap();
    assert_eq!(early.checked, 0, "{early:?}");
    assert_eq!(projector.checkpoint(&note).await.unwrap(), 0);

    let settled = sweeper.sweep(later(2 * sweeper_settle()), HOUR).await.unwrap();
    assert_eq!((settled.checked, settled.healed), (1, 1), "only the note stream: {settled:?}");
    assert_eq!(projector.checkpoint(&note).await.unwrap(), 1);
    assert_eq!(projector.checkpoint(&foreign).await.unwrap(), 0, "not this domain's stream type");
}

async fn every_append_indexes_its_streams_under_its_hour(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let streams: Vec<String> = (0..3).map(|n| stream_of(&unique_name(&format!("i{n}")))).collect();
    let before = OffsetDateTime::now_utc().unix_timestamp();
    for stream in &streams {
        append(&store, stream, &[NoteEvent::NoteWritten { text: "t".into() }]).await;
        append(&store, stream, &[NoteEvent::NoteLiked { by: "acc_x".into() }]).await;
    }
    let after = OffsetDateTime::now_utc();
    // An append near the top of the hour may land in the next one: read both.
    let mut found = vec![0; streams.len()];
    for hour in [hour_of(after - HOUR), hour_of(after)] {
        let mut indexed = Vec::new();
        for shard in 0..APPENDED_SHARDS {
            indexed.extend(store.appended_streams(hour, shard, None, 1000).await.unwrap().streams);
        }
        for (stream, found) in streams.iter().zip(&mut found) {
            let entries: Vec<_> = indexed.iter().filter(|entry| &entry.stream == stream).collect();
            assert!(entries.len() <= 1, "one entry per stream and hour: {entries:?}");
            for entry in entries {
                assert_eq!(entry.stream_type, "note");
                assert!((before..=after.unix_timestamp()).contains(&entry.appended_at));
                *found += 1;
            }
        }
    }
    assert!(found.iter().all(|&entries| entries >= 1), "every stream indexed: {found:?}");
    // The index holds no events: reading the streams and scanning the store see only events.
    for stream in &streams {
        assert_eq!(store.read_stream(stream, 1..).await.unwrap().len(), 2);
    }
}
