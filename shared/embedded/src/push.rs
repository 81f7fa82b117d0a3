//! The Push port as a recorded outbox: nothing leaves the process. What SNS would hand to APNs
//! or FCM is appended to an outbox in SQLite, which the runner shows and tests read.

use crate::Database;
use async_trait::async_trait;
use huddle_ports::{validate_payload, DeviceEndpoint, Platform, Push, PushError};
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

#[derive(Clone)]
pub struct RecordedPush {
    db: Database,
}

/// One notification as it would have been sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxEntry {
    /// Orders the outbox; pass the last one seen to [`RecordedPush::outbox`] to read on.
    pub seq: u64,
    pub endpoint: String,
    pub payload: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
}

fn unavailable(error: rusqlite::Error) -> PushError {
    PushError::Unavailable(error.to_string())
}

fn platform_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Apns => "apns",
        Platform::Fcm => "fcm",
    }
}

impl RecordedPush {
    pub fn new(db: &Database) -> Self {
        Self { db: db.clone() }
    }

    /// Up to `limit` notifications sent after the one numbered `after`, oldest first.
    pub fn outbox(&self, after: u64, limit: usize) -> Result<Vec<OutboxEntry>, PushError> {
        let conn = self.db.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, endpoint, payload, sent_at_ms FROM push_outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(unavailable)?;
        let rows = stmt
            .query_map(params![after as i64, limit as i64], |row| {
                let sent_at_ms: i64 = row.get(3)?;
                Ok(OutboxEntry {
                    seq: row.get::<_, i64>(0)? as u64,
                    endpoint: row.get(1)?,
                    payload: row.get(2)?,
                    sent_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(sent_at_ms) * 1_000_000)
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                })
            })
            .map_err(unavailable)?;
        rows.collect::<Result<_, _>>().map_err(unavailable)
    }

    /// Disables an endpoint, as APNs or FCM feedback about a dead token makes SNS do.
    pub fn disable(&self, endpoint: &DeviceEndpoint) -> Result<(), PushError> {
        let changed = self
            .db
            .lock()
            .prepare_cached("UPDATE push_endpoints SET enabled = 0 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![endpoint.id]))
            .map_err(unavailable)?;
        if changed == 0 {
            return Err(PushError::NotFound(endpoint.id.clone()));
        }
        Ok(())
    }

    fn enabled(conn: &rusqlite::Connection, endpoint: &DeviceEndpoint) -> Result<bool, PushError> {
        conn.prepare_cached("SELECT enabled FROM push_endpoints WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row(params![endpoint.id], |row| row.get::<_, bool>(0)).optional())
            .map_err(unavailable)?
            .ok_or_else(|| PushError::NotFound(endpoint.id.clone()))
    }
}

#[async_trait]
impl Push for RecordedPush {
    async fn register(
        &self,
        platform: Platform,
        token: &str,
        user_data: &str,
    ) -> Result<DeviceEndpoint, PushError> {
        if token.is_empty() {
            return Err(PushError::Invalid("empty device token".into()));
        }
        let fresh_id = format!("endpoint_{}", ulid::Ulid::new().to_string().to_lowercase());
        let id = self
            .db
            .lock()
            .prepare_cached(
                "INSERT INTO push_endpoints (id, platform, token, user_data, enabled) VALUES (?1, ?2, ?3, ?4, 1) \
                 ON CONFLICT (platform, token) DO UPDATE SET user_data = excluded.user_data, enabled = 1 \
                 RETURNING id",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![fresh_id, platform_name(platform), token, user_data], |row| row.get(0))
            })
            .map_err(unavailable)?;
        Ok(DeviceEndpoint { id })
    }

    async fn publish(&self, endpoint: &DeviceEndpoint, payload: &str) -> Result<(), PushError> {
        validate_payload(payload)?;
        let conn = self.db.lock();
        if !Self::enabled(&conn, endpoint)? {
            return Err(PushError::EndpointDisabled(endpoint.id.clone()));
        }
        let now_ms = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        conn.prepare_cached("INSERT INTO push_outbox (endpoint, payload, sent_at_ms) VALUES (?1, ?2, ?3)")
            .and_then(|mut stmt| stmt.execute(params![endpoint.id, payload, now_ms]))
            .map_err(unavailable)?;
        Ok(())
    }

    async fn is_enabled(&self, endpoint: &DeviceEndpoint) -> Result<bool, PushError> {
        Self::enabled(&self.db.lock(), endpoint)
    }

    async fn unregister(&self, endpoint: &DeviceEndpoint) -> Result<(), PushError> {
        self.db
            .lock()
            .prepare_cached("DELETE FROM push_endpoints WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![endpoint.id]))
            .map_err(unavailable)?;
        Ok(())
    }
}
