//! The meter: billed usage by correlation id, and the attribution that tells it whose usage a
//! request is.
//!
//! Every metered call is charged to the *current attribution*: a task-local list of correlation
//! ids with weights, set around each function invocation by whoever invokes it (the runner's
//! gateway for a request, its mappings for a stream or queue batch). A batch that carries events
//! of several actions splits each of its requests among them by their share of the batch. Calls
//! outside any attribution (a scheduled sweep, an idle poll) are charged to [`BACKGROUND`].

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The correlation id of usage no user action caused: idle queue polls, scheduled sweeps.
pub const BACKGROUND: &str = "background";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    ApiGateway,
    Lambda,
    DynamoDB,
    Sns,
    Sqs,
    S3,
    MobilePush,
}

/// A service serializes as its name.
impl Serialize for Service {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::ApiGateway => "API Gateway",
            Service::Lambda => "Lambda",
            Service::DynamoDB => "DynamoDB",
            Service::Sns => "SNS",
            Service::Sqs => "SQS",
            Service::S3 => "S3",
            Service::MobilePush => "SNS mobile push",
        }
    }
}

/// What a line's billed quantity counts; each unit has one price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// HTTP API requests (512 KB increments).
    HttpApiRequests,
    /// Lambda GB-seconds; the line's calls are its invocations, priced as Lambda requests.
    LambdaGbSeconds,
    ReadRequestUnits,
    WriteRequestUnits,
    /// SNS requests (64 KB increments).
    SnsRequests,
    /// SQS requests (64 KB increments).
    SqsRequests,
    /// S3 PUT, COPY, POST and LIST requests.
    S3WriteRequests,
    /// S3 GET and HEAD requests.
    S3ReadRequests,
    /// Notifications delivered to a phone through SNS mobile push.
    MobilePushDeliveries,
}

/// One line of a bill: a service's operation, what it is billed in, and the function whose
/// invocation made the calls.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Line {
    pub service: Service,
    /// The API call (`TransactWriteItems`), or for Lambda the function's logical id.
    pub operation: String,
    pub unit: Unit,
    /// The logical id of the function that made the calls; none for what no function makes (an
    /// HttpApi request, an invocation itself, a mapping's receives and deletes).
    pub by: Option<String>,
}

impl Line {
    pub fn new(service: Service, operation: impl Into<String>, unit: Unit) -> Self {
        Self { service, operation: operation.into(), unit, by: None }
    }
}

/// What one line added up to. Fractions arise where a call is shared among several actions.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Tally {
    /// API calls made (for Lambda: invocations).
    pub calls: f64,
    /// The billed quantity, in the line's [`Unit`].
    pub billed: f64,
    /// Bytes the calls added to storage (new DynamoDB items, S3 objects), billed per GB-month.
    pub stored_bytes: f64,
}

impl Tally {
    fn add(&mut self, other: Tally, weight: f64) {
        self.calls += other.calls * weight;
        self.billed += other.billed * weight;
        self.stored_bytes += other.stored_bytes * weight;
    }
}

/// Usage by line.
pub type Usage = BTreeMap<Line, Tally>;

/// Whose usage a call is: correlation ids with weights that sum to 1, and the function making
/// it, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    shares: Arc<[(String, f64)]>,
    function: Option<Arc<str>>,
}

tokio::task_local! {
    static CURRENT: Attribution;
}

impl Attribution {
    /// All of it to one action.
    pub fn to(correlation_id: impl Into<String>) -> Self {
        Self { shares: Arc::from([(correlation_id.into(), 1.0)]), function: None }
    }

    /// Shared by the actions named, each occurrence one equal share (a batch of three events of
    /// one action and one of another splits 3:1); nothing named is [`BACKGROUND`].
    pub fn among<'a>(correlation_ids: impl IntoIterator<Item = &'a str>) -> Self {
        let mut counts: BTreeMap<&str, f64> = BTreeMap::new();
        for id in correlation_ids {
            *counts.entry(id).or_default() += 1.0;
        }
        let total: f64 = counts.values().sum();
        if total == 0.0 {
            return Self::to(BACKGROUND);
        }
        Self {
            shares: counts.into_iter().map(|(id, count)| (id.to_owned(), count / total)).collect(),
            function: None,
        }
    }

    /// The same actions, for calls made by `function` (a logical id).
    pub fn in_function(self, function: &str) -> Self {
        Self { function: Some(Arc::from(function)), ..self }
    }

    /// These actions, for calls made by `other`'s function (or by none, as `other`'s are).
    pub(crate) fn made_as(self, other: &Attribution) -> Self {
        Self { function: other.function.clone(), ..self }
    }

    /// The attribution `future` runs under, calls it makes included.
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }

    /// The attribution of the running task ([`BACKGROUND`] outside any scope).
    pub fn current() -> Self {
        CURRENT.try_with(Clone::clone).unwrap_or_else(|_| Self::to(BACKGROUND))
    }

    pub fn shares(&self) -> &[(String, f64)] {
        &self.shares
    }
}

