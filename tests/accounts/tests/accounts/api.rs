//! Sign-up, login and profiles: every status the routes answer with.

use crate::consistency::read_after;
use crate::{code, System};
use futures::future::join_all;
use huddle_catalog::accounts::{account_stream, username_stream};
use huddle_domain::consistency::HEADER;
use huddle_test_support::{on_both_families, Family};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_families!(
    a_new_account_signs_in_reads_and_edits_its_profile,
    sign_up_refuses_bad_input_and_taken_names_and_writes_nothing,
    a_failed_login_says_the_same_for_an_unknown_user_and_a_wrong_password,
    concurrent_sign_ups_for_one_username_have_exactly_one_winner,
    a_repeated_sign_up_with_its_idempotency_key_answers_with_the_same_account,
    profile_changes_are_validated_and_unknown_accounts_are_not_found,
    an_account_locks_and_unlocks_and_every_signed_in_caller_sees_it,
    a_locked_value_other_than_true_or_false_is_refused_and_changes_nothing,
);

async fn a_new_account_signs_in_reads_and_edits_its_profile(family: Family) {
    let system = System::start(family).await;
    let body = json!({"username": "Ana_Lima", "email": " Ana@Example.COM ", "password": "correct horse", "display_name": "Ana"});
    let (status, signed_up) = system.send(system.client.post(system.url("/v1/accounts")).json(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{signed_up}");
    let account = &signed_up["account"];
    let id = account["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("acc_") && id.len() == 30, "{id}");
    assert_eq!(account["username"], "ana_lima");
    assert_eq!(account["email"], "ana@example.com");
    assert_eq!(account["display_name"], "Ana");
    assert_eq!(account["interests"], json!([]));
    assert!(account["created_at"].as_str().unwrap().ends_with('Z'), "RFC 3339 UTC");
    assert_eq!(
        (signed_up["token_type"].as_str(), signed_up["expires_in"].as_u64()),
        (Some("Bearer"), Some(86400))
    );
    let token = signed_up["token"].as_str().unwrap().to_owned();

    let me = system.eventually("/v1/me", &token, |status, _| status == StatusCode::OK).await;
    assert_eq!(&me, account, "the private view is what sign-up answered");

    let (_, other_token) = system.signed_up_user("bea").await;
    let public =
        system.eventually(&format!("/v1/accounts/{id}"), &other_token, |s, _| s == StatusCode::OK).await;
    let mut expected = account.clone();
    expected.as_object_mut().unwrap().remove("email");
    // And it has the graph's follow counts.
    expected["followers_count"] = json!(0);
    expected["following_count"] = json!(0);
    assert_eq!(public, expected, "the public profile has no email");
    let (status, by_name) = system.get("/v1/accounts/by-username/ANA_lima", &other_token).await;
    assert_eq!((status, &by_name), (StatusCode::OK, &expected));

    for login in ["ana_lima", "ANA_LIMA", "ana@example.com", "  ANA@example.com"] {
        let body = json!({"login": login, "password": "correct horse"});
        let (status, session) = system.send(system.client.post(system.url("/v1/sessions")).json(&body)).await;
        assert_eq!(status, StatusCode::OK, "login as {login}: {session}");
        assert_eq!(session["account"]["id"], id.as_str());
        assert_eq!(session["token_type"], "Bearer");
        let (status, _) = system.get("/v1/me", session["token"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "the login token works");
    }

    let patch = json!({"bio": "  Runs before dawn.\nSings after. ", "interests": ["Running", "jazz", "running"],
                       "avatar_media_id": "med_01JB8Y3T7Q5ZV1F0C2D3E4G5H6"});
    let (status, updated) =
        system.send(system.client.patch(system.url("/v1/me")).bearer_auth(&token).json(&patch)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["bio"], "Runs before dawn.\nSings after.");
    assert_eq!(updated["interests"], json!(["running", "jazz"]));
    assert_eq!(updated["display_name"], "Ana", "absent fields stay");
    assert_eq!(updated["email"], "ana@example.com");
    system.eventually("/v1/me", &token, |_, body| body == &updated).await;

    let (status, cleared) = system
        .send(
            system
                .client
                .patch(system.url("/v1/me"))
                .bearer_auth(&token)
                .json(&json!({"display_name": null, "interests": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((&cleared["display_name"], &cleared["interests"]), (&Value::Null, &json!([])));
    assert_eq!(cleared["bio"], updated["bio"]);
    system
        .eventually(&format!("/v1/accounts/{id}"), &other_token, |_, body| body["display_name"].is_null())
        .await;
}

async fn sign_up_refuses_bad_input_and_taken_names_and_writes_nothing(family: Family) {
    let system = System::start(family).await;
    let post = |body: String| {
        system.client.post(system.url("/v1/accounts")).header("content-type", "application/json").body(body)
    };
    let (status, body) = system.send(post("{not json".into())).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "malformed_json"));
    let (status, body) = system.send(post(json!({"username": 5}).to_string())).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "malformed_json"),
        "a wrong type is malformed"
    );

    let (status, body) =
        system.send(post(json!({"username": "a!", "email": "nope", "password": "short"}).to_string())).await;
    assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["username", "email", "password"]);
    let (status, body) = system.send(post("{}".into())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["message"], "is required");

    system.signed_up_user("ana").await;
    let (status, body) = system.sign_up("ANA", "other@example.com", "correct horse").await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "username_taken"));
    let (status, body) = system.sign_up("ana2", " ANA@example.com", "correct horse").await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "email_taken"));

    let events = &system.running.events;
    assert_eq!(events.head(&username_stream("ana")).await.unwrap(), 1, "one claim only");
    assert_eq!(events.head(&username_stream("ana2")).await.unwrap(), 0, "a refused sign-up claims nothing");
    let (status, body) = system.sign_up("ana2", "ana2@example.com", "correct horse").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn a_failed_login_says_the_same_for_an_unknown_user_and_a_wrong_password(family: Family) {
    let system = System::start(family).await;
    system.signed_up_user("ana").await;
    let login = |body: Value| system.client.post(system.url("/v1/sessions")).json(&body);
    let wrong_password = system.send(login(json!({"login": "ana", "password": "not the password"}))).await;
    let unknown_user = system.send(login(json!({"login": "nobody", "password": "not the password"}))).await;
    let unknown_email = system.send(login(json!({"login": "nobody@example.com", "password": "x"}))).await;
    let malformed_login = system.send(login(json!({"login": "!!", "password": "x"}))).await;
    assert_eq!(wrong_password.0, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&wrong_password.1), "invalid_credentials");
    for other in [unknown_user, unknown_email, malformed_login] {
        assert_eq!(other, wrong_password, "nothing tells an unknown login from a wrong password");
    }
    let (status, body) = system.send(login(json!({"login": "ana"}))).await;
    assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    let (status, body) = system
        .send(
            system
                .client
                .post(system.url("/v1/sessions"))
                .header("content-type", "application/json")
                .body("["),
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "malformed_json"));
}

