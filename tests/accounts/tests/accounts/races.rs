//! Interleavings a client can force, run through the accounts command and authorizer on a
//! table that holds a chosen read until the test lets it go: a login with the old password
//! overtaken by a password change, identical sign-ups racing under production limits, and a
//! known idempotency key used to test guessed addresses.

use async_trait::async_trait;
use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use huddle_accounts::{AccountsDomain, AccountsSettings, ThrottleSettings};
use huddle_domain::{Domain, DomainPorts};
use huddle_http::HttpFunction;
use huddle_ports::TableError;
use huddle_test_support::decorated_table::{DecoratedTable, Interceptor, Operation};
use huddle_test_support::{on_both_families, Family};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

on_both_families!(
    a_login_with_the_old_password_overtaken_by_a_password_change_gets_no_working_token,
    identical_sign_ups_racing_on_one_key_pass_production_limits,
    a_known_idempotency_key_tests_guessed_addresses_only_as_fast_as_logins,
);

/// Holds the next read of a partition starting with `prefix`, once armed, until released;
/// and, when asked, hides idempotency records until the first transaction: so that racers all
/// miss their twin's record, as they would when their looks for it come first.
#[derive(Default)]
struct Gate {
    armed: Mutex<Option<&'static str>>,
    held: Notify,
    release: Notify,
    hide_records: AtomicBool,
}

#[async_trait]
impl Interceptor for Gate {
    fn before(&self, operation: Operation) -> Result<(), TableError> {
        if operation == Operation::Transact {
            self.hide_records.store(false, Ordering::SeqCst);
        }
        Ok(())
    }

    fn hides(&self, key: &huddle_ports::Key) -> bool {
        key.pk.starts_with("idempotency#") && self.hide_records.load(Ordering::SeqCst)
    }

    async fn reading(&self, pk: &str) {
        let hold = {
            let mut armed = self.armed.lock().unwrap();
            let hit = armed.is_some_and(|prefix| pk.starts_with(prefix));
            if hit {
                *armed = None;
            }
            hit
        };
        if hold {
            self.held.notify_one();
            self.release.notified().await;
        }
    }
}

struct Accounts {
    domain: AccountsDomain,
    ports: DomainPorts,
    command: Arc<dyn HttpFunction>,
    gate: Arc<DecoratedTable<Gate>>,
}

async fn accounts(family: Family, throttles: ThrottleSettings) -> Accounts {
    let backend = family.backend().await;
    let gate = Arc::new(DecoratedTable::new(backend.table(false).await, Gate::default()));
    let ports = DomainPorts::new(gate.clone(), backend.table(false).await, b"the race tests' request secret");
    let mut settings = AccountsSettings::new(crate::TOKEN_SECRET, b"the race tests' email lookup key, 32+");
    settings.throttles = throttles;
    let domain = AccountsDomain::new(settings);
    let command = domain.command(&ports);
    Accounts { domain, ports, command, gate }
}

/// An HttpApi request as API Gateway hands it to the command, from `address`.
fn request(
    route: &str,
    body: Value,
    caller: Option<&str>,
    address: &str,
    key: Option<&str>,
) -> lambda_http::Request {
    let (method, path) = route.split_once(' ').unwrap();
    let mut headers = json!({"content-type": "application/json"});
    if let Some(key) = key {
        headers["idempotency-key"] = json!(key);
    }
    let mut event = json!({
        "version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": "", "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api", "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": address, "userAgent": "test"},
            "requestId": ulid::Ulid::new().to_string(), "routeKey": route, "stage": "$default",
            "time": "02/Dec/2026:10:00:00 +0000", "timeEpoch": 1796205600000u64
        },
        "isBase64Encoded": false, "body": body.to_string()
    });
    if let Some(account_id) = caller {
        event["requestContext"]["authorizer"] = json!({"lambda": {"account_id": account_id}});
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

fn body(response: &lambda_http::Response<lambda_http::Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null)
}

impl Accounts {
    async fn authorizes(&self, token: &str) -> bool {
        let mut request = ApiGatewayV2CustomAuthorizerV2Request::default();
        request.identity_source = Some(vec![format!("Bearer {token}")]);
        self.domain.authorizer(&self.ports).unwrap().authorize(request).await.is_authorized
    }
}

