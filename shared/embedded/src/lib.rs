//! Embedded adapters: the whole platform on one SQLite database (a file, or memory) inside
//! one process. They keep the semantics of their AWS twins (`huddle-aws`); the conformance suite
//! in `tests/platform` runs against both.

mod database;
mod queue;
mod table;
mod topic;

pub use database::Database;
pub use queue::SqliteQueue;
pub use table::{ChangeFeed, SqliteTable};
pub use topic::InProcessTopic;
