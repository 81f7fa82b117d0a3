//! The uploads role on the embedded adapters: an upload under its media's key reaches ready
//! (outputs written outside the upload prefix, without the EXIF GPS block, the upload deleted)
//! or rejected with a reason; a redelivery appends nothing; an upload under another owner's
//! key, or of a media id nobody asked for, is only deleted.

mod samples;
mod stores;

use huddle_catalog::media::{media_stream, upload_key, MediaEvent, MediaKind, OUTPUT_PREFIX};
use huddle_domain::decider::Execution;
use huddle_domain::{ObjectCreated, UploadHandler};
use huddle_embedded::{Database, SqliteTable};
use huddle_eventstore::{decode, EventStore, Metadata};
use huddle_media::media::{MediaCommand, MediaError, MediaFile, Requested};
use huddle_media::uploads::ProcessUploads;
use huddle_ports::{Blobs, Condition, Table, TransactWrite};
use samples::*;
use std::sync::Arc;

struct Setup {
    events: EventStore,
    blobs: Arc<dyn Blobs>,
    read_model: Arc<dyn Table>,
    handler: ProcessUploads,
    _folder: tempfile::TempDir,
}

fn setup() -> Setup {
    let db = Database::in_memory().unwrap();
    let events = EventStore::new(Arc::new(SqliteTable::new(&db, "events", true)));
    let (blobs, folder) = stores::folder_blobs(&db, 100 * 1024 * 1024);
    let read_model: Arc<dyn Table> = Arc::new(SqliteTable::new(&db, "media", false));
    let handler = ProcessUploads::new(events.clone(), blobs.clone(), read_model.clone());
    Setup { events, blobs, read_model, handler, _folder: folder }
}

impl Setup {
    /// `owner` asks to upload `bytes` as `content_type` under `media_id`, and uploads them.
    async fn upload(
        &self,
        owner: &str,
        media_id: &str,
        kind: MediaKind,
        content_type: &str,
        bytes: &[u8],
    ) -> ObjectCreated {
        let requested = Requested {
            owner: owner.into(),
            kind,
            content_type: content_type.into(),
            size_bytes: bytes.len() as u64,
        };
        Execution::<MediaFile>::new(
            &self.events,
            media_stream(media_id),
            MediaCommand::Request(requested),
            Metadata::new("t"),
        )
        .execute::<MediaError>()
        .await
        .unwrap();
        let key = upload_key(owner, media_id);
        self.blobs.put(&key, content_type, bytes.to_vec()).await.unwrap();
        ObjectCreated { key, size: bytes.len() as u64 }
    }

    async fn stream(&self, media_id: &str) -> Vec<MediaEvent> {
        let envelopes = self.events.read_stream(&media_stream(media_id), 1..).await.unwrap();
        envelopes.iter().map(|envelope| decode(envelope).unwrap()).collect()
    }
}

#[tokio::test]
async fn a_photo_with_gps_becomes_ready_without_it_and_its_upload_is_deleted() {
    let setup = setup();
    let photo = jpeg_with_exif(&red_left_blue_right(800, 400), &exif(6));
    assert!(contains(&photo, b"Exif\0\0"), "the upload carries EXIF");
    let object = setup.upload("acc_ana", "med_1", MediaKind::Image, "image/jpeg", &photo).await;
    setup.handler.uploaded(&object).await.unwrap();

    let events = setup.stream("med_1").await;
    let [MediaEvent::MediaRequested { .. }, MediaEvent::MediaUploaded, MediaEvent::MediaProcessed { width, height, blurhash, original, thumbnails, duration_ms, .. }] =
        &events[..]
    else {
        panic!("{events:?}")
    };
    // Orientation 6 turns the 800x400 picture upright: 400x800.
    assert_eq!((*width, *height, duration_ms), (400, 800, &None));
    assert!(blurhash.as_ref().is_some_and(|hash| !hash.is_empty()));
    assert_eq!(original.key, "media/acc_ana/med_1/original.jpg");
    let sizes: Vec<(u32, u32, &str)> =
        thumbnails.iter().map(|t| (t.width, t.height, t.key.as_str())).collect();
    assert_eq!(sizes, [(320, 640, "media/acc_ana/med_1/640.jpg"), (64, 128, "media/acc_ana/med_1/128.jpg")]);
    for rendition in std::iter::once(original).chain(thumbnails) {
        assert!(rendition.key.starts_with(OUTPUT_PREFIX));
        let bytes = setup.blobs.get(&rendition.key).await.unwrap();
        assert!(!contains(&bytes, b"Exif\0\0"), "{}: no EXIF (and so no GPS) in any output", rendition.key);
        assert_eq!(
            setup.blobs.head(&rendition.key).await.unwrap().unwrap().content_type.as_deref(),
            Some("image/jpeg")
        );
    }
    assert!(setup.blobs.head(&object.key).await.unwrap().is_none(), "the upload, GPS and all, is gone");

    // Announced again: nothing more.
    setup.handler.uploaded(&object).await.unwrap();
    assert_eq!(setup.stream("med_1").await, events);
}

