//! The media projection on the embedded table: an account's erasure takes every record of its
//! media out of the read table and marks the owner, and after the mark no media event of the
//! owner's writes a record again, whichever order they come in.

use huddle_catalog::accounts::account_stream;
use huddle_catalog::media::{media_stream, MediaEvent, MediaKind, Rendition};
use huddle_delivery::{Projected, Projection};
mod stores;

use huddle_embedded::{Database, SqliteTable};
use huddle_eventstore::{encode, Envelope, NewEvent};
use huddle_media::projection::MediaProjection;
use huddle_media::read_model::{erased_key, owned_key, record_key};
use huddle_ports::{Blobs, Table};
use std::sync::Arc;

struct Setup {
    read_model: Arc<dyn Table>,
    blobs: Arc<dyn Blobs>,
    projection: MediaProjection,
    _folder: tempfile::TempDir,
}

fn setup() -> Setup {
    let db = Database::in_memory().unwrap();
    let (blobs, folder) = stores::folder_blobs(&db, 1024);
    let read_model: Arc<dyn Table> = Arc::new(SqliteTable::new(&db, "media", false));
    Setup { read_model, blobs: blobs.clone(), projection: MediaProjection { blobs }, _folder: folder }
}

fn envelope(stream: String, version: u64, event: NewEvent) -> Envelope {
    Envelope {
        stream,
        version,
        event_id: ulid::Ulid::new(),
        event_type: event.event_type,
        schema_version: event.schema_version,
        occurred_at: time::OffsetDateTime::now_utc(),
        actor: None,
        correlation_id: "test".into(),
        causation_id: None,
        payload: event.payload,
    }
}

fn requested(owner: &str) -> NewEvent {
    encode(&MediaEvent::MediaRequested {
        owner: owner.into(),
        kind: MediaKind::Image,
        content_type: "image/png".into(),
        size_bytes: 10,
    })
}

fn processed(owner: &str, media_id: &str) -> NewEvent {
    let original = Rendition {
        key: format!("media/{owner}/{media_id}/original.png"),
        content_type: "image/png".into(),
        width: 1,
        height: 1,
    };
    encode(&MediaEvent::MediaProcessed {
        width: 1,
        height: 1,
        duration_ms: None,
        codec: None,
        blurhash: Some("00".into()),
        original,
        thumbnails: Vec::new(),
    })
}

fn erased() -> NewEvent {
    NewEvent { event_type: "AccountErased".into(), schema_version: 1, payload: serde_json::json!(null) }
}

impl Setup {
    /// Projects `event` and applies what it answers as the projector does (fan-out, then the
    /// transaction).
    async fn project(&self, event: Envelope) -> Projected {
        let projected = self.projection.project(&event, self.read_model.as_ref()).await.unwrap();
        if !projected.fan_out.is_empty() {
            self.read_model.batch_write(projected.fan_out.clone()).await.unwrap();
        }
        if !projected.writes.is_empty() {
            self.read_model.transact(projected.writes.clone()).await.unwrap();
        }
        projected
    }

    async fn has(&self, key: &huddle_ports::Key) -> bool {
        self.read_model.get(key).await.unwrap().is_some()
    }
}

#[tokio::test]
async fn an_erasure_takes_every_record_of_the_owner_and_later_events_write_none() {
    let setup = setup();
    setup.project(envelope(media_stream("med_1"), 1, requested("acc_ana"))).await;
    setup.project(envelope(media_stream("med_1"), 2, processed("acc_ana", "med_1"))).await;
    setup.project(envelope(media_stream("med_2"), 1, requested("acc_ana"))).await;
    setup.project(envelope(media_stream("med_3"), 1, requested("acc_bo"))).await;
    setup.blobs.put("media/acc_ana/med_1/original.png", "image/png", vec![1]).await.unwrap();
    setup.blobs.put("media/acc_bo/med_3/original.png", "image/png", vec![1]).await.unwrap();
    for media_id in ["med_1", "med_2"] {
        assert!(setup.has(&record_key(media_id)).await && setup.has(&owned_key("acc_ana", media_id)).await);
    }

    // The account's other events change nothing here.
    let registered = NewEvent {
        event_type: "AccountRegistered".into(),
        schema_version: 1,
        payload: serde_json::json!({}),
    };
    assert!(setup.project(envelope(account_stream("acc_ana"), 1, registered)).await.is_empty());
    let erasure = envelope(account_stream("acc_ana"), 2, erased());
    setup.project(erasure.clone()).await;
    for media_id in ["med_1", "med_2"] {
        assert!(!setup.has(&record_key(media_id)).await, "{media_id}'s record is gone");
        assert!(!setup.has(&owned_key("acc_ana", media_id)).await, "{media_id}'s entry is gone");
    }
    assert!(setup.has(&erased_key("acc_ana")).await, "the owner is marked");
    assert!(setup.blobs.list("media/acc_ana/").await.unwrap().is_empty(), "its files are gone");
    assert!(setup.has(&record_key("med_3")).await, "another owner's record stays");
    assert_eq!(setup.blobs.list("media/acc_bo/").await.unwrap().len(), 1, "and its files");

    // Events of the owner's media still on their way: none writes a record.
    setup.project(envelope(media_stream("med_2"), 2, processed("acc_ana", "med_2"))).await;
    setup.project(envelope(media_stream("med_4"), 1, requested("acc_ana"))).await;
    for media_id in ["med_2", "med_4"] {
        assert!(!setup.has(&record_key(media_id)).await, "{media_id} has no record");
    }
    // A redelivered erasure finds nothing more to do, and fails at nothing.
    setup.project(erasure).await;
    assert!(setup.has(&record_key("med_3")).await);
}

/// A record the erasure has not reached yet, when the mark is already there: the event's write
/// requires the owner unmarked, so it fails rather than land (its retry reads the mark).
#[tokio::test]
async fn a_media_write_landing_after_the_mark_fails_rather_than_bring_a_record_back() {
    let setup = setup();
    setup.project(envelope(media_stream("med_1"), 1, requested("acc_ana"))).await;
    let event = envelope(media_stream("med_1"), 2, processed("acc_ana", "med_1"));
    let projected = setup.projection.project(&event, setup.read_model.as_ref()).await.unwrap();
    setup.project(envelope(account_stream("acc_ana"), 1, erased())).await;
    let landed = setup.read_model.transact(projected.writes).await;
    assert!(matches!(landed, Err(huddle_ports::TableError::ConditionFailed { .. })), "{landed:?}");
    assert!(!setup.has(&record_key("med_1")).await);
}
