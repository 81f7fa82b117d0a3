use crate::ApiError;
use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The largest request body accepted (API Gateway's own limit is 10 MB; ours is far lower,
/// since media goes straight to S3 by presigned URL).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Who is calling, as the authorizer verified it. Never read from the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: String,
    pub username: Option<String>,
}

/// The caller from the authorizer context (`authorizer.lambda.account_id`); 401 without one.
pub fn caller(request: &Request) -> Result<Caller, ApiError> {
    let RequestContext::ApiGatewayV2(context) = request.request_context() else {
        return Err(ApiError::unauthorized());
    };
    let fields = context.authorizer.map(|a| a.fields).unwrap_or_default();
    let text =
        |name: &str| fields.get(name).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned);
    Ok(Caller {
        account_id: text("account_id").ok_or_else(ApiError::unauthorized)?,
        username: text("username"),
    })
}

/// The request's id as API Gateway assigned it (a fresh ULID where none is set).
pub fn request_id(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        _ => None,
    }
    .unwrap_or_else(|| ulid::Ulid::new().to_string())
}

/// The id that ties this request's log lines and events together: the client's
/// `X-Correlation-Id` when it sent a sane one, else the request id.
pub fn correlation_id(request: &Request) -> String {
    let header = request.headers().get("x-correlation-id").and_then(|v| v.to_str().ok());
    correlation_id_or(header, &request_id(request))
}

/// The correlation id of a request whose `X-Correlation-Id` header is `header` and whose id is
/// `request_id`: the header when it is sane (1 to 128 visible ASCII characters), else the id.
pub fn correlation_id_or(header: Option<&str>, request_id: &str) -> String {
    header
        .filter(|v| (1..=128).contains(&v.len()) && v.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or(request_id)
        .to_owned()
}

/// The client's address as API Gateway saw it (`requestContext.http.sourceIp`); empty outside
/// API Gateway.
pub fn source_ip(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        _ => None,
    }
    .unwrap_or_default()
}

/// The JSON body as `T`: 413 over [`MAX_BODY_BYTES`], 400 when it is not JSON of that shape.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body may hold at most {MAX_BODY_BYTES} bytes"),
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("invalid JSON body: {e}")))
}

pub fn path_parameter(request: &Request, name: &str) -> Result<String, ApiError> {
    request
        .path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_owned)
        .ok_or_else(|| ApiError::not_found(format!("no {name} in the path")))
}

pub fn query_parameter(request: &Request, name: &str) -> Option<String> {
    request.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_owned)
}

/// The route API Gateway matched, such as `POST /v1/accounts` (empty outside API Gateway).
pub fn route_key(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.route_key.clone().unwrap_or_default(),
        _ => String::new(),
    }
}
