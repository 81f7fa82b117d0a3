//! Blobs: an S3-shaped object store that hands out presigned upload URLs.

use async_trait::async_trait;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct PresignedUpload {
    pub url: String,
    pub method: String,
    /// Headers the client must send with the upload, exactly as given.
    pub headers: Vec<(String, String)>,
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

#[async_trait]
pub trait Blobs: Send + Sync {
    /// A URL that lets its holder PUT one object of `content_type` under `key` until it expires.
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        expires_in: Duration,
    ) -> Result<PresignedUpload, BlobError>;
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError>;
    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError>;
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), BlobError>;
}
