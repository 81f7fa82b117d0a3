//! What the accounts benches share: the runner with the accounts domain on a fresh file-backed
//! store, as `huddle serve --data` runs it, with every throttle out of the way.

use huddle_accounts::{AccountsDomain, AccountsSettings, ThrottleSettings};
use huddle_domain::throttle::Limit;
use huddle_runner::{Running, Settings, Storage};
use std::path::PathBuf;
use std::sync::Arc;

/// The running system and its data folder (for the bench to remove when done).
pub async fn unthrottled_system(bench: &str) -> (Running, PathBuf) {
    let folder = std::env::temp_dir().join(format!("huddle-bench-{bench}-{}", ulid::Ulid::new()));
    let mut settings = AccountsSettings::new(
        b"the accounts benches' token secret, 32+ bytes",
        b"the benches' email lookup key, 32+ bytes",
    );
    let unlimited = Limit::new(u32::MAX, 60);
    settings.throttles = ThrottleSettings {
        login_failures_per_ip: unlimited,
        login_failures_per_name: unlimited,
        sign_ups_per_ip: unlimited,
    };
    let system = huddle_runner::start(
        Settings::new(Storage::Folder(folder.clone()), 0),
        vec![Arc::new(AccountsDomain::new(settings))],
    )
    .await
    .unwrap();
    (system, folder)
}
