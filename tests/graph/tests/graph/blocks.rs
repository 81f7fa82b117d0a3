//! Blocks: what a block ends both ways, what it refuses from then on, what the blocked account
//! sees, and a block racing a follow.

use crate::{code, relationship, System};
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;

on_both_families!(
    a_block_ends_follows_both_ways_and_the_tier_and_refuses_new_ones,
    the_blocked_account_sees_the_blockers_lists_as_missing,
    a_block_racing_a_follow_never_leaves_both,
);

async fn a_block_ends_follows_both_ways_and_the_tier_and_refuses_new_ones(family: Family) {
    let system = System::start(family).await;
    let (ana, bo) = (system.user("ana").await, system.user("bob").await);
    system.put(&format!("/v1/me/following/{}", bo.id), &ana).await;
    system.put(&format!("/v1/me/following/{}", ana.id), &bo).await;
    let tiered = system.put(&format!("/v1/me/audiences/friends/{}", bo.id), &ana).await;
    assert_eq!(tiered.body, relationship(&bo.id, &["following", "followed_by"], Some("friends")));

    let blocked = system.put(&format!("/v1/me/blocks/{}", bo.id), &ana).await;
    assert_eq!(blocked.status, StatusCode::OK, "{}", blocked.body);
    assert_eq!(blocked.body, relationship(&bo.id, &["blocking"], None));
    system.relationship_becomes(&ana, &bo, &relationship(&bo.id, &["blocking"], None)).await;
    assert_eq!(system.relationship(&bo, &ana).await, relationship(&ana.id, &["blocked_by"], None));
    assert_eq!((system.counts(&ana).await, system.counts(&bo).await), ((0, 0), (0, 0)));
    assert!(system.ids("/v1/me/audiences/acquaintances", &ana).await.is_empty());
    assert_eq!(system.ids("/v1/me/blocks", &ana).await, [bo.id.as_str()]);

    for (who, whom) in [(&bo, &ana), (&ana, &bo)] {
        let refused = system.put(&format!("/v1/me/following/{}", whom.id), who).await;
        assert_eq!(
            (refused.status, code(&refused.body)),
            (StatusCode::FORBIDDEN, "blocked"),
            "{}",
            refused.body
        );
        let refused = system.put(&format!("/v1/me/audiences/friends/{}", whom.id), who).await;
        assert_eq!((refused.status, code(&refused.body)), (StatusCode::FORBIDDEN, "blocked"));
    }
    assert_eq!(system.events_in(&format!("follow#{}#{}", bo.id, ana.id)).await, 2, "followed, unfollowed");

    // Unblocking restores nothing, and allows following again.
    assert_eq!(system.delete(&format!("/v1/me/blocks/{}", bo.id), &ana).await.status, StatusCode::NO_CONTENT);
    system.relationship_becomes(&ana, &bo, &relationship(&bo.id, &[], None)).await;
    let again = system.put(&format!("/v1/me/following/{}", ana.id), &bo).await;
    assert_eq!(again.body, relationship(&ana.id, &["following"], None));
}

async fn the_blocked_account_sees_the_blockers_lists_as_missing(family: Family) {
    let system = System::start(family).await;
    let (ana, bo, cy) = (system.user("ana").await, system.user("bob").await, system.user("cyd").await);
    system.put(&format!("/v1/me/following/{}", ana.id), &cy).await;
    let blocked = system.put(&format!("/v1/me/blocks/{}", bo.id), &ana).await;
    // The profile is the accounts domain's: it hides once the graph has projected the block.
    let profile = format!("/v1/accounts/{}", ana.id);
    let body = system.eventually(&profile, &bo.token, |status, _| status == StatusCode::NOT_FOUND).await;
    assert_eq!(code(&body), "not_found", "the blocker's profile: {body}");
    let (status, _) = system.get("/v1/accounts/by-username/ana", &bo.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "by its name too");
    assert_eq!(system.get(&format!("/v1/accounts/{}", bo.id), &ana.token).await.0, StatusCode::NOT_FOUND);
    let (status, profile) = system.get(&format!("/v1/accounts/{}", ana.id), &cy.token).await;
    assert_eq!((status, profile["followers_count"].as_u64()), (StatusCode::OK, Some(1)), "{profile}");
    for list in ["followers", "following"] {
        let path = format!("/v1/accounts/{}/{list}", ana.id);
        let (status, body) = system.read(&path, &bo, &blocked).await;
        assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{path}: {body}");
        // Nor the other way round: the blocker does not browse the blocked account's lists.
        let (status, _) = system.get(&format!("/v1/accounts/{}/{list}", bo.id), &ana.token).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(system.get(&path, &cy.token).await.0, StatusCode::OK, "a third account sees them");
    }
}

async fn a_block_racing_a_follow_never_leaves_both(family: Family) {
    let system = System::start(family).await;
    for round in 0..6 {
        let (ana, bo) =
            (system.user(&format!("ana{round}")).await, system.user(&format!("bob{round}")).await);
        let (blocking, following) =
            (format!("/v1/me/blocks/{}", ana.id), format!("/v1/me/following/{}", bo.id));
        let (block, follow) = tokio::join!(system.put(&blocking, &bo), system.put(&following, &ana));
        assert_eq!(block.status, StatusCode::OK, "{}", block.body);
        assert!([StatusCode::OK, StatusCode::FORBIDDEN].contains(&follow.status), "{}", follow.body);
        // Whichever landed first, the block is on and the follow is not.
        system.relationship_becomes(&bo, &ana, &relationship(&ana.id, &["blocking"], None)).await;
        assert_eq!(system.counts(&bo).await, (0, 0), "round {round}");
    }
}
