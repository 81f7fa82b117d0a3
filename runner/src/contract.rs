//! The OpenAPI contract of the system's domains: `GET /openapi.json` on the gateway (public),
//! and the checked-in `openapi.json` that `huddle template` writes and a test compares.

use crate::gateway::LocalRoutes;
use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::Full;
use huddle_domain::Domain;
use hyper::http::{header, Method, StatusCode};
use std::sync::Arc;

/// Where the gateway serves the contract, and where the repository keeps it.
pub const CONTRACT_ROUTE: &str = "/openapi.json";
pub const CONTRACT_FILE: &str = "openapi.json";

/// The contract of `domains` as the checked-in file holds it: pretty JSON and a final newline.
pub fn contract_document(domains: &[Arc<dyn Domain>]) -> String {
    let contract = huddle_domain::contract::contract(domains);
    contract.to_pretty_json().expect("the contract serializes") + "\n"
}

/// Serves the contract, rendered once at start.
pub struct ContractRoute {
    document: Bytes,
}

impl ContractRoute {
    pub fn new(domains: &[Arc<dyn Domain>]) -> Self {
        Self { document: Bytes::from(contract_document(domains)) }
    }
}

#[async_trait]
impl LocalRoutes for ContractRoute {
    async fn serve(
        &self,
        method: &Method,
        path: &str,
        _query: &str,
        _headers: &hyper::HeaderMap,
        _body: Bytes,
    ) -> Option<hyper::Response<Full<Bytes>>> {
        (method == Method::GET && path == CONTRACT_ROUTE).then(|| {
            hyper::Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(self.document.clone()))
                .expect("a valid response")
        })
    }
}
