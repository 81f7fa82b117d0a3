//! `DELETE /v1/me {password}`: erasure, which cannot be undone, so the password must come with
//! the token. One transaction holds the account's erasure, the release of its username, email
//! address and legacy link, the end of all its tokens, and the shredding of its key.

use super::{active, no_content, refused, revocation, AccountsCommand};
use crate::account::AccountCommand;
use crate::validation::{self, ErasureRequest};
use huddle_catalog::accounts::{sessions_stream, username_stream, RevocationReason};
use huddle_domain::decider::{Also, ExecuteError};
use huddle_eventstore::KeyChange;
use huddle_http::{caller, json_body, request_id, ApiError, Body, Request, Response};

impl AccountsCommand {
    pub(super) async fn erase(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(request)?;
        let account_id = caller.account_id.as_str();
        // An empty body is a request without the password (422), not malformed JSON.
        let body = if request.body().is_empty() {
            ErasureRequest::default()
        } else {
            json_body::<ErasureRequest>(request)?
        };
        let password = validation::erasure(body).map_err(ApiError::validation)?;
        let loaded = self.reauthenticate(request, account_id, password).await?;
        self.on_account(request, account_id, AccountCommand::Erase)
            .first_on(loaded.account)
            .execute_with(|account, _| async move {
                // Erased meanwhile: the erasure decides nothing, and there is nothing to release.
                let account = active(&account).map_err(ExecuteError::Rejected)?;
                let generation = self.events.head(&sessions_stream(account_id)).await?;
                let mut writes = vec![revocation(account_id, generation, RevocationReason::AccountErased)];
                let mut names =
                    vec![username_stream(&account.username), self.lookup.email_stream(&account.email)];
                names.extend(
                    account.legacy_subject.as_deref().map(|subject| self.lookup.legacy_stream(subject)),
                );
                for stream in names {
                    writes.extend(self.release(stream, account_id).await?);
                }
                Ok(Also { writes, keys: vec![KeyChange::Shred(account_id.to_owned())] })
            })
            .await
            .map_err(refused(&request_id(request)))?;
        Ok(no_content())
    }
}
