//! `POST /v1/me/sessions/revoke`, "log out everywhere": every token of the account issued
//! until now stops working at its next authorization, this request's own included, and the
//! legacy link ends (link again, with the password, to use legacy tokens). It takes no
//! `Idempotency-Key`: a retry with the same token is refused at the door, and one with a newer
//! token must revoke that one too, not replay the first answer.

use super::{no_content, AccountsCommand, MAX_ATTEMPTS};
use huddle_catalog::accounts::{sessions_stream, RevocationReason, SessionEvent};
use huddle_eventstore::{encode, AppendError, ExpectedVersion, Metadata, StreamWrite};
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
        let mut attempt = 1;
        loop {
            let loaded = self.load(&caller.account_id, &request_id).await?;
            // An erased account is gone (and its sessions stream ends with the erasure: this
            // is read through the account, so nothing can land after it and hide it).
            loaded.active()?;
            let (unlinked, release) = self.legacy_unlink(&caller.account_id, &loaded, &request_id).await?;
            let mut writes =
                vec![revocation(&caller.account_id, loaded.generation, RevocationReason::SessionsEnded)];
            let mut snapshots = Vec::new();
            if !unlinked.is_empty() {
                let (write, snapshot) = loaded.account_write(&caller.account_id, &unlinked, &request_id)?;
                writes.push(write);
                snapshots.push(snapshot);
            }
            writes.extend(release);
            match self.events.append_with_snapshots(writes, snapshots, Vec::new(), &metadata, None).await {
                Ok(_) => return Ok(no_content()),
                Err(AppendError::Conflict { .. }) if attempt < MAX_ATTEMPTS => attempt += 1,
                Err(error) => return Err(ApiError::from_append(error, &request_id)),
            }
        }
    }
}
