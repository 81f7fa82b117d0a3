//! The query role: profiles from the read table, except the caller's own, which is read from
//! its stream so that it is there the moment sign-up (or any change) answered.

use crate::account::Account;
use crate::command::loaded::{active, created_at};
use crate::read_model::{account_named, profile};
use crate::routes::{Operation, ROUTES};
use crate::validation;
use crate::views::{AccountView, PrivateProfile};
use async_trait::async_trait;
use huddle_catalog::accounts::account_stream;
use huddle_domain::decider::load;
use huddle_domain::operation;
use huddle_eventstore::EventStore;
use huddle_graph::visibility::GraphReader;
use huddle_http::{
    caller, json_response, path_parameter, prefixed_id, request_id, ApiError, Body, HttpFunction, Request,
    Response,
};
use huddle_ports::Table;
use lambda_http::http::StatusCode;
use std::sync::Arc;

pub struct AccountsQuery {
    pub(crate) read_model: Arc<dyn Table>,
    pub(crate) events: EventStore,
    /// The graph's read port: follow counts, and whether a block hides the profile.
    pub(crate) graph: GraphReader,
}

fn no_such_account() -> ApiError {
    ApiError::not_found("no such account")
}

impl AccountsQuery {
    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(&request)?;
        let request_id = request_id(&request);
        let failed = |e: huddle_ports::TableError| ApiError::internal(&request_id, &e);
        let operation = operation(&ROUTES, &request)?;
        let account_id = match operation {
            Operation::GetMe => return self.me(&caller.account_id, &request_id).await,
            Operation::GetAccount => prefixed_id(&request, "id", validation::ACCOUNT_ID_PREFIX)?,
            Operation::GetAccountByUsername => {
                let name = path_parameter(&request, "username")?;
                let name = validation::username(&name).map_err(|_| no_such_account())?;
                account_named(self.read_model.as_ref(), &name)
                    .await
                    .map_err(failed)?
                    .ok_or_else(no_such_account)?
            }
            command => return Err(ApiError::not_found(format!("{command:?} is not a query"))),
        };
        let (view, blocked, counts) = futures::try_join!(
            profile(self.read_model.as_ref(), &account_id),
            self.graph.blocked_either_way(&caller.account_id, &account_id),
            self.graph.follow_counts(&account_id),
        )
        .map_err(failed)?;
        // A block either way hides the profile as if there were none (the caller's own is never
        // blocked).
        let view = view.filter(|_| !blocked).ok_or_else(no_such_account)?;
        let view = AccountView {
            profile: view.public,
            followers_count: counts.followers,
            following_count: counts.following,
        };
        Ok(json_response(StatusCode::OK, &view))
    }

    /// The caller's account from its stream (its snapshot and the events after it).
    async fn me(&self, account_id: &str, request_id: &str) -> Result<Response<Body>, ApiError> {
        let account = load::<Account>(&self.events, account_stream(account_id))
            .await
            .map_err(|e| ApiError::internal(request_id, &e))?;
        let view = PrivateProfile::of(account_id, active(&account.state)?, created_at(account.started_at));
        Ok(json_response(StatusCode::OK, &view))
    }
}

#[async_trait]
impl HttpFunction for AccountsQuery {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}
