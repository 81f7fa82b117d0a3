//! An account as the commands (and `GET /v1/me`) read it: its stream through the decider kit
//! (from its snapshot, personal fields opened with its key) and its token generation.

use super::AccountsCommand;
use crate::account::{Account, ActiveAccount};
use huddle_catalog::accounts::{account_stream, sessions_stream};
use huddle_domain::decider::{load, Current};
use huddle_http::ApiError;
use time::OffsetDateTime;

pub(super) struct Loaded {
    pub(super) account: Current<Account>,
    /// The version of the account's `sessions#` stream: tokens issued now carry it.
    pub(super) generation: u64,
}

impl Loaded {
    pub(super) fn active(&self) -> Result<&ActiveAccount, ApiError> {
        active(&self.account.state)
    }

    pub(super) fn created_at(&self) -> OffsetDateTime {
        created_at(self.account.started_at)
    }
}

pub(crate) fn active(account: &Account) -> Result<&ActiveAccount, ApiError> {
    match account {
        Account::Active(account) => Ok(account),
        _ => Err(ApiError::not_found("no such account")),
    }
}

/// When an account stream that `started_at` began (one without events answers only 404s).
pub(crate) fn created_at(started_at: Option<OffsetDateTime>) -> OffsetDateTime {
    started_at.unwrap_or_else(OffsetDateTime::now_utc)
}

impl AccountsCommand {
    /// The account (events whose fields were shredded are skipped: only the erasure matters
    /// then) and its token generation. The reads are made whether or not the account exists.
    /// The generation is read first: a password change committing between the reads then leaves
    /// either the new hash (the old password fails) or a token of the old generation (refused at
    /// once), never an old hash with a new generation.
    pub(super) async fn load(&self, account_id: &str, request_id: &str) -> Result<Loaded, ApiError> {
        let failed = |e: &dyn std::fmt::Display| ApiError::internal(request_id, e);
        let generation = self.events.head(&sessions_stream(account_id)).await.map_err(|e| failed(&e))?;
        let account =
            load::<Account>(&self.events, account_stream(account_id)).await.map_err(|e| failed(&e))?;
        Ok(Loaded { account, generation })
    }
}
