//! The OpenAPI contract: the checked-in openapi.json is what the domains' declarations generate,
//! and `huddle serve` serves it, publicly, at /openapi.json.

use huddle_runner::contract::{contract_document, CONTRACT_FILE, CONTRACT_ROUTE};
use huddle_runner::{LocalSecrets, Settings, Storage};
use std::path::Path;

fn domains() -> Vec<std::sync::Arc<dyn huddle_domain::Domain>> {
    huddle_runner::domains(&LocalSecrets::fresh(), huddle_accounts::ThrottleSettings::PRODUCTION)
}

#[test]
fn the_checked_in_contract_is_what_the_declarations_generate() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(CONTRACT_FILE);
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = contract_document(&domains());
    if checked_in != generated {
        let fresh = std::env::temp_dir().join(format!("openapi-{}.json", ulid::Ulid::new()));
        std::fs::write(&fresh, &generated).expect("write the generated contract");
        panic!(
            "{CONTRACT_FILE} differs from what the route declarations generate (written to {}): \
             run `cargo run -p huddle-runner -- template` and commit the result",
            fresh.display()
        );
    }
}

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
                assert!(responses.contains_key("401") && responses.contains_key("403"), "{}", route.operation);
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
