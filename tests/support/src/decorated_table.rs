//! A `Table` decorator for tests: every call passes an [`Interceptor`] on its way to the real
//! table, which may answer it instead. [`Faults`] answers scripted calls with the errors no
//! adapter produces on demand (DynamoDB's transaction conflicts and throttling, a conditional
//! failure that names no write); [`PlannedFaults`] fails a random fraction of calls; an
//! interceptor that meters calls has the same shape.

use crate::fault_plan::{FaultPlan, Port};
use async_trait::async_trait;
use huddle_ports::{BatchWrite, Condition, Item, Key, Page, Query, Scan, Table, TableError, TransactWrite};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

/// The `Table` method a call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Get,
    Put,
    Delete,
    Query,
    Scan,
    Count,
    Add,
    Transact,
    BatchWrite,
    BatchGet,
}

/// Sees each call of a [`DecoratedTable`] before the inner table does.
#[async_trait]
pub trait Interceptor: Send + Sync {
    /// `Err` answers the call with that error and the inner table never sees it.
    fn before(&self, operation: Operation) -> Result<(), TableError>;

    /// Whether a `get` of `key` finds nothing, whatever the inner table holds: a read that a
    /// racing write has not reached yet.
    fn hides(&self, _key: &Key) -> bool {
        false
    }

    /// Awaited before a read of partition `pk` reaches the inner table: a test may hold one
    /// there to let another request overtake it.
    async fn reading(&self, _pk: &str) {}

    /// Sees the items a read (`get`, `query`, `scan`) returned: a meter counts them.
    fn returned(&self, _items: &[Item]) {}

    /// Awaited before a batch write reaches the inner table: a test may hold one there to
    /// overlap another delivery with it.
    async fn batch_writing(&self) {}
}

/// `inner`, with every call passing `interceptor` first.
pub struct DecoratedTable<I> {
    inner: Arc<dyn Table>,
    pub interceptor: I,
}

impl<I: Interceptor> DecoratedTable<I> {
    pub fn new(inner: Arc<dyn Table>, interceptor: I) -> Self {
        Self { inner, interceptor }
    }
}

#[async_trait]
impl<I: Interceptor> Table for DecoratedTable<I> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        self.interceptor.before(Operation::Get)?;
        self.interceptor.reading(&key.pk).await;
        if self.interceptor.hides(key) {
            return Ok(None);
        }
        let item = self.inner.get(key).await?;
        self.interceptor.returned(item.as_slice());
        Ok(item)
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        self.interceptor.before(Operation::Put)?;
        self.inner.put(item, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        self.interceptor.before(Operation::Delete)?;
        self.inner.delete(key, condition).await
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        self.interceptor.before(Operation::Query)?;
        self.interceptor.reading(&query.pk).await;
        let page = self.inner.query(query).await?;
        self.interceptor.returned(&page.items);
        Ok(page)
    }

    async fn scan(&self, scan: &Scan) -> Result<Page, TableError> {
        self.interceptor.before(Operation::Scan)?;
        let page = self.inner.scan(scan).await?;
        self.interceptor.returned(&page.items);
        Ok(page)
    }

    async fn approximate_item_count(&self) -> Result<u64, TableError> {
        self.interceptor.before(Operation::Count)?;
        self.inner.approximate_item_count().await
    }

    async fn add(&self, key: &Key, attribute: &str, delta: i64) -> Result<i64, TableError> {
        self.interceptor.before(Operation::Add)?;
        self.inner.add(key, attribute, delta).await
    }

    async fn add_expiring(
        &self,
        key: &Key,
        attribute: &str,
        delta: i64,
        expires_at: i64,
    ) -> Result<i64, TableError> {
        self.interceptor.before(Operation::Add)?;
        self.inner.add_expiring(key, attribute, delta, expires_at).await
    }

    async fn transact(&self, writes: Vec<TransactWrite>) -> Result<(), TableError> {
        self.interceptor.before(Operation::Transact)?;
        self.inner.transact(writes).await
    }

    /// A key the interceptor hides reads as missing, as in [`get`](Table::get).
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        self.interceptor.before(Operation::BatchGet)?;
        for key in keys {
            self.interceptor.reading(&key.pk).await;
        }
        let found = self.inner.batch_get(keys).await?;
        let shown: Vec<Option<Item>> =
            keys.iter().zip(found).map(|(key, item)| item.filter(|_| !self.interceptor.hides(key))).collect();
        self.interceptor.returned(&shown.iter().flatten().cloned().collect::<Vec<_>>());
        Ok(shown)
    }

    async fn batch_write(&self, writes: Vec<BatchWrite>) -> Result<(), TableError> {
        self.interceptor.before(Operation::BatchWrite)?;
        self.interceptor.batch_writing().await;
        self.inner.batch_write(writes).await
    }
}

