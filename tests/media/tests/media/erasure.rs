//! An erased account's files leave the bucket: every output processing made, served until then
//! through presigned GETs, is gone, and another account's stay.

use crate::samples::*;
use crate::System;
use huddle_test_support::system::PASSWORD;
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

on_both_families!(an_erased_accounts_files_are_deleted_and_no_one_elses);

/// The URLs of every file a ready media shows.
fn file_urls(media: &Value) -> Vec<String> {
    let thumbnails = media["thumbnails"].as_array().unwrap().iter().map(|t| &t["url"]);
    std::iter::once(&media["url"]).chain(thumbnails).map(|url| url.as_str().unwrap().to_owned()).collect()
}

async fn an_erased_accounts_files_are_deleted_and_no_one_elses(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let photo = jpeg_with_exif(&red_left_blue_right(800, 400), &exif(1));
    let mut anas = Vec::new();
    for _ in 0..2 {
        let id = system.upload(&ana, "image", "image/jpeg", &photo).await;
        let media = system.processed(&ana, &id).await;
        assert_eq!(media["status"], "ready", "{media}");
        anas.extend(file_urls(&media));
    }
    let video = system.upload(&ana, "video", "video/mp4", &fixture("h264-160x120-2s.mp4")).await;
    anas.extend(file_urls(&system.processed(&ana, &video).await));
    let bobs = system.upload(&bob, "image", "image/jpeg", &photo).await;
    let bobs = file_urls(&system.processed(&bob, &bobs).await);
    assert_eq!((anas.len(), bobs.len()), (7, 3), "{anas:?} {bobs:?}");
    for url in anas.iter().chain(&bobs) {
        system.fetch(url).await;
    }

    let erase = system.client.delete(system.url("/v1/me")).bearer_auth(&ana.token);
    let (status, body) = system.send(erase.json(&json!({ "password": PASSWORD }))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let deadline = Instant::now() + Duration::from_secs(20);
    for url in &anas {
        loop {
            let status = system.client.get(url).send().await.unwrap().status();
            if status == StatusCode::NOT_FOUND {
                break;
            }
            assert_eq!(status, StatusCode::OK, "{url}");
            assert!(Instant::now() < deadline, "an erased account's file is still served: {url}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    for url in &bobs {
        system.fetch(url).await;
    }
}
