//! Input that once broke or bent things: oversized and malformed ids in paths, one address in
//! several Unicode spellings, bidi controls and invisible text in names and bios, reserved
//! usernames, and interest lists far past their cap.

use crate::{code, System};
use huddle_catalog::accounts::username_stream;
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_families!(
    ids_in_paths_are_checked_by_format_before_any_read,
    one_address_in_any_unicode_spelling_holds_one_account,
    names_and_bios_refuse_bidi_controls_and_invisible_text,
    reserved_usernames_are_refused_with_their_own_code_and_claim_nothing,
    interests_are_capped_as_sent_before_deduplication,
);

/// The fields a 422 names, in order.
fn fields(body: &Value) -> Vec<&str> {
    body["error"]["details"]
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["field"].as_str()).collect())
        .unwrap_or_default()
}

async fn ids_in_paths_are_checked_by_format_before_any_read(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    system.eventually(&format!("/v1/accounts/{id}"), &token, |status, _| status == StatusCode::OK).await;

    // DynamoDB refuses a partition key over 2,048 bytes; such an id must never reach it.
    let oversized = format!("acc_{}", "A".repeat(2_100));
    let near_misses = [
        oversized.as_str(),
        &id.to_lowercase(),
        &id.replacen("acc_", "med_", 1),
        &id["acc_".len()..],
        &format!("{id}0"),
        "acc_",
        "acc_81JB8Y3T7Q5ZV1F0C2D3E4G5H6",
    ];
    for path_id in near_misses {
        let (status, body) = system.get(&format!("/v1/accounts/{path_id}"), &token).await;
        assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{path_id:.40}: {body}");
    }
    let (status, body) = system.get("/v1/accounts/acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6", &token).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "a well-formed unknown id");
    let (status, body) = system.get(&format!("/v1/accounts/by-username/{}", "a".repeat(2_100)), &token).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{body}");
}

async fn one_address_in_any_unicode_spelling_holds_one_account(family: Family) {
    let system = System::start(family).await;
    let (status, body) = system.sign_up("ana", "ana@exämple.com", "correct horse").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["account"]["email"], "ana@xn--exmple-cua.com", "kept in its IDNA ASCII form");

    let spellings =
        ["ana@xn--exmple-cua.com", "ana@exa\u{308}mple.com", "ANA@EXÄMPLE.COM", " Ana@Exämple.Com "];
    for (n, spelling) in spellings.iter().enumerate() {
        let (status, body) = system.sign_up(&format!("other{n}"), spelling, "correct horse").await;
        assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "email_taken"), "{spelling:?}");
        let login = json!({"login": spelling, "password": "correct horse"});
        let (status, session) =
            system.send(system.client.post(system.url("/v1/sessions")).json(&login)).await;
        assert_eq!(status, StatusCode::OK, "log in as {spelling:?}: {session}");
    }

    let (status, body) = system.sign_up("zoe", "zoe\u{301}@example.com", "correct horse").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["account"]["email"], "zo\u{e9}@example.com", "the local part is NFC");
    let (status, body) = system.sign_up("zoe2", "zo\u{e9}@example.com", "correct horse").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "email_taken"),
        "composed and decomposed are one"
    );

    for invalid in ["ana\u{200b}@example.com", "ana@exa_mple.com", "ana@-example.com"] {
        let (status, body) = system.sign_up("bea", invalid, "correct horse").await;
        assert_eq!((status, fields(&body)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["email"]), "{invalid:?}");
    }
    assert_eq!(system.running.events.head(&username_stream("bea")).await.unwrap(), 0, "claimed nothing");
}

async fn names_and_bios_refuse_bidi_controls_and_invisible_text(family: Family) {
    let system = System::start(family).await;
    let sign_up = |display_name: &str| {
        let body = json!({"username": "ana", "email": "ana@example.com", "password": "correct horse",
                          "display_name": display_name});
        system.send(system.client.post(system.url("/v1/accounts")).json(&body))
    };
    for name in
        ["admin\u{202e}nimda", "Ana\u{2066}x\u{2069}", "\u{3164}", "\u{200b}\u{2800}", "\u{115f}\u{1160}"]
    {
        let (status, body) = sign_up(name).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            "{name:?}"
        );
        assert_eq!(fields(&body), ["display_name"], "{name:?}: {body}");
    }
    assert_eq!(system.running.events.head(&username_stream("ana")).await.unwrap(), 0, "claimed nothing");

    let (status, signed_up) = sign_up("Ana \u{1f469}\u{200d}\u{1f4bb}").await;
    assert_eq!(status, StatusCode::CREATED, "joiners inside visible text are fine: {signed_up}");
    let token = signed_up["token"].as_str().unwrap().to_owned();
    let patch = |body: Value| system.client.patch(system.url("/v1/me")).bearer_auth(&token).json(&body);
    for (field, value) in [
        ("bio", "Runs \u{202d}before\u{202c} dawn"),
        ("bio", "\u{feff}\u{2060}\n\u{200d}"),
        ("display_name", "Ana\u{200f}"),
        ("display_name", "\u{2800}"),
    ] {
        let (status, body) = system.send(patch(json!({ field: value }))).await;
        assert_eq!(
            (status, fields(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec![field]),
            "{value:?}: {body}"
        );
    }
    let me = system.eventually("/v1/me", &token, |status, _| status == StatusCode::OK).await;
    assert_eq!((&me["display_name"], &me["bio"]), (&signed_up["account"]["display_name"], &Value::Null));
}

async fn reserved_usernames_are_refused_with_their_own_code_and_claim_nothing(family: Family) {
    let system = System::start(family).await;
    for name in ["admin", "Support", "HUDDLE", "huddle_team", "root", "settings"] {
        let (status, body) = system.sign_up(name, "ana@example.com", "correct horse").await;
        assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "username_reserved"), "{name}");
        assert_eq!(
            body["error"]["details"],
            json!([{"field": "username", "code": "username_reserved", "message": "is reserved"}]),
            "{name}"
        );
        let stored = name.to_lowercase();
        assert_eq!(system.running.events.head(&username_stream(&stored)).await.unwrap(), 0, "{name}");
    }
    let (status, body) = system.sign_up("admin", "nope", "short").await;
    assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "username_reserved"));
    assert_eq!(fields(&body), ["username", "email", "password"], "the other problems are listed too");

    let (status, body) = system.sign_up("admin_ana", "ana@example.com", "correct horse").await;
    assert_eq!(status, StatusCode::CREATED, "only the listed names are reserved: {body}");
}

async fn interests_are_capped_as_sent_before_deduplication(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    let patch = |interests: Vec<&str>| {
        system.client.patch(system.url("/v1/me")).bearer_auth(&token).json(&json!({ "interests": interests }))
    };
    // 9,000 copies fit the 64 KiB body; the list is refused by its length before any tag is read.
    for copies in [21, 9_000] {
        let (status, body) = system.send(patch(vec!["jazz"; copies])).await;
        assert_eq!(
            (status, fields(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["interests"]),
            "{copies}"
        );
        assert_eq!(body["error"]["details"][0]["message"], "at most 20 interests");
    }
    let (status, body) = system.send(patch(vec!["jazz"; 100_000])).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        "past the body limit"
    );
    assert_eq!(system.running.events.head(&format!("account#{id}")).await.unwrap(), 1, "nothing was written");

    let (status, body) = system.send(patch(vec!["Jazz"; 20])).await;
    assert_eq!((status, &body["interests"]), (StatusCode::OK, &json!(["jazz"])), "{body}");
}