/// The owner's erasure swept the bucket while the photo was processed: its outputs, written
/// after the sweep, go as soon as they are written.
#[tokio::test]
async fn outputs_of_an_owner_erased_while_they_were_made_are_deleted() {
    let setup = setup();
    let photo = jpeg_with_exif(&red_left_blue_right(800, 400), &exif(1));
    let object = setup.upload("acc_ana", "med_1", MediaKind::Image, "image/jpeg", &photo).await;
    let kept = setup.upload("acc_bo", "med_2", MediaKind::Image, "image/jpeg", &photo).await;
    let mark = huddle_media::read_model::erased_key("acc_ana").item(serde_json::json!({}));
    setup
        .read_model
        .transact(vec![TransactWrite::Put { item: mark, condition: Condition::Always }])
        .await
        .unwrap();
    setup.handler.uploaded(&object).await.unwrap();
    setup.handler.uploaded(&kept).await.unwrap();

    assert!(matches!(setup.stream("med_1").await.last(), Some(MediaEvent::MediaProcessed { .. })));
    assert_eq!(setup.blobs.list("media/acc_ana/").await.unwrap(), Vec::<String>::new());
    assert!(setup.blobs.head(&object.key).await.unwrap().is_none(), "the upload is gone too");
    assert_eq!(setup.blobs.list("media/acc_bo/").await.unwrap().len(), 3, "another owner's stay");
}

#[tokio::test]
async fn a_video_becomes_ready_with_its_facts() {
    let setup = setup();
    let video = fixture("h264-160x120-2s.mp4");
    let object = setup.upload("acc_ana", "med_v", MediaKind::Video, "video/mp4", &video).await;
    setup.handler.uploaded(&object).await.unwrap();
    let events = setup.stream("med_v").await;
    let Some(MediaEvent::MediaProcessed { width, height, duration_ms, codec, original, thumbnails, .. }) =
        events.last()
    else {
        panic!("{events:?}")
    };
    assert_eq!((*width, *height, *duration_ms, codec.as_deref()), (160, 120, Some(2000), Some("h264")));
    assert!(thumbnails.is_empty());
    assert_eq!(original.key, "media/acc_ana/med_v/original.mp4");
    let published = setup.blobs.get(&original.key).await.unwrap();
    assert_eq!(
        published,
        huddle_media::processing::scrub_video(&video).unwrap(),
        "published without its metadata"
    );
    assert!(setup.blobs.head(&object.key).await.unwrap().is_none());
}

#[tokio::test]
async fn bytes_that_are_not_what_was_declared_are_rejected_with_a_reason() {
    let setup = setup();
    let cases: [(&str, MediaKind, &str, Vec<u8>, &str); 3] = [
        ("med_a", MediaKind::Image, "image/png", jpeg(&red_left_blue_right(40, 20), 80), "type_mismatch"),
        ("med_b", MediaKind::Image, "image/png", png_claiming(100_000, 100_000), "too_many_pixels"),
        (
            "med_c",
            MediaKind::Video,
            "video/mp4",
            fixture("h264-160x120-2s.mp4")[..3000].to_vec(),
            "unreadable",
        ),
    ];
    for (media_id, kind, content_type, bytes, code) in cases {
        let object = setup.upload("acc_ana", media_id, kind, content_type, &bytes).await;
        setup.handler.uploaded(&object).await.unwrap();
        let events = setup.stream(media_id).await;
        let Some(MediaEvent::MediaRejected { code: rejected, reason }) = events.last() else {
            panic!("{media_id}: {events:?}")
        };
        assert_eq!(rejected, code, "{media_id}: {reason}");
        assert!(reason.ends_with('.') && !reason.is_empty(), "{media_id}: a sentence: {reason}");
        assert!(setup.blobs.head(&object.key).await.unwrap().is_none(), "{media_id}: the upload is deleted");
    }
}

#[tokio::test]
async fn an_upload_under_another_owners_key_or_of_nothing_asked_for_is_only_deleted() {
    let setup = setup();
    let photo = jpeg(&red_left_blue_right(40, 20), 80);
    let asked = setup.upload("acc_ana", "med_1", MediaKind::Image, "image/jpeg", &photo).await;
    // Bob's key for Ana's media id: not hers, so not processed.
    let forged = upload_key("acc_bob", "med_1");
    setup.blobs.put(&forged, "image/jpeg", photo.clone()).await.unwrap();
    setup.handler.uploaded(&ObjectCreated { key: forged.clone(), size: photo.len() as u64 }).await.unwrap();
    let unasked = upload_key("acc_bob", "med_never");
    setup.blobs.put(&unasked, "image/jpeg", photo.clone()).await.unwrap();
    setup.handler.uploaded(&ObjectCreated { key: unasked.clone(), size: photo.len() as u64 }).await.unwrap();

    assert_eq!(setup.stream("med_1").await.len(), 1, "Ana's media still waits for her upload");
    assert!(setup.stream("med_never").await.is_empty());
    for key in [&forged, &unasked] {
        assert!(setup.blobs.head(key).await.unwrap().is_none(), "{key} is deleted");
    }
    assert!(setup.blobs.head(&asked.key).await.unwrap().is_some(), "Ana's own upload is untouched");
}

#[tokio::test]
async fn an_upload_given_up_ends_rejected_and_is_deleted() {
    let setup = setup();
    let photo = jpeg(&red_left_blue_right(40, 20), 80);
    let object = setup.upload("acc_ana", "med_1", MediaKind::Image, "image/jpeg", &photo).await;
    setup.handler.gave_up(&object).await.unwrap();
    let events = setup.stream("med_1").await;
    let Some(MediaEvent::MediaRejected { code, reason }) = events.last() else { panic!("{events:?}") };
    assert_eq!(code, "processing_failed", "{reason}");
    assert!(setup.blobs.head(&object.key).await.unwrap().is_none());
    // A late delivery of the same upload changes nothing.
    setup.blobs.put(&object.key, "image/jpeg", photo).await.unwrap();
    setup.handler.uploaded(&object).await.unwrap();
    assert_eq!(setup.stream("med_1").await, events);
}
