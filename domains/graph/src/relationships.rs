//! What a caller's relationship with another account is, as `GET /v1/me/relationships` and the
//! changes to it answer: everything between the two, from one Query of the caller's partition.

use crate::views::Relationship;
use crate::visibility::GraphReader;
use huddle_catalog::graph::{AUDIENCE, BLOCK, FOLLOW, MUTE};
use huddle_ports::TableError;

impl GraphReader {
    /// `caller`'s relationship with `other`.
    pub async fn relationship(&self, caller: &str, other: &str) -> Result<Relationship, TableError> {
        let between = self.between(caller, other).await?;
        let following = between.outgoing(FOLLOW);
        Ok(Relationship {
            id: other.to_owned(),
            following: following.is_some_and(|edge| !edge.requested),
            requested: following.is_some_and(|edge| edge.requested),
            followed_by: between.incoming(FOLLOW).is_some_and(|edge| !edge.requested),
            blocking: between.outgoing(BLOCK).is_some(),
            blocked_by: between.incoming(BLOCK).is_some(),
            muting: between.outgoing(MUTE).is_some(),
            tier: between.outgoing(AUDIENCE).and_then(|edge| edge.tier),
        })
    }
}
