//! What the bench binaries share: how a set of timings is reported.

use std::time::Duration;

/// "p50 … ms, p90 … ms, p99 … ms, max … ms (n samples)" of `samples` (nearest rank).
pub fn summary(mut samples: Vec<Duration>) -> String {
    assert!(!samples.is_empty(), "no samples to summarize");
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        samples.len()
    )
}
