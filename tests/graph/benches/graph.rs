//! Graph benchmarks (a bench binary, not a timed test), release build, embedded runner on a
//! file-backed store as `huddle serve --data` runs it:
//!
//! * follow latency over HTTP (`PUT /v1/me/following/{id}`, through the authorizer) of an account
//!   with no followers and of one with `HUDDLE_BENCH_FOLLOWERS` (default 100,000): the pair
//!   streams make them the same;
//! * list-page latency of that account's followers (`GET /v1/accounts/{id}/followers`), the first
//!   page and one half-way down (through its cursor);
//! * `may_view` latency through `GraphReader`, the port other domains call, for followers and
//!   strangers of that account.
//!
//! The followers' registrations and follows are applied to the read table by the graph's own
//! projector (not appended to the log, which nothing measured reads), so seeding takes a few
//! minutes, not hours of sign-ups.
//!
//! Run: `cargo bench -p huddle-graph-tests --bench graph` (`HUDDLE_BENCH_FOLLOWERS=10000` for a
//! quick run).

use futures::StreamExt;
use huddle_catalog::accounts::{account_stream, AccountEvent};
use huddle_catalog::graph::{pair_stream, FollowEvent, FOLLOW};
use huddle_delivery::Projector;
use huddle_domain::{Domain, DomainPorts};
use huddle_eventstore::{encode, Envelope, NewEvent};
use huddle_graph::visibility::{Audience, GraphReader};
use huddle_graph::GraphDomain;
use huddle_runner::{Running, Settings, Storage};
use huddle_test_support::bench::summary;
use huddle_test_support::system::{accounts_domain, accounts_settings};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let followers: usize =
        std::env::var("HUDDLE_BENCH_FOLLOWERS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let folder = std::env::temp_dir().join(format!("huddle-bench-graph-{}", ulid::Ulid::new()));
    let domains = vec![accounts_domain(accounts_settings()), Arc::new(GraphDomain) as Arc<dyn Domain>];
    let running =
        huddle_runner::start(Settings::new(Storage::Folder(folder.clone()), 0), domains).await.unwrap();
    let bench = Bench { client: Client::new(), url: running.url() };

    let (star, _) = bench.sign_up("star").await;
    let (quiet, _) = bench.sign_up("quiet").await;
    let started = Instant::now();
    let fans = seed_followers(&running, &star, followers).await;
    println!("seeded {followers} followers of one account in {:.1} s", started.elapsed().as_secs_f64());

    let mut to_star = Vec::new();
    let mut to_quiet = Vec::new();
    for n in 0..40 {
        let (_, token) = bench.sign_up(&format!("newcomer{n}")).await;
        to_quiet.push(bench.timed_put(&format!("/v1/me/following/{quiet}"), &token).await);
        to_star.push(bench.timed_put(&format!("/v1/me/following/{star}"), &token).await);
    }
    println!("follow, an account with 0 followers: {}", summary(to_quiet));
    println!("follow, an account with {followers} followers: {}", summary(to_star));

    let (_, reader_token) = bench.sign_up("reader").await;
    let first_page = format!("/v1/accounts/{star}/followers?limit=20");
    let mut first = Vec::new();
    for _ in 0..200 {
        first.push(bench.timed_get(&first_page, &reader_token).await.0);
    }
    let cursor = bench.cursor_at(&star, &reader_token, followers / 2).await;
    let deep_page = format!("/v1/accounts/{star}/followers?limit=20&cursor={cursor}");
    let mut deep = Vec::new();
    for _ in 0..200 {
        deep.push(bench.timed_get(&deep_page, &reader_token).await.0);
    }
    println!("followers page of 20, the first: {}", summary(first));
    println!("followers page of 20, {} entries down: {}", followers / 2, summary(deep));

    let graph = running.domains.iter().find(|domain| domain.name == "graph").unwrap();
    let reader = GraphReader::new(graph.read_model.clone());
    let mut answers = Vec::new();
    for n in 0..10_000 {
        // Every other viewer follows; the others are strangers.
        let viewer = if n % 2 == 0 { fans[n % fans.len()].clone() } else { format!("acc_stranger{n}") };
        let started = Instant::now();
        let may = reader.may_view(&viewer, &star, Audience::Followers).await.unwrap();
        answers.push(started.elapsed());
        assert_eq!(may, n % 2 == 0, "{viewer}");
    }
    println!("may_view (followers audience), 10,000 calls: {}", summary(answers));

    running.shutdown().await;
    let _ = std::fs::remove_dir_all(folder);
}

