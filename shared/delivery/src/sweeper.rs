//! The sweeper: finds streams whose newest events never reached the projection and delivers
//! them from the log. Gap healing repairs a stream when a later event of it arrives; the sweeper
//! repairs the stream whose *last* event was lost (dead-lettered, or its fan-out gave up), which
//! nothing else would ever ring for.
//!
//! It reads the event store's index of recently appended streams (written in each append's own
//! transaction), keeps the streams whose type the domain's subscription takes, and compares each
//! one's head with the projection's checkpoint. What is behind is applied through the
//! version-gated projector, so a sweep racing live delivery cannot apply anything twice. A sweep
//! also drains the projector's outbox. A sweep
//! also drains the projector's outbox.

use crate::{Projector, ProjectorError, CATCH_UP_WINDOW};
use futures::StreamExt;
use huddle_eventstore::{attribute, hour_of, AppendedStream, EventStore, APPENDED_SHARDS};
use huddle_ports::FilterPolicy;
use std::time::Duration;
use time::OffsetDateTime;

/// Streams appended to more recently than this are left to live delivery, which is likely
/// still under way.
pub const SETTLE_TIME: Duration = Duration::from_secs(60);

/// How often a deployment sweeps (template.yaml's schedule; the runner's default).
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// How far back each sweep looks: three intervals, so a sweep that did not run is made up for.
pub const SWEEP_LOOKBACK: Duration = Duration::from_secs(30 * 60);

/// Streams checked at once.
const CONCURRENT_STREAMS: usize = 8;

const INDEX_PAGE: usize = 500;

/// What one sweep found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Streams of the subscribed types that were checked.
    pub checked: usize,
    /// Streams whose projection was behind their head.
    pub behind: usize,
    /// Streams the sweep brought up to date (or as far as their subscribed events go).
    pub healed: usize,
}

pub struct Sweeper {
    projector: Projector,
    events: EventStore,
    consumes: FilterPolicy,
    settle: Duration,
}

impl Sweeper {
    /// A sweeper for the projection `projector` runs, fed by the subscription `consumes`.
    pub fn new(projector: Projector, events: EventStore, consumes: FilterPolicy) -> Self {
        Self { projector, events, consumes, settle: SETTLE_TIME }
    }

    /// Leave streams appended to within `settle` of the sweep to live delivery.
    pub fn with_settle_time(self, settle: Duration) -> Self {
        Self { settle, ..self }
    }

    /// Check every stream last appended to from `lookback` before `now` until the settle time
    /// before it, and deliver from the log what the projection lacks. Sweeps every
    /// [`SWEEP_INTERVAL`] looking back [`SWEEP_LOOKBACK`] check each stream a few times after
    /// its last append, and never again.
    /// Effects the projector's outbox still holds go out first, so they wait for a sweep at
    /// most even when no delivery comes to drain them.
    pub async fn sweep(
        &self,
        now: OffsetDateTime,
        lookback: Duration,
    ) -> Result<SweepReport, ProjectorError> {
        self.projector.dispatcher().drain_or_log().await;
        let settled = (now - lookback).unix_timestamp()..(now - self.settle).unix_timestamp();
        let mut report = SweepReport::default();
        let mut hour = hour_of(now - lookback);
        while hour <= now {
            for shard in 0..APPENDED_SHARDS {
                let mut after = None;
                loop {
                    let page = self.events.appended_streams(hour, shard, after, INDEX_PAGE).await?;
                    let candidates = page.streams.into_iter().filter(|appended| {
                        settled.contains(&appended.appended_at)
                            && self.consumes.may_match(attribute::STREAM_TYPE, &appended.stream_type)
                    });
                    let mut checks = futures::stream::iter(candidates)
                        .map(|appended| self.heal(appended))
                        .buffer_unordered(CONCURRENT_STREAMS);
                    while let Some(outcome) = checks.next().await {
                        let (was_behind, healed) = outcome?;
                        report.checked += 1;
                        report.behind += usize::from(was_behind);
                        report.healed += usize::from(healed);
                    }
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
            }
            hour += time::Duration::HOUR;
        }
        if report.behind > 0 {
            tracing::warn!(
                checked = report.checked,
                behind = report.behind,
                healed = report.healed,
                "sweep healed streams"
            );
        }
        Ok(report)
    }

    /// Bring one stream's projection up to its head, window by window, applying the windows that
    /// hold an event the subscription delivers (the projector reads any earlier gap itself).
    /// Returns whether it was behind and whether it applied anything.
    async fn heal(&self, appended: AppendedStream) -> Result<(bool, bool), ProjectorError> {
        let stream = appended.stream.as_str();
        let (checkpoint, head) = tokio::try_join!(self.projector.checkpoint(stream), async {
            self.events.head(stream).await.map_err(ProjectorError::from)
        })?;
        if head <= checkpoint {
            return Ok((false, false));
        }
        let mut healed = false;
        let mut from = checkpoint + 1;
        while from <= head {
            let until = head.min(from + CATCH_UP_WINDOW - 1);
            let window = self.events.read_stream(stream, from..=until).await?;
            if window.iter().any(|event| self.consumes.matches(&event.message_attributes())) {
                self.projector.apply_stream(window).await?;
                healed = true;
            }
            from = until + 1;
        }
        Ok((true, healed))
    }
}
