//! Bearer tokens: HS256 JWTs that Huddle issues at sign-up and login, and the verification the
//! authorizer does, which may also trust one legacy issuer (HS256 or RS256).

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const ISSUER: &str = "huddle";
/// Clock skew tolerated between the issuing and verifying machines.
const LEEWAY_SECONDS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    iat: u64,
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

    pub fn issue(&self, account_id: &str, username: &str) -> IssuedToken {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            sub: account_id.into(),
            username: Some(username.into()),
            iat: now,
            exp: now + self.lifetime.as_secs(),
        };
        let token =
            encode(&Header::new(Algorithm::HS256), &claims, &self.key).expect("HS256 signing cannot fail");
        IssuedToken { token, token_type: "Bearer", expires_in: self.lifetime.as_secs() }
    }
}

/// The legacy application's tokens: their issuer, algorithm and key.
#[derive(Clone)]
pub struct LegacyIssuer {
    issuer: String,
    algorithm: Algorithm,
    key: DecodingKey,
}

#[derive(Debug, thiserror::Error)]
pub enum LegacyIssuerError {
    #[error("LEGACY_ALGORITHM must be HS256 or RS256, not {0}")]
    Algorithm(String),
    #[error("LEGACY_KEY is not an RSA public key in PEM: {0}")]
    Key(String),
}

impl LegacyIssuer {
    /// `key` is the shared secret for HS256, or the PEM public key for RS256.
    pub fn new(issuer: &str, algorithm: &str, key: &str) -> Result<Self, LegacyIssuerError> {
        let (algorithm, key) = match algorithm {
            "HS256" => (Algorithm::HS256, DecodingKey::from_secret(key.as_bytes())),
            "RS256" => (
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(key.as_bytes())
                    .map_err(|e| LegacyIssuerError::Key(e.to_string()))?,
            ),
            other => return Err(LegacyIssuerError::Algorithm(other.into())),
        };
        Ok(Self { issuer: issuer.into(), algorithm, key })
    }
}

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bearer {
    /// A Huddle token: the account and its username.
    Account { account_id: String, username: String },
    /// A legacy token: its subject, which names a Huddle username.
    Legacy { subject: String },
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

    /// The bearer of `token`, if its signature, algorithm, issuer and expiry all check out.
    /// Only the algorithm configured for an issuer is accepted, so neither `alg: none` nor an
    /// HS256 token signed with an RSA public key passes.
    pub fn verify(&self, token: &str) -> Option<Bearer> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let claims = |key: &DecodingKey, algorithm: Algorithm, issuer: &str| {
            let mut validation = Validation::new(algorithm);
            validation.set_issuer(&[issuer]);
            validation.set_required_spec_claims(&["exp", "iss", "sub"]);
            validation.leeway = LEEWAY_SECONDS;
            validation.validate_aud = false;
            decode::<Claims>(token, key, &validation).ok().map(|data| data.claims)
        };
        if header.alg == Algorithm::HS256 {
            if let Some(claims) = claims(&self.key, Algorithm::HS256, ISSUER) {
                let username = claims.username?;
                return claims
                    .sub
                    .starts_with("acc_")
                    .then_some(Bearer::Account { account_id: claims.sub, username });
            }
        }
        let legacy = self.legacy.as_ref().filter(|legacy| legacy.algorithm == header.alg)?;
        let claims = claims(&legacy.key, legacy.algorithm, &legacy.issuer)?;
        Some(Bearer::Legacy { subject: claims.sub })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    /// A JWT segment made by hand, for the tokens no library would sign.
    fn encode_segment(json: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    const SECRET: &[u8] = b"a test secret of thirty-two bytes!";

    fn verifier() -> TokenVerifier {
        TokenVerifier::new(SECRET, Some(LegacyIssuer::new("legacy-app", "HS256", "legacy secret").unwrap()))
    }

    fn sign(claims: serde_json::Value, secret: &[u8]) -> String {
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    #[test]
    fn an_issued_token_verifies_as_its_account() {
        let issued = TokenIssuer::new(SECRET, Duration::from_secs(3600)).issue("acc_1", "ana");
        assert_eq!((issued.token_type, issued.expires_in), ("Bearer", 3600));
        assert_eq!(
            verifier().verify(&issued.token),
            Some(Bearer::Account { account_id: "acc_1".into(), username: "ana".into() })
        );
    }

    #[test]
    fn expired_tampered_foreign_and_unsigned_tokens_are_refused() {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = |exp: u64| serde_json::json!({"iss": ISSUER, "sub": "acc_1", "username": "ana", "iat": now, "exp": exp});
        assert!(verifier().verify(&sign(claims(now + 60), SECRET)).is_some());
        assert_eq!(verifier().verify(&sign(claims(now - 120), SECRET)), None, "expired");
        assert_eq!(verifier().verify(&sign(claims(now + 60), b"another key")), None, "wrong key");

        let token = sign(claims(now + 60), SECRET);
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let forged = encode_segment(
            &serde_json::json!({"iss": ISSUER, "sub": "acc_2", "username": "bea", "iat": now, "exp": now + 60}),
        );
        assert_eq!(verifier().verify(&format!("{head}.{forged}.{signature}")), None, "tampered");

        let none = encode_segment(&serde_json::json!({"alg": "none", "typ": "JWT"}));
        let body = encode_segment(&claims(now + 60));
        assert_eq!(verifier().verify(&format!("{none}.{body}.")), None, "alg none");
        assert_eq!(verifier().verify("not a token"), None);

        let wrong_issuer = serde_json::json!({"iss": "elsewhere", "sub": "acc_1", "username": "ana", "iat": now, "exp": now + 60});
        assert_eq!(verifier().verify(&sign(wrong_issuer, SECRET)), None);
    }

    #[test]
    fn the_legacy_issuer_is_trusted_with_its_own_key_only() {
        let now = jsonwebtoken::get_current_timestamp();
        let legacy = serde_json::json!({"iss": "legacy-app", "sub": "ana", "iat": now, "exp": now + 60});
        assert_eq!(
            verifier().verify(&sign(legacy.clone(), b"legacy secret")),
            Some(Bearer::Legacy { subject: "ana".into() })
        );
        assert_eq!(verifier().verify(&sign(legacy.clone(), SECRET)), None, "signed with Huddle's key");
        assert_eq!(
            TokenVerifier::new(SECRET, None).verify(&sign(legacy, b"legacy secret")),
            None,
            "not configured"
        );
        assert!(LegacyIssuer::new("x", "none", "k").is_err());
        assert!(LegacyIssuer::new("x", "RS256", "not a pem").is_err());
    }
}
