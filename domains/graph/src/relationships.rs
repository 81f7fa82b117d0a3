//! What a caller's relationship with another account is, as `GET /v1/me/relationships` and the
//! changes to it answer: read from the relationships' own items, all at once.

use crate::projection::Edge;
use crate::views::Relationship;
use crate::visibility::GraphReader;
use huddle_catalog::graph::{AUDIENCE, BLOCK, FOLLOW, MUTE};
use huddle_ports::TableError;

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
            following: follow.as_ref().is_some_and(|edge| !edge.requested),
            requested: follow.as_ref().is_some_and(|edge| edge.requested),
            followed_by: followed.as_ref().is_some_and(|edge| !edge.requested),
            blocking: blocking.is_some(),
            blocked_by: blocked_by.is_some(),
            muting: muting.is_some(),
            tier: member.and_then(|edge: Edge| edge.tier),
        })
    }
}
