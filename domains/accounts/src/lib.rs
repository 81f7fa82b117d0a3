//! The accounts domain: sign-up, login, profiles and erasure behind HTTP, their projection, and
//! the JWT authorizer every other route sits behind.
//!
//! Personal data (email, password hash, display name, bio, interests) is sealed in the events
//! under the account's key; erasing the account shreds the key (see `huddle_eventstore`'s
//! `personal` module and ARCHITECTURE.md).

pub mod account;
mod authorizer;
mod command;
mod lookup;
pub mod passwords;
mod projection;
mod query;
mod read_model;
pub mod routes;
pub mod tokens;
pub mod validation;
pub mod views;

use huddle_catalog::accounts::{account_stream, AccountEvent};
use huddle_delivery::Projection;
use huddle_domain::throttle::{Limit, LimitSyntax};
use huddle_domain::{Domain, DomainPorts, DomainRoute, Role};
use huddle_eventstore::{attribute, EventSchema};
use huddle_graph::visibility::GraphReader;
use huddle_http::{Authorizer, HttpFunction};
use huddle_ports::FilterPolicy;
use lookup::Lookup;
use passwords::{PasswordCost, Passwords};
use std::sync::Arc;
use std::time::Duration;
use tokens::{LegacyIssuer, TokenIssuer, TokenVerifier};

/// How long a token is valid unless `TOKEN_LIFETIME_SECONDS` says otherwise.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The shortest secret accepted for signing tokens or keying email lookups (HS256's key size).
pub const MIN_SECRET_BYTES: usize = 32;

/// What the accounts roles are configured with. Each role needs only part of it, and its
/// Lambda gets only that part: the command signs tokens and keys lookups, the authorizer
/// verifies tokens (and keys legacy lookups when it trusts a legacy issuer), the query and
/// projector need no secret.
#[derive(Clone)]
pub struct AccountsSettings {
    pub token_secret: Option<Vec<u8>>,
    pub token_lifetime: Duration,
    pub email_lookup_key: Option<Vec<u8>>,
    pub legacy_issuer: Option<LegacyIssuer>,
    pub password_cost: PasswordCost,
    pub throttles: ThrottleSettings,
}

/// How much guessing the command allows, per window, across all its instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failed logins (and other wrong passwords) from one source address.
    pub login_failures_per_ip: Limit,
    /// Failed logins for one login name, from anywhere.
    pub login_failures_per_name: Limit,
    /// Sign-up attempts from one source address.
    pub sign_ups_per_ip: Limit,
}

impl ThrottleSettings {
    /// Mastodon's figures: 25 failed logins per 5 minutes per address, 10 per 15 minutes per
    /// name, 5 sign-ups per 30 minutes per address. template.yaml's defaults.
    pub const PRODUCTION: Self = Self {
        login_failures_per_ip: Limit::new(25, 300),
        login_failures_per_name: Limit::new(10, 900),
        sign_ups_per_ip: Limit::new(5, 1800),
    };

