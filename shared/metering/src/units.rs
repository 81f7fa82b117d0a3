//! How AWS turns a request into billed units, as its pricing pages and the DynamoDB developer
//! guide describe them. Pure functions of sizes and durations; `prices` turns units into dollars.

use std::time::Duration;

/// DynamoDB reads are billed per 4 KB of the items read, rounded up once per request (a query or
/// scan page sums its items first); a read that finds nothing still costs the minimum.
pub const READ_UNIT_BYTES: usize = 4 * 1024;

/// DynamoDB writes are billed per 1 KB of each item written, rounded up per item.
pub const WRITE_UNIT_BYTES: usize = 1024;

/// SNS and SQS bill every 64 KB of a request's payload as one request.
pub const MESSAGING_CHUNK_BYTES: usize = 64 * 1024;

/// API Gateway's HTTP APIs meter requests in 512 KB increments.
pub const HTTP_API_CHUNK_BYTES: usize = 512 * 1024;

/// Read request units of one strongly consistent request that read `bytes` of items (every read
/// Huddle makes is strongly consistent: both table adapters set `ConsistentRead`).
pub fn read_units(bytes: usize) -> f64 {
    bytes.div_ceil(READ_UNIT_BYTES).max(1) as f64
}

/// Write request units of writing one item of `bytes` outside a transaction; a transaction bills
/// twice this per item (DynamoDB's two-phase commit).
pub fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(WRITE_UNIT_BYTES).max(1) as f64
}

/// How many requests SNS or SQS bills for one call carrying `bytes` of messages.
pub fn messaging_requests(bytes: usize) -> f64 {
    bytes.div_ceil(MESSAGING_CHUNK_BYTES).max(1) as f64
}

/// How many requests an HTTP API bills for one request and its response of `bytes` together.
pub fn http_api_requests(bytes: usize) -> f64 {
    bytes.div_ceil(HTTP_API_CHUNK_BYTES).max(1) as f64
}

/// The GB-seconds Lambda bills for one invocation: the duration rounded up to the millisecond,
/// times the configured memory.
pub fn gigabyte_seconds(duration: Duration, memory_mb: u32) -> f64 {
    let billed_ms = duration.as_micros().div_ceil(1000).max(1) as f64;
    billed_ms / 1000.0 * f64::from(memory_mb) / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamodb_rounds_reads_to_4_kb_and_writes_to_1_kb_with_a_minimum_of_one() {
        assert_eq!(read_units(0), 1.0, "a read that finds nothing still costs a unit");
        assert_eq!(read_units(3_500), 1.0);
        assert_eq!(read_units(4_096), 1.0);
        assert_eq!(read_units(4_097), 2.0);
        assert_eq!(read_units(10 * 1024), 3.0, "10 KB reads as 12 KB");
        assert_eq!(write_units(0), 1.0);
        assert_eq!(write_units(500), 1.0);
        assert_eq!(write_units(1_025), 2.0);
        assert_eq!(write_units(24 * 1024), 24.0);
    }

    #[test]
    fn messaging_bills_each_64_kb_and_http_apis_each_512_kb() {
        assert_eq!(messaging_requests(1), 1.0);
        assert_eq!(messaging_requests(64 * 1024), 1.0);
        assert_eq!(messaging_requests(64 * 1024 + 1), 2.0);
        assert_eq!(messaging_requests(256 * 1024), 4.0, "a full publish batch is four requests");
        assert_eq!(http_api_requests(0), 1.0);
        assert_eq!(http_api_requests(512 * 1024 + 1), 2.0);
    }

    #[test]
    fn lambda_bills_whole_milliseconds_times_memory() {
        assert_eq!(gigabyte_seconds(Duration::from_micros(1), 1024), 0.001);
        assert_eq!(gigabyte_seconds(Duration::from_micros(1_500), 1024), 0.002);
        assert_eq!(gigabyte_seconds(Duration::from_secs(1), 512), 0.5);
    }
}
