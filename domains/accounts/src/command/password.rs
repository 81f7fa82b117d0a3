//! `POST /v1/me/password`: a new password for the one who knows the current one. Every token
//! issued before it stops working at once, and the legacy link ends: the account's token
//! generation moves and the link is released in the same transaction.

use super::{no_content, refused, AccountsCommand};
use crate::account::AccountCommand;
use crate::validation::{self, PasswordChangeRequest};
use huddle_catalog::accounts::RevocationReason;
use huddle_http::{caller, json_body, request_id, ApiError, Body, Request, Response};

impl AccountsCommand {
    pub(super) async fn change_password(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(request)?;
        let account_id = caller.account_id.as_str();
        let request_id = request_id(request);
        let (current, new) = validation::password_change(json_body::<PasswordChangeRequest>(request)?)
            .map_err(ApiError::validation)?;
        let loaded = self.reauthenticate(request, account_id, current).await?;
        let password_hash =
            self.passwords.hash(new).await.map_err(|e| ApiError::internal(&request_id, &e))?;
        // The password was verified once; a concurrent profile change only needs a re-read.
        self.on_account(request, account_id, AccountCommand::ChangePassword { password_hash })
            .first_on(loaded.account)
            .execute_with(|_, events| self.revoking(account_id, RevocationReason::PasswordChanged, events))
            .await
            .map_err(refused(&request_id))?;
        Ok(no_content())
    }
}
