//! What the measured actions cost: per action the requests and units by service and the
//! dollars, and per 1,000 daily active users a month at the stated activity mix.

use super::workload::Action;
use super::Measured;
use huddle_metering::{Prices, Service, Tally, Unit, Usage};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The days of the month the monthly figures count.
pub const DAYS_A_MONTH: f64 = 30.0;

/// The users the monthly figures are for.
pub const ACTIVE_USERS: f64 = 1_000.0;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub prices: Prices,
    pub actions: Vec<ActionCost>,
    /// What the activity mix costs 1,000 daily active users in 30 days, storage apart.
    pub monthly_per_1000_daily_active_users: f64,
    /// Bytes those users add to storage in 30 days (events are kept for ever).
    pub stored_bytes_a_month: f64,
    /// What keeping one month's additions costs each month after.
    pub storage_added_monthly_cost: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionCost {
    pub action: Action,
    pub title: &'static str,
    /// How many times the workload made it; the lines are the mean of one.
    pub measured: usize,
    pub lines: Vec<LineCost>,
    pub dollars: f64,
    pub stored_bytes: f64,
    pub daily_per_active_user: f64,
    pub monthly_per_1000_daily_active_users: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineCost {
    pub service: Service,
    pub operation: String,
    pub unit: Unit,
    /// The function whose invocation made the calls.
    pub by: Option<String>,
    pub calls: f64,
    pub billed: f64,
    pub stored_bytes: f64,
    pub dollars: f64,
}

/// The mean usage of each action `made`, priced.
pub fn report(made: &[(Action, Measured)], prices: &Prices) -> Report {
    let mut by_action: BTreeMap<Action, Vec<&Usage>> = BTreeMap::new();
    for (action, measured) in made {
        by_action.entry(*action).or_default().push(&measured.usage);
    }
    let actions: Vec<ActionCost> = by_action
        .into_iter()
        .map(|(action, usages)| {
            let mut mean: BTreeMap<_, Tally> = BTreeMap::new();
            for (line, tally) in usages.iter().flat_map(|usage| usage.iter()) {
                let sum = mean.entry(line.clone()).or_default();
                sum.calls += tally.calls;
                sum.billed += tally.billed;
                sum.stored_bytes += tally.stored_bytes;
            }
            let count = usages.len() as f64;
            for tally in mean.values_mut() {
                *tally = Tally {
                    calls: tally.calls / count,
                    billed: tally.billed / count,
                    stored_bytes: tally.stored_bytes / count,
                };
            }
            let lines: Vec<LineCost> = mean
                .into_iter()
                .map(|(line, tally)| LineCost {
                    dollars: prices.requests(line.service, line.unit, &tally),
                    service: line.service,
                    operation: line.operation,
                    unit: line.unit,
                    by: line.by,
                    calls: tally.calls,
                    billed: tally.billed,
                    stored_bytes: tally.stored_bytes,
                })
                .collect();
            let dollars = lines.iter().map(|line| line.dollars).sum();
            let daily = action.daily_per_active_user();
            ActionCost {
                action,
                title: action.title(),
                measured: usages.len(),
                stored_bytes: lines.iter().map(|line| line.stored_bytes).sum(),
                lines,
                dollars,
                daily_per_active_user: daily,
                monthly_per_1000_daily_active_users: dollars * daily * DAYS_A_MONTH * ACTIVE_USERS,
            }
        })
        .collect();
    let monthly = actions.iter().map(|a| a.monthly_per_1000_daily_active_users).sum();
    let mut storage = Tally::default();
    let mut storage_cost = 0.0;
    for action in &actions {
        let scale = action.daily_per_active_user * DAYS_A_MONTH * ACTIVE_USERS;
        for line in &action.lines {
            let stored = Tally { stored_bytes: line.stored_bytes * scale, ..Tally::default() };
            storage.stored_bytes += stored.stored_bytes;
            storage_cost += prices.storage_month(line.service, &stored);
        }
    }
    Report {
        prices: prices.clone(),
        actions,
        monthly_per_1000_daily_active_users: monthly,
        stored_bytes_a_month: storage.stored_bytes,
        storage_added_monthly_cost: storage_cost,
    }
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::HttpApiRequests | Unit::SnsRequests | Unit::SqsRequests => "requests",
        Unit::S3WriteRequests | Unit::S3ReadRequests => "requests",
        Unit::LambdaGbSeconds => "GB-s",
        Unit::ReadRequestUnits => "RRU",
        Unit::WriteRequestUnits => "WRU",
        Unit::MobilePushDeliveries => "deliveries",
    }
}

/// A count as a person reads it: whole numbers bare, fractions to a few significant places.
fn amount(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{}", value.round())
    } else if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.5}")
    }
}

/// The report as a table for people.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "What each action costs on AWS: us-east-1 on-demand prices as of {}, free tiers left out.",
        report.prices.as_of
    );
    let _ = writeln!(out, "Each line is the mean of one action, its fan-out and projections included.\n");
    for action in &report.actions {
        let _ = writeln!(
            out,
            "{} (measured {} times): ${:.4} per 1,000 actions",
            action.title,
            action.measured,
            action.dollars * 1_000.0
        );
        for line in &action.lines {
            let by = line.by.as_deref().map(|function| format!("by {function}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<16} {:<26} {:<30} {:>7} calls {:>10} {:<10} ${:.7}",
                line.service.name(),
                line.operation,
                by,
                amount(line.calls),
                amount(line.billed),
                unit_name(line.unit),
                line.dollars
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Per {} daily active users over {} days, at the stated mix (Action::daily_per_active_user):",
        ACTIVE_USERS, DAYS_A_MONTH
    );
    let _ =
        writeln!(out, "  {:<32} {:>12} {:>16} {:>12}", "action", "per user-day", "$ per 1,000", "$ a month");
    for action in &report.actions {
        let _ = writeln!(
            out,
            "  {:<32} {:>12} {:>16.4} {:>12.4}",
            action.title,
            amount(action.daily_per_active_user),
            action.dollars * 1_000.0,
            action.monthly_per_1000_daily_active_users
        );
    }
    let _ = writeln!(
        out,
        "  {:<32} {:>12} {:>16} {:>12.4}",
        "total", "", "", report.monthly_per_1000_daily_active_users
    );
    let _ = writeln!(
        out,
        "  storage added: {:.1} MB a month, ${:.4} a month for as long as it is kept",
        report.stored_bytes_a_month / 1e6,
        report.storage_added_monthly_cost
    );
    out
}
