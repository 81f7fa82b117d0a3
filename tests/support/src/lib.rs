//! What every integration test shares: a moto server (the AWS-compatible endpoint the AWS
//! adapters talk to), fresh resources with unique names on either adapter family, and a small
//! test-only aggregate.

pub mod decorated_table;
pub mod families;
pub mod moto;
pub mod notes;
pub mod notes_api;
pub mod queues;
pub mod seed;

pub use families::Family;

/// A resource name no other test of this run uses, so tests share one emulator in parallel.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}
