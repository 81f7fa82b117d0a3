//! `POST /v1/accounts`: the account, its username and its email address in one transaction.
//! A retry with the same `Idempotency-Key` answers with the first account only to the holder of
//! its password: the key is not a credential.

use super::loaded::created_at;
use super::{address_bucket, email_taken, refused, too_many_attempts, username_taken, AccountsCommand};
use crate::account::{AccountCommand, Reservation, ReservationCommand, Taken};
use crate::validation::{self, SignUp, SignUpRequest, ACCOUNT_ID_PREFIX};
use huddle_catalog::accounts::username_stream;
use huddle_domain::decider::{load, Also, ExecuteError, StreamError};
use huddle_domain::throttle::Ticket;
use huddle_eventstore::{AppendError, Appended, KeyChange, SubjectKey};
use huddle_http::{
    json_body, replayed, request_id, source_ip, ApiError, Body, IdempotentRequest, Request, Response,
};
use lambda_http::http::StatusCode;
use serde_json::json;

impl AccountsCommand {
    pub(super) async fn sign_up(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let request_id = request_id(request);
        let failed = |e: AppendError| ApiError::internal(&request_id, &e);
        let sign_up =
            validation::sign_up(json_body::<SignUpRequest>(request)?).map_err(ApiError::validation)?;
        // The fingerprint leaves the password out: no record may keep it in any form.
        let material = format!("{}\n{}\n{:?}", sign_up.username, sign_up.email, sign_up.display_name);
        let retry = self.idempotency.of_material(request, "sign-up", material.as_bytes())?;
        if let Some(retry) = &retry {
            if let Some(first) = retry.previous(&self.events).await.map_err(failed)? {
                return self.repeat_sign_up(request, retry, &first, sign_up).await;
            }
        }
        let ticket = self.take_sign_up(request, retry.as_ref()).await?;

        // Hashed before the names are looked at, so a retry after a conflict hashes nothing.
        let password_hash = self
            .passwords
            .hash(sign_up.password.clone())
            .await
            .map_err(|e| ApiError::internal(&request_id, &e))?;
        let registration = AccountCommand::Register {
            username: sign_up.username.clone(),
            email: sign_up.email.clone(),
            password_hash,
            display_name: sign_up.display_name.clone(),
        };
        let account_id = format!("{ACCOUNT_ID_PREFIX}{}", ulid::Ulid::new());
        let key = SubjectKey::generate(&account_id);
        let username_stream = username_stream(&sign_up.username);
        let email_stream = self.lookup.email_stream(&sign_up.email);
        let receipt = retry
            .as_ref()
            .map(|r| r.with_response(StatusCode::CREATED, &json!({ "account_id": account_id })));
        let (names, id) = ([username_stream.as_str(), email_stream.as_str()], account_id.as_str());
        let executed = self
            .on_account(request, id, registration)
            .new_stream()
            .idempotent(receipt)
            .execute_with(|_, _| {
                let key = key.clone();
                async move {
                    let [username, email] = names;
                    let (username, email) = tokio::join!(
                        load::<Reservation>(&self.events, username),
                        load::<Reservation>(&self.events, email)
                    );
                    let (username, email) = (username?, email?);
                    let claim = ReservationCommand::Claim { account_id: id.to_owned() };
                    let username_claim = username
                        .decide(claim.clone())
                        .map_err(|Taken| ExecuteError::Rejected(username_taken()))?;
                    let email_claim =
                        email.decide(claim).map_err(|Taken| ExecuteError::Rejected(email_taken()))?;
                    let writes =
                        username.write(&username_claim)?.into_iter().chain(email.write(&email_claim)?);
                    Ok(Also { writes: writes.collect(), keys: vec![KeyChange::Create(key)] })
                }
            })
            .await;
        let registered = match executed {
            Ok(registered) => registered,
            // A twin under the same key may have committed since the record was looked for:
            // the names are then taken by this very sign-up, and the answer is its result.
            Err(ExecuteError::Rejected(taken)) => {
                let Some(retry) = &retry else { return Err(taken) };
                let Some(first) = retry.previous(&self.events).await.map_err(failed)? else {
                    return Err(taken);
                };
                self.refund_sign_up(ticket, &request_id).await?;
                return self.repeat_sign_up(request, retry, &first, sign_up).await;
            }
            Err(ExecuteError::Stream(StreamError::Store(AppendError::Conflict { stream, .. })))
                if stream == username_stream =>
            {
                return Err(username_taken())
            }
            Err(ExecuteError::Stream(StreamError::Store(AppendError::Conflict { stream, .. })))
                if stream == email_stream =>
            {
                return Err(email_taken())
            }
            Err(other) => return Err(refused(&request_id)(other)),
        };
        let replay = registered.appended.as_ref().filter(|appended| appended.replayed);
        if let (Some(retry), Some(first)) = (&retry, replay) {
            // A twin of this request committed first with the same key: it made the one
            // account, so this attempt made none and gives its sign-up back.
            self.refund_sign_up(ticket, &request_id).await?;
            return self.repeat_sign_up(request, retry, first, sign_up).await;
        }
        // A new account has revoked nothing yet: its token generation is 0.
        self.signed_in(
            StatusCode::CREATED,
            &account_id,
            &registered.state,
            created_at(registered.started_at),
            0,
        )
    }

