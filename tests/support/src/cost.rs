//! Cost guards: each action's requests, by service and operation, against the counts it made
//! before. A change that adds or removes a request fails with the before and after counts; a
//! change that means to, updates the expected counts and says why.

use crate::system::storage_of;
use crate::Family;
use huddle_domain::Domain;
use huddle_metering::{Usage, BACKGROUND};
use huddle_runner::cost::MeteredSystem;
use huddle_runner::Settings;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `domains` metered on `family` (see [`MeteredSystem`]).
pub async fn metered_system(family: Family, domains: Vec<Arc<dyn Domain>>) -> MeteredSystem {
    MeteredSystem::start(Settings::new(storage_of(family), 0), domains)
        .await
        .expect("the metered system starts")
}

/// The calls of each line of `usage`, named `<service> <operation>[ by <function>]`. Measured alone, an action
/// makes whole calls; a fraction would mean another action's batch was shared with it.
pub fn requests(usage: &Usage) -> BTreeMap<String, u64> {
    usage
        .iter()
        .map(|(line, tally)| {
            let by = line.by.as_deref().map(|function| format!(" by {function}")).unwrap_or_default();
            let name = format!("{} {}{by}", line.service.name(), line.operation);
            assert_eq!(
                tally.calls.fract(),
                0.0,
                "{name}: {} calls, a share of another action's",
                tally.calls
            );
            (name, tally.calls as u64)
        })
        .collect()
}

/// Whether only idle polls (receives that brought nothing) were charged to no action: a request
/// an action makes outside its attribution (a spawned task) would land there unseen. `None`
/// when so, else what else landed there.
pub fn escaped_requests(system: &MeteredSystem) -> Option<String> {
    let escaped: Vec<String> = requests(&system.meter().usage_of(BACKGROUND))
        .into_iter()
        .filter(|(line, _)| line != "SQS ReceiveMessage")
        .map(|(line, calls)| format!("  {line}: {calls}"))
        .collect();
    (!escaped.is_empty()).then(|| format!("charged to no action:\n{}", escaped.join("\n")))
}

/// The difference between the requests `action` was expected to make and those `usage` shows,
/// as a table of before and after counts; `None` when they are the same.
pub fn changed_requests(action: &str, expected: &[(&str, u64)], usage: &Usage) -> Option<String> {
    let before: BTreeMap<String, u64> =
        expected.iter().map(|(line, calls)| ((*line).to_owned(), *calls)).collect();
    let after = requests(usage);
    if before == after {
        return None;
    }
    let mut table =
        format!("{action}: its requests changed\n  {:<64} {:>6} {:>6}\n", "line", "before", "after");
    let lines: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for line in lines {
        let (was, is) = (before.get(line).copied().unwrap_or(0), after.get(line).copied().unwrap_or(0));
        let mark = if was == is { "" } else { "  <-" };
        table.push_str(&format!("  {line:<64} {was:>6} {is:>6}{mark}\n"));
    }
    table.push_str("  now, as the expected counts read:\n");
    for (line, calls) in &after {
        table.push_str(&format!("    (\"{line}\", {calls}),\n"));
    }
    Some(table)
}
