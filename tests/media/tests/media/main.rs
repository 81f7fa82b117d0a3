//! The media domain end to end through the local runner with the accounts domain, on both
//! adapter families: an app asks to upload, sends the file to its presigned URL (S3 on moto, the
//! runner's own route embedded), the bucket's notification brings it to processing, and the
//! owner reads what came of it.

mod erasure;
mod uploads;

// The media crate's own samples (images with EXIF made byte by byte, the ffmpeg fixtures).
#[path = "../../../../domains/media/tests/samples/mod.rs"]
mod samples;

use huddle_test_support::system::{accounts_domain, accounts_settings, SystemUnderTest};
use huddle_test_support::Family;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The accounts and media domains in the local runner.
pub struct System(SystemUnderTest);

impl Deref for System {
    type Target = SystemUnderTest;

    fn deref(&self) -> &SystemUnderTest {
        &self.0
    }
}

pub struct User {
    pub id: String,
    pub token: String,
}

impl System {
    pub async fn start(family: Family) -> Self {
        let domains = vec![accounts_domain(accounts_settings()), Arc::new(huddle_media::MediaDomain) as _];
        Self(SystemUnderTest::start(family, domains).await)
    }

    pub async fn user(&self, username: &str) -> User {
        let (id, token) = self.signed_up_user(username).await;
        User { id, token }
    }

    pub async fn post(&self, path: &str, user: &User, body: &Value) -> (StatusCode, Value) {
        self.send(self.client.post(self.url(path)).bearer_auth(&user.token).json(body)).await
    }

    pub async fn put(&self, path: &str, user: &User, body: &Value) -> (StatusCode, Value) {
        self.send(self.client.put(self.url(path)).bearer_auth(&user.token).json(body)).await
    }

    pub async fn get(&self, path: &str, user: &User) -> (StatusCode, Value) {
        self.send(self.client.get(self.url(path)).bearer_auth(&user.token)).await
    }

    /// Asks to upload `bytes` as `content_type` and sends them to the URL that comes back, as an
    /// app does; the new media's id.
    pub async fn upload(&self, user: &User, kind: &str, content_type: &str, bytes: &[u8]) -> String {
        let declared = json!({"kind": kind, "content_type": content_type, "size_bytes": bytes.len()});
        let (status, ticket) = self.post("/v1/media", user, &declared).await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        assert_eq!(ticket["media"]["status"], "pending_upload", "{ticket}");
        let upload = &ticket["upload"];
        assert_eq!(upload["method"], "PUT");
        let mut request = self.client.put(upload["url"].as_str().unwrap()).body(bytes.to_vec());
        for (name, value) in upload["headers"].as_object().unwrap() {
            request = request.header(name, value.as_str().unwrap());
        }
        let sent = request.send().await.unwrap();
        assert!(sent.status().is_success(), "the upload: {}", sent.status());
        ticket["media"]["id"].as_str().unwrap().to_owned()
    }

    /// `GET /v1/media/{id}` until its status is no longer pending or processing (20 s at most).
    pub async fn processed(&self, user: &User, media_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, media) = self.get(&format!("/v1/media/{media_id}"), user).await;
            // Until the projection has the new media's record, it is not found.
            let waiting = status == StatusCode::NOT_FOUND
                || ["pending_upload", "processing"].contains(&media["status"].as_str().unwrap_or_default());
            if !waiting {
                assert_eq!(status, StatusCode::OK, "{media}");
                return media;
            }
            assert!(Instant::now() < deadline, "never processed: {media}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The bytes behind a presigned GET, fetched as an app does.
    pub async fn fetch(&self, url: &str) -> Vec<u8> {
        let response = self.client.get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        response.bytes().await.unwrap().to_vec()
    }
}
