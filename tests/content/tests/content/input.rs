//! Bad input: refused with a clear error (400 for what is not the shape, 422 for what Huddle does
//! not take, 404 for what names nothing the caller may see), and nothing is appended.

use crate::{code, System};
use huddle_test_support::{on_both_families, Family};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_families!(bad_posts_are_refused_with_a_clear_error_and_change_nothing);

/// The fields a 422 names.
fn fields(body: &Value) -> Vec<String> {
    let details = body["error"]["details"].as_array().cloned().unwrap_or_default();
    details.iter().map(|detail| detail["field"].as_str().unwrap_or_default().to_owned()).collect()
}

async fn bad_posts_are_refused_with_a_clear_error_and_change_nothing(family: Family) {
    let system = System::start(family).await;
    let (ana, bob) = (system.user("ana").await, system.user("bob").await);
    let bobs_image = system.ready_image(&bob).await;
    let media = |n: usize| (0..n).map(|i| format!("med_01J{i:023}")).collect::<Vec<_>>();
    let refused: Vec<(Value, &[&str])> = vec![
        (json!({ "text": "x".repeat(2_001) }), &["text"]),
        (json!({ "text": "" }), &["text"]),
        (json!({}), &["text"]),
        (json!({ "text": "hi", "media_ids": media(11) }), &["media_ids"]),
        (json!({ "text": "hi", "media_ids": ["med_x", bobs_image] }), &["media_ids[0]"]),
        (json!({ "text": "hi", "media_ids": [media(1)[0], bobs_image] }), &["media_ids[0]", "media_ids[1]"]),
        (json!({ "text": "x".repeat(2_001), "media_ids": ["nope"] }), &["text", "media_ids[0]"]),
        (json!({ "text": (0..11).map(|n| format!("#t{n}")).collect::<Vec<_>>().join(" ") }), &["text"]),
    ];
    for (body, expected) in refused {
        let answer = system.post(&ana, body.clone()).await;
        assert_eq!(
            (answer.status, code(&answer.body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            "{body}: {}",
            answer.body
        );
        assert_eq!(fields(&answer.body), *expected, "{}", answer.body);
    }
    for body in [
        json!({ "text": "hi", "audience": "everyone" }),
        json!({ "text": "hi", "colour": "red" }),
        json!({ "text": 5 }),
    ] {
        let answer = system.post(&ana, body.clone()).await;
        assert_eq!(
            (answer.status, code(&answer.body)),
            (StatusCode::BAD_REQUEST, "malformed_json"),
            "{body}: {}",
            answer.body
        );
    }
    let not_json = system
        .client
        .post(system.url("/v1/posts"))
        .bearer_auth(&ana.token)
        .body("{text")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    for reply_to in ["pst_nope", "pst_01JAAAAAAAAAAAAAAAAAAAAAAA"] {
        let answer = system.post(&ana, json!({ "text": "hi", "reply_to": reply_to })).await;
        assert_eq!(
            (answer.status, code(&answer.body)),
            (StatusCode::NOT_FOUND, "not_found"),
            "{}",
            answer.body
        );
    }
    for path in ["/v1/posts/acc_01JAAAAAAAAAAAAAAAAAAAAAAA", "/v1/posts/pst_1", "/v1/tags/caf%C3%A9/posts"] {
        let (status, body) = system.get(path, &ana.token).await;
        assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{path}: {body}");
    }
    let posts = format!("/v1/accounts/{}/posts", ana.id);
    for page in ["?limit=0", "?limit=101", "?cursor=forged"] {
        let (status, body) = system.get(&format!("{posts}{page}"), &ana.token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}: {body}");
    }
    let edit = system
        .call(Method::PATCH, "/v1/posts/pst_01JAAAAAAAAAAAAAAAAAAAAAAA", &ana, Some(&json!({ "text": "x" })))
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND);

    // Nothing of it landed: the one post that is made is the only one listed.
    let made = system.post(&ana, json!({ "text": "fine" })).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let (_, listed) = system.read(&posts, &ana, &made).await;
    let ids: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|post| post["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [made.body["id"].as_str().unwrap()], "{listed}");
    assert_eq!(made.body["audience"], "followers", "the default audience");
}
