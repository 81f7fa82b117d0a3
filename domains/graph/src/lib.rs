//! The social graph (issue 10): who follows whom (and who asked to), who blocks and
//! mutes whom, the audience tiers each owner keeps, and the one visibility rule every other
//! domain asks (`visibility`). Every relationship is a short stream of its own (`follow`,
//! `relation`, `tiers` are their deciders); the command role runs the use cases on them
//! (`command`), the projection keeps the read table (`projection`, `read_model`), and the query
//! role pages the lists and answers relationships (`query`).

mod command;
pub mod follow;
pub mod projection;
mod query;
pub mod read_model;
pub mod relation;
mod relationships;
pub mod routes;
pub mod tiers;
pub mod views;
pub mod visibility;

use huddle_catalog::accounts::{account_stream, AccountEvent};
use huddle_catalog::graph::{
    AudienceEvent, BlockEvent, ErasureEvent, FollowEvent, MuteEvent, AUDIENCE, BLOCK, ERASURE, FOLLOW, MUTE,
};
use huddle_delivery::Projection;
use huddle_domain::{Domain, DomainPorts, DomainRoute};
use huddle_eventstore::{attribute, EventSchema};
use huddle_http::HttpFunction;
use huddle_ports::FilterPolicy;
use std::sync::Arc;
use visibility::GraphReader;

/// The graph's name: its read table's, and what a domain that reads it names in `Domain::reads`.
pub const NAME: &str = "graph";

pub struct GraphDomain;

impl Domain for GraphDomain {
    fn name(&self) -> &'static str {
        NAME
    }

    fn routes(&self) -> Vec<DomainRoute> {
        routes::ROUTES.iter().map(|route| route.erased()).collect()
    }

    /// The pair streams' events, its own erasure steps, and every event of the account streams
    /// (the projection keeps what the lists show of an account, whether it is locked or erased;
    /// it takes the events it ignores too, so it never has to heal a gap they would leave).
    fn consumes(&self) -> FilterPolicy {
        let account_streams = account_stream("");
        let stream_types = [account_streams.trim_end_matches('#'), FOLLOW, BLOCK, MUTE, AUDIENCE, ERASURE];
        let event_types: Vec<&str> = [
            AccountEvent::event_types(),
            FollowEvent::event_types(),
            BlockEvent::event_types(),
            MuteEvent::event_types(),
            AudienceEvent::event_types(),
            ErasureEvent::event_types(),
        ]
        .concat();
        FilterPolicy::all_of(&[
            (attribute::STREAM_TYPE, &stream_types),
            (attribute::EVENT_TYPE, &event_types),
        ])
    }

    fn command(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        Arc::new(command::GraphCommand { events: ports.events.clone() })
    }

    fn query(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        Arc::new(query::GraphQuery {
            read_model: ports.read_model.clone(),
            reader: GraphReader::new(ports.read_model.clone()),
            cursors: ports.cursors.clone(),
        })
    }

    fn projection(&self, ports: &DomainPorts) -> Arc<dyn Projection> {
        Arc::new(projection::GraphProjection { events: ports.events.clone() })
    }
}