/// `count` accounts registered and following `star`, as the graph's own projector applies
/// their events to the read table; their ids. The events are not appended to the log: nothing
/// measured reads them there (a follow reads its own pair's streams and the followee's account
/// stream), and 200,000 appends would keep the fan-out and the queue busy under the measurement.
async fn seed_followers(running: &Running, star: &str, count: usize) -> Vec<String> {
    let graph = running.domains.iter().find(|domain| domain.name == "graph").unwrap();
    let ports = DomainPorts::new(running.events_table.clone(), graph.read_model.clone(), b"bench");
    let projector =
        Projector::new(GraphDomain.projection(&ports), graph.read_model.clone(), ports.events.clone());
    let fans: Vec<String> = (0..count).map(|_| format!("acc_{}", ulid::Ulid::new())).collect();
    futures::stream::iter(fans.iter().enumerate())
        .for_each_concurrent(16, |(n, fan)| {
            let projector = &projector;
            async move {
                let registered = AccountEvent::AccountRegistered {
                    username: format!("fan{n}"),
                    email: format!("fan{n}@example.com"),
                    password_hash: "not a hash".into(),
                    display_name: None,
                };
                let followed = encode(&FollowEvent::Followed);
                for (stream, event) in
                    [(account_stream(fan), encode(&registered)), (pair_stream(FOLLOW, fan, star), followed)]
                {
                    projector.apply_stream(vec![first_event(stream, event)]).await.unwrap();
                }
            }
        })
        .await;
    fans
}

/// `event` as the first of `stream`, as the log would hand it over.
fn first_event(stream: String, event: NewEvent) -> Envelope {
    Envelope {
        stream,
        version: 1,
        event_id: ulid::Ulid::new(),
        event_type: event.event_type,
        schema_version: event.schema_version,
        occurred_at: time::OffsetDateTime::now_utc(),
        actor: None,
        correlation_id: "bench".into(),
        causation_id: None,
        payload: event.payload,
    }
}

struct Bench {
    client: Client,
    url: String,
}

impl Bench {
    async fn sign_up(&self, username: &str) -> (String, String) {
        let body = json!({ "username": username, "email": format!("{username}@example.com"), "password": "correct horse battery" });
        let response =
            self.client.post(format!("{}/v1/accounts", self.url)).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        (body["account"]["id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned())
    }

    async fn timed_put(&self, path: &str, token: &str) -> Duration {
        let started = Instant::now();
        let response =
            self.client.put(format!("{}{path}", self.url)).bearer_auth(token).send().await.unwrap();
        let status = response.status();
        response.bytes().await.unwrap();
        let elapsed = started.elapsed();
        assert_eq!(status, StatusCode::OK, "{path}");
        elapsed
    }

    async fn timed_get(&self, path: &str, token: &str) -> (Duration, Value) {
        let started = Instant::now();
        let response =
            self.client.get(format!("{}{path}", self.url)).bearer_auth(token).send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        let elapsed = started.elapsed();
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        (elapsed, body)
    }

    /// The cursor of the page that starts about `depth` entries down `star`'s followers.
    async fn cursor_at(&self, star: &str, token: &str, depth: usize) -> String {
        let mut cursor: Option<String> = None;
        for _ in 0..(depth / 100).max(1) {
            let path = match &cursor {
                Some(cursor) => format!("/v1/accounts/{star}/followers?limit=100&cursor={cursor}"),
                None => format!("/v1/accounts/{star}/followers?limit=100"),
            };
            let (_, page) = self.timed_get(&path, token).await;
            cursor = Some(page["next_cursor"].as_str().expect("a next page").to_owned());
        }
        cursor.unwrap()
    }
}
