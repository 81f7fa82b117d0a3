//! The contract between a domain and what hosts it. A domain names its routes, the events its
//! projector consumes, and builds its roles from ports; its Lambda `main` (through
//! `huddle-lambda`) and the local runner host the same roles, so both run the same code.

pub mod consistency;
pub mod contract;
pub mod decider;
pub mod routes;
pub mod throttle;

pub use consistency::{command_role, query_role};
pub use decider::{Decider, Execution};
pub use routes::{
    body, operation, Access, BodySchema, Components, DomainRoute, ParameterKind, QueryParameter, Role,
    RouteDeclaration, RouteLink, PAGE,
};

use huddle_delivery::{Projection, ReplayTarget};
use huddle_eventstore::EventStore;
use huddle_http::{Authorizer, CursorCodec, HttpFunction, IdempotencyKeys};
use huddle_ports::{FilterPolicy, Table};
use std::sync::Arc;

/// What a domain's roles are built from.
#[derive(Clone)]
pub struct DomainPorts {
    pub events: EventStore,
    /// The domain's own read table.
    pub read_model: Arc<dyn Table>,
    pub cursors: CursorCodec,
    pub idempotency: IdempotencyKeys,
    /// Short-lived counters (throttles): the events table, whose TTL sweeps them. Writers are
    /// limited to `throttle#` keys there (template.yaml), so no event can be touched through it.
    pub counters: Arc<dyn Table>,
}

impl DomainPorts {
    /// The ports of one domain: `request_secret` signs cursors and keys idempotency
    /// fingerprints, and must be the same on every instance of the deployment.
    pub fn new(events_table: Arc<dyn Table>, read_model: Arc<dyn Table>, request_secret: &[u8]) -> Self {
        Self {
            events: EventStore::new(events_table.clone()),
            read_model,
            cursors: CursorCodec::new(request_secret),
            idempotency: IdempotencyKeys::new(request_secret),
            counters: events_table,
        }
    }
}

/// A domain as its hosts see it. Building a role does no I/O, so a Lambda's init stays short.
pub trait Domain: Send + Sync {
    /// Names its read table and queue.
    fn name(&self) -> &'static str;
    fn routes(&self) -> Vec<DomainRoute>;
    /// The subscription filter of the domain's queue.
    fn consumes(&self) -> FilterPolicy;
    /// Hosts serve it through [`command_role`], which adds the consistency token.
    fn command(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction>;
    /// Hosts serve it through [`query_role`], which waits for a consistency token's writes.
    fn query(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction>;
    fn projection(&self, ports: &DomainPorts) -> Arc<dyn Projection>;
    /// The HttpApi authorizer, for the one domain that verifies callers (accounts).
    fn authorizer(&self, _ports: &DomainPorts) -> Option<Arc<dyn Authorizer>> {
        None
    }
}

/// What a replay of `domain` rebuilds on `ports`: its projection and read table, fed what its
/// subscription lets through (`huddle replay` and the operator role call
/// [`huddle_delivery::replay`] with it).
pub fn replay_target(domain: &dyn Domain, ports: &DomainPorts) -> ReplayTarget {
    ReplayTarget {
        projection: domain.projection(ports),
        read_model: ports.read_model.clone(),
        events: ports.events.clone(),
        consumes: domain.consumes(),
    }
}
