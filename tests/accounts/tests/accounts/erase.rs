//! Erasure: it takes the password, the tokens stop working the moment it answers, the profile
//! leaves the read model, login fails, the names are free again, the log's personal fields no
//! longer open, and a replay of the projection brings nothing back.

use crate::{code, System, PASSWORD};
use huddle_accounts::AccountsDomain;
use huddle_catalog::accounts::AccountEvent;
use huddle_delivery::{replay, Progress, ReplayOptions};
use huddle_domain::{replay_target, DomainPorts};
use huddle_eventstore::{decode_personal, EventStore, SubjectKey};
use huddle_ports::Key;
use huddle_test_support::{on_both_families, scan_all, Family};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_families!(
    erasing_an_account_removes_its_personal_data_everywhere,
    erasure_needs_the_password_and_ends_every_token_at_once,
);

/// The stream's account events as `key` opens them.
async fn opened(events: &EventStore, stream: &str, key: Option<SubjectKey>) -> String {
    let stored = events.read_stream(stream, 1..).await.unwrap();
    let opened: Vec<Option<AccountEvent>> =
        stored.iter().map(|event| decode_personal(event, key.as_ref()).unwrap()).collect();
    format!("{opened:?}")
}

async fn erasing_an_account_removes_its_personal_data_everywhere(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    let (_, other_token) = system.signed_up_user("bea").await;
    let bio = "a bio that must not survive";
    let patch = json!({"bio": bio, "display_name": "Ana Lima"});
    let (status, _) =
        system.send(system.client.patch(system.url("/v1/me")).bearer_auth(&token).json(&patch)).await;
    assert_eq!(status, StatusCode::OK);
    let profile =
        system.eventually(&format!("/v1/accounts/{id}"), &other_token, |_, body| body["bio"] == bio).await;
    assert_eq!(profile["display_name"], "Ana Lima");

    // Before: the log's sealed fields open with the account's key and hold the personal data.
    let events = &system.running.events;
    let stream = format!("account#{id}");
    let key = events.subject_key(&id).await.unwrap().expect("a live account has its key");
    let before = opened(events, &stream, Some(key)).await;
    for personal in ["ana@example.com", "$argon2id", bio, "Ana Lima"] {
        assert!(before.contains(personal), "{personal:?} is in the log, sealed, before the erasure");
    }

    let (status, body) = system.erase(&token, PASSWORD).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));

    // After: no key opens them, in the account's stream or anywhere in the table.
    assert!(events.subject_key(&id).await.unwrap().is_none(), "the account's key is shredded");
    let after = opened(events, &stream, None).await;
    assert_eq!(after, "[None, None, Some(AccountErased)]", "registered, updated, erased: events stay");
    let everything = serde_json::to_string(&scan_all(system.running.events_table.as_ref()).await).unwrap();
    for personal in ["ana@example.com", "$argon2id", bio, "Ana Lima"] {
        assert!(!everything.contains(personal), "the events table holds {personal:?} in clear");
    }

    system
        .eventually(&format!("/v1/accounts/{id}"), &other_token, |status, _| status == StatusCode::NOT_FOUND)
        .await;
    let (status, _) = system.get("/v1/accounts/by-username/ana", &other_token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for login in ["ana", "ana@example.com"] {
        let (status, body) = system.log_in(login, PASSWORD, "203.0.113.1").await;
        assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "invalid_credentials"), "{login}");
    }

    // A projection rebuilt from the log after the erasure knows nothing of the account.
    let rebuilt = family.backend().await.table(false).await;
    let accounts = AccountsDomain::new(huddle_accounts::AccountsSettings::new(
        crate::TOKEN_SECRET,
        b"the accounts tests' email lookup key",
    ));
    let ports = DomainPorts::new(system.running.events_table.clone(), rebuilt.clone(), b"replay secret");
    // The whole log: the reservation streams (username, email) too, which the subscription skips.
    let options = ReplayOptions { page_size: 50, segments: 2, ..ReplayOptions::default() };
    let summary = replay(replay_target(&accounts, &ports), options, |_: &Progress| {}).await.unwrap();
    assert!(summary.visited > summary.applied, "items besides account events were visited: {summary:?}");
    let profile = rebuilt.get(&Key::new(format!("account#{id}"), "profile")).await.unwrap();
    assert_eq!(profile, None, "the replay resurrects no profile");
    let holder = rebuilt.query(&huddle_ports::Query::new("username#ana")).await.unwrap();
    assert!(holder.items.is_empty(), "nor the username's holder: {:?}", holder.items);
    let bea = rebuilt.query(&huddle_ports::Query::new("username#bea")).await.unwrap();
    assert_eq!(bea.items.len(), 1, "the replay did run: the live account is back");

    let (status, again) = system.sign_up("ana", "ana@example.com", "a new password").await;
    assert_eq!(status, StatusCode::CREATED, "the username and the address are free again: {again}");
    assert_ne!(again["account"]["id"].as_str(), Some(id.as_str()));
    let new_token = again["token"].as_str().unwrap();
    let me = system.eventually("/v1/me", new_token, |status, _| status == StatusCode::OK).await;
    assert_eq!(me["bio"], Value::Null, "nothing of the old account carries over");
    let found = system
        .eventually("/v1/accounts/by-username/ana", &other_token, |status, _| status == StatusCode::OK)
        .await;
    assert_eq!(found["id"], again["account"]["id"]);
}

async fn erasure_needs_the_password_and_ends_every_token_at_once(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    let (_, second) = system.log_in("ana", PASSWORD, "203.0.113.2").await;
    let second = second["token"].as_str().unwrap().to_owned();

    let (status, body) = system.erase(&token, "not the password").await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    let no_password = system.client.delete(system.url("/v1/me")).bearer_auth(&token);
    let (status, body) = system.send(no_password).await;
    assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{body}");
    let (status, body) =
        system.send(system.client.delete(system.url("/v1/me")).bearer_auth(&token).json(&json!({}))).await;
    assert_eq!(
        (status, body["error"]["details"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
    );
    assert!(system.running.events.subject_key(&id).await.unwrap().is_some(), "nothing was erased");

    let (status, _) = system.erase(&token, PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // At once: no waiting for any projection.
    for old in [&token, &second] {
        let (status, body) = system.get("/v1/me", old).await;
        assert_eq!((status, body), (StatusCode::FORBIDDEN, json!({"message": "Forbidden"})));
    }
    let (status, _) = system.erase(&token, PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a second erase is refused at the door");
}
