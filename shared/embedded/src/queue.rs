//! The Queue port on SQLite, with SQS semantics: visibility timeouts, receive counts, receipts
//! that name one delivery, long polling, and redrive to a dead-letter queue.

use crate::database::now_ms;
use crate::Database;
use async_trait::async_trait;
use huddle_ports::queue::{validate_receive, validate_send, validate_visibility, MAX_RECEIVE_WAIT};
use huddle_ports::{Attributes, OutgoingMessage, Queue, QueueError, ReceivedMessage};
use rusqlite::{params, Connection};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// One named queue inside the embedded database; handles on the same name share its messages.
///
/// Receipts are fresh on every delivery and only the latest one deletes or releases a message,
/// so a consumer whose visibility timeout ran out cannot delete the copy redelivered to another:
/// its stale receipt is a no-op, as SQS documents.
#[derive(Clone)]
pub struct SqliteQueue {
    db: Database,
    name: String,
    doorbell: watch::Sender<u64>,
    redrive: Option<Redrive>,
}

/// Where a message goes instead of being received more than `max_receives` times.
#[derive(Clone)]
struct Redrive {
    dead_letter: String,
    dead_letter_doorbell: watch::Sender<u64>,
    max_receives: u32,
}

/// A message as stored, before a receive delivers or redrives it.
struct Stored {
    seq: i64,
    message_id: String,
    body: String,
    attributes: String,
    receive_count: u32,
}

/// What one look at the queue found.
struct Look {
    delivered: Vec<ReceivedMessage>,
    /// When nothing was delivered: how long until the next hidden message shows again.
    next_visible_in: Option<Duration>,
}

impl SqliteQueue {
    /// The queue `name` in `db`. With `redrive = Some((dead_letter, max_receives))`, a message
    /// received `max_receives` times moves to the queue whose address (name) is `dead_letter`
    /// at its next receive instead of being delivered again; it keeps its id, body, attributes
    /// and receive count there.
    pub fn new(db: &Database, name: impl Into<String>, redrive: Option<(&str, u32)>) -> Self {
        let name = name.into();
        let redrive = redrive.map(|(dead_letter, max_receives)| {
            assert!(max_receives >= 1, "a redrive policy allows at least one receive (as SQS requires)");
            Redrive {
                dead_letter: dead_letter.to_owned(),
                dead_letter_doorbell: db.queue_doorbell(dead_letter),
                max_receives,
            }
        });
        Self { db: db.clone(), doorbell: db.queue_doorbell(&name), name, redrive }
    }

    /// Delivers up to `max` visible messages, hiding each for `visibility`, and moves those past
    /// the redrive limit to the dead-letter queue, all in one transaction.
    fn look(&self, max: usize, visibility: Duration) -> Result<Look, QueueError> {
        let now = now_ms();
        let hidden_until = now + visibility.as_millis() as i64;
        let mut redriven = false;
        let mut delivered = Vec::new();
        let mut conn = self.db.lock();
        let tx = conn.transaction().map_err(storage_error)?;
        // Walk forward by sequence so a message delivered with zero visibility is not met twice.
        let mut after_seq = 0;
        while delivered.len() < max {
            let candidates = visible_messages(&tx, &self.name, now, after_seq, max - delivered.len())?;
            let Some(last) = candidates.last() else { break };
            after_seq = last.seq;
            for message in candidates {
                match &self.redrive {
                    Some(redrive) if message.receive_count >= redrive.max_receives => {
                        tx.prepare_cached(
                            "UPDATE queue_messages SET queue = ?2, visible_at_ms = ?3, receipt = NULL WHERE seq = ?1",
                        )
                        .and_then(|mut stmt| stmt.execute(params![message.seq, redrive.dead_letter, now]))
                        .map_err(storage_error)?;
                        redriven = true;
                    }
                    _ => delivered.push(deliver(&tx, message, hidden_until)?),
                }
            }
        }
        let next_visible_in = if delivered.is_empty() {
            tx.prepare_cached(
                "SELECT MIN(visible_at_ms) FROM queue_messages WHERE queue = ?1 AND visible_at_ms > ?2",
            )
            .and_then(|mut stmt| stmt.query_row(params![self.name, now], |row| row.get::<_, Option<i64>>(0)))
            .map_err(storage_error)?
            .map(|at| Duration::from_millis((at - now) as u64))
        } else {
            None
        };
        tx.commit().map_err(storage_error)?;
        if let Some(redrive) = self.redrive.as_ref().filter(|_| redriven) {
            ring(&redrive.dead_letter_doorbell);
        }
        Ok(Look { delivered, next_visible_in })
    }
}

