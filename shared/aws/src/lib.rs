//! AWS adapters of the ports, and the provisioning the tests and the runner's `--aws-endpoint`
//! mode use to create what template.yaml creates in a real account.

mod config;
mod dynamodb;
mod messaging;
pub mod provision;
mod push;
mod s3;
mod sns;
mod sqs;
pub mod streams;

pub use config::{s3_client, sdk_config};
pub use dynamodb::DynamoTable;
pub use push::{PlatformApplications, SnsPush};
pub use s3::S3Blobs;
pub use sns::SnsTopic;
pub use sqs::SqsQueue;
