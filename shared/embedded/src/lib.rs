//! Embedded adapters: the whole platform on one SQLite database (a file, or memory) inside
//! one process. They keep the semantics of their AWS twins (`huddle-aws`); the conformance suite
//! in `tests/platform` runs against both.

mod blobs;
mod database;
mod push;
mod queue;
mod table;
mod topic;

pub use blobs::{FolderBlobs, FolderBlobsConfig, PresignedRequest, Refused, BLOB_ROUTE};
pub use database::Database;
pub use push::{OutboxEntry, RecordedPush};
pub use queue::SqliteQueue;
pub use table::{ChangeFeed, SqliteTable};
pub use topic::InProcessTopic;
