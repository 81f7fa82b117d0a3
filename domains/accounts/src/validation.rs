//! What clients send, checked field by field: every problem is reported at once, as the 422
//! details of DESIGN.md section 6.

use crate::account::ProfileChanges;
use huddle_http::{is_prefixed_id, FieldError};
use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::props::{BidiControl, DefaultIgnorableCodePoint};
use icu_properties::CodePointSetData;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Account ids are this and a ULID.
pub const ACCOUNT_ID_PREFIX: &str = "acc_";
const MEDIA_ID_PREFIX: &str = "med_";

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Bounds the work one login can cost the password hash.
pub const MAX_PASSWORD_CHARS: usize = 256;
pub const MAX_DISPLAY_NAME_CHARS: usize = 50;
pub const MAX_BIO_CHARS: usize = 300;
pub const MAX_INTERESTS: usize = 20;
/// An interest is a tag: at most this many of [`is_tag_char`]'s characters. Posts' `#tags` are
/// the same alphabet, so a tag found in a post is an interest someone may have.
pub const MAX_TAG_CHARS: usize = 30;

/// The alphabet of tags (interests, and posts' `#tags`), after lower-casing: a-z, digits, - and _.
pub fn is_tag_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
}

/// Names nobody may sign up with: they would pass for Huddle's staff or for a page of its
/// apps. Names that begin with `huddle` are reserved too (see [`is_reserved`]); names under
/// three characters (`me`, `v1`) cannot be usernames at all.
const RESERVED_USERNAMES: &[&str] = &[
    "about",
    "abuse",
    "account",
    "accounts",
    "admin",
    "administrator",
    "anonymous",
    "api",
    "billing",
    "contact",
    "email",
    "everyone",
    "explore",
    "feed",
    "help",
    "helpdesk",
    "home",
    "hostmaster",
    "info",
    "legal",
    "login",
    "logout",
    "mail",
    "media",
    "messages",
    "mod",
    "moderator",
    "moderators",
    "no_reply",
    "noreply",
    "notifications",
    "null",
    "official",
    "postmaster",
    "privacy",
    "profile",
    "register",
    "root",
    "search",
    "security",
    "sessions",
    "settings",
    "signin",
    "signup",
    "staff",
    "status",
    "support",
    "system",
    "team",
    "terms",
    "undefined",
    "user",
    "users",
    "webmaster",
    "www",
];

/// `POST /v1/accounts` as sent. Fields are optional here so that a missing one is a 422 with
/// its name, not a 400.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    /// Compared in lower case; some names are reserved.
    #[schema(required = true, nullable = false, pattern = "^[A-Za-z0-9_]{3,30}$")]
    pub username: Option<String>,
    #[schema(required = true, nullable = false, format = Email, max_length = 254)]
    pub email: Option<String>,
    #[schema(required = true, nullable = false, min_length = 10, max_length = 256)]
    pub password: Option<String>,
    #[schema(max_length = 50)]
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// A username or an email address.
    #[schema(required = true, nullable = false)]
    pub login: Option<String>,
    #[schema(required = true, nullable = false)]
    pub password: Option<String>,
}

/// `POST /v1/me/password` as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}

/// `DELETE /v1/me` as sent.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    pub password: Option<String>,
}

/// `PUT /v1/me/legacy-link` as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegacyLinkRequest {
    pub legacy_token: Option<String>,
    pub password: Option<String>,
}

/// `PATCH /v1/me` as sent: an absent field stays, `null` clears it (but `locked`, which is
/// `true` or `false`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub avatar_media_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub interests: Option<Option<Vec<String>>>,
    /// Whether follows of the account wait for its approval (follow requests).
    // Any JSON value is taken here, so that `null` or a string is a 422 naming the field.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = bool)]
    pub locked: Option<Option<Value>>,
}

