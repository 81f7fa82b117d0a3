//! Video threads: begun with a ready video of the owner's, joined by whom `joinable_by` lets (a
//! forbidden account 403, one that may not see the thread 404), entries removed by the owner or
//! the entrant, paged oldest first, liked exactly, hidden across a block, closed with `nobody`,
//! and an erased entrant's entries and likes gone.

use crate::likes::{twenty_likers, Liked};
use crate::{code, Answer, System, User};
use huddle_test_support::{on_both_families, Family};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

on_both_families!(
    a_thread_begins_with_a_ready_video_of_the_owners_and_nothing_else,
    thread_joins_by_a_permitted_and_a_forbidden_account,
    the_owner_removes_any_entry_and_an_entrant_only_its_own,
    a_threads_entries_page_oldest_first_over_every_cursor,
    an_accounts_threads_are_listed_newest_first_and_only_where_visible,
    a_block_hides_a_blocked_entrants_entries_and_their_likes,
    twenty_concurrent_likes_and_unlikes_of_an_entry_are_counted_exactly,
    closing_a_thread_to_nobody_refuses_new_entries_and_only_the_owner_changes_or_deletes_it,
    an_erased_entrants_entries_and_entry_likes_leave_and_the_count_follows,
    bad_thread_requests_are_refused_with_a_clear_error_and_change_nothing,
);

impl System {
    /// `POST /v1/threads` with `body`.
    async fn begin(&self, user: &User, body: Value) -> Answer {
        self.call(Method::POST, "/v1/threads", user, Some(&body)).await
    }