/// How many of `results` won, and how many lost with 409 `code`.
fn tally(results: &[(StatusCode, Value)], code_of_losers: &str) -> (usize, usize) {
    let winners = results.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
    let losers = results
        .iter()
        .filter(|(status, body)| *status == StatusCode::CONFLICT && code(body) == code_of_losers)
        .count();
    (winners, losers)
}

async fn concurrent_sign_ups_for_one_username_have_exactly_one_winner(family: Family) {
    let system = System::start(family).await;
    let emails: Vec<String> = (0..8).map(|n| format!("p{n}@example.com")).collect();
    let attempts = emails.iter().map(|email| system.sign_up("popular", email, "correct horse"));
    let results = join_all(attempts).await;
    assert_eq!(tally(&results, "username_taken"), (1, 7), "{results:?}");
    assert_eq!(system.running.events.head(&username_stream("popular")).await.unwrap(), 1);

    // The same race on one email address with different usernames.
    let names: Vec<String> = (0..8).map(|n| format!("user{n}")).collect();
    let attempts = names.iter().map(|name| system.sign_up(name, "shared@example.com", "correct horse"));
    let results = join_all(attempts).await;
    assert_eq!(tally(&results, "email_taken"), (1, 7), "{results:?}");
}

async fn a_repeated_sign_up_with_its_idempotency_key_answers_with_the_same_account(family: Family) {
    let system = System::start(family).await;
    let body = json!({"username": "ana", "email": "ana@example.com", "password": "correct horse"});
    let sign_up = |body: &Value| {
        system.client.post(system.url("/v1/accounts")).header("idempotency-key", "k-1").json(body)
    };
    let first = sign_up(&body).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = sign_up(&body).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED, "the first status again");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["account"], first["account"]);
    system.eventually("/v1/me", again["token"].as_str().unwrap(), |status, _| status == StatusCode::OK).await;

    let other = json!({"username": "bea", "email": "bea@example.com", "password": "correct horse"});
    let (status, body) = system.send(sign_up(&other)).await;
    assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    assert_eq!(system.running.events.head(&username_stream("bea")).await.unwrap(), 0);
}

