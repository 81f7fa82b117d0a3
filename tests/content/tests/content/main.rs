//! The content domain end to end through the local runner with the accounts, graph and media
//! domains, on both adapter families: posts with their audiences, replies, likes, mentions and
//! tags, edits and deletions, erasure and blocks, video threads and their entries (`threads.rs`),
//! over HTTP as an app calls them.

mod audiences;
mod cost;
mod erasure;
mod input;
mod likes;
mod posts;
mod threads;

use huddle_domain::consistency::HEADER;
use huddle_test_support::system::{accounts_domain, accounts_settings, SystemUnderTest, PASSWORD};
use huddle_test_support::Family;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use huddle_test_support::system::code;

/// The accounts, graph, media and content domains in the local runner.
pub struct System(SystemUnderTest);

impl Deref for System {
    type Target = SystemUnderTest;

    fn deref(&self) -> &SystemUnderTest {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub token: String,
}

/// A command's answer: its status, its body, and the consistency token to read it back with.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub consistency: Option<String>,
}

impl System {
    pub async fn start(family: Family) -> Self {
        let domains = vec![
            accounts_domain(accounts_settings()),
            Arc::new(huddle_graph::GraphDomain) as _,
            Arc::new(huddle_media::MediaDomain) as _,
            Arc::new(huddle_content::ContentDomain) as _,
        ];
        Self(SystemUnderTest::start(family, domains).await)
    }

    pub async fn user(&self, username: &str) -> User {
        let (id, token) = self.signed_up_user(username).await;
        User { id, token }
    }

