//! Any set of domains running in the local runner on either adapter family, and the HTTP
//! helpers every domain's integration tests share: a domain's tests start from
//! `SystemUnderTest::start(family, domains)` and a signed-up user.

use crate::{moto, unique_name, Family};
use huddle_accounts::{AccountsDomain, AccountsSettings, ThrottleSettings};
use huddle_domain::Domain;
use huddle_runner::{QueuePolling, Running, Settings, Storage};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The deployment's request secret (cursors, idempotency fingerprints, consistency tokens), so
/// a test can sign a token of its own.
pub const REQUEST_SECRET: &[u8] = b"the integration tests' request secret";
/// The accounts domain's token secret in [`accounts_settings`], so a test can mint tokens.
pub const ACCOUNTS_TOKEN_SECRET: &[u8] = b"the accounts tests' token secret, 32+ bytes";
/// The password [`SystemUnderTest::signed_up_user`] signs up with.
pub const PASSWORD: &str = "correct horse battery";

/// How long [`SystemUnderTest::eventually`] waits for a projection.
const EVENTUALLY_DEADLINE: Duration = Duration::from_secs(10);
/// Statuses no projection can turn into another answer: polling past them only hides a bug.
const FINAL_REFUSALS: [u16; 5] = [400, 401, 403, 422, 429];

/// The accounts domain's settings as the tests run it: the tests' token secret and email lookup
/// key, the local runner's throttles; change what a test needs before building the domain.
pub fn accounts_settings() -> AccountsSettings {
    let mut accounts = AccountsSettings::new(ACCOUNTS_TOKEN_SECRET, b"the accounts tests' email lookup key");
    accounts.throttles = ThrottleSettings::LOCAL;
    accounts
}

/// The accounts domain with `settings` (see [`accounts_settings`]).
pub fn accounts_domain(settings: AccountsSettings) -> Arc<dyn Domain> {
    Arc::new(AccountsDomain::new(settings))
}

/// A running system of some domains, and an HTTP client for it.
pub struct SystemUnderTest {
    pub running: Running,
    pub client: Client,
}

impl SystemUnderTest {
    /// `domains` in the local runner: in memory on [`Family::Embedded`], on the shared moto
    /// server under a prefix of its own on [`Family::Moto`]. The gateway trusts
    /// `X-Forwarded-For` ([`SystemUnderTest::from_address`]), the request secret is
    /// [`REQUEST_SECRET`], and queues are polled with a short visibility timeout, so a redelivery
    /// comes within a test's patience.
    pub async fn start(family: Family, domains: Vec<Arc<dyn Domain>>) -> Self {
        let mut settings = Settings::new(storage_of(family), 0);
        settings.trust_forwarded_for = true;
        settings.request_secret = REQUEST_SECRET.to_vec();
        settings.polling = QueuePolling {
            batch_size: 10,
            visibility_timeout: Duration::from_secs(5),
            concurrency: 2,
            wait: Duration::from_secs(1),
        };
        let running = huddle_runner::start(settings, domains).await.expect("runner starts");
        Self { running, client: Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    /// Sends `request`; its status and JSON body (`Null` when empty, a string when not JSON).
    pub async fn send(&self, request: RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.expect("the runner answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            },
        )
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(self.client.get(self.url(path)).bearer_auth(token)).await
    }

    /// `request` as sent from `address`.
    pub fn from_address(request: RequestBuilder, address: &str) -> RequestBuilder {
        request.header("x-forwarded-for", address)
    }

    /// `POST /v1/accounts`; the system must run the accounts domain.
    pub async fn sign_up(&self, username: &str, email: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({ "username": username, "email": email, "password": password });
        self.send(self.client.post(self.url("/v1/accounts")).json(&body)).await
    }

    /// Signs up `username` (email `<username>@example.com`, [`PASSWORD`]) and returns its
    /// account id and token; the system must run the accounts domain.
    pub async fn signed_up_user(&self, username: &str) -> (String, String) {
        let (status, body) = self.sign_up(username, &format!("{username}@example.com"), PASSWORD).await;
        assert_ne!(
            (status, code(&body)),
            (StatusCode::NOT_FOUND, "not_found"),
            "signed_up_user needs the accounts domain among the system's domains: {body}"
        );
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (body["account"]["id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned())
    }

    /// GET `path` until `done` holds (10 s at most): the read side is eventually consistent.
    /// A refusal (400, 401, 403, 422, 429) can never turn into what a projection brings, so it
    /// fails at once unless `done` is waiting for it.
    pub async fn eventually(
        &self,
        path: &str,
        token: &str,
        done: impl Fn(StatusCode, &Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + EVENTUALLY_DEADLINE;
        loop {
            let (status, body) = self.get(path, token).await;
            if done(status, &body) {
                return body;
            }
            assert!(!FINAL_REFUSALS.contains(&status.as_u16()), "{path} was refused with {status} {body}");
            assert!(Instant::now() < deadline, "{path} never got there; last {status} {body}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Where a system of `family` keeps its state: in memory, or on the shared moto server under a
/// prefix of its own.
pub fn storage_of(family: Family) -> Storage {
    match family {
        Family::Embedded => Storage::Memory,
        Family::Moto => {
            Storage::Aws { endpoint: moto::endpoint().to_owned(), prefix: format!("{}-", unique_name("sys")) }
        }
    }
}

/// The `error.code` of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}