    /// A thread of `owner`'s with its video `media_id`, which must be created: its id. Lists are
    /// ordered by ULID: the next one is made a few milliseconds later.
    async fn thread(&self, owner: &User, media_id: &str, audience: &str, joinable_by: &str) -> String {
        let body = json!({ "title": "a story", "media_id": media_id, "audience": audience, "joinable_by": joinable_by });
        let answer = self.begin(owner, body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        tokio::time::sleep(Duration::from_millis(3)).await;
        answer.body["id"].as_str().unwrap().to_owned()
    }

    /// `POST /v1/threads/{thread}/entries` as `user` with its video `media_id`.
    async fn join(&self, user: &User, thread: &str, media_id: &str, text: &str) -> Answer {
        let body = json!({ "media_id": media_id, "text": text });
        let answer =
            self.call(Method::POST, &format!("/v1/threads/{thread}/entries"), user, Some(&body)).await;
        tokio::time::sleep(Duration::from_millis(3)).await;
        answer
    }

    /// An entry that must be added: its id.
    async fn joined(&self, user: &User, thread: &str, media_id: &str) -> String {
        let answer = self.join(user, thread, media_id, "me too").await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body["id"].as_str().unwrap().to_owned()
    }

    /// The thread's entries as `user` sees them, walking every cursor two at a time, and the
    /// thread as the last page showed it.
    async fn entries(&self, thread: &str, user: &User) -> (Vec<String>, Value) {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(cursor) => format!("/v1/threads/{thread}?limit=2&cursor={cursor}"),
                None => format!("/v1/threads/{thread}?limit=2"),
            };
            let (status, page) = self.get(&path, &user.token).await;
            assert_eq!(status, StatusCode::OK, "{path}: {page}");
            let entries = page["entries"].as_array().unwrap();
            ids.extend(entries.iter().map(|entry| entry["id"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return (ids, page["thread"].clone()),
            }
        }
    }

    /// Waits until `user` sees the thread's entries as `expected`: the thread as it then is.
    async fn entries_become(&self, thread: &str, user: &User, expected: &[&str]) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (ids, shown) = self.entries(thread, user).await;
            if ids == expected {
                return shown;
            }
            assert!(Instant::now() < deadline, "{thread}'s entries stayed {ids:?}, not {expected:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The thread page as `user` sees it once it is projected.
    async fn thread_seen(&self, thread: &str, user: &User) -> Value {
        self.read_until(&format!("/v1/threads/{thread}"), user, |status, _| status == StatusCode::OK).await
    }
}

/// The fields a 422 names.
fn fields(body: &Value) -> Vec<String> {
    let details = body["error"]["details"].as_array().cloned().unwrap_or_default();
    details.iter().map(|detail| detail["field"].as_str().unwrap_or_default().to_owned()).collect()
}

/// A thread's view without its video's presigned URL, which is signed anew for each answer.
fn unsigned(thread: &Value) -> Value {
    let mut thread = thread.clone();
    thread["media"]["url"] = Value::Null;
    thread
}

fn entry_path(thread: &str, entry: &str) -> String {
    format!("/v1/threads/{thread}/entries/{entry}")
}

async fn a_thread_begins_with_a_ready_video_of_the_owners_and_nothing_else(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let (video, image, bobs_video) =
        (system.ready_video(&ana).await, system.ready_image(&ana).await, system.ready_video(&bob).await);

    let begun = system.begin(&ana, json!({ "title": "Summer 🇸🇪", "media_id": video })).await;
    assert_eq!(begun.status, StatusCode::CREATED, "{}", begun.body);
    let thread = &begun.body;
    assert!(thread["id"].as_str().is_some_and(|id| id.starts_with("thr_")), "{thread}");
    assert_eq!(
        (&thread["owner"], &thread["title"], &thread["audience"], &thread["joinable_by"]),
        (&json!(ana.id), &json!("Summer 🇸🇪"), &json!("followers"), &json!("followers")),
        "the defaults: {thread}"
    );
    assert_eq!((&thread["entry_count"], &thread["may_join"]), (&json!(0), &json!(true)), "{thread}");
    assert_eq!(thread["media"]["id"], json!(video), "{thread}");
    assert_eq!(thread["media"]["kind"], "video", "{thread}");
    let (_, page) =
        system.read(&format!("/v1/threads/{}", thread["id"].as_str().unwrap()), &ana, &begun).await;
    assert_eq!(
        (unsigned(&page["thread"]), &page["entries"]),
        (unsigned(thread), &json!([])),
        "GET shows what POST answered"
    );

    for (media_id, why) in
        [(&image, "an image"), (&bobs_video, "another's video"), (&"med_nope".to_owned(), "no id")]
    {
        let refused = system.begin(&ana, json!({ "title": "no", "media_id": media_id })).await;
        assert_eq!(
            (refused.status, code(&refused.body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            "{why}: {}",
            refused.body
        );
        assert_eq!(fields(&refused.body), ["media_id"], "{why}: {}", refused.body);
    }
    let threads = format!("/v1/accounts/{}/threads", ana.id);
    let (_, listed) = system.read(&threads, &ana, &begun).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "nothing else began: {listed}");
}

async fn thread_joins_by_a_permitted_and_a_forbidden_account(family: Family) {
    let system = System::start(family).await;
    let (ana, bob, cyd) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    system.follows(&bob, &ana).await;
    let (anas, bobs, cyds) =
        (system.ready_video(&ana).await, system.ready_video(&bob).await, system.ready_video(&cyd).await);

    // Public, joinable by followers: bob follows, cyd only sees it.
    let open = system.thread(&ana, &anas, "public", "followers").await;
    assert_eq!(system.thread_seen(&open, &cyd).await["thread"]["may_join"], false);
    assert_eq!(system.thread_seen(&open, &bob).await["thread"]["may_join"], true);
    let joined = system.join(&bob, &open, &bobs, "me too").await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    assert_eq!(
        (&joined.body["thread_id"], &joined.body["author"], &joined.body["text"], &joined.body["like_count"]),
        (&json!(open), &json!(bob.id), &json!("me too"), &json!(0)),
        "{}",
        joined.body
    );
    assert_eq!(joined.body["media"]["id"], json!(bobs), "{}", joined.body);
    let forbidden = system.join(&cyd, &open, &cyds, "let me in").await;
    assert_eq!(
        (forbidden.status, code(&forbidden.body)),
        (StatusCode::FORBIDDEN, "not_joinable"),
        "{}",
        forbidden.body
    );
    let bobs_entry = joined.body["id"].as_str().unwrap();
    let shown = system.entries_become(&open, &cyd, &[bobs_entry]).await;
    assert_eq!(shown["entry_count"], 1, "the refused join added nothing: {shown}");

    // Friends only: a stranger, and a follower who is no friend, find no thread at all.
    let friends = system.thread(&ana, &anas, "friends", "audience").await;
    system.thread_seen(&friends, &ana).await;
    let (_, missing) = system.get("/v1/threads/thr_01JAAAAAAAAAAAAAAAAAAAAAAA", &cyd.token).await;
    for (viewer, video) in [(&cyd, &cyds), (&bob, &bobs)] {
        let (status, body) = system.get(&format!("/v1/threads/{friends}"), &viewer.token).await;
        assert_eq!((status, &body), (StatusCode::NOT_FOUND, &missing), "invisible and missing look the same");
        let refused = system.join(viewer, &friends, video, "").await;
        assert_eq!(
            (refused.status, code(&refused.body)),
            (StatusCode::NOT_FOUND, "not_found"),
            "{}",
            refused.body
        );
    }

    // Nobody: only the owner adds.
    let closed = system.thread(&ana, &anas, "public", "nobody").await;
    system.thread_seen(&closed, &bob).await;
    let refused = system.join(&bob, &closed, &bobs, "").await;
    assert_eq!(
        (refused.status, code(&refused.body)),
        (StatusCode::FORBIDDEN, "not_joinable"),
        "{}",
        refused.body
    );
    let own = system.join(&ana, &closed, &anas, "").await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.body);
    let (_, page) = system.read(&format!("/v1/threads/{closed}"), &bob, &own).await;
    assert_eq!(page["thread"]["entry_count"], 1, "{page}");
    assert_eq!(page["entries"][0]["author"], json!(ana.id), "{page}");
}

async fn the_owner_removes_any_entry_and_an_entrant_only_its_own(family: Family) {
    let system = System::start(family).await;
    let (ana, bob, cyd) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    let (anas, bobs, cyds) =
        (system.ready_video(&ana).await, system.ready_video(&bob).await, system.ready_video(&cyd).await);
    let thread = system.thread(&ana, &anas, "public", "audience").await;
    let other = system.thread(&ana, &anas, "public", "audience").await;
    system.thread_seen(&thread, &bob).await;
    let (bobs_entry, cyds_entry) =
        (system.joined(&bob, &thread, &bobs).await, system.joined(&cyd, &thread, &cyds).await);
    system.entries_become(&thread, &cyd, &[&bobs_entry, &cyds_entry]).await;

    let remove = |user: &User, thread: &str, entry: &str| {
        let path = entry_path(thread, entry);
        let user = user.clone();
        let system = &system;
        async move { system.call(Method::DELETE, &path, &user, None).await }
    };
    let third = remove(&cyd, &thread, &bobs_entry).await;
    assert_eq!((third.status, code(&third.body)), (StatusCode::NOT_FOUND, "not_found"), "{}", third.body);
    let elsewhere = remove(&bob, &other, &bobs_entry).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND, "an entry is removed under its own thread only");
    assert_eq!(remove(&bob, &thread, &bobs_entry).await.status, StatusCode::NO_CONTENT, "an entrant's own");
    assert_eq!(remove(&ana, &thread, &cyds_entry).await.status, StatusCode::NO_CONTENT, "the owner's thread");
    let again = remove(&ana, &thread, &cyds_entry).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "a removed entry is gone");
    let shown = system.entries_become(&thread, &bob, &[]).await;
    assert_eq!(shown["entry_count"], 0, "{shown}");
}

