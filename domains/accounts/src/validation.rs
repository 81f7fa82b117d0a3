//! What clients send, checked field by field: every problem is reported at once, as the 422
//! details of DESIGN.md section 6.

use crate::account::ProfileChanges;
use huddle_http::FieldError;
use serde::{Deserialize, Deserializer};

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Bounds the work one login can cost the password hash.
pub const MAX_PASSWORD_CHARS: usize = 256;
pub const MAX_DISPLAY_NAME_CHARS: usize = 50;
pub const MAX_BIO_CHARS: usize = 300;
pub const MAX_INTERESTS: usize = 20;
pub const MAX_INTEREST_CHARS: usize = 30;

/// `POST /v1/accounts` as sent. Fields are optional here so that a missing one is a 422 with
/// its name, not a 400.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUp {
    pub username: String,
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
}

/// `POST /v1/sessions` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub login: Option<String>,
    pub password: Option<String>,
}

/// `POST /v1/me/password` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}

/// `DELETE /v1/me` as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    pub password: Option<String>,
}

/// `PUT /v1/me/legacy-link` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyLinkRequest {
    pub legacy_token: Option<String>,
}

/// `PATCH /v1/me` as sent: an absent field stays, `null` clears it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub avatar_media_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub interests: Option<Option<Vec<String>>>,
}

/// A field that is present deserializes to `Some`, even when it is `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Usernames are compared and stored in lower case: `Ana` and `ana` are one name.
pub fn username(raw: &str) -> Result<String, String> {
    let name = raw.to_lowercase();
    let length = name.chars().count();
    if !(3..=30).contains(&length) {
        return Err("must be 3 to 30 characters".into());
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err("may hold only letters a-z, digits and _".into());
    }
    Ok(name)
}

/// Addresses are trimmed and lower-cased, so one mailbox cannot hold two accounts by case.
pub fn email(raw: &str) -> Result<String, String> {
    let address = raw.trim().to_lowercase();
    let invalid = || Err("must be an email address such as ana@example.com".to_owned());
    if address.len() > 254 || address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid();
    }
    let Some((local, domain)) = address.rsplit_once('@') else { return invalid() };
    let domain_ok = domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
        return invalid();
    }
    Ok(address)
}

fn password(raw: &str) -> Result<String, String> {
    let length = raw.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    Ok(raw.to_owned())
}

/// Trimmed text, `None` when empty; refused when longer than `max` or holding control
/// characters other than line breaks.
fn text(raw: &str, max: usize, multiline: bool) -> Result<Option<String>, String> {
    let trimmed = raw.trim();
    if trimmed.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if trimmed.chars().any(|c| c.is_control() && !(multiline && c == '\n')) {
        return Err("may not hold control characters".into());
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// Media ids are `med_` and a ULID, as the media domain makes them.
fn media_id(raw: &str) -> Result<String, String> {
    match raw.strip_prefix("med_").map(ulid::Ulid::from_string) {
        Some(Ok(_)) => Ok(raw.to_owned()),
        _ => Err("must be a media id such as med_01J…".into()),
    }
}

/// Up to 20 tags, lower-cased, duplicates dropped in order.
fn interests(raw: &[String]) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in raw {
        let tag = tag.trim().to_lowercase();
        let length = tag.chars().count();
        if length == 0 || length > MAX_INTEREST_CHARS {
            return Err(format!("each interest must be 1 to {MAX_INTEREST_CHARS} characters"));
        }
        if !tag.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
            return Err("interests may hold only letters a-z, digits, - and _".into());
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_INTERESTS {
        return Err(format!("at most {MAX_INTERESTS} interests"));
    }
    Ok(tags)
}

/// Collects each field's problem instead of stopping at the first.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.0.push(FieldError::new(field, message))).ok()
    }

    fn required<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        self.check(field, value.ok_or_else(|| "is required".to_owned()))
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(self.0),
        }
    }
}

pub fn sign_up(request: SignUpRequest) -> Result<SignUp, Vec<FieldError>> {
    let mut problems = Problems::default();
    let username = problems
        .required("username", request.username)
        .and_then(|u| problems.check("username", username(&u)));
    let email = problems.required("email", request.email).and_then(|e| problems.check("email", email(&e)));
    let password = problems
        .required("password", request.password)
        .and_then(|p| problems.check("password", password(&p)));
    let display_name = match request.display_name {
        Some(name) => problems.check("display_name", text(&name, MAX_DISPLAY_NAME_CHARS, false)),
        None => Some(None),
    };
    let sign_up = (|| {
        Some(SignUp { username: username?, email: email?, password: password?, display_name: display_name? })
    })();
    problems.finish(sign_up)
}

/// The login and password of a login request; they are not validated beyond being present, so
/// a malformed login fails exactly as a wrong one does.
pub fn login(request: LoginRequest) -> Result<(String, String), Vec<FieldError>> {
    let mut problems = Problems::default();
    let login = problems.required("login", request.login);
    let password = problems.required("password", request.password);
    let pair = (|| Some((login?, password?)))();
    problems.finish(pair)
}

