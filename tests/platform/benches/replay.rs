//! Replay throughput on a file-backed embedded store (as `huddle replay --data` runs): 20,000
//! note events in 2,000 streams beside 5,000 events of a stream type the subscription skips,
//! replayed into a fresh read table with 1 and with 4 scan segments.
//!
//! Run: `cargo bench -p huddle-platform-tests --bench replay`

use huddle_delivery::{replay, Progress, ReplayOptions, ReplayTarget};
use huddle_embedded::{Database, SqliteTable};
use huddle_eventstore::{attribute, EventStore, ExpectedVersion, Metadata};
use huddle_ports::FilterPolicy;
use huddle_test_support::notes::{events, stream_of, NoteEvent, NotesProjection};
use std::sync::Arc;

const NOTES: usize = 2_000;
const EVENTS_PER_NOTE: usize = 10;
const SKIPPED: usize = 5_000;

#[tokio::main]
async fn main() {
    let folder = std::env::temp_dir().join(format!("huddle-bench-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&folder).unwrap();
    let db = Database::open(&folder.join("bench.sqlite3")).unwrap();
    let store = EventStore::new(Arc::new(SqliteTable::new(&db, "events", true)));
    let meta = Metadata::new("bench");
    for note in 0..NOTES {
        let mut written = vec![NoteEvent::NoteWritten { text: format!("note {note}") }];
        written.extend((1..EVENTS_PER_NOTE).map(|n| NoteEvent::NoteLiked { by: format!("acc_{n}") }));
        let stream = stream_of(&format!("n{note}"));
        store.append(&stream, ExpectedVersion::NoStream, events(&written), &meta, None).await.unwrap();
    }
    for draft in 0..SKIPPED / 10 {
        let drafts: Vec<NoteEvent> =
            (0..10).map(|n| NoteEvent::NoteEdited { text: format!("draft {n}") }).collect();
        let stream = format!("draft#d{draft}");
        store.append(&stream, ExpectedVersion::NoStream, events(&drafts), &meta, None).await.unwrap();
    }
    for segments in [1, 4] {
        let target = ReplayTarget {
            projection: Arc::new(NotesProjection),
            read_model: Arc::new(SqliteTable::new(&db, format!("notes-{segments}"), false)),
            events: store.clone(),
            consumes: FilterPolicy::all_of(&[
                (attribute::STREAM_TYPE, &["note"]),
                (attribute::EVENT_TYPE, &["NoteWritten", "NoteEdited", "NoteLiked", "NoteDeleted"]),
            ]),
        };
        let options = ReplayOptions { segments, ..ReplayOptions::default() };
        let summary = replay(target, options, |_: &Progress| {}).await.unwrap();
        assert_eq!(summary.applied as usize, NOTES * EVENTS_PER_NOTE);
        println!(
            "replay, {segments} segment(s): {} items visited, {} events applied to {} streams in {:.2} s = {:.0} items/s, {:.0} events applied/s",
            summary.visited,
            summary.applied,
            summary.streams,
            summary.elapsed.as_secs_f64(),
            summary.items_per_second(),
            summary.applied as f64 / summary.elapsed.as_secs_f64(),
        );
    }
    std::fs::remove_dir_all(folder).unwrap();
}