async fn a_threads_entries_page_oldest_first_over_every_cursor(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let (anas, bobs) = (system.ready_video(&ana).await, system.ready_video(&bob).await);
    let thread = system.thread(&ana, &anas, "public", "audience").await;
    system.thread_seen(&thread, &bob).await;
    let mut added = Vec::new();
    for n in 0..5 {
        let (user, video) = if n % 2 == 0 { (&bob, &bobs) } else { (&ana, &anas) };
        added.push(system.joined(user, &thread, video).await);
    }
    let expected: Vec<&str> = added.iter().map(String::as_str).collect();
    let shown = system.entries_become(&thread, &bob, &expected).await;
    assert_eq!(shown["entry_count"], 5, "{shown}");
}

async fn an_accounts_threads_are_listed_newest_first_and_only_where_visible(family: Family) {
    let system = System::start(family).await;
    let (ana, bob, cyd) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    system.follows(&bob, &ana).await;
    let anas = system.ready_video(&ana).await;
    let public = system.thread(&ana, &anas, "public", "nobody").await;
    let followers = system.thread(&ana, &anas, "followers", "followers").await;
    let close = system.thread(&ana, &anas, "close_friends", "audience").await;

    let path = format!("/v1/accounts/{}/threads", ana.id);
    system.list_becomes(&path, &ana, &[&close, &followers, &public]).await;
    system.list_becomes(&path, &bob, &[&followers, &public]).await;
    system.list_becomes(&path, &cyd, &[&public]).await;
    let (_, page) = system.get(&path, &bob.token).await;
    let may_join: Vec<&Value> =
        page["items"].as_array().unwrap().iter().map(|thread| &thread["may_join"]).collect();
    assert_eq!(
        may_join,
        [&json!(true), &json!(false)],
        "a follower joins the followers' thread only: {page}"
    );
}