    /// `method path` as `user`, with `body` as JSON if any.
    pub async fn call(&self, method: Method, path: &str, user: &User, body: Option<&Value>) -> Answer {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(&user.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("an answer");
        let status = response.status();
        let consistency = response.headers().get(HEADER).map(|value| value.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer { status, body, consistency }
    }

    /// `POST /v1/posts` with `body`.
    pub async fn post(&self, user: &User, body: Value) -> Answer {
        self.call(Method::POST, "/v1/posts", user, Some(&body)).await
    }

    /// A post of `user`'s with `text` for `audience`, which must be created: its id. Lists are
    /// newest first by post id, a ULID, and two made in one millisecond have no order: the next
    /// post is made a few milliseconds later.
    pub async fn posted(&self, user: &User, text: &str, audience: &str) -> String {
        let answer = self.post(user, json!({ "text": text, "audience": audience })).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        tokio::time::sleep(Duration::from_millis(3)).await;
        answer.body["id"].as_str().unwrap().to_owned()
    }

    /// `GET path` as `user` until `done` holds (the read side is eventually consistent).
    pub async fn read_until(
        &self,
        path: &str,
        user: &User,
        done: impl Fn(StatusCode, &Value) -> bool,
    ) -> Value {
        self.eventually(path, &user.token, done).await
    }

    /// `GET path` as `user`, once the projection has applied what `after` wrote.
    pub async fn read(&self, path: &str, user: &User, after: &Answer) -> (StatusCode, Value) {
        let mut request = self.client.get(self.url(path)).bearer_auth(&user.token);
        if let Some(token) = &after.consistency {
            request = request.header(HEADER, token);
        }
        self.send(request).await
    }

    /// The post as `user` sees it once it is projected (and visible to `user`).
    pub async fn seen(&self, post_id: &str, user: &User) -> Value {
        self.read_until(&format!("/v1/posts/{post_id}"), user, |status, _| status == StatusCode::OK).await
    }

    /// The ids of the whole list at `path` (every page, two at a time) as `user` sees it.
    pub async fn ids(&self, path: &str, user: &User) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page_path = match &cursor {
                Some(cursor) => format!("{path}?limit=2&cursor={cursor}"),
                None => format!("{path}?limit=2"),
            };
            let (status, page) = self.get(&page_path, &user.token).await;
            assert_eq!(status, StatusCode::OK, "{page_path}: {page}");
            ids.extend(
                page["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return ids,
            }
        }
    }

    /// Waits until the list at `path` is `expected` for `user`.
    pub async fn list_becomes(&self, path: &str, user: &User, expected: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ids = self.ids(path, user).await;
            if ids == expected {
                return;
            }
            assert!(Instant::now() < deadline, "{path} stayed {ids:?}, not {expected:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `follower` follows `followee` (unlocked), and the graph has projected it.
    pub async fn follows(&self, follower: &User, followee: &User) {
        let path = format!("/v1/me/following/{}", followee.id);
        let answer = self.call(Method::PUT, &path, follower, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let relationship = format!("/v1/me/relationships?ids={}", followee.id);
        self.eventually(&relationship, &follower.token, |_, body| body["items"][0]["following"] == true)
            .await;
    }

    /// `owner` puts `member` in its tier, and the graph has projected it.
    pub async fn in_tier(&self, owner: &User, tier: &str, member: &User) {
        let path = format!("/v1/me/audiences/{tier}/{}", member.id);
        let answer = self.call(Method::PUT, &path, owner, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let relationship = format!("/v1/me/relationships?ids={}", member.id);
        self.eventually(&relationship, &owner.token, |_, body| body["items"][0]["tier"] == tier).await;
    }

    /// `blocker` blocks `blocked`, and the graph has projected it.
    pub async fn blocks(&self, blocker: &User, blocked: &User) {
        let answer = self.call(Method::PUT, &format!("/v1/me/blocks/{}", blocked.id), blocker, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let relationship = format!("/v1/me/relationships?ids={}", blocked.id);
        self.eventually(&relationship, &blocker.token, |_, body| body["items"][0]["blocking"] == true).await;
    }

    /// Erases `user`'s account.
    pub async fn erase(&self, user: &User) {
        let answer = self.call(Method::DELETE, "/v1/me", user, Some(&json!({ "password": PASSWORD }))).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    }

    /// A ready image of `user`'s (a small PNG through its presigned URL and processing): its id.
    pub async fn ready_image(&self, user: &User) -> String {
        self.ready_media(user, "image", "image/png", small_png()).await
    }

    /// A ready video of `user`'s (the media domain's 2-second H.264 fixture): its id.
    pub async fn ready_video(&self, user: &User) -> String {
        let fixture =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../domains/media/tests/fixtures/h264-160x120-2s.mp4");
        let mp4 = std::fs::read(fixture).expect("the media domain's video fixture");
        self.ready_media(user, "video", "video/mp4", mp4).await
    }

    /// `bytes` uploaded as a `kind` of `user`'s through its presigned URL, and processed: its id.
    async fn ready_media(&self, user: &User, kind: &str, content_type: &str, bytes: Vec<u8>) -> String {
        let declared = json!({"kind": kind, "content_type": content_type, "size_bytes": bytes.len()});
        let ticket = self.call(Method::POST, "/v1/media", user, Some(&declared)).await;
        assert_eq!(ticket.status, StatusCode::CREATED, "{}", ticket.body);
        let upload = &ticket.body["upload"];
        let mut request = self.client.put(upload["url"].as_str().unwrap()).body(bytes);
        for (name, value) in upload["headers"].as_object().unwrap() {
            request = request.header(name, value.as_str().unwrap());
        }
        assert!(request.send().await.unwrap().status().is_success(), "the upload");
        let id = ticket.body["media"]["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/media/{id}");
        let media = self
            .read_until(&path, user, |status, body| {
                status == StatusCode::OK
                    && body["status"] != "processing"
                    && body["status"] != "pending_upload"
            })
            .await;
        assert_eq!(media["status"], "ready", "{media}");
        id
    }

    /// How many events the stream holds.
    pub async fn events_in(&self, stream: &str) -> u64 {
        self.running.events.head(stream).await.unwrap()
    }
}

/// A 48×32 PNG of two colours.
fn small_png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(48, 32, |x, _| {
        if x < 24 {
            image::Rgb([200, 30, 30])
        } else {
            image::Rgb([30, 30, 200])
        }
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image).write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}
