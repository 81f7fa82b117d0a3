//! `huddle replay DOMAIN`: rebuild or first populate one domain's read model from the events
//! table of a data folder or of a system on an AWS endpoint, beside a `huddle serve` that may be
//! running on it. Progress about once a second, then a one-line summary.

use crate::target::{SystemTarget, TargetSystem};
use crate::{domain_tables, DomainPorts, Storage};
use huddle_delivery::{replay, Progress, ReplayOptions};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often progress is printed at most.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Segments scanned at once when `--segments` is not given: DynamoDB serves parallel segments
/// from separate partitions; SQLite gains nothing from splitting one file.
const AWS_SEGMENTS: u32 = 4;
const EMBEDDED_SEGMENTS: u32 = 1;

#[derive(clap::Args)]
pub struct ReplayCommand {
    #[command(flatten)]
    target: SystemTarget,
    /// Delete the read model first (checkpoints included), then replay from the start.
    #[arg(long)]
    rebuild: bool,
    /// Scan segments read at once (default 4 on an AWS endpoint, 1 on a data folder). An
    /// interrupted replay resumes with the segments it started with.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(huddle_ports::Segment::MAX_TOTAL)))]
    segments: Option<u32>,
}

impl ReplayCommand {
    pub async fn run(self) -> ExitCode {
        match self.replay().await {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("huddle replay: {error}");
                ExitCode::FAILURE
            }
        }
    }

    async fn replay(self) -> Result<String, String> {
        let TargetSystem { storage, secrets, domain } = self.target.open()?;
        let segments = match &storage {
            Storage::Aws { .. } => AWS_SEGMENTS,
            Storage::Folder(_) | Storage::Memory => EMBEDDED_SEGMENTS,
        };
        let (events_table, read_model) =
            domain_tables(&storage, domain.name()).await.map_err(|error| error.to_string())?;
        let ports = DomainPorts::new(events_table, read_model, &secrets.request_secret);
        let options = ReplayOptions {
            rebuild: self.rebuild,
            segments: self.segments.unwrap_or(segments),
            ..ReplayOptions::default()
        };
        let name = domain.name();
        let last_printed = Mutex::new(Instant::now());
        let print_progress = |progress: &Progress| {
            let mut last = last_printed.lock().expect("progress printer lock");
            if last.elapsed() >= PROGRESS_EVERY {
                *last = Instant::now();
                println!("replaying {name}: {progress}");
            }
        };
        let target = huddle_domain::replay_target(domain.as_ref(), &ports);
        let summary = replay(target, options, print_progress).await.map_err(|error| error.to_string())?;
        Ok(summary_line(name, &summary))
    }
}

/// The line a finished replay ends with.
fn summary_line(domain: &str, summary: &Progress) -> String {
    format!(
        "replayed {domain}: {} items visited, {} events applied to {} streams, {} segments{}, in {:.1} s ({:.0} items/s)",
        summary.visited,
        summary.applied,
        summary.streams,
        summary.segments,
        if summary.resumed { ", resumed" } else { "" },
        summary.elapsed.as_secs_f64(),
        summary.items_per_second(),
    )
}
