//! `PATCH /v1/me` throughput on short and on long account streams, in one run: a command loads
//! its account from the latest snapshot and the events after it, so its cost must not grow with
//! the stream. Release build, embedded runner on a file-backed store as `huddle serve --data`
//! runs, 32 requests in flight (one task per account, so no two race on one stream).
//!
//! Accounts are signed up over HTTP; their streams are then seeded through the runner's own
//! `EventStore` with real `ProfileUpdated` events, sealed under each account's key, up to 10 and
//! to 5,000 events. Seeded streams hold no snapshot, so each account's first patch (in the
//! warm-up) reads its whole stream and writes one. Rounds run short, long, long, short, each
//! waiting until the projection has caught up, so neither the machine's drift nor the projector's
//! backlog favours one length; each length's figure is the median of its four rounds. The long
//! streams should be within 15 % of the short ones.
//!
//! Run: `cargo bench -p huddle-accounts-tests --bench snapshots`

mod support;
use huddle_catalog::accounts::{account_stream, AccountEvent};
use huddle_eventstore::{encode_personal, EventStore, ExpectedVersion, Metadata, StreamWrite};
use huddle_ports::Key;
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};

/// Requests in flight, and accounts per stream length.
const IN_FLIGHT: usize = 32;
const SHORT: u64 = 10;
const LONG: u64 = 5_000;
/// Patches per account in a measured round, and in the warm-up.
const PATCHES_PER_ROUND: usize = 50;
const WARM_UP_PATCHES: usize = 5;
/// Events per seeding append: the transaction's 100 writes less the version check and the
/// stream's appended-streams index entry.
const SEED_BATCH: u64 = 98;

struct Account {
    id: String,
    token: String,
}

#[tokio::main]
async fn main() {
    let (system, folder) = support::unthrottled_system("snapshots").await;
    let client = Client::new();
    let url = system.url();

    let started = Instant::now();
    let short = sign_up(&client, &url, "short").await;
    let long = sign_up(&client, &url, "long").await;
    for (accounts, length) in [(&short, SHORT), (&long, LONG)] {
        for account in accounts {
            seed(&system.events, account, length).await;
        }
        caught_up(&client, &url, accounts, &format!("seed {length}")).await;
    }
    println!(
        "seeded {IN_FLIGHT} accounts of {SHORT} and {IN_FLIGHT} of {LONG} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    for accounts in [&short, &long] {
        round(&client, &url, accounts, "warm-up", WARM_UP_PATCHES).await;
    }
    for account in &long {
        let key = Key::new(format!("snapshot#{}", account_stream(&account.id)), "snapshot");
        let snapshot = system.events_table.get(&key).await.unwrap().expect("the warm-up wrote a snapshot");
        assert!(snapshot["version"].as_u64().unwrap() > LONG, "the snapshot covers the seeded events");
    }
    // ABBA then BAAB: neither drift nor order favours one length.
    let (mut short_rates, mut long_rates) = (Vec::new(), Vec::new());
    for (n, is_long) in [false, true, true, false, true, false, false, true].into_iter().enumerate() {
        let accounts = if is_long { &long } else { &short };
        let rate = round(&client, &url, accounts, &format!("round {n}"), PATCHES_PER_ROUND).await;
        if is_long { &mut long_rates } else { &mut short_rates }.push(rate);
    }
    let (short_rate, long_rate) = (median(short_rates), median(long_rates));
    println!(
        "PATCH /v1/me, {IN_FLIGHT} in flight, median of 4 rounds: streams of {SHORT} events \
         {short_rate:.0} writes/s, of {LONG} events {long_rate:.0} writes/s, ratio {:.3}",
        long_rate / short_rate
    );
    system.shutdown().await;
    std::fs::remove_dir_all(folder).unwrap();
}

fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    let middle = rates.len() / 2;
    if rates.len().is_multiple_of(2) {
        (rates[middle - 1] + rates[middle]) / 2.0
    } else {
        rates[middle]
    }
}

async fn sign_up(client: &Client, url: &str, prefix: &str) -> Vec<Account> {
    let mut accounts = Vec::new();
    for n in 0..IN_FLIGHT {
        let body = json!({
            "username": format!("{prefix}{n}"),
            "email": format!("{prefix}{n}@example.com"),
            "password": "correct horse battery",
        });
        let response = client.post(format!("{url}/v1/accounts")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: serde_json::Value = response.json().await.unwrap();
        accounts.push(Account {
            id: body["account"]["id"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        });
    }
    accounts
}

/// Appends profile updates to `account`'s stream (its sign-up is event 1) until it holds
/// `length` events; the last one sets the bio `seed <length>`.
async fn seed(events: &EventStore, account: &Account, length: u64) {
    let key = events.subject_key(&account.id).await.unwrap().expect("a signed-up account has a key");
    let stream = account_stream(&account.id);
    let metadata = Metadata::new("bench-seed").actor(&account.id);
    let mut version = 1;
    while version < length {
        let count = SEED_BATCH.min(length - version);
        let updates = (version + 1..=version + count)
            .map(|n| {
                let event = AccountEvent::ProfileUpdated {
                    display_name: Some(format!("Seeded {n}")),
                    bio: Some(format!("seed {n}")),
                    avatar_media_id: None,
                    interests: vec!["chess".into(), "go".into()],
                };
                encode_personal(&event, &key)
            })
            .collect();
        let write = StreamWrite {
            stream: stream.clone(),
            expected: ExpectedVersion::Exact(version),
            events: updates,
        };
        events.append_all(vec![write], &metadata, None).await.unwrap();
        version += count;
    }
}

/// Waits until every account's profile shows `bio`: the projection has applied its last event.
async fn caught_up(client: &Client, url: &str, accounts: &[Account], bio: &str) {
    for account in accounts {
        loop {
            let response =
                client.get(format!("{url}/v1/me")).bearer_auth(&account.token).send().await.unwrap();
            if response.status() == StatusCode::OK {
                let body: serde_json::Value = response.json().await.unwrap();
                if body["bio"] == bio {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// `patches` patches on each account, one task per account; prints and returns writes/s.
async fn round(client: &Client, url: &str, accounts: &[Account], name: &str, patches: usize) -> f64 {
    let started = Instant::now();
    let tasks = accounts.iter().map(|account| {
        let (client, token) = (client.clone(), account.token.clone());
        let url = format!("{url}/v1/me");
        let name = name.to_owned();
        tokio::spawn(async move {
            for n in 0..patches {
                let body = json!({"bio": format!("{name} {n}")});
                let response = client.patch(&url).bearer_auth(&token).json(&body).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
            }
        })
    });
    for task in futures::future::join_all(tasks).await {
        task.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = (accounts.len() * patches) as f64 / elapsed;
    caught_up(client, url, accounts, &format!("{name} {}", patches - 1)).await;
    println!("  {name}: {} patches in {elapsed:.2} s, {rate:.0} writes/s", accounts.len() * patches);
    rate
}
