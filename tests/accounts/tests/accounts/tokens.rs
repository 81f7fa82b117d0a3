//! The authorizer in front of every route but sign-up and login: what it lets through, what it
//! refuses, and what reaches the functions as the caller.

use crate::{System, LEGACY_ISSUER, LEGACY_PRIVATE_KEY, TOKEN_SECRET};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use huddle_accounts::tokens::LegacyIssuer;
use huddle_test_support::{on_both_families, Family};
use jsonwebtoken::{encode, get_current_timestamp, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_families!(
    bad_tokens_are_refused_as_api_gateway_refuses_them,
    legacy_tokens_get_every_check_a_huddle_token_gets,
    a_configured_audience_is_required_of_legacy_tokens,
);

fn signed(claims: &Value, secret: &[u8]) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn segment(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

async fn bad_tokens_are_refused_as_api_gateway_refuses_them(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    system.eventually("/v1/me", &token, |status, _| status == StatusCode::OK).await;

    let (status, body) = system.send(system.client.get(system.url("/v1/me"))).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, json!({"message": "Unauthorized"})), "no token");

    let now = get_current_timestamp();
    let claims =
        |sub: &str, exp: u64| json!({"iss": "huddle", "sub": sub, "username": "ana", "iat": now, "exp": exp});
    let (head, rest) = token.split_once('.').unwrap();
    let signature = rest.split_once('.').unwrap().1;
    let refused = [
        ("garbage", "not-a-token".to_owned()),
        ("expired", signed(&claims(&id, now - 120), TOKEN_SECRET)),
        ("wrong key", signed(&claims(&id, now + 600), b"some other secret of 32 bytes or more")),
        (
            "tampered",
            format!("{head}.{}.{signature}", segment(&claims("acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6", now + 600))),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                segment(&json!({"alg": "none", "typ": "JWT"})),
                segment(&claims(&id, now + 600))
            ),
        ),
        (
            "other issuer",
            signed(
                &json!({"iss": "elsewhere", "sub": id, "username": "ana", "iat": now, "exp": now + 600}),
                TOKEN_SECRET,
            ),
        ),
    ];
    for (what, bad) in refused {
        let (status, body) = system.get("/v1/me", &bad).await;
        assert_eq!((status, body), (StatusCode::FORBIDDEN, json!({"message": "Forbidden"})), "{what}");
    }
    let (status, _) = system
        .send(system.client.get(system.url("/v1/me")).header("authorization", format!("Basic {token}")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only bearer tokens");

    // A token we signed ourselves for the same account is as good as the one sign-up gave.
    let (status, me) = system.get("/v1/me", &signed(&claims(&id, now + 600), TOKEN_SECRET)).await;
    assert_eq!((status, me["id"].as_str()), (StatusCode::OK, Some(id.as_str())));
}

async fn legacy_tokens_get_every_check_a_huddle_token_gets(family: Family) {
    let system = System::start(family).await;
    let (id, token) = system.signed_up_user("ana").await;
    let key = EncodingKey::from_rsa_pem(LEGACY_PRIVATE_KEY.as_bytes()).unwrap();
    let legacy = |claims: Value| encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap();
    let now = get_current_timestamp();
    let good = legacy(json!({"iss": LEGACY_ISSUER, "sub": "u-42", "iat": now, "exp": now + 600}));
    let link = json!({ "legacy_token": good, "password": crate::PASSWORD });
    let (status, _) = system
        .send(system.client.put(system.url("/v1/me/legacy-link")).bearer_auth(&token).json(&link))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let me = system.eventually("/v1/me", &good, |status, _| status == StatusCode::OK).await;
    assert_eq!(me["id"], id.as_str());

    let refused = [
        ("expired", json!({"iss": LEGACY_ISSUER, "sub": "u-42", "iat": now - 700, "exp": now - 100})),
        (
            "not yet valid",
            json!({"iss": LEGACY_ISSUER, "sub": "u-42", "iat": now, "nbf": now + 300, "exp": now + 600}),
        ),
        ("no iat", json!({"iss": LEGACY_ISSUER, "sub": "u-42", "exp": now + 600})),
        (
            "older than the maximum age",
            json!({"iss": LEGACY_ISSUER, "sub": "u-42", "iat": now - 2 * 86_400, "exp": now + 600}),
        ),
        ("Huddle's issuer", json!({"iss": "huddle", "sub": "u-42", "iat": now, "exp": now + 600})),
    ];
    for (what, claims) in refused {
        let (status, body) = system.get("/v1/me", &legacy(claims)).await;
        assert_eq!((status, body), (StatusCode::FORBIDDEN, json!({"message": "Forbidden"})), "{what}");
    }
    // HS256 with the RSA public key as the secret: the algorithm confusion attack.
    let confused = signed(
        &json!({"iss": LEGACY_ISSUER, "sub": "u-42", "iat": now, "exp": now + 600}),
        crate::LEGACY_PUBLIC_KEY.as_bytes(),
    );
    assert_eq!(system.get("/v1/me", &confused).await.0, StatusCode::FORBIDDEN, "algorithm confusion");

    // A revocation ends legacy tokens issued before it too.
    let revoke = system.client.post(system.url("/v1/me/sessions/revoke")).bearer_auth(&good);
    assert_eq!(system.send(revoke).await.0, StatusCode::NO_CONTENT);
    assert_eq!(system.get("/v1/me", &good).await.0, StatusCode::FORBIDDEN);
}

async fn a_configured_audience_is_required_of_legacy_tokens(family: Family) {
    let system = System::start_with(family, |accounts| {
        let issuer = LegacyIssuer::new(LEGACY_ISSUER, "RS256", crate::LEGACY_PUBLIC_KEY).unwrap();
        accounts.legacy_issuer = Some(issuer.with_audience("huddle-api"));
    })
    .await;
    let (_, token) = system.signed_up_user("ana").await;
    let key = EncodingKey::from_rsa_pem(LEGACY_PRIVATE_KEY.as_bytes()).unwrap();
    let now = get_current_timestamp();
    let legacy = |audience: Option<&str>| {
        let mut claims = json!({"iss": LEGACY_ISSUER, "sub": "u-42", "iat": now, "exp": now + 600});
        if let Some(audience) = audience {
            claims["aud"] = json!(audience);
        }
        encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
    };
    let link = |legacy_token: String| {
        let body = json!({ "legacy_token": legacy_token, "password": crate::PASSWORD });
        system.client.put(system.url("/v1/me/legacy-link")).bearer_auth(&token).json(&body)
    };
    for (what, refused) in [("no audience", legacy(None)), ("another audience", legacy(Some("billing")))] {
        let (status, _) = system.send(link(refused)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "linking with {what}");
    }
    assert_eq!(system.send(link(legacy(Some("huddle-api")))).await.0, StatusCode::NO_CONTENT);
    system.eventually("/v1/me", &legacy(Some("huddle-api")), |status, _| status == StatusCode::OK).await;
    for (what, refused) in [("no audience", legacy(None)), ("another audience", legacy(Some("billing")))] {
        assert_eq!(system.get("/v1/me", &refused).await.0, StatusCode::FORBIDDEN, "{what}");
    }
}
