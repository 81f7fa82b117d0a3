//! The platform's integration tests, one binary: each port's conformance suite on both adapter
//! families (embedded, and AWS against a moto server), the delivery runtime and the runner.

mod blobs;
mod delivery;
mod event_store;
mod push;
mod queue;
mod runner;
mod table;
mod topic;
