use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

/// One invalid field of a request, for 422 responses.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    /// A code for a problem clients act on by itself (`username_reserved`), beyond "invalid".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: None, message: message.into() }
    }

    pub fn with_code(self, code: impl Into<String>) -> Self {
        Self { code: Some(code.into()), ..self }
    }
}

/// An error as clients see it: `{"error": {"code", "message", "details"}}` with a status.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Vec<FieldError>,
    /// Sent as `Retry-After` (whole seconds, rounded up) with a 429 or a 503.
    pub retry_after: Option<std::time::Duration>,
}

/// An error's body as clients see it (and as the contract describes it).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// What went wrong, for programs: `validation_failed`, `username_taken`, `not_found`, ...
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// The invalid fields of a 422, each with its problem.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
}

/// For a decider that never refuses (`Error = Infallible`), so its use case answers as any other.
impl From<std::convert::Infallible> for ApiError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { status, code: code.into(), message: message.into(), details: Vec::new(), retry_after: None }
    }

    /// 429: the client must wait `retry_after` before trying again.
    pub fn too_many_requests(
        code: &str,
        message: impl Into<String>,
        retry_after: std::time::Duration,
    ) -> Self {
        Self { retry_after: Some(retry_after), ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, message) }
    }

    /// 503: what was asked for is not ready yet; the client may ask again after `retry_after`.
    pub fn unavailable(code: &str, message: impl Into<String>, retry_after: std::time::Duration) -> Self {
        Self { retry_after: Some(retry_after), ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message) }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid bearer token is required")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    /// 422 listing every invalid field. The code is `validation_failed`, or the code of the
    /// first field error that has one, so a client can branch on it without reading details.
    pub fn validation(details: Vec<FieldError>) -> Self {
        let code = details.iter().find_map(|d| d.code.clone()).unwrap_or_else(|| "validation_failed".into());
        Self { details, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, "the request is invalid") }
    }
    /// A failure of ours: the client learns only the request id; the cause goes to the log.
    pub fn internal(request_id: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%request_id, error = %cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            format!("something went wrong on our side; request id {request_id}"),
        )
    }

    pub fn into_response(self) -> Response<Body> {
        let body = ErrorBody {
            error: ErrorDetail { code: self.code, message: self.message, details: self.details },
        };
        let mut response = crate::json_response(self.status, &body);
        if let Some(wait) = self.retry_after {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response.headers_mut().insert(lambda_http::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl ApiError {
    /// The response to a failed append: 409 on a version conflict, 413 for an oversized event,
    /// 500 (logged, no internals) for anything else.
    pub fn from_append(error: huddle_eventstore::AppendError, request_id: &str) -> Self {
        use huddle_eventstore::AppendError;
        match error {
            AppendError::Conflict { .. } => {
                Self::conflict("version_conflict", "someone else changed this at the same time; try again")
            }
            AppendError::EventTooLarge { limit, .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the change is too large to store (limit {limit} bytes)"),
            ),
            other => Self::internal(request_id, &other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn an_internal_failure_names_the_request_and_hides_the_cause() {
        let response = ApiError::internal("req-42", &"connection refused to 10.0.0.7:5432").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body(response);
        assert_eq!(body["error"]["code"], "internal_error");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("req-42"));
        assert!(!message.contains("10.0.0.7"), "no internals leak: {message}");
    }

    #[test]
    fn validation_errors_list_their_fields() {
        let response = ApiError::validation(vec![FieldError::new("username", "too short")]).into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(
            body(response),
            serde_json::json!({"error": {
                "code": "validation_failed",
                "message": "the request is invalid",
                "details": [{"field": "username", "message": "too short"}]
            }})
        );
    }

    #[test]
    fn a_coded_field_error_names_the_whole_error() {
        let details = vec![
            FieldError::new("password", "too short"),
            FieldError::new("username", "is reserved").with_code("username_reserved"),
        ];
        let body = body(ApiError::validation(details).into_response());
        assert_eq!(body["error"]["code"], "username_reserved");
        assert_eq!(
            body["error"]["details"],
            serde_json::json!([
                {"field": "password", "message": "too short"},
                {"field": "username", "code": "username_reserved", "message": "is reserved"}
            ]),
            "every problem is still listed"
        );
    }
}
