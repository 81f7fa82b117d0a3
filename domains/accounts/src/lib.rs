//! The accounts domain: sign-up, login, profiles and erasure behind HTTP, their projection, and
//! the JWT authorizer every other route sits behind.
//!
//! Personal data (email, password hash, display name, bio, interests) is sealed in the events
//! under the account's key; erasing the account shreds the key (see `huddle_eventstore`'s
//! `personal` module and ARCHITECTURE.md).

pub mod account;
mod authorizer;
mod command;
pub mod passwords;
mod projection;
mod query;
mod read_model;
pub mod tokens;
pub mod validation;
pub mod views;

use huddle_catalog::accounts::ACCOUNT_EVENT_TYPES;
use huddle_delivery::Projection;
use huddle_domain::{Domain, DomainPorts, DomainRoute, Role};
use huddle_http::{Authorizer, HttpFunction, Route};
use huddle_ports::FilterPolicy;
use lambda_http::http::Method;
use passwords::{PasswordCost, Passwords};
use std::sync::Arc;
use std::time::Duration;
use tokens::{LegacyIssuer, TokenIssuer, TokenVerifier};

/// How long a token is valid unless `TOKEN_LIFETIME_SECONDS` says otherwise.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The shortest secret accepted for signing tokens or keying email lookups (HS256's key size).
pub const MIN_SECRET_BYTES: usize = 32;

/// What the accounts roles are configured with. Each role needs only part of it, and its
/// Lambda gets only that part: the command signs tokens and keys email lookups, the authorizer
/// verifies tokens, the query and projector need no secret.
#[derive(Clone)]
pub struct AccountsSettings {
    pub token_secret: Option<Vec<u8>>,
    pub token_lifetime: Duration,
    pub email_lookup_key: Option<Vec<u8>>,
    pub legacy_issuer: Option<LegacyIssuer>,
    pub password_cost: PasswordCost,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0} must be at least {MIN_SECRET_BYTES} bytes")]
    ShortSecret(&'static str),
    #[error("TOKEN_LIFETIME_SECONDS must be a positive number of seconds")]
    Lifetime,
    #[error("LEGACY_ISSUER is set, so {0} must be set too")]
    LegacyIncomplete(&'static str),
    #[error(transparent)]
    Legacy(#[from] tokens::LegacyIssuerError),
}

impl AccountsSettings {
    /// Settings for a process that holds every secret (the local runner).
    pub fn new(token_secret: &[u8], email_lookup_key: &[u8]) -> Self {
        Self {
            token_secret: Some(token_secret.to_vec()),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            email_lookup_key: Some(email_lookup_key.to_vec()),
            legacy_issuer: None,
            password_cost: PasswordCost::default(),
        }
    }

    /// From the Lambda environment: `TOKEN_SECRET`, `EMAIL_LOOKUP_KEY`,
    /// `TOKEN_LIFETIME_SECONDS`, and `LEGACY_ISSUER` with `LEGACY_ALGORITHM` and `LEGACY_KEY`.
    pub fn from_env() -> Result<Self, SettingsError> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let secret = |name: &'static str| match var(name) {
            Some(value) if value.len() < MIN_SECRET_BYTES => Err(SettingsError::ShortSecret(name)),
            value => Ok(value.map(String::into_bytes)),
        };
        let token_lifetime = match var("TOKEN_LIFETIME_SECONDS") {
            None => DEFAULT_TOKEN_LIFETIME,
            Some(seconds) => {
                Duration::from_secs(seconds.parse().ok().filter(|s| *s > 0).ok_or(SettingsError::Lifetime)?)
            }
        };
        let legacy_issuer = match var("LEGACY_ISSUER") {
            None => None,
            Some(issuer) => {
                let algorithm =
                    var("LEGACY_ALGORITHM").ok_or(SettingsError::LegacyIncomplete("LEGACY_ALGORITHM"))?;
                let key = var("LEGACY_KEY").ok_or(SettingsError::LegacyIncomplete("LEGACY_KEY"))?;
                Some(LegacyIssuer::new(&issuer, &algorithm, &key)?)
            }
        };
        Ok(Self {
            token_secret: secret("TOKEN_SECRET")?,
            token_lifetime,
            email_lookup_key: secret("EMAIL_LOOKUP_KEY")?,
            legacy_issuer,
            password_cost: PasswordCost::default(),
        })
    }

    fn token_secret(&self) -> &[u8] {
        self.token_secret.as_deref().expect("TOKEN_SECRET is set for the accounts command and the authorizer")
    }
}

pub struct AccountsDomain {
    settings: AccountsSettings,
}

impl AccountsDomain {
    pub fn new(settings: AccountsSettings) -> Self {
        Self { settings }
    }
}

impl Domain for AccountsDomain {
    fn name(&self) -> &'static str {
        "accounts"
    }

    fn routes(&self) -> Vec<DomainRoute> {
        let route = |method, template, role, authorized| DomainRoute {
            route: Route::new(method, template),
            role,
            authorized,
        };
        vec![
            route(Method::POST, "/v1/accounts", Role::Command, false),
            route(Method::POST, "/v1/sessions", Role::Command, false),
            route(Method::PATCH, "/v1/me", Role::Command, true),
            route(Method::DELETE, "/v1/me", Role::Command, true),
            route(Method::GET, "/v1/me", Role::Query, true),
            route(Method::GET, "/v1/accounts/{id}", Role::Query, true),
            route(Method::GET, "/v1/accounts/by-username/{username}", Role::Query, true),
        ]
    }

    fn consumes(&self) -> FilterPolicy {
        FilterPolicy::attribute_in("event_type", ACCOUNT_EVENT_TYPES)
    }

    fn command(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        let lookup_key = self
            .settings
            .email_lookup_key
            .as_deref()
            .expect("EMAIL_LOOKUP_KEY is set for the accounts command");
        Arc::new(command::AccountsCommand {
            events: ports.events.clone(),
            passwords: Passwords::new(self.settings.password_cost),
            tokens: TokenIssuer::new(self.settings.token_secret(), self.settings.token_lifetime),
            email_lookup: command::EmailLookup::new(lookup_key),
        })
    }

    fn query(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        Arc::new(query::AccountsQuery { read_model: ports.read_model.clone() })
    }

    fn projection(&self, ports: &DomainPorts) -> Arc<dyn Projection> {
        Arc::new(projection::AccountsProjection { events: ports.events.clone() })
    }

    fn authorizer(&self, ports: &DomainPorts) -> Option<Arc<dyn Authorizer>> {
        let verifier = TokenVerifier::new(self.settings.token_secret(), self.settings.legacy_issuer.clone());
        Some(Arc::new(authorizer::JwtAuthorizer { verifier, read_model: ports.read_model.clone() }))
    }
}
