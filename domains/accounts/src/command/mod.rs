//! The command role: each use case in its own file, executed on the account's stream with the
//! decider kit (`huddle_domain::decider`: load, decide, append in one transaction, decide again
//! on a conflict). What they share lives here: throttling password guesses, the execution of a
//! caller's command, its errors, and answering with a token; `loaded.rs` reads an account.

mod erase;
mod legacy_link;
pub(crate) mod loaded;
mod log_in;
mod password;
mod profile;
mod sessions;
mod sign_up;

use loaded::{active, Loaded};
use sessions::revocation;

use crate::account::{Account, AccountCommand, AccountError, ActiveAccount, Reservation, ReservationCommand};
use crate::lookup::Lookup;
use crate::passwords::Passwords;
use crate::routes::{Operation, ROUTES};
use crate::tokens::{TokenIssuer, TokenVerifier};
use crate::views::{PrivateProfile, SignedIn};
use crate::ThrottleSettings;
use async_trait::async_trait;
use huddle_catalog::accounts::account_stream;
pub(crate) use huddle_domain::decider::refused;
use huddle_domain::decider::{load, StreamError};
use huddle_domain::operation;
use huddle_domain::throttle::{Limit, Throttle, Throttled, Ticket};
use huddle_domain::Execution;
use huddle_eventstore::{EventStore, Metadata, StreamWrite};
use huddle_http::{
    correlation_id, json_response, request_id, source_ip, ApiError, Body, HttpFunction, IdempotencyKeys,
    Request, Response,
};
use huddle_ports::Table;
use lambda_http::http::StatusCode;
use std::sync::Arc;
use time::OffsetDateTime;

/// An account id no account has (ULIDs of time zero are never made): a login for an unknown
/// name reads this account's streams, so it costs the same reads as a login for a known one.
const NO_ACCOUNT: &str = "acc_00000000000000000000000000";

pub struct AccountsCommand {
    pub(crate) events: EventStore,
    pub(crate) passwords: Passwords,
    pub(crate) tokens: TokenIssuer,
    pub(crate) lookup: Lookup,
    pub(crate) idempotency: IdempotencyKeys,
    pub(crate) throttles: Throttles,
    /// Verifies the legacy tokens presented to link a legacy user; `None` when no legacy issuer
    /// is trusted.
    pub(crate) legacy: Option<TokenVerifier>,
}

/// The throttles of password guesses and sign-ups, on the shared counters table.
pub(crate) struct Throttles {
    login_per_ip: Throttle,
    login_per_name: Throttle,
    sign_up_per_ip: Throttle,
    /// One per sign-up and its identical retries: the first of racing twins counts against its
    /// address, the others ride on it.
    sign_up_twins: Throttle,
}

impl Throttles {
    pub(crate) fn new(counters: Arc<dyn Table>, settings: &ThrottleSettings) -> Self {
        Self {
            login_per_ip: Throttle::new(counters.clone(), "login-ip", settings.login_failures_per_ip),
            login_per_name: Throttle::new(counters.clone(), "login-name", settings.login_failures_per_name),
            sign_up_per_ip: Throttle::new(counters.clone(), "sign-up-ip", settings.sign_ups_per_ip),
            sign_up_twins: Throttle::new(counters, "sign-up-twin", Limit::new(1, 24 * 60 * 60)),
        }
    }
}

/// A password guess, counted against its login name and its source address before the
/// password is hashed; given back when the password was right.
struct Guess {
    tickets: Vec<(Throttle, Ticket)>,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "the login or the password is wrong")
}

fn too_many_attempts(throttled: Throttled) -> ApiError {
    ApiError::too_many_requests(
        "too_many_attempts",
        "too many attempts; try again later",
        throttled.retry_after,
    )
}

fn username_taken() -> ApiError {
    ApiError::conflict("username_taken", "this username is taken")
}

fn email_taken() -> ApiError {
    ApiError::conflict("email_taken", "an account with this email address exists")
}

/// Where a guess comes from, for the per-address throttle: the IPv4 address, or the /64 of an
/// IPv6 one (a single subscriber gets a whole /64, so a full address is free to change).
fn address_bucket(source_ip: &str) -> String {
    match source_ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        _ => source_ip.to_owned(),
    }
}

fn no_content() -> Response<Body> {
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).expect("a response")
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::NotFound => ApiError::not_found("no such account"),
            AccountError::AlreadyExists => ApiError::conflict("already_exists", error.to_string()),
            AccountError::LinkedElsewhere => ApiError::conflict("legacy_subject_linked", error.to_string()),
        }
    }
}

