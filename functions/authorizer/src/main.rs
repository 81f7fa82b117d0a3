//! The HttpApi Lambda authorizer (simple responses), from the accounts domain.

use huddle_accounts::{AccountsDomain, AccountsSettings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    huddle_lambda::run_authorizer(AccountsDomain::new(
        AccountsSettings::from_env().map_err(|e| e.to_string())?,
    ))
    .await
}
