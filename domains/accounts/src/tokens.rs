//! Bearer tokens: HS256 JWTs that Huddle issues at sign-up and login, and the verification the
//! authorizer does, which may also trust one legacy issuer (HS256 or RS256).

use crate::validation::ACCOUNT_ID_PREFIX;
use huddle_http::is_prefixed_id;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const ISSUER: &str = "huddle";
/// Clock skew tolerated between the issuing and verifying machines.
pub const LEEWAY_SECONDS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    /// The account's token generation when this token was issued (the version of its
    /// `sessions#` stream): a revocation moves the generation past it.
    #[serde(default)]
    generation: u64,
    #[serde(default)]
    iat: Option<u64>,
    exp: u64,
}

/// Signs tokens for accounts.
#[derive(Clone)]
pub struct TokenIssuer {
    key: EncodingKey,
    lifetime: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedToken {
    pub token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
}

impl TokenIssuer {
    pub fn new(secret: &[u8], lifetime: Duration) -> Self {
        Self { key: EncodingKey::from_secret(secret), lifetime }
    }

    /// A token for `account_id` at its token `generation`.
    pub fn issue(&self, account_id: &str, username: &str, generation: u64) -> IssuedToken {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            sub: account_id.into(),
            username: Some(username.into()),
            generation,
            iat: Some(now),
            exp: now + self.lifetime.as_secs(),
        };
        let token =
            encode(&Header::new(Algorithm::HS256), &claims, &self.key).expect("HS256 signing cannot fail");
        IssuedToken { token, token_type: "Bearer", expires_in: self.lifetime.as_secs() }
    }
}

/// The legacy application's tokens: their issuer, algorithm and key, the audience they must
/// name (if configured), and how old they may be.
#[derive(Clone)]
pub struct LegacyIssuer {
    issuer: String,
    algorithm: Algorithm,
    key: DecodingKey,
    audience: Option<String>,
    max_age: Duration,
}

/// How old a legacy token may be (by its `iat`) unless configured otherwise.
pub const DEFAULT_LEGACY_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
/// The shortest HS256 key accepted: HS256's own key size.
pub const MIN_HS256_KEY_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum LegacyIssuerError {
    #[error("LEGACY_ALGORITHM must be HS256 or RS256, not {0}")]
    Algorithm(String),
    #[error("LEGACY_KEY is not an RSA public key in PEM: {0}")]
    Key(String),
    #[error("LEGACY_KEY must be at least {MIN_HS256_KEY_BYTES} bytes for HS256")]
    ShortKey,
}

impl LegacyIssuer {
    /// `key` is the shared secret for HS256 (at least 32 bytes), or the PEM public key for
    /// RS256.
    pub fn new(issuer: &str, algorithm: &str, key: &str) -> Result<Self, LegacyIssuerError> {
        let (algorithm, key) = match algorithm {
            "HS256" if key.len() < MIN_HS256_KEY_BYTES => return Err(LegacyIssuerError::ShortKey),
            "HS256" => (Algorithm::HS256, DecodingKey::from_secret(key.as_bytes())),
            "RS256" => (
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(key.as_bytes())
                    .map_err(|e| LegacyIssuerError::Key(e.to_string()))?,
            ),
            other => return Err(LegacyIssuerError::Algorithm(other.into())),
        };
        Ok(Self { issuer: issuer.into(), algorithm, key, audience: None, max_age: DEFAULT_LEGACY_MAX_AGE })
    }

    /// Tokens must name `audience` in their `aud`.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Tokens issued (`iat`) longer ago than `max_age` are refused, whatever their `exp` says.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }
}

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bearer {
    /// A Huddle token: the account, its username, and its token generation at issue.
    Account { account_id: String, username: String, generation: u64 },
    /// A legacy token: its subject (which speaks for the account linked to it, if any) and
    /// when it was issued (Unix seconds).
    Legacy { subject: String, issued_at: u64 },
}

#[derive(Clone)]
pub struct TokenVerifier {
    key: DecodingKey,
    legacy: Option<LegacyIssuer>,
}

impl TokenVerifier {
    pub fn new(secret: &[u8], legacy: Option<LegacyIssuer>) -> Self {
        Self { key: DecodingKey::from_secret(secret), legacy }
    }

    /// Whether a legacy issuer is trusted at all.
    pub fn trusts_legacy(&self) -> bool {
        self.legacy.is_some()
    }