#[derive(Default)]
struct Records {
    usage: HashMap<String, Usage>,
    /// Event items appended, by the correlation id they carry.
    appended: HashMap<String, u64>,
    /// Events published to the topic, by the correlation id they carry.
    published: HashMap<String, u64>,
}

/// Collects usage from every metered port and invocation of one system. Cheap to clone.
#[derive(Clone, Default)]
pub struct Meter {
    records: Arc<Mutex<Records>>,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter").field("actions", &self.records().usage.len()).finish()
    }
}

impl Meter {
    pub fn new() -> Self {
        Self::default()
    }

    fn records(&self) -> MutexGuard<'_, Records> {
        // A panic while holding the lock leaves counts that are still counts.
        self.records.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Charge `tally` on `line` to the current attribution.
    pub fn record(&self, line: Line, tally: Tally) {
        self.record_for(&Attribution::current(), line, tally);
    }

    /// Charge `tally` on `line` to `attribution`, made by its function.
    pub fn record_for(&self, attribution: &Attribution, mut line: Line, tally: Tally) {
        line.by = attribution.function.as_deref().map(str::to_owned);
        let mut records = self.records();
        for (correlation_id, weight) in attribution.shares() {
            records
                .usage
                .entry(correlation_id.clone())
                .or_default()
                .entry(line.clone())
                .or_default()
                .add(tally, *weight);
        }
    }

    /// One Lambda invocation of `function` (its logical id) with `memory_mb` that ran `duration`,
    /// for `attribution`.
    pub fn record_invocation(
        &self,
        attribution: &Attribution,
        function: &str,
        memory_mb: u32,
        duration: Duration,
    ) {
        let line = Line::new(Service::Lambda, function, Unit::LambdaGbSeconds);
        let billed = crate::units::gigabyte_seconds(duration, memory_mb);
        let invoker = Attribution { function: None, ..attribution.clone() };
        self.record_for(&invoker, line, Tally { calls: 1.0, billed, stored_bytes: 0.0 });
    }

    pub(crate) fn count_appended(&self, correlation_id: &str) {
        *self.records().appended.entry(correlation_id.to_owned()).or_default() += 1;
    }

    pub(crate) fn count_published(&self, correlation_id: &str) {
        *self.records().published.entry(correlation_id.to_owned()).or_default() += 1;
    }

    /// Whether every event the action appended has been published by the fan-out.
    pub fn fan_out_caught_up(&self, correlation_id: &str) -> bool {
        let records = self.records();
        let count = |counts: &HashMap<String, u64>| counts.get(correlation_id).copied().unwrap_or(0);
        count(&records.published) >= count(&records.appended)
    }

    /// What the action with this correlation id used so far.
    pub fn usage_of(&self, correlation_id: &str) -> Usage {
        self.records().usage.get(correlation_id).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(calls: f64) -> Tally {
        Tally { calls, billed: calls, stored_bytes: 0.0 }
    }

    #[tokio::test]
    async fn usage_goes_to_the_attribution_in_scope_and_shared_batches_split_by_share() {
        let meter = Meter::new();
        let line = Line::new(Service::DynamoDB, "GetItem", Unit::ReadRequestUnits);
        meter.record(line.clone(), read(1.0));
        Attribution::to("a").scope(async { meter.record(line.clone(), read(2.0)) }).await;
        Attribution::among(["a", "a", "a", "b"]).scope(async { meter.record(line.clone(), read(4.0)) }).await;

        assert_eq!(meter.usage_of(BACKGROUND)[&line].calls, 1.0);
        assert_eq!(meter.usage_of("a")[&line].calls, 2.0 + 3.0);
        assert_eq!(meter.usage_of("b")[&line].calls, 1.0);
        assert!(meter.usage_of("c").is_empty());
        assert_eq!(Attribution::among([]), Attribution::to(BACKGROUND));
    }

    #[test]
    fn the_fan_out_is_caught_up_once_it_published_what_was_appended() {
        let meter = Meter::new();
        assert!(meter.fan_out_caught_up("a"));
        meter.count_appended("a");
        meter.count_appended("a");
        meter.count_published("a");
        assert!(!meter.fan_out_caught_up("a"));
        meter.count_published("a");
        assert!(meter.fan_out_caught_up("a"));
    }
}
