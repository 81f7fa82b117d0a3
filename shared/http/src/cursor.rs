use crate::ApiError;
use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use lambda_http::Request;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Sha256;

/// Opaque, sealed pagination cursors (and consistency tokens): the position as JSON, encrypted
/// with AES-256-GCM under a key derived from the secret, the list's `scope` bound in as
/// associated data; `<nonce>.<ciphertext and tag>`, both base64url. Clients can neither forge a
/// position (which could name another user's partition) nor read one: a list that skips what
/// the caller may not see still resumes after it, and its cursor must not name it. A cursor
/// from one list is refused by another list's `scope`.
#[derive(Clone)]
pub struct CursorCodec {
    key: [u8; 32],
}

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

impl CursorCodec {
    /// A codec whose key is derived from `secret` (any length) for cursors alone.
    pub fn new(secret: &[u8]) -> Self {
        let mut derive = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        derive.update(b"huddle cursor sealing key");
        Self { key: derive.finalize().into_bytes().into() }
    }

    fn cipher(&self) -> RandomizedNonceKey {
        RandomizedNonceKey::new(&AES_256_GCM, &self.key).expect("a 32-byte AES key")
    }

    pub fn encode<T: Serialize>(&self, scope: &str, position: &T) -> String {
        let mut sealed = serde_json::to_vec(position).expect("positions serialize");
        let nonce = self
            .cipher()
            .seal_in_place_append_tag(Aad::from(scope.as_bytes()), &mut sealed)
            .expect("sealing with a valid key");
        format!("{}.{}", URL_SAFE_NO_PAD.encode(nonce.as_ref()), URL_SAFE_NO_PAD.encode(sealed))
    }

    pub fn decode<T: DeserializeOwned>(&self, scope: &str, cursor: &str) -> Result<T, ApiError> {
        let invalid = || ApiError::bad_request("invalid_cursor", "the cursor is not one this list issued");
        let (nonce, sealed) = cursor.split_once('.').ok_or_else(invalid)?;
        let nonce = URL_SAFE_NO_PAD.decode(nonce).map_err(|_| invalid())?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| invalid())?;
        let mut sealed = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| invalid())?;
        let plain = self
            .cipher()
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(scope.as_bytes()), &mut sealed)
            .map_err(|_| invalid())?;
        serde_json::from_slice(plain).map_err(|_| invalid())
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
        let cursor = codec.encode("feed:acc_1", &("pk", "pst_01JHIDDEN"));
        assert_eq!(
            codec.decode::<(String, String)>("feed:acc_1", &cursor).unwrap(),
            ("pk".into(), "pst_01JHIDDEN".into())
        );
        assert!(codec.decode::<(String, String)>("feed:acc_2", &cursor).is_err(), "another list's cursor");

        let (nonce, sealed) = cursor.split_once('.').unwrap();
        let mut flipped = URL_SAFE_NO_PAD.decode(sealed).unwrap();
        flipped[0] ^= 1;
        let tampered = format!("{nonce}.{}", URL_SAFE_NO_PAD.encode(flipped));
        let forged = format!("{nonce}.{}", URL_SAFE_NO_PAD.encode(br#"["pk","other"]"#));
        for refused in [tampered, forged, "garbage".to_owned(), format!("AAAA.{sealed}")] {
            let error = codec.decode::<(String, String)>("feed:acc_1", &refused).unwrap_err();
            assert_eq!((error.status.as_u16(), error.code.as_str()), (400, "invalid_cursor"), "{refused}");
        }
        assert!(CursorCodec::new(b"other").decode::<(String, String)>("feed:acc_1", &cursor).is_err());
    }

    /// A list that skips what the caller may not see resumes after it: its cursor must not
    /// tell the caller what it skipped.
    #[test]
    fn a_cursor_shows_nothing_of_its_position() {
        let codec = CursorCodec::new(b"secret");
        let cursor = codec.encode("posts:acc_1", &("pst_01JHIDDEN",));
        let readable: Vec<u8> =
            cursor.split('.').flat_map(|part| URL_SAFE_NO_PAD.decode(part).unwrap_or_default()).collect();
        assert!(!String::from_utf8_lossy(&readable).contains("HIDDEN"), "{cursor}");
        assert_ne!(cursor, codec.encode("posts:acc_1", &("pst_01JHIDDEN",)), "each cursor sealed afresh");
    }
}
