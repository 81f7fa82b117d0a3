use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// One SQLite database shared by every embedded adapter of a process.
///
/// Calls hold the connection for microseconds and never across an `.await`, so a plain mutex
/// serves many tasks; SQLite in WAL mode keeps a file database durable at that pace.
#[derive(Clone)]
pub struct Database {
    connection: Arc<Mutex<Connection>>,
    /// Counts commits that added to a change feed, so feed readers can wait for the next one.
    changes: watch::Sender<u64>,
    /// One doorbell per queue name, shared by every handle on that queue, so a receiver waiting
    /// on one handle wakes when a message arrives through another (a topic, a redrive).
    queue_doorbells: Arc<Mutex<HashMap<String, watch::Sender<u64>>>>,
}

impl Database {
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        Self::with(connection)
    }

    pub fn in_memory() -> rusqlite::Result<Self> {
        Self::with(Connection::open_in_memory()?)
    }

    fn with(connection: Connection) -> rusqlite::Result<Self> {
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.execute_batch(include_str!("schema.sql"))?;
        crate::table::register_segment_function(&connection)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            changes: watch::Sender::new(0),
            queue_doorbells: Arc::default(),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (statements are atomic and
        // transactions roll back on drop), so a poisoned lock is safe to keep using.
        self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn notify_changes(&self) {
        self.changes.send_modify(|count| *count += 1);
    }

    pub(crate) fn watch_changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The doorbell of the named queue: rung whenever one of its messages may have become
    /// receivable, so long-polling receivers wait on it instead of polling.
    pub(crate) fn queue_doorbell(&self, queue: &str) -> watch::Sender<u64> {
        let mut doorbells = self.queue_doorbells.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        doorbells.entry(queue.to_owned()).or_insert_with(|| watch::Sender::new(0)).clone()
    }
}

/// Wall-clock milliseconds since the Unix epoch: what stored timestamps count, so a file
/// database keeps its meaning across restarts.
pub(crate) fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
