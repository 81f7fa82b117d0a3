//! The graph domain end to end through the local runner with the accounts domain, on both
//! adapter families: follows and requests, blocks, mutes, tiers, lists and relationships, over
//! HTTP as an app calls them.

mod blocks;
mod cost;
mod erasure;
mod follows;
mod lists;
mod locked;
mod relationships;

use huddle_domain::consistency::HEADER;
use huddle_test_support::system::{accounts_domain, accounts_settings, SystemUnderTest};
use huddle_test_support::Family;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::ops::Deref;
use std::sync::Arc;

pub use huddle_test_support::system::code;

/// The accounts and graph domains in the local runner.
pub struct System(SystemUnderTest);

impl Deref for System {
    type Target = SystemUnderTest;

    fn deref(&self) -> &SystemUnderTest {
        &self.0
    }
}

/// A signed-up account.
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
        let domains = vec![accounts_domain(accounts_settings()), Arc::new(huddle_graph::GraphDomain) as _];
        Self(SystemUnderTest::start(family, domains).await)
    }

    pub async fn user(&self, username: &str) -> User {
        let (id, token) = self.signed_up_user(username).await;
        User { id, token }
    }

    /// `method path` as `user`, with no body.
    pub async fn call(&self, method: Method, path: &str, user: &User) -> Answer {
        let response = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&user.token)
            .send()
            .await
            .expect("an answer");
        let status = response.status();
        let consistency = response.headers().get(HEADER).map(|value| value.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        Answer { status, body, consistency }
    }

    pub async fn put(&self, path: &str, user: &User) -> Answer {
        self.call(Method::PUT, path, user).await
    }

    pub async fn delete(&self, path: &str, user: &User) -> Answer {
        self.call(Method::DELETE, path, user).await
    }

    pub async fn post(&self, path: &str, user: &User) -> Answer {
        self.call(Method::POST, path, user).await
    }

    /// `GET path` as `user`, once the projection has applied what `after` wrote.
    pub async fn read(&self, path: &str, user: &User, after: &Answer) -> (StatusCode, Value) {
        let mut request = self.client.get(self.url(path)).bearer_auth(&user.token);
        if let Some(token) = &after.consistency {
            request = request.header(HEADER, token);
        }
        self.send(request).await
    }

    /// The ids of the whole list at `path` (every page) as `user` sees it.
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

    /// `user`'s relationship with `other`, as the read table has it.
    pub async fn relationship(&self, user: &User, other: &User) -> Value {
        let (status, body) = self.get(&format!("/v1/me/relationships?ids={}", other.id), &user.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["items"][0].clone()
    }

    /// Waits until `user`'s relationship with `other` is `expected` in the read table.
    pub async fn relationship_becomes(&self, user: &User, other: &User, expected: &Value) {
        let path = format!("/v1/me/relationships?ids={}", other.id);
        self.eventually(&path, &user.token, |_, body| &body["items"][0] == expected).await;
    }

    /// The follower and following counts `of`'s profile shows (to itself), once it is projected.
    pub async fn counts(&self, of: &User) -> (u64, u64) {
        let path = format!("/v1/accounts/{}", of.id);
        let profile = self.eventually(&path, &of.token, |status, _| status == StatusCode::OK).await;
        let count = |name: &str| profile[name].as_u64().unwrap_or_else(|| panic!("{name} in {profile}"));
        (count("followers_count"), count("following_count"))
    }

    /// How many events the stream holds.
    pub async fn events_in(&self, stream: &str) -> u64 {
        self.running.events.head(stream).await.unwrap()
    }
}

/// A relationship with every field as `set` leaves it from nothing.
pub fn relationship(id: &str, set: &[&str], tier: Option<&str>) -> Value {
    let mut relationship = serde_json::json!({
        "id": id, "following": false, "requested": false, "followed_by": false,
        "blocking": false, "blocked_by": false, "muting": false, "tier": tier,
    });
    for field in set {
        relationship[*field] = Value::Bool(true);
    }
    relationship
}
