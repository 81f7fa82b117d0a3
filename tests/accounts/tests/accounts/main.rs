//! The accounts domain end to end through the local runner, on both adapter families: sign-up,
//! login, profiles, erasure and the authorizer, over HTTP as an app calls them.

mod api;
mod consistency;
mod erase;
mod input;
mod log;
mod races;
mod security;
mod snapshots;
mod throttles;
mod tokens;

use huddle_accounts::tokens::LegacyIssuer;
use huddle_accounts::{AccountsDomain, AccountsSettings, ThrottleSettings};
use huddle_runner::{QueuePolling, Running, Settings, Storage};
use huddle_test_support::{moto, unique_name, Family};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const TOKEN_SECRET: &[u8] = b"the accounts tests' token secret, 32+ bytes";
/// The deployment's request secret (cursors, idempotency fingerprints, consistency tokens), so
/// a test can sign a token of its own.
pub const REQUEST_SECRET: &[u8] = b"the accounts tests' request secret";
pub const LEGACY_ISSUER: &str = "https://legacy.example.com";
pub const LEGACY_PRIVATE_KEY: &str = include_str!("../../keys/legacy-rs256.key");
pub const LEGACY_PUBLIC_KEY: &str = include_str!("../../keys/legacy-rs256.pub");

/// A running system with the accounts domain, and an HTTP client for it.
pub struct System {
    pub running: Running,
    pub client: Client,
}

pub const PASSWORD: &str = "correct horse battery";

impl System {
    /// The system with the local runner's throttles.
    pub async fn start(family: Family) -> Self {
        Self::start_with(family, |_| {}).await
    }

    /// The system with the local runner's throttles and the tests' RS256 legacy issuer, as
    /// `configure` changes them. Clients may say which address they call from with
    /// `X-Forwarded-For` ([`System::from`]).
    pub async fn start_with(family: Family, configure: impl FnOnce(&mut AccountsSettings)) -> Self {
        let storage = match family {
            Family::Embedded => Storage::Memory,
            Family::Moto => Storage::Aws {
                endpoint: moto::endpoint().to_owned(),
                prefix: format!("{}-", unique_name("acc")),
            },
        };
        let mut settings = Settings::new(storage, 0);
        settings.trust_forwarded_for = true;
        settings.request_secret = REQUEST_SECRET.to_vec();
        settings.polling =
            QueuePolling { batch_size: 10, visibility_timeout: Duration::from_secs(5), concurrency: 2 };
        let mut accounts = AccountsSettings::new(TOKEN_SECRET, b"the accounts tests' email lookup key");
        accounts.legacy_issuer = Some(LegacyIssuer::new(LEGACY_ISSUER, "RS256", LEGACY_PUBLIC_KEY).unwrap());
        accounts.throttles = ThrottleSettings::LOCAL;
        configure(&mut accounts);
        let running = huddle_runner::start(settings, vec![Arc::new(AccountsDomain::new(accounts))])
            .await
            .expect("runner starts");
        Self { running, client: Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

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

    pub async fn sign_up(&self, username: &str, email: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({ "username": username, "email": email, "password": password });
        self.send(self.client.post(self.url("/v1/accounts")).json(&body)).await
    }

    /// Sign up `username` and return its account id and token.
    pub async fn account(&self, username: &str) -> (String, String) {
        let (status, body) = self.sign_up(username, &format!("{username}@example.com"), PASSWORD).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (body["account"]["id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned())
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(self.client.get(self.url(path)).bearer_auth(token)).await
    }

    /// `request` as sent from `address`.
    pub fn from(request: RequestBuilder, address: &str) -> RequestBuilder {
        request.header("x-forwarded-for", address)
    }

    /// Log in, from `address`.
    pub async fn log_in(&self, login: &str, password: &str, address: &str) -> (StatusCode, Value) {
        let body = json!({ "login": login, "password": password });
        self.send(Self::from(self.client.post(self.url("/v1/sessions")).json(&body), address)).await
    }

    /// `DELETE /v1/me` with the password.
    pub async fn erase(&self, token: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({ "password": password });
        self.send(self.client.delete(self.url("/v1/me")).bearer_auth(token).json(&body)).await
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
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self.get(path, token).await;
            if done(status, &body) {
                return body;
            }
            let final_refusal = [400, 401, 403, 422, 429].contains(&status.as_u16());
            assert!(!final_refusal, "{path} was refused with {status} {body}");
            assert!(Instant::now() < deadline, "{path} never got there; last {status} {body}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The `error.code` of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}
