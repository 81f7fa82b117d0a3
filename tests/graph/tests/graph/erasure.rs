//! An erased account leaves the graph: every list, count, tier and request it was in, both
//! ways, a page of relationships at a time.

use crate::{code, relationship, System, User};
use huddle_graph::projection::ERASURE_PAGE;
use huddle_test_support::system::PASSWORD;
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;
use serde_json::json;

on_both_families!(an_erased_account_leaves_every_list_count_tier_and_request);

async fn erase(system: &System, user: &User) {
    let request = system
        .client
        .delete(system.url("/v1/me"))
        .bearer_auth(&user.token)
        .json(&json!({ "password": PASSWORD }));
    let (status, body) = system.send(request).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

async fn an_erased_account_leaves_every_list_count_tier_and_request(family: Family) {
    let system = System::start(family).await;
    let (ana, bob, cyd, dan) = (
        system.user("ana").await,
        system.user("bob").await,
        system.user("cyd").await,
        system.user("dan").await,
    );
    let to = |user: &User, path: &str| format!("{path}/{}", user.id);
    // Both ways with ana: follows, a tier, a mute; cyd asks bob (locked) and bob asked dan (locked).
    system.put(&to(&bob, "/v1/me/following"), &ana).await;
    system.put(&to(&ana, "/v1/me/following"), &bob).await;
    system.put(&to(&bob, "/v1/me/audiences/close_friends"), &ana).await;
    system.put(&to(&ana, "/v1/me/audiences/friends"), &bob).await;
    system.put(&to(&bob, "/v1/me/mutes"), &ana).await;
    system.put(&to(&bob, "/v1/me/blocks"), &cyd).await;
    let lock = json!({ "locked": true });
    for user in [&dan] {
        let request = system.client.patch(system.url("/v1/me")).bearer_auth(&user.token).json(&lock);
        assert_eq!(system.send(request).await.0, StatusCode::OK);
    }
    system.put(&to(&dan, "/v1/me/following"), &bob).await;
    // With ana, more followers than one erasure step ends.
    let mut fans = Vec::new();
    for n in 0..ERASURE_PAGE + 3 {
        let fan = system.user(&format!("fan{n:02}")).await;
        system.put(&to(&bob, "/v1/me/following"), &fan).await;
        fans.push(fan);
    }
    let followers = to(&bob, "/v1/accounts").to_owned() + "/followers";
    system
        .eventually(&followers, &ana.token, |_, page| {
            page["items"].as_array().is_some_and(|items| items.len() == ERASURE_PAGE + 4)
        })
        .await;
    assert_eq!(system.counts(&ana).await, (1, 1));

    erase(&system, &bob).await;
    // Everything between bob and the others goes, in their lists and counts.
    system.relationship_becomes(&ana, &bob, &relationship(&bob.id, &[], None)).await;
    system.relationship_becomes(&cyd, &bob, &relationship(&bob.id, &[], None)).await;
    system.relationship_becomes(&dan, &bob, &relationship(&bob.id, &[], None)).await;
    for fan in &fans {
        system.relationship_becomes(fan, &bob, &relationship(&bob.id, &[], None)).await;
        assert_eq!(system.counts(fan).await, (0, 0), "{}", fan.id);
    }
    assert_eq!(system.counts(&ana).await, (0, 0));
    for (list, owner) in [
        (format!("/v1/accounts/{}/following", ana.id), &ana),
        (format!("/v1/accounts/{}/followers", ana.id), &ana),
        ("/v1/me/audiences/acquaintances".to_owned(), &ana),
        ("/v1/me/mutes".to_owned(), &ana),
        ("/v1/me/follow-requests".to_owned(), &dan),
    ] {
        assert!(system.ids(&list, owner).await.is_empty(), "{list}");
    }
    // And bob is no account to relate to any more.
    let (status, body) = system.get(&followers, &ana.token).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{body}");
    for path in ["/v1/me/following", "/v1/me/blocks", "/v1/me/mutes", "/v1/me/audiences/friends"] {
        let answer = system.put(&to(&bob, path), &ana).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}: {}", answer.body);
    }
}
