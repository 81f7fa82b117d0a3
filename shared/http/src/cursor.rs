use crate::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use lambda_http::Request;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Sha256;

/// Opaque, tamper-evident pagination cursors: the position as JSON, then an HMAC-SHA256 of it,
/// both base64url. Clients cannot read or forge a position (which could name another user's
/// partition), and a cursor from one list is refused by another list's `scope`.
#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

impl CursorCodec {
    pub fn new(secret: &[u8]) -> Self {
        Self { key: secret.to_vec() }
    }

    fn mac(&self, scope: &str, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    pub fn encode<T: Serialize>(&self, scope: &str, position: &T) -> String {
        let payload = serde_json::to_vec(position).expect("positions serialize");
        let tag = self.mac(scope, &payload).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag))
    }

    pub fn decode<T: DeserializeOwned>(&self, scope: &str, cursor: &str) -> Result<T, ApiError> {
        let invalid = || ApiError::bad_request("invalid_cursor", "the cursor is not one this list issued");
        let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        self.mac(scope, &payload).verify_slice(&tag).map_err(|_| invalid())?;
        serde_json::from_slice(&payload).map_err(|_| invalid())
    }

    /// `?limit=&cursor=` of a list request: the page size (default 20, 1 to 100) and the position
    /// to resume after.
    pub fn page<T: DeserializeOwned>(
        &self,
        request: &Request,
        scope: &str,
    ) -> Result<(usize, Option<T>), ApiError> {
        let limit = match crate::query_parameter(request, "limit") {
            None => DEFAULT_LIMIT,
            Some(text) => text.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_limit",
                    format!("limit must be a number from 1 to {MAX_LIMIT}"),
                )
            })?,
        };
        let after = crate::query_parameter(request, "cursor").map(|c| self.decode(scope, &c)).transpose()?;
        Ok((limit, after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_tampering_and_other_scopes() {
        let codec = CursorCodec::new(b"secret");
        let cursor = codec.encode("feed:acc_1", &("pk", "sk"));
        assert_eq!(
            codec.decode::<(String, String)>("feed:acc_1", &cursor).unwrap(),
            ("pk".into(), "sk".into())
        );
        assert!(codec.decode::<(String, String)>("feed:acc_2", &cursor).is_err(), "another list's cursor");

        let forged =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(br#"["pk","other"]"#), cursor.split_once('.').unwrap().1);
        let error = codec.decode::<(String, String)>("feed:acc_1", &forged).unwrap_err();
        assert_eq!((error.status.as_u16(), error.code.as_str()), (400, "invalid_cursor"));
        assert!(CursorCodec::new(b"other").decode::<(String, String)>("feed:acc_1", &cursor).is_err());
        assert!(codec.decode::<(String, String)>("feed:acc_1", "garbage").is_err());
    }
}
