//! The accounts domain end to end through the local runner, on both adapter families: sign-up,
//! login, profiles, erasure and the authorizer, over HTTP as an app calls them.

mod api;
mod consistency;
mod cost;
mod erase;
mod input;
mod log;
mod races;
mod security;
mod snapshots;
mod throttles;
mod tokens;

use huddle_accounts::tokens::LegacyIssuer;
use huddle_accounts::AccountsSettings;
use huddle_test_support::system::{accounts_domain, accounts_settings, SystemUnderTest};
use huddle_test_support::Family;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::ops::Deref;

pub use huddle_test_support::system::{
    code, ACCOUNTS_TOKEN_SECRET as TOKEN_SECRET, PASSWORD, REQUEST_SECRET,
};

pub const LEGACY_ISSUER: &str = "https://legacy.example.com";
pub const LEGACY_PRIVATE_KEY: &str = include_str!("../../keys/legacy-rs256.key");
pub const LEGACY_PUBLIC_KEY: &str = include_str!("../../keys/legacy-rs256.pub");

/// The system with the accounts domain alone, and the requests of its routes the tests repeat
/// beyond the generic [`SystemUnderTest`]'s.
pub struct System(SystemUnderTest);

impl Deref for System {
    type Target = SystemUnderTest;

    fn deref(&self) -> &SystemUnderTest {
        &self.0
    }
}

impl System {
    /// The system with the local runner's throttles.
    pub async fn start(family: Family) -> Self {
        Self::start_with(family, |_| {}).await
    }

    /// The system with the local runner's throttles and the tests' RS256 legacy issuer, as
    /// `configure` changes them.
    pub async fn start_with(family: Family, configure: impl FnOnce(&mut AccountsSettings)) -> Self {
        let mut accounts = accounts_settings();
        accounts.legacy_issuer = Some(LegacyIssuer::new(LEGACY_ISSUER, "RS256", LEGACY_PUBLIC_KEY).unwrap());
        configure(&mut accounts);
        Self(SystemUnderTest::start(family, vec![accounts_domain(accounts)]).await)
    }

    /// Log in, from `address`.
    pub async fn log_in(&self, login: &str, password: &str, address: &str) -> (StatusCode, Value) {
        let body = json!({ "login": login, "password": password });
        self.send(SystemUnderTest::from_address(
            self.client.post(self.url("/v1/sessions")).json(&body),
            address,
        ))
        .await
    }

    /// `DELETE /v1/me` with the password.
    pub async fn erase(&self, token: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({ "password": password });
        self.send(self.client.delete(self.url("/v1/me")).bearer_auth(token).json(&body)).await
    }
}
