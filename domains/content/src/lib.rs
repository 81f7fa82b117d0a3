//! Content (issue 11): posts and replies shared with an audience, likes, mentions
//! and tags, and video threads (a story others join) with their entries. A post is a stream of
//! its own (`post`, its decider), a like another (`like`), a thread another (`thread`) and each
//! of its entries another (`entry`); the command role checks and appends them (`command`: text,
//! titles, media, audience, the parent, mentions resolved, who may join), the projection keeps
//! the read table (`projection`, `read_model`), and the query role shows posts and threads and
//! pages their lists (`query`), each only to whom the graph's visibility rule lets see it, with
//! the media domain's records of their media (`render`).

mod command;
pub mod entry;
pub mod like;
pub mod post;
pub mod projection;
mod query;
pub mod read_model;
mod render;
pub mod routes;
pub mod text;
pub mod thread;
pub mod views;

pub use command::WRITES_PER_ACCOUNT;
use huddle_catalog::accounts::{account_stream, AccountEvent};
use huddle_catalog::content::{
    EntryEvent, ErasureEvent, LikeEvent, PostEvent, ThreadEvent, ENTRY, ERASURE, LIKE, POST, THREAD,
};
use huddle_delivery::Projection;
use huddle_domain::throttle::Throttle;
use huddle_domain::{Domain, DomainPorts, DomainRoute, Role};
use huddle_eventstore::{attribute, EventSchema};
use huddle_graph::visibility::GraphReader;
use huddle_http::HttpFunction;
use huddle_media::query::MediaQueryRole;
use huddle_ports::{FilterPolicy, Table};
use render::Renderer;
use std::sync::Arc;

/// The content domain's name: its read table's.
pub const NAME: &str = "content";

pub struct ContentDomain;

/// The throttle of an account's posts, edits, threads and entries ([`WRITES_PER_ACCOUNT`]), on
/// the counters table.
pub fn write_throttle(counters: Arc<dyn Table>) -> Throttle {
    Throttle::new(counters, "content-write", WRITES_PER_ACCOUNT)
}

impl ContentDomain {
    fn renderer(ports: &DomainPorts) -> Renderer {
        let media = MediaQueryRole::new(ports.granted(huddle_media::NAME), ports.blobs());
        Renderer { read_model: ports.read_model.clone(), media: Arc::new(media) }
    }
}

impl Domain for ContentDomain {
    fn name(&self) -> &'static str {
        NAME
    }

    fn routes(&self) -> Vec<DomainRoute> {
        routes::ROUTES.iter().map(|route| route.erased()).collect()
    }

    /// Its own streams' events, and every event of the account streams (an erasure takes the
    /// account's posts and likes out; it takes the events it ignores too, so it never has to
    /// heal a gap they would leave).
    fn consumes(&self) -> FilterPolicy {
        let account_streams = account_stream("");
        let stream_types = [account_streams.trim_end_matches('#'), POST, LIKE, THREAD, ENTRY, ERASURE];
        let event_types: Vec<&str> = [
            AccountEvent::event_types(),
            PostEvent::event_types(),
            LikeEvent::event_types(),
            ThreadEvent::event_types(),
            EntryEvent::event_types(),
            ErasureEvent::event_types(),
        ]
        .concat();
        FilterPolicy::all_of(&[
            (attribute::STREAM_TYPE, &stream_types),
            (attribute::EVENT_TYPE, &event_types),
        ])
    }

    /// Both roles ask the graph who may see a post or a thread (and who may join one), and show
    /// its media from the media domain's
    /// records.
    fn reads(&self, _role: Role) -> &'static [&'static str] {
        &[huddle_graph::NAME, huddle_media::NAME]
    }

    fn command(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        Arc::new(command::ContentCommand {
            events: ports.events.clone(),
            read_model: ports.read_model.clone(),
            graph: GraphReader::new(ports.granted(huddle_graph::NAME)),
            renderer: Self::renderer(ports),
            writes: write_throttle(ports.counters.clone()),
        })
    }

    fn query(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        Arc::new(query::ContentQuery {
            read_model: ports.read_model.clone(),
            graph: GraphReader::new(ports.granted(huddle_graph::NAME)),
            cursors: ports.cursors.clone(),
            renderer: Self::renderer(ports),
        })
    }

    fn projection(&self, ports: &DomainPorts) -> Arc<dyn Projection> {
        Arc::new(projection::ContentProjection { events: ports.events.clone() })
    }

    /// Its views hand out presigned GETs of posts' media.
    fn uses_blobs(&self) -> bool {
        true
    }
}
