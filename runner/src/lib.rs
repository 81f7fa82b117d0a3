//! The local runner: every function of the system in one process, on the embedded adapters by
//! default or on any AWS-compatible endpoint, wired as template.yaml wires them on AWS.

pub mod gateway;
mod local_routes;
pub mod mappings;
pub mod system;

pub use gateway::LocalRoutes;
pub use mappings::QueuePolling;
pub use system::{
    start, Domain, DomainPorts, DomainResources, DomainRoute, Role, Running, Settings, StartError, Storage,
};

/// The domains `huddle serve` runs; each domain issue adds its own here.
pub fn domains() -> Vec<std::sync::Arc<dyn Domain>> {
    Vec::new()
}
