//! An erased account's posts and likes leave every read, a page at a time.

use crate::System;
use huddle_content::projection::ERASURE_POSTS;
use huddle_test_support::{on_both_families, Family};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_families!(an_erased_accounts_posts_and_likes_leave_every_read);

async fn an_erased_accounts_posts_and_likes_leave_every_read(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let bobs = system.posted(&bob, "bob's", "public").await;
    system.seen(&bobs, &ana).await;
    // More posts than one erasure step takes, a reply among them, and a like each way.
    let mut anas = Vec::new();
    for n in 0..=ERASURE_POSTS {
        anas.push(system.posted(&ana, &format!("ana's #mine {n}"), "public").await);
    }
    let reply =
        system.post(&ana, json!({ "text": "ana replies", "audience": "public", "reply_to": bobs })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    for (liker, post) in [(&ana, &bobs), (&bob, &anas[0])] {
        let liked = system.call(Method::PUT, &format!("/v1/posts/{post}/like"), liker, None).await;
        assert_eq!(liked.status, StatusCode::OK, "{}", liked.body);
    }
    let bobs_path = format!("/v1/posts/{bobs}");
    system.read_until(&bobs_path, &bob, |_, post| post["like_count"] == 1 && post["reply_count"] == 1).await;
    system.read_until(&format!("/v1/posts/{}", anas[0]), &bob, |_, post| post["like_count"] == 1).await;

    system.erase(&ana).await;
    let gone = system
        .read_until(&bobs_path, &bob, |_, post| post["like_count"] == 0 && post["reply_count"] == 0)
        .await;
    assert_eq!(gone["liked_by_me"], false);
    system.list_becomes(&format!("/v1/posts/{bobs}/replies"), &bob, &[]).await;
    system.list_becomes(&format!("/v1/accounts/{}/posts", ana.id), &bob, &[]).await;
    system.list_becomes("/v1/tags/mine/posts", &bob, &[]).await;
    for post in &anas {
        let (status, _) = system.get(&format!("/v1/posts/{post}"), &bob.token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{post}");
    }
    // Bob's like of ana's post went with it; bob's own post stays.
    assert_eq!(system.seen(&bobs, &bob).await["text"], "bob's");
}
