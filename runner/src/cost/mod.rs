//! `huddle cost`: what each user action costs on AWS, measured on a running system from the
//! requests it makes ([`huddle_metering`]), and the same measurement for the cost guards.
//!
//! A [`MeteredSystem`] runs the system with a meter and its queue mappings held. Measuring an
//! action sends its one request with a fresh correlation id, waits until the fan-out has
//! published every event the action appended, then steps the queue mappings (each worker begins
//! at least one receive and delivers what it got; a worker that found nothing may poll again,
//! charged to `background`) until a step adds nothing to the action's usage: so each action is
//! counted alone and in the same batches whatever the timing, its asynchronous tail included.

pub mod command;
pub mod report;
pub mod workload;

use crate::mappings::PausedDeliveries;
use crate::{start, QueuePolling, Running, Settings, StartError};
use huddle_domain::Domain;
use huddle_metering::{Meter, Usage};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an action's fan-out may take to publish what it appended.
const FAN_OUT_DEADLINE: Duration = Duration::from_secs(10);

/// Steps of the queue mappings after which an action's tail must have settled.
const MAX_STEPS: usize = 20;

/// How long one step may take: a worker that has ended (its projector panicked) never begins
/// another receive, and the measurement fails instead of waiting for ever.
const STEP_DEADLINE: Duration = Duration::from_secs(30);

/// One request, answered and measured.
#[derive(Debug, Clone)]
pub struct Measured {
    pub status: StatusCode,
    pub body: Value,
    /// Everything the request cost, its asynchronous tail included.
    pub usage: Usage,
}

/// A running system whose every call is metered, its queue mappings stepped by [`measure`].
///
/// [`measure`]: MeteredSystem::measure
pub struct MeteredSystem {
    running: Running,
    meter: Meter,
    deliveries: PausedDeliveries,
    client: reqwest::Client,
    measured: u64,
}

impl MeteredSystem {
    /// `domains` on `settings`' storage, metered: one queue worker per domain, receives that
    /// never wait (every receive is a step), and no scheduled sweep within a measurement.
    pub async fn start(mut settings: Settings, domains: Vec<Arc<dyn Domain>>) -> Result<Self, StartError> {
        let meter = Meter::new();
        settings.meter = Some(meter.clone());
        settings.polling = QueuePolling {
            batch_size: 10,
            visibility_timeout: Duration::from_secs(30),
            concurrency: 1,
            wait: Duration::ZERO,
        };
        settings.sweep_interval = Duration::from_secs(24 * 60 * 60);
        let running = start(settings, domains).await?;
        let deliveries = running.pause_deliveries().await;
        Ok(Self { running, meter, deliveries, client: reqwest::Client::new(), measured: 0 })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    /// Sends `request` as one action and returns its answer and everything it cost.
    pub async fn measure(&mut self, request: RequestBuilder) -> Result<Measured, String> {
        self.measured += 1;
        let correlation_id = format!("measured-{}", self.measured);
        let response = request
            .header("x-correlation-id", &correlation_id)
            .send()
            .await
            .map_err(|error| format!("the runner did not answer: {error}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|error| format!("the answer broke off: {error}"))?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        let mut usage = self.meter.usage_of(&correlation_id);
        for _ in 0..MAX_STEPS {
            self.fan_out_caught_up(&correlation_id).await?;
            tokio::time::timeout(STEP_DEADLINE, self.deliveries.step())
                .await
                .map_err(|_| format!("a queue mapping did not take its step within {STEP_DEADLINE:?}"))?;
            let after = self.meter.usage_of(&correlation_id);
            if after == usage {
                return Ok(Measured { status, body, usage });
            }
            usage = after;
        }
        Err(format!("the action's deliveries still went on after {MAX_STEPS} steps"))
    }

    async fn fan_out_caught_up(&self, correlation_id: &str) -> Result<(), String> {
        let deadline = Instant::now() + FAN_OUT_DEADLINE;
        while !self.meter.fan_out_caught_up(correlation_id) {
            if Instant::now() > deadline {
                return Err(format!(
                    "the fan-out did not publish the events of {correlation_id} within {FAN_OUT_DEADLINE:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(())
    }

    pub async fn shutdown(self) {
        drop(self.deliveries);
        self.running.shutdown().await;
    }
}
