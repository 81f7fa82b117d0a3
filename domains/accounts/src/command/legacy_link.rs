//! `PUT /v1/me/legacy-link {legacy_token, password}`: the migration step that makes the legacy
//! application's user this account. The caller proves both sides: the account by its Huddle
//! token and its password (a stolen token alone must not plant a way in that outlives it), the
//! legacy user by a valid legacy token. Every revocation ends the link. The link is recorded once, in the log (the
//! account's `LegacySubjectLinked` and the subject's `legacy#` reservation, in one transaction),
//! and the authorizer maps legacy tokens only through it, never by name.

use super::{account_error, no_content, AccountsCommand, MAX_ATTEMPTS};
use crate::account::{decide, decide_reservation, AccountCommand, ReservationCommand};
use crate::tokens::Bearer;
use crate::validation::{self, LegacyLinkRequest};
use huddle_eventstore::{encode, AppendError, ExpectedVersion, Metadata, StreamWrite};
use huddle_http::{
    caller, correlation_id, json_body, request_id, ApiError, Body, FieldError, Request, Response,
};

impl AccountsCommand {
    pub(super) async fn link_legacy_subject(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(request)?;
        let account_id = caller.account_id;
        let request_id = request_id(request);
        let (token, password) = validation::legacy_link(json_body::<LegacyLinkRequest>(request)?)
            .map_err(ApiError::validation)?;
        let verifier = self
            .legacy
            .as_ref()
            .ok_or_else(|| ApiError::not_found("this deployment trusts no legacy issuer"))?;
        let Some(Bearer::Legacy { subject, .. }) = verifier.verify(&token) else {
            return Err(ApiError::validation(vec![FieldError::new(
                "legacy_token",
                "is not a valid token of the legacy issuer",
            )]));
        };
        let mut loaded = self.reauthenticate(request, &account_id, password).await?;
        let link_stream = self.lookup.legacy_stream(&subject);
        let metadata = Metadata::new(correlation_id(request)).actor(&account_id).caused_by(&request_id);
        let mut attempt = 1;
        loop {
            let linked =
                decide(&loaded.account, AccountCommand::LinkLegacySubject { subject: subject.clone() })
                    .map_err(account_error)?;
            let (holder, link_version) = self.reservation(&link_stream, &request_id).await?;
            let claim =
                decide_reservation(&holder, ReservationCommand::Claim { account_id: account_id.clone() })
                    .map_err(|_| {
                        ApiError::conflict(
                            "legacy_subject_linked",
                            "this legacy user is linked to another account",
                        )
                    })?;
            if linked.is_empty() && claim.is_empty() {
                return Ok(no_content());
            }
            let mut writes = Vec::new();
            let mut snapshots = Vec::new();
            if !linked.is_empty() {
                let (write, snapshot) = loaded.account_write(&account_id, &linked, &request_id)?;
                writes.push(write);
                snapshots.push(snapshot);
            }
            if !claim.is_empty() {
                writes.push(StreamWrite {
                    stream: link_stream.clone(),
                    expected: ExpectedVersion::Exact(link_version),
                    events: claim.iter().map(encode).collect(),
                });
            }
            match self.events.append_with_snapshots(writes, snapshots, Vec::new(), &metadata, None).await {
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
