//! Uploads to ready or rejected, declarations refused, posters, and who sees what.

use crate::samples::*;
use crate::System;
use huddle_test_support::system::code;
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;
use serde_json::json;

on_both_families!(
    a_photo_with_gps_goes_through_its_presigned_url_to_ready_without_it,
    a_video_becomes_ready_and_takes_a_ready_image_of_its_owner_as_poster,
    bytes_that_are_not_what_was_declared_end_rejected_with_a_reason,
    declarations_huddle_does_not_take_are_refused_and_change_nothing,
    an_account_asks_for_at_most_sixty_uploads_an_hour,
    an_account_attaches_at_most_sixty_posters_an_hour,
);

async fn a_photo_with_gps_goes_through_its_presigned_url_to_ready_without_it(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    // A JPEG with its EXIF in APP1, and a PNG with it in eXIf and a place in a tEXt chunk: each
    // turned a quarter by its orientation tag, each holding a GPS position. The PNG has
    // translucent pixels, so it stays a PNG (an opaque one becomes a JPEG).
    let jpeg = jpeg_with_exif(&red_left_blue_right(800, 400), &exif(6));
    let translucent = image::DynamicImage::ImageRgb8(red_left_blue_right(800, 400)).into_rgba8();
    let translucent = image::RgbaImage::from_fn(800, 400, |x, y| {
        let [red, green, blue, _] = translucent.get_pixel(x, y).0;
        image::Rgba([red, green, blue, if (x + y) % 7 == 0 { 90 } else { 255 }])
    });
    let place = png_chunk(b"tEXt", b"Location\x0052.37N 4.90E");
    let png = png_with_chunks(
        &image::DynamicImage::ImageRgba8(translucent),
        &[png_chunk(b"eXIf", &exif(6)), place],
    );
    let photos = [("image/jpeg", jpeg, &b"\xFF\xD8"[..]), ("image/png", png, &b"\x89PNG"[..])];
    for (content_type, photo, magic) in photos {
        assert!(contains(&photo, &rational_bytes(GPS_LATITUDE)), "the upload holds a GPS position");
        let id = system.upload(&ana, "image", content_type, &photo).await;

        let media = system.processed(&ana, &id).await;
        assert_eq!(media["status"], "ready", "{media}");
        assert_eq!(
            (media["width"].as_u64(), media["height"].as_u64()),
            (Some(400), Some(800)),
            "upright: {media}"
        );
        assert_eq!(
            (media["kind"].as_str(), media["content_type"].as_str()),
            (Some("image"), Some(content_type))
        );
        assert!(media["blurhash"].as_str().is_some_and(|hash| !hash.is_empty()), "{media}");
        let thumbnails: Vec<(u64, u64)> = media["thumbnails"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["width"].as_u64().unwrap(), t["height"].as_u64().unwrap()))
            .collect();
        assert_eq!(thumbnails, [(320, 640), (64, 128)], "{content_type}");
        let mut urls = vec![media["url"].as_str().unwrap().to_owned()];
        urls.extend(
            media["thumbnails"].as_array().unwrap().iter().map(|t| t["url"].as_str().unwrap().to_owned()),
        );
        for url in urls {
            let bytes = system.fetch(&url).await;
            assert!(bytes.starts_with(magic), "{content_type} served as it was uploaded");
            for metadata in [&b"Exif\0\0"[..], b"eXIf", b"52.37N", &rational_bytes(GPS_LATITUDE)] {
                assert!(
                    !contains(&bytes, metadata),
                    "{content_type}: no EXIF, GPS or text in what is served"
                );
            }
        }
        // Only its owner sees it by id; to anyone else it does not exist.
        let (status, body) = system.get(&format!("/v1/media/{id}"), &bob).await;
        assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{body}");
    }
}

