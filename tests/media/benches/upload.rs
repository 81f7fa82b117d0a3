//! Upload-to-ready benchmarks (a bench binary, not a timed test), release build, embedded runner
//! on a file-backed store as `huddle serve --data` runs it, through HTTP as an app goes:
//! `POST /v1/media`, the PUT to the presigned URL, then `GET /v1/media/{id}` every 20 ms until
//! it is ready. Reported per file: from the request to ready (what the person waits), and from
//! the end of the PUT to ready (notification, processing, outputs, projection).
//!
//! * a photo: a JPEG of noise (`samples::noisy_photo`) just under the 16 MB upload limit;
//! * a 50 MB video: the ffmpeg-made H.264 fixture with a 50 MB `free` box after its boxes, so
//!   the bytes are read, walked, scrubbed and written as a long video's would be (the checks
//!   read the `moov`, whatever the length of what it describes).
//!
//! Run: `cargo bench -p huddle-media-tests --bench upload` (`HUDDLE_BENCH_RUNS`, default 5).

#[path = "../../../domains/media/tests/samples/mod.rs"]
mod samples;

use huddle_media::processing::limits::MAX_IMAGE_BYTES;
use huddle_runner::{Settings, Storage};
use huddle_test_support::bench::summary;
use huddle_test_support::system::{accounts_domain, accounts_settings, PASSWORD};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const VIDEO_BYTES: usize = 50 * 1000 * 1000;

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("HUDDLE_BENCH_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(5);
    let folder = std::env::temp_dir().join(format!("huddle-bench-upload-{}", ulid::Ulid::new()));
    let domains = vec![accounts_domain(accounts_settings()), Arc::new(huddle_media::MediaDomain) as _];
    let running =
        huddle_runner::start(Settings::new(Storage::Folder(folder.clone()), 0), domains).await.unwrap();
    let bench = Bench { client: Client::new(), url: running.url(), token: String::new() };
    let bench = Bench { token: bench.sign_up("ana").await, ..bench };

    let photo = largest_noisy_photo_under(MAX_IMAGE_BYTES);
    let video = padded_video(VIDEO_BYTES);
    for (name, kind, content_type, bytes) in [
        (format!("photo, {:.1} MB JPEG", photo.len() as f64 / 1e6), "image", "image/jpeg", &photo),
        (format!("video, {:.1} MB MP4", video.len() as f64 / 1e6), "video", "video/mp4", &video),
    ] {
        let (mut total, mut after_put) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (whole, processing) = bench.upload_to_ready(kind, content_type, bytes).await;
            total.push(whole);
            after_put.push(processing);
        }
        println!("{name}: request to ready {}", summary(total));
        println!("{name}: end of upload to ready {}", summary(after_put));
    }
    drop(running);
    let _ = std::fs::remove_dir_all(folder);
}

/// The largest 4:3 noisy photo, in steps of 200 px across, that stays within `limit` bytes.
fn largest_noisy_photo_under(limit: usize) -> Vec<u8> {
    let mut best = samples::noisy_photo(3000, 2250);
    for width in (3000..=6000).step_by(200) {
        let photo = samples::noisy_photo(width, width * 3 / 4);
        if photo.len() > limit {
            break;
        }
        best = photo;
    }
    best
}

/// The H.264 fixture followed by a `free` box that brings it to `size` bytes.
fn padded_video(size: usize) -> Vec<u8> {
    let mut video = samples::fixture("h264-160x120-2s.mp4");
    let padding = size - video.len();
    video.extend_from_slice(&(padding as u32).to_be_bytes());
    video.extend_from_slice(b"free");
    video.resize(size, 0);
    video
}

struct Bench {
    client: Client,
    url: String,
    token: String,
}

impl Bench {
    async fn sign_up(&self, username: &str) -> String {
        let body =
            json!({ "username": username, "email": format!("{username}@example.com"), "password": PASSWORD });
        let response =
            self.client.post(format!("{}/v1/accounts", self.url)).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// One file from its request to ready: the whole time, and the time after its PUT ended.
    async fn upload_to_ready(&self, kind: &str, content_type: &str, bytes: &[u8]) -> (Duration, Duration) {
        let started = Instant::now();
        let declared = json!({"kind": kind, "content_type": content_type, "size_bytes": bytes.len()});
        let response = self
            .client
            .post(format!("{}/v1/media", self.url))
            .bearer_auth(&self.token)
            .json(&declared)
            .send();
        let response = response.await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let ticket: Value = response.json().await.unwrap();
        let mut upload = self.client.put(ticket["upload"]["url"].as_str().unwrap()).body(bytes.to_vec());
        for (name, value) in ticket["upload"]["headers"].as_object().unwrap() {
            upload = upload.header(name, value.as_str().unwrap());
        }
        assert!(upload.send().await.unwrap().status().is_success());
        let uploaded = Instant::now();
        let media = format!("{}/v1/media/{}", self.url, ticket["media"]["id"].as_str().unwrap());
        loop {
            let response = self.client.get(&media).bearer_auth(&self.token).send().await.unwrap();
            let body: Value = response.json().await.unwrap_or_default();
            match body["status"].as_str() {
                Some("ready") => return (started.elapsed(), uploaded.elapsed()),
                Some("rejected") => panic!("rejected: {body}"),
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}
