//! What the graph's commands need to know of the other account, read from its account stream
//! (the accounts domain's) rather than from the read table, so that a follow right after a
//! sign-up, a lock or an erasure is decided on what happened, not on what was projected yet.

use super::Pair;
use huddle_catalog::accounts::{account_stream, AccountEvent};
use huddle_domain::decider::ExecuteError;
use huddle_eventstore::{decode_personal, EventStore, StreamWrite};
use huddle_http::ApiError;

/// An existing account's stream as it was read.
pub(crate) struct AccountFacts {
    pub locked: bool,
    /// The check that the account did not change (a lock, an erasure) before the command lands.
    pub unchanged: StreamWrite,
}

fn no_such_account() -> ApiError {
    ApiError::not_found("no such account")
}

/// The pair's other account: 404 when it never existed or was erased.
pub(crate) async fn other_account(events: &EventStore, pair: &Pair) -> Result<AccountFacts, ApiError> {
    let stream = account_stream(&pair.other);
    let envelopes =
        events.read_stream(&stream, 1..).await.map_err(|e| ApiError::internal(&pair.request_id, &e))?;
    let Some(last) = envelopes.last() else { return Err(no_such_account()) };
    let mut locked = false;
    for envelope in &envelopes {
        // Events with sealed fields (none of them says whether the account is locked or gone)
        // open to `None` without the account's key, which the graph never reads.
        match decode_personal::<AccountEvent>(envelope, None) {
            Ok(Some(AccountEvent::LockChanged { locked: now })) => locked = now,
            Ok(Some(AccountEvent::AccountErased)) => return Err(no_such_account()),
            Ok(_) => {}
            Err(e) => return Err(ApiError::internal(&pair.request_id, &e)),
        }
    }
    Ok(AccountFacts { locked, unchanged: StreamWrite::unchanged(stream, last.version) })
}

/// [`other_account`], for use inside an execution.
pub(crate) async fn existing(
    events: &EventStore,
    pair: &Pair,
) -> Result<AccountFacts, ExecuteError<ApiError>> {
    other_account(events, pair).await.map_err(ExecuteError::Rejected)
}