/// Refuses what cannot be a receipt handle at all, as SQS does; a stale receipt passes, to change
/// nothing.
fn check_receipt(receipt_handle: &str) -> Result<(), QueueError> {
    match ulid::Ulid::from_string(receipt_handle) {
        Ok(_) => Ok(()),
        Err(_) => Err(QueueError::Invalid(format!("{receipt_handle:?} is not a receipt handle"))),
    }
}

fn storage_error(error: rusqlite::Error) -> QueueError {
    QueueError::Unavailable(error.to_string())
}

/// Tells the queue's long-polling receivers to look again.
fn ring(doorbell: &watch::Sender<u64>) {
    doorbell.send_modify(|rings| *rings += 1);
}

fn visible_messages(
    conn: &Connection,
    queue: &str,
    now: i64,
    after_seq: i64,
    limit: usize,
) -> Result<Vec<Stored>, QueueError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT seq, message_id, body, attributes, receive_count FROM queue_messages \
             WHERE queue = ?1 AND seq > ?2 AND visible_at_ms <= ?3 ORDER BY seq LIMIT ?4",
        )
        .map_err(storage_error)?;
    let rows = stmt
        .query_map(params![queue, after_seq, now, limit as i64], |row| {
            Ok(Stored {
                seq: row.get(0)?,
                message_id: row.get(1)?,
                body: row.get(2)?,
                attributes: row.get(3)?,
                receive_count: row.get(4)?,
            })
        })
        .map_err(storage_error)?;
    rows.collect::<Result<_, _>>().map_err(storage_error)
}

/// Counts the receive, hides the message until `hidden_until` and gives it a fresh receipt.
fn deliver(conn: &Connection, message: Stored, hidden_until: i64) -> Result<ReceivedMessage, QueueError> {
    let receipt_handle = ulid::Ulid::new().to_string();
    conn.prepare_cached(
        "UPDATE queue_messages SET receive_count = receive_count + 1, visible_at_ms = ?2, receipt = ?3 \
         WHERE seq = ?1",
    )
    .and_then(|mut stmt| stmt.execute(params![message.seq, hidden_until, receipt_handle]))
    .map_err(storage_error)?;
    let attributes: Attributes = serde_json::from_str(&message.attributes)
        .map_err(|e| QueueError::Unavailable(format!("corrupt message attributes: {e}")))?;
    Ok(ReceivedMessage {
        message_id: message.message_id,
        receipt_handle,
        body: message.body,
        attributes,
        receive_count: message.receive_count + 1,
    })
}

