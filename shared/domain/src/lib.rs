//! The contract between a domain and what hosts it. A domain names its routes, the events its
//! projector consumes, and builds its roles from ports; its Lambda `main` (through
//! `huddle-lambda`) and the local runner host the same roles, so both run the same code.

pub mod consistency;
pub mod contract;
pub mod decider;
pub mod routes;
pub mod throttle;
pub mod uploads;

pub use consistency::{command_role, query_role};
pub use decider::{Decider, Execution};
pub use routes::{
    body, operation, Access, BodySchema, Components, DomainRoute, ParameterKind, QueryParameter, Role,
    RouteDeclaration, RouteLink, PAGE,
};
pub use uploads::{ObjectCreated, UploadError, UploadHandler, Uploads};

use huddle_delivery::{Projection, ReplayTarget};
use huddle_eventstore::EventStore;
use huddle_http::{Authorizer, CursorCodec, HttpFunction, IdempotencyKeys};
use huddle_ports::{Blobs, FilterPolicy, Table};
use std::collections::BTreeMap;
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
    /// The read tables of the other domains [`Domain::reads`] names for the role, by domain name:
    /// read-only (their IAM grants only reads).
    granted: BTreeMap<String, Arc<dyn Table>>,
    /// The media bucket, for a domain that [uses it](Domain::uses_blobs).
    blobs: Option<Arc<dyn Blobs>>,
}

/// The environment variable that names `domain`'s read table to another domain's roles that
/// read it (`GRAPH_READ_TABLE`); template.yaml sets it, `huddle_lambda` reads it.
pub fn granted_read_table_variable(domain: &str) -> String {
    format!("{}_READ_TABLE", domain.to_uppercase().replace('-', "_"))
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
            granted: BTreeMap::new(),
            blobs: None,
        }
    }

    /// These ports with the media bucket.
    pub fn with_blobs(mut self, blobs: Arc<dyn Blobs>) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// The media bucket, which hosts give a domain that [uses it](Domain::uses_blobs).
    pub fn blobs(&self) -> Arc<dyn Blobs> {
        self.blobs.clone().expect("the host gives the media bucket to a domain whose uses_blobs() is true")
    }

    /// These ports with `domain`'s read table granted for reading.
    pub fn granting(mut self, domain: &str, read_table: Arc<dyn Table>) -> Self {
        self.granted.insert(domain.to_owned(), read_table);
        self
    }

    /// The read table of `domain`, which [`Domain::reads`] names: hosts grant each one.
    pub fn granted(&self, domain: &str) -> Arc<dyn Table> {
        self.granted
            .get(domain)
            .cloned()
            .unwrap_or_else(|| panic!("the host grants the {domain} read table that Domain::reads names"))
    }
}

/// A domain as its hosts see it. Building a role does no I/O, so a Lambda's init stays short.
pub trait Domain: Send + Sync {
    /// Names its read table and queue.
    fn name(&self) -> &'static str;
    fn routes(&self) -> Vec<DomainRoute>;
    /// The subscription filter of the domain's queue.
    fn consumes(&self) -> FilterPolicy;
    /// The other domains whose read tables `role` reads (through the read port those domains
    /// publish, such as the graph's visibility rule): hosts grant them to that role, read-only
    /// ([`DomainPorts::granted`]).
    fn reads(&self, _role: Role) -> &'static [&'static str] {
        &[]
    }
    /// Hosts serve it through [`command_role`], which adds the consistency token.
    fn command(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction>;
    /// Hosts serve it through [`query_role`], which waits for a consistency token's writes.
    fn query(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction>;
    fn projection(&self, ports: &DomainPorts) -> Arc<dyn Projection>;
    /// Whether the domain's roles use the media bucket (presigned URLs, its uploads, deleting
    /// objects): hosts then give them [`DomainPorts::blobs`]; each role's IAM is its deploy.toml's.
    fn uses_blobs(&self) -> bool {
        false
    }
    /// The key prefix under which clients upload the domain's files (`uploads/`), for a domain
    /// that takes uploads: hosts announce every object created there to [`Domain::upload_handler`]
    /// through the domain's uploads queue.
    fn upload_prefix(&self) -> Option<&'static str> {
        None
    }
    /// What deals with an uploaded object, for a domain with an [upload prefix](Domain::upload_prefix).
    fn upload_handler(&self, _ports: &DomainPorts) -> Option<Arc<dyn UploadHandler>> {
        None
    }
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
