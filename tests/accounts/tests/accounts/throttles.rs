//! Guessing is throttled per login name and per source address, sign-ups per source address:
//! past the limit the answer is 429 `too_many_attempts` with `Retry-After`, while other names
//! from other addresses go on.

use crate::{code, System, PASSWORD};
use huddle_accounts::ThrottleSettings;
use huddle_domain::throttle::Limit;
use huddle_test_support::system::SystemUnderTest;
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;
use serde_json::json;

on_both_families!(
    wrong_passwords_for_one_name_are_throttled_from_every_address,
    wrong_passwords_from_one_address_are_throttled_for_every_name,
    sign_ups_from_one_address_are_throttled,
);

/// Sends a wrong password for `login` from `address`, and returns the status and `Retry-After`.
async fn wrong_login(system: &System, login: &str, address: &str) -> (StatusCode, Option<u64>) {
    let body = json!({ "login": login, "password": "a wrong guess at it" });
    let request =
        SystemUnderTest::from_address(system.client.post(system.url("/v1/sessions")).json(&body), address);
    let response = request.send().await.unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(code(&body), "too_many_attempts");
    }
    (status, retry_after)
}

async fn wrong_passwords_for_one_name_are_throttled_from_every_address(family: Family) {
    // The runner's defaults: 10 per name, and room for 30 guesses from one address.
    let system = System::start(family).await;
    system.signed_up_user("ana").await;
    system.signed_up_user("bea").await;
    let per_name = ThrottleSettings::LOCAL.login_failures_per_name.max;
    for n in 0..per_name {
        let (status, _) = wrong_login(&system, "ana", &format!("198.51.100.{n}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "guess {n} is within the limit");
    }
    for n in 0..20 {
        let (status, retry_after) = wrong_login(&system, "Ana", &format!("198.51.101.{n}")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "guess {} of the name", per_name + n);
        let window = ThrottleSettings::LOCAL.login_failures_per_name.window.as_secs();
        assert!(retry_after.is_some_and(|s| (1..=window).contains(&s)), "{retry_after:?}");
    }
    let (status, _) = wrong_login(&system, "ana@example.com", "198.51.102.1").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the address spends the same account's budget");
    let (status, _) = wrong_login(&system, "nobody@example.com", "198.51.102.1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an unknown login has a budget of its own");
    // The name is locked even for its owner until the window ends: that is what bounds guessing.
    let (status, _) = system.log_in("ana", PASSWORD, "198.51.102.2").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, body) = system.log_in("bea", PASSWORD, "198.51.102.3").await;
    assert_eq!(status, StatusCode::OK, "another name from another address: {body}");
}

async fn wrong_passwords_from_one_address_are_throttled_for_every_name(family: Family) {
    let throttles = ThrottleSettings { login_failures_per_ip: Limit::new(5, 300), ..ThrottleSettings::LOCAL };
    let system = System::start_with(family, |accounts| accounts.throttles = throttles).await;
    system.signed_up_user("bea").await;
    for n in 0..5 {
        let (status, _) = wrong_login(&system, &format!("name{n}"), "192.0.2.1").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, retry_after) = wrong_login(&system, "name9", "192.0.2.1").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after.is_some_and(|s| (1..=300).contains(&s)), "{retry_after:?}");
    let (status, _) = system.log_in("bea", PASSWORD, "192.0.2.1").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "a throttled address is throttled for any name");
    let (status, _) = system.log_in("bea", PASSWORD, "192.0.2.2").await;
    assert_eq!(status, StatusCode::OK, "another address");
    // Right passwords do not count: the owner's logins from a fresh address never lock it.
    for _ in 0..8 {
        assert_eq!(system.log_in("bea", PASSWORD, "192.0.2.3").await.0, StatusCode::OK);
    }
}

async fn sign_ups_from_one_address_are_throttled(family: Family) {
    let throttles = ThrottleSettings { sign_ups_per_ip: Limit::new(3, 1800), ..ThrottleSettings::LOCAL };
    let system = System::start_with(family, |accounts| accounts.throttles = throttles).await;
    let sign_up = |name: &str, address: &str| {
        let body = json!({ "username": name, "email": format!("{name}@example.com"), "password": PASSWORD });
        system.send(SystemUnderTest::from_address(
            system.client.post(system.url("/v1/accounts")).json(&body),
            address,
        ))
    };
    for name in ["ana", "bea", "cid"] {
        assert_eq!(sign_up(name, "192.0.2.7").await.0, StatusCode::CREATED);
    }
    let (status, body) = sign_up("dan", "192.0.2.7").await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
    assert_eq!(system.running.events.head("username#dan").await.unwrap(), 0, "nothing claimed");
    assert_eq!(sign_up("dan", "192.0.2.8").await.0, StatusCode::CREATED, "another address");
}
