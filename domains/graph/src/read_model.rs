//! The graph's read table:
//!
//! | pk | sk | holds |
//! |---|---|---|
//! | `rel#<from>` | `<to>#<kind>` | a relationship's own item: when it began, whether it is a request, the tiers |
//! | `rel#<to>` | `<from>#<kind>-by` | its mirror, the same attributes |
//! | `<list>#<owner>` | `<began ms, 15 digits>#<other>` | an entry of one of the owner's lists, read backward for newest first |
//! | `counts#<account>` | `counts` | follower and following counts, changed only by atomic adds |
//! | `account#<id>` | `account` | what the lists show of an account (username, display name) and whether it is locked |
//!
//! Each relationship is kept in three places: its own item and its mirror, so that everything
//! between two accounts is one Query of either one's `rel#` partition (a relationship, the
//! visibility rule's standing), and an entry in each list it belongs to. A member of a tier has
//! an entry in that tier's list and in every wider one's, so each list pages on its own.

use huddle_catalog::graph::Tier;
use huddle_ports::{Item, Key, Table, TableError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The partition of everything between `account` and the others.
pub fn relations_partition(account: &str) -> String {
    format!("rel#{account}")
}

/// The sort keys of what `account`'s partition holds of its relationships with `other` begin
/// with this.
pub fn relations_with(other: &str) -> String {
    format!("{other}#")
}

/// The own item of the relationship of `kind` from `from` to `to`, in `from`'s partition.
pub fn edge_key(kind: &str, from: &str, to: &str) -> Key {
    Key::new(relations_partition(from), format!("{}{kind}", relations_with(to)))
}

/// What marks an edge's mirror, in the sort key after its kind.
pub const MIRROR_SUFFIX: &str = "-by";

/// The mirror of that item, in `to`'s partition.
pub fn mirror_key(kind: &str, from: &str, to: &str) -> Key {
    Key::new(relations_partition(to), format!("{}{kind}{MIRROR_SUFFIX}", relations_with(from)))
}

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

/// What every list entry holds besides its key.
pub const ENTRY_ID: &str = "id";
pub const ENTRY_SINCE_MS: &str = "since_ms";

pub fn counts_key(account: &str) -> Key {
    Key::new(format!("counts#{account}"), "counts")
}

pub const FOLLOWERS_COUNT: &str = "followers_count";
pub const FOLLOWING_COUNT: &str = "following_count";

pub fn account_key(account: &str) -> Key {
    Key::new(format!("account#{account}"), "account")
}

/// What the graph keeps of an account: what its lists show of it, and whether it is locked;
/// once it is erased, only that it was.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCard {
    pub username: String,
    pub display_name: Option<String>,
    #[serde(default)]
    pub locked: bool,
    /// The account was erased: nothing else is kept of it, and nothing relates to it any more.
    #[serde(default)]
    pub erased: bool,
}

impl AccountCard {
    pub fn of(item: Item) -> Result<Self, TableError> {
        serde_json::from_value(Value::Object(item))
            .map_err(|e| TableError::Invalid(format!("corrupt account card: {e}")))
    }

    pub fn item(&self, account: &str) -> Item {
        account_key(account).item(serde_json::to_value(self).expect("cards serialize"))
    }

    pub async fn read(table: &dyn Table, account: &str) -> Result<Option<Self>, TableError> {
        table.get(&account_key(account)).await?.map(Self::of).transpose()
    }

    /// The card of an account that exists (registered and not erased).
    pub async fn live(table: &dyn Table, account: &str) -> Result<Option<Self>, TableError> {
        Ok(Self::read(table, account).await?.filter(|card| !card.erased))
    }
}