/// A field that is present deserializes to `Some`, even when it is `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Usernames are compared and stored in lower case: `Ana` and `ana` are one name. Reserved names
/// pass here, so that lookups stay plain; sign-up refuses them.
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

/// A name sign-up refuses: one of [`RESERVED_USERNAMES`], or one that begins with `huddle`.
/// `name` is already normalised by [`username`].
fn is_reserved(name: &str) -> bool {
    name.starts_with("huddle") || RESERVED_USERNAMES.contains(&name)
}

/// Addresses are compared in one spelling, so that one mailbox cannot hold two accounts: trimmed,
/// lower-cased and NFC-normalised (a composed `ä` and `a` + U+0308 are one letter), with the
/// domain in its IDNA ASCII form (`exämple.com` is `xn--exmple-cua.com`, as mail servers see it).
/// Invisible characters are refused anywhere in an address.
pub fn email(raw: &str) -> Result<String, String> {
    let invalid = || "must be an email address such as ana@example.com".to_owned();
    let lowered = raw.trim().to_lowercase();
    let address = ComposingNormalizerBorrowed::new_nfc().normalize(&lowered);
    if address.chars().any(|c| c.is_whitespace() || c.is_control() || is_default_ignorable(c)) {
        return Err(invalid());
    }
    let (local, domain) = address.rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return Err(invalid());
    }
    // Strict: host-name letters, digits and hyphens only, and DNS's label and name lengths.
    let domain = idna::domain_to_ascii_strict(domain).map_err(|_| invalid())?;
    if !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return Err(invalid());
    }
    let address = format!("{local}@{domain}");
    if address.len() > 254 {
        return Err(invalid());
    }
    Ok(address)
}

