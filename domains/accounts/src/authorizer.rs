//! The HttpApi Lambda authorizer: a verified bearer token becomes the context functions read
//! the caller from (`account_id`, and `username` for Huddle's tokens).
//!
//! It reads the log, never a projection, so a revocation counts from the moment its command
//! answers: one read of the account's `sessions#` stream (its last event) per authorization,
//! and for a legacy token first one read of the subject's `legacy#` link stream.

use crate::account::Reservation;
use crate::lookup::Lookup;
use crate::tokens::{Bearer, TokenVerifier, LEEWAY_SECONDS};
use async_trait::async_trait;
use aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use huddle_catalog::accounts::{sessions_stream, ReservationEvent, RevocationReason, SessionEvent};
use huddle_domain::Decider;
use huddle_eventstore::{decode, AppendError, EventStore};
use huddle_http::Authorizer;
use serde_json::{json, Map, Value};

pub struct JwtAuthorizer {
    pub(crate) verifier: TokenVerifier,
    /// Names legacy subjects' link streams; `None` when no legacy issuer is trusted.
    pub(crate) lookup: Option<Lookup>,
    /// Read only, and only `sessions#` and `legacy#` streams (template.yaml).
    pub(crate) events: EventStore,
}

/// Which tokens of an account still count.
enum Sessions {
    /// Erased: none.
    Ended,
    /// Tokens of at least this generation; tokens without one (legacy) issued after
    /// `revoked_at` (Unix seconds).
    Since { generation: u64, revoked_at: i64 },
}

impl JwtAuthorizer {
    async fn sessions(&self, account_id: &str) -> Result<Sessions, AppendError> {
        let Some(last) = self.events.last_event(&sessions_stream(account_id)).await? else {
            return Ok(Sessions::Since { generation: 0, revoked_at: i64::MIN });
        };
        let SessionEvent::SessionsRevoked { reason } =
            decode(&last).map_err(|e| AppendError::Unavailable(e.to_string()))?;
        Ok(match reason {
            RevocationReason::AccountErased => Sessions::Ended,
            _ => Sessions::Since { generation: last.version, revoked_at: last.occurred_at.unix_timestamp() },
        })
    }

    /// The account a legacy subject is linked to, if it is.
    async fn linked_account(&self, subject: &str) -> Result<Option<String>, AppendError> {
        let Some(lookup) = &self.lookup else { return Ok(None) };
        let Some(last) = self.events.last_event(&lookup.legacy_stream(subject)).await? else {
            return Ok(None);
        };
        let event = decode::<ReservationEvent>(&last).map_err(|e| AppendError::Unavailable(e.to_string()))?;
        Ok(match Reservation::evolve(Reservation::Free, &event) {
            Reservation::Held { account_id } => Some(account_id),
            Reservation::Free => None,
        })
    }

    /// The context `authorization` (the header's value) gives functions, if it is let through.
    async fn caller(&self, authorization: &str) -> Result<Option<Map<String, Value>>, AppendError> {
        let Some((scheme, token)) = authorization.trim().split_once(' ') else { return Ok(None) };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Ok(None);
        }
        match self.verifier.verify(token.trim()) {
            None => Ok(None),
            Some(Bearer::Account { account_id, username, generation }) => {
                Ok(match self.sessions(&account_id).await? {
                    Sessions::Since { generation: current, .. } if generation >= current => {
                        Some(context(json!({ "account_id": account_id, "username": username })))
                    }
                    _ => None,
                })
            }
            Some(Bearer::Legacy { subject, issued_at }) => {
                let Some(account_id) = self.linked_account(&subject).await? else { return Ok(None) };
                Ok(match self.sessions(&account_id).await? {
                    // The legacy issuer's clock may run up to the leeway ahead of ours.
                    Sessions::Since { revoked_at, .. }
                        if issued_at as i64 > revoked_at.saturating_add(LEEWAY_SECONDS as i64) =>
                    {
                        Some(context(json!({ "account_id": account_id })))
                    }
                    _ => None,
                })
            }
        }
    }
}

fn context(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
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
            // Refusing is the safe answer when the log cannot be read; the client may retry.
            tracing::error!(%error, "authorizer could not read the events table");
            None
        });
        let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
        if let Some(context) = caller {
            response.is_authorized = true;
            response.context = Value::Object(context);
        }
        response
    }
}
