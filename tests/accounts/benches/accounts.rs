//! Accounts benchmarks (a bench binary, not a timed test), release build, embedded runner on a
//! file-backed store as `huddle serve` runs:
//!
//! * argon2id's own cost at the parameters the command uses (hash, verify);
//! * sign-up and login latency over HTTP, which argon2id dominates;
//! * profile query latency over HTTP (`GET /v1/accounts/{id}`, through the authorizer);
//! * login p50 for an unknown name against a wrong password for an existing account, which
//!   must not tell the two apart (interleaved, 200 each, throttles out of the way).
//!
//! Run: `cargo bench -p huddle-accounts-tests --bench accounts`

mod support;
use huddle_accounts::passwords::{PasswordCost, Passwords};
use huddle_test_support::bench::summary;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    password_cost(20).await;
    http_latency(50, 1_000, 200).await;
}

async fn password_cost(samples: usize) {
    let cost = PasswordCost::default();
    let passwords = Passwords::new(cost);
    let mut hashing = Vec::new();
    let mut hash = String::new();
    for _ in 0..samples {
        let started = Instant::now();
        hash = passwords.hash("correct horse battery".into()).await.unwrap();
        hashing.push(started.elapsed());
    }
    let mut verifying = Vec::new();
    for _ in 0..samples {
        let started = Instant::now();
        assert!(passwords.verify("correct horse battery".into(), Some(hash.clone())).await);
        verifying.push(started.elapsed());
    }
    println!(
        "argon2id m={} KiB t={} p={}: hash {}; verify {}",
        cost.memory_kib,
        cost.iterations,
        cost.parallelism,
        summary(hashing),
        summary(verifying)
    );
}

async fn http_latency(accounts: usize, queries: usize, failed_logins: usize) {
    let (system, folder) = support::unthrottled_system("accounts").await;
    let client = Client::new();
    let url = |path: &str| format!("{}{path}", system.url());
    let post = |path: &str, body: Value| {
        let request = client.post(url(path)).json(&body);
        async move {
            let started = Instant::now();
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (started.elapsed(), status, body)
        }
    };

    let (mut sign_ups, mut logins, mut ids, mut tokens) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for n in 0..accounts {
        let body = json!({"username": format!("user{n}"), "email": format!("user{n}@example.com"), "password": "correct horse battery"});
        let (elapsed, status, body) = post("/v1/accounts", body).await;
        assert_eq!(status, StatusCode::CREATED);
        sign_ups.push(elapsed);
        ids.push(body["account"]["id"].as_str().unwrap().to_owned());
        let (elapsed, status, body) =
            post("/v1/sessions", json!({"login": format!("user{n}"), "password": "correct horse battery"}))
                .await;
        assert_eq!(status, StatusCode::OK);
        logins.push(elapsed);
        tokens.push(body["token"].as_str().unwrap().to_owned());
    }
    println!("sign-up over HTTP ({accounts} sequential): {}", summary(sign_ups));
    println!("login over HTTP ({accounts} sequential): {}", summary(logins));

    // Wait until every profile is projected, then time the reads.
    for id in &ids {
        while client
            .get(url(&format!("/v1/accounts/{id}")))
            .bearer_auth(&tokens[0])
            .send()
            .await
            .unwrap()
            .status()
            != StatusCode::OK
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let mut reads = Vec::new();
    for n in 0..queries {
        let request = client
            .get(url(&format!("/v1/accounts/{}", ids[n % ids.len()])))
            .bearer_auth(&tokens[n % tokens.len()]);
        let started = Instant::now();
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.unwrap();
        reads.push(started.elapsed());
    }
    println!(
        "GET /v1/accounts/{{id}} over HTTP ({queries} sequential, authorizer included): {}",
        summary(reads)
    );

    // Interleaved in ABBA order, so neither drift in the machine's load nor going first or
    // second in a pair favours one kind.
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for n in 0..failed_logins {
        let unknown_login = json!({"login": format!("nobody{n}"), "password": "a wrong password"});
        let wrong_login = json!({"login": format!("user{}", n % accounts), "password": "a wrong password"});
        for unknown_first in [n % 2 == 0, n % 2 == 1] {
            let (login, samples) =
                if unknown_first { (&unknown_login, &mut unknown) } else { (&wrong_login, &mut wrong) };
            let (elapsed, status, _) = post("/v1/sessions", login.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            samples.push(elapsed);
        }
    }
    let p50 = |samples: &mut Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2].as_secs_f64() * 1000.0
    };
    let (unknown_p50, wrong_p50) = (p50(&mut unknown), p50(&mut wrong));
    println!(
        "failed login over HTTP ({failed_logins} each, interleaved): unknown name p50 {unknown_p50:.2} ms, \
         wrong password p50 {wrong_p50:.2} ms, ratio {:.3}",
        unknown_p50 / wrong_p50
    );
    system.shutdown().await;
    std::fs::remove_dir_all(folder).unwrap();
}
