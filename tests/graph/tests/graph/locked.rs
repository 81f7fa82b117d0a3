//! Locked accounts: a follow becomes a request the account answers, and its lists are its
//! followers' only.

use crate::{code, relationship, Answer, System, User};
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;
use serde_json::json;

on_both_families!(
    a_follow_of_a_locked_account_waits_for_its_answer,
    a_request_can_be_rejected_or_taken_back_and_only_a_pending_one_answered,
    a_locked_accounts_lists_are_its_followers_only,
);

async fn lock(system: &System, user: &User, locked: bool) -> Answer {
    let response = system
        .client
        .patch(system.url("/v1/me"))
        .bearer_auth(&user.token)
        .json(&json!({ "locked": locked }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    Answer { status, body, consistency: None }
}

async fn a_follow_of_a_locked_account_waits_for_its_answer(family: Family) {
    let system = System::start(family).await;
    let (ana, bo) = (system.user("ana").await, system.user("bob").await);
    lock(&system, &bo, true).await;
    // At once: the lock is read from bo's account stream, not from what was projected.
    let asked = system.put(&format!("/v1/me/following/{}", bo.id), &ana).await;
    assert_eq!(asked.body, relationship(&bo.id, &["requested"], None));
    let (_, requests) = system.read("/v1/me/follow-requests", &bo, &asked).await;
    assert_eq!(requests["items"][0]["id"], json!(ana.id), "{requests}");
    assert_eq!(system.counts(&bo).await, (0, 0), "a request is no follow");

    let accepted = system.post(&format!("/v1/me/follow-requests/{}/accept", ana.id), &bo).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.body, relationship(&ana.id, &["followed_by"], None));
    let (_, requests) = system.read("/v1/me/follow-requests", &bo, &accepted).await;
    assert_eq!(requests["items"], json!([]));
    assert_eq!(system.ids(&format!("/v1/accounts/{}/followers", bo.id), &ana).await, [ana.id.as_str()]);
    assert_eq!(system.counts(&bo).await, (1, 0));

    // Unlocked, follows land at once again.
    lock(&system, &bo, false).await;
    let cy = system.user("cyd").await;
    let followed = system.put(&format!("/v1/me/following/{}", bo.id), &cy).await;
    assert_eq!(followed.body, relationship(&bo.id, &["following"], None));
}

async fn a_request_can_be_rejected_or_taken_back_and_only_a_pending_one_answered(family: Family) {
    let system = System::start(family).await;
    let (ana, bo, cy) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    lock(&system, &bo, true).await;
    system.put(&format!("/v1/me/following/{}", bo.id), &ana).await;
    system.put(&format!("/v1/me/following/{}", bo.id), &cy).await;

    let rejected = system.post(&format!("/v1/me/follow-requests/{}/reject", ana.id), &bo).await;
    assert_eq!(rejected.status, StatusCode::NO_CONTENT, "{}", rejected.body);
    let withdrawn = system.delete(&format!("/v1/me/following/{}", bo.id), &cy).await;
    assert_eq!(withdrawn.status, StatusCode::NO_CONTENT);
    system.relationship_becomes(&ana, &bo, &relationship(&bo.id, &[], None)).await;
    system.relationship_becomes(&cy, &bo, &relationship(&bo.id, &[], None)).await;
    assert!(system.ids("/v1/me/follow-requests", &bo).await.is_empty());

    for answer in ["accept", "reject"] {
        let late = system.post(&format!("/v1/me/follow-requests/{}/{answer}", ana.id), &bo).await;
        assert_eq!((late.status, code(&late.body)), (StatusCode::NOT_FOUND, "not_found"), "{}", late.body);
    }
    // Only the followee answers: ana cannot accept her own request to bo.
    system.put(&format!("/v1/me/following/{}", bo.id), &ana).await;
    let own = system.post(&format!("/v1/me/follow-requests/{}/accept", bo.id), &ana).await;
    assert_eq!(own.status, StatusCode::NOT_FOUND, "{}", own.body);
    assert_eq!(system.relationship(&bo, &ana).await["followed_by"], json!(false));
}

async fn a_locked_accounts_lists_are_its_followers_only(family: Family) {
    let system = System::start(family).await;
    let (ana, bo, cy) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    system.put(&format!("/v1/me/following/{}", bo.id), &ana).await;
    lock(&system, &bo, true).await;
    let path = format!("/v1/accounts/{}/followers", bo.id);
    // The graph learns of the lock through its projection.
    system.eventually(&path, &cy.token, |status, _| status == StatusCode::FORBIDDEN).await;
    let (status, body) = system.get(&path, &cy.token).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "locked"), "{body}");
    assert_eq!(system.get(&path, &ana.token).await.0, StatusCode::OK, "a follower sees them");
    assert_eq!(system.get(&path, &bo.token).await.0, StatusCode::OK, "the account itself does");
}
