//! AWS adapters of the ports, and the provisioning the tests and the runner's `--aws-endpoint`
//! mode use to create what template.yaml creates in a real account.

mod config;
mod dynamodb;
mod messaging;
pub mod provision;
mod sns;
mod sqs;

pub use config::sdk_config;
pub use dynamodb::DynamoTable;
pub use sns::SnsTopic;
pub use sqs::SqsQueue;
