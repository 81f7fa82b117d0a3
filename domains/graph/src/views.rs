//! The JSON shapes the graph answers with.

use huddle_catalog::graph::Tier;
use serde::Serialize;
use time::OffsetDateTime;

/// The caller's relationship with the account `id`: what every change to it answers with, and
/// what `GET /v1/me/relationships` lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Relationship {
    pub id: String,
    /// The caller follows it.
    pub following: bool,
    /// The caller asked to follow it and waits for its answer.
    pub requested: bool,
    /// It follows the caller.
    pub followed_by: bool,
    pub blocking: bool,
    /// It blocks the caller.
    pub blocked_by: bool,
    pub muting: bool,
    /// The narrowest of the caller's tiers it is in (it is in every wider one too).
    #[schema(value_type = Option<String>, example = "friends")]
    pub tier: Option<Tier>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Relationships {
    /// In the order of the ids asked for, once each.
    pub items: Vec<Relationship>,
}

/// An account in one of the caller's own lists, and since when it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ListedAccount {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: OffsetDateTime,
}

/// An account in a followers or following list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Follower {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub followed_at: OffsetDateTime,
}

impl From<ListedAccount> for Follower {
    fn from(listed: ListedAccount) -> Self {
        let ListedAccount { id, username, display_name, since } = listed;
        Self { id, username, display_name, followed_at: since }
    }
}

/// A page of one of the caller's lists: follow requests, blocks, mutes, a tier.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountPage {
    pub items: Vec<ListedAccount>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A page of an account's followers or of whom it follows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FollowPage {
    pub items: Vec<Follower>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}
