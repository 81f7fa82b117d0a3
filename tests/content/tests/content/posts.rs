//! A post's life: created with its media, mentions and tags, listed, edited, deleted.

use crate::{code, System};
use huddle_test_support::{on_both_families, Family};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_families!(
    a_post_shows_its_media_mentions_and_tags_and_public_ones_are_listed_under_their_tags,
    an_edit_by_the_author_changes_text_mentions_and_tags,
    a_deleted_post_is_gone_from_every_read_and_its_parents_count,
    an_account_writes_at_most_300_posts_and_edits_in_three_hours,
);

/// A view without its media's URLs, which are signed anew on every read.
fn without_urls(mut post: Value) -> Value {
    for media in post["media"].as_array_mut().into_iter().flatten() {
        media["url"] = Value::Null;
        for thumbnail in media["thumbnails"].as_array_mut().into_iter().flatten() {
            thumbnail["url"] = Value::Null;
        }
    }
    post
}

async fn a_post_shows_its_media_mentions_and_tags_and_public_ones_are_listed_under_their_tags(
    family: Family,
) {
    let system = System::start(family).await;
    let (ana, bob, cyd) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    let image = system.ready_image(&ana).await;
    let text = "with @Bob and @nobody_here, mail ana@example.com #Jazz #lo-fi #jazz";
    let created =
        system.post(&ana, json!({ "text": text, "media_ids": [image], "audience": "public" })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let post = &created.body;
    assert_eq!(post["author"].as_str(), Some(ana.id.as_str()));
    assert_eq!(post["mentions"], json!([bob.id]), "unknown names stay text");
    assert_eq!(post["tags"], json!(["jazz", "lo-fi"]));
    assert_eq!((post["like_count"].as_u64(), post["reply_count"].as_u64()), (Some(0), Some(0)));
    assert_eq!((post["liked_by_me"].as_bool(), post["edited_at"].as_str()), (Some(false), None));
    let media = &post["media"][0];
    assert_eq!(
        (media["id"].as_str(), media["status"].as_str()),
        (Some(image.as_str()), Some("ready")),
        "{post}"
    );
    let url = media["url"].as_str().expect("a presigned GET");
    let served = system.client.get(url).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK, "the media is served to whoever sees the post");

    let id = post["id"].as_str().unwrap();
    let seen = system.seen(id, &cyd).await;
    assert_eq!(without_urls(seen), without_urls(post.clone()), "the object the create answered");
    // Only public posts are listed under their tags.
    system.follows(&bob, &ana).await;
    let followers_only = system.posted(&ana, "#jazz for followers", "followers").await;
    system.seen(&followers_only, &bob).await;
    for tag in ["jazz", "lo-fi"] {
        assert_eq!(system.ids(&format!("/v1/tags/{tag}/posts"), &bob).await, [id], "{tag}");
    }
    assert!(system.ids("/v1/tags/unused/posts", &bob).await.is_empty());
    let (status, body) = system.get("/v1/tags/Jazz/posts", &bob.token).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "a tag is lower case");
}

async fn an_edit_by_the_author_changes_text_mentions_and_tags(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let post = system.posted(&ana, "first #jazz", "public").await;
    system.list_becomes("/v1/tags/jazz/posts", &bob, &[&post]).await;
    let path = format!("/v1/posts/{post}");

    let stolen = system.call(Method::PATCH, &path, &bob, Some(&json!({ "text": "mine" }))).await;
    assert_eq!((stolen.status, code(&stolen.body)), (StatusCode::NOT_FOUND, "not_found"), "{}", stolen.body);
    let edited =
        system.call(Method::PATCH, &path, &ana, Some(&json!({ "text": "now #blues with @bob" }))).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["text"], "now #blues with @bob");
    assert_eq!(
        (edited.body["tags"].clone(), edited.body["mentions"].clone()),
        (json!(["blues"]), json!([bob.id]))
    );
    assert!(edited.body["edited_at"].as_str().is_some(), "{}", edited.body);
    let (_, seen) = system.read(&path, &bob, &edited).await;
    assert_eq!(seen, edited.body, "the object the edit answered");
    assert_eq!(system.ids("/v1/tags/blues/posts", &bob).await, [post.as_str()]);
    assert!(system.ids("/v1/tags/jazz/posts", &bob).await.is_empty(), "the old tag lets go");
    assert_eq!(
        system.events_in(&format!("post#{post}")).await,
        2,
        "created, edited: the refused edit appended nothing"
    );
}

async fn a_deleted_post_is_gone_from_every_read_and_its_parents_count(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let root = system.posted(&ana, "root", "public").await;
    system.seen(&root, &bob).await;
    let reply =
        system.post(&bob, json!({ "text": "a reply #gone", "audience": "public", "reply_to": root })).await;
    let reply = reply.body["id"].as_str().unwrap().to_owned();
    system.read_until(&format!("/v1/posts/{root}"), &ana, |_, post| post["reply_count"] == 1).await;

    let path = format!("/v1/posts/{reply}");
    let refused = system.call(Method::DELETE, &path, &ana, None).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "only the author deletes: {}", refused.body);
    let deleted = system.call(Method::DELETE, &path, &bob, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let (status, _) = system.read(&path, &bob, &deleted).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone for its author too");
    let root_view =
        system.read_until(&format!("/v1/posts/{root}"), &ana, |_, post| post["reply_count"] == 0).await;
    assert_eq!(root_view["reply_count"], 0);
    assert!(system.ids(&format!("/v1/posts/{root}/replies"), &ana).await.is_empty());
    assert!(system.ids(&format!("/v1/accounts/{}/posts", bob.id), &ana).await.is_empty());
    assert!(system.ids("/v1/tags/gone/posts", &ana).await.is_empty());
    let again = system.call(Method::DELETE, &path, &bob, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "deleted once");
    let edit = system.call(Method::PATCH, &path, &bob, Some(&json!({ "text": "back" }))).await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND);
}

async fn an_account_writes_at_most_300_posts_and_edits_in_three_hours(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    // A refused post costs nothing of the allowance.
    let refused = system.post(&ana, json!({ "text": "x".repeat(2_001) })).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    // All but two of the allowance spent as the command spends it (the same throttle on the
    // same counters), then a post and an edit through HTTP take the last two.
    let throttle = huddle_content::write_throttle(system.running.events_table.clone());
    for _ in 2..huddle_content::WRITES_PER_ACCOUNT.max {
        assert!(throttle.take(&ana.id).await.unwrap().is_ok());
    }
    let last = system.posted(&ana, "the last", "public").await;
    let edit = json!({ "text": "the last, edited" });
    let edited = system.call(Method::PATCH, &format!("/v1/posts/{last}"), &ana, Some(&edit)).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);

    let over = system.post(&ana, json!({ "text": "one too many" })).await;
    assert_eq!(
        (over.status, code(&over.body)),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_writes"),
        "{}",
        over.body
    );
    let again = system.call(Method::PATCH, &format!("/v1/posts/{last}"), &ana, Some(&edit)).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "edits too: {}", again.body);
    // Another account's allowance is its own.
    assert_eq!(system.post(&bob, json!({ "text": "mine" })).await.status, StatusCode::CREATED);
}
