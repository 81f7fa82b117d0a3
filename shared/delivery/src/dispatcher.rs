//! The outbox and the dispatcher that empties it. Each effect of an event is written, in the
//! event's own transaction, as two items of the read-model table:
//!
//! * its **record** `outbox#<effect id>`/`effect` (sink, causing stream and version, whether it
//!   was muted), never changed or deleted: written with `NotExists`, it is what keeps a second
//!   application of the event from recording the effect again;
//! * its **pending marker** `outbox-pending#<shard>`/`<effect id>` (sink, body, a claim counter
//!   and a lease), deleted once the effect is performed. The markers are spread over
//!   [`PENDING_SHARDS`] partitions by effect id, so a drain finds every pending effect with a
//!   few queries and never scans the table.
//!
//! Performing one marker: **claim** (put it back with the claim counter one higher and a lease,
//! on condition the counter is still the one read: of two dispatchers one wins), **send**, then
//! **mark done** (delete the marker on condition the counter is still the claim's). A send that
//! fails is **released** (counter up again, lease cleared) for the next drain; a release or a done
//! mark that fails is retried. Only a crash (or a lease running out) between a send that
//! succeeded and its done mark sends an effect twice: the lease's end lets a drain send it again.
//! Every message carries its effect id ([`EFFECT_ID_ATTRIBUTE`](crate::EFFECT_ID_ATTRIBUTE)), so a
//! consumer can drop that repeat.

use crate::effects::{Effect, EffectMessage, SinkError, Sinks};
use crate::ProjectionError;
use huddle_eventstore::Envelope;
use huddle_ports::topic::{message_bytes, MAX_PUBLISH_BATCH_BYTES};
use huddle_ports::{Condition, Item, Key, Query, Table, TableError, TopicMessage, TransactWrite};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Effect records live at `pk = OUTBOX_PREFIX + effect id`, `sk = "effect"`.
pub const OUTBOX_PREFIX: &str = "outbox#";

/// Pending markers live at `pk = PENDING_PREFIX + shard`, `sk = effect id`.
pub const PENDING_PREFIX: &str = "outbox-pending#";

/// How many partitions the pending markers are spread over: a drain reads each.
pub const PENDING_SHARDS: u32 = 4;

/// The writes each effect adds to its event's transaction (record and pending marker), counted
/// in DynamoDB's 100-write limit with the read-model writes and the checkpoint.
pub const WRITES_PER_EFFECT: usize = 2;

/// How long a claim keeps other dispatchers off an effect; a send takes milliseconds.
pub const LEASE: Duration = Duration::from_secs(30);

/// How often a release or a done mark is tried before the lease is left to run out.
const MARK_ATTEMPTS: u32 = 10;

/// Performs the effects a projector recorded, over the projector's read-model table.
#[derive(Clone)]
pub struct Dispatcher {
    table: Arc<dyn Table>,
    sinks: Sinks,
    muted: bool,
}

/// What one [`Dispatcher::drain`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Effects it sent and marked done.
    pub sent: usize,
    /// Pending effects it left: leased to another dispatcher, or failed this time.
    pub left: usize,
}

/// An effect recorded and not yet performed, as its pending marker holds it.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    id: String,
    sink: String,
    body: String,
    /// Raised by every claim and release; each conditions on the value it read.
    claims: u64,
    /// Unix milliseconds until which the latest claim holds; 0 when nobody holds it.
    lease_until: i64,
}

impl Pending {
    fn item(&self) -> Item {
        let mut item = Item::new();
        item.insert("pk".into(), marker_pk(&self.id).into());
        item.insert("sk".into(), self.id.clone().into());
        item.insert("sink".into(), self.sink.clone().into());
        item.insert("body".into(), self.body.clone().into());
        item.insert("claims".into(), json!(self.claims));
        item.insert("lease_until".into(), json!(self.lease_until));
        item
    }

    fn from_item(item: &Item) -> Option<Pending> {
        let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(Pending {
            id: text("sk")?,
            sink: text("sink")?,
            body: text("body")?,
            claims: item.get("claims").and_then(Value::as_u64)?,
            lease_until: item.get("lease_until").and_then(Value::as_i64)?,
        })
    }

    fn held_by_current_claim(&self) -> Condition {
        Condition::attribute_equals("claims", self.claims)
    }
}

/// The outbox writes of one event: each effect's record, and its pending marker unless muted.
pub(crate) struct Outbox {
    entries: Vec<(Item, Option<Pending>)>,
}

impl Outbox {
    pub(crate) fn writes(&self) -> usize {
        // A muted effect writes its record only.
        self.entries.iter().map(|(_, pending)| if pending.is_some() { WRITES_PER_EFFECT } else { 1 }).sum()
    }

