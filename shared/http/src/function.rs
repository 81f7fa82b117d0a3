use crate::ApiError;
use async_trait::async_trait;
use aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use lambda_http::http::{header, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use std::sync::Arc;

/// An HTTP-triggered function: what its Lambda runs, and what the local runner routes to.
#[async_trait]
pub trait HttpFunction: Send + Sync {
    /// Never fails: every error is already a JSON error response.
    async fn call(&self, request: Request) -> Response<Body>;
}

/// An HttpApi Lambda authorizer with simple responses; its `context` reaches functions as the
/// request context's `authorizer.lambda` map.
#[async_trait]
pub trait Authorizer: Send + Sync {
    async fn authorize(
        &self,
        request: ApiGatewayV2CustomAuthorizerV2Request,
    ) -> ApiGatewayV2CustomAuthorizerSimpleResponse;
}

pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(serde_json::to_string(body).expect("responses serialize")))
        .expect("a valid response")
}

/// Serve `function` as this process's Lambda handler.
pub async fn run_lambda(function: Arc<dyn HttpFunction>) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(move |request: Request| {
        let function = function.clone();
        async move { Ok::<_, std::convert::Infallible>(function.call(request).await) }
    }))
    .await
}

/// Serve `authorizer` as this process's Lambda handler (an HttpApi authorizer, payload 2.0).
pub async fn run_authorizer(authorizer: Arc<dyn Authorizer>) -> Result<(), lambda_http::Error> {
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>| {
            let authorizer = authorizer.clone();
            async move { Ok::<_, std::convert::Infallible>(authorizer.authorize(event.payload).await) }
        },
    ))
    .await
}

impl From<ApiError> for Response<Body> {
    fn from(error: ApiError) -> Self {
        error.into_response()
    }
}
