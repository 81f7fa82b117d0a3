//! The query role: profiles from the read table.

use crate::read_model::{account_named, profile};
use crate::validation;
use async_trait::async_trait;
use huddle_http::{
    caller, json_response, path_parameter, prefixed_id, request_id, route_key, ApiError, Body, HttpFunction,
    Request, Response,
};
use huddle_ports::Table;
use lambda_http::http::StatusCode;
use std::sync::Arc;

pub struct AccountsQuery {
    pub(crate) read_model: Arc<dyn Table>,
}

fn no_such_account() -> ApiError {
    ApiError::not_found("no such account")
}

impl AccountsQuery {
    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(&request)?;
        let request_id = request_id(&request);
        let failed = |e: huddle_ports::TableError| ApiError::internal(&request_id, &e);
        let route = route_key(&request);
        let account_id = match route.as_str() {
            "GET /v1/me" => caller.account_id,
            "GET /v1/accounts/{id}" => prefixed_id(&request, "id", validation::ACCOUNT_ID_PREFIX)?,
            "GET /v1/accounts/by-username/{username}" => {
                let name = path_parameter(&request, "username")?;
                let name = validation::username(&name).map_err(|_| no_such_account())?;
                account_named(self.read_model.as_ref(), &name)
                    .await
                    .map_err(failed)?
                    .ok_or_else(no_such_account)?
            }
            other => return Err(ApiError::not_found(format!("no route {other}"))),
        };
        let view = profile(self.read_model.as_ref(), &account_id)
            .await
            .map_err(failed)?
            .ok_or_else(no_such_account)?;
        Ok(if route == "GET /v1/me" {
            json_response(StatusCode::OK, &view)
        } else {
            json_response(StatusCode::OK, &view.public)
        })
    }
}

#[async_trait]
impl HttpFunction for AccountsQuery {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}
