//! The local runner: every function of the system in one process, on the embedded adapters by
//! default or on any AWS-compatible endpoint, wired as template.yaml wires them on AWS.

mod authorizer_cache;
pub mod contract;
mod cors;
pub mod cost;
pub mod gateway;
mod local_routes;
pub mod mappings;
pub mod metering;
pub mod replay;
mod secrets;
pub mod system;
pub mod target;
pub mod template;

/// template.yaml, compiled in: the runner reads its CORS configuration and functions' memory.
const TEMPLATE: &str = include_str!("../../template.yaml");

pub use gateway::LocalRoutes;
pub use huddle_domain::{Domain, DomainPorts, DomainRoute, Role};
pub use mappings::{DeliveryGate, PausedDeliveries, QueuePolling};
pub use system::{
    domain_tables, operations, start, DomainResources, Running, Settings, StartError, Storage, DATABASE_FILE,
};

pub use secrets::LocalSecrets;

/// The domains `huddle serve` runs; each domain issue adds its own here.
pub fn domains(
    secrets: &LocalSecrets,
    throttles: huddle_accounts::ThrottleSettings,
) -> Vec<std::sync::Arc<dyn Domain>> {
    let mut accounts =
        huddle_accounts::AccountsSettings::new(&secrets.token_secret, &secrets.email_lookup_key);
    accounts.throttles = throttles;
    vec![
        std::sync::Arc::new(huddle_accounts::AccountsDomain::new(accounts)),
        std::sync::Arc::new(huddle_graph::GraphDomain),
        std::sync::Arc::new(huddle_media::MediaDomain),
        std::sync::Arc::new(huddle_content::ContentDomain),
    ]
}

/// The domains of [`domains`] as their declarations see them (names, routes, subscriptions),
/// for what is generated from them: their settings are throwaway.
pub fn domains_as_declared() -> Vec<std::sync::Arc<dyn Domain>> {
    domains(&LocalSecrets::fresh(), huddle_accounts::ThrottleSettings::LOCAL)
}
