//! Blocks and mutes: `PUT`/`DELETE /v1/me/blocks/{account_id}` and `/v1/me/mutes/{account_id}`.

use super::accounts::other_account;
use super::{no_content, refused, GraphCommand, Pair};
use crate::follow::{Follow, FollowCommand};
use crate::relation::{Block, Mute, Turn};
use crate::tiers::{TierCommand, TierMembership};
use huddle_catalog::graph::{pair_stream, Tier, AUDIENCE, BLOCK, FOLLOW, MUTE};
use huddle_domain::decider::{load, Also, Current, Decider, ExecuteError};
use huddle_domain::Execution;
use huddle_eventstore::{EventSchema, StreamWrite};
use huddle_http::{ApiError, Body, Response};
use serde::Serialize;

/// The append of what `command` decides on `current`, or, when it decides nothing, the check
/// that `current` is still as read (so a follow that races the block conflicts with it).
fn closing<D>(current: &Current<D>, command: D::Command) -> Result<StreamWrite, ExecuteError<ApiError>>
where
    D: Decider,
    D::State: Serialize,
    D::Event: EventSchema,
    ApiError: From<D::Error>,
{
    let events = current.decide(command).map_err(|e| ExecuteError::Rejected(e.into()))?;
    Ok(current.write(&events)?.unwrap_or_else(|| current.unchanged()))
}

impl GraphCommand {
    /// Blocks the other account. In the same transaction: the follows and requests between the
    /// two end both ways, and the blocked account leaves the caller's tiers.
    pub(super) async fn block(&self, pair: &Pair) -> Result<Response<Body>, ApiError> {
        other_account(&self.events, pair).await?;
        let stream = pair_stream(BLOCK, &pair.caller, &pair.other);
        Execution::<Block>::new(&self.events, stream, Turn::On, pair.metadata.clone())
            .execute_with(|_, decided| async move {
                if decided.is_empty() {
                    return Ok(Also::default());
                }
                let (following, followed_by, member) = tokio::try_join!(
                    load::<Follow>(&self.events, pair_stream(FOLLOW, &pair.caller, &pair.other)),
                    load::<Follow>(&self.events, pair_stream(FOLLOW, &pair.other, &pair.caller)),
                    load::<TierMembership>(&self.events, pair_stream(AUDIENCE, &pair.caller, &pair.other)),
                )?;
                let writes = vec![
                    closing(&following, FollowCommand::Unfollow)?,
                    closing(&followed_by, FollowCommand::Unfollow)?,
                    closing(&member, TierCommand::Remove(Tier::Acquaintances))?,
                ];
                Ok(Also { writes, keys: Vec::new() })
            })
            .await
            .map_err(refused(&pair.request_id))?;
        self.answer(pair).await
    }

    /// Unblocks; what the block ended stays ended.
    pub(super) async fn unblock(&self, pair: &Pair) -> Result<Response<Body>, ApiError> {
        self.run::<Block>(pair, pair_stream(BLOCK, &pair.caller, &pair.other), Turn::Off).await?;
        Ok(no_content())
    }

    /// Mutes the other account: the follow stays; feeds and notifications leave it out.
    pub(super) async fn mute(&self, pair: &Pair) -> Result<Response<Body>, ApiError> {
        other_account(&self.events, pair).await?;
        self.run::<Mute>(pair, pair_stream(MUTE, &pair.caller, &pair.other), Turn::On).await?;
        self.answer(pair).await
    }

    pub(super) async fn unmute(&self, pair: &Pair) -> Result<Response<Body>, ApiError> {
        self.run::<Mute>(pair, pair_stream(MUTE, &pair.caller, &pair.other), Turn::Off).await?;
        Ok(no_content())
    }
}
