//! `PATCH /v1/me`: the profile fields a user edits.

use super::{account_error, AccountsCommand, MAX_ATTEMPTS};
use crate::account::{decide, evolve, Account, AccountCommand};
use crate::validation::{self, ProfilePatch};
use crate::views::PrivateProfile;
use huddle_eventstore::{AppendError, Metadata};
use huddle_http::{
    caller, correlation_id, json_body, json_response, request_id, ApiError, Body, Request, Response,
};
use lambda_http::http::StatusCode;

impl AccountsCommand {
    pub(super) async fn update_profile(&self, request: &Request) -> Result<Response<Body>, ApiError> {
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
            let (write, snapshot) = loaded.account_write(&caller.account_id, &updates, &request_id)?;
            let appended = self
                .events
                .append_with_snapshots(vec![write], vec![snapshot], Vec::new(), &metadata, None)
                .await;
            match appended {
                Ok(_) => return Ok(json_response(StatusCode::OK, &view)),
                Err(AppendError::Conflict { .. }) if attempt < MAX_ATTEMPTS => continue,
                Err(error) => return Err(ApiError::from_append(error, &request_id)),
            }
        }
    }
}
