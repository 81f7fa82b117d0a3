//! Media: one `media#<id>` stream per uploaded file, from the upload its owner asked for to
//! what processing made of it. The key a client uploads under binds the owner and the id
//! ([`upload_key`]); what processing writes lies outside the upload prefix ([`output_key`]), so
//! the bucket never announces it.

use huddle_eventstore::EventSchema;
use serde::{Deserialize, Serialize};

/// What every media id begins with (a ULID follows).
pub const MEDIA_ID_PREFIX: &str = "med_";

/// The key prefix the bucket announces: clients upload here, and nothing else writes here.
pub const UPLOAD_PREFIX: &str = "uploads/";

/// The key prefix processing writes under.
pub const OUTPUT_PREFIX: &str = "media/";

pub fn media_stream(media_id: &str) -> String {
    format!("media#{media_id}")
}

/// The media id of a `media#<id>` stream.
pub fn media_of_stream(stream: &str) -> Option<&str> {
    stream.strip_prefix("media#")
}

/// Where `owner` uploads media `media_id`.
pub fn upload_key(owner: &str, media_id: &str) -> String {
    format!("{UPLOAD_PREFIX}{owner}/{media_id}")
}

/// The owner and media id an upload key names; `None` for any other key.
pub fn upload_of(key: &str) -> Option<(&str, &str)> {
    let (owner, media_id) = key.strip_prefix(UPLOAD_PREFIX)?.split_once('/')?;
    let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    (plain(owner) && plain(media_id)).then_some((owner, media_id))
}

/// Where processing puts rendition `name` (`original.jpg`, `640.jpg`) of `owner`'s `media_id`.
pub fn output_key(owner: &str, media_id: &str, name: &str) -> String {
    format!("{OUTPUT_PREFIX}{owner}/{media_id}/{name}")
}

/// The key prefixes that hold every object of `owner`'s: its uploads and their outputs.
pub fn owner_prefixes(owner: &str) -> [String; 2] {
    [format!("{UPLOAD_PREFIX}{owner}/"), format!("{OUTPUT_PREFIX}{owner}/")]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
}

/// One file processing wrote: where, what type, how large.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendition {
    pub key: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
}

/// The events of a `media#` stream, in the order they come: requested, uploaded (processing
/// began), then processed or rejected; a ready video may then get a poster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum MediaEvent {
    /// `owner` asked to upload a file of `content_type` and exactly `size_bytes`.
    MediaRequested { owner: String, kind: MediaKind, content_type: String, size_bytes: u64 },
    /// The upload arrived and processing began.
    MediaUploaded,
    /// What processing made of it: an image's re-encoded original and thumbnails (largest
    /// first) and blurhash, or a video's container facts (its original is the upload itself,
    /// moved out of the upload prefix).
    MediaProcessed {
        width: u32,
        height: u32,
        duration_ms: Option<u64>,
        codec: Option<String>,
        blurhash: Option<String>,
        original: Rendition,
        thumbnails: Vec<Rendition>,
    },
    /// Refused, with a stable `code` and a `reason` its owner can read.
    MediaRejected { code: String, reason: String },
    /// A ready image of the same owner shows before the video plays.
    PosterAttached { poster_id: String },
}

impl EventSchema for MediaEvent {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_key_names_its_owner_and_media_and_nothing_else_does() {
        let key = upload_key("acc_01J", "med_01K");
        assert_eq!(key, "uploads/acc_01J/med_01K");
        assert_eq!(upload_of(&key), Some(("acc_01J", "med_01K")));
        for other in [
            "media/acc_01J/med_01K/original.jpg",
            "uploads/acc_01J",
            "uploads/acc_01J/med_01K/extra",
            "uploads//med_01K",
            "uploads/acc_01J/",
            "uploads/../med_01K",
        ] {
            assert_eq!(upload_of(other), None, "{other}");
        }
        assert!(!output_key("acc_01J", "med_01K", "640.jpg").starts_with(UPLOAD_PREFIX));
    }
}
