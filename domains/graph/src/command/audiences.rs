//! The caller's audience tiers: `PUT`/`DELETE /v1/me/audiences/{tier}/{account_id}`.

use super::accounts::existing;
use super::{no_content, GraphCommand, Pair};
use crate::tiers::{TierCommand, TierMembership};
use huddle_catalog::graph::{pair_stream, Tier, AUDIENCE};
use huddle_domain::decider::Also;
use huddle_domain::Execution;
use huddle_http::{path_parameter, ApiError, Body, Request, Response};

/// The `{tier}` of the path; any other name is no tier (404).
pub(crate) fn tier(request: &Request) -> Result<Tier, ApiError> {
    path_parameter(request, "tier")?
        .parse()
        .map_err(|_| ApiError::not_found("the tiers are close_friends, friends and acquaintances"))
}

impl GraphCommand {
    /// Puts the other account in `tier` (a narrower tier it is in stays). It need not follow the
    /// caller yet: it sees the tier's posts once it does. Refused (403) across a block.
    pub(super) async fn add_to_audience(&self, pair: &Pair, tier: Tier) -> Result<Response<Body>, ApiError> {
        let stream = pair_stream(AUDIENCE, &pair.caller, &pair.other);
        Execution::<TierMembership>::new(&self.events, stream, TierCommand::Put(tier), pair.metadata.clone())
            .execute_with(|_, decided| async move {
                // Refused across a block even when it would change nothing: the answer never
                // reads as if the tier could still be set.
                // The account first: an erased one's blocks are in its streams still.
                let account = existing(&self.events, pair).await?;
                let mut writes = self.not_blocked(pair).await?;
                if decided.is_empty() {
                    return Ok(Also::default());
                }
                writes.push(account.unchanged);
                Ok(Also { writes, keys: Vec::new() })
            })
            .await
            .map_err(super::refused(&pair.request_id))?;
        self.answer(pair).await
    }

    /// Takes the other account out of `tier` and every narrower one.
    pub(super) async fn remove_from_audience(
        &self,
        pair: &Pair,
        tier: Tier,
    ) -> Result<Response<Body>, ApiError> {
        let stream = pair_stream(AUDIENCE, &pair.caller, &pair.other);
        self.run::<TierMembership>(pair, stream, TierCommand::Remove(tier)).await?;
        Ok(no_content())
    }
}
