//! Ids as Huddle makes them: a type prefix (`acc_`, `med_`, `post_` …) and a ULID in its
//! canonical form (26 upper-case Crockford base32 characters). Ids from paths are checked before
//! any read, so a malformed or oversized one is a 404 and never reaches a table (DynamoDB refuses
//! keys over 2 KiB with an error that would otherwise surface as a 500).

use crate::ApiError;
use lambda_http::Request;

/// Whether `text` is `prefix` followed by a canonical ULID. Only the canonical spelling counts:
/// a lower-case or overflowing ULID decodes, but names no id Huddle ever made.
pub fn is_prefixed_id(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix)
        .and_then(|rest| ulid::Ulid::from_string(rest).ok().map(|ulid| ulid.to_string() == rest))
        .unwrap_or(false)
}

/// The path parameter `name`, when it is an id of `prefix`; 404 `not_found` otherwise (there can
/// be nothing at a path whose id Huddle could not have made).
pub fn prefixed_id(request: &Request, name: &str, prefix: &str) -> Result<String, ApiError> {
    let id = crate::path_parameter(request, name)?;
    if is_prefixed_id(&id, prefix) {
        Ok(id)
    } else {
        Err(ApiError::not_found(format!("nothing has this {name}: ids here are {prefix} and a ULID")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::StatusCode;
    use lambda_http::RequestExt;
    use std::collections::HashMap;

    const ID: &str = "acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6";

    fn with_path_id(id: &str) -> Request {
        Request::default().with_path_parameters(HashMap::from([("id".to_owned(), id.to_owned())]))
    }

    #[test]
    fn only_the_prefix_and_a_canonical_ulid_make_an_id() {
        assert!(is_prefixed_id(ID, "acc_"));
        let long = format!("acc_{}", "0".repeat(2_100));
        let lower_case = ID.to_lowercase();
        let overflowing = "acc_81JB8Y3T7Q5ZV1F0C2D3E4G5H6";
        for bad in [
            "",
            "acc_",
            "01JB8Y3T7Q5ZV1F0C2D3E4G5H6",
            "med_01JB8Y3T7Q5ZV1F0C2D3E4G5H6",
            &long,
            &lower_case,
            overflowing,
        ] {
            assert!(!is_prefixed_id(bad, "acc_"), "{bad:.40}");
        }
        assert!(!is_prefixed_id("acc_01JB8Y3T7Q5ZV1F0C2D3E4G5HU", "acc_"), "U is not Crockford base32");
    }

    #[test]
    fn a_malformed_path_id_is_not_found() {
        assert_eq!(prefixed_id(&with_path_id(ID), "id", "acc_").unwrap(), ID);
        let refused = prefixed_id(&with_path_id(&"x".repeat(2_100)), "id", "acc_").unwrap_err();
        assert_eq!((refused.status, refused.code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
        assert!(!refused.message.contains("xxx"), "the id is not echoed: {}", refused.message);
        let missing = prefixed_id(&Request::default(), "id", "acc_").unwrap_err();
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    }
}