    /// The bearer of `token`, if its signature, algorithm, issuer and times all check out
    /// (`exp`, and `nbf` when present, with 30 s of leeway). Only the algorithm configured for an
    /// issuer is accepted, so neither `alg: none` nor an HS256 token signed with an RSA public
    /// key passes. Legacy tokens must also carry `iat` within the issuer's maximum age and
    /// name the configured audience, if one is.
    pub fn verify(&self, token: &str) -> Option<Bearer> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let claims = |key: &DecodingKey, algorithm: Algorithm, issuer: &str, audience: Option<&str>| {
            let mut validation = Validation::new(algorithm);
            validation.set_issuer(&[issuer]);
            validation.leeway = LEEWAY_SECONDS;
            validation.validate_nbf = true;
            match audience {
                Some(audience) => {
                    validation.set_audience(&[audience]);
                    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
                }
                None => {
                    validation.validate_aud = false;
                    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
                }
            }
            decode::<Claims>(token, key, &validation).ok().map(|data| data.claims)
        };
        if header.alg == Algorithm::HS256 {
            if let Some(claims) = claims(&self.key, Algorithm::HS256, ISSUER, None) {
                let username = claims.username?;
                return is_prefixed_id(&claims.sub, ACCOUNT_ID_PREFIX).then_some(Bearer::Account {
                    account_id: claims.sub,
                    username,
                    generation: claims.generation,
                });
            }
        }
        let legacy = self.legacy.as_ref().filter(|legacy| legacy.algorithm == header.alg)?;
        let claims = claims(&legacy.key, legacy.algorithm, &legacy.issuer, legacy.audience.as_deref())?;
        let issued_at = claims.iat?;
        let now = jsonwebtoken::get_current_timestamp();
        let fresh = issued_at <= now + LEEWAY_SECONDS
            && now.saturating_sub(issued_at) <= legacy.max_age.as_secs() + LEEWAY_SECONDS;
        fresh.then_some(Bearer::Legacy { subject: claims.sub, issued_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::json;

    /// A JWT segment made by hand, for the tokens no library would sign.
    fn encode_segment(json: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    const SECRET: &[u8] = b"a test secret of thirty-two bytes!";
    const LEGACY_SECRET: &str = "the legacy issuer's secret, 32 bytes or more";
    const LEGACY_PUBLIC_PEM: &str = include_str!("../../../tests/accounts/keys/legacy-rs256.pub");
    const LEGACY_PRIVATE_PEM: &str = include_str!("../../../tests/accounts/keys/legacy-rs256.key");

    fn verifier() -> TokenVerifier {
        TokenVerifier::new(SECRET, Some(LegacyIssuer::new("legacy-app", "HS256", LEGACY_SECRET).unwrap()))
    }

    fn sign(claims: serde_json::Value, secret: &[u8]) -> String {
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    #[test]
    fn an_issued_token_verifies_as_its_account_and_generation() {
        let issued = TokenIssuer::new(SECRET, Duration::from_secs(3600)).issue(
            "acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6",
            "ana",
            7,
        );
        assert_eq!((issued.token_type, issued.expires_in), ("Bearer", 3600));
        assert_eq!(
            verifier().verify(&issued.token),
            Some(Bearer::Account {
                account_id: "acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6".into(),
                username: "ana".into(),
                generation: 7
            })
        );
    }

    #[test]
    fn expired_tampered_foreign_and_unsigned_tokens_are_refused() {
        let now = now();
        let claims = |exp: u64| json!({"iss": ISSUER, "sub": "acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6", "username": "ana", "iat": now, "exp": exp});
        assert!(verifier().verify(&sign(claims(now + 60), SECRET)).is_some());
        assert_eq!(verifier().verify(&sign(claims(now - 120), SECRET)), None, "expired");
        assert_eq!(verifier().verify(&sign(claims(now + 60), b"another key")), None, "wrong key");

        let token = sign(claims(now + 60), SECRET);
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let forged = encode_segment(
            &json!({"iss": ISSUER, "sub": "acc_2", "username": "bea", "iat": now, "exp": now + 60}),
        );
        assert_eq!(verifier().verify(&format!("{head}.{forged}.{signature}")), None, "tampered");

        let none = encode_segment(&json!({"alg": "none", "typ": "JWT"}));
        let body = encode_segment(&claims(now + 60));
        assert_eq!(verifier().verify(&format!("{none}.{body}.")), None, "alg none");
        assert_eq!(verifier().verify("not a token"), None);

        let wrong_issuer = json!({"iss": "elsewhere", "sub": "acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6", "username": "ana", "iat": now, "exp": now + 60});
        assert_eq!(verifier().verify(&sign(wrong_issuer, SECRET)), None);
    }

    #[test]
    fn the_clock_leeway_is_thirty_seconds_on_both_sides() {
        let now = now();
        let huddle = |exp: u64| {
            sign(
                json!({"iss": ISSUER, "sub": "acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6", "username": "ana", "exp": exp}),
                SECRET,
            )
        };
        assert!(verifier().verify(&huddle(now - 25)).is_some(), "expired 25 s ago: within the leeway");
        assert_eq!(verifier().verify(&huddle(now - 35)), None, "expired 35 s ago");

        let legacy = |claims: serde_json::Value| sign(claims, LEGACY_SECRET.as_bytes());
        let at = |iat: u64, nbf: u64| json!({"iss": "legacy-app", "sub": "u1", "iat": iat, "nbf": nbf, "exp": now + 600});
        assert!(verifier().verify(&legacy(at(now, now + 25))).is_some(), "valid in 25 s: within the leeway");
        assert_eq!(verifier().verify(&legacy(at(now, now + 35))), None, "not valid for 35 s");
        assert!(verifier().verify(&legacy(at(now + 25, now))).is_some(), "issued 25 s ahead");
        assert_eq!(verifier().verify(&legacy(at(now + 35, now))), None, "issued 35 s in the future");
    }

    #[test]
    fn the_legacy_issuer_is_trusted_with_its_own_key_only() {
        let now = now();
        let legacy = json!({"iss": "legacy-app", "sub": "ana", "iat": now, "exp": now + 60});
        assert_eq!(
            verifier().verify(&sign(legacy.clone(), LEGACY_SECRET.as_bytes())),
            Some(Bearer::Legacy { subject: "ana".into(), issued_at: now })
        );
        assert_eq!(verifier().verify(&sign(legacy.clone(), SECRET)), None, "signed with Huddle's key");
        assert_eq!(
            TokenVerifier::new(SECRET, None).verify(&sign(legacy, LEGACY_SECRET.as_bytes())),
            None,
            "not configured"
        );
        assert!(LegacyIssuer::new("x", "none", "k").is_err());
        assert!(LegacyIssuer::new("x", "RS256", "not a pem").is_err());
        assert!(
            matches!(
                LegacyIssuer::new("x", "HS256", "31 bytes, one short of enough"),
                Err(LegacyIssuerError::ShortKey)
            ),
            "an HS256 key under 32 bytes is refused"
        );
    }

    #[test]
    fn legacy_tokens_need_a_recent_iat_and_the_configured_audience() {
        let now = now();
        let issuer = LegacyIssuer::new("legacy-app", "HS256", LEGACY_SECRET)
            .unwrap()
            .with_audience("huddle-api")
            .with_max_age(Duration::from_secs(3600));
        let verifier = TokenVerifier::new(SECRET, Some(issuer));
        let token = |claims: serde_json::Value| sign(claims, LEGACY_SECRET.as_bytes());
        let good =
            json!({"iss": "legacy-app", "sub": "u1", "aud": "huddle-api", "iat": now - 60, "exp": now + 600});
        assert!(verifier.verify(&token(good)).is_some());
        for (what, claims) in [
            ("no iat", json!({"iss": "legacy-app", "sub": "u1", "aud": "huddle-api", "exp": now + 600})),
            (
                "too old",
                json!({"iss": "legacy-app", "sub": "u1", "aud": "huddle-api", "iat": now - 7200, "exp": now + 600}),
            ),
            ("no audience", json!({"iss": "legacy-app", "sub": "u1", "iat": now, "exp": now + 600})),
            (
                "another audience",
                json!({"iss": "legacy-app", "sub": "u1", "aud": "billing", "iat": now, "exp": now + 600}),
            ),
        ] {
            assert_eq!(verifier.verify(&token(claims)), None, "{what}");
        }
    }

    #[test]
    fn an_hs256_token_signed_with_the_legacy_rsa_public_key_is_refused() {
        let rsa = LegacyIssuer::new("legacy-app", "RS256", LEGACY_PUBLIC_PEM).unwrap();
        let verifier = TokenVerifier::new(SECRET, Some(rsa));
        let now = now();
        let claims = json!({"iss": "legacy-app", "sub": "u1", "iat": now, "exp": now + 600});
        let genuine = EncodingKey::from_rsa_pem(LEGACY_PRIVATE_PEM.as_bytes()).unwrap();
        assert!(verifier
            .verify(&encode(&Header::new(Algorithm::RS256), &claims, &genuine).unwrap())
            .is_some());
        // The confusion attack: the public key, which anyone has, used as an HMAC secret.
        let confused = sign(claims, LEGACY_PUBLIC_PEM.as_bytes());
        assert_eq!(verifier.verify(&confused), None);
    }
}