    /// The local runner's defaults: a test script on loopback may sign up a few hundred
    /// accounts a minute and get many logins wrong, while one name is still throttled as in
    /// production.
    pub const LOCAL: Self = Self {
        login_failures_per_ip: Limit::new(300, 300),
        login_failures_per_name: Limit::new(10, 900),
        sign_ups_per_ip: Limit::new(300, 60),
    };
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0} must be at least {MIN_SECRET_BYTES} bytes")]
    ShortSecret(&'static str),
    #[error("TOKEN_LIFETIME_SECONDS must be a positive number of seconds")]
    Lifetime,
    #[error("LEGACY_ISSUER is set, so {0} must be set too")]
    LegacyIncomplete(&'static str),
    #[error("LEGACY_MAX_AGE_SECONDS must be a positive number of seconds")]
    LegacyMaxAge,
    #[error(transparent)]
    Legacy(#[from] tokens::LegacyIssuerError),
    #[error("{0}: {1}")]
    Limit(&'static str, LimitSyntax),
}

impl AccountsSettings {
    /// Settings for a process that holds every secret (the local runner), with production
    /// throttles.
    pub fn new(token_secret: &[u8], email_lookup_key: &[u8]) -> Self {
        Self {
            token_secret: Some(token_secret.to_vec()),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            email_lookup_key: Some(email_lookup_key.to_vec()),
            legacy_issuer: None,
            password_cost: PasswordCost::default(),
            throttles: ThrottleSettings::PRODUCTION,
        }
    }

    /// From the Lambda environment: `TOKEN_SECRET`, `EMAIL_LOOKUP_KEY`,
    /// `TOKEN_LIFETIME_SECONDS`, `LEGACY_ISSUER` with `LEGACY_ALGORITHM`, `LEGACY_KEY` and
    /// optionally `LEGACY_AUDIENCE` and `LEGACY_MAX_AGE_SECONDS`, and the throttles
    /// `LOGIN_FAILURES_PER_IP`, `LOGIN_FAILURES_PER_NAME`, `SIGN_UPS_PER_IP` (`MAX/SECONDS`).
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
                let mut legacy = LegacyIssuer::new(&issuer, &algorithm, &key)?;
                if let Some(audience) = var("LEGACY_AUDIENCE") {
                    legacy = legacy.with_audience(audience);
                }
                if let Some(seconds) = var("LEGACY_MAX_AGE_SECONDS") {
                    let seconds =
                        seconds.parse().ok().filter(|s| *s > 0).ok_or(SettingsError::LegacyMaxAge)?;
                    legacy = legacy.with_max_age(Duration::from_secs(seconds));
                }
                Some(legacy)
            }
        };
        let limit = |name: &'static str, default: Limit| match var(name) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|e| SettingsError::Limit(name, e)),
        };
        let production = ThrottleSettings::PRODUCTION;
        let throttles = ThrottleSettings {
            login_failures_per_ip: limit("LOGIN_FAILURES_PER_IP", production.login_failures_per_ip)?,
            login_failures_per_name: limit("LOGIN_FAILURES_PER_NAME", production.login_failures_per_name)?,
            sign_ups_per_ip: limit("SIGN_UPS_PER_IP", production.sign_ups_per_ip)?,
        };
        Ok(Self {
            token_secret: secret("TOKEN_SECRET")?,
            token_lifetime,
            email_lookup_key: secret("EMAIL_LOOKUP_KEY")?,
            legacy_issuer,
            password_cost: PasswordCost::default(),
            throttles,
        })
    }

    fn token_secret(&self) -> &[u8] {
        self.token_secret.as_deref().expect("TOKEN_SECRET is set for the accounts command and the authorizer")
    }

    fn lookup(&self) -> Lookup {
        Lookup::new(
            self.email_lookup_key.as_deref().expect("EMAIL_LOOKUP_KEY is set for the accounts command"),
        )
    }

    fn verifier(&self) -> TokenVerifier {
        TokenVerifier::new(self.token_secret(), self.legacy_issuer.clone())
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
        routes::ROUTES.iter().map(|route| route.erased()).collect()
    }

    /// Account events of account streams only: another domain may reuse these event names.
    /// `huddle template` writes it as template.yaml's AccountsSubscription filter policy.
    fn consumes(&self) -> FilterPolicy {
        // The stream type is what precedes the `#` of an account stream's id.
        let account_streams = account_stream("");
        let account_stream_type = account_streams.trim_end_matches('#');
        FilterPolicy::all_of(&[
            (attribute::STREAM_TYPE, &[account_stream_type]),
            // All of them, those the projection ignores too, so it never has to heal a gap
            // they would leave.
            (attribute::EVENT_TYPE, AccountEvent::event_types()),
        ])
    }

    /// The query reads the graph's: profiles show its follow counts, and a block hides them.
    fn reads(&self, role: Role) -> &'static [&'static str] {
        match role {
            Role::Query => &[huddle_graph::NAME],
            Role::Command => &[],
        }
    }

    fn command(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        let verifier = self.settings.verifier();
        Arc::new(command::AccountsCommand {
            events: ports.events.clone(),
            passwords: Passwords::new(self.settings.password_cost),
            tokens: TokenIssuer::new(self.settings.token_secret(), self.settings.token_lifetime),
            lookup: self.settings.lookup(),
            idempotency: ports.idempotency.clone(),
            throttles: command::Throttles::new(ports.counters.clone(), &self.settings.throttles),
            legacy: verifier.trusts_legacy().then_some(verifier),
        })
    }

    fn query(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        Arc::new(query::AccountsQuery {
            read_model: ports.read_model.clone(),
            events: ports.events.clone(),
            graph: GraphReader::new(ports.granted(huddle_graph::NAME)),
        })
    }

    fn projection(&self, ports: &DomainPorts) -> Arc<dyn Projection> {
        Arc::new(projection::AccountsProjection { events: ports.events.clone() })
    }

    fn authorizer(&self, ports: &DomainPorts) -> Option<Arc<dyn Authorizer>> {
        let verifier = self.settings.verifier();
        // Only a legacy issuer's subjects need the lookup key, to find their links.
        let lookup = verifier.trusts_legacy().then(|| self.settings.lookup());
        Some(Arc::new(authorizer::JwtAuthorizer { verifier, lookup, events: ports.events.clone() }))
    }
}