    /// Count the sign-up against its address (429 past the limit), unless an identical twin
    /// under the same key already was: racing retries of one sign-up are one attempt.
    async fn take_sign_up(
        &self,
        request: &Request,
        retry: Option<&IdempotentRequest>,
    ) -> Result<Option<Ticket>, ApiError> {
        let failed = |e: huddle_ports::TableError| ApiError::internal(&request_id(request), &e);
        if let Some(retry) = retry {
            let twin = self.lookup.throttle_subject("sign-up-twin", &retry.identity());
            if self.throttles.sign_up_twins.take(&twin).await.map_err(failed)?.is_err() {
                return Ok(None);
            }
        }
        let by_ip = self.lookup.throttle_subject("ip", &address_bucket(&source_ip(request)));
        let ticket = self.throttles.sign_up_per_ip.take(&by_ip).await.map_err(failed)?;
        ticket.map(Some).map_err(too_many_attempts)
    }

    /// Give back the sign-up counted for an attempt that made no account.
    async fn refund_sign_up(&self, ticket: Option<Ticket>, request_id: &str) -> Result<(), ApiError> {
        let Some(ticket) = ticket else { return Ok(()) };
        self.throttles.sign_up_per_ip.refund(ticket).await.map_err(|e| ApiError::internal(request_id, &e))
    }

    /// The answer to a repeated sign-up: the first account with a fresh token (tokens are never
    /// stored with the idempotency key), but only when this request's password is that
    /// account's. Otherwise the same 401 as a wrong login, counted as a guess at the username.
    async fn repeat_sign_up(
        &self,
        request: &Request,
        retry: &IdempotentRequest,
        first: &Appended,
        sign_up: SignUp,
    ) -> Result<Response<Body>, ApiError> {
        let request_id = request_id(request);
        // Counted before the fingerprint is compared, so that a known key cannot be used to
        // test guessed addresses for a username, 422 against 401, unthrottled.
        let guess = self.guess(request, &sign_up.username).await?;
        let Some((status, body)) = retry.first_response(first)? else {
            return Err(ApiError::internal(&request_id, &"a replayed sign-up without its first response"));
        };
        let account_id = body["account_id"].as_str().unwrap_or_default().to_owned();
        let loaded = self.load(&account_id, &request_id).await?;
        self.check_password(guess, sign_up.password, loaded.active().ok(), &request_id).await?;
        let answer = self.signed_in(
            status,
            &account_id,
            &loaded.account.state,
            loaded.created_at(),
            loaded.generation,
        );
        Ok(replayed(answer?))
    }
}