/// Unicode's Default_Ignorable_Code_Point: characters that render as nothing (zero-width space
/// and joiners, U+2060, U+FEFF, the Hangul fillers U+115F/U+1160/U+3164/U+FFA0, variation
/// selectors, tags, the bidi controls …).
fn is_default_ignorable(c: char) -> bool {
    CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

/// A character that shows nothing where it stands: white space, the default-ignorables, and
/// U+2800 (the blank braille pattern, which fonts draw empty but Unicode counts as a symbol).
fn is_invisible(c: char) -> bool {
    c.is_whitespace() || is_default_ignorable(c) || c == '\u{2800}'
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

/// Trimmed text, `None` when empty; refused when longer than `max`, when holding control
/// characters other than line breaks or any Bidi_Control character, or when made only of
/// invisible characters.
///
/// Bidi controls (the embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069, and
/// the marks U+200E, U+200F, U+061C) are refused outright: overrides and isolates reorder
/// whatever the app shows after a name or a bio, which makes one name pass for another. The
/// marks cannot do that, but right-to-left text lays out without them when apps isolate user
/// text (as they must anyway), so the rule stays one Unicode property.
fn text(raw: &str, max: usize, multiline: bool) -> Result<Option<String>, String> {
    let trimmed = raw.trim();
    if trimmed.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if trimmed.chars().any(|c| c.is_control() && !(multiline && c == '\n')) {
        return Err("may not hold control characters".into());
    }
    if trimmed.chars().any(|c| CodePointSetData::new::<BidiControl>().contains(c)) {
        return Err("may not hold bidirectional control characters (U+202A–U+202E, U+2066–U+2069, \
                    U+200E, U+200F, U+061C)"
            .into());
    }
    if !trimmed.is_empty() && trimmed.chars().all(is_invisible) {
        return Err("must hold a visible character".into());
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// Media ids are `med_` and a ULID, as the media domain makes them.
fn media_id(raw: &str) -> Result<String, String> {
    if is_prefixed_id(raw, MEDIA_ID_PREFIX) {
        Ok(raw.to_owned())
    } else {
        Err("must be a media id such as med_01J…".into())
    }
}

/// Up to 20 tags, lower-cased, duplicates dropped in order. The list as sent holds at most 20
/// entries, duplicates included: it is capped before any tag is looked at, so a list of one tag
/// repeated 100,000 times costs one comparison, not a deduplication.
fn interests(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.len() > MAX_INTERESTS {
        return Err(format!("at most {MAX_INTERESTS} interests"));
    }
    let mut tags: Vec<String> = Vec::new();
    for tag in raw {
        let tag = tag.trim().to_lowercase();
        let length = tag.chars().count();
        if length == 0 || length > MAX_TAG_CHARS {
            return Err(format!("each interest must be 1 to {MAX_TAG_CHARS} characters"));
        }
        if !tag.chars().all(is_tag_char) {
            return Err("interests may hold only letters a-z, digits, - and _".into());
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// Collects each field's problem instead of stopping at the first.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        self.check_field(result.map_err(|message| FieldError::new(field, message)))
    }

    fn check_field<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|problem| self.0.push(problem)).ok()
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

/// `name`, unless sign-up refuses it as reserved: then a problem with its own code, which
/// becomes the code of the whole 422 (`username_reserved`), beside any other field's problem.
fn unreserved(name: String) -> Result<String, FieldError> {
    if is_reserved(&name) {
        Err(FieldError::new("username", "is reserved").with_code("username_reserved"))
    } else {
        Ok(name)
    }
}

pub fn sign_up(request: SignUpRequest) -> Result<SignUp, Vec<FieldError>> {
    let mut problems = Problems::default();
    let username = problems
        .required("username", request.username)
        .and_then(|u| problems.check("username", username(&u)))
        .and_then(|name| problems.check_field(unreserved(name)));
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

/// The legacy token (bounded before anyone parses it) and the account's password.
pub fn legacy_link(request: LegacyLinkRequest) -> Result<(String, String), Vec<FieldError>> {
    let mut problems = Problems::default();
    let token = problems.required("legacy_token", request.legacy_token).and_then(|token| {
        let bounded = if token.len() > MAX_TOKEN_CHARS {
            Err(format!("must be at most {MAX_TOKEN_CHARS} characters"))
        } else {
            Ok(token)
        };
        problems.check("legacy_token", bounded)
    });
    let password = problems.required("password", request.password);
    let pair = (|| Some((token?, password?)))();
    problems.finish(pair)
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
    let locked = match patch.locked {
        None => Some(None),
        Some(value) => {
            let flag =
                value.as_ref().and_then(Value::as_bool).ok_or_else(|| "must be true or false".to_owned());
            problems.check("locked", flag).map(Some)
        }
    };
    let changes = (|| {
        Some(ProfileChanges {
            display_name: display_name?,
            bio: bio?,
            avatar_media_id: avatar_media_id?,
            interests: interests?,
            locked: locked?,
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
    fn one_address_has_one_spelling_whatever_its_unicode_form() {
        let canonical = Ok("ana@xn--exmple-cua.com".to_owned());
        for spelling in
            ["ana@exämple.com", "ana@exa\u{308}mple.com", "ANA@EXÄMPLE.COM", "ana@xn--exmple-cua.com"]
        {
            assert_eq!(email(spelling), canonical, "{spelling}");
        }
        assert_eq!(email("ana@EXAMPLE.com"), Ok("ana@example.com".into()));
        assert_eq!(email("ze\u{301}@example.com"), email("zé@example.com"), "the local part is NFC too");
        assert_eq!(email("zé@example.com"), Ok("zé@example.com".into()));
        let long_label = format!("ana@{}.com", "a".repeat(64));
        for bad in [
            "ana\u{200b}@example.com",
            "ana@exa\u{200b}mple.com",
            "ana\u{202e}@example.com",
            "ana@exa_mple.com",
            "ana@-example.com",
            "ana@xn--a.com",
            long_label.as_str(),
        ] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_and_bios_refuse_bidi_controls_and_invisible_text() {
        let controls = [
            '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}',
            '\u{2069}', '\u{200e}', '\u{200f}', '\u{061c}',
        ];
        for control in controls {
            let name = format!("Ana{control}lima");
            assert!(
                text(&name, MAX_DISPLAY_NAME_CHARS, false).unwrap_err().contains("bidirectional"),
                "{control:?}"
            );
            assert!(text(&name, MAX_BIO_CHARS, true).is_err(), "{control:?} in a bio");
        }
        let invisible = [
            "\u{200b}",
            "\u{200c}\u{200d}",
            "\u{2060}",
            "\u{feff}",
            "\u{3164}",
            "\u{115f}\u{1160}",
            "\u{2800}",
            "\u{ffa0}",
            "\u{180e}",
            "\u{00ad}",
            "\u{034f}",
            "\u{fe0f}",
            " \u{200b} \u{3164} ",
        ];
        for blank in invisible {
            assert_eq!(
                text(blank, MAX_DISPLAY_NAME_CHARS, false),
                Err("must hold a visible character".into()),
                "{blank:?}"
            );
        }
        for visible in ["Ana", "👨\u{200d}👩\u{200d}👧", "می\u{200c}خواهم", "עִבְרִית", "Ana\u{2800}"]
        {
            assert_eq!(
                text(visible, MAX_DISPLAY_NAME_CHARS, false),
                Ok(Some(visible.to_owned())),
                "{visible}"
            );
        }
        assert_eq!(text("  ", MAX_DISPLAY_NAME_CHARS, false), Ok(None), "white space alone is no name");
    }

    #[test]
    fn reserved_names_are_refused_with_their_own_code() {
        for name in RESERVED_USERNAMES {
            assert_eq!(username(name).as_deref(), Ok(*name), "{name} is a username that could be asked for");
        }
        let request = |name: &str| SignUpRequest {
            username: Some(name.into()),
            email: Some("ana@example.com".into()),
            password: Some("short".into()),
            display_name: None,
        };
        for name in ["admin", "Administrator", "SUPPORT", "huddle", "huddle_team", "root"] {
            let problems = sign_up(request(name)).unwrap_err();
            assert_eq!(
                problems[0],
                FieldError::new("username", "is reserved").with_code("username_reserved"),
                "{name}"
            );
            assert_eq!(fields(problems), ["username", "password"], "every other problem is still reported");
        }
        assert_eq!(fields(sign_up(request("admins")).unwrap_err()), ["password"], "only the listed names");
    }

    #[test]
    fn interests_are_capped_as_sent_before_deduplication() {
        let copies = |n: usize| vec!["jazz".to_owned(); n];
        assert_eq!(interests(&copies(MAX_INTERESTS)), Ok(vec!["jazz".to_owned()]));
        assert_eq!(interests(&copies(MAX_INTERESTS + 1)), Err(format!("at most {MAX_INTERESTS} interests")));
        assert_eq!(interests(&copies(100_000)), Err(format!("at most {MAX_INTERESTS} interests")));
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
        assert_eq!(changes.locked, None, "absent: unchanged");

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

    #[test]
    fn a_patch_locks_with_true_or_false_and_nothing_else() {
        let changes = |body: &str| profile_changes(serde_json::from_str(body).unwrap());
        assert_eq!(changes(r#"{"locked": true}"#).unwrap().locked, Some(true));
        assert_eq!(changes(r#"{"locked": false}"#).unwrap().locked, Some(false));
        for bad in ["null", r#""true""#, "1", "{}", "[true]"] {
            assert_eq!(
                changes(&format!(r#"{{"locked": {bad}}}"#)).unwrap_err(),
                [FieldError::new("locked", "must be true or false")],
                "{bad}"
            );
        }
        let both = format!(r#"{{"locked": "yes", "bio": "{}"}}"#, "x".repeat(MAX_BIO_CHARS + 1));
        assert_eq!(fields(changes(&both).unwrap_err()), ["bio", "locked"], "every problem at once");
    }
}
