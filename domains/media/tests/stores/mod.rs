//! The embedded media bucket the domain's tests run on: a folder store in a temporary folder,
//! kept for as long as the returned folder lives.

use huddle_embedded::{Database, FolderBlobs, FolderBlobsConfig};
use huddle_ports::Blobs;
use std::sync::Arc;

pub fn folder_blobs(db: &Database, max_upload_bytes: u64) -> (Arc<dyn Blobs>, tempfile::TempDir) {
    let folder = tempfile::tempdir().unwrap();
    let config = FolderBlobsConfig {
        bucket: "media".into(),
        folder: folder.path().to_owned(),
        upload_origin: "http://127.0.0.1:3000".parse().unwrap(),
        signing_key: b"test".to_vec(),
        max_upload_bytes,
    };
    (Arc::new(FolderBlobs::open(db, config).unwrap()), folder)
}
