use crate::{ApiError, HttpFunction};
use async_trait::async_trait;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};

/// The function of HttpApi's `$default` route: every request no route matches gets our JSON 404,
/// on AWS as from the runner. HttpApi sends a request with a known path and another method here
/// too, so it cannot tell 405 from 404.
///
/// `$default` also catches `OPTIONS`, browsers' CORS preflights included, and a preflight fails
/// unless its status is 2xx: those get an empty 204, to which API Gateway (or the runner) adds
/// the CORS headers of the API's configuration.
pub struct NotFound;

#[async_trait]
impl HttpFunction for NotFound {
    async fn call(&self, request: Request) -> Response<Body> {
        if request.method() == Method::OPTIONS {
            return Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(Body::Empty)
                .expect("a valid response");
        }
        ApiError::not_found(format!("no route for {} {}", request.method(), request.uri().path()))
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(method: Method, uri: &str) -> Response<Body> {
        let request =
            lambda_http::http::Request::builder().method(method).uri(uri).body(Body::Empty).unwrap();
        NotFound.call(request).await
    }

    #[tokio::test]
    async fn unmatched_requests_get_our_json_404_naming_method_and_path() {
        let response = answer(Method::DELETE, "https://api.example.com/v1/nowhere?x=1").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "not_found", "message": "no route for DELETE /v1/nowhere"}})
        );
    }

    #[tokio::test]
    async fn options_gets_an_empty_2xx_so_preflights_pass() {
        let response = answer(Method::OPTIONS, "https://api.example.com/v1/me").await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(response.body().as_ref().is_empty());
    }
}
