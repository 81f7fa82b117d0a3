//! Ports: the narrow traits that domain code and the delivery runtime talk to.
//!
//! Every trait here has two adapter families, `huddle-aws` (DynamoDB, SNS, SQS, S3) and
//! `huddle-embedded` (SQLite, in-process), kept in step by one conformance suite
//! (`tests/platform`). Nothing in this crate knows an AWS SDK type or a domain.

pub mod blob_notifications;
pub mod blobs;
pub mod filter_policy;
pub mod push;
pub mod queue;
pub mod table;
pub mod topic;

pub use blob_notifications::{notification_body, objects_created, NotANotification, ObjectCreated};
pub use blobs::{
    delete_prefix, validate_key, validate_page, BlobError, BlobMeta, Blobs, PresignedDownload,
    PresignedUpload, BLOB_PAGE, MAX_PRESIGNED_LIFETIME,
};
pub use filter_policy::{FilterPolicy, FilterPolicyError};
pub use push::{validate_payload, DeviceEndpoint, Platform, Push, PushError};
pub use queue::{OutgoingMessage, Queue, QueueError, ReceivedMessage};
pub use table::{
    get_all, is_expired, BatchWrite, Condition, Direction, Item, Key, Page, Query, Scan, Segment, SkRange,
    Table, TableError, TransactWrite, EXPIRES_AT,
};
pub use topic::{PublishFailure, Topic, TopicError, TopicMessage};

/// Message attributes as SNS and SQS carry them (string-typed attributes only).
pub type Attributes = std::collections::BTreeMap<String, String>;
