//! Likes: one per account and post whatever is sent, counted exactly under concurrent likes and
//! unlikes, and only of a post the caller may see.

use crate::{System, User};
use huddle_test_support::{on_both_families, Family};
use reqwest::{Method, StatusCode};

on_both_families!(
    twenty_concurrent_likes_and_unlikes_are_counted_exactly,
    a_like_is_of_a_post_the_caller_may_see,
);

async fn twenty_concurrent_likes_and_unlikes_are_counted_exactly(family: Family) {
    let system = System::start(family).await;
    let ana = system.user("ana").await;
    let post = system.posted(&ana, "like me", "public").await;
    let mut likers: Vec<User> = Vec::new();
    for n in 0..20 {
        likers.push(system.user(&format!("liker{n:02}")).await);
    }
    let like = format!("/v1/posts/{post}/like");
    system.seen(&post, &likers[0]).await;

    // Every liker at once, each twice: twenty likes.
    let likes = likers.iter().chain(&likers).map(|liker| system.call(Method::PUT, &like, liker, None));
    for answer in futures::future::join_all(likes).await {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["liked"], true);
        assert!(
            answer.body["like_count"].as_u64().is_some_and(|count| (1..=20).contains(&count)),
            "{}",
            answer.body
        );
    }
    let path = format!("/v1/posts/{post}");
    system.read_until(&path, &ana, |_, post| post["like_count"] == 20).await;
    assert_eq!(
        system.events_in(&format!("like#{post}#{}", likers[0].id)).await,
        1,
        "a repeated like appends nothing"
    );

    // Half take theirs back (twice each) while the other half like again: ten.
    let (leaving, staying) = likers.split_at(10);
    let unlikes = leaving.iter().chain(leaving).map(|liker| system.call(Method::DELETE, &like, liker, None));
    let again = staying.iter().map(|liker| system.call(Method::PUT, &like, liker, None));
    let (unliked, liked) = tokio::join!(futures::future::join_all(unlikes), futures::future::join_all(again));
    assert!(unliked.iter().all(|answer| answer.status == StatusCode::NO_CONTENT));
    assert!(liked.iter().all(|answer| answer.status == StatusCode::OK));
    let counted = system.read_until(&path, &ana, |_, post| post["like_count"] == 10).await;
    assert_eq!(counted["liked_by_me"], false, "the author did not like it");
    assert_eq!(system.seen(&post, &staying[0]).await["liked_by_me"], true);
    assert_eq!(system.seen(&post, &leaving[0]).await["liked_by_me"], false);
    // Settled: nothing more arrives.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(system.seen(&post, &ana).await["like_count"], 10);
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
