//! The graph's read table. Each relationship is kept twice: its own item
//! (`<kind>#<from>#<to>` / `edge`, with when it began), for the point lookups of relationships
//! and the visibility rule, and an entry in each list it belongs to (`<list>#<owner>` /
//! `<began, ms, zero-padded>#<other>`), read backward for newest first. Follow counts are
//! `counts#<account>` / `counts`, changed only by atomic adds in the projection's transaction.

use huddle_catalog::graph::Tier;
use huddle_ports::Key;

/// The sort key of a relationship's own item.
pub const EDGE: &str = "edge";

/// The lists an account owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Followers,
    Following,
    /// Follow requests waiting for the owner's answer.
    FollowRequests,
    Blocks,
    Mutes,
    Tier(Tier),
}

impl List {
    fn name(self) -> &'static str {
        match self {
            List::Followers => "followers",
            List::Following => "following",
            List::FollowRequests => "follow-requests",
            List::Blocks => "blocks",
            List::Mutes => "mutes",
            List::Tier(Tier::CloseFriends) => "tier-close_friends",
            List::Tier(Tier::Friends) => "tier-friends",
            List::Tier(Tier::Acquaintances) => "tier-acquaintances",
        }
    }

    /// The partition of `owner`'s list.
    pub fn partition(self, owner: &str) -> String {
        format!("{}#{owner}", self.name())
    }

    /// The entry of `other` in `owner`'s list, which it joined at `since_ms`.
    pub fn entry(self, owner: &str, since_ms: i64, other: &str) -> Key {
        Key::new(self.partition(owner), format!("{since_ms:015}#{other}"))
    }
}

pub fn counts_key(account: &str) -> Key {
    Key::new(format!("counts#{account}"), "counts")
}

pub const FOLLOWERS_COUNT: &str = "followers_count";
pub const FOLLOWING_COUNT: &str = "following_count";
