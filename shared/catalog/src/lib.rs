//! The event catalog: the events each domain appends and the names of its streams. A domain
//! that consumes another's events decodes them with these types, so producer and consumers
//! cannot disagree about a payload.

pub mod accounts;
pub mod content;
pub mod graph;
pub mod media;
