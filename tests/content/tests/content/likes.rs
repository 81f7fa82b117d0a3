//! Likes: one per account and post whatever is sent, counted exactly under concurrent likes and
//! unlikes, and only of a post the caller may see.

use crate::{System, User};
use huddle_test_support::{on_both_families, Family};
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_families!(
    twenty_concurrent_likes_and_unlikes_are_counted_exactly,
    a_like_is_of_a_post_the_caller_may_see,
);

async fn twenty_concurrent_likes_and_unlikes_are_counted_exactly(family: Family) {
    let system = System::start(family).await;
    let ana = system.user("ana").await;
    let post = system.posted(&ana, "like me", "public").await;
    let likers = twenty_likers(&system).await;
    system.seen(&post, &likers[0]).await;
    let liked = Liked {
        item: &post,
        like: format!("/v1/posts/{post}/like"),
        view: format!("/v1/posts/{post}"),
        at: "",
    };
    liked.counted_exactly(&system, &ana, &likers).await;
}

pub async fn twenty_likers(system: &System) -> Vec<User> {
    let mut likers = Vec::new();
    for n in 0..20 {
        likers.push(system.user(&format!("liker{n:02}")).await);
    }
    likers
}

/// A likeable item: its id, its like's path, and where its view is (the JSON pointer `at` of the
/// body of `GET view`).
pub struct Liked<'a> {
    pub item: &'a str,
    pub like: String,
    pub view: String,
    pub at: &'a str,
}

impl Liked<'_> {
    /// The item as `user` sees it, once `done` holds of it.
    async fn seen_until(&self, system: &System, user: &User, done: impl Fn(&Value) -> bool) -> Value {
        let at = self.at;
        let body = system.read_until(&self.view, user, |_, body| body.pointer(at).is_some_and(&done)).await;
        body.pointer(at).cloned().unwrap_or_default()
    }

    /// Every liker at once, each twice, then half taking theirs back (twice each) while the
    /// other half like again: each answer plausible, the count exact at each step and once
    /// settled, one event per like, and `liked_by_me` each liker's own.
    pub async fn counted_exactly(&self, system: &System, owner: &User, likers: &[User]) {
        let likes =
            likers.iter().chain(likers).map(|liker| system.call(Method::PUT, &self.like, liker, None));
        for answer in futures::future::join_all(likes).await {
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            assert_eq!(answer.body["liked"], true);
            assert!(
                answer.body["like_count"].as_u64().is_some_and(|count| (1..=20).contains(&count)),
                "{}",
                answer.body
            );
        }
        self.seen_until(system, owner, |item| item["like_count"] == 20).await;
        let events = system.events_in(&format!("like#{}#{}", self.item, likers[0].id)).await;
        assert_eq!(events, 1, "a repeated like appends nothing");

        let (leaving, staying) = likers.split_at(10);
        let unlikes =
            leaving.iter().chain(leaving).map(|liker| system.call(Method::DELETE, &self.like, liker, None));
        let again = staying.iter().map(|liker| system.call(Method::PUT, &self.like, liker, None));
        let (unliked, liked) =
            tokio::join!(futures::future::join_all(unlikes), futures::future::join_all(again));
        assert!(unliked.iter().all(|answer| answer.status == StatusCode::NO_CONTENT));
        assert!(liked.iter().all(|answer| answer.status == StatusCode::OK));
        let counted = self.seen_until(system, owner, |item| item["like_count"] == 10).await;
        assert_eq!(counted["liked_by_me"], false, "its author did not like it");
        assert_eq!(self.seen_until(system, &staying[0], |_| true).await["liked_by_me"], true);
        assert_eq!(self.seen_until(system, &leaving[0], |_| true).await["liked_by_me"], false);
        // Settled: nothing more arrives.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(self.seen_until(system, owner, |_| true).await["like_count"], 10);
    }
}

async fn a_like_is_of_a_post_the_caller_may_see(family: Family) {
    let system = System::start(family).await;
    let (ana, bob, cyd) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    system.follows(&bob, &ana).await;
    let post = system.posted(&ana, "followers only", "followers").await;
    system.seen(&post, &bob).await;
    let like = format!("/v1/posts/{post}/like");

    let refused = system.call(Method::PUT, &like, &cyd, None).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    assert_eq!(system.events_in(&format!("like#{post}#{}", cyd.id)).await, 0, "nothing appended");
    let liked = system.call(Method::PUT, &like, &bob, None).await;
    assert_eq!(liked.status, StatusCode::OK, "{}", liked.body);
    assert_eq!((liked.body["liked"].as_bool(), liked.body["like_count"].as_u64()), (Some(true), Some(1)));
    let (_, seen) = system.read(&format!("/v1/posts/{post}"), &bob, &liked).await;
    assert_eq!((seen["like_count"].as_u64(), seen["liked_by_me"].as_bool()), (Some(1), Some(true)), "{seen}");
    let missing = system.call(Method::PUT, "/v1/posts/pst_01JAAAAAAAAAAAAAAAAAAAAAAA/like", &bob, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
