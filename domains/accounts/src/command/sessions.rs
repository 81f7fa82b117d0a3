//! `POST /v1/me/sessions/revoke`, "log out everywhere": every token of the account issued
//! until now stops working at its next authorization, this request's own included, and the
//! legacy link ends (link again, with the password, to use legacy tokens). It takes no
//! `Idempotency-Key`: a retry with the same token is refused at the door, and one with a newer
//! token must revoke that one too, not replay the first answer.

use super::{no_content, refused, AccountsCommand};
use crate::account::AccountCommand;
use huddle_catalog::accounts::{sessions_stream, AccountEvent, RevocationReason, SessionEvent};
use huddle_domain::decider::{Also, ExecuteError};
use huddle_eventstore::{encode, ExpectedVersion, StreamWrite};
use huddle_http::{caller, request_id, ApiError, Body, Request, Response};

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
        let account_id = caller.account_id.as_str();
        // An erased account is gone (its decider refuses the unlink, and its sessions stream ends
        // with the erasure: this is read through the account, so nothing can land after it).
        self.on_account(request, account_id, AccountCommand::UnlinkLegacySubject)
            .execute_with(|_, unlinked| self.revoking(account_id, RevocationReason::SessionsEnded, unlinked))
            .await
            .map_err(refused(&request_id(request)))?;
        Ok(no_content())
    }

    /// What a revocation writes beside the account's `events`: the next token generation, and
    /// the release of the legacy subject's reservation when the events end a legacy link.
    pub(super) async fn revoking(
        &self,
        account_id: &str,
        reason: RevocationReason,
        events: Vec<AccountEvent>,
    ) -> Result<Also, ExecuteError<ApiError>> {
        let generation = self.events.head(&sessions_stream(account_id)).await?;
        let mut writes = vec![revocation(account_id, generation, reason)];
        for event in events {
            if let AccountEvent::LegacySubjectUnlinked { subject } = event {
                writes.extend(self.release(self.lookup.legacy_stream(&subject), account_id).await?);
            }
        }
        Ok(Also { writes, keys: Vec::new() })
    }
}
