//! `POST /v1/me/sessions/revoke`, "log out everywhere": every token of the account issued
//! until now stops working at its next authorization, this request's own included. It takes no
//! `Idempotency-Key`: a retry with the same token is refused at the door, and one with a newer
//! token must revoke that one too, not replay the first answer.

use super::{no_content, AccountsCommand};
use huddle_catalog::accounts::{sessions_stream, RevocationReason, SessionEvent};
use huddle_eventstore::{decode, encode, ExpectedVersion, Metadata, StreamWrite};
use huddle_http::{caller, correlation_id, request_id, ApiError, Body, Request, Response};

/// The write that moves an account's token generation past `generation` (its `sessions#`
/// stream's version now).
pub(super) fn revocation(account_id: &str, generation: u64, reason: RevocationReason) -> StreamWrite {
    StreamWrite {
        stream: sessions_stream(account_id),
        expected: ExpectedVersion::Exact(generation),
        events: vec![encode(&SessionEvent::SessionsRevoked { reason })],
    }
}

impl AccountsCommand {
    pub(super) async fn revoke_sessions(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(request)?;
        let request_id = request_id(request);
        let metadata =
            Metadata::new(correlation_id(request)).actor(&caller.account_id).caused_by(&request_id);
        let failed = |e: &dyn std::fmt::Display| ApiError::internal(&request_id, e);
        // Appended after the stream's last event as read, so it can never land after an
        // erasure and hide it from the authorizer.
        let last =
            self.events.last_event(&sessions_stream(&caller.account_id)).await.map_err(|e| failed(&e))?;
        if let Some(last) = &last {
            if let SessionEvent::SessionsRevoked { reason: RevocationReason::AccountErased } =
                decode(last).map_err(|e| failed(&e))?
            {
                return Err(ApiError::not_found("no such account"));
            }
        }
        let generation = last.map_or(0, |event| event.version);
        let revoke = revocation(&caller.account_id, generation, RevocationReason::SessionsEnded);
        self.events
            .append_all(vec![revoke], &metadata, None)
            .await
            .map_err(|e| ApiError::from_append(e, &request_id))?;
        Ok(no_content())
    }
}
