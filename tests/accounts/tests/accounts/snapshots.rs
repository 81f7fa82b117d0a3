//! The account stream past its snapshot interval (50 events): commands load from the snapshot
//! and answer as they did from the whole stream, and erasure leaves no snapshot readable.

use crate::{code, System, PASSWORD};
use huddle_ports::{Item, Key};
use huddle_test_support::{on_both_families, scan_all, Family};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_families!(
    a_profile_patched_past_the_snapshot_interval_still_answers_right,
    erasure_leaves_no_snapshot_readable,
);

/// Sign-up is the account's first event; these patches take it past the interval.
const PATCHES: usize = 60;

async fn patch(system: &System, token: &str, body: Value) -> Value {
    let (status, answer) =
        system.send(system.client.patch(system.url("/v1/me")).bearer_auth(token).json(&body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

async fn snapshot_of(system: &System, id: &str) -> Option<Item> {
    system.running.events_table.get(&Key::new(format!("snapshot#account#{id}"), "snapshot")).await.unwrap()
}

async fn a_profile_patched_past_the_snapshot_interval_still_answers_right(family: Family) {
    let system = System::start(family).await;
    let (status, signed_up) = system.sign_up("ana", "ana@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = signed_up["token"].as_str().unwrap().to_owned();
    let id = signed_up["account"]["id"].as_str().unwrap().to_owned();
    patch(&system, &token, json!({"display_name": "Ana Lima", "interests": ["chess"]})).await;
    for n in 2..=PATCHES {
        let answer = patch(&system, &token, json!({"bio": format!("bio {n}")})).await;
        assert_eq!(answer["bio"], format!("bio {n}"));
        assert_eq!(
            (answer["display_name"].as_str(), &answer["interests"]),
            (Some("Ana Lima"), &json!(["chess"]))
        );
        assert_eq!(answer["created_at"], signed_up["account"]["created_at"], "patch {n}");
        assert_eq!(answer["email"], "ana@example.com");
    }

    let snapshot = snapshot_of(&system, &id).await.expect("a snapshot past the interval");
    assert_eq!(snapshot["version"].as_u64(), Some(50));
    let stored = Value::Object(snapshot).to_string();
    for personal in ["ana@example.com", "$argon2id", "bio 4", "Ana Lima"] {
        assert!(!stored.contains(personal), "the snapshot holds {personal:?} in clear");
    }
    let me = system.eventually("/v1/me", &token, |_, body| body["bio"] == format!("bio {PATCHES}")).await;
    assert_eq!(me["display_name"], "Ana Lima");

    // The password hash and the token generation come through the snapshot too.
    let (status, _) = system.log_in("ana", PASSWORD, "203.0.113.1").await;
    assert_eq!(status, StatusCode::OK);
    let change = json!({"current_password": PASSWORD, "new_password": "a brand new password"});
    let (status, body) = system
        .send(system.client.post(system.url("/v1/me/password")).bearer_auth(&token).json(&change))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = system.log_in("ana", PASSWORD, "203.0.113.1").await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    let (status, body) = system.log_in("ana", "a brand new password", "203.0.113.1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = body["token"].as_str().unwrap();
    let answer = patch(&system, fresh, json!({"bio": "after the change"})).await;
    assert_eq!(
        (answer["bio"].as_str(), answer["display_name"].as_str()),
        (Some("after the change"), Some("Ana Lima"))
    );
}

async fn erasure_leaves_no_snapshot_readable(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    for n in 1..=PATCHES {
        patch(&system, &token, json!({"display_name": "Ana Lima", "bio": format!("secret bio {n}")})).await;
    }
    assert!(snapshot_of(&system, &id).await.is_some());

    let (status, body) = system.erase(&token, PASSWORD).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));

    let snapshot = snapshot_of(&system, &id).await.expect("the snapshot stays, sealed");
    assert_eq!(snapshot["sealed"]["subject"].as_str(), Some(id.as_str()));
    let everything = serde_json::to_string(&scan_all(system.running.events_table.as_ref()).await).unwrap();
    for personal in ["ana@example.com", "$argon2id", "secret bio", "Ana Lima"] {
        assert!(!everything.contains(personal), "the events table holds {personal:?} in clear");
    }
    // The sealed snapshot no longer opens: loads read the events, which say erased.
    for login in ["ana", "ana@example.com"] {
        let (status, body) = system.log_in(login, PASSWORD, "203.0.113.1").await;
        assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "invalid_credentials"), "{login}");
    }
    let (status, again) = system.sign_up("ana", "ana@example.com", "a new password").await;
    assert_eq!(status, StatusCode::CREATED, "the names are free again: {again}");
    let me = system
        .eventually("/v1/me", again["token"].as_str().unwrap(), |status, _| status == StatusCode::OK)
        .await;
    assert_eq!(me["bio"], Value::Null);
}
