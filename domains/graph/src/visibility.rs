//! The one visibility rule: whether a viewer may see what an author shared with an audience.
//! Every domain that shows content asks it through [`GraphReader::may_view`] (the graph's
//! read-only port on its read table, which fetches the [`Standing`]); none re-implements any
//! part of it.

use crate::projection::Edge;
use crate::read_model::{
    counts_key, relations_partition, relations_with, FOLLOWERS_COUNT, FOLLOWING_COUNT, MIRROR_SUFFIX,
};
pub use huddle_catalog::graph::Audience;
use huddle_catalog::graph::{Tier, AUDIENCE, BLOCK, FOLLOW};
use huddle_ports::{Query, SkRange, Table, TableError};
use std::collections::BTreeMap;
use std::sync::Arc;

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

/// The relationships between one account and another, by kind, as the one's partition holds
/// them: its own (`outgoing`) and the other's (`incoming`, their mirrors).
#[derive(Debug, Default)]
pub(crate) struct Between {
    outgoing: BTreeMap<String, Edge>,
    incoming: BTreeMap<String, Edge>,
}

impl Between {
    pub(crate) fn outgoing(&self, kind: &str) -> Option<&Edge> {
        self.outgoing.get(kind)
    }

    pub(crate) fn incoming(&self, kind: &str) -> Option<&Edge> {
        self.incoming.get(kind)
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

    /// Every relationship between `one` and `other`, both ways: one Query of `one`'s partition.
    pub(crate) async fn between(&self, one: &str, other: &str) -> Result<Between, TableError> {
        let prefix = relations_with(other);
        let query = Query::new(relations_partition(one)).range(SkRange::Prefix(prefix.clone()));
        let mut between = Between::default();
        for item in self.read_model.query(&query).await?.items {
            let sk = item.get("sk").and_then(serde_json::Value::as_str).unwrap_or_default();
            let kind = sk.strip_prefix(&prefix).unwrap_or_default().to_owned();
            let edge = Edge::of(&item).ok_or_else(|| TableError::Invalid(format!("a corrupt edge {sk}")))?;
            match kind.strip_suffix(MIRROR_SUFFIX) {
                Some(kind) => between.incoming.insert(kind.to_owned(), edge),
                None => between.outgoing.insert(kind, edge),
            };
        }
        Ok(between)
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
        Ok(self.standing(one, other).await?.blocked_either_way)
    }

    /// The viewer's standing with the author: both blocks, the follow and the tier, in one read.
    pub async fn standing(&self, viewer: &str, author: &str) -> Result<Standing, TableError> {
        let between = self.between(viewer, author).await?;
        Ok(Standing {
            blocked_either_way: between.outgoing(BLOCK).is_some() || between.incoming(BLOCK).is_some(),
            follows: between.outgoing(FOLLOW).is_some_and(|edge| !edge.requested),
            tier: between.incoming(AUDIENCE).and_then(|edge| edge.tier),
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
