//! The JSON shapes the media routes take and answer with.

use huddle_catalog::media::MediaKind;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// `POST /v1/media`: what the client is about to upload.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMedia {
    #[schema(value_type = String, example = "image")]
    pub kind: MediaKind,
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// The exact size of the file; the upload must be this long.
    pub size_bytes: u64,
}

/// `PUT /v1/media/{id}/poster`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Poster {
    /// A ready image of the caller's.
    pub media_id: String,
}

/// What `POST /v1/media` answers: the new media and how to upload its file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UploadTicket {
    pub media: PendingMedia,
    pub upload: Upload,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingMedia {
    pub id: String,
    /// `pending_upload`.
    pub status: &'static str,
}

/// A presigned request: send the file as the body of `method` to `url`, with exactly `headers`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Upload {
    pub url: String,
    pub method: String,
    pub headers: std::collections::BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

/// A file processing wrote, behind a short-lived presigned GET.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FileView {
    pub url: String,
    pub width: u32,
    pub height: u32,
}

/// `GET /v1/media/{id}`. Until `ready` only the status (and for `rejected` the reason) is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MediaView {
    pub id: String,
    /// `pending_upload`, `processing`, `ready` or `rejected`.
    pub status: String,
    #[schema(value_type = String, example = "video")]
    pub kind: MediaKind,
    pub content_type: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    pub blurhash: Option<String>,
    /// The processed original (an image re-encoded without its metadata, a video as uploaded).
    pub url: Option<String>,
    /// Largest first.
    pub thumbnails: Vec<FileView>,
    /// A video's poster image: its id and original.
    pub poster: Option<PosterView>,
    /// Why it was rejected, in words its owner understands.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PosterView {
    pub id: String,
    pub url: String,
}
