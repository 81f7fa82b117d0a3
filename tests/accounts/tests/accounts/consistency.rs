//! Read your own writes: `GET /v1/me` from the log, and the `Huddle-Consistency` token that
//! makes any query wait for a command's writes.

use crate::{code, System, REQUEST_SECRET};
use huddle_catalog::accounts::account_stream;
use huddle_delivery::CHECKPOINT_PREFIX;
use huddle_domain::consistency::{self, HEADER, WAIT};
use huddle_eventstore::Written;
use huddle_http::CursorCodec;
use huddle_ports::{Condition, Key, Scan};
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

on_both_families!(
    the_own_account_is_read_from_the_log_the_moment_sign_up_answers,
    a_commands_token_makes_a_read_include_its_writes,
    a_tampered_or_foreign_token_is_refused,
    a_token_the_projection_never_reaches_answers_503_after_the_wait,
    a_refused_request_names_no_writes_not_even_the_first_append_of_its_key,
);

/// `GET path` with `token`, sending `consistency` back.
pub async fn read_after(system: &System, path: &str, token: &str, consistency: &str) -> (StatusCode, Value) {
    system.send(system.client.get(system.url(path)).bearer_auth(token).header(HEADER, consistency)).await
}

/// Every item of the read table but the projection's checkpoints: the read side loses what it
/// projected, and never projects it again.
async fn forget_the_projected_profiles(system: &System) {
    let read_model = &system.running.domains[0].read_model;
    let page = read_model.scan(&Scan::default().limit(1000)).await.unwrap();
    assert!(page.next.is_none(), "one page holds this test's read table");
    for item in page.items {
        let (pk, sk) = (item["pk"].as_str().unwrap(), item["sk"].as_str().unwrap());
        if !pk.starts_with(CHECKPOINT_PREFIX) {
            read_model.delete(&Key::new(pk, sk), Condition::Always).await.unwrap();
        }
    }
}

async fn the_own_account_is_read_from_the_log_the_moment_sign_up_answers(family: Family) {
    let system = System::start(family).await;
    let (status, signed_up) = system.sign_up("ana", "ana@example.com", crate::PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED, "{signed_up}");
    let token = signed_up["token"].as_str().unwrap();
    let (status, me) = system.get("/v1/me", token).await;
    assert_eq!((status, &me), (StatusCode::OK, &signed_up["account"]), "at once, with no token sent back");

    // Once the projection has it, the read table is wiped: only the log can still answer.
    let id = signed_up["account"]["id"].as_str().unwrap();
    let profile = format!("/v1/accounts/{id}");
    system.eventually(&profile, token, |status, _| status == StatusCode::OK).await;
    forget_the_projected_profiles(&system).await;
    assert_eq!(system.get(&profile, token).await.0, StatusCode::NOT_FOUND, "the read table forgot it");
    assert_eq!(system.get("/v1/me", token).await, (StatusCode::OK, me));
}

async fn a_commands_token_makes_a_read_include_its_writes(family: Family) {
    let system = System::start(family).await;
    let response = system
        .client
        .post(system.url("/v1/accounts"))
        .json(&json!({"username": "ana", "email": "ana@example.com", "password": crate::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let signed_up_token = response.headers()[HEADER].to_str().unwrap().to_owned();
    let signed_up: Value = response.json().await.unwrap();
    let (ana_token, id) =
        (signed_up["token"].as_str().unwrap(), signed_up["account"]["id"].as_str().unwrap());
    let (_, bea_token) = system.signed_up_user("bea").await;
    let profile = format!("/v1/accounts/{id}");
    let (status, body) = read_after(&system, &profile, &bea_token, &signed_up_token).await;
    assert_eq!((status, body["username"].as_str()), (StatusCode::OK, Some("ana")), "{body}");

    for name in ["Ana", "Ana Lima", "Ana L."] {
        let patch = system.client.patch(system.url("/v1/me")).bearer_auth(ana_token);
        let response = patch.json(&json!({"display_name": name})).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let consistency = response.headers()[HEADER].to_str().unwrap().to_owned();
        let (status, body) = read_after(&system, &profile, &bea_token, &consistency).await;
        assert_eq!((status, body["display_name"].as_str()), (StatusCode::OK, Some(name)), "{body}");
    }
}

async fn a_tampered_or_foreign_token_is_refused(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    let written = Written::from([(account_stream(&id), 1)]);
    let genuine = consistency::token(&CursorCodec::new(REQUEST_SECRET), &written).unwrap();
    let (payload, tag) = genuine.split_once('.').unwrap();
    let flipped = if tag.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{payload}.{flipped}{}", &tag[1..]);
    let foreign = consistency::token(&CursorCodec::new(b"another deployment"), &written).unwrap();
    let profile = format!("/v1/accounts/{id}");
    for refused in [tampered, foreign, "x".repeat(5000)] {
        let (status, body) = read_after(&system, &profile, &token, &refused).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "invalid_consistency_token"), "{body}");
    }
    let (status, body) = read_after(&system, &profile, &token, &genuine).await;
    assert_eq!(status, StatusCode::OK, "the same token untouched: {body}");
}

async fn a_token_the_projection_never_reaches_answers_503_after_the_wait(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    let profile = format!("/v1/accounts/{id}");
    let codec = CursorCodec::new(REQUEST_SECRET);
    let ahead = consistency::token(&codec, &Written::from([(account_stream(&id), 1000)])).unwrap();
    let started = Instant::now();
    let response = system
        .client
        .get(system.url(&profile))
        .bearer_auth(&token)
        .header(HEADER, ahead)
        .send()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "projection_behind", "{body}");
    assert!(waited >= WAIT && waited < WAIT + Duration::from_secs(2), "answered after {waited:?}");

    // A stream the accounts projection never takes is not waited for, whatever its version.
    let unconsumed = consistency::token(&codec, &Written::from([("username#ana".to_owned(), 1000)])).unwrap();
    let started = Instant::now();
    let (status, body) = read_after(&system, &profile, &token, &unconsumed).await;
    assert!(started.elapsed() < WAIT, "waited for a stream it does not consume");
    assert!(matches!(status, StatusCode::OK | StatusCode::NOT_FOUND), "{status} {body}");
}

/// An idempotency key reused for another body is refused; its answer must not carry a token
/// naming the first request's streams (whose account id a guesser of keys would learn).
async fn a_refused_request_names_no_writes_not_even_the_first_append_of_its_key(family: Family) {
    let system = System::start(family).await;
    let sign_up = |username: &str| {
        let body = json!({ "username": username, "email": format!("{username}@example.com"), "password": crate::PASSWORD });
        system.client.post(system.url("/v1/accounts")).header("idempotency-key", "k-1").json(&body)
    };
    let first = sign_up("ana").send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().contains_key(HEADER.as_str()), "a success names its writes");
    let reused = sign_up("mallory").send().await.unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!reused.headers().contains_key(HEADER.as_str()), "{:?}", reused.headers());
}
