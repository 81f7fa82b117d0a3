//! Follows and follow requests: `PUT`/`DELETE /v1/me/following/{account_id}` and the followee's
//! answers to a request.

use super::accounts::other_account;
use super::{no_content, refused, GraphCommand, Pair};
use crate::follow::{Follow, FollowCommand, FollowError};
use huddle_catalog::graph::{pair_stream, FOLLOW};
use huddle_domain::decider::Also;
use huddle_domain::Execution;
use huddle_http::{ApiError, Body, Response};

impl From<FollowError> for ApiError {
    fn from(error: FollowError) -> Self {
        match error {
            FollowError::NoPendingRequest => ApiError::not_found(error.to_string()),
        }
    }
}

impl GraphCommand {
    /// Follows the other account, or asks to when it is locked. Refused (403) across a block
    /// either way; the block streams and the followee's account stream must be unchanged when
    /// the follow lands, so a block, a lock or an erasure a moment before is never missed.
    pub(super) async fn follow(&self, pair: &Pair) -> Result<Response<Body>, ApiError> {
        let followee = other_account(&self.events, pair).await?;
        let command = FollowCommand::Follow { followee_locked: followee.locked };
        let stream = pair_stream(FOLLOW, &pair.caller, &pair.other);
        Execution::<Follow>::new(&self.events, stream, command, pair.metadata.clone())
            .execute_with(|_, decided| {
                let account_unchanged = followee.unchanged.clone();
                async move {
                    if decided.is_empty() {
                        return Ok(Also::default());
                    }
                    let mut writes = self.not_blocked(pair).await?;
                    writes.push(account_unchanged);
                    Ok(Also { writes, keys: Vec::new() })
                }
            })
            .await
            .map_err(refused(&pair.request_id))?;
        self.answer(pair).await
    }

    /// Stops following, or takes a pending request back; nothing to stop is no error.
    pub(super) async fn unfollow(&self, pair: &Pair) -> Result<Response<Body>, ApiError> {
        let stream = pair_stream(FOLLOW, &pair.caller, &pair.other);
        self.run::<Follow>(pair, stream, FollowCommand::Unfollow).await?;
        Ok(no_content())
    }

    /// The caller's answer to the other account's pending request to follow it: accepted, it
    /// answers with the relationship (`followed_by`); rejected, with nothing.
    pub(super) async fn answer_request(&self, pair: &Pair, accept: bool) -> Result<Response<Body>, ApiError> {
        // An erased account's request is no request any more.
        other_account(&self.events, pair).await?;
        let stream = pair_stream(FOLLOW, &pair.other, &pair.caller);
        let command = if accept { FollowCommand::Accept } else { FollowCommand::Reject };
        self.run::<Follow>(pair, stream, command).await?;
        if !accept {
            return Ok(no_content());
        }
        self.answer(pair).await
    }
}
