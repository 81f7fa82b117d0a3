//! The index of recently appended streams, for the sweeper that heals streams whose last event
//! never reached a projection (dead-lettered, or its fan-out gave up).
//!
//! Every append writes, in its own transaction, one item per stream it touches under the hour it
//! was appended in: `pk = appended#<yyyy-mm-ddThh>#<shard>`, `sk = <stream id>`, holding the
//! stream type and the time of the stream's latest append. An hour is spread over
//! [`APPENDED_SHARDS`] partitions by a hash of the stream id, so no partition takes more than a
//! sixteenth of the write rate. Items expire after [`APPENDED_RETENTION`]: the sweeper looks
//! back hours, not weeks.

use crate::store::{AppendError, EventStore};
use huddle_ports::{Condition, Item, Key, Query, TransactWrite, EXPIRES_AT};
use serde_json::{json, Value};
use std::time::Duration;
use time::OffsetDateTime;

/// The partitions one hour of the index is spread over.
pub const APPENDED_SHARDS: u8 = 16;

/// How long an index item stays before DynamoDB's TTL may sweep it.
pub const APPENDED_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

pub(crate) const APPENDED_PREFIX: &str = "appended#";

const KIND_APPENDED: &str = "appended";

/// One stream appended to within an hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendedStream {
    pub stream: String,
    pub stream_type: String,
    /// The Unix time (seconds) of the stream's latest append in that hour.
    pub appended_at: i64,
}

/// A page of the index: the streams and where to resume.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppendedPage {
    pub streams: Vec<AppendedStream>,
    pub next: Option<Key>,
}

/// The start of the hour `at` falls in.
pub fn hour_of(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_minute(0).and_then(|t| t.replace_second(0)).and_then(|t| t.replace_nanosecond(0)).unwrap_or(at)
}

fn partition(hour: OffsetDateTime, shard: u8) -> String {
    let hour = hour_of(hour);
    format!(
        "{APPENDED_PREFIX}{:04}-{:02}-{:02}T{:02}#{shard:02}",
        hour.year(),
        u8::from(hour.month()),
        hour.day(),
        hour.hour()
    )
}

fn shard_of(stream: &str) -> u8 {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, stream.as_bytes());
    digest.as_ref()[0] % APPENDED_SHARDS
}

/// The index write for one stream of an append made at `now`. Unconditional: a later append in
/// the same hour only moves its time.
pub(crate) fn index_write(stream: &str, stream_type: &str, now: OffsetDateTime) -> TransactWrite {
    let record = json!({
        "pk": partition(now, shard_of(stream)),
        "sk": stream,
        "kind": KIND_APPENDED,
        "stream_type": stream_type,
        "appended_at": now.unix_timestamp(),
        EXPIRES_AT: (now + APPENDED_RETENTION).unix_timestamp(),
    });
    let Value::Object(item) = record else { unreachable!("a JSON object") };
    TransactWrite::Put { item, condition: Condition::Always }
}

fn from_item(item: &Item) -> Option<AppendedStream> {
    Some(AppendedStream {
        stream: item.get("sk")?.as_str()?.to_owned(),
        stream_type: item.get("stream_type")?.as_str()?.to_owned(),
        appended_at: item.get("appended_at")?.as_i64()?,
    })
}

impl EventStore {
    /// One page of the streams appended to in `hour` (any time within it) on index `shard`
    /// (below [`APPENDED_SHARDS`]); pass `next` back to continue.
    pub async fn appended_streams(
        &self,
        hour: OffsetDateTime,
        shard: u8,
        after: Option<Key>,
        limit: usize,
    ) -> Result<AppendedPage, AppendError> {
        let query = Query::new(partition(hour, shard)).limit(limit).after(after);
        let page = self.table().query(&query).await?;
        let streams = page.items.iter().filter_map(from_item).collect();
        Ok(AppendedPage { streams, next: page.next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn an_hour_is_one_partition_per_shard() {
        let at = datetime!(2026-12-02 13:59:59.9 UTC);
        assert_eq!(partition(at, 7), "appended#2026-12-02T13#07");
        assert_eq!(partition(datetime!(2026-12-02 13:00 UTC), 7), partition(at, 7));
        assert_ne!(partition(datetime!(2026-12-02 14:00 UTC), 7), partition(at, 7));
    }

    #[test]
    fn streams_spread_over_every_shard() {
        let shards: std::collections::HashSet<u8> =
            (0..500).map(|i| shard_of(&format!("note#{i}"))).collect();
        assert_eq!(shards.len(), usize::from(APPENDED_SHARDS));
    }
}
