//! Random, seeded adapter failures for any domain's tests: one [`FaultPlan`] wraps a `Table`,
//! `Queue` and `Topic` and fails a fraction of their calls *before* passing them on, with the
//! error each port calls retryable (`Unavailable`), as a throttled or unreachable service fails
//! them. It counts what it injected and can be switched off, so a test ends on a clean system.
//! The draws are seeded (see [`crate::seed`]); which call meets which draw depends on how
//! concurrent calls interleave.

use crate::decorated_table::{DecoratedTable, PlannedFaults};
use async_trait::async_trait;
use huddle_ports::{
    FilterPolicy, OutgoingMessage, PublishFailure, Queue, QueueError, ReceivedMessage, Table, Topic,
    TopicError, TopicMessage,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The port a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Port {
    Table,
    Queue,
    Topic,
}

pub struct FaultPlan {
    draws: Mutex<StdRng>,
    fraction: f64,
    on: AtomicBool,
    injected: Mutex<BTreeMap<Port, usize>>,
}

impl FaultPlan {
    /// A plan failing `fraction` (0 to 1) of the calls of every port it wraps, drawn from `seed`.
    pub fn new(seed: u64, fraction: f64) -> Arc<Self> {
        assert!((0.0..=1.0).contains(&fraction), "a fraction of calls, not {fraction}");
        Arc::new(Self {
            draws: Mutex::new(StdRng::seed_from_u64(seed)),
            fraction,
            on: AtomicBool::new(true),
            injected: Mutex::default(),
        })
    }

    /// From now on every call passes.
    pub fn switch_off(&self) {
        self.on.store(false, Ordering::SeqCst);
    }

    /// How many calls to `port` the plan failed.
    pub fn injected(&self, port: Port) -> usize {
        self.injected.lock().unwrap().get(&port).copied().unwrap_or(0)
    }

    /// Whether this call to `port` fails (and is counted).
    pub fn strikes(&self, port: Port) -> bool {
        if !self.on.load(Ordering::SeqCst) || !self.draws.lock().unwrap().random_bool(self.fraction) {
            return false;
        }
        *self.injected.lock().unwrap().entry(port).or_default() += 1;
        true
    }

    pub fn table(self: &Arc<Self>, inner: Arc<dyn Table>) -> Arc<dyn Table> {
        Arc::new(DecoratedTable::new(inner, PlannedFaults(self.clone())))
    }

    pub fn queue(self: &Arc<Self>, inner: Arc<dyn Queue>) -> Arc<dyn Queue> {
        Arc::new(FaultyQueue { inner, plan: self.clone() })
    }

    pub fn topic(self: &Arc<Self>, inner: Arc<dyn Topic>) -> Arc<dyn Topic> {
        Arc::new(FaultyTopic { inner, plan: self.clone() })
    }
}

const INJECTED: &str = "injected by the fault plan";

struct FaultyQueue {
    inner: Arc<dyn Queue>,
    plan: Arc<FaultPlan>,
}

impl FaultyQueue {
    fn pass(&self) -> Result<(), QueueError> {
        match self.plan.strikes(Port::Queue) {
            true => Err(QueueError::Unavailable(INJECTED.into())),
            false => Ok(()),
        }
    }
}

#[async_trait]
impl Queue for FaultyQueue {
    fn address(&self) -> &str {
        self.inner.address()
    }

    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        self.pass()?;
        self.inner.send_batch(messages).await
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        self.pass()?;
        self.inner.receive(max, visibility, wait).await
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.pass()?;
        self.inner.delete(receipt_handle).await
    }

    async fn release(&self, receipt_handle: &str, after: Duration) -> Result<(), QueueError> {
        self.pass()?;
        self.inner.release(receipt_handle, after).await
    }
}

struct FaultyTopic {
    inner: Arc<dyn Topic>,
    plan: Arc<FaultPlan>,
}

impl FaultyTopic {
    fn pass(&self) -> Result<(), TopicError> {
        match self.plan.strikes(Port::Topic) {
            true => Err(TopicError::Unavailable(INJECTED.into())),
            false => Ok(()),
        }
    }
}

#[async_trait]
impl Topic for FaultyTopic {
    async fn publish_batch(&self, messages: Vec<TopicMessage>) -> Result<Vec<PublishFailure>, TopicError> {
        self.pass()?;
        self.inner.publish_batch(messages).await
    }

    async fn subscribe(&self, queue: Arc<dyn Queue>, policy: &FilterPolicy) -> Result<(), TopicError> {
        self.pass()?;
        self.inner.subscribe(queue, policy).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_embedded::{Database, SqliteQueue};

    #[tokio::test]
    async fn a_plan_fails_its_fraction_before_the_call_and_counts_it() {
        let db = Database::in_memory().unwrap();
        let inner: Arc<dyn Queue> = Arc::new(SqliteQueue::new(&db, "faults", None));
        let plan = FaultPlan::new(7, 0.1);
        let queue = plan.queue(inner.clone());
        let mut failed = 0;
        for n in 0..1000 {
            let message = OutgoingMessage { body: n.to_string(), ..Default::default() };
            if let Err(error) = queue.send_batch(vec![message]).await {
                assert!(matches!(error, QueueError::Unavailable(_)), "{error}");
                failed += 1;
            }
        }
        assert_eq!(plan.injected(Port::Queue), failed);
        assert!((50..150).contains(&failed), "about a tenth of 1000 calls failed, not {failed}");
        let mut received = 0;
        loop {
            let batch = inner.receive(10, Duration::from_secs(60), Duration::ZERO).await.unwrap();
            if batch.is_empty() {
                break;
            }
            received += batch.len();
        }
        assert_eq!(received, 1000 - failed, "a failed call never reached the queue");

        plan.switch_off();
        for _ in 0..100 {
            queue
                .send_batch(vec![OutgoingMessage { body: "after".into(), ..Default::default() }])
                .await
                .expect("the plan is off");
        }
        assert_eq!(plan.injected(Port::Queue), failed);
    }

    #[test]
    fn one_seed_draws_the_same_faults() {
        let draws = |seed| {
            let plan = FaultPlan::new(seed, 0.1);
            (0..200).map(|_| plan.strikes(Port::Table)).collect::<Vec<_>>()
        };
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
    }
}
