//! Blobs: an S3-shaped object store that hands out presigned upload URLs.

use async_trait::async_trait;
use std::time::Duration;

/// The longest a presigned URL may live: SigV4 presigned URLs cannot outlive seven days, so the
/// embedded store refuses the same lifetimes S3 would.
pub const MAX_PRESIGNED_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The most keys [`Blobs::list`] answers and [`Blobs::delete_many`] takes at once: S3's.
pub const BLOB_PAGE: usize = 1000;

/// S3's bound on the length of a key, in bytes.
const MAX_KEY_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct PresignedUpload {
    pub url: String,
    pub method: String,
    /// Headers the client must send with the upload, exactly as given.
    pub headers: Vec<(String, String)>,
    pub expires_at: time::OffsetDateTime,
}

/// A URL that lets its holder GET one object until it expires.
#[derive(Debug, Clone, PartialEq)]
pub struct PresignedDownload {
    pub url: String,
    pub expires_at: time::OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlobMeta {
    pub size: u64,
    pub content_type: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no object at {0}")]
    NotFound(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
}

/// Refuses keys that a folder-backed store could not hold safely (`..`, absolute paths,
/// backslashes, empty or `.` segments, control characters) or that S3 would refuse (too long).
/// Both adapter families apply it, so a key that works locally works on S3 and back.
pub fn validate_key(key: &str) -> Result<(), BlobError> {
    let invalid = |why: &str| Err(BlobError::Invalid(format!("key {key:?} {why}")));
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return invalid("must be 1 to 1024 bytes long");
    }
    if key.contains('\\') || key.chars().any(char::is_control) {
        return invalid("must not contain backslashes or control characters");
    }
    if key.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..") {
        return invalid("must be relative, with no empty, `.` or `..` segments");
    }
    Ok(())
}

#[async_trait]
pub trait Blobs: Send + Sync {
    /// A URL that lets its holder PUT one object of `content_type` and exactly `content_length`
    /// bytes under `key` until it expires (at most [`MAX_PRESIGNED_LIFETIME`] from now): both
    /// are signed, so the store refuses another type or size. It only creates: `If-None-Match:
    /// *` is signed too (among the headers to send), so while an object is at `key` another PUT
    /// is refused (412), and what a notification announced stays those bytes until deleted.
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, BlobError>;
    /// A URL that lets its holder GET the object at `key` until it expires (at most
    /// [`MAX_PRESIGNED_LIFETIME`] from now). Signing reads nothing: the object need not exist.
    async fn presign_download(&self, key: &str, expires_in: Duration)
        -> Result<PresignedDownload, BlobError>;
    /// The size and content type of the object at `key`, or `None` when there is none.
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError>;
    /// The bytes of the object at `key`; [`BlobError::NotFound`] when there is none.
    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError>;
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), BlobError>;
    /// Removes the object at `key`; removing one that is not there succeeds, as on S3.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// The first keys under `prefix`, in key order: at most [`BLOB_PAGE`] (fewer means that is
    /// all of them).
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError>;
    /// Removes the objects at `keys` (at most [`BLOB_PAGE`]), in one request.
    async fn delete_many(&self, keys: &[String]) -> Result<(), BlobError>;
}

/// Removes every object under `prefix`, a page at a time: how many there were.
pub async fn delete_prefix(blobs: &dyn Blobs, prefix: &str) -> Result<usize, BlobError> {
    let mut deleted = 0;
    loop {
        // Each page is deleted before the next is asked for, so the next starts at the front.
        let keys = blobs.list(prefix).await?;
        if keys.is_empty() {
            return Ok(deleted);
        }
        blobs.delete_many(&keys).await?;
        deleted += keys.len();
        if keys.len() < BLOB_PAGE {
            return Ok(deleted);
        }
    }
}

/// Refuses more keys than one request takes.
pub fn validate_page(keys: &[String]) -> Result<(), BlobError> {
    if keys.len() > BLOB_PAGE {
        return Err(BlobError::Invalid(format!("{} keys; at most {BLOB_PAGE} at once", keys.len())));
    }
    keys.iter().try_for_each(|key| validate_key(key))
}

#[cfg(test)]
mod tests {
    use super::validate_key;

    #[test]
    fn keys_that_could_escape_a_folder_are_refused() {
        for key in ["", "/etc/passwd", "a/../b", "..", "a//b", "a/", "./a", "a\\b", "a\nb", &"k".repeat(1025)]
        {
            assert!(validate_key(key).is_err(), "{key:?} should be refused");
        }
        for key in ["a", "media/acc_1/01J.jpg", "a..b/c.d", "ünïcode/ключ", &"k".repeat(1024)] {
            assert!(validate_key(key).is_ok(), "{key:?} should be accepted");
        }
    }
}
