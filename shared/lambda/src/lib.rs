//! A domain's roles as Lambda functions. `main` builds the domain from its settings and calls
//! [`run_role`] (the role comes from `HUDDLE_ROLE`) or [`run_authorizer`]; this crate builds the one
//! `SdkConfig`, the ports from the environment, and runs the role's handler. Nothing here does
//! I/O before the first event.
//!
//! Environment: `HUDDLE_ROLE` (`command`, `query` or `projector`), `EVENTS_TABLE`, `READ_TABLE`, and
//! `CURSOR_SECRET` for the roles that answer HTTP requests (command and query), which refuse to
//! start without it: a key of their own would make every instance refuse the cursors of the
//! others. Logging follows `HUDDLE_LOG_LEVEL` (see `huddle_http::init_logging`).

mod projector;

use huddle_domain::{Domain, DomainPorts};
use lambda_runtime::Error;
use std::sync::Arc;

fn variable(name: &str) -> Result<String, Error> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .ok_or_else(|| format!("{name} is not set").into())
}

/// The ports of a role; `answers_http` says whether it issues and reads cursors.
async fn ports(answers_http: bool) -> Result<DomainPorts, Error> {
    let config = huddle_aws::sdk_config(None).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let events = huddle_aws::DynamoTable::new(dynamodb.clone(), variable("EVENTS_TABLE")?);
    let read_model = huddle_aws::DynamoTable::new(dynamodb, variable("READ_TABLE")?);
    // Signs cursors and keys idempotency fingerprints, so every instance must share it.
    let request_secret = if answers_http {
        variable("CURSOR_SECRET")?.into_bytes()
    } else {
        // Projectors and authorizers never see a cursor or an idempotency key; any key will do.
        ulid::Ulid::new().to_bytes().to_vec()
    };
    Ok(DomainPorts::new(Arc::new(events), Arc::new(read_model), &request_secret))
}

/// Serve the role `HUDDLE_ROLE` names: the command or query HTTP function, or the projector
/// (its queue's batches and its sweeper's schedule).
pub async fn run_role(domain: impl Domain) -> Result<(), Error> {
    huddle_http::init_logging();
    let role = variable("HUDDLE_ROLE")?;
    let ports = ports(matches!(role.as_str(), "command" | "query")).await?;
    match role.as_str() {
        "command" => huddle_http::run_lambda(domain.command(&ports)).await,
        "query" => huddle_http::run_lambda(domain.query(&ports)).await,
        "projector" => projector::serve(&domain, &ports).await,
        other => Err(format!("HUDDLE_ROLE must be command, query or projector, not {other}").into()),
    }
}

/// Serve the domain's HttpApi authorizer.
pub async fn run_authorizer(domain: impl Domain) -> Result<(), Error> {
    huddle_http::init_logging();
    let ports = ports(false).await?;
    let authorizer = domain.authorizer(&ports).ok_or("this domain has no authorizer")?;
    huddle_http::run_authorizer(authorizer).await
}
