//! Mutes, tiers and `GET /v1/me/relationships`.

use crate::{code, relationship, System};
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;
use serde_json::json;

on_both_families!(
    a_mute_keeps_the_follow_and_lists_the_muted,
    tiers_nest_and_a_member_leaves_the_narrower_ones_with_the_tier,
    relationships_answer_each_id_once_in_order_and_refuse_bad_lists,
);

async fn a_mute_keeps_the_follow_and_lists_the_muted(family: Family) {
    let system = System::start(family).await;
    let (ana, bo) = (system.user("ana").await, system.user("bob").await);
    system.put(&format!("/v1/me/following/{}", bo.id), &ana).await;
    let muted = system.put(&format!("/v1/me/mutes/{}", bo.id), &ana).await;
    assert_eq!(muted.body, relationship(&bo.id, &["following", "muting"], None));
    let (_, mutes) = system.read("/v1/me/mutes", &ana, &muted).await;
    assert_eq!(mutes["items"][0]["id"], json!(bo.id));
    assert!(mutes["items"][0]["since"].is_string(), "{mutes}");
    let unmuted = system.delete(&format!("/v1/me/mutes/{}", bo.id), &ana).await;
    assert_eq!(unmuted.status, StatusCode::NO_CONTENT);
    system.relationship_becomes(&ana, &bo, &relationship(&bo.id, &["following"], None)).await;
    assert!(system.ids("/v1/me/mutes", &ana).await.is_empty());
}

async fn tiers_nest_and_a_member_leaves_the_narrower_ones_with_the_tier(family: Family) {
    let system = System::start(family).await;
    let (ana, bo, cy) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    // Added before following: the tier is set, and shows once bo follows.
    let added = system.put(&format!("/v1/me/audiences/close_friends/{}", bo.id), &ana).await;
    assert_eq!(added.body, relationship(&bo.id, &[], Some("close_friends")));
    let widened = system.put(&format!("/v1/me/audiences/acquaintances/{}", bo.id), &ana).await;
    assert_eq!(widened.body["tier"], json!("close_friends"), "a close friend is an acquaintance already");
    system.put(&format!("/v1/me/audiences/friends/{}", cy.id), &ana).await;
    system.relationship_becomes(&ana, &cy, &relationship(&cy.id, &[], Some("friends"))).await;
    system.relationship_becomes(&ana, &bo, &relationship(&bo.id, &[], Some("close_friends"))).await;
    assert_eq!(system.ids("/v1/me/audiences/close_friends", &ana).await, [bo.id.as_str()]);
    assert_eq!(system.ids("/v1/me/audiences/friends", &ana).await, [cy.id.clone(), bo.id.clone()]);
    assert_eq!(system.ids("/v1/me/audiences/acquaintances", &ana).await, [cy.id.clone(), bo.id.clone()]);

    let removed = system.delete(&format!("/v1/me/audiences/friends/{}", bo.id), &ana).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    system.relationship_becomes(&ana, &bo, &relationship(&bo.id, &[], Some("acquaintances"))).await;
    assert!(system.ids("/v1/me/audiences/close_friends", &ana).await.is_empty());
    assert_eq!(system.ids("/v1/me/audiences/friends", &ana).await, [cy.id.as_str()]);

    for bad in ["besties", "followers", "public", "Friends"] {
        let answer = system.put(&format!("/v1/me/audiences/{bad}/{}", bo.id), &ana).await;
        assert_eq!((answer.status, code(&answer.body)), (StatusCode::NOT_FOUND, "not_found"), "{bad}");
    }
    let own = system.put(&format!("/v1/me/audiences/friends/{}", ana.id), &ana).await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn relationships_answer_each_id_once_in_order_and_refuse_bad_lists(family: Family) {
    let system = System::start(family).await;
    let (ana, bo, cy) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    let followed = system.put(&format!("/v1/me/following/{}", cy.id), &ana).await;
    let unknown = "acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6";
    let path = format!("/v1/me/relationships?ids={},{},{},{unknown}", cy.id, bo.id, cy.id);
    let (status, body) = system.read(&path, &ana, &followed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected = json!([
        relationship(&cy.id, &["following"], None),
        relationship(&bo.id, &[], None),
        relationship(unknown, &[], None),
    ]);
    assert_eq!(body["items"], expected);

    let forty_one = vec![unknown; 41].join(",");
    let many: Vec<String> = (0..41).map(|n| format!("acc_01JB8Y3T7Q5ZV1F0C2D3E4G5{n:02}")).collect();
    for bad in ["".to_owned(), "not-an-id".to_owned(), format!("{},x", bo.id), many.join(",")] {
        let (status, body) = system.get(&format!("/v1/me/relationships?ids={bad}"), &ana.token).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "invalid_ids"), "{bad:.60}: {body}");
    }
    let (status, _) = system.get(&format!("/v1/me/relationships?ids={forty_one}"), &ana.token).await;
    assert_eq!(status, StatusCode::OK, "one id forty-one times is one id");
    let (status, _) = system.get("/v1/me/relationships", &ana.token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