/// The current password (only present: it is verified, not validated) and the new one (held
/// to the rules of sign-up).
pub fn password_change(request: PasswordChangeRequest) -> Result<(String, String), Vec<FieldError>> {
    let mut problems = Problems::default();
    let current = problems.required("current_password", request.current_password);
    let new = problems
        .required("new_password", request.new_password)
        .and_then(|p| problems.check("new_password", password(&p)));
    let pair = (|| Some((current?, new?)))();
    problems.finish(pair)
}

pub fn erasure(request: ErasureRequest) -> Result<String, Vec<FieldError>> {
    let mut problems = Problems::default();
    let password = problems.required("password", request.password);
    problems.finish(password)
}

/// A legacy token is bounded in size before anyone parses it.
pub const MAX_TOKEN_CHARS: usize = 8 * 1024;

pub fn legacy_link(request: LegacyLinkRequest) -> Result<String, Vec<FieldError>> {
    let mut problems = Problems::default();
    let token = problems.required("legacy_token", request.legacy_token).and_then(|token| {
        let bounded = if token.len() > MAX_TOKEN_CHARS {
            Err(format!("must be at most {MAX_TOKEN_CHARS} characters"))
        } else {
            Ok(token)
        };
        problems.check("legacy_token", bounded)
    });
    problems.finish(token)
}

pub fn profile_changes(patch: ProfilePatch) -> Result<ProfileChanges, Vec<FieldError>> {
    let mut problems = Problems::default();
    let mut optional = |field: &str,
                        value: Option<Option<String>>,
                        check: &dyn Fn(&str) -> Result<Option<String>, String>| {
        match value {
            None => Some(None),
            Some(None) => Some(Some(None)),
            Some(Some(raw)) => problems.check(field, check(&raw)).map(Some),
        }
    };
    let display_name =
        optional("display_name", patch.display_name, &|raw| text(raw, MAX_DISPLAY_NAME_CHARS, false));
    let bio = optional("bio", patch.bio, &|raw| text(raw, MAX_BIO_CHARS, true));
    let avatar_media_id = optional("avatar_media_id", patch.avatar_media_id, &|raw| media_id(raw).map(Some));
    let interests = match patch.interests {
        None => Some(None),
        Some(None) => Some(Some(Vec::new())),
        Some(Some(tags)) => problems.check("interests", interests(&tags)).map(Some),
    };
    let changes = (|| {
        Some(ProfileChanges {
            display_name: display_name?,
            bio: bio?,
            avatar_media_id: avatar_media_id?,
            interests: interests?,
        })
    })();
    problems.finish(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(problems: Vec<FieldError>) -> Vec<String> {
        problems.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn usernames_are_lower_cased_and_limited() {
        assert_eq!(username("Ana_99"), Ok("ana_99".into()));
        for bad in ["ab", "a".repeat(31).as_str(), "ana!", "an a", "anä"] {
            assert!(username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn email_addresses_are_normalised_and_checked() {
        assert_eq!(email("  Ana@Example.COM "), Ok("ana@example.com".into()));
        for bad in
            ["ana", "@example.com", "ana@", "ana@example", "ana@exa mple.com", "ana@.com", "ana@example..com"]
        {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_sign_up_reports_every_bad_field_at_once() {
        let request = SignUpRequest {
            username: Some("x".into()),
            email: None,
            password: Some("short".into()),
            display_name: None,
        };
        assert_eq!(fields(sign_up(request).unwrap_err()), ["username", "email", "password"]);
        let request = SignUpRequest {
            username: Some("Ana".into()),
            email: Some("ana@example.com".into()),
            password: Some("correct horse".into()),
            display_name: Some("  ".into()),
        };
        let valid = sign_up(request).unwrap();
        assert_eq!((valid.username.as_str(), valid.display_name), ("ana", None));
    }

    #[test]
    fn a_patch_tells_absent_from_null_and_checks_interests() {
        let patch: ProfilePatch =
            serde_json::from_str(r#"{"bio": null, "interests": ["Running", "running", "jazz"]}"#).unwrap();
        let changes = profile_changes(patch).unwrap();
        assert_eq!(changes.display_name, None, "absent: unchanged");
        assert_eq!(changes.bio, Some(None), "null: cleared");
        assert_eq!(changes.interests, Some(vec!["running".to_owned(), "jazz".to_owned()]));

        let many: Vec<String> = (0..21).map(|n| format!("tag{n}")).collect();
        let patch = ProfilePatch {
            interests: Some(Some(many)),
            avatar_media_id: Some(Some("x".into())),
            ..ProfilePatch::default()
        };
        assert_eq!(fields(profile_changes(patch).unwrap_err()), ["avatar_media_id", "interests"]);
        assert!(
            serde_json::from_str::<ProfilePatch>(r#"{"displayname": "x"}"#).is_err(),
            "unknown fields are refused"
        );
    }
}