async fn a_block_hides_a_blocked_entrants_entries_and_their_likes(family: Family) {
    let system = System::start(family).await;
    let (ana, bob, cyd, dan) = (
        system.user("ana").await,
        system.user("bob").await,
        system.user("cyd").await,
        system.user("dan").await,
    );
    let (anas, bobs, cyds) =
        (system.ready_video(&ana).await, system.ready_video(&bob).await, system.ready_video(&cyd).await);
    let thread = system.thread(&ana, &anas, "public", "audience").await;
    system.thread_seen(&thread, &cyd).await;
    let (bobs_entry, cyds_entry) =
        (system.joined(&bob, &thread, &bobs).await, system.joined(&cyd, &thread, &cyds).await);
    system.entries_become(&thread, &dan, &[&bobs_entry, &cyds_entry]).await;

    system.blocks(&dan, &cyd).await;
    system.entries_become(&thread, &dan, &[&bobs_entry]).await;
    system.entries_become(&thread, &bob, &[&bobs_entry, &cyds_entry]).await;
    let like = |entry: &str| format!("{}/like", entry_path(&thread, entry));
    let refused = system.call(Method::PUT, &like(&cyds_entry), &dan, None).await;
    assert_eq!(
        (refused.status, code(&refused.body)),
        (StatusCode::NOT_FOUND, "not_found"),
        "{}",
        refused.body
    );
    assert_eq!(system.events_in(&format!("like#{cyds_entry}#{}", dan.id)).await, 0, "nothing appended");
    let liked = system.call(Method::PUT, &like(&bobs_entry), &dan, None).await;
    assert_eq!(liked.status, StatusCode::OK, "{}", liked.body);
    // The owner blocking an entrant takes its entries out of the thread for everyone (the owner
    // could neither see nor remove them).
    system.blocks(&ana, &bob).await;
    system.entries_become(&thread, &dan, &[]).await;
    system.entries_become(&thread, &cyd, &[&cyds_entry]).await;
    let refused = system.call(Method::PUT, &like(&bobs_entry), &dan, None).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    // The blocked side sees nothing of the blocker's either.
    let dans = system.ready_video(&dan).await;
    let dans_thread = system.thread(&dan, &dans, "public", "audience").await;
    system.thread_seen(&dans_thread, &bob).await;
    let (status, _) = system.get(&format!("/v1/threads/{dans_thread}"), &cyd.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let joined = system.join(&cyd, &dans_thread, &cyds, "").await;
    assert_eq!(joined.status, StatusCode::NOT_FOUND, "{}", joined.body);
}

async fn twenty_concurrent_likes_and_unlikes_of_an_entry_are_counted_exactly(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let (anas, bobs) = (system.ready_video(&ana).await, system.ready_video(&bob).await);
    let thread = system.thread(&ana, &anas, "public", "audience").await;
    system.thread_seen(&thread, &bob).await;
    let entry = system.joined(&bob, &thread, &bobs).await;
    let likers = twenty_likers(&system).await;
    system.entries_become(&thread, &likers[0], &[&entry]).await;
    let like = format!("{}/like", entry_path(&thread, &entry));
    let liked = Liked { item: &entry, like, view: format!("/v1/threads/{thread}"), at: "/entries/0" };
    liked.counted_exactly(&system, &ana, &likers).await;
}

async fn closing_a_thread_to_nobody_refuses_new_entries_and_only_the_owner_changes_or_deletes_it(
    family: Family,
) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    system.follows(&bob, &ana).await;
    let (anas, bobs) = (system.ready_video(&ana).await, system.ready_video(&bob).await);
    let thread = system.thread(&ana, &anas, "followers", "followers").await;
    system.thread_seen(&thread, &bob).await;
    let path = format!("/v1/threads/{thread}");
    let bobs_entry = system.joined(&bob, &thread, &bobs).await;

    let change = |user: &User, body: Value| {
        let (user, path, system) = (user.clone(), path.clone(), &system);
        async move { system.call(Method::PATCH, &path, &user, Some(&body)).await }
    };
    let not_owner = change(&bob, json!({ "joinable_by": "audience" })).await;
    assert_eq!((not_owner.status, code(&not_owner.body)), (StatusCode::NOT_FOUND, "not_found"));
    for (body, field) in [
        (json!({}), "title"),
        (json!({ "title": "x".repeat(101) }), "title"),
        (json!({ "title": " " }), "title"),
    ] {
        let refused = change(&ana, body.clone()).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", refused.body);
        assert_eq!(fields(&refused.body), [field], "{}", refused.body);
    }
    let closed = change(&ana, json!({ "joinable_by": "nobody" })).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!((&closed.body["joinable_by"], &closed.body["title"]), (&json!("nobody"), &json!("a story")));
    assert!(closed.body["edited_at"].is_string(), "{}", closed.body);
    let (_, page) = system.read(&path, &bob, &closed).await;
    assert_eq!(page["thread"]["may_join"], false, "{page}");
    let refused = system.join(&bob, &thread, &bobs, "").await;
    assert_eq!(
        (refused.status, code(&refused.body)),
        (StatusCode::FORBIDDEN, "not_joinable"),
        "{}",
        refused.body
    );
    let renamed = change(&ana, json!({ "title": "the end" })).await;
    assert_eq!((&renamed.body["title"], &renamed.body["joinable_by"]), (&json!("the end"), &json!("nobody")));
    let (_, page) = system.read(&path, &bob, &renamed).await;
    assert_eq!(
        (&page["thread"]["title"], &page["thread"]["entry_count"]),
        (&json!("the end"), &json!(1)),
        "{page}"
    );

    let not_yours = system.call(Method::DELETE, &path, &bob, None).await;
    assert_eq!(not_yours.status, StatusCode::NOT_FOUND);
    let deleted = system.call(Method::DELETE, &path, &ana, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let (status, _) = system.read(&path, &bob, &deleted).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a deleted thread is gone");
    let (_, listed) = system.read(&format!("/v1/accounts/{}/threads", ana.id), &ana, &deleted).await;
    assert_eq!(listed["items"], json!([]), "{listed}");
    let late = system.join(&ana, &thread, &anas, "").await;
    assert_eq!(late.status, StatusCode::NOT_FOUND, "{}", late.body);
    let like =
        system.call(Method::PUT, &format!("{}/like", entry_path(&thread, &bobs_entry)), &ana, None).await;
    assert_eq!(like.status, StatusCode::NOT_FOUND, "its entries went with it: {}", like.body);
}

async fn an_erased_entrants_entries_and_entry_likes_leave_and_the_count_follows(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let (anas, bobs) = (system.ready_video(&ana).await, system.ready_video(&bob).await);
    let thread = system.thread(&ana, &anas, "public", "audience").await;
    let bobs_thread = system.thread(&bob, &bobs, "public", "audience").await;
    system.thread_seen(&thread, &bob).await;
    // Three of bob's entries in one thread (one erasure step each), one of ana's, a like each way.
    let mut bobs_entries = Vec::new();
    for _ in 0..3 {
        bobs_entries.push(system.joined(&bob, &thread, &bobs).await);
    }
    let anas_entry = system.joined(&ana, &thread, &anas).await;
    for (liker, entry) in [(&ana, &bobs_entries[0]), (&bob, &anas_entry)] {
        let liked =
            system.call(Method::PUT, &format!("{}/like", entry_path(&thread, entry)), liker, None).await;
        assert_eq!(liked.status, StatusCode::OK, "{}", liked.body);
    }
    let path = format!("/v1/threads/{thread}");
    system
        .read_until(&path, &ana, |_, page| {
            page["thread"]["entry_count"] == 4 && page["entries"][3]["like_count"] == 1
        })
        .await;

    system.erase(&bob).await;
    // The erasure's mark hides bob's entries at once; the count follows its steps.
    system.entries_become(&thread, &ana, &[&anas_entry]).await;
    system
        .read_until(&path, &ana, |_, page| {
            page["thread"]["entry_count"] == 1 && page["entries"][0]["like_count"] == 0
        })
        .await;
    system.list_becomes(&format!("/v1/accounts/{}/threads", bob.id), &ana, &[]).await;
    let (status, _) = system.get(&format!("/v1/threads/{bobs_thread}"), &ana.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "bob's own thread went too");
}

async fn bad_thread_requests_are_refused_with_a_clear_error_and_change_nothing(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let video = system.ready_video(&ana).await;
    let refused: Vec<(Value, &[&str])> = vec![
        (json!({ "title": "", "media_id": video }), &["title"]),
        (json!({ "title": "\u{7}", "media_id": video }), &["title"]),
        (json!({ "title": "x".repeat(101), "media_id": video }), &["title"]),
        (json!({ "title": "x".repeat(2_000), "media_id": "nope" }), &["title", "media_id"]),
    ];
    for (body, expected) in refused {
        let answer = system.begin(&ana, body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
        assert_eq!(fields(&answer.body), *expected, "{}", answer.body);
    }
    let huge = system.begin(&ana, json!({ "title": "x".repeat(100_000), "media_id": video })).await;
    assert_eq!(
        (huge.status, code(&huge.body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        "{}",
        huge.body
    );
    for body in [
        json!({ "title": "hi", "media_id": video, "colour": "red" }),
        json!({ "title": "hi", "media_id": video, "joinable_by": "everyone" }),
        json!({ "title": "hi", "media_id": video, "audience": "world" }),
        json!({ "title": 5, "media_id": video }),
        json!({ "media_id": video }),
    ] {
        let answer = system.begin(&ana, body.clone()).await;
        assert_eq!(
            (answer.status, code(&answer.body)),
            (StatusCode::BAD_REQUEST, "malformed_json"),
            "{body}: {}",
            answer.body
        );
    }
    let thread = system.thread(&ana, &video, "public", "audience").await;
    system.thread_seen(&thread, &bob).await;
    let bobs = system.ready_video(&bob).await;
    let entries = format!("/v1/threads/{thread}/entries");
    for (body, status) in [
        (json!({ "media_id": bobs, "text": "x".repeat(2_001) }), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({ "media_id": video }), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({ "media_id": bobs, "mood": "happy" }), StatusCode::BAD_REQUEST),
        (json!({ "text": "no video" }), StatusCode::BAD_REQUEST),
    ] {
        let answer = system.call(Method::POST, &entries, &bob, Some(&body)).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        assert!(code(&answer.body).len() > 1, "a JSON error: {}", answer.body);
    }
    for (method, path) in [
        (Method::GET, "/v1/threads/pst_01JAAAAAAAAAAAAAAAAAAAAAAA".to_owned()),
        (Method::GET, "/v1/threads/thr_1".to_owned()),
        (Method::POST, "/v1/threads/thr_x/entries".to_owned()),
        (Method::DELETE, format!("/v1/threads/{thread}/entries/pst_01JAAAAAAAAAAAAAAAAAAAAAAA")),
        (Method::PUT, format!("/v1/threads/{thread}/entries/ent_nope/like")),
        (Method::PUT, format!("/v1/threads/{thread}/entries/ent_01JAAAAAAAAAAAAAAAAAAAAAAA/like")),
        (Method::DELETE, "/v1/threads/nope/entries/ent_01JAAAAAAAAAAAAAAAAAAAAAAA/like".to_owned()),
        (Method::GET, "/v1/accounts/nope/threads".to_owned()),
    ] {
        let body = (method == Method::POST).then(|| json!({ "media_id": bobs }));
        let answer = system.call(method.clone(), &path, &bob, body.as_ref()).await;
        assert_eq!(
            (answer.status, code(&answer.body)),
            (StatusCode::NOT_FOUND, "not_found"),
            "{method} {path}: {}",
            answer.body
        );
    }
    for page in ["?limit=0", "?limit=101", "?cursor=forged"] {
        let (status, body) = system.get(&format!("/v1/threads/{thread}{page}"), &bob.token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}: {body}");
    }
    // Nothing of it landed: the one thread made is the only one, with no entry.
    let (_, listed) = system.get(&format!("/v1/accounts/{}/threads", ana.id), &ana.token).await;
    let ids: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [thread.as_str()], "{listed}");
    assert_eq!(listed["items"][0]["entry_count"], 0, "{listed}");
}
