//! The platform's integration tests, one binary: each port's conformance suite on both adapter
//! families (embedded, and AWS against a moto server), the delivery runtime and the runner.

mod queue;
mod table;
mod topic;
