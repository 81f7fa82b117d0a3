//! `huddle dead-letters DOMAIN`: a domain's parked streams and dead-lettered messages, and the
//! operator's retry and skip, on a data folder or an AWS endpoint, with the ports `huddle serve`
//! builds for that storage.

use huddle_delivery::{DeadLetter, Listing, RetryReport, SkipReport, StreamRetry};
use huddle_runner::target::{SystemTarget, TargetSystem};
use huddle_runner::Settings;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DeadLetters {
    #[command(flatten)]
    target: SystemTarget,
    /// Unpark every parked stream and redrive every dead-lettered message.
    #[arg(long, conflicts_with = "skip")]
    retry: bool,
    /// Move a parked stream past the event it is parked at.
    #[arg(long, value_name = "STREAM@VERSION", value_parser = parse_target, requires = "reason")]
    skip: Option<(String, u64)>,
    /// Why the event is skipped; kept with the skip.
    #[arg(long, value_name = "TEXT", requires = "skip")]
    reason: Option<String>,
    /// Who decides the skip (default: $USER).
    #[arg(long, value_name = "NAME", requires = "skip")]
    by: Option<String>,
}

/// `STREAM@VERSION`, split at the last `@` (stream ids hold none, but a version never does).
fn parse_target(text: &str) -> Result<(String, u64), String> {
    let (stream, version) = text.rsplit_once('@').ok_or_else(|| format!("{text:?} is not STREAM@VERSION"))?;
    let version = version
        .parse::<u64>()
        .ok()
        .filter(|version| *version > 0)
        .ok_or_else(|| format!("{version:?} is not a version (1, 2, 3 …)"))?;
    if stream.is_empty() {
        return Err(format!("{text:?} names no stream"));
    }
    Ok((stream.to_owned(), version))
}

pub async fn run(arguments: DeadLetters) -> ExitCode {
    match operate(arguments).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("huddle: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn operate(arguments: DeadLetters) -> Result<(), String> {
    let TargetSystem { storage, domain, .. } = arguments.target.open()?;
    let max_receives = Settings::new(storage.clone(), 0).max_receives;
    let operations = huddle_runner::operations(&storage, domain.as_ref(), max_receives)
        .await
        .map_err(|error| error.to_string())?;
    let name = domain.name();
    if arguments.retry {
        print_retry(name, &operations.retry().await.map_err(|e| e.to_string())?);
    } else if let Some((stream, version)) = arguments.skip {
        let reason = arguments.reason.unwrap_or_default();
        let by = arguments.by.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into());
        let report = operations.skip(&stream, version, &reason, &by).await.map_err(|e| e.to_string())?;
        print_skip(&report);
    } else {
        print_listing(name, &operations.list().await.map_err(|e| e.to_string())?);
    }
    Ok(())
}

/// Rows under a header, each column as wide as its widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .chain([header[column].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut text = line(header.to_vec());
    for row in rows {
        text.push('\n');
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}

fn dead_letter_row(message: &DeadLetter) -> Vec<String> {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    vec![
        message.message_id.clone(),
        or_dash(message.stream.clone()),
        or_dash(message.version.map(|v| v.to_string())),
        or_dash(message.event_type.clone()),
        message.receive_count.to_string(),
    ]
}

const DEAD_LETTER_HEADER: [&str; 5] = ["MESSAGE", "STREAM", "VERSION", "EVENT TYPE", "RECEIVES"];

fn print_listing(domain: &str, listing: &Listing) {
    println!("parked streams of {domain}: {}", listing.parked.len());
    if !listing.parked.is_empty() {
        let rows: Vec<Vec<String>> = listing
            .parked
            .iter()
            .map(|p| {
                vec![
                    p.stream.clone(),
                    p.parked.version.to_string(),
                    p.parked.since.clone(),
                    p.parked.error.clone(),
                ]
            })
            .collect();
        println!("{}", table(&["STREAM", "VERSION", "SINCE", "ERROR"], &rows));
    }
    println!("\ndead-lettered messages of {domain}: {}", listing.dead_letters.len());
    if !listing.dead_letters.is_empty() {
        let rows: Vec<Vec<String>> = listing.dead_letters.iter().map(dead_letter_row).collect();
        println!("{}", table(&DEAD_LETTER_HEADER, &rows));
    }
}

fn stream_row(retry: &StreamRetry) -> Vec<String> {
    match retry {
        StreamRetry::CaughtUp { stream, version } => {
            vec![stream.clone(), format!("caught up to {version}"), String::new()]
        }
        StreamRetry::ParkedAgain(parked) => {
            vec![
                parked.stream.clone(),
                format!("parked again at {}", parked.parked.version),
                parked.parked.error.clone(),
            ]
        }
    }
}

fn print_retry(domain: &str, report: &RetryReport) {
    println!("unparked streams of {domain}: {}", report.streams.len());
    if !report.streams.is_empty() {
        let rows: Vec<Vec<String>> = report.streams.iter().map(stream_row).collect();
        println!("{}", table(&["STREAM", "NOW", "ERROR"], &rows));
    }
    println!(
        "\ndead-lettered messages redriven: {}, still dead: {}",
        report.redriven,
        report.still_dead.len()
    );
    if !report.still_dead.is_empty() {
        let mut header = DEAD_LETTER_HEADER.to_vec();
        header.push("ERROR");
        let rows: Vec<Vec<String>> = report
            .still_dead
            .iter()
            .map(|failed| {
                let mut row = dead_letter_row(&failed.message);
                row.push(failed.error.clone());
                row
            })
            .collect();
        println!("{}", table(&header, &rows));
    }
}

fn print_skip(report: &SkipReport) {
    let skip = &report.skip;
    println!("skipped {}@{} ({}, by {} at {})", skip.stream, skip.version, skip.reason, skip.by, skip.at);
    println!("{}", table(&["STREAM", "NOW", "ERROR"], &[stream_row(&report.stream)]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_at_the_last_at_sign_and_need_a_positive_version() {
        assert_eq!(parse_target("account#acc_1@3"), Ok(("account#acc_1".into(), 3)));
        assert_eq!(parse_target("odd@name@12"), Ok(("odd@name".into(), 12)));
        for bad in ["account#acc_1", "account#acc_1@0", "account#acc_1@x", "@4", "account#acc_1@-1"] {
            assert!(parse_target(bad).is_err(), "{bad} was taken");
        }
    }

    #[test]
    fn tables_align_every_column_to_its_widest_cell() {
        let rows = vec![vec!["a".to_owned(), "1".to_owned()], vec!["longer".to_owned(), "22".to_owned()]];
        assert_eq!(table(&["NAME", "N"], &rows), "NAME    N\na       1\nlonger  22");
    }
}
