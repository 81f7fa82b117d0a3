//! The HttpApi Lambda authorizer: a verified bearer token becomes the context functions read
//! the caller from (`account_id`, `username`). Tokens of erased accounts are refused, and a
//! legacy token's subject is mapped to the account holding that username.

use crate::read_model::{account_named, is_erased};
use crate::tokens::{Bearer, TokenVerifier};
use crate::validation;
use async_trait::async_trait;
use aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use huddle_http::Authorizer;
use huddle_ports::{Table, TableError};
use serde_json::json;
use std::sync::Arc;

pub struct JwtAuthorizer {
    pub(crate) verifier: TokenVerifier,
    /// The accounts read table, read only.
    pub(crate) read_model: Arc<dyn Table>,
}

impl JwtAuthorizer {
    /// The account and username `authorization` (the header's value) speaks for.
    async fn caller(&self, authorization: &str) -> Result<Option<(String, String)>, TableError> {
        let Some((scheme, token)) = authorization.trim().split_once(' ') else { return Ok(None) };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Ok(None);
        }
        let table = self.read_model.as_ref();
        match self.verifier.verify(token.trim()) {
            None => Ok(None),
            Some(Bearer::Account { account_id, username }) => {
                Ok((!is_erased(table, &account_id).await?).then_some((account_id, username)))
            }
            Some(Bearer::Legacy { subject }) => {
                let Ok(username) = validation::username(&subject) else { return Ok(None) };
                // The name's holder item leaves in the erasure's transaction, so a found holder
                // is a live account.
                Ok(account_named(table, &username).await?.map(|account_id| (account_id, username)))
            }
        }
    }
}

#[async_trait]
impl Authorizer for JwtAuthorizer {
    async fn authorize(
        &self,
        request: ApiGatewayV2CustomAuthorizerV2Request,
    ) -> ApiGatewayV2CustomAuthorizerSimpleResponse {
        let authorization =
            request.identity_source.unwrap_or_default().into_iter().next().unwrap_or_default();
        let caller = self.caller(&authorization).await.unwrap_or_else(|error| {
            // Refusing is the safe answer when the tombstone cannot be read; the client may retry.
            tracing::error!(%error, "authorizer could not read the accounts table");
            None
        });
        let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
        if let Some((account_id, username)) = caller {
            response.is_authorized = true;
            response.context = json!({ "account_id": account_id, "username": username });
        }
        response
    }
}
