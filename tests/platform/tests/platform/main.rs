//! The platform's integration tests: each port's conformance suite on both adapter families
//! (embedded, and AWS against a moto server), the delivery runtime, the runner, and the deploy
//! artefacts (template.yaml, the events/ fixtures). The function binaries under the Lambda
//! Runtime Interface Emulator are a binary of their own (`tests/rie.rs`).

mod blobs;
mod contract;
mod delivery;
mod effects;
mod event_store;
mod failed_transactions;
mod fan_out_writes;
mod fixtures;
mod gateway;
mod metering;
mod parking;
mod proof;
mod push;
mod queue;
mod replay;
mod runner;
mod snapshots;
mod sweeper;
mod table;
mod template;
mod topic;
mod uploads;
