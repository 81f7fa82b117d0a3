//! The command role: sign-up, login, profile changes and erasure, decided against the streams
//! of the events table and appended in one transaction each.

use crate::account::{
    decide, decide_reservation, evolve, evolve_reservation, Account, AccountCommand, AccountError,
    ActiveAccount, Reservation, ReservationCommand,
};
use crate::passwords::Passwords;
use crate::tokens::TokenIssuer;
use crate::validation::{self, LoginRequest, ProfilePatch, SignUpRequest};
use crate::views::PrivateProfile;
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use huddle_catalog::accounts::{
    account_stream, email_stream, username_stream, AccountEvent, ReservationEvent,
};
use huddle_eventstore::{
    decode, decode_personal, encode, encode_personal, AppendError, Appended, EventStore, ExpectedVersion,
    KeyChange, Metadata, StreamWrite, SubjectKey,
};
use huddle_http::{
    caller, correlation_id, idempotency_for, json_body, json_response, replayed, request_id, route_key,
    ApiError, Body, HttpFunction, IdempotentRequest, Request, Response,
};
use lambda_http::http::StatusCode;
use serde_json::json;
use sha2::Sha256;
use time::OffsetDateTime;

/// How often a profile change or an erasure re-reads and retries after a concurrent write.
const MAX_ATTEMPTS: usize = 3;

/// Names an email address's reservation stream without the address: a keyed hash, so the log
/// does not let anyone without the key confirm a guessed address.
#[derive(Clone)]
pub struct EmailLookup {
    key: Vec<u8>,
}

impl EmailLookup {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// `address` is already normalised.
    pub fn stream(&self, address: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(address.as_bytes());
        email_stream(&hex::encode(mac.finalize().into_bytes()))
    }
}

pub struct AccountsCommand {
    pub(crate) events: EventStore,
    pub(crate) passwords: Passwords,
    pub(crate) tokens: TokenIssuer,
    pub(crate) email_lookup: EmailLookup,
}

/// An account as its stream says, with what a write to it needs.
struct Loaded {
    account: Account,
    version: u64,
    created_at: OffsetDateTime,
    key: Option<SubjectKey>,
}

impl Loaded {
    fn active(&self) -> Result<&ActiveAccount, ApiError> {
        match &self.account {
            Account::Active(account) => Ok(account),
            _ => Err(ApiError::not_found("no such account")),
        }
    }
}

fn invalid_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "the login or the password is wrong")
}

