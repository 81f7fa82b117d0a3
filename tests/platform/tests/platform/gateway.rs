//! The runner's gateway where apps notice it is HttpApi: CORS as template.yaml configures it, and
//! API Gateway's cache of authorizer answers (a revoked token passes until its answer expires).

use huddle_accounts::{AccountsDomain, AccountsSettings, ThrottleSettings};
use huddle_runner::{Running, Settings, Storage};
use huddle_test_support::notes_api::NotesDomain;
use huddle_test_support::{moto, on_both_families, unique_name, Family};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn storage(family: Family) -> Storage {
    match family {
        Family::Embedded => Storage::Memory,
        Family::Moto => {
            Storage::Aws { endpoint: moto::endpoint().to_owned(), prefix: format!("{}-", unique_name("gw")) }
        }
    }
}

const APP: &str = "https://app.example";

/// The `access-control-*` headers of a response, by name.
fn cors_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("access-control-"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn preflights_and_answers_carry_the_templates_cors_headers_for_allowed_origins_only() {
    let mut settings = Settings::new(Storage::Memory, 0);
    settings.allowed_origins = vec![APP.into(), "http://localhost:*".into()];
    let system = huddle_runner::start(settings, vec![Arc::new(NotesDomain)]).await.expect("runner starts");
    let client = Client::new();
    let preflight = |path: &str, origin: &str| {
        client
            .request(Method::OPTIONS, format!("{}{path}", system.url()))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,idempotency-key")
            .send()
    };
    // As template.yaml's CorsConfiguration says, whether or not a route has the path.
    for (path, origin) in [("/v1/notes", APP), ("/v1/nowhere", "http://localhost:5173")] {
        let answer = preflight(path, origin).await.unwrap();
        assert_eq!(answer.status(), StatusCode::NO_CONTENT, "{path}");
        let expected = [
            (
                "access-control-allow-headers",
                "Authorization,Content-Type,Idempotency-Key,X-Correlation-Id,Huddle-Consistency",
            ),
            ("access-control-allow-methods", "GET,POST,PUT,PATCH,DELETE,OPTIONS"),
            ("access-control-allow-origin", origin),
            ("access-control-max-age", "600"),
        ];
        let expected: Vec<(String, String)> =
            expected.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
        assert_eq!(cors_headers(answer.headers()), expected, "{path} from {origin}");
    }
    // Another origin's preflight reaches $default, whose 204 carries no CORS headers: the
    // browser refuses the request.
    let refused = preflight("/v1/notes", "https://evil.example").await.unwrap();
    assert_eq!(refused.status(), StatusCode::NO_CONTENT);
    assert_eq!(cors_headers(refused.headers()), [], "no CORS headers for another origin");

    let write = |origin: &str| {
        client
            .post(format!("{}/v1/notes", system.url()))
            .header("authorization", "Bearer test:acc_ana")
            .header("origin", origin)
            .json(&json!({"text": "hello"}))
            .send()
    };
    let written = write(APP).await.unwrap();
    assert_eq!(written.status(), StatusCode::CREATED);
    assert_eq!(
        cors_headers(written.headers()),
        [
            ("access-control-allow-origin".to_owned(), APP.to_owned()),
            (
                "access-control-expose-headers".to_owned(),
                "X-Request-Id,Idempotent-Replayed,Huddle-Consistency".to_owned()
            ),
        ]
    );
    let elsewhere = write("https://evil.example").await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::CREATED, "CORS is the browser's to enforce");
    assert_eq!(cors_headers(elsewhere.headers()), []);
    system.shutdown().await;

    let any =
        huddle_runner::start(Settings::new(Storage::Memory, 0), vec![Arc::new(NotesDomain)]).await.unwrap();
    let answer = client
        .request(Method::OPTIONS, format!("{}/v1/notes", any.url()))
        .header("origin", "https://anyone.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["access-control-allow-origin"], "*", "the default allows every origin");
    any.shutdown().await;
}

on_both_families!(a_cached_allow_outlives_a_revocation_until_its_ttl_and_without_a_cache_it_ends_at_once);

async fn start_accounts(family: Family, cache: Duration) -> Running {
    let mut settings = Settings::new(storage(family), 0);
    settings.authorizer_cache_ttl = cache;
    let mut accounts = AccountsSettings::new(
        b"the gateway tests' token secret, 32+ bytes",
        b"the gateway tests' lookup key",
    );
    accounts.throttles = ThrottleSettings::LOCAL;
    huddle_runner::start(settings, vec![Arc::new(AccountsDomain::new(accounts))])
        .await
        .expect("runner starts")
}

/// Signs up `username` and returns its token.
async fn signed_up(client: &Client, system: &Running, username: &str) -> String {
    let body = json!({"username": username, "email": format!("{username}@example.com"), "password": "correct horse battery"});
    let response = client.post(format!("{}/v1/accounts", system.url())).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// Whether the authorizer let `token` through to `GET /v1/me` (whose answer may still be a 404
/// while the projection catches up).
async fn passes(client: &Client, system: &Running, token: &str) -> bool {
    let response = client.get(format!("{}/v1/me", system.url())).bearer_auth(token).send().await.unwrap();
    match response.status() {
        StatusCode::FORBIDDEN => false,
        StatusCode::OK | StatusCode::NOT_FOUND => true,
        other => panic!("GET /v1/me answered {other}"),
    }
}

async fn revoke(client: &Client, system: &Running, token: &str) {
    let response = client
        .post(format!("{}/v1/me/sessions/revoke", system.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

async fn a_cached_allow_outlives_a_revocation_until_its_ttl_and_without_a_cache_it_ends_at_once(
    family: Family,
) {
    let client = Client::new();
    let ttl = Duration::from_secs(5);
    let cached = start_accounts(family, ttl).await;
    let token = signed_up(&client, &cached, "ana").await;
    assert!(passes(&client, &cached, &token).await);
    // The answer was cached before this response left, so it expires at most a TTL from here.
    let answered = Instant::now();
    revoke(&client, &cached, &token).await;
    assert!(passes(&client, &cached, &token).await, "the cached answer still lets the revoked token in");
    assert!(answered.elapsed() < ttl, "the revocation took longer than the TTL, so the test proved nothing");
    tokio::time::sleep(ttl.saturating_sub(answered.elapsed()) + Duration::from_millis(200)).await;
    assert!(!passes(&client, &cached, &token).await, "past the TTL the authorizer is asked and refuses");
    cached.shutdown().await;

    let uncached = start_accounts(family, Duration::ZERO).await;
    let token = signed_up(&client, &uncached, "bea").await;
    assert!(passes(&client, &uncached, &token).await);
    revoke(&client, &uncached, &token).await;
    assert!(!passes(&client, &uncached, &token).await, "without a cache the revocation counts at once");
    uncached.shutdown().await;
}
