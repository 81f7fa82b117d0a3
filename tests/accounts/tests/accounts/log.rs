//! The log is append-only, erasure included: the events/ fixtures of a whole account life, run
//! through the accounts command on a streamed events table, leave a change stream of inserts
//! only, but for the removal of the account's key (and the throttles' counters, the only items
//! ever updated).

use aws_lambda_events::dynamodb::EventRecord;
use huddle_accounts::{AccountsDomain, AccountsSettings, ThrottleSettings};
use huddle_domain::{Domain, DomainPorts};
use huddle_test_support::{on_both_families, Family};
use serde_dynamo::AttributeValue;
use serde_json::{json, Value};

on_both_families!(an_account_life_to_its_erasure_only_appends_to_the_log_and_removes_its_key);

fn pk(record: &EventRecord) -> String {
    match record.change.keys.get("pk") {
        Some(AttributeValue::S(pk)) => pk.clone(),
        other => panic!("a change without a string pk: {other:?}"),
    }
}

fn fixture(name: &str, account_id: Option<&str>) -> lambda_http::Request {
    let path = format!("{}/../../events/accounts/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if let Some(account_id) = account_id {
        fixture["requestContext"]["authorizer"]["lambda"]["account_id"] = json!(account_id);
    }
    lambda_http::request::from_str(&fixture.to_string()).expect("a fixture is an HttpApi request")
}

async fn an_account_life_to_its_erasure_only_appends_to_the_log_and_removes_its_key(family: Family) {
    let backend = family.backend().await;
    let (events, mut changes) = backend.streamed_table().await;
    let ports = DomainPorts::new(events, backend.table(false).await, b"the log test's request secret");
    let mut settings = AccountsSettings::new(crate::TOKEN_SECRET, b"the log test's email lookup key, 32+");
    settings.throttles = ThrottleSettings::LOCAL;
    let command = AccountsDomain::new(settings).command(&ports);

    let signed_up = command.call(fixture("sign-up", None)).await;
    assert_eq!(signed_up.status(), 201);
    let body: Value = serde_json::from_slice(signed_up.body().as_ref()).unwrap();
    let id = body["account"]["id"].as_str().unwrap().to_owned();
    for (name, status) in [("update-me", 200), ("change-password", 204), ("erase-me", 204)] {
        let response = command.call(fixture(name, Some(&id))).await;
        assert_eq!(response.status(), status, "{name}: {:?}", response.body());
    }

    // Sign-up: 3 events and the key; the profile and the lock: 2; the password: 2; the erasure:
    // 4 events (account, sessions, both names released) and the key's removal.
    let log_changes = 4 + 2 + 2 + 5;
    let records = changes.read_at_least(log_changes).await.records;
    let (counters, log): (Vec<_>, Vec<_>) =
        records.iter().partition(|record| pk(record).starts_with("throttle#"));
    assert!(!counters.is_empty(), "the password checks were counted");
    let named = |record: &&EventRecord| (record.event_name.clone(), pk(record));
    let removed: Vec<_> = log.iter().map(named).filter(|(name, _)| name != "INSERT").collect();
    assert_eq!(removed, [("REMOVE".to_owned(), format!("subject-key#{id}"))], "nothing else changed");
    assert_eq!(log.len(), log_changes, "{:?}", log.iter().map(named).collect::<Vec<_>>());
}
