//! Platform benchmarks on the embedded runner (a bench binary, not a timed test):
//!
//! * append throughput: concurrent writers appending one event per call to their own streams,
//!   on a file-backed SQLite store (as `huddle serve` runs);
//! * write-to-read lag: a note written over HTTP, then polled on the query route until the
//!   projection shows it, under a steady background write load.
//!
//! Run: `cargo bench -p huddle-platform-tests --bench platform`

use huddle_embedded::{Database, SqliteTable};
use huddle_eventstore::{EventStore, ExpectedVersion, Metadata};
use huddle_runner::{Settings, Storage};
use huddle_test_support::notes::{events, stream_of, NoteEvent};
use huddle_test_support::notes_api::NotesDomain;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    append_throughput(1, 5_000).await;
    append_throughput(8, 20_000).await;
    write_to_read_lag(300).await;
}

async fn append_throughput(writers: usize, total: usize) {
    let folder = std::env::temp_dir().join(format!("huddle-bench-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&folder).unwrap();
    let db = Database::open(&folder.join("bench.sqlite3")).unwrap();
    let store = EventStore::new(Arc::new(SqliteTable::new(&db, "events", true)));
    let started = Instant::now();
    let tasks = (0..writers).map(|writer| {
        let store = store.clone();
        tokio::spawn(async move {
            let meta = Metadata::new("bench");
            for n in 0..total / writers {
                let event = NoteEvent::NoteLiked { by: format!("acc_{n}") };
                let stream = stream_of(&format!("w{writer}"));
                store.append(&stream, ExpectedVersion::Any, events(&[event]), &meta, None).await.unwrap();
            }
        })
    });
    futures::future::try_join_all(tasks).await.unwrap();
    let elapsed = started.elapsed();
    println!(
        "append throughput, {writers} writer(s): {total} events in {:.2} s = {:.0} appends/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    std::fs::remove_dir_all(folder).unwrap();
}

async fn write_to_read_lag(samples: usize) {
    let folder = std::env::temp_dir().join(format!("huddle-bench-{}", ulid::Ulid::new()));
    let system =
        huddle_runner::start(Settings::new(Storage::Folder(folder.clone()), 0), vec![Arc::new(NotesDomain)])
            .await
            .unwrap();
    let client = reqwest::Client::new();
    let url = system.url();
    let auth = "Bearer test:acc_bench";

    // Background load: four clients writing notes as fast as the runner takes them.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let background = (0..4).map(|_| {
        let (client, url, stop) = (client.clone(), url.clone(), stop.clone());
        tokio::spawn(async move {
            let mut writes = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let response = client
                    .post(format!("{url}/v1/notes"))
                    .header("authorization", auth)
                    .json(&json!({"text": "load"}))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                writes += 1;
            }
            writes
        })
    });
    let background: Vec<_> = background.collect();
    let load_started = Instant::now();

    let mut lags = Vec::with_capacity(samples);
    for _ in 0..samples {
        let written = Instant::now();
        let created: serde_json::Value = client
            .post(format!("{url}/v1/notes"))
            .header("authorization", auth)
            .json(&json!({"text": "probe"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let note = format!("{url}/v1/notes/{}", created["id"].as_str().unwrap());
        loop {
            let response = client.get(&note).header("authorization", auth).send().await.unwrap();
            if response.status().is_success() {
                break;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        lags.push(written.elapsed());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let background_writes: u64 = futures::future::try_join_all(background).await.unwrap().into_iter().sum();
    let load_seconds = load_started.elapsed().as_secs_f64();

    lags.sort();
    let percentile =
        |p: f64| lags[((lags.len() as f64 * p) as usize).min(lags.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "write-to-read lag over HTTP ({samples} probes) under {:.0} background writes/s: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        background_writes as f64 / load_seconds,
        percentile(0.5),
        percentile(0.9),
        percentile(0.99),
        percentile(1.0)
    );
    system.shutdown().await;
    std::fs::remove_dir_all(folder).unwrap();
}
