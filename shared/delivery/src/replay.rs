//! Replay: rebuild, or first populate, one domain's read model from the events table while live
//! traffic flows. The table is scanned in segments (in parallel), page by page; only the events
//! the domain's subscription lets through are decoded and applied, through the same
//! version-gated projector live delivery uses, so the two cannot double-apply. After each page
//! the segment's position is recorded in the read table, so an interrupted replay resumes there.

use crate::{Projection, Projector, ProjectorError};
use huddle_eventstore::{AppendError, Envelope, EventStore, ScannedEvent};
use huddle_ports::{FilterPolicy, Item, Key, Query, Scan, Segment, Table, TableError};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The partition of a read table that holds a replay's positions, one item per segment.
pub const REPLAY_POSITION_PK: &str = "replay#position";

/// How many streams of one page are applied at once.
const STREAMS_AT_ONCE: usize = 16;

/// What a replay rebuilds: a domain's projection and read table, the events, and the domain's
/// subscription.
#[derive(Clone)]
pub struct ReplayTarget {
    pub projection: Arc<dyn Projection>,
    pub read_model: Arc<dyn Table>,
    pub events: EventStore,
    pub consumes: FilterPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Delete the read model's items (checkpoints and positions included) first, then replay
    /// from the start.
    pub rebuild: bool,
    /// Segments scanned at once; an unfinished replay resumes with the count it started with.
    pub segments: u32,
    /// Items one scan page reads at most.
    pub page_size: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self { rebuild: false, segments: 1, page_size: 500 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("read model: {0}")]
    ReadModel(#[from] TableError),
    #[error("event store: {0}")]
    EventStore(#[from] AppendError),
    #[error(transparent)]
    Projector(#[from] ProjectorError),
    #[error("corrupt replay position {0}")]
    CorruptPosition(String),
    #[error("cannot replay: {0}")]
    Options(String),
}

/// How far a replay has come; counts include what an interrupted earlier run of it did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Progress {
    /// Items of the events table visited, events or not.
    pub visited: u64,
    /// Events handed to the projector (those live delivery had applied are skipped there).
    pub applied: u64,
    /// Streams events were applied to.
    pub streams: u64,
    /// About how many items the events table holds, for the ETA.
    pub estimated_items: u64,
    /// Segments of the scan.
    pub segments: u32,
    /// Whether this run continued an interrupted one.
    pub resumed: bool,
    /// Time this run has taken so far.
    pub elapsed: Duration,
    /// Items this run visited (the rate's numerator: earlier runs' items took no time here).
    visited_now: u64,
}

impl Progress {
    /// Items visited per second by this run.
    pub fn items_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.visited_now as f64 / seconds
        } else {
            0.0
        }
    }

    /// Time left at this run's rate, until the estimated item count is visited.
    pub fn eta(&self) -> Option<Duration> {
        let rate = self.items_per_second();
        let left = self.estimated_items.saturating_sub(self.visited);
        (rate > 0.0).then(|| Duration::from_secs_f64(left as f64 / rate))
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of ~{} items visited, {} events applied to {} streams, {:.0} items/s",
            self.visited,
            self.estimated_items,
            self.applied,
            self.streams,
            self.items_per_second()
        )?;
        match self.eta() {
            Some(eta) => write!(f, ", ETA {:.0} s", eta.as_secs_f64().ceil()),
            None => Ok(()),
        }
    }
}

/// Replays `target` as `options` say, calling `on_progress` after every page, and returns the
/// final progress once every segment is complete. Its recorded positions are then removed, so
/// the next replay starts over.
pub async fn replay(
    target: ReplayTarget,
    options: ReplayOptions,
    on_progress: impl Fn(&Progress) + Send + Sync,
) -> Result<Progress, ReplayError> {
    let started = Instant::now();
    let positions = Positions { table: target.read_model.clone() };
    if options.rebuild {
        delete_everything(target.read_model.as_ref()).await?;
    }
    let recorded = positions.load().await?;
    let total = recorded.first().map_or(options.segments.max(1), |(segment, _)| segment.total());
    let mut progress = Progress {
        estimated_items: target.events.approximate_item_count().await?,
        segments: total,
        resumed: !recorded.is_empty(),
        ..Progress::default()
    };
    let mut starts = Vec::new();
    for segment in Segment::all(total).map_err(|error| ReplayError::Options(error.to_string()))? {
        let position = recorded.iter().find(|(recorded, _)| *recorded == segment).map(|(_, p)| p.clone());
        let position = position.unwrap_or_default();
        progress.visited += position.visited;
        progress.applied += position.applied;
        progress.streams += position.streams;
        starts.push((segment, position));
    }
    let run = Run {
        projector: replay_projector(&target),
        events: target.events.clone(),
        consumes: target.consumes.clone(),
        positions: positions.clone(),
        page_size: options.page_size.max(1),
        progress: Mutex::new(progress),
        started,
        on_progress: &on_progress,
    };
    futures::future::try_join_all(
        starts.into_iter().map(|(segment, position)| run.segment(segment, position)),
    )
    .await?;
    positions.clear().await?;
    let mut summary = *run.progress.lock().expect("progress lock");
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The one place a replay builds its projector: what it applies must never repeat a side effect
/// live delivery performed, so its effects are muted.
fn replay_projector(target: &ReplayTarget) -> Projector {
    // A replay re-applies history: what it would send went out when the events were new.
    Projector::new(target.projection.clone(), target.read_model.clone(), target.events.clone())
        .with_effects_muted()
}

/// One replay's shared state, borrowed by its segments.
struct Run<'a, F> {
    projector: Projector,
    events: EventStore,
    consumes: FilterPolicy,
    positions: Positions,
    page_size: usize,
    progress: Mutex<Progress>,
    started: Instant,
    on_progress: &'a F,
}

