//! `DELETE /v1/me {password}`: erasure, which cannot be undone, so the password must come with
//! the token. One transaction holds the account's erasure, the release of its username, email
//! address and legacy link, the end of all its tokens, and the shredding of its key.

use super::{account_error, no_content, revocation, AccountsCommand, MAX_ATTEMPTS};
use crate::account::{decide, decide_reservation, AccountCommand, ReservationCommand};
use crate::validation::{self, ErasureRequest};
use huddle_catalog::accounts::{account_stream, username_stream, RevocationReason};
use huddle_eventstore::{encode, AppendError, ExpectedVersion, KeyChange, Metadata, StreamWrite};
use huddle_http::{caller, correlation_id, json_body, request_id, ApiError, Body, Request, Response};

impl AccountsCommand {
    pub(super) async fn erase(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(request)?;
        let account_id = caller.account_id;
        let request_id = request_id(request);
        // An empty body is a request without the password (422), not malformed JSON.
        let body = if request.body().is_empty() {
            ErasureRequest::default()
        } else {
            json_body::<ErasureRequest>(request)?
        };
        let password = validation::erasure(body).map_err(ApiError::validation)?;
        let mut loaded = self.reauthenticate(request, &account_id, password).await?;
        let metadata = Metadata::new(correlation_id(request)).actor(&account_id).caused_by(&request_id);
        let mut attempt = 1;
        loop {
            let erasure = decide(&loaded.account, AccountCommand::Erase).map_err(account_error)?;
            let account = loaded.active()?;
            let mut writes = vec![
                StreamWrite {
                    stream: account_stream(&account_id),
                    expected: ExpectedVersion::Exact(loaded.version),
                    events: erasure.iter().map(encode).collect(),
                },
                revocation(&account_id, loaded.generation, RevocationReason::AccountErased),
            ];
            let mut names =
                vec![username_stream(&account.username), self.lookup.email_stream(&account.email)];
            names.extend(account.legacy_subject.as_deref().map(|subject| self.lookup.legacy_stream(subject)));
            for stream in names {
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
                Err(AppendError::Conflict { .. }) if attempt < MAX_ATTEMPTS => {
                    attempt += 1;
                    loaded = self.load(&account_id, &request_id).await?;
                }
                Err(error) => return Err(ApiError::from_append(error, &request_id)),
            }
        }
    }
}
