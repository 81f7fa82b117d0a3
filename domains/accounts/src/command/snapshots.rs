//! The account stream's snapshots: what they hold and how often they are written. They are
//! sealed under the account's key, so erasure makes them unreadable with its events.

use super::Loaded;
use crate::account::{evolve, Account};
use huddle_catalog::accounts::{account_stream, AccountEvent};
use huddle_eventstore::{encode_personal, ExpectedVersion, NewSnapshot, SnapshotPolicy, StreamWrite};
use huddle_http::ApiError;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An account is loaded from its snapshot and at most about 50 events after it.
pub(super) const ACCOUNT_SNAPSHOTS: SnapshotPolicy = SnapshotPolicy { interval: 50, schema: 1 };

/// The folded account stream: the account and when its first event happened.
#[derive(Serialize, Deserialize)]
pub(super) struct AccountSnapshot {
    pub(super) account: Account,
    #[serde(with = "time::serde::rfc3339")]
    pub(super) created_at: OffsetDateTime,
}

impl Loaded {
    /// The append of `events` to the loaded account's stream, their personal fields sealed, with
    /// the state they lead to offered as a snapshot.
    pub(super) fn account_write(
        &self,
        account_id: &str,
        events: &[AccountEvent],
        request_id: &str,
    ) -> Result<(StreamWrite, NewSnapshot), ApiError> {
        let key = self.key(request_id)?;
        let stream = account_stream(account_id);
        let state = AccountSnapshot {
            account: events.iter().fold(self.account.clone(), evolve),
            created_at: self.created_at,
        };
        let snapshot = ACCOUNT_SNAPSHOTS.offer(stream.clone(), &state, self.snapshot_version, Some(key));
        let write = StreamWrite {
            stream,
            expected: ExpectedVersion::Exact(self.version),
            events: events.iter().map(|event| encode_personal(event, key)).collect(),
        };
        Ok((write, snapshot))
    }
}