    /// Appends every entry's writes to `writes`, returning for each appended write its entry.
    fn append_to(&self, writes: &mut Vec<TransactWrite>) -> Vec<usize> {
        let mut owners = Vec::new();
        for (entry, (record, pending)) in self.entries.iter().enumerate() {
            writes.push(TransactWrite::Put { item: record.clone(), condition: Condition::NotExists });
            owners.push(entry);
            if let Some(pending) = pending {
                writes.push(TransactWrite::Put { item: pending.item(), condition: Condition::NotExists });
                owners.push(entry);
            }
        }
        owners
    }
}

impl Dispatcher {
    /// A dispatcher of the outbox in `table` (the projector's read-model table), sending to `sinks`.
    pub fn new(table: Arc<dyn Table>, sinks: Sinks) -> Self {
        Self { table, sinks, muted: false }
    }

    pub fn with_sinks(self, sinks: Sinks) -> Self {
        Self { sinks, ..self }
    }

    /// Records effects as muted and sends nothing, not even what a drain would find pending: for
    /// a replay, whose events' effects happened when they were first applied. It checks no sink
    /// names, since a replay has no sinks.
    pub fn muted(self) -> Self {
        Self { muted: true, ..self }
    }

    /// The outbox writes for the effects of `event`: refused if one names a sink this dispatcher
    /// lacks (never silently dropped), if two share an id, or if a body is larger than SNS or SQS
    /// take.
    pub(crate) fn outbox(&self, event: &Envelope, effects: Vec<Effect>) -> Result<Outbox, ProjectionError> {
        let mut ids = HashSet::new();
        let mut entries = Vec::with_capacity(effects.len());
        for effect in effects {
            if !self.muted && self.sinks.get(&effect.sink).is_none() {
                return Err(ProjectionError::Invalid(format!(
                    "an effect names unknown sink {:?}",
                    effect.sink
                )));
            }
            let id = effect.id(&event.event_id);
            if !ids.insert(id.clone()) {
                return Err(ProjectionError::Invalid(format!(
                    "two effects on sink {:?} share one key",
                    effect.sink
                )));
            }
            let message = EffectMessage::new(&id, &effect.sink, &effect.body);
            let bytes = message_bytes(&TopicMessage {
                id: message.id,
                body: message.body,
                attributes: message.attributes,
            });
            if bytes > MAX_PUBLISH_BATCH_BYTES {
                return Err(ProjectionError::Invalid(format!(
                    "an effect on sink {:?} holds {bytes} bytes, over the {MAX_PUBLISH_BATCH_BYTES} a message takes",
                    effect.sink
                )));
            }
            let mut record = Item::new();
            record.insert("pk".into(), format!("{OUTBOX_PREFIX}{id}").into());
            record.insert("sk".into(), "effect".into());
            record.insert("sink".into(), effect.sink.clone().into());
            record.insert("stream".into(), event.stream.clone().into());
            record.insert("version".into(), json!(event.version));
            record.insert("muted".into(), self.muted.into());
            let pending = (!self.muted).then_some(Pending {
                id,
                sink: effect.sink,
                body: effect.body,
                claims: 0,
                lease_until: 0,
            });
            entries.push((record, pending));
        }
        Ok(Outbox { entries })
    }

