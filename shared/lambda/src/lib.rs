//! A domain's roles as Lambda functions. `main` builds the domain from its settings and calls
//! [`run_role`] (the role comes from `HUDDLE_ROLE`) or [`run_authorizer`]; this crate builds the one
//! `SdkConfig`, the ports from the environment, and runs the role's handler. Nothing here does
//! I/O before the first event.
//!
//! Environment: `HUDDLE_ROLE` (`command`, `query`, `projector`, `operator` or, for a domain
//! that takes uploads, `uploads`: its uploads queue's batches of S3 notifications), `EVENTS_TABLE`,
//! `READ_TABLE`, and `CURSOR_SECRET` for the roles that answer HTTP requests (command and query),
//! which refuse to start without it: a key of their own would make every instance refuse the
//! cursors of the others. The projector and the uploads role need `MAX_RECEIVES` (their queue's redrive limit, past
//! which the one parks a failing stream and the other gives an upload up), the operator `DEAD_LETTER_QUEUE_URL` and
//! `DEAD_LETTER_QUEUE_ARN`. The command and query of a domain that reads other domains' read
//! tables (`Domain::reads`) need `<DOMAIN>_READ_TABLE` for each, and every role of a domain that
//! uses the media bucket (`Domain::uses_blobs`) `MEDIA_BUCKET`. Logging follows
//! `HUDDLE_LOG_LEVEL` (see `huddle_http::init_logging`).

mod projector;

use aws_lambda_events::sqs::SqsEvent;
use huddle_delivery::{Operation, Operations, Projector, SqsHandler, Sweeper};
use huddle_domain::{
    command_role, granted_read_table_variable, query_role, Domain, DomainPorts, Role, Uploads,
};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};
use std::sync::Arc;

fn variable(name: &str) -> Result<String, Error> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .ok_or_else(|| format!("{name} is not set").into())
}

/// The ports of a role; `answers_http` says whether it issues and reads cursors; it is granted
/// the read tables `grants` names, and the media bucket with `blobs`.
async fn ports(answers_http: bool, grants: &[&str], blobs: bool) -> Result<DomainPorts, Error> {
    let config = huddle_aws::sdk_config(None).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let events = huddle_aws::DynamoTable::new(dynamodb.clone(), variable("EVENTS_TABLE")?);
    let read_model = huddle_aws::DynamoTable::new(dynamodb.clone(), variable("READ_TABLE")?);
    // Signs cursors and keys idempotency fingerprints, so every instance must share it.
    let request_secret = if answers_http {
        variable("CURSOR_SECRET")?.into_bytes()
    } else {
        // Projectors and authorizers never see a cursor or an idempotency key; any key will do.
        ulid::Ulid::new().to_bytes().to_vec()
    };
    let mut ports = DomainPorts::new(Arc::new(events), Arc::new(read_model), &request_secret);
    for domain in grants {
        let table = variable(&granted_read_table_variable(domain))?;
        ports = ports.granting(domain, Arc::new(huddle_aws::DynamoTable::new(dynamodb.clone(), table)));
    }
    if blobs {
        let bucket = huddle_aws::S3Blobs::new(huddle_aws::s3_client(&config), variable("MEDIA_BUCKET")?);
        ports = ports.with_blobs(Arc::new(bucket));
    }
    Ok(ports)
}

/// The queue's redrive limit, past which the projector parks a stream and the uploads role gives
/// an upload up.
fn max_receives() -> Result<u32, Error> {
    Ok(variable("MAX_RECEIVES")?
        .parse()
        .map_err(|_| "MAX_RECEIVES must be the queue's maxReceiveCount, a positive number")?)
}

/// Serve the role `HUDDLE_ROLE` names: the command or query HTTP function, the projector (its
/// queue's batches and its sweeper's schedule), or the operator.
pub async fn run_role(domain: impl Domain) -> Result<(), Error> {
    huddle_http::init_logging();
    let role = variable("HUDDLE_ROLE")?;
    let grants = match role.as_str() {
        "command" => domain.reads(Role::Command),
        "query" => domain.reads(Role::Query),
        _ => &[],
    };
    let ports = ports(matches!(role.as_str(), "command" | "query"), grants, domain.uses_blobs()).await?;
    let projector =
        || Projector::new(domain.projection(&ports), ports.read_model.clone(), ports.events.clone());
    match role.as_str() {
        "command" => huddle_http::run_lambda(command_role(&domain, &ports)).await,
        "query" => huddle_http::run_lambda(query_role(&domain, &ports)).await,
        "projector" => {
            let projector = projector().with_max_receives(max_receives()?);
            let sweeper = Sweeper::new(projector.clone(), ports.events.clone(), domain.consumes());
            projector::serve(projector, sweeper).await
        }
        "operator" => {
            let config = huddle_aws::sdk_config(None).await;
            let dead_letters = huddle_aws::SqsQueue::new(
                aws_sdk_sqs::Client::new(&config),
                variable("DEAD_LETTER_QUEUE_URL")?,
                variable("DEAD_LETTER_QUEUE_ARN")?,
            );
            let operations = Operations::new(projector(), Arc::new(dead_letters), domain.consumes());
            lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
                let operator = format!("operator role, request {}", event.context.request_id);
                let operations = &operations;
                async move {
                    Ok::<_, std::convert::Infallible>(operate(operations, event.payload, &operator).await)
                }
            }))
            .await
        }
        "uploads" => {
            let handler = domain.upload_handler(&ports).ok_or("this domain takes no uploads")?;
            let uploads = Uploads::new(handler).with_max_receives(max_receives()?);
            lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
                let uploads = &uploads;
                async move { Ok::<_, std::convert::Infallible>(uploads.handle(event.payload).await) }
            }))
            .await
        }
        other => {
            Err(format!("HUDDLE_ROLE must be command, query, projector, operator or uploads, not {other}")
                .into())
        }
    }
}

/// The operator role's answer to one invocation: the operation's report, or `{"error": …}` for a
/// request that is no operation or an operation that failed.
async fn operate(operations: &Operations, request: Value, operator: &str) -> Value {
    let operation = match serde_json::from_value::<Operation>(request) {
        Ok(operation) => operation,
        Err(error) => return json!({ "error": format!("not an operation: {error}") }),
    };
    match operations.run(operation, operator).await {
        Ok(report) => report,
        Err(error) => {
            tracing::error!(%error, "operation failed");
            json!({ "error": error.to_string() })
        }
    }
}

/// Serve the domain's HttpApi authorizer.
pub async fn run_authorizer(domain: impl Domain) -> Result<(), Error> {
    huddle_http::init_logging();
    let ports = ports(false, &[], false).await?;
    let authorizer = domain.authorizer(&ports).ok_or("this domain has no authorizer")?;
    huddle_http::run_authorizer(authorizer).await
}
