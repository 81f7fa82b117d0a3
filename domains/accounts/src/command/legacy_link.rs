//! `PUT /v1/me/legacy-link {legacy_token, password}`: the migration step that makes the legacy
//! application's user this account. The caller proves both sides: the account by its Huddle
//! token and its password (a stolen token alone must not plant a way in that outlives it), the
//! legacy user by a valid legacy token. Every revocation ends the link. The link is recorded once, in the log (the
//! account's `LegacySubjectLinked` and the subject's `legacy#` reservation, in one transaction),
//! and the authorizer maps legacy tokens only through it, never by name.

use super::{no_content, refused, AccountsCommand};
use crate::account::{AccountCommand, Reservation, ReservationCommand, Taken};
use crate::tokens::Bearer;
use crate::validation::{self, LegacyLinkRequest};
use huddle_domain::decider::{load, Also, ExecuteError};
use huddle_http::{caller, json_body, request_id, ApiError, Body, FieldError, Request, Response};

impl AccountsCommand {
    pub(super) async fn link_legacy_subject(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(request)?;
        let account_id = caller.account_id.as_str();
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
        let loaded = self.reauthenticate(request, account_id, password).await?;
        let link_stream = self.lookup.legacy_stream(&subject);
        let link_stream = link_stream.as_str();
        self.on_account(request, account_id, AccountCommand::LinkLegacySubject { subject })
            .first_on(loaded.account)
            .execute_with(|_, _| async move {
                let link = load::<Reservation>(&self.events, link_stream).await?;
                let claim = link
                    .decide(ReservationCommand::Claim { account_id: account_id.to_owned() })
                    .map_err(|Taken| {
                        ExecuteError::Rejected(ApiError::conflict(
                            "legacy_subject_linked",
                            "this legacy user is linked to another account",
                        ))
                    })?;
                Ok(Also { writes: link.write(&claim)?.into_iter().collect(), keys: Vec::new() })
            })
            .await
            .map_err(refused(&request_id(request)))?;
        Ok(no_content())
    }
}