async fn profile_changes_are_validated_and_unknown_accounts_are_not_found(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    let patch = |body: Value| system.client.patch(system.url("/v1/me")).bearer_auth(&token).json(&body);
    let too_many: Vec<String> = (0..21).map(|n| format!("tag{n}")).collect();
    let (status, body) = system
        .send(patch(json!({"interests": too_many, "bio": "x".repeat(301), "avatar_media_id": "cat.png"})))
        .await;
    assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    assert_eq!(body["error"]["details"].as_array().unwrap().len(), 3, "{body}");
    let (status, body) = system.send(patch(json!({"account_id": "acc_someone_else", "bio": "hi"}))).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "malformed_json"),
        "the caller comes from the token only"
    );
    let (status, body) = system.send(patch(json!({"interests": "jazz"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let me = system.eventually("/v1/me", &token, |status, _| status == StatusCode::OK).await;
    assert_eq!((&me["bio"], &me["interests"]), (&Value::Null, &json!([])), "refused changes changed nothing");
    assert_eq!(system.running.events.head(&format!("account#{id}")).await.unwrap(), 1);

    for path in [
        "/v1/accounts/acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6",
        "/v1/accounts/whatever",
        "/v1/accounts/by-username/nobody",
        "/v1/accounts/by-username/!!",
    ] {
        let (status, body) = system.get(path, &token).await;
        assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{path}");
    }
}

/// `PATCH /v1/me` with `body`, which succeeds: the profile it answers with and, when it wrote
/// anything, the consistency token that makes a read wait for the projection to reach it.
async fn patched(system: &System, token: &str, body: Value) -> (Value, Option<String>) {
    let response =
        system.client.patch(system.url("/v1/me")).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    let consistency = response.headers().get(HEADER).map(|token| token.to_str().unwrap().to_owned());
    (response.json().await.unwrap(), consistency)
}

/// The event types of `account_id`'s stream, in order.
async fn account_event_types(system: &System, account_id: &str) -> Vec<String> {
    let events = system.running.events.read_stream(&account_stream(account_id), 1..).await.unwrap();
    events.into_iter().map(|event| event.event_type).collect()
}

async fn an_account_locks_and_unlocks_and_every_signed_in_caller_sees_it(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    let (_, other_token) = system.signed_up_user("bea").await;
    let profile = format!("/v1/accounts/{id}");
    let unlocked = system.eventually(&profile, &other_token, |status, _| status == StatusCode::OK).await;
    assert_eq!(unlocked["locked"], false, "a new account is not locked: {unlocked}");
    let (_, me) = system.get("/v1/me", &token).await;
    assert_eq!(me["locked"], false, "{me}");

    let (locked, consistency) = patched(&system, &token, json!({"locked": true})).await;
    let consistency = consistency.expect("locking wrote");
    assert_eq!(locked["locked"], true, "{locked}");
    let mut expected_me = me.clone();
    expected_me["locked"] = json!(true);
    assert_eq!(locked, expected_me, "nothing else changed");
    assert_eq!(system.get("/v1/me", &token).await, (StatusCode::OK, expected_me.clone()));
    let (status, seen) = read_after(&system, &profile, &other_token, &consistency).await;
    assert_eq!((status, &seen["locked"]), (StatusCode::OK, &json!(true)), "{seen}");
    let (status, by_name) =
        read_after(&system, "/v1/accounts/by-username/ana", &other_token, &consistency).await;
    assert_eq!((status, &by_name), (StatusCode::OK, &seen));
    assert_eq!(
        account_event_types(&system, &id).await,
        ["AccountRegistered", "LockChanged"],
        "locking alone is no profile update"
    );

    let (again, consistency) = patched(&system, &token, json!({"locked": true})).await;
    assert_eq!((again, consistency), (expected_me, None));
    assert_eq!(account_event_types(&system, &id).await.len(), 2, "locking a locked account appends nothing");

    let (unlocked, consistency) =
        patched(&system, &token, json!({"locked": false, "bio": "Runs before dawn."})).await;
    let consistency = consistency.expect("unlocking wrote");
    assert_eq!((&unlocked["locked"], &unlocked["bio"]), (&json!(false), &json!("Runs before dawn.")));
    let (status, seen) = read_after(&system, &profile, &other_token, &consistency).await;
    assert_eq!((status, &seen["locked"], &seen["bio"]), (StatusCode::OK, &json!(false), &unlocked["bio"]));
    assert_eq!(
        account_event_types(&system, &id).await,
        ["AccountRegistered", "LockChanged", "ProfileUpdated", "LockChanged"],
        "one event for each change, the profile first"
    );
}

async fn a_locked_value_other_than_true_or_false_is_refused_and_changes_nothing(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    let (status, me) = system.get("/v1/me", &token).await;
    assert_eq!(status, StatusCode::OK);
    for bad in [Value::Null, json!("true"), json!(1), json!({}), json!([true])] {
        let body = json!({"locked": bad, "bio": "Runs before dawn."});
        let (status, refused) =
            system.send(system.client.patch(system.url("/v1/me")).bearer_auth(&token).json(&body)).await;
        assert_eq!(
            (status, code(&refused)),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            "{bad}"
        );
        let details = &refused["error"]["details"];
        assert_eq!(details, &json!([{"field": "locked", "message": "must be true or false"}]), "{bad}");
    }
    assert_eq!(system.get("/v1/me", &token).await, (StatusCode::OK, me), "neither the lock nor the bio");
    assert_eq!(account_event_types(&system, &id).await, ["AccountRegistered"]);
}