impl<F: Fn(&Progress) + Send + Sync> Run<'_, F> {
    async fn segment(&self, segment: Segment, mut position: Position) -> Result<(), ReplayError> {
        while !position.done {
            let scan = Scan::default().segment(segment).limit(self.page_size).after(position.after.clone());
            let page = self.events.scan(&scan).await?;
            let streams = self.selected(page.events)?;
            let applied: usize = streams.iter().map(|(_, envelopes)| envelopes.len()).sum();
            // A stream's events are together in a segment's scan: only the first stream of a
            // page can be the last one of the page before.
            let new_streams =
                streams.iter().filter(|(stream, _)| position.last_stream.as_ref() != Some(stream)).count();
            if let Some((stream, _)) = streams.last() {
                position.last_stream = Some(stream.clone());
            }
            self.apply(streams).await?;

            position.after = page.next;
            position.done = position.after.is_none();
            position.visited += page.visited as u64;
            position.applied += applied as u64;
            position.streams += new_streams as u64;
            self.positions.record(segment, &position).await?;

            let snapshot = {
                let mut progress = self.progress.lock().expect("progress lock");
                progress.visited += page.visited as u64;
                progress.visited_now += page.visited as u64;
                progress.applied += applied as u64;
                progress.streams += new_streams as u64;
                progress.elapsed = self.started.elapsed();
                *progress
            };
            (self.on_progress)(&snapshot);
        }
        Ok(())
    }

    /// The events of a page to apply, by stream in page order: every event of a stream up to
    /// its newest the subscription lets through, since the projector applies each version
    /// before the next (live delivery heals the same gaps from the log); nothing of a stream
    /// the subscription skips is decoded.
    fn selected(&self, events: Vec<ScannedEvent>) -> Result<Vec<(String, Vec<Envelope>)>, ReplayError> {
        let mut newest_wanted: HashMap<String, u64> = HashMap::new();
        for event in events.iter().filter(|event| self.consumes.matches(&event.attributes)) {
            let newest = newest_wanted.entry(event.stream.clone()).or_default();
            *newest = (*newest).max(event.version);
        }
        let mut streams: Vec<(String, Vec<Envelope>)> = Vec::new();
        for event in events {
            if newest_wanted.get(&event.stream).is_none_or(|&newest| event.version > newest) {
                continue;
            }
            let envelope =
                event.decode().map_err(|e| AppendError::Unavailable(format!("corrupt event: {e}")))?;
            match streams.last_mut() {
                Some((stream, envelopes)) if *stream == envelope.stream => envelopes.push(envelope),
                _ => streams.push((envelope.stream.clone(), vec![envelope])),
            }
        }
        Ok(streams)
    }

    async fn apply(&self, streams: Vec<(String, Vec<Envelope>)>) -> Result<(), ReplayError> {
        use futures::TryStreamExt;
        futures::stream::iter(streams.into_iter().map(|(_, envelopes)| Ok::<_, ReplayError>(envelopes)))
            .try_for_each_concurrent(STREAMS_AT_ONCE, |envelopes| async move {
                Ok(self.projector.apply_stream(envelopes).await?)
            })
            .await?;
        Ok(())
    }
}

/// Where one segment of a replay stands.
#[derive(Debug, Clone, Default, PartialEq)]
struct Position {
    /// The scan key of its last completed page; `None` before the first.
    after: Option<Key>,
    done: bool,
    visited: u64,
    applied: u64,
    streams: u64,
    /// The last stream events were applied to, which the next page may continue.
    last_stream: Option<String>,
}

/// The positions of a replay in the read table: `pk = REPLAY_POSITION_PK`, one item per segment.
#[derive(Clone)]
struct Positions {
    table: Arc<dyn Table>,
}