/// A script of faults and a count of every call by operation (faulted ones included). Each
/// fault answers the next call of its operation not answered by an earlier one, so the faults
/// of one operation fire in script order and calls of other operations pass; a numbered fault
/// ([`on_call`](Self::on_call)) answers one call by its number instead.
#[derive(Default)]
pub struct Faults {
    script: Mutex<VecDeque<(Operation, TableError)>>,
    numbered: Mutex<Vec<(Operation, usize, TableError)>>,
    calls: Mutex<BTreeMap<Operation, usize>>,
}

impl Faults {
    /// Adds a fault: a call of `operation` fails with `error`.
    pub fn then(self, operation: Operation, error: TableError) -> Self {
        self.script.lock().unwrap().push_back((operation, error));
        self
    }

    /// [`then`](Self::then) `times` times over.
    pub fn then_repeatedly(
        mut self,
        operation: Operation,
        times: usize,
        error: impl Fn() -> TableError,
    ) -> Self {
        for _ in 0..times {
            self = self.then(operation, error());
        }
        self
    }

    /// Adds a numbered fault: the `nth` call of `operation` (counting from 1) fails with `error`.
    pub fn on_call(self, operation: Operation, nth: usize, error: TableError) -> Self {
        self.numbered.lock().unwrap().push((operation, nth, error));
        self
    }

    /// How many calls of `operation` the table received.
    pub fn calls(&self, operation: Operation) -> usize {
        self.calls.lock().unwrap().get(&operation).copied().unwrap_or(0)
    }

    /// Faults not injected yet; a test that expects its script to have run asserts this is 0.
    pub fn pending(&self) -> usize {
        self.script.lock().unwrap().len() + self.numbered.lock().unwrap().len()
    }
}

#[async_trait]
impl Interceptor for Faults {
    fn before(&self, operation: Operation) -> Result<(), TableError> {
        let call = {
            let mut calls = self.calls.lock().unwrap();
            let count = calls.entry(operation).or_default();
            *count += 1;
            *count
        };
        let mut numbered = self.numbered.lock().unwrap();
        if let Some(index) =
            numbered.iter().position(|(scripted, nth, _)| (*scripted, *nth) == (operation, call))
        {
            return Err(numbered.remove(index).2);
        }
        drop(numbered);
        let mut script = self.script.lock().unwrap();
        let position = script.iter().position(|(scripted, _)| *scripted == operation);
        match position.and_then(|index| script.remove(index)) {
            Some((_, error)) => Err(error),
            None => Ok(()),
        }
    }
}

/// `inner` failing as `faults` scripts; keep the `Arc` to read the call counts.
pub fn faulty(inner: Arc<dyn Table>, faults: Faults) -> Arc<DecoratedTable<Faults>> {
    Arc::new(DecoratedTable::new(inner, faults))
}

/// Fails calls as a [`FaultPlan`] draws, with [`TableError::Unavailable`] (what DynamoDB's
/// throttling becomes), before the inner table sees them. Built by [`FaultPlan::table`].
pub struct PlannedFaults(pub Arc<FaultPlan>);

#[async_trait]
impl Interceptor for PlannedFaults {
    fn before(&self, _operation: Operation) -> Result<(), TableError> {
        match self.0.strikes(Port::Table) {
            true => Err(TableError::Unavailable("injected by the fault plan".into())),
            false => Ok(()),
        }
    }
}
