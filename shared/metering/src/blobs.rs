//! Metered `Blobs`: each call billed as S3 Standard bills it (a PUT or LIST in the write tier, a
//! GET or HEAD in the read tier, what a PUT stores by the GB-month; DELETEs are free, one or many). Presigning is
//! local signing, free; what the client then does with the URL goes to S3 itself, past every
//! port.

use crate::{Line, Meter, Service, Tally, Unit};
use async_trait::async_trait;
use huddle_ports::{BlobError, BlobMeta, Blobs, PresignedDownload, PresignedUpload};
use std::sync::Arc;
use std::time::Duration;

pub struct MeteredBlobs {
    inner: Arc<dyn Blobs>,
    meter: Meter,
}

impl MeteredBlobs {
    pub fn new(inner: Arc<dyn Blobs>, meter: Meter) -> Self {
        Self { inner, meter }
    }

    fn charge(&self, operation: &str, unit: Unit, stored_bytes: usize) {
        let tally = Tally { calls: 1.0, billed: 1.0, stored_bytes: stored_bytes as f64 };
        self.meter.record(Line::new(Service::S3, operation, unit), tally);
    }
}

/// Whether S3 bills the call: it reached the bucket (a miss is billed like a hit).
fn billed<T>(result: &Result<T, BlobError>) -> bool {
    matches!(result, Ok(_) | Err(BlobError::NotFound(_)))
}

#[async_trait]
impl Blobs for MeteredBlobs {
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, BlobError> {
        self.inner.presign_upload(key, content_type, content_length, expires_in).await
    }

    async fn presign_download(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedDownload, BlobError> {
        self.inner.presign_download(key, expires_in).await
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        let result = self.inner.head(key).await;
        if billed(&result) {
            self.charge("HeadObject", Unit::S3ReadRequests, 0);
        }
        result
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let result = self.inner.get(key).await;
        if billed(&result) {
            self.charge("GetObject", Unit::S3ReadRequests, 0);
        }
        result
    }

    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        let size = bytes.len();
        let result = self.inner.put(key, content_type, bytes).await;
        if result.is_ok() {
            self.charge("PutObject", Unit::S3WriteRequests, size);
        }
        result
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.inner.delete(key).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let result = self.inner.list(prefix).await;
        if billed(&result) {
            self.charge("ListObjectsV2", Unit::S3WriteRequests, 0);
        }
        result
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), BlobError> {
        self.inner.delete_many(keys).await
    }
}