impl Positions {
    fn key(segment: Segment) -> Key {
        Key::new(REPLAY_POSITION_PK, format!("segment#{:07}#of#{:07}", segment.index(), segment.total()))
    }

    async fn record(&self, segment: Segment, position: &Position) -> Result<(), ReplayError> {
        let key = Self::key(segment);
        let record = json!({
            "pk": key.pk,
            "sk": key.sk,
            "segment": segment.index(),
            "total_segments": segment.total(),
            "after": position.after.as_ref().map(|after| json!({ "pk": after.pk, "sk": after.sk })),
            "done": position.done,
            "visited": position.visited,
            "applied": position.applied,
            "streams": position.streams,
            "last_stream": position.last_stream,
        });
        let Value::Object(item) = record else { unreachable!("a JSON object") };
        self.table.put(item, huddle_ports::Condition::Always).await?;
        Ok(())
    }

    /// The recorded positions of an unfinished replay, all of one segment count (the first
    /// recorded one's: a replay resumes with the segments it started with).
    async fn load(&self) -> Result<Vec<(Segment, Position)>, ReplayError> {
        let items = self.items().await?;
        let positions = items.iter().map(parse_position).collect::<Result<Vec<_>, _>>()?;
        let Some(total) = positions.first().map(|(segment, _)| segment.total()) else {
            return Ok(Vec::new());
        };
        Ok(positions.into_iter().filter(|(segment, _)| segment.total() == total).collect())
    }

    async fn clear(&self) -> Result<(), ReplayError> {
        for item in self.items().await? {
            let key = Key::of(&item).ok_or_else(|| ReplayError::CorruptPosition(format!("{item:?}")))?;
            self.table.delete(&key, huddle_ports::Condition::Always).await?;
        }
        Ok(())
    }

    async fn items(&self) -> Result<Vec<Item>, ReplayError> {
        let mut items = Vec::new();
        let mut after = None;
        loop {
            let page = self.table.query(&Query::new(REPLAY_POSITION_PK).after(after)).await?;
            items.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(items),
            }
        }
    }
}

fn parse_position(item: &Item) -> Result<(Segment, Position), ReplayError> {
    let corrupt = || ReplayError::CorruptPosition(format!("{:?}", Key::of(item)));
    let number = |name: &str| item.get(name).and_then(Value::as_u64).ok_or_else(corrupt);
    let index = u32::try_from(number("segment")?).map_err(|_| corrupt())?;
    let total = u32::try_from(number("total_segments")?).map_err(|_| corrupt())?;
    let segment = Segment::new(index, total).map_err(|_| corrupt())?;
    let after = match item.get("after") {
        None | Some(Value::Null) => None,
        Some(after) => Some(serde_json::from_value::<Key>(after.clone()).map_err(|_| corrupt())?),
    };
    let done = item.get("done").and_then(Value::as_bool).ok_or_else(corrupt)?;
    let last_stream = match item.get("last_stream") {
        None | Some(Value::Null) => None,
        Some(stream) => Some(stream.as_str().ok_or_else(corrupt)?.to_owned()),
    };
    let position = Position {
        after,
        done,
        visited: number("visited")?,
        applied: number("applied")?,
        streams: number("streams")?,
        last_stream,
    };
    Ok((segment, position))
}

/// Deletes every item of `table`, in one pass over what it held when the pass began.
async fn delete_everything(table: &dyn Table) -> Result<(), ReplayError> {
    use futures::TryStreamExt;
    let mut after = None;
    loop {
        let page = table.scan(&Scan::default().limit(100).after(after)).await?;
        futures::stream::iter(page.items.iter().filter_map(Key::of).map(Ok::<_, TableError>))
            .try_for_each_concurrent(STREAMS_AT_ONCE, |key| async move {
                table.delete(&key, huddle_ports::Condition::Always).await
            })
            .await?;
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_rates_this_runs_items_and_estimates_what_is_left() {
        let progress = Progress {
            visited: 150,
            applied: 40,
            streams: 4,
            estimated_items: 250,
            segments: 2,
            resumed: true,
            elapsed: Duration::from_secs(2),
            // 50 of the 150 were visited by the interrupted run before this one.
            visited_now: 100,
        };
        assert_eq!(progress.items_per_second(), 50.0);
        assert_eq!(progress.eta(), Some(Duration::from_secs(2)));
        assert_eq!(
            progress.to_string(),
            "150 of ~250 items visited, 40 events applied to 4 streams, 50 items/s, ETA 2 s"
        );
        let started = Progress { elapsed: Duration::ZERO, ..Progress::default() };
        assert_eq!((started.items_per_second(), started.eta()), (0.0, None));
    }
}
