//! `PATCH /v1/me`: the profile fields a user edits, and whether the account is locked.

use super::loaded::created_at;
use super::{active, refused, AccountsCommand};
use crate::account::AccountCommand;
use crate::validation::{self, ProfilePatch};
use crate::views::PrivateProfile;
use huddle_http::{caller, json_body, json_response, request_id, ApiError, Body, Request, Response};
use lambda_http::http::StatusCode;

impl AccountsCommand {
    pub(super) async fn update_profile(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(request)?;
        let changes =
            validation::profile_changes(json_body::<ProfilePatch>(request)?).map_err(ApiError::validation)?;
        let updated = self
            .on_account(request, &caller.account_id, AccountCommand::UpdateProfile(changes))
            .execute()
            .await
            .map_err(refused(&request_id(request)))?;
        let view =
            PrivateProfile::of(&caller.account_id, active(&updated.state)?, created_at(updated.started_at));
        Ok(json_response(StatusCode::OK, &view))
    }
}
