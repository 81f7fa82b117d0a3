//! `POST /v1/me/password`: a new password for the one who knows the current one. Every token
//! issued before it stops working at once, and the legacy link ends: the account's token
//! generation moves and the link is released in the same transaction.

use super::{account_error, no_content, revocation, AccountsCommand, MAX_ATTEMPTS};
use crate::account::{decide, AccountCommand};
use crate::validation::{self, PasswordChangeRequest};
use huddle_catalog::accounts::RevocationReason;
use huddle_eventstore::{AppendError, Metadata};
use huddle_http::{caller, correlation_id, json_body, request_id, ApiError, Body, Request, Response};

impl AccountsCommand {
    pub(super) async fn change_password(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(request)?;
        let request_id = request_id(request);
        let (current, new) = validation::password_change(json_body::<PasswordChangeRequest>(request)?)
            .map_err(ApiError::validation)?;
        let mut loaded = self.reauthenticate(request, &caller.account_id, current).await?;
        let password_hash =
            self.passwords.hash(new).await.map_err(|e| ApiError::internal(&request_id, &e))?;
        let metadata =
            Metadata::new(correlation_id(request)).actor(&caller.account_id).caused_by(&request_id);
        let mut attempt = 1;
        loop {
            let mut change = decide(
                &loaded.account,
                AccountCommand::ChangePassword { password_hash: password_hash.clone() },
            )
            .map_err(account_error)?;
            let (unlinked, release) = self.legacy_unlink(&caller.account_id, &loaded, &request_id).await?;
            change.extend(unlinked);
            let (write, snapshot) = loaded.account_write(&caller.account_id, &change, &request_id)?;
            let mut writes = vec![
                write,
                revocation(&caller.account_id, loaded.generation, RevocationReason::PasswordChanged),
            ];
            writes.extend(release);
            match self.events.append_with_snapshots(writes, vec![snapshot], Vec::new(), &metadata, None).await
            {
                Ok(_) => return Ok(no_content()),
                // The password was verified once; a concurrent profile change only needs a re-read.
                Err(AppendError::Conflict { .. }) if attempt < MAX_ATTEMPTS => {
                    attempt += 1;
                    loaded = self.load(&caller.account_id, &request_id).await?;
                }
                Err(error) => return Err(ApiError::from_append(error, &request_id)),
            }
        }
    }
}
