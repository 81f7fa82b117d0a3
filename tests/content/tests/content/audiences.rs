//! Who sees a post: its audience by the graph's rule, replies within their parent's audience,
//! and a block hiding each side's posts from the other.

use crate::{code, System};
use huddle_test_support::{on_both_families, Family};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_families!(
    a_close_friends_post_is_seen_by_a_close_friend_and_missing_to_a_follower_and_a_stranger,
    a_reply_joins_its_parents_thread_within_its_audience_and_only_from_whoever_sees_the_parent,
    a_block_hides_each_sides_posts_from_the_other,
    a_reply_shows_only_to_whoever_may_see_what_it_answers,
);

async fn a_close_friends_post_is_seen_by_a_close_friend_and_missing_to_a_follower_and_a_stranger(
    family: Family,
) {
    let system = System::start(family).await;
    let (ana, bob, cyd, dan) = (
        system.user("ana").await,
        system.user("bob").await,
        system.user("cyd").await,
        system.user("dan").await,
    );
    system.follows(&bob, &ana).await;
    system.follows(&cyd, &ana).await;
    system.in_tier(&ana, "close_friends", &bob).await;
    let secret = system.posted(&ana, "only for you", "close_friends").await;
    let open = system.posted(&ana, "for everyone", "public").await;

    let seen = system.seen(&secret, &bob).await;
    assert_eq!(
        (seen["audience"].as_str(), seen["text"].as_str()),
        (Some("close_friends"), Some("only for you"))
    );
    let (_, missing) = system.get("/v1/posts/pst_01JAAAAAAAAAAAAAAAAAAAAAAA", &cyd.token).await;
    for viewer in [&cyd, &dan] {
        system.seen(&open, viewer).await;
        let (status, body) = system.get(&format!("/v1/posts/{secret}"), &viewer.token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body, missing, "invisible and missing look the same");
    }
    let posts = format!("/v1/accounts/{}/posts", ana.id);
    assert_eq!(system.ids(&posts, &bob).await, [open.as_str(), secret.as_str()], "newest first");
    assert_eq!(system.ids(&posts, &cyd).await, [open.as_str()]);
    assert_eq!(system.ids(&posts, &dan).await, [open.as_str()]);
    assert_eq!(system.ids(&posts, &ana).await, [open.as_str(), secret.as_str()], "an author sees its own");
}

async fn a_reply_joins_its_parents_thread_within_its_audience_and_only_from_whoever_sees_the_parent(
    family: Family,
) {
    let system = System::start(family).await;
    let (ana, bob, cyd) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    system.follows(&bob, &ana).await;
    system.follows(&ana, &bob).await;
    let root = system.posted(&ana, "for my followers", "followers").await;
    system.seen(&root, &bob).await;

    let wider = system.post(&bob, json!({ "text": "to all", "audience": "public", "reply_to": root })).await;
    assert_eq!(
        (wider.status, code(&wider.body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        "{}",
        wider.body
    );
    assert_eq!(wider.body["error"]["details"][0]["field"], "audience", "{}", wider.body);
    let stranger = system.post(&cyd, json!({ "text": "me too", "reply_to": root })).await;
    assert_eq!(
        (stranger.status, code(&stranger.body)),
        (StatusCode::NOT_FOUND, "not_found"),
        "{}",
        stranger.body
    );

    let reply = system.post(&bob, json!({ "text": "nice", "audience": "followers", "reply_to": root })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        (reply.body["reply_to"].as_str(), reply.body["thread_id"].as_str()),
        (Some(root.as_str()), Some(root.as_str()))
    );
    let reply_id = reply.body["id"].as_str().unwrap().to_owned();
    system.seen(&reply_id, &ana).await;
    let nested = system
        .post(&ana, json!({ "text": "thanks", "audience": "close_friends", "reply_to": reply_id }))
        .await;
    assert_eq!(nested.status, StatusCode::CREATED, "{}", nested.body);
    assert_eq!(
        nested.body["thread_id"].as_str(),
        Some(root.as_str()),
        "a reply to a reply is in the root's thread"
    );
    assert_eq!(nested.body["reply_to"].as_str(), Some(reply_id.as_str()));

    let root_view =
        system.read_until(&format!("/v1/posts/{root}"), &ana, |_, post| post["reply_count"] == 1).await;
    assert_eq!(root_view["thread_id"].as_str(), Some(root.as_str()), "a post is its own thread's root");
    system.list_becomes(&format!("/v1/posts/{root}/replies"), &ana, &[&reply_id]).await;
    let (status, _) = system.get(&format!("/v1/posts/{root}/replies"), &cyd.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the replies of a post the caller may not see");
}

async fn a_block_hides_each_sides_posts_from_the_other(family: Family) {
    let system = System::start(family).await;
    let (ana, bob, cyd) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    let anas = system.posted(&ana, "ana's #jazz", "public").await;
    let bobs = system.posted(&bob, "bob's #jazz", "public").await;
    system.seen(&anas, &bob).await;
    system.seen(&bobs, &ana).await;
    system.blocks(&ana, &bob).await;

    for (viewer, author, post, own) in [(&bob, &ana, &anas, &bobs), (&ana, &bob, &bobs, &anas)] {
        let (status, _) = system.get(&format!("/v1/posts/{post}"), &viewer.token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "blocked either way");
        assert!(system.ids(&format!("/v1/accounts/{}/posts", author.id), viewer).await.is_empty());
        assert_eq!(system.ids("/v1/tags/jazz/posts", viewer).await, [own.as_str()], "only its own");
        let like = system.call(Method::PUT, &format!("/v1/posts/{post}/like"), viewer, None).await;
        assert_eq!(like.status, StatusCode::NOT_FOUND, "{}", like.body);
        let reply = system.post(viewer, json!({ "text": "hey", "reply_to": post })).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    }
    assert_eq!(
        system.ids("/v1/tags/jazz/posts", &cyd).await,
        [bobs.as_str(), anas.as_str()],
        "others see both"
    );
}

/// Bob, one of Ana's close friends, answers her close-friends post with his own close friends'
/// audience: Cyd, his close friend but no follower of Ana's, sees his other posts and not that
/// reply, which would show what Ana shared with her close friends only.
async fn a_reply_shows_only_to_whoever_may_see_what_it_answers(family: Family) {
    let system = System::start(family).await;
    let (ana, bob, cyd) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    system.follows(&bob, &ana).await;
    system.in_tier(&ana, "close_friends", &bob).await;
    system.follows(&cyd, &bob).await;
    system.in_tier(&bob, "close_friends", &cyd).await;
    let secret = system.posted(&ana, "only for you", "close_friends").await;
    system.seen(&secret, &bob).await;
    let reply = system
        .post(&bob, json!({ "text": "ana, about that", "audience": "close_friends", "reply_to": secret }))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let reply = reply.body["id"].as_str().unwrap().to_owned();
    let own = system.posted(&bob, "my own news", "close_friends").await;

    // Both projected: their author sees them.
    system.list_becomes(&format!("/v1/accounts/{}/posts", bob.id), &bob, &[&own, &reply]).await;
    system.seen(&own, &cyd).await;
    let (status, body) = system.get(&format!("/v1/posts/{reply}"), &cyd.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a reply to a post hidden from the caller: {body}");
    assert_eq!(system.ids(&format!("/v1/accounts/{}/posts", bob.id), &cyd).await, [own.as_str()]);
}
