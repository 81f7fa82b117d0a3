//! `huddle cost [--users N] [--price NAME=USD]... [--json] [--aws-endpoint URL]`: runs a day of a
//! small network (every action of [`Action`]) on the embedded runner in memory (or on an AWS
//! endpoint), measures each action, and prints what it costs.
//!
//! [`Action`]: super::workload::Action

use super::report::{report, table};
use super::workload::a_day;
use super::MeteredSystem;
use crate::{LocalSecrets, Settings, Storage};
use huddle_accounts::ThrottleSettings;
use huddle_domain::throttle::Limit;
use huddle_metering::Prices;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct CostCommand {
    /// People in the day's network (at least 3).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(3..=1000))]
    users: u32,
    /// Override one price (dollars per unit), e.g. `dynamodb_read_request_unit=0.00000025`;
    /// repeat for more. The names are the fields of `huddle_metering::Prices`.
    #[arg(long = "price", value_name = "NAME=USD", value_parser = parse_price)]
    prices: Vec<(String, f64)>,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Measure on the AWS adapters against this endpoint (an emulator such as moto) instead of
    /// the embedded store in memory; the counts are the same.
    #[arg(long, value_name = "URL")]
    aws_endpoint: Option<String>,
}

fn parse_price(text: &str) -> Result<(String, f64), String> {
    let (name, usd) = text.split_once('=').ok_or("a price is NAME=USD")?;
    let usd: f64 = usd.parse().map_err(|_| format!("{usd:?} is not a number of dollars"))?;
    Prices::default().set(name, usd)?;
    Ok((name.to_owned(), usd))
}

impl CostCommand {
    pub async fn run(self) -> ExitCode {
        match self.measure().await {
            Ok(output) => {
                print!("{output}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("huddle cost: {error}");
                ExitCode::FAILURE
            }
        }
    }

    async fn measure(self) -> Result<String, String> {
        let mut prices = Prices::default();
        for (name, usd) in &self.prices {
            prices.set(name, *usd)?;
        }
        let storage = match self.aws_endpoint {
            Some(endpoint) => {
                Storage::Aws { endpoint, prefix: format!("huddle-cost-{}-", ulid::Ulid::new()) }
            }
            None => Storage::Memory,
        };
        // The day signs everyone up from one address; the throttle's counter is still counted.
        let throttles =
            ThrottleSettings { sign_ups_per_ip: Limit::new(u32::MAX, 60), ..ThrottleSettings::LOCAL };
        let domains = crate::domains(&LocalSecrets::fresh(), throttles);
        let mut system =
            MeteredSystem::start(Settings::new(storage, 0), domains).await.map_err(|e| e.to_string())?;
        let made = a_day(&mut system, self.users as usize).await;
        system.shutdown().await;
        let report = report(&made?, &prices);
        Ok(if self.json {
            serde_json::to_string_pretty(&report).expect("reports serialize") + "\n"
        } else {
            table(&report)
        })
    }
}
