//! The accounts Lambda: one binary for the command, query and projector roles (`HUDDLE_ROLE`).

use huddle_accounts::{AccountsDomain, AccountsSettings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    huddle_lambda::run_role(AccountsDomain::new(AccountsSettings::from_env().map_err(|e| e.to_string())?))
        .await
}