async fn a_login_with_the_old_password_overtaken_by_a_password_change_gets_no_working_token(family: Family) {
    let accounts = accounts(family, ThrottleSettings::LOCAL).await;
    let old = "correct horse battery";
    let sign_up = json!({"username": "ana", "email": "ana@example.com", "password": old});
    let signed_up =
        accounts.command.call(request("POST /v1/accounts", sign_up, None, "203.0.113.1", None)).await;
    let id = body(&signed_up)["account"]["id"].as_str().unwrap().to_owned();
    let mut new = String::from("first new password");

    // The change lands while the login waits on either of its reads of the account.
    for held in ["sessions#", "account#"] {
        *accounts.gate.interceptor.armed.lock().unwrap() = Some(held);
        let command = accounts.command.clone();
        let current = if held == "sessions#" { old.to_owned() } else { new.clone() };
        let login_body = json!({"login": "ana", "password": current.clone()});
        let login = tokio::spawn(async move {
            command.call(request("POST /v1/sessions", login_body, None, "198.51.100.9", None)).await
        });
        accounts.gate.interceptor.held.notified().await;
        let next = format!("{new} again");
        let change = json!({"current_password": current, "new_password": next});
        let changed = accounts
            .command
            .call(request("POST /v1/me/password", change, Some(&id), "203.0.113.1", None))
            .await;
        assert_eq!(changed.status(), 204, "{held}: {}", body(&changed));
        accounts.gate.interceptor.release.notify_one();
        let login = login.await.unwrap();
        match login.status().as_u16() {
            401 => {}
            200 => {
                let token = body(&login)["token"].as_str().unwrap().to_owned();
                assert!(
                    !accounts.authorizes(&token).await,
                    "held at {held}: the old password's token passes"
                );
            }
            other => panic!("held at {held}: {other} {}", body(&login)),
        }
        new = next;
    }
}

async fn identical_sign_ups_racing_on_one_key_pass_production_limits(family: Family) {
    let accounts = accounts(family, ThrottleSettings::PRODUCTION).await;
    accounts.gate.interceptor.hide_records.store(true, Ordering::SeqCst);
    let attempts = (0..8).map(|_| {
        let command = accounts.command.clone();
        tokio::spawn(async move {
            let sign_up =
                json!({"username": "ana", "email": "ana@example.com", "password": "correct horse battery"});
            command.call(request("POST /v1/accounts", sign_up, None, "203.0.113.1", Some("race"))).await
        })
    });
    // All spawned before any is awaited.
    let attempts: Vec<_> = attempts.collect();
    let mut ids = Vec::new();
    for attempt in attempts {
        let response = attempt.await.unwrap();
        assert_eq!(response.status(), 201, "{}", body(&response));
        ids.push(body(&response)["account"]["id"].clone());
    }
    assert!(ids.iter().all(|id| id.is_string() && *id == ids[0]), "{ids:?}");
    // The racers made one account, so they spent one sign-up of the address's five.
    for name in ["bea", "cid", "dan", "eva"] {
        let sign_up = json!({"username": name, "email": format!("{name}@example.com"), "password": "correct horse battery"});
        let response =
            accounts.command.call(request("POST /v1/accounts", sign_up, None, "203.0.113.1", None)).await;
        assert_eq!(response.status(), 201, "{name}: {}", body(&response));
    }
}

async fn a_known_idempotency_key_tests_guessed_addresses_only_as_fast_as_logins(family: Family) {
    let accounts = accounts(family, ThrottleSettings::PRODUCTION).await;
    let secret =
        json!({"username": "ana", "email": "ana.secret@example.com", "password": "correct horse battery"});
    let first =
        accounts.command.call(request("POST /v1/accounts", secret, None, "203.0.113.1", Some("k1"))).await;
    assert_eq!(first.status(), 201);
    let mut answers = Vec::new();
    for n in 0..15 {
        let guess = json!({"username": "ana", "email": format!("guess{n}@example.com"), "password": "any password at all"});
        // From many addresses: the per-name budget is what stops it.
        let address = format!("198.51.100.{n}");
        answers.push(
            accounts
                .command
                .call(request("POST /v1/accounts", guess, None, &address, Some("k1")))
                .await
                .status()
                .as_u16(),
        );
    }
    let per_name = ThrottleSettings::PRODUCTION.login_failures_per_name.max as usize;
    assert_eq!(answers[..per_name], vec![422; per_name][..], "{answers:?}");
    assert!(answers[per_name..].iter().all(|status| *status == 429), "{answers:?}");
}
