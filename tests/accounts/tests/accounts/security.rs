//! The holes of the accounts security review, closed: a replayed sign-up needs the password,
//! identical sign-ups racing on one key all get the first account, legacy tokens reach only the
//! account linked to their subject, and revocation (password change, "log out everywhere",
//! erasure) ends older tokens the moment its command answers.

use crate::{code, System, LEGACY_ISSUER, LEGACY_PRIVATE_KEY, PASSWORD};
use futures::future::join_all;
use huddle_catalog::accounts::username_stream;
use huddle_test_support::{on_both_families, Family};
use jsonwebtoken::{encode, get_current_timestamp, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_families!(
    the_reported_sign_up_replay_gets_no_token_without_the_password,
    identical_sign_ups_racing_on_one_key_all_answer_with_the_first_account,
    a_login_right_after_sign_up_works_and_its_token_is_let_through,
    legacy_tokens_reach_only_the_account_linked_to_their_subject,
    a_password_change_ends_the_old_password_and_every_older_token,
    logging_out_everywhere_ends_every_token_issued_before,
);

async fn the_reported_sign_up_replay_gets_no_token_without_the_password(family: Family) {
    let system = System::start(family).await;
    let sign_up = |body: Value| {
        system.client.post(system.url("/v1/accounts")).header("idempotency-key", "k1").json(&body)
    };
    let (status, first) = system
        .send(sign_up(json!({"username": "ana", "email": "ana@example.com", "password": "correct horse 1"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");

    // The request of the report: the same key, the name and address in other cases, another password.
    let replay = json!({"username": "ANA", "email": "Ana@Example.com", "password": "attacker-pass"});
    let response = sign_up(replay).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get("idempotent-replayed").is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "invalid_credentials");
    let text = body.to_string();
    assert!(!text.contains("ana@example.com") && body.get("token").is_none(), "no private data: {text}");

    // The holder of the password gets the first account again, with a fresh token.
    let same = json!({"username": "ana", "email": "ana@example.com", "password": "correct horse 1"});
    let response = sign_up(same).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["idempotent-replayed"], "true");
    let again: Value = response.json().await.unwrap();
    assert_eq!(again["account"]["id"], first["account"]["id"]);
    let (status, _) = system.get("/v1/me", again["token"].as_str().unwrap()).await;
    assert_ne!(status, StatusCode::FORBIDDEN, "the replay's token is valid");

    // Another request under the key is refused before any password is looked at.
    let other = json!({"username": "bea", "email": "bea@example.com", "password": "correct horse 1"});
    let (status, body) = system.send(sign_up(other)).await;
    assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    assert_eq!(system.running.events.head(&username_stream("bea")).await.unwrap(), 0);
}

async fn identical_sign_ups_racing_on_one_key_all_answer_with_the_first_account(family: Family) {
    let system = System::start(family).await;
    let body = json!({"username": "ana", "email": "ana@example.com", "password": PASSWORD});
    let attempts = (0..8).map(|_| {
        system.send(
            system.client.post(system.url("/v1/accounts")).header("idempotency-key", "race").json(&body),
        )
    });
    let results = join_all(attempts).await;
    let ids: Vec<&Value> = results.iter().map(|(_, body)| &body["account"]["id"]).collect();
    for (status, body) in &results {
        assert_eq!(*status, StatusCode::CREATED, "every racer gets the first result, no 409: {body}");
    }
    assert!(ids.iter().all(|id| id.is_string() && *id == ids[0]), "one account: {ids:?}");
    assert_eq!(system.running.events.head(&username_stream("ana")).await.unwrap(), 1, "one claim");
}

async fn a_login_right_after_sign_up_works_and_its_token_is_let_through(family: Family) {
    let system = System::start(family).await;
    let (status, signed_up) = system.sign_up("ana", "ana@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, logged_in) = system.log_in("ana", PASSWORD, "203.0.113.9").await;
    assert_eq!(status, StatusCode::OK, "{logged_in}");
    assert_eq!(logged_in["account"]["id"], signed_up["account"]["id"]);
    for token in [&signed_up["token"], &logged_in["token"]] {
        // Fails at once on a 403: a fresh token works before its profile is projected.
        let me =
            system.eventually("/v1/me", token.as_str().unwrap(), |status, _| status == StatusCode::OK).await;
        assert_eq!(me["id"], signed_up["account"]["id"]);
    }
}

fn legacy_token(subject: &str) -> String {
    let key = EncodingKey::from_rsa_pem(LEGACY_PRIVATE_KEY.as_bytes()).unwrap();
    let now = get_current_timestamp();
    let claims = json!({"iss": LEGACY_ISSUER, "sub": subject, "iat": now - 1, "exp": now + 600});
    encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

async fn link(system: &System, token: &str, legacy_token: &str) -> (StatusCode, Value) {
    let body = json!({ "legacy_token": legacy_token, "password": PASSWORD });
    system.send(system.client.put(system.url("/v1/me/legacy-link")).bearer_auth(token).json(&body)).await
}

async fn legacy_tokens_reach_only_the_account_linked_to_their_subject(family: Family) {
    let system = System::start(family).await;
    let (ana, ana_token) = system.signed_up_user("ana").await;
    let (_, bea_token) = system.signed_up_user("bea").await;
    let refused = (StatusCode::FORBIDDEN, json!({"message": "Forbidden"}));
    assert_eq!(system.get("/v1/me", &legacy_token("ana")).await, refused, "a name is not a link");
    assert_eq!(system.get("/v1/me", &legacy_token("legacy-7")).await, refused, "nor an unlinked subject");

    let (status, body) = link(&system, &ana_token, "not a token").await;
    assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    // A stolen token alone plants no link: the password must come with it.
    let stolen = json!({ "legacy_token": legacy_token("legacy-7"), "password": "not ana's password" });
    let (status, body) = system
        .send(system.client.put(system.url("/v1/me/legacy-link")).bearer_auth(&ana_token).json(&stolen))
        .await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    let unproven = json!({ "legacy_token": legacy_token("legacy-7") });
    let (status, _) = system
        .send(system.client.put(system.url("/v1/me/legacy-link")).bearer_auth(&ana_token).json(&unproven))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(link(&system, &ana_token, &legacy_token("legacy-7")).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        link(&system, &ana_token, &legacy_token("legacy-7")).await.0,
        StatusCode::NO_CONTENT,
        "again: nothing new"
    );
    let (status, body) = link(&system, &bea_token, &legacy_token("legacy-7")).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "legacy_subject_linked"),
        "one account per subject"
    );
    let (status, body) = link(&system, &ana_token, &legacy_token("legacy-8")).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "legacy_subject_linked"),
        "one subject per account"
    );

    let me =
        system.eventually("/v1/me", &legacy_token("legacy-7"), |status, _| status == StatusCode::OK).await;
    assert_eq!(me["id"], ana.as_str());

    // Every revocation ends the link: whoever planted it loses it, and the subject is free.
    let revoke = system.client.post(system.url("/v1/me/sessions/revoke")).bearer_auth(&ana_token);
    assert_eq!(system.send(revoke).await.0, StatusCode::NO_CONTENT);
    assert_eq!(system.get("/v1/me", &legacy_token("legacy-7")).await, refused, "revoked with the link");
    let (status, body) = link(&system, &bea_token, &legacy_token("legacy-7")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "the released subject links to another account: {body}");
    let me =
        system.eventually("/v1/me", &legacy_token("legacy-7"), |status, _| status == StatusCode::OK).await;
    assert_ne!(me["id"], ana.as_str(), "legacy-7 now speaks for bea");

    // Erased: the link goes with the account, and the name's next holder is not reachable.
    assert_eq!(system.erase(&bea_token, PASSWORD).await.0, StatusCode::NO_CONTENT);
    let after = system.get("/v1/me", &legacy_token("legacy-7")).await;
    assert_eq!(after, refused, "refused at once after erasure");
    let (_, new_bea_token) = system.signed_up_user("bea").await;
    system.eventually("/v1/me", &new_bea_token, |status, _| status == StatusCode::OK).await;
    for subject in ["legacy-7", "bea"] {
        let after = system.get("/v1/me", &legacy_token(subject)).await;
        assert_eq!(after, refused, "{subject} after the name changed hands");
    }
}

async fn a_password_change_ends_the_old_password_and_every_older_token(family: Family) {
    let system = System::start(family).await;
    let (id, first) = system.signed_up_user("ana").await;
    let (_, second) = system.log_in("ana", PASSWORD, "203.0.113.3").await;
    let second = second["token"].as_str().unwrap().to_owned();
    let change = |token: &str, current: &str, new: &str| {
        let body = json!({ "current_password": current, "new_password": new });
        system.client.post(system.url("/v1/me/password")).bearer_auth(token.to_owned()).json(&body)
    };

    let (status, body) = system.send(change(&first, "not the password", "a brand new password")).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    let (status, body) = system.send(change(&first, PASSWORD, "short")).await;
    assert_eq!(
        (status, body["error"]["details"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("new_password"))
    );
    system.eventually("/v1/me", &second, |status, _| status == StatusCode::OK).await;

    let (status, body) = system.send(change(&first, PASSWORD, "a brand new password")).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    for old in [&first, &second] {
        assert_eq!(system.get("/v1/me", old).await.0, StatusCode::FORBIDDEN, "an older token, at once");
    }
    let (status, _) = system.log_in("ana", PASSWORD, "203.0.113.3").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password");
    let (status, body) = system.log_in("ana@example.com", "a brand new password", "203.0.113.3").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me = system
        .eventually("/v1/me", body["token"].as_str().unwrap(), |status, _| status == StatusCode::OK)
        .await;
    assert_eq!(me["id"], id.as_str());
}

async fn logging_out_everywhere_ends_every_token_issued_before(family: Family) {
    let system = System::start(family).await;
    let (_, first) = system.signed_up_user("ana").await;
    let (_, bea) = system.signed_up_user("bea").await;
    let (_, second) = system.log_in("ana", PASSWORD, "203.0.113.4").await;
    let second = second["token"].as_str().unwrap().to_owned();
    let revoke = system.client.post(system.url("/v1/me/sessions/revoke")).bearer_auth(&second);
    let (status, body) = system.send(revoke).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    for old in [&first, &second] {
        assert_eq!(system.get("/v1/me", old).await.0, StatusCode::FORBIDDEN);
    }
    system.eventually("/v1/me", &bea, |status, _| status == StatusCode::OK).await;
    let (status, fresh) = system.log_in("ana", PASSWORD, "203.0.113.4").await;
    assert_eq!(status, StatusCode::OK);
    system.eventually("/v1/me", fresh["token"].as_str().unwrap(), |status, _| status == StatusCode::OK).await;
}