#[async_trait]
impl Queue for SqliteQueue {
    fn address(&self) -> &str {
        &self.name
    }

    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        validate_send(&messages)?;
        if messages.is_empty() {
            return Ok(());
        }
        {
            let now = now_ms();
            let mut conn = self.db.lock();
            let tx = conn.transaction().map_err(storage_error)?;
            for message in &messages {
                let attributes = serde_json::to_string(&message.attributes).expect("string maps serialize");
                tx.prepare_cached(
                    "INSERT INTO queue_messages (queue, message_id, body, attributes, visible_at_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        self.name,
                        ulid::Ulid::new().to_string(),
                        message.body,
                        attributes,
                        now
                    ])
                })
                .map_err(storage_error)?;
            }
            tx.commit().map_err(storage_error)?;
        }
        ring(&self.doorbell);
        Ok(())
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        validate_receive(max, visibility)?;
        let deadline = Instant::now() + wait.min(MAX_RECEIVE_WAIT);
        // Listening before looking: a send that lands after the look still wakes the wait below.
        let mut doorbell = self.doorbell.subscribe();
        loop {
            let look = self.look(max, visibility)?;
            if !look.delivered.is_empty() {
                return Ok(look.delivered);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            let wake_at = look.next_visible_in.map_or(deadline, |hidden| deadline.min(now + hidden));
            tokio::select! {
                _ = doorbell.changed() => {}
                _ = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        check_receipt(receipt_handle)?;
        let conn = self.db.lock();
        conn.prepare_cached("DELETE FROM queue_messages WHERE queue = ?1 AND receipt = ?2")
            .and_then(|mut stmt| stmt.execute(params![self.name, receipt_handle]))
            .map_err(storage_error)?;
        Ok(())
    }

    async fn release(&self, receipt_handle: &str, after: Duration) -> Result<(), QueueError> {
        validate_visibility(after)?;
        check_receipt(receipt_handle)?;
        let released = {
            let conn = self.db.lock();
            conn.prepare_cached(
                "UPDATE queue_messages SET visible_at_ms = ?3 WHERE queue = ?1 AND receipt = ?2",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![self.name, receipt_handle, now_ms() + after.as_millis() as i64])
            })
            .map_err(storage_error)?
        };
        if released > 0 {
            // Waiting receivers recompute when the next hidden message shows.
            ring(&self.doorbell);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> OutgoingMessage {
        OutgoingMessage { body: body.into(), attributes: Attributes::new() }
    }

    const LONG_WAIT: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn a_stale_receipt_neither_deletes_nor_releases_the_redelivered_message() {
        let db = Database::in_memory().unwrap();
        let queue = SqliteQueue::new(&db, "q", None);
        queue.send_batch(vec![message("m")]).await.unwrap();
        let first = queue.receive(1, Duration::from_millis(50), LONG_WAIT).await.unwrap().remove(0);
        let second = queue.receive(1, Duration::from_secs(60), LONG_WAIT).await.unwrap().remove(0);
        assert_eq!((second.message_id.as_str(), second.receive_count), (first.message_id.as_str(), 2));
        assert_ne!(first.receipt_handle, second.receipt_handle);

        queue.delete(&first.receipt_handle).await.expect("a stale receipt is a no-op, not an error");
        queue.release(&first.receipt_handle, Duration::ZERO).await.unwrap();
        assert!(queue.receive(1, Duration::from_secs(60), Duration::ZERO).await.unwrap().is_empty());

        queue.release(&second.receipt_handle, Duration::ZERO).await.unwrap();
        let third = queue.receive(1, Duration::from_secs(60), Duration::ZERO).await.unwrap();
        assert_eq!(third[0].message_id, first.message_id, "the latest receipt still held the message");
    }

    #[tokio::test]
    async fn a_receiver_waiting_on_one_handle_wakes_for_a_send_through_another() {
        let db = Database::in_memory().unwrap();
        let consumer = SqliteQueue::new(&db, "shared", None);
        let producer = SqliteQueue::new(&db, "shared", None);
        let waiting =
            tokio::spawn(async move { consumer.receive(1, Duration::from_secs(60), LONG_WAIT).await });
        tokio::task::yield_now().await;
        producer.send_batch(vec![message("hello")]).await.unwrap();
        let received = waiting.await.unwrap().unwrap();
        assert_eq!(received[0].body, "hello");
    }

    #[tokio::test]
    async fn zero_visibility_delivers_each_message_once_per_receive() {
        let db = Database::in_memory().unwrap();
        let queue = SqliteQueue::new(&db, "q", None);
        queue.send_batch(vec![message("a"), message("b")]).await.unwrap();
        let received = queue.receive(10, Duration::ZERO, Duration::ZERO).await.unwrap();
        let bodies: Vec<&str> = received.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["a", "b"]);
    }
}
