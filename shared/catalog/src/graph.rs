//! The social graph: every relationship between two accounts is a short stream of its own, named
//! by the ordered pair, never one growing stream per account, so a command costs the same for
//! an account with ten followers as for one with a million:
//!
//! * `follow#<follower>#<followee>`: whether one follows the other, or asked to;
//! * `block#<blocker>#<blocked>` and `mute#<muter>#<muted>`: on or off;
//! * `audience#<owner>#<member>`: the narrowest audience tier the owner put the member in.
//!
//! The events carry no ids: the stream names the pair ([`pair_of`]), which keeps every event
//! item small.

use huddle_eventstore::EventSchema;
use serde::{Deserialize, Serialize};

/// The stream types of the graph's pair streams.
pub const FOLLOW: &str = "follow";
pub const BLOCK: &str = "block";
pub const MUTE: &str = "mute";
pub const AUDIENCE: &str = "audience";

/// The stream of the relationship of `kind` (one of the constants above) from `from` to `to`.
pub fn pair_stream(kind: &str, from: &str, to: &str) -> String {
    format!("{kind}#{from}#{to}")
}

/// The kind and the two accounts of a pair stream; `None` for any other stream.
pub fn pair_of(stream: &str) -> Option<(&str, &str, &str)> {
    let mut parts = stream.splitn(3, '#');
    let (kind, from, to) = (parts.next()?, parts.next()?, parts.next()?);
    let known = [FOLLOW, BLOCK, MUTE, AUDIENCE].contains(&kind);
    (known && !from.is_empty() && !to.is_empty() && !to.contains('#')).then_some((kind, from, to))
}

/// The events of a `follow#` stream. A follow of an unlocked account is `Followed` at once; of a
/// locked one, `FollowRequested`, then accepted (`FollowRequestAccepted`: following from then)
/// or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum FollowEvent {
    Followed,
    FollowRequested,
    FollowRequestAccepted,
    FollowRequestRejected,
    /// The follower took its request back (an unfollow of a pending request, or a block).
    FollowRequestWithdrawn,
    /// Only ever after `Followed` or `FollowRequestAccepted`: a projection that counts followers
    /// subtracts one for each, and never goes below what it added.
    Unfollowed,
}

impl EventSchema for FollowEvent {}

/// The events of a `block#` stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum BlockEvent {
    Blocked,
    Unblocked,
}

impl EventSchema for BlockEvent {}

/// The events of a `mute#` stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum MuteEvent {
    Muted,
    Unmuted,
}

impl EventSchema for MuteEvent {}

/// An owner's private audience tiers, nested: every close friend is a friend, every friend an
/// acquaintance (and every tier sits within the owner's followers, for what the tier may see).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::VariantNames,
    strum::VariantArray,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Tier {
    CloseFriends,
    Friends,
    Acquaintances,
}

impl Tier {
    /// Whether a member of `self` is a member of `wider` too: each tier holds the narrower ones.
    pub fn within(self, wider: Tier) -> bool {
        self <= wider
    }

    /// The tier just wider than this one: what is left of a member taken out of this tier.
    pub fn wider(self) -> Option<Tier> {
        match self {
            Tier::CloseFriends => Some(Tier::Friends),
            Tier::Friends => Some(Tier::Acquaintances),
            Tier::Acquaintances => None,
        }
    }
}

/// Who a post or story is shared with: everyone, the author's followers, or one of the author's
/// tiers (each within the followers). The graph's visibility rule reads it; content carries it
/// in its events.
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

    /// Whether everyone `self` admits is admitted by `wider` too, in the order public >
    /// followers > acquaintances > friends > close friends (a reply's audience is within its
    /// parent's).
    pub fn within(self, wider: Audience) -> bool {
        self.breadth() <= wider.breadth()
    }

    /// How wide the audience is: public the widest.
    fn breadth(self) -> u8 {
        match self {
            Audience::CloseFriends => 0,
            Audience::Friends => 1,
            Audience::Acquaintances => 2,
            Audience::Followers => 3,
            Audience::Public => 4,
        }
    }
}

/// The events of an `audience#` stream: the member's narrowest tier after the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum AudienceEvent {
    AudienceSet { tier: Tier },
    AudienceCleared,
}

impl EventSchema for AudienceEvent {}

/// The stream type of the graph's erasure jobs: `graph-erasure#<account>`, one per erased account.
pub const ERASURE: &str = "graph-erasure";

pub fn erasure_stream(account: &str) -> String {
    format!("{ERASURE}#{account}")
}

/// The account an erasure stream erases from the graph.
pub fn erased_account_of(stream: &str) -> Option<&str> {
    stream.strip_prefix(ERASURE)?.strip_prefix('#').filter(|account| !account.is_empty())
}

/// The events of a `graph-erasure#` stream: the graph's own record of taking an erased account
/// out of every relationship, a page of them at a time. The graph's projection appends each when
/// it applies the event before (the first when it applies `AccountErased`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum ErasureEvent {
    /// Take the next page of the account's relationships out of the graph.
    ErasureStepped,
}

impl EventSchema for ErasureEvent {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_streams_name_their_kind_and_both_accounts() {
        let stream = pair_stream(FOLLOW, "acc_1", "acc_2");
        assert_eq!(stream, "follow#acc_1#acc_2");
        assert_eq!(pair_of(&stream), Some((FOLLOW, "acc_1", "acc_2")));
        for other in ["account#acc_1", "follow#acc_1", "follow##acc_2", "follow#a#b#c", "likes#a#b"] {
            assert_eq!(pair_of(other), None, "{other}");
        }
        assert_eq!(erased_account_of(&erasure_stream("acc_1")), Some("acc_1"));
        assert_eq!(pair_of(&erasure_stream("acc_1")), None);
        assert_eq!(erased_account_of("graph-erasure#"), None);
    }

    #[test]
    fn tiers_nest_from_close_friends_out() {
        assert!(Tier::CloseFriends.within(Tier::Acquaintances));
        assert!(Tier::Friends.within(Tier::Friends));
        assert!(!Tier::Acquaintances.within(Tier::Friends));
        assert_eq!(Tier::CloseFriends.wider(), Some(Tier::Friends));
        assert_eq!(Tier::Acquaintances.wider(), None);
    }

    #[test]
    fn audiences_narrow_from_public_to_close_friends() {
        use strum::VariantArray;
        for (i, narrower) in Audience::VARIANTS.iter().enumerate() {
            for (j, wider) in Audience::VARIANTS.iter().enumerate() {
                assert_eq!(narrower.within(*wider), j <= i, "{narrower:?} within {wider:?}");
            }
        }
    }
}