    /// Commits `writes` with the outbox's writes in one transaction and returns the effects to
    /// perform. An effect whose record already exists was recorded by an earlier application of
    /// the event (a rebuild over an existing read model): that record stands and this one is
    /// dropped, so the effect is never recorded, nor performed, twice.
    pub(crate) async fn commit(
        &self,
        writes: Vec<TransactWrite>,
        mut outbox: Outbox,
    ) -> Result<Vec<Pending>, TableError> {
        if outbox.entries.is_empty() {
            return self.table.transact(writes).await.map(|()| Vec::new());
        }
        loop {
            let mut all = writes.clone();
            let owners = outbox.append_to(&mut all);
            match self.table.transact(all).await {
                Ok(()) => return Ok(outbox.entries.into_iter().filter_map(|(_, pending)| pending).collect()),
                Err(TableError::ConditionFailed { index: Some(index) }) if index >= writes.len() => {
                    let (record, _) = outbox.entries.remove(owners[index - writes.len()]);
                    tracing::debug!(record = ?record.get("pk"), "effect already recorded");
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Performs freshly committed effects, each once (see the module's claim protocol); what
    /// fails stays pending for a drain.
    pub(crate) async fn perform_all(&self, pending: Vec<Pending>) {
        futures::future::join_all(pending.into_iter().map(|effect| self.perform(effect))).await;
    }

    /// Performs every pending effect whose lease has run out (or that nobody holds): those a
    /// crash or a failed send left behind. Run at the start of every projector invocation, and
    /// periodically where traffic may stop.
    pub async fn drain(&self) -> Result<Drained, TableError> {
        let mut drained = Drained::default();
        if self.muted || self.sinks.is_empty() {
            return Ok(drained);
        }
        for shard in 0..PENDING_SHARDS {
            let mut after = None;
            loop {
                let query = Query::new(format!("{PENDING_PREFIX}{shard}")).after(after);
                let page = self.table.query(&query).await?;
                let now = now_ms();
                let mut due = Vec::new();
                for item in &page.items {
                    match Pending::from_item(item) {
                        Some(pending) if pending.lease_until <= now => due.push(pending),
                        Some(_) => drained.left += 1,
                        None => {
                            tracing::error!(marker = ?item.get("sk"), "undecodable pending effect marker");
                            drained.left += 1;
                        }
                    }
                }
                for performed in futures::future::join_all(due.into_iter().map(|p| self.perform(p))).await {
                    match performed {
                        Performed::Sent => drained.sent += 1,
                        Performed::NotSent => drained.left += 1,
                    }
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        Ok(drained)
    }

    /// [`drain`](Self::drain), logging instead of failing: the projector drains before its batch
    /// and goes on with the batch whatever the drain met.
    pub(crate) async fn drain_or_log(&self) {
        match self.drain().await {
            Ok(drained) if drained != Drained::default() => {
                tracing::debug!(sent = drained.sent, left = drained.left, "outbox drained")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "reading the outbox failed; the next drain retries"),
        }
    }

    async fn perform(&self, pending: Pending) -> Performed {
        let Some(sink) = self.sinks.get(&pending.sink) else {
            tracing::error!(effect_id = %pending.id, sink = %pending.sink, "pending effect for an unknown sink");
            return Performed::NotSent;
        };
        let lease = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
        let claimed =
            Pending { claims: pending.claims + 1, lease_until: now_ms().saturating_add(lease), ..pending };
        match self.table.put(claimed.item(), Condition::attribute_equals("claims", pending.claims)).await {
            Ok(()) => {}
            // Another dispatcher claimed it since it was read, or performed it already.
            Err(TableError::ConditionFailed { .. }) => return Performed::NotSent,
            Err(error) => {
                tracing::warn!(effect_id = %claimed.id, %error, "claiming an effect failed; a drain retries");
                return Performed::NotSent;
            }
        }
        let message = EffectMessage::new(&claimed.id, &claimed.sink, &claimed.body);
        match sink.send(&message).await {
            Ok(()) => {
                tracing::debug!(effect_id = %claimed.id, sink = %claimed.sink, "effect sent");
                let key = Key::new(marker_pk(&claimed.id), &claimed.id);
                self.retried("marking the effect done", &claimed.id, || {
                    self.table.delete(&key, claimed.held_by_current_claim())
                })
                .await;
                Performed::Sent
            }
            Err(error) => {
                match &error {
                    SinkError::Refused(_) => {
                        tracing::error!(effect_id = %claimed.id, sink = %claimed.sink, %error, "sink refused an effect")
                    }
                    SinkError::Unavailable(_) => {
                        tracing::warn!(effect_id = %claimed.id, sink = %claimed.sink, %error, "sending an effect failed; a drain retries")
                    }
                }
                let released = Pending { claims: claimed.claims + 1, lease_until: 0, ..claimed.clone() };
                self.retried("releasing the effect", &claimed.id, || {
                    self.table.put(released.item(), claimed.held_by_current_claim())
                })
                .await;
                Performed::NotSent
            }
        }
    }

    /// Runs `write` until it succeeds, retrying what DynamoDB says is safe to retry. A condition
    /// that fails means the lease ran out and another dispatcher holds the effect now.
    async fn retried<F, W>(&self, what: &str, effect_id: &str, mut write: W)
    where
        W: FnMut() -> F,
        F: Future<Output = Result<(), TableError>>,
    {
        for attempt in 1..=MARK_ATTEMPTS {
            match write().await {
                Ok(()) => return,
                Err(TableError::Unavailable(_) | TableError::TransactionConflict)
                    if attempt < MARK_ATTEMPTS =>
                {
                    tokio::time::sleep(Duration::from_millis(10) * attempt).await
                }
                Err(error) => {
                    tracing::warn!(effect_id, %error, "{what} failed; the lease runs out and a drain takes over");
                    return;
                }
            }
        }
    }
}

enum Performed {
    Sent,
    NotSent,
}

/// The partition of an effect's pending marker: a shard picked by its id.
fn marker_pk(effect_id: &str) -> String {
    let shard = effect_id.bytes().map(u32::from).sum::<u32>() % PENDING_SHARDS;
    format!("{PENDING_PREFIX}{shard}")
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
