//! Post benchmarks (a bench binary, not a timed test), release build, embedded runner on a
//! file-backed store as `huddle serve --data` runs it, over HTTP through the authorizer as an
//! app calls them:
//!
//! * create: `POST /v1/posts` of a followers-only post whose text names an account and two tags
//!   (the mention resolved through its username stream), answered with the post view;
//! * read: `GET /v1/posts/{id}` of one of those posts by a follower (the graph's rule asked);
//! * a page: `GET /v1/accounts/{id}/posts?limit=20` by that follower.
//!
//! Run: `cargo bench -p content-tests --bench posts` (`HUDDLE_BENCH_POSTS`, default 500).

use huddle_runner::{Settings, Storage};
use huddle_test_support::bench::summary;
use huddle_test_support::system::{accounts_domain, accounts_settings, PASSWORD};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let posts: usize = std::env::var("HUDDLE_BENCH_POSTS").ok().and_then(|n| n.parse().ok()).unwrap_or(500);
    let folder = std::env::temp_dir().join(format!("huddle-bench-posts-{}", ulid::Ulid::new()));
    let domains = vec![
        accounts_domain(accounts_settings()),
        Arc::new(huddle_graph::GraphDomain) as _,
        Arc::new(huddle_media::MediaDomain) as _,
        Arc::new(huddle_content::ContentDomain) as _,
    ];
    let running =
        huddle_runner::start(Settings::new(Storage::Folder(folder.clone()), 0), domains).await.unwrap();
    let bench = Bench { client: Client::new(), url: running.url() };
    let (author, author_token) = bench.sign_up("author").await;
    let (_, reader_token) = bench.sign_up("reader").await;
    bench.sign_up("named").await;
    let (status, _) =
        bench.call(Method::PUT, &format!("/v1/me/following/{author}"), &reader_token, None).await;
    assert!(status.is_success(), "the reader follows the author");

    let body = json!({ "text": "an evening of #jazz with @named, #live", "audience": "followers" });
    let mut creating = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..posts {
        let started = Instant::now();
        let (status, post) = bench.call(Method::POST, "/v1/posts", &author_token, Some(&body)).await;
        creating.push(started.elapsed());
        assert_eq!(status, StatusCode::CREATED, "{post}");
        ids.push(post["id"].as_str().unwrap().to_owned());
    }
    println!("create a post: {}", summary(creating));

    // Every post projected before reads are timed: the last one shows to the reader.
    let last = format!("/v1/posts/{}", ids[ids.len() - 1]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while bench.call(Method::GET, &last, &reader_token, None).await.0 != StatusCode::OK {
        assert!(Instant::now() < deadline, "the posts were never projected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut reading = Vec::new();
    for id in ids.iter().cycle().take(2 * posts) {
        let started = Instant::now();
        let (status, post) = bench.call(Method::GET, &format!("/v1/posts/{id}"), &reader_token, None).await;
        reading.push(started.elapsed());
        assert_eq!(status, StatusCode::OK, "{post}");
    }
    println!("read a post, as a follower: {}", summary(reading));

    let page = format!("/v1/accounts/{author}/posts?limit=20");
    let mut paging = Vec::new();
    for _ in 0..posts {
        let started = Instant::now();
        let (status, body) = bench.call(Method::GET, &page, &reader_token, None).await;
        paging.push(started.elapsed());
        assert_eq!((status, body["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(20)), "{body}");
    }
    println!("a page of 20 of an account's posts, as a follower: {}", summary(paging));

    running.shutdown().await;
    let _ = std::fs::remove_dir_all(folder);
}

struct Bench {
    client: Client,
    url: String,
}

impl Bench {
    /// A new account's id and token.
    async fn sign_up(&self, username: &str) -> (String, String) {
        let body =
            json!({ "username": username, "email": format!("{username}@example.com"), "password": PASSWORD });
        let response =
            self.client.post(format!("{}/v1/accounts", self.url)).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        (body["account"]["id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned())
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.url)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or_default())
    }
}