impl AccountsCommand {
    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        match route_key(&request).as_str() {
            "POST /v1/accounts" => self.sign_up(&request).await,
            "POST /v1/sessions" => self.log_in(&request).await,
            "PATCH /v1/me" => self.update_profile(&request).await,
            "DELETE /v1/me" => self.erase(&request).await,
            other => Err(ApiError::not_found(format!("no route {other}"))),
        }
    }

    async fn sign_up(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let request_id = request_id(request);
        let failed = |e: AppendError| ApiError::internal(&request_id, &e);
        let sign_up =
            validation::sign_up(json_body::<SignUpRequest>(request)?).map_err(ApiError::validation)?;
        // The key's fingerprint leaves the password out: its hash must not be stored.
        let material = format!("{}\n{}\n{:?}", sign_up.username, sign_up.email, sign_up.display_name);
        let retry = idempotency_for(request, "sign-up", material.as_bytes())?;
        if let Some(retry) = &retry {
            if let Some(first) = retry.previous(&self.events).await.map_err(failed)? {
                return self.repeat_sign_up(retry, &first, &request_id).await;
            }
        }

        let username_stream = username_stream(&sign_up.username);
        let email_stream = self.email_lookup.stream(&sign_up.email);
        let (username_holder, username_version) = self.reservation(&username_stream, &request_id).await?;
        let (email_holder, email_version) = self.reservation(&email_stream, &request_id).await?;
        let account_id = format!("acc_{}", ulid::Ulid::new());
        let claim = |holder: &Reservation, taken: ApiError| {
            decide_reservation(holder, ReservationCommand::Claim { account_id: account_id.clone() })
                .map_err(|_| taken)
        };
        let username_claim = claim(&username_holder, username_taken())?;
        let email_claim = claim(&email_holder, email_taken())?;

        let password_hash =
            self.passwords.hash(sign_up.password).await.map_err(|e| ApiError::internal(&request_id, &e))?;
        let registration = AccountCommand::Register {
            username: sign_up.username.clone(),
            email: sign_up.email,
            password_hash,
            display_name: sign_up.display_name,
        };
        let registered =
            decide(&Account::Missing, registration).map_err(|e| ApiError::internal(&request_id, &e))?;
        let key = SubjectKey::generate(&account_id);
        let writes = vec![
            StreamWrite {
                stream: account_stream(&account_id),
                expected: ExpectedVersion::NoStream,
                events: registered.iter().map(|event| encode_personal(event, &key)).collect(),
            },
            StreamWrite {
                stream: username_stream.clone(),
                expected: ExpectedVersion::Exact(username_version),
                events: username_claim.iter().map(encode).collect(),
            },
            StreamWrite {
                stream: email_stream.clone(),
                expected: ExpectedVersion::Exact(email_version),
                events: email_claim.iter().map(encode).collect(),
            },
        ];
        let metadata = Metadata::new(correlation_id(request)).actor(&account_id).caused_by(&request_id);
        let receipt = retry
            .as_ref()
            .map(|r| r.with_response(StatusCode::CREATED, &json!({ "account_id": account_id })));
        let appended = self
            .events
            .append_with_keys(writes, vec![KeyChange::Create(key)], &metadata, receipt)
            .await
            .map_err(|error| match error {
                AppendError::Conflict { stream, .. } if stream == username_stream => username_taken(),
                AppendError::Conflict { stream, .. } if stream == email_stream => email_taken(),
                other => ApiError::from_append(other, &request_id),
            })?;
        if let Some(retry) = retry.as_ref().filter(|_| appended.replayed) {
            return self.repeat_sign_up(retry, &appended, &request_id).await;
        }
        let account = registered.iter().fold(Account::Missing, evolve);
        let Account::Active(account) = account else {
            unreachable!("a registration makes an active account")
        };
        let created_at = appended.occurred_at.unwrap_or_else(OffsetDateTime::now_utc);
        Ok(self.signed_in(StatusCode::CREATED, &account_id, &account, created_at))
    }

    /// The answer to a repeated sign-up: the same account, with a fresh token (tokens are never
    /// stored with the idempotency key).
    async fn repeat_sign_up(
        &self,
        retry: &IdempotentRequest,
        first: &Appended,
        request_id: &str,
    ) -> Result<Response<Body>, ApiError> {
        let Some((status, body)) = retry.first_response(first)? else {
            return Err(ApiError::internal(request_id, &"a replayed sign-up without its first response"));
        };
        let account_id = body["account_id"].as_str().unwrap_or_default().to_owned();
        let loaded = self.load(&account_id, request_id).await?;
        Ok(replayed(self.signed_in(status, &account_id, loaded.active()?, loaded.created_at)))
    }

    async fn log_in(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let request_id = request_id(request);
        let (login, password) =
            validation::login(json_body::<LoginRequest>(request)?).map_err(ApiError::validation)?;
        let reservation = if login.contains('@') {
            validation::email(&login).ok().map(|address| self.email_lookup.stream(&address))
        } else {
            validation::username(&login).ok().map(|name| username_stream(&name))
        };
        let mut account = None;
        if let Some(stream) = reservation {
            if let (Reservation::Held { account_id }, _) = self.reservation(&stream, &request_id).await? {
                let loaded = self.load(&account_id, &request_id).await?;
                if let Account::Active(active) = loaded.account {
                    account = Some((account_id, active, loaded.created_at));
                }
            }
        }
        let hash = account.as_ref().map(|(_, active, _)| active.password_hash.clone());
        if !self.passwords.verify(password, hash).await {
            return Err(invalid_credentials());
        }
        let (account_id, active, created_at) = account.ok_or_else(invalid_credentials)?;
        Ok(self.signed_in(StatusCode::OK, &account_id, &active, created_at))
    }

    async fn update_profile(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(request)?;
        let request_id = request_id(request);
        let changes =
            validation::profile_changes(json_body::<ProfilePatch>(request)?).map_err(ApiError::validation)?;
        let metadata =
            Metadata::new(correlation_id(request)).actor(&caller.account_id).caused_by(&request_id);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let loaded = self.load(&caller.account_id, &request_id).await?;
            let updates = decide(&loaded.account, AccountCommand::UpdateProfile(changes.clone()))
                .map_err(account_error)?;
            let updated = updates.iter().fold(loaded.account.clone(), evolve);
            let Account::Active(account) = &updated else {
                return Err(ApiError::not_found("no such account"));
            };
            let view = PrivateProfile::of(&caller.account_id, account, loaded.created_at);
            if updates.is_empty() {
                return Ok(json_response(StatusCode::OK, &view));
            }
            let key = loaded
                .key
                .as_ref()
                .ok_or_else(|| ApiError::internal(&request_id, &"an active account without its key"))?;
            let appended = self
                .events
                .append(
                    &account_stream(&caller.account_id),
                    ExpectedVersion::Exact(loaded.version),
                    updates.iter().map(|event| encode_personal(event, key)).collect(),
                    &metadata,
                    None,
                )
                .await;
            match appended {
                Ok(_) => return Ok(json_response(StatusCode::OK, &view)),
                Err(AppendError::Conflict { .. }) if attempt < MAX_ATTEMPTS => continue,
                Err(error) => return Err(ApiError::from_append(error, &request_id)),
            }
        }
    }

    /// Erasure: the account's erasure, the release of its username and email address, and the
    /// shredding of its key, in one transaction.
    async fn erase(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(request)?;
        let account_id = caller.account_id;
        let request_id = request_id(request);
        let metadata = Metadata::new(correlation_id(request)).actor(&account_id).caused_by(&request_id);
        let no_content =
            || Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).expect("a response");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let loaded = self.load(&account_id, &request_id).await?;
            let erasure = decide(&loaded.account, AccountCommand::Erase).map_err(account_error)?;
            if erasure.is_empty() {
                return Ok(no_content());
            }
            let account = loaded.active()?;
            let mut writes = vec![StreamWrite {
                stream: account_stream(&account_id),
                expected: ExpectedVersion::Exact(loaded.version),
                events: erasure.iter().map(encode).collect(),
            }];
            for stream in [username_stream(&account.username), self.email_lookup.stream(&account.email)] {
                let (holder, version) = self.reservation(&stream, &request_id).await?;
                let release = decide_reservation(
                    &holder,
                    ReservationCommand::Release { account_id: account_id.clone() },
                )
                .unwrap_or_default();
                if !release.is_empty() {
                    let events = release.iter().map(encode).collect();
                    writes.push(StreamWrite { stream, expected: ExpectedVersion::Exact(version), events });
                }
            }
            let shred = vec![KeyChange::Shred(account_id.clone())];
            match self.events.append_with_keys(writes, shred, &metadata, None).await {
                Ok(_) => return Ok(no_content()),
                Err(AppendError::Conflict { .. }) if attempt < MAX_ATTEMPTS => continue,
                Err(error) => return Err(ApiError::from_append(error, &request_id)),
            }
        }
    }

    fn signed_in(
        &self,
        status: StatusCode,
        account_id: &str,
        account: &ActiveAccount,
        created_at: OffsetDateTime,
    ) -> Response<Body> {
        let token = self.tokens.issue(account_id, &account.username);
        let body = json!({
            "account": PrivateProfile::of(account_id, account, created_at),
            "token": token.token,
            "token_type": token.token_type,
            "expires_in": token.expires_in,
        });
        json_response(status, &body)
    }

    /// The account in its stream, its personal fields opened with its key (events whose fields
    /// were shredded are skipped: only the erasure matters then).
    async fn load(&self, account_id: &str, request_id: &str) -> Result<Loaded, ApiError> {
        let failed = |e: &dyn std::fmt::Display| ApiError::internal(request_id, e);
        let envelopes =
            self.events.read_stream(&account_stream(account_id), 1..).await.map_err(|e| failed(&e))?;
        let Some(first) = envelopes.first() else {
            return Ok(Loaded {
                account: Account::Missing,
                version: 0,
                created_at: OffsetDateTime::now_utc(),
                key: None,
            });
        };
        let created_at = first.occurred_at;
        let key = self.events.subject_key(account_id).await.map_err(|e| failed(&e))?;
        let mut account = Account::Missing;
        for envelope in &envelopes {
            if let Some(event) =
                decode_personal::<AccountEvent>(envelope, key.as_ref()).map_err(|e| failed(&e))?
            {
                account = evolve(account, &event);
            }
        }
        let version = envelopes.last().map_or(0, |e| e.version);
        Ok(Loaded { account, version, created_at, key })
    }

    async fn reservation(&self, stream: &str, request_id: &str) -> Result<(Reservation, u64), ApiError> {
        let failed = |e: &dyn std::fmt::Display| ApiError::internal(request_id, e);
        let envelopes = self.events.read_stream(stream, 1..).await.map_err(|e| failed(&e))?;
        let mut holder = Reservation::Free;
        for envelope in &envelopes {
            holder =
                evolve_reservation(holder, &decode::<ReservationEvent>(envelope).map_err(|e| failed(&e))?);
        }
        Ok((holder, envelopes.last().map_or(0, |e| e.version)))
    }
}

fn username_taken() -> ApiError {
    ApiError::conflict("username_taken", "this username is taken")
}

fn email_taken() -> ApiError {
    ApiError::conflict("email_taken", "an account with this email address exists")
}

fn account_error(error: AccountError) -> ApiError {
    match error {
        AccountError::NotFound => ApiError::not_found("no such account"),
        AccountError::AlreadyExists => ApiError::conflict("already_exists", error.to_string()),
    }
}

#[async_trait]
impl HttpFunction for AccountsCommand {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}
