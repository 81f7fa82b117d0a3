//! The social graph (issue 10, being built): who follows whom (and who asked to), who blocks and
//! mutes whom, the audience tiers each owner keeps, and the one visibility rule every other
//! domain asks. So far: the deciders of the pair streams (`follow`, `relation`, `tiers`), the rule itself
//! (`visibility`), and the projection of the pair streams into the read table (`projection`,
//! `read_model`); the roles and routes follow.

pub mod follow;
pub mod projection;
pub mod read_model;
pub mod relation;
pub mod relationships;
pub mod tiers;
pub mod visibility;
