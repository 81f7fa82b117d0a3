//! The one visibility rule: whether a viewer may see what an author shared with an audience.
//! Every domain that shows content asks it through [`GraphReader::may_view`] (the graph's
//! read-only port on its read table, which fetches the [`Standing`]); none re-implements any
//! part of it.

use crate::projection::Edge;
use crate::read_model::{counts_key, EDGE, FOLLOWERS_COUNT, FOLLOWING_COUNT};
use huddle_catalog::graph::{pair_stream, Tier, AUDIENCE, BLOCK, FOLLOW};
use huddle_ports::{Key, Table, TableError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Who a post or story is shared with: everyone, the author's followers, or one of the author's
/// tiers (each within the followers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Public,
    Followers,
    Acquaintances,
    Friends,
    CloseFriends,
}

impl Audience {
    /// The tier a tiered audience is, if it is one.
    pub fn tier(self) -> Option<Tier> {
        match self {
            Audience::Public | Audience::Followers => None,
            Audience::Acquaintances => Some(Tier::Acquaintances),
            Audience::Friends => Some(Tier::Friends),
            Audience::CloseFriends => Some(Tier::CloseFriends),
        }
    }
}

/// What the graph holds about a viewer and an author that the rule reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// One of the two blocks the other.
    pub blocked_either_way: bool,
    /// The viewer follows the author (a pending request is no follow).
    pub follows: bool,
    /// The narrowest tier the author put the viewer in.
    pub tier: Option<Tier>,
}

/// Whether `viewer` may see what `author` shared with `audience`, given their [`Standing`]. An
/// author sees its own; a block either way hides everything, public included; a tier admits the
/// members of it and of every narrower tier, and only while they follow (a member added before
/// following sees the tier once they follow).
pub fn may_view(viewer: &str, author: &str, audience: Audience, standing: &Standing) -> bool {
    if viewer == author {
        return true;
    }
    if standing.blocked_either_way {
        return false;
    }
    match (audience, audience.tier()) {
        (Audience::Public, _) => true,
        (_, None) => standing.follows,
        (_, Some(tier)) => standing.follows && standing.tier.is_some_and(|member| member.within(tier)),
    }
}

/// How many accounts follow an account, and how many it follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FollowCounts {
    pub followers: u64,
    pub following: u64,
}

/// The graph's read-only port: what other domains' roles are granted on the graph's read table.
#[derive(Clone)]
pub struct GraphReader {
    read_model: Arc<dyn Table>,
}

impl GraphReader {
    pub fn new(read_model: Arc<dyn Table>) -> Self {
        Self { read_model }
    }

    /// The own item of the relationship of `kind` from `from` to `to`, if there is one.
    pub(crate) async fn edge(&self, kind: &str, from: &str, to: &str) -> Result<Option<Edge>, TableError> {
        let item = self.read_model.get(&Key::new(pair_stream(kind, from, to), EDGE)).await?;
        item.map(|item| Edge::of(&item).ok_or_else(|| TableError::Invalid(format!("a corrupt {kind} edge"))))
            .transpose()
    }

    /// How many accounts follow `account`, and how many it follows.
    pub async fn follow_counts(&self, account: &str) -> Result<FollowCounts, TableError> {
        let item = self.read_model.get(&counts_key(account)).await?.unwrap_or_default();
        // Never below zero, whatever a bug or a hand edit left.
        let count =
            |name: &str| item.get(name).and_then(serde_json::Value::as_i64).unwrap_or(0).max(0) as u64;
        Ok(FollowCounts { followers: count(FOLLOWERS_COUNT), following: count(FOLLOWING_COUNT) })
    }

    /// Whether one of the two accounts blocks the other.
    pub async fn blocked_either_way(&self, one: &str, other: &str) -> Result<bool, TableError> {
        let (one_way, other_way) =
            futures::try_join!(self.edge(BLOCK, one, other), self.edge(BLOCK, other, one))?;
        Ok(one_way.is_some() || other_way.is_some())
    }

    /// The viewer's standing with the author: both blocks, the follow and the tier, read at once.
    pub async fn standing(&self, viewer: &str, author: &str) -> Result<Standing, TableError> {
        let (blocking, blocked, follow, member) = futures::try_join!(
            self.edge(BLOCK, viewer, author),
            self.edge(BLOCK, author, viewer),
            self.edge(FOLLOW, viewer, author),
            self.edge(AUDIENCE, author, viewer),
        )?;
        Ok(Standing {
            blocked_either_way: blocking.is_some() || blocked.is_some(),
            follows: follow.as_ref().is_some_and(|edge| !edge.requested),
            tier: member.and_then(|edge| edge.tier),
        })
    }

    /// [`may_view`], from the read table.
    pub async fn may_view(&self, viewer: &str, author: &str, audience: Audience) -> Result<bool, TableError> {
        if viewer == author {
            return Ok(true);
        }
        Ok(may_view(viewer, author, audience, &self.standing(viewer, author).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    fn visible_to(standing: Standing) -> Vec<Audience> {
        Audience::VARIANTS
            .iter()
            .copied()
            .filter(|audience| may_view("viewer", "author", *audience, &standing))
            .collect()
    }

    #[test]
    fn each_standing_sees_exactly_its_audiences() {
        use Audience::*;
        let follower = Standing { follows: true, ..Standing::default() };
        assert_eq!(visible_to(Standing::default()), [Public], "a stranger");
        assert_eq!(visible_to(follower), [Public, Followers]);
        let member = |tier| Standing { tier: Some(tier), ..follower };
        assert_eq!(visible_to(member(Tier::Acquaintances)), [Public, Followers, Acquaintances]);
        assert_eq!(visible_to(member(Tier::Friends)), [Public, Followers, Acquaintances, Friends]);
        assert_eq!(visible_to(member(Tier::CloseFriends)), Audience::VARIANTS);
        let not_following = Standing { tier: Some(Tier::CloseFriends), ..Standing::default() };
        assert_eq!(visible_to(not_following), [Public], "a tier admits its members only while they follow");
    }

    #[test]
    fn a_block_hides_everything_and_an_author_sees_its_own() {
        let blocked = Standing { blocked_either_way: true, follows: true, tier: Some(Tier::CloseFriends) };
        assert!(visible_to(blocked).is_empty());
        for audience in Audience::VARIANTS.iter().copied() {
            assert!(may_view("author", "author", audience, &blocked));
        }
    }
}
