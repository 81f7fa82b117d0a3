//! What a caller's relationship with another account is, as `GET /v1/me/relationships` and the
//! follow commands answer it: read from the relationships' own items, all at once.

use crate::visibility::GraphReader;
use huddle_catalog::graph::{Tier, AUDIENCE, BLOCK, FOLLOW, MUTE};
use huddle_ports::{Item, TableError};
use serde::Serialize;
use serde_json::Value;

/// The caller's relationship with the account `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// The narrowest tier the caller put it in.
    pub tier: Option<Tier>,
}

fn requested(item: &Item) -> bool {
    item.get("requested").and_then(Value::as_bool).unwrap_or(false)
}

impl GraphReader {
    /// `caller`'s relationship with `other`.
    pub async fn relationship(&self, caller: &str, other: &str) -> Result<Relationship, TableError> {
        let (follow, followed, blocking, blocked_by, muting, member) = futures::try_join!(
            self.edge(FOLLOW, caller, other),
            self.edge(FOLLOW, other, caller),
            self.edge(BLOCK, caller, other),
            self.edge(BLOCK, other, caller),
            self.edge(MUTE, caller, other),
            self.edge(AUDIENCE, caller, other),
        )?;
        Ok(Relationship {
            id: other.to_owned(),
            following: follow.as_ref().is_some_and(|item| !requested(item)),
            requested: follow.as_ref().is_some_and(requested),
            followed_by: followed.as_ref().is_some_and(|item| !requested(item)),
            blocking: blocking.is_some(),
            blocked_by: blocked_by.is_some(),
            muting: muting.is_some(),
            tier: member.and_then(|item| serde_json::from_value(item.get("tier")?.clone()).ok()),
        })
    }
}
