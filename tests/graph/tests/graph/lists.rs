//! The lists page newest first with signed cursors, and refuse what a client could tamper with.

use crate::{code, System};
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;

on_both_families!(
    a_list_pages_newest_first_through_every_cursor,
    a_tampered_or_foreign_cursor_and_a_limit_out_of_range_are_refused,
);

async fn a_list_pages_newest_first_through_every_cursor(family: Family) {
    let system = System::start(family).await;
    let star = system.user("star").await;
    let mut fans = Vec::new();
    for n in 0..5 {
        let fan = system.user(&format!("fan{n}")).await;
        system.put(&format!("/v1/me/following/{}", star.id), &fan).await;
        fans.push(fan.id);
    }
    let path = format!("/v1/accounts/{}/followers", star.id);
    system
        .eventually(&path, &star.token, |_, page| {
            page["items"].as_array().is_some_and(|items| items.len() == 5)
        })
        .await;
    fans.reverse();
    assert_eq!(system.ids(&path, &star).await, fans, "newest first, each once, over three pages");
    assert_eq!(system.counts(&star).await, (5, 0));
}

async fn a_tampered_or_foreign_cursor_and_a_limit_out_of_range_are_refused(family: Family) {
    let system = System::start(family).await;
    let (star, fan, other) =
        (system.user("star").await, system.user("fanny").await, system.user("other").await);
    for followed in [&star, &other] {
        system.put(&format!("/v1/me/following/{}", followed.id), &fan).await;
    }
    system.put(&format!("/v1/me/following/{}", star.id), &other).await;
    let path = format!("/v1/accounts/{}/followers", star.id);
    let page = system
        .eventually(&format!("{path}?limit=1"), &star.token, |_, page| page["next_cursor"].is_string())
        .await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let mut tampered = cursor.to_owned();
    tampered.insert(3, 'x');
    let others_list = format!("/v1/accounts/{}/followers", other.id);
    for bad in [
        format!("{path}?cursor={tampered}"),
        format!("{path}?cursor=garbage"),
        format!("{others_list}?cursor={cursor}"),
        format!("{path}?limit=0"),
        format!("{path}?limit=101"),
        format!("{path}?limit=ten"),
    ] {
        let (status, body) = system.get(&bad, &star.token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(["invalid_cursor", "invalid_limit"].contains(&code(&body)), "{bad}: {body}");
    }
    let (status, _) = system.get("/v1/me/audiences/besties", &star.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such tier");
}
