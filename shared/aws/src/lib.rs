//! AWS adapters of the ports, and the provisioning the tests and the runner's `--aws-endpoint`
//! mode use to create what template.yaml creates in a real account.

mod config;
mod dynamodb;
pub mod provision;
pub mod streams;

pub use config::sdk_config;
pub use dynamodb::DynamoTable;