async fn a_video_becomes_ready_and_takes_a_ready_image_of_its_owner_as_poster(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let video = system.upload(&ana, "video", "video/mp4", &fixture("h264-160x120-2s.mp4")).await;
    let media = system.processed(&ana, &video).await;
    assert_eq!(media["status"], "ready", "{media}");
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64(), media["duration_ms"].as_u64()),
        (Some(160), Some(120), Some(2000))
    );
    let published = system.fetch(media["url"].as_str().unwrap()).await;
    let scrubbed = huddle_media::processing::scrub_video(&fixture("h264-160x120-2s.mp4")).unwrap();
    assert_eq!(published, scrubbed, "the video as uploaded, less its metadata");
    assert_eq!(media["poster"], json!(null));

    let image = system.upload(&ana, "image", "image/jpeg", &jpeg(&red_left_blue_right(64, 32), 80)).await;
    assert_eq!(system.processed(&ana, &image).await["status"], "ready");
    let poster = format!("/v1/media/{video}/poster");
    // Not a poster: a video, someone else's image, no id at all; nor on someone else's video.
    for refused in [&video, "med_01JB8Y3T7Q5ZV1F0C2D3E4G5H6", "nothing"] {
        let (status, body) = system.put(&poster, &ana, &json!({ "media_id": refused })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}: {body}");
    }
    let (status, body) = system.put(&poster, &bob, &json!({ "media_id": image })).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{body}");

    let (status, body) = system.put(&poster, &ana, &json!({ "media_id": image })).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let shown = loop {
        let (_, media) = system.get(&format!("/v1/media/{video}"), &ana).await;
        if !media["poster"].is_null() {
            break media;
        }
        assert!(std::time::Instant::now() < deadline, "the poster never showed: {media}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(shown["poster"]["id"], json!(image));
    assert!(system.fetch(shown["poster"]["url"].as_str().unwrap()).await.starts_with(&[0xFF, 0xD8]));
}

async fn bytes_that_are_not_what_was_declared_end_rejected_with_a_reason(family: Family) {
    let system = System::start(family).await;
    let ana = system.user("ana").await;
    let cases = [
        ("image", "image/png", jpeg(&red_left_blue_right(40, 20), 80), "The file is not a PNG image."),
        ("image", "image/png", png_claiming(100_000, 100_000), ""),
        ("video", "video/mp4", fixture("h264-160x120-2s.mp4")[..3000].to_vec(), ""),
    ];
    for (kind, content_type, bytes, expected) in cases {
        let id = system.upload(&ana, kind, content_type, &bytes).await;
        let media = system.processed(&ana, &id).await;
        assert_eq!(media["status"], "rejected", "{media}");
        let reason = media["reason"].as_str().unwrap();
        assert!(reason.ends_with('.'), "a sentence: {reason}");
        if !expected.is_empty() {
            assert_eq!(reason, expected);
        }
        assert_eq!((media["url"].clone(), media["thumbnails"].clone()), (json!(null), json!([])));
    }
}

async fn declarations_huddle_does_not_take_are_refused_and_change_nothing(family: Family) {
    let system = System::start(family).await;
    let ana = system.user("ana").await;
    let megabyte = 1024 * 1024;
    for (declared, field) in [
        (json!({"kind": "image", "content_type": "image/gif", "size_bytes": 10}), "content_type"),
        (json!({"kind": "video", "content_type": "image/jpeg", "size_bytes": 10}), "content_type"),
        (json!({"kind": "image", "content_type": "image/jpeg", "size_bytes": 0}), "size_bytes"),
        (
            json!({"kind": "image", "content_type": "image/png", "size_bytes": 16 * megabyte + 1}),
            "size_bytes",
        ),
        (
            json!({"kind": "video", "content_type": "video/mp4", "size_bytes": 99 * megabyte + 1}),
            "size_bytes",
        ),
    ] {
        let (status, body) = system.post("/v1/media", &ana, &declared).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{declared}: {body}");
        assert_eq!(body["error"]["details"][0]["field"], field, "{declared}: {body}");
    }
    for malformed in [
        json!({"kind": "audio", "content_type": "audio/mpeg", "size_bytes": 10}),
        json!({"kind": "image", "content_type": "image/png", "size_bytes": -1}),
        json!({"kind": "image", "content_type": "image/png", "size_bytes": 10, "owner": "acc_x"}),
        json!("image"),
    ] {
        let (status, body) = system.post("/v1/media", &ana, &malformed).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "malformed_json"), "{malformed}: {body}");
    }
    for path in ["/v1/media/med_01JB8Y3T7Q5ZV1F0C2D3E4G5H6", "/v1/media/not-an-id", "/v1/media/med_x"] {
        let (status, body) = system.get(path, &ana).await;
        assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{path}: {body}");
    }
}

async fn an_account_asks_for_at_most_sixty_uploads_an_hour(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let declared = json!({"kind": "image", "content_type": "image/png", "size_bytes": 10});
    // Refused declarations cost nothing of the allowance.
    let refused = json!({"kind": "image", "content_type": "image/gif", "size_bytes": 10});
    assert_eq!(system.post("/v1/media", &ana, &refused).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let limit = huddle_media::command::UPLOADS_PER_ACCOUNT.max;
    // The limit within one window; up to twice it when the loop crosses a window's edge.
    let mut created = 0;
    let (status, body) = loop {
        let (status, body) = system.post("/v1/media", &ana, &declared).await;
        if status != StatusCode::CREATED {
            break (status, body);
        }
        created += 1;
        assert!(created <= 2 * limit, "never throttled");
    };
    assert!((limit..=2 * limit).contains(&created), "{created} created before the throttle");
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "too_many_uploads"), "{body}");
    assert_eq!(system.post("/v1/media", &bob, &declared).await.0, StatusCode::CREATED, "per account");
}

async fn an_account_attaches_at_most_sixty_posters_an_hour(family: Family) {
    let system = System::start(family).await;
    let ana = system.user("ana").await;
    let video = system.upload(&ana, "video", "video/mp4", &fixture("h264-160x120-2s.mp4")).await;
    let image = system.upload(&ana, "image", "image/jpeg", &jpeg(&red_left_blue_right(64, 32), 80)).await;
    for media in [&video, &image] {
        assert_eq!(system.processed(&ana, media).await["status"], "ready");
    }
    let poster = format!("/v1/media/{video}/poster");
    // A refused attachment costs nothing of the allowance.
    let (status, body) = system.put(&poster, &ana, &json!({ "media_id": video })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // All but one of the allowance spent as the command spends it, then the last through HTTP.
    let throttle = huddle_media::poster_throttle(system.running.events_table.clone());
    for _ in 1..huddle_media::command::POSTERS_PER_ACCOUNT.max {
        assert!(throttle.take(&ana.id).await.unwrap().is_ok());
    }
    let (status, body) = system.put(&poster, &ana, &json!({ "media_id": image })).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = system.put(&poster, &ana, &json!({ "media_id": image })).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "too_many_posters"), "{body}");
}
