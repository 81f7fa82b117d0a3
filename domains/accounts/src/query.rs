//! The query role: profiles from the read table.

use crate::read_model::{account_named, profile};
use crate::routes::{Operation, ROUTES};
use crate::validation;
use async_trait::async_trait;
use huddle_domain::operation;
use huddle_http::{
    caller, json_response, path_parameter, prefixed_id, request_id, ApiError, Body, HttpFunction, Request,
    Response,
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
        let operation = operation(&ROUTES, &request)?;
        let account_id = match operation {
            Operation::GetMe => caller.account_id,
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
        let view = profile(self.read_model.as_ref(), &account_id)
            .await
            .map_err(failed)?
            .ok_or_else(no_such_account)?;
        Ok(if operation == Operation::GetMe {
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
