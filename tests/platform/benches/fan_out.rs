//! Fan-out write benchmark on the embedded family (a bench binary, not a timed test): one event
//! that fans out to 10,000 items (a note shared with 10,000 readers, one inbox item each), then
//! one that deletes them all, each applied by the projector on a file-backed SQLite store (as
//! `huddle serve --data` runs) in batches of 25, 8 in flight (the default) and then 1 at a time.
//! Each run uses a fresh note.
//!
//! Run: `cargo bench -p huddle-platform-tests --bench fan_out`

use huddle_delivery::{Projector, BATCHES_IN_FLIGHT};
use huddle_embedded::{Database, SqliteTable};
use huddle_eventstore::{EventStore, ExpectedVersion, Metadata};
use huddle_test_support::notes::{events, stream_of, NoteEvent, NotesProjection};
use std::sync::Arc;
use std::time::Instant;

const READERS: u32 = 10_000;
const RUNS: usize = 3;

#[tokio::main]
async fn main() {
    let folder = std::env::temp_dir().join(format!("huddle-bench-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&folder).unwrap();
    let db = Database::open(&folder.join("bench.sqlite3")).unwrap();
    let store = EventStore::new(Arc::new(SqliteTable::new(&db, "events", true)));
    let read_model = Arc::new(SqliteTable::new(&db, "read-model", false));
    let meta = Metadata::new("bench");

    for (run, in_flight) in (0..RUNS).map(|run| (run, BATCHES_IN_FLIGHT)).chain([(RUNS, 1)]) {
        let projector = Projector::new(Arc::new(NotesProjection), read_model.clone(), store.clone())
            .with_batches_in_flight(in_flight);
        let stream = stream_of(&format!("bench{run}"));
        let history = [
            NoteEvent::NoteWritten { text: "hello".into() },
            NoteEvent::NoteShared { readers: READERS },
            NoteEvent::NoteDeleted,
        ];
        store.append(&stream, ExpectedVersion::NoStream, events(&history), &meta, None).await.unwrap();
        let envelopes = store.read_stream(&stream, 1..=3).await.unwrap();
        projector.apply_stream(envelopes[..1].to_vec()).await.unwrap();
        for (what, envelope) in [("puts", &envelopes[1]), ("deletes", &envelopes[2])] {
            let started = Instant::now();
            projector.apply_stream(vec![envelope.clone()]).await.unwrap();
            let elapsed = started.elapsed().as_secs_f64();
            println!(
                "fan-out run {run}, {in_flight} batch(es) in flight: one event, {READERS} {what} in {:.3} s = {:.0} writes/s",
                elapsed,
                f64::from(READERS) / elapsed
            );
        }
    }
    std::fs::remove_dir_all(folder).unwrap();
}
