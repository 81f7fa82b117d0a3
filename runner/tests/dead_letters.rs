//! `huddle dead-letters` as an operator runs it: the binary as a child process against a data
//! folder in which the accounts projector parked a stream on a poison event and the
//! dead-letter queue holds messages.

use huddle_accounts::{AccountsDomain, AccountsSettings};
use huddle_delivery::Projector;
use huddle_domain::{Domain, DomainPorts};
use huddle_embedded::{Database, SqliteQueue, SqliteTable};
use huddle_eventstore::{EventStore, ExpectedVersion, Metadata, NewEvent};
use huddle_ports::{OutgoingMessage, Queue, Table};
use huddle_runner::DATABASE_FILE;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

const STREAM: &str = "account#acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6";

/// Runs `huddle dead-letters <args>`.
fn dead_letters(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huddle"))
        .arg("dead-letters")
        .args(args)
        .env_remove("HUDDLE_LOG_LEVEL")
        .output()
        .expect("run huddle dead-letters")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A data folder poisoned as [`poison`] says.
async fn poisoned_folder(folder: &Path) {
    let db = Database::open(&folder.join(DATABASE_FILE)).unwrap();
    poison(
        Arc::new(SqliteTable::new(&db, "events", true)),
        Arc::new(SqliteTable::new(&db, "accounts", false)),
        &SqliteQueue::new(&db, "accounts-dlq", None),
    )
    .await;
}

/// `STREAM`'s first event is no registration the accounts projection can read, and is parked
/// on its last receive; the dead-letter queue holds a copy of it and a message that is no
/// envelope.
async fn poison(events: Arc<dyn Table>, read_model: Arc<dyn Table>, dead_letters: &dyn Queue) {
    let store = EventStore::new(events.clone());
    let event = NewEvent {
        event_type: "AccountRegistered".into(),
        schema_version: 1,
        payload: serde_json::json!({"not": "a registration"}),
    };
    store
        .append(STREAM, ExpectedVersion::NoStream, vec![event], &Metadata::new("corr-cli"), None)
        .await
        .unwrap();
    let envelope = store.read_stream(STREAM, 1..).await.unwrap().remove(0);

    let domain = AccountsDomain::new(AccountsSettings::new(&[7; 32], &[8; 32]));
    let ports = DomainPorts::new(events, read_model.clone(), &[9; 32]);
    let projector = Projector::new(domain.projection(&ports), read_model, store).with_max_receives(1);
    let mut message = aws_lambda_events::sqs::SqsMessage::default();
    message.message_id = Some("m1".into());
    message.body = Some(serde_json::to_string(&envelope).unwrap());
    message.attributes.insert("ApproximateReceiveCount".into(), "1".into());
    let mut event = aws_lambda_events::sqs::SqsEvent::default();
    event.records = vec![message];
    assert!(projector.handle(event).await.batch_item_failures.is_empty(), "parked and acknowledged");

    let bodies = [serde_json::to_string(&envelope).unwrap(), "{not an envelope".to_owned()];
    let messages = bodies.into_iter().map(|body| OutgoingMessage { body, ..Default::default() }).collect();
    dead_letters.send_batch(messages).await.unwrap();
}

#[tokio::test]
async fn an_operator_lists_skips_and_retries_a_data_folders_dead_letters() {
    let folder = tempfile::tempdir().unwrap();
    poisoned_folder(folder.path()).await;
    let data = folder.path().to_str().unwrap();

    let listed = dead_letters(&["accounts", "--data", data]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    assert!(text.contains("parked streams of accounts: 1"), "{text}");
    let parked_row = text.lines().find(|line| line.starts_with(STREAM)).unwrap_or_else(|| panic!("{text}"));
    assert!(parked_row.contains("cannot project event"), "the row holds the error: {parked_row}");
    assert!(text.contains("dead-lettered messages of accounts: 2"), "{text}");
    assert!(text.contains("AccountRegistered"), "{text}");

    let wrong =
        dead_letters(&["accounts", "--data", data, "--skip", &format!("{STREAM}@2"), "--reason", "r"]);
    assert!(!wrong.status.success());
    assert!(stderr(&wrong).contains("parked at version 1, not 2"), "{}", stderr(&wrong));

    let skip = format!("{STREAM}@1");
    let skipped = dead_letters(&[
        "accounts",
        "--data",
        data,
        "--skip",
        &skip,
        "--reason",
        "a malformed import",
        "--by",
        "ana",
    ]);
    assert!(skipped.status.success(), "{}", stderr(&skipped));
    assert!(
        stdout(&skipped).contains(&format!("skipped {skip} (a malformed import, by ana at ")),
        "{}",
        stdout(&skipped)
    );
    assert!(stdout(&skipped).contains("caught up to 1"), "{}", stdout(&skipped));

    // The copy in the dead-letter queue is now a duplicate: redriven and deleted; the other
    // message stays.
    let retried = dead_letters(&["accounts", "--data", data, "--retry"]);
    assert!(retried.status.success(), "{}", stderr(&retried));
    assert!(
        stdout(&retried).contains("dead-lettered messages redriven: 1, still dead: 1"),
        "{}",
        stdout(&retried)
    );
    let after = stdout(&dead_letters(&["accounts", "--data", data]));
    assert!(after.contains("parked streams of accounts: 0"), "{after}");
    assert!(after.contains("dead-lettered messages of accounts: 1"), "{after}");
}

#[test]
fn unknown_domains_folders_without_a_system_and_bad_targets_are_refused() {
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().to_str().unwrap();
    let no_system = dead_letters(&["accounts", "--data", data]);
    assert!(!no_system.status.success());
    assert!(stderr(&no_system).contains("holds no huddle system"), "{}", stderr(&no_system));
    assert!(!folder.path().join(DATABASE_FILE).exists(), "refusing creates nothing");

    Database::open(&folder.path().join(DATABASE_FILE)).unwrap();
    let unknown = dead_letters(&["nosuch", "--data", data]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no domain \"nosuch\"; the domains are accounts"),
        "{}",
        stderr(&unknown)
    );

    let bad = dead_letters(&["accounts", "--data", data, "--skip", "account#x", "--reason", "r"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("is not STREAM@VERSION"), "{}", stderr(&bad));
    let reasonless = dead_letters(&["accounts", "--data", data, "--skip", "account#x@1"]);
    assert!(!reasonless.status.success(), "a skip needs --reason");
}

#[tokio::test]
async fn an_operator_reaches_a_system_on_an_aws_endpoint() {
    let secrets = tempfile::tempdir().unwrap();
    let prefix = format!("{}-", huddle_test_support::unique_name("cli"));
    let endpoint = huddle_test_support::moto::endpoint();
    let args = [
        "accounts",
        "--aws-endpoint",
        endpoint,
        "--aws-prefix",
        &prefix,
        "--data",
        secrets.path().to_str().unwrap(),
    ];
    // The first run finds (and, as `huddle serve` does, provisions) the system's resources.
    let empty = dead_letters(&args);
    assert!(empty.status.success(), "{}", stderr(&empty));
    assert!(stdout(&empty).contains("parked streams of accounts: 0"), "{}", stdout(&empty));

    let config = huddle_aws::sdk_config(Some(endpoint)).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let (url, arn) =
        huddle_aws::provision::queue(&sqs, &format!("{prefix}accounts-dlq"), None).await.unwrap();
    poison(
        Arc::new(huddle_aws::DynamoTable::new(dynamodb.clone(), format!("{prefix}events"))),
        Arc::new(huddle_aws::DynamoTable::new(dynamodb, format!("{prefix}accounts"))),
        &huddle_aws::SqsQueue::new(sqs, url, arn),
    )
    .await;
    let listed = dead_letters(&args);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    assert!(text.contains("parked streams of accounts: 1") && text.contains(STREAM), "{text}");
    assert!(text.contains("dead-lettered messages of accounts: 2"), "{text}");
}
