//! The social graph (issue 10, being built): who follows whom (and who asked to), who blocks and
//! mutes whom, the audience tiers each owner keeps, and the one visibility rule every other
//! domain asks. So far the pure parts: the deciders of the pair streams (`follow`, `relation`,
//! `tiers`) and the rule itself (`visibility`); the roles, routes and read model follow.

pub mod follow;
pub mod relation;
pub mod tiers;
pub mod visibility;
