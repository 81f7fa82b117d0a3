use crate::ApiError;
use huddle_eventstore::{AppendError, Appended, EventStore, Idempotency};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

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
    request
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| (1..=128).contains(&v.len()) && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| request_id(request))
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

/// A POST made retry-safe by its `Idempotency-Key` header.
pub struct IdempotentRequest {
    /// The event store's key: the client's key scoped to the caller, so keys never collide
    /// across accounts.
    store_key: String,
    /// What the request asked for; a reused key with another request is refused.
    fingerprint: String,
}

/// The request's idempotency, if it sent an `Idempotency-Key` (1 to 255 visible ASCII
/// characters; 400 otherwise). `scope` is the caller's account id, or a route name for
/// unauthenticated routes. A reused key must come with the same method, path and body.
pub fn idempotency(request: &Request, scope: &str) -> Result<Option<IdempotentRequest>, ApiError> {
    idempotency_for(request, scope, request.body().as_ref())
}

/// [`idempotency`], where a reused key must come with the same method, path and `material`
/// instead of the same body: for bodies that hold a secret (a password), whose hash must not be
/// stored.
pub fn idempotency_for(
    request: &Request,
    scope: &str,
    material: &[u8],
) -> Result<Option<IdempotentRequest>, ApiError> {
    let Some(header) = request.headers().get("idempotency-key") else { return Ok(None) };
    let key = header
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.chars().all(|c| c.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    let mut hasher = Sha256::new();
    hasher.update(request.method().as_str());
    hasher.update(request.uri().path());
    hasher.update(material);
    let fingerprint = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Some(IdempotentRequest { store_key: format!("{scope}:{key}"), fingerprint }))
}

impl IdempotentRequest {
    /// What to append with: the key, and the response to give every repeat of this request.
    pub fn with_response(&self, status: StatusCode, body: &impl Serialize) -> Idempotency {
        Idempotency {
            key: self.store_key.clone(),
            receipt: Some(
                json!({ "status": status.as_u16(), "body": body, "fingerprint": self.fingerprint }),
            ),
        }
    }
}

impl IdempotentRequest {
    /// The first result of this key, if an append already used it (before any work is done:
    /// a retry must not fail on the state its first attempt created).
    pub async fn previous(&self, events: &EventStore) -> Result<Option<Appended>, AppendError> {
        events.previous_append(&self.store_key).await
    }

    /// The status and body first answered for this key, when `appended` is a replay; 422 if
    /// the key came with a different request.
    pub fn first_response(&self, appended: &Appended) -> Result<Option<(StatusCode, Value)>, ApiError> {
        let (true, Some(receipt)) = (appended.replayed, &appended.receipt) else { return Ok(None) };
        if receipt["fingerprint"] != self.fingerprint.as_str() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request",
            ));
        }
        let status = receipt["status"]
            .as_u64()
            .and_then(|s| StatusCode::from_u16(s as u16).ok())
            .unwrap_or(StatusCode::OK);
        Ok(Some((status, receipt["body"].clone())))
    }
}

/// The response to a command: the fresh one, or, when the store says the idempotency key was
/// seen before, the first response again (422 if the key came with a different request).
pub fn replay_or(
    appended: &Appended,
    request: Option<&IdempotentRequest>,
    status: StatusCode,
    body: &impl Serialize,
) -> Result<Response<Body>, ApiError> {
    match request.map(|request| request.first_response(appended)).transpose()?.flatten() {
        Some((status, body)) => Ok(replayed(crate::json_response(status, &body))),
        None => Ok(crate::json_response(status, body)),
    }
}

/// `response`, marked as the repeat of an earlier one.
pub fn replayed(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// The route API Gateway matched, such as `POST /v1/accounts` (empty outside API Gateway).
pub fn route_key(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.route_key.clone().unwrap_or_default(),
        _ => String::new(),
    }
}
