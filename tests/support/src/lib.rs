//! What every integration test shares: a moto server (the AWS-compatible endpoint the AWS
//! adapters talk to), fresh resources with unique names on either adapter family, and a small
//! test-only aggregate; any set of domains running in the local runner (`system`).

pub mod bench;
pub mod cost;
pub mod decorated_table;
pub mod families;
pub mod fault_plan;
pub mod moto;
pub mod notes;
pub mod notes_api;
pub mod queues;
pub mod seed;
pub mod system;

pub use families::Family;

/// A resource name no other test of this run uses, so tests share one emulator in parallel.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// Every item of `table`, page by page, ordered by key (whatever order the family scans in).
pub async fn scan_all(table: &dyn huddle_ports::Table) -> Vec<huddle_ports::Item> {
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = table.scan(&huddle_ports::Scan::default().after(after)).await.expect("the table scans");
        items.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    items.sort_by_key(huddle_ports::Key::of);
    items
}