impl AccountsCommand {
    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        match operation(&ROUTES, &request)? {
            Operation::SignUp => self.sign_up(&request).await,
            Operation::LogIn => self.log_in(&request).await,
            Operation::UpdateProfile => self.update_profile(&request).await,
            Operation::ChangePassword => self.change_password(&request).await,
            Operation::RevokeSessions => self.revoke_sessions(&request).await,
            Operation::LinkLegacySubject => self.link_legacy_subject(&request).await,
            Operation::EraseAccount => self.erase(&request).await,
            query => Err(ApiError::not_found(format!("{query:?} is not a command"))),
        }
    }

    /// Count a password guess against `name` (the account when the login names one, else the
    /// login as typed, so a username and an address of one account share one budget) and the
    /// request's address: 429 once either is over its limit, before any hashing.
    async fn guess(&self, request: &Request, name: &str) -> Result<Guess, ApiError> {
        let failed = |e: huddle_ports::TableError| ApiError::internal(&request_id(request), &e);
        let by_ip = self.lookup.throttle_subject("ip", &address_bucket(&source_ip(request)));
        let by_name = self.lookup.throttle_subject("login", name);
        let (ip, name) = tokio::join!(
            self.throttles.login_per_ip.take(&by_ip),
            self.throttles.login_per_name.take(&by_name)
        );
        let mut tickets = Vec::with_capacity(2);
        let mut refused = None;
        for (throttle, taken) in [
            (&self.throttles.login_per_ip, ip.map_err(failed)?),
            (&self.throttles.login_per_name, name.map_err(failed)?),
        ] {
            match taken {
                Ok(ticket) => tickets.push((throttle.clone(), ticket)),
                Err(throttled) => refused = Some(throttled),
            }
        }
        match refused {
            Some(throttled) => Err(too_many_attempts(throttled)),
            None => Ok(Guess { tickets }),
        }
    }

    /// Whether `password` is `account`'s (`None`: no account, which costs the same and fails).
    /// A wrong password stays counted in `guess`; a right one gives the guess back.
    async fn check_password(
        &self,
        guess: Guess,
        password: String,
        account: Option<&ActiveAccount>,
        request_id: &str,
    ) -> Result<(), ApiError> {
        if !self.passwords.verify(password, account.map(|a| a.password_hash.clone())).await {
            return Err(invalid_credentials());
        }
        for (throttle, ticket) in guess.tickets {
            throttle.refund(ticket).await.map_err(|e| ApiError::internal(request_id, &e))?;
        }
        Ok(())
    }

    /// `command` on `account_id`'s stream, made by the caller of `request`.
    fn on_account(
        &self,
        request: &Request,
        account_id: &str,
        command: AccountCommand,
    ) -> Execution<'_, Account> {
        let metadata =
            Metadata::new(correlation_id(request)).actor(account_id).caused_by(request_id(request));
        Execution::new(&self.events, account_stream(account_id), command, metadata)
    }

    /// The release of `account_id`'s hold on the name of reservation `stream`, if it holds it.
    async fn release(&self, stream: String, account_id: &str) -> Result<Option<StreamWrite>, StreamError> {
        let name = load::<Reservation>(&self.events, stream).await?;
        let release = ReservationCommand::Release { account_id: account_id.to_owned() };
        name.write(&name.decide(release).unwrap_or_default())
    }

    /// The caller's account, once `password` proves it is theirs: for the changes a stolen token
    /// alone must not make.
    async fn reauthenticate(
        &self,
        request: &Request,
        account_id: &str,
        password: String,
    ) -> Result<Loaded, ApiError> {
        let request_id = request_id(request);
        let loaded = self.load(account_id, &request_id).await?;
        let guess = self.guess(request, account_id).await?;
        self.check_password(guess, password, Some(loaded.active()?), &request_id).await?;
        Ok(loaded)
    }

    /// The account with a token of token generation `generation`.
    fn signed_in(
        &self,
        status: StatusCode,
        account_id: &str,
        account: &Account,
        created_at: OffsetDateTime,
        generation: u64,
    ) -> Result<Response<Body>, ApiError> {
        let account = active(account)?;
        let token = self.tokens.issue(account_id, &account.username, generation);
        let body = SignedIn {
            account: PrivateProfile::of(account_id, account, created_at),
            token: token.token,
            token_type: token.token_type,
            expires_in: token.expires_in,
        };
        Ok(json_response(status, &body))
    }
}

#[async_trait]
impl HttpFunction for AccountsCommand {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::address_bucket;

    #[test]
    fn guesses_from_one_ipv6_subscriber_share_a_bucket() {
        assert_eq!(address_bucket("203.0.113.7"), "203.0.113.7");
        assert_eq!(address_bucket("2001:db8:1:2:aaaa::1"), address_bucket("2001:db8:1:2:bbbb::2"));
        assert_ne!(address_bucket("2001:db8:1:2::1"), address_bucket("2001:db8:1:3::1"));
    }
}
