//! The media read table: one record per media, `media#<id>` / `media`, holding what its owner's
//! `GET /v1/media/{id}` shows. A record still waiting for its upload, or rejected, expires
//! ([`EXPIRES_AT`], as DynamoDB's TTL reads it): the bucket's lifecycle drops a never-finished
//! upload after a day, and a rejection's reason is kept a week. Each owner's partition
//! `owner#<owner>` lists its media (`<media id>`), so an erasure finds every record to delete,
//! and holds `erased` once it did: a request still in flight then makes no record.

use huddle_catalog::media::{MediaKind, Rendition};
use huddle_ports::table::EXPIRES_AT;
use huddle_ports::{Item, Key};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// How long a record waits for its upload.
pub const PENDING_FOR: Duration = Duration::days(1);
/// How long a rejection is shown.
pub const REJECTION_SHOWN_FOR: Duration = Duration::days(7);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    PendingUpload,
    Processing,
    Ready,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingUpload => "pending_upload",
            Status::Processing => "processing",
            Status::Ready => "ready",
            Status::Rejected => "rejected",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRecord {
    pub owner: String,
    pub status: Status,
    pub kind: MediaKind,
    pub content_type: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    pub blurhash: Option<String>,
    pub original: Option<Rendition>,
    #[serde(default)]
    pub thumbnails: Vec<Rendition>,
    /// A video's poster: another media, whose own record the query reads.
    pub poster_id: Option<String>,
    pub reason: Option<String>,
    /// Unix seconds; none once ready.
    #[serde(rename = "expires_at", default)]
    pub expires_at: Option<i64>,
}

pub fn record_key(media_id: &str) -> Key {
    Key::new(format!("media#{media_id}"), "media")
}

/// The partition listing `owner`'s media.
pub fn owner_partition(owner: &str) -> String {
    format!("owner#{owner}")
}

/// `owner`'s entry for `media_id` in its partition.
pub fn owned_key(owner: &str, media_id: &str) -> Key {
    Key::new(owner_partition(owner), media_id)
}

/// The mark an erasure leaves in `owner`'s partition (media ids sort apart: they begin `med_`).
pub fn erased_key(owner: &str) -> Key {
    Key::new(owner_partition(owner), "erased")
}

/// How long the mark stays: longer than any request still in flight when the account went
/// (a parked stream waits for its operator for days, not months).
pub const ERASED_MARK_KEPT_FOR: Duration = Duration::days(30);

impl MediaRecord {
    pub fn from_item(item: &Item) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::Value::Object(item.clone()))
    }

    pub fn into_item(self, media_id: &str) -> Item {
        let key = record_key(media_id);
        let serde_json::Value::Object(mut item) = serde_json::to_value(self).expect("a record serializes")
        else {
            unreachable!("a struct serializes to an object")
        };
        // DynamoDB's TTL reads a number, and no attribute at all for a record that stays.
        if item.get(EXPIRES_AT).is_some_and(serde_json::Value::is_null) {
            item.remove(EXPIRES_AT);
        }
        item.insert("pk".into(), key.pk.into());
        item.insert("sk".into(), key.sk.into());
        item
    }

    /// Whether the record has expired at `now` (TTL deletes it only eventually).
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at < now.unix_timestamp())
    }
}
