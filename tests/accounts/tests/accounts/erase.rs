//! Erasure: the profile leaves the read model, login fails, the tokens stop working, the names
//! are free again, and the log keeps no email, password hash or bio in clear.

use crate::{code, System};
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;
use serde_json::json;

on_both_families!(erasing_an_account_removes_its_personal_data_everywhere);

async fn erasing_an_account_removes_its_personal_data_everywhere(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.account("ana").await;
    let (_, other_token) = system.account("bea").await;
    let bio = "a bio that must not survive";
    let patch = json!({"bio": bio, "display_name": "Ana Lima"});
    let (status, _) =
        system.send(system.client.patch(system.url("/v1/me")).bearer_auth(&token).json(&patch)).await;
    assert_eq!(status, StatusCode::OK);
    system.eventually(&format!("/v1/accounts/{id}"), &other_token, |_, body| body["bio"] == bio).await;

    let erase = || system.client.delete(system.url("/v1/me")).bearer_auth(&token);
    let (status, body) = system.send(erase()).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, serde_json::Value::Null));

    system
        .eventually(&format!("/v1/accounts/{id}"), &other_token, |status, _| status == StatusCode::NOT_FOUND)
        .await;
    let (status, _) = system.get("/v1/accounts/by-username/ana", &other_token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = system.get("/v1/me", &token).await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"message": "Forbidden"})),
        "the erased account's token is refused"
    );
    let (status, _) = system.send(erase()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let login = json!({"login": "ana", "password": "correct horse battery"});
    let (status, body) = system.send(system.client.post(system.url("/v1/sessions")).json(&login)).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    let by_email = json!({"login": "ana@example.com", "password": "correct horse battery"});
    let (status, _) = system.send(system.client.post(system.url("/v1/sessions")).json(&by_email)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let events = &system.running.events;
    assert!(events.subject_key(&id).await.unwrap().is_none(), "the account's key is shredded");
    let stored = events.read_stream(&format!("account#{id}"), 1..).await.unwrap();
    let log = serde_json::to_string(&stored).unwrap();
    assert_eq!(stored.len(), 3, "registered, updated, erased: events are never deleted");
    for secret in ["ana@example.com", "$argon2id", bio, "Ana Lima"] {
        assert!(!log.contains(secret), "the log still holds {secret:?}");
    }

    let (status, again) = system.sign_up("ana", "ana@example.com", "a new password").await;
    assert_eq!(status, StatusCode::CREATED, "the username and the address are free again: {again}");
    assert_ne!(again["account"]["id"].as_str(), Some(id.as_str()));
    let new_token = again["token"].as_str().unwrap();
    let me = system.eventually("/v1/me", new_token, |status, _| status == StatusCode::OK).await;
    assert_eq!(me["bio"], serde_json::Value::Null, "nothing of the old account carries over");
    let found = system
        .eventually("/v1/accounts/by-username/ana", &other_token, |status, _| status == StatusCode::OK)
        .await;
    assert_eq!(found["id"], again["account"]["id"]);
}
