//! A metered `Table`: each call charged as DynamoDB on-demand bills it.
//!
//! Sizes are the items' own, by DynamoDB's rules ([`item_size`]). Where the call does not carry
//! the item it touches (a delete, an atomic add, a transaction's condition check or delete), the
//! meter charges DynamoDB's minimum of one unit: DynamoDB bills the larger of the item before and
//! after, which only a read could tell. Overwrites are charged by the new item for the same
//! reason. A call refused before it reaches DynamoDB (invalid, unavailable) costs nothing; one
//! whose condition fails or that loses a transaction race is billed as made.

use crate::units::{read_units, write_units};
use crate::{Line, Meter, Service, Tally, Unit};
use async_trait::async_trait;
use huddle_eventstore::event_correlation_id;
use huddle_ports::table::item_size;
use huddle_ports::{BatchWrite, Condition, Item, Key, Page, Query, Scan, Table, TableError, TransactWrite};
use std::sync::Arc;

/// What DynamoDB adds to each stored item's size for its indexing (its storage pricing rule).
const STORAGE_OVERHEAD_BYTES: usize = 100;

pub struct MeteredTable {
    inner: Arc<dyn Table>,
    meter: Meter,
}

impl MeteredTable {
    pub fn new(inner: Arc<dyn Table>, meter: Meter) -> Self {
        Self { inner, meter }
    }

    fn charge(&self, operation: &str, unit: Unit, billed: f64, stored_bytes: usize) {
        let tally = Tally { calls: 1.0, billed, stored_bytes: stored_bytes as f64 };
        self.meter.record(Line::new(Service::DynamoDB, operation, unit), tally);
    }

    fn charge_read(&self, operation: &str, items: &[Item]) {
        let bytes = items.iter().map(item_size).sum();
        self.charge(operation, Unit::ReadRequestUnits, read_units(bytes), 0);
    }

    /// Counts the events a successful write appended (by the correlation ids they carry), so the
    /// meter knows what the fan-out owes.
    fn count_events(&self, correlation_ids: &[String]) {
        for correlation_id in correlation_ids {
            self.meter.count_appended(correlation_id);
        }
    }
}

/// Whether DynamoDB bills the call: it reached the table, whatever its conditions said.
fn billed<T>(result: &Result<T, TableError>) -> bool {
    matches!(result, Ok(_) | Err(TableError::ConditionFailed { .. } | TableError::TransactionConflict))
}

/// The bytes a put adds to storage: only an insert (`NotExists`) is known to add an item.
fn inserted_bytes(item: &Item, condition: &Condition) -> usize {
    match condition {
        Condition::NotExists => item_size(item) + STORAGE_OVERHEAD_BYTES,
        _ => 0,
    }
}

#[async_trait]
impl Table for MeteredTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        let result = self.inner.get(key).await;
        if let Ok(found) = &result {
            self.charge_read("GetItem", found.as_slice());
        }
        result
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        let (units, stored) = (write_units(item_size(&item)), inserted_bytes(&item, &condition));
        let events: Vec<String> = event_correlation_id(&item).map(str::to_owned).into_iter().collect();
        let result = self.inner.put(item, condition).await;
        if billed(&result) {
            let stored = if result.is_ok() { stored } else { 0 };
            self.charge("PutItem", Unit::WriteRequestUnits, units, stored);
        }
        if result.is_ok() {
            self.count_events(&events);
        }
        result
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        let result = self.inner.delete(key, condition).await;
        if billed(&result) {
            self.charge("DeleteItem", Unit::WriteRequestUnits, write_units(0), 0);
        }
        result
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        let result = self.inner.query(query).await;
        if let Ok(page) = &result {
            self.charge_read("Query", &page.items);
        }
        result
    }

    async fn scan(&self, scan: &Scan) -> Result<Page, TableError> {
        let result = self.inner.scan(scan).await;
        if let Ok(page) = &result {
            self.charge_read("Scan", &page.items);
        }
        result
    }

    /// DescribeTable: a control-plane call, free.
    async fn approximate_item_count(&self) -> Result<u64, TableError> {
        self.inner.approximate_item_count().await
    }

    async fn add(&self, key: &Key, attribute: &str, delta: i64) -> Result<i64, TableError> {
        let result = self.inner.add(key, attribute, delta).await;
        if billed(&result) {
            self.charge("UpdateItem", Unit::WriteRequestUnits, write_units(0), 0);
        }
        result
    }

    async fn add_expiring(
        &self,
        key: &Key,
        attribute: &str,
        delta: i64,
        expires_at: i64,
    ) -> Result<i64, TableError> {
        let result = self.inner.add_expiring(key, attribute, delta, expires_at).await;
        if billed(&result) {
            self.charge("UpdateItem", Unit::WriteRequestUnits, write_units(0), 0);
        }
        result
    }

    async fn transact(&self, writes: Vec<TransactWrite>) -> Result<(), TableError> {
        let mut units = 0.0;
        let mut stored = 0;
        let mut events = Vec::new();
        for write in &writes {
            match write {
                TransactWrite::Put { item, condition } => {
                    units += 2.0 * write_units(item_size(item));
                    stored += inserted_bytes(item, condition);
                    events.extend(event_correlation_id(item).map(str::to_owned));
                }
                TransactWrite::Delete { .. } | TransactWrite::Add { .. } | TransactWrite::Check { .. } => {
                    units += 2.0 * write_units(0);
                }
            }
        }
        let result = self.inner.transact(writes).await;
        if billed(&result) {
            let stored = if result.is_ok() { stored } else { 0 };
            self.charge("TransactWriteItems", Unit::WriteRequestUnits, units, stored);
        }
        if result.is_ok() {
            self.count_events(&events);
        }
        result
    }

    /// Billed as DynamoDB bills BatchGetItem: each key as a read of its own (a missing item at
    /// the least a unit, as GetItem).
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        let result = self.inner.batch_get(keys).await;
        if let Ok(found) = &result {
            let units = found.iter().map(|item| read_units(item.as_ref().map_or(0, item_size))).sum();
            self.charge("BatchGetItem", Unit::ReadRequestUnits, units, 0);
        }
        result
    }

    async fn batch_write(&self, writes: Vec<BatchWrite>) -> Result<(), TableError> {
        let units = writes
            .iter()
            .map(|write| match write {
                BatchWrite::Put(item) => write_units(item_size(item)),
                BatchWrite::Delete(_) => write_units(0),
            })
            .sum();
        let result = self.inner.batch_write(writes).await;
        if billed(&result) {
            self.charge("BatchWriteItem", Unit::WriteRequestUnits, units, 0);
        }
        result
    }
}
