//! The OpenAPI contract: every declared route is in it as declared, and `huddle serve` serves
//! it, publicly, at /openapi.json. (That the checked-in openapi.json is current is the drift
//! test's, in `template.rs`.)

use huddle_runner::contract::{contract_document, CONTRACT_ROUTE};
use huddle_runner::{domains_as_declared as domains, Settings, Storage};

#[test]
fn every_declared_route_is_in_the_contract_with_its_errors_and_security() {
    let contract: serde_json::Value = serde_json::from_str(&contract_document(&domains())).unwrap();
    assert_eq!(contract["openapi"], "3.1.0");
    for domain in domains() {
        for route in domain.routes() {
            let operation = &contract["paths"][route.path][route.method.as_str().to_lowercase()];
            assert!(operation.is_object(), "{} {} is missing", route.method, route.path);
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key(route.status.as_str()), "{}: its success", route.operation);
            for (status, _) in route.errors {
                assert!(responses.contains_key(status.as_str()), "{}: its {status}", route.operation);
            }
            assert_eq!(
                operation["security"].is_array(),
                route.authorized(),
                "{}: the bearer scheme exactly where the authorizer guards",
                route.operation
            );
            if route.authorized() {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{}",
                    route.operation
                );
            }
        }
    }
    let error = &contract["components"]["schemas"]["Error"];
    assert_eq!(error["required"], serde_json::json!(["error"]));
}

#[tokio::test]
async fn huddle_serve_serves_the_contract_without_a_token() {
    let system = huddle_runner::start(Settings::new(Storage::Memory, 0), domains()).await.expect("starts");
    let response = reqwest::get(format!("{}{CONTRACT_ROUTE}", system.url())).await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), contract_document(&domains()));
    system.shutdown().await;
}
