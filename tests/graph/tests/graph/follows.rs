//! Following and unfollowing: the relationship each answers with, the lists and counts they
//! leave, what is refused, and a pair flipping 20 times at once.

use crate::{code, relationship, System};
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;

on_both_families!(
    a_follow_fills_both_lists_and_counts_and_an_unfollow_empties_them,
    a_repeated_follow_or_unfollow_appends_nothing,
    following_yourself_an_unknown_or_a_malformed_account_is_refused,
    twenty_concurrent_flips_of_one_pair_leave_one_consistent_state_with_exact_counts,
);

async fn a_follow_fills_both_lists_and_counts_and_an_unfollow_empties_them(family: Family) {
    let system = System::start(family).await;
    let (ana, bo) = (system.user("ana").await, system.user("bob").await);
    let followed = system.put(&format!("/v1/me/following/{}", bo.id), &ana).await;
    assert_eq!(followed.status, StatusCode::OK, "{}", followed.body);
    assert_eq!(followed.body, relationship(&bo.id, &["following"], None));

    let (status, followers) =
        system.read(&format!("/v1/accounts/{}/followers", bo.id), &ana, &followed).await;
    assert_eq!(status, StatusCode::OK, "{followers}");
    let follower = &followers["items"][0];
    assert_eq!(
        (follower["id"].as_str(), follower["username"].as_str()),
        (Some(ana.id.as_str()), Some("ana"))
    );
    assert!(follower["followed_at"].is_string(), "{follower}");
    assert_eq!(system.ids(&format!("/v1/accounts/{}/following", ana.id), &bo).await, [bo.id.as_str()]);
    assert_eq!((system.counts(&bo).await, system.counts(&ana).await), ((1, 0), (0, 1)));
    assert_eq!(system.relationship(&bo, &ana).await, relationship(&ana.id, &["followed_by"], None));

    let unfollowed = system.delete(&format!("/v1/me/following/{}", bo.id), &ana).await;
    assert_eq!((unfollowed.status, &unfollowed.body), (StatusCode::NO_CONTENT, &serde_json::Value::Null));
    let (_, followers) = system.read(&format!("/v1/accounts/{}/followers", bo.id), &ana, &unfollowed).await;
    assert_eq!(followers["items"], serde_json::json!([]));
    assert_eq!((system.counts(&bo).await, system.counts(&ana).await), ((0, 0), (0, 0)));
}

async fn a_repeated_follow_or_unfollow_appends_nothing(family: Family) {
    let system = System::start(family).await;
    let (ana, bo) = (system.user("ana").await, system.user("bob").await);
    let stream = format!("follow#{}#{}", ana.id, bo.id);
    for _ in 0..3 {
        let followed = system.put(&format!("/v1/me/following/{}", bo.id), &ana).await;
        assert_eq!(followed.body, relationship(&bo.id, &["following"], None));
    }
    assert_eq!(system.events_in(&stream).await, 1);
    for _ in 0..3 {
        assert_eq!(
            system.delete(&format!("/v1/me/following/{}", bo.id), &ana).await.status,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(system.events_in(&stream).await, 2);
    let never_followed = system.user("cyd").await;
    let answer = system.delete(&format!("/v1/me/following/{}", never_followed.id), &ana).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "nothing to stop is no error");
    assert_eq!(system.events_in(&format!("follow#{}#{}", ana.id, never_followed.id)).await, 0);
}

async fn following_yourself_an_unknown_or_a_malformed_account_is_refused(family: Family) {
    let system = System::start(family).await;
    let ana = system.user("ana").await;
    let own = system.put(&format!("/v1/me/following/{}", ana.id), &ana).await;
    assert_eq!(
        (own.status, code(&own.body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        "{}",
        own.body
    );
    let unknown = "acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6";
    for path in [
        format!("/v1/me/following/{unknown}"),
        "/v1/me/following/not-an-id".to_owned(),
        format!("/v1/me/following/{}", "acc_".to_owned() + &"0".repeat(3000)),
        format!("/v1/me/blocks/{unknown}"),
        format!("/v1/me/mutes/{unknown}"),
        format!("/v1/me/audiences/friends/{unknown}"),
    ] {
        let answer = system.put(&path, &ana).await;
        assert_eq!(
            (answer.status, code(&answer.body)),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}: {}",
            answer.body
        );
    }
    assert_eq!(system.events_in(&format!("follow#{}#{unknown}", ana.id)).await, 0);
}

async fn twenty_concurrent_flips_of_one_pair_leave_one_consistent_state_with_exact_counts(family: Family) {
    let system = System::start(family).await;
    let (ana, bo) = (system.user("ana").await, system.user("bob").await);
    let path = format!("/v1/me/following/{}", bo.id);
    let flips = (0..20).map(|n| {
        let (system, ana, path) = (&system, &ana, &path);
        async move {
            let answer =
                if n % 2 == 0 { system.put(path, ana).await } else { system.delete(path, ana).await };
            assert!(
                [StatusCode::OK, StatusCode::NO_CONTENT, StatusCode::CONFLICT].contains(&answer.status),
                "{} {}",
                answer.status,
                answer.body
            );
        }
    });
    futures::future::join_all(flips).await;
    // Whatever won last, the log says it; the read side converges on it exactly.
    let following = system.events_in(&format!("follow#{}#{}", ana.id, bo.id)).await % 2 == 1;
    let expected =
        if following { relationship(&bo.id, &["following"], None) } else { relationship(&bo.id, &[], None) };
    system.relationship_becomes(&ana, &bo, &expected).await;
    // The edge, the lists and the counts change in one transaction: once the edge shows, all do.
    let followers = system.ids(&format!("/v1/accounts/{}/followers", bo.id), &bo).await;
    assert_eq!(followers.len(), usize::from(following), "{followers:?}");
    assert_eq!(system.counts(&bo).await, (u64::from(following), 0));
    assert_eq!(system.counts(&ana).await, (0, u64::from(following)));
}
