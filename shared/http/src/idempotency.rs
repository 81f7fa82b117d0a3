//! `Idempotency-Key`: a POST retried with the same key answers with its first response and
//! appends nothing (DESIGN.md section 6).

use crate::ApiError;
use hmac::{Hmac, Mac};
use huddle_eventstore::{AppendError, Appended, EventStore, Idempotency};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;

/// Reads `Idempotency-Key` headers. A request's fingerprint (what a reused key must come with
/// again) is an HMAC under a server secret, so a leaked idempotency record cannot confirm a
/// guessed body, such as an email address, offline.
#[derive(Clone)]
pub struct IdempotencyKeys {
    fingerprint_key: Vec<u8>,
}

/// A POST made retry-safe by its `Idempotency-Key` header.
pub struct IdempotentRequest {
    /// The event store's key: the client's key scoped to the caller, so keys never collide
    /// across accounts.
    store_key: String,
    /// What the request asked for; a reused key with another request is refused.
    fingerprint: String,
}

impl IdempotencyKeys {
    /// `secret` is the deployment's request secret (the one cursors are signed with); the
    /// fingerprint key is derived from it under its own label, so neither HMAC can stand in for
    /// the other.
    pub fn new(secret: &[u8]) -> Self {
        let mut derive = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        derive.update(b"huddle idempotency fingerprint");
        Self { fingerprint_key: derive.finalize().into_bytes().to_vec() }
    }

    /// The request's idempotency, if it sent an `Idempotency-Key` (1 to 255 visible ASCII
    /// characters; 400 otherwise). `scope` is the caller's account id, or a route name for
    /// unauthenticated routes. A reused key must come with the same method, path and body.
    pub fn of(&self, request: &Request, scope: &str) -> Result<Option<IdempotentRequest>, ApiError> {
        self.of_material(request, scope, request.body().as_ref())
    }

    /// [`of`](Self::of), where a reused key must come with the same method, path and
    /// `material` instead of the same body: for bodies that hold a secret (a password), which
    /// no record may keep in any form.
    pub fn of_material(
        &self,
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
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.fingerprint_key).expect("HMAC takes any key length");
        for part in [request.method().as_str().as_bytes(), request.uri().path().as_bytes(), material] {
            // Length-prefixed, so no two different requests run together into the same input.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        let fingerprint = hex::encode(mac.finalize().into_bytes());
        Ok(Some(IdempotentRequest { store_key: format!("{scope}:{key}"), fingerprint }))
    }
}

impl IdempotentRequest {
    /// The key with the request's fingerprint: the same for every identical retry under the
    /// key, and for nothing else (to count racing twins as one attempt).
    pub fn identity(&self) -> String {
        format!("{}\n{}", self.store_key, self.fingerprint)
    }

    /// What to append with: the key, and the response to give every repeat of this request.
    pub fn with_response(&self, status: StatusCode, body: &impl Serialize) -> Idempotency {
        Idempotency {
            key: self.store_key.clone(),
            receipt: Some(
                json!({ "status": status.as_u16(), "body": body, "fingerprint": self.fingerprint }),
            ),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    fn fingerprint(keys: &IdempotencyKeys, body: &str) -> String {
        let request = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/v1/accounts")
            .header("idempotency-key", "k1")
            .body(Body::from(body))
            .unwrap();
        keys.of(&request, "sign-up").unwrap().unwrap().fingerprint
    }

    #[test]
    fn fingerprints_are_keyed_by_the_deployments_secret() {
        let body = r#"{"email":"ana@example.com"}"#;
        let ours = fingerprint(&IdempotencyKeys::new(b"our secret"), body);
        assert_eq!(ours, fingerprint(&IdempotencyKeys::new(b"our secret"), body), "stable across instances");
        assert_ne!(ours, fingerprint(&IdempotencyKeys::new(b"another secret"), body));
        assert_ne!(ours, fingerprint(&IdempotencyKeys::new(b"our secret"), r#"{"email":"bea@example.com"}"#));
        // A guess cannot be checked against a leaked record without the secret.
        let unkeyed = hex::encode(sha2::Sha256::digest(format!("POST/v1/accounts{body}")));
        assert_ne!(ours, unkeyed);
    }
}
