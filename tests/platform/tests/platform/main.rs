//! The platform's integration tests, one binary: each port's conformance suite on both adapter
//! families (embedded, and AWS against a moto server), the delivery runtime, the runner, and the
//! deploy artefacts (template.yaml, the events/ fixtures, and the function binaries under the
//! Lambda Runtime Interface Emulator).

mod blobs;
mod delivery;
mod event_store;
mod fixtures;
mod push;
mod queue;
mod rie;
mod runner;
mod table;
mod template;
mod topic;
