//! The harness's running system: any set of domains on both families, a signed-up user of the
//! accounts domain, and polling that waits for projections but never for a refusal.

use huddle_test_support::notes_api::NotesDomain;
use huddle_test_support::system::{accounts_domain, accounts_settings, SystemUnderTest};
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

on_both_families!(
    a_signed_up_user_reaches_the_accounts_read_side,
    a_domain_without_accounts_serves_and_projects
);

async fn a_signed_up_user_reaches_the_accounts_read_side(family: Family) {
    let system = SystemUnderTest::start(family, vec![accounts_domain(accounts_settings())]).await;
    let (id, token) = system.signed_up_user("ana").await;
    let (status, me) = system.get("/v1/me", &token).await;
    assert_eq!((status, me["id"].as_str()), (StatusCode::OK, Some(id.as_str())), "{me}");
    let profile =
        system.eventually(&format!("/v1/accounts/{id}"), &token, |status, _| status == StatusCode::OK).await;
    assert_eq!(profile["username"], "ana", "{profile}");
}

async fn a_domain_without_accounts_serves_and_projects(family: Family) {
    let system = SystemUnderTest::start(family, vec![Arc::new(NotesDomain)]).await;
    let token = "test:acc_ana";
    let write =
        system.client.post(system.url("/v1/notes")).bearer_auth(token).json(&json!({"text": "hello"}));
    let (status, written) = system.send(write).await;
    assert_eq!(status, StatusCode::CREATED, "{written}");
    let path = format!("/v1/notes/{}", written["id"].as_str().expect("a note id"));
    let note = system.eventually(&path, token, |status, _| status == StatusCode::OK).await;
    assert_eq!(note["text"], "hello", "{note}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "signed_up_user needs the accounts domain among the system's domains")]
async fn signed_up_user_says_so_when_the_accounts_domain_is_missing() {
    let system = SystemUnderTest::start(Family::Embedded, vec![Arc::new(NotesDomain)]).await;
    system.signed_up_user("ana").await;
}

/// The refusal's message, not the deadline's ("never got there"): it failed on the first answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "/v1/notes was refused with 403")]
async fn eventually_fails_at_once_on_a_refusal() {
    let system = SystemUnderTest::start(Family::Embedded, vec![Arc::new(NotesDomain)]).await;
    system.eventually("/v1/notes", "not a test token", |status, _| status == StatusCode::OK).await;
}
