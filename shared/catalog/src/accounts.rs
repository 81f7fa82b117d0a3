//! Accounts: one `account#<id>` stream per account, and one reservation stream per username
//! (`username#<name>`), per email address (`email#<lookup>`, a keyed hash, so the log never
//! names an address) and per linked legacy subject (`legacy#<lookup>`). A reservation stream's
//! latest event says who holds the name; sign-up appends to the account and both name streams in
//! one transaction, which is what makes names unique.
//!
//! Each account that ever revoked its tokens also has a `sessions#<id>` stream: its version is
//! the account's token generation (a token carries the generation it was issued at and is
//! refused once the stream is past it), and its latest event says whether the account is gone.
//! The authorizer reads that one event per request, so revocation needs no projection.

use huddle_eventstore::EventSchema;
use serde::{Deserialize, Serialize};

/// What every account id begins with (a ULID follows).
pub const ACCOUNT_ID_PREFIX: &str = "acc_";

pub fn account_stream(account_id: &str) -> String {
    format!("account#{account_id}")
}

/// The account id of an `account#<id>` stream.
pub fn account_of_stream(stream: &str) -> Option<&str> {
    stream.strip_prefix("account#")
}

/// `username` as normalised (lower case).
pub fn username_stream(username: &str) -> String {
    format!("username#{username}")
}

/// `lookup` is the keyed hash of the normalised address.
pub fn email_stream(lookup: &str) -> String {
    format!("email#{lookup}")
}

/// `lookup` is the keyed hash of the legacy issuer's subject.
pub fn legacy_stream(lookup: &str) -> String {
    format!("legacy#{lookup}")
}

pub fn sessions_stream(account_id: &str) -> String {
    format!("sessions#{account_id}")
}

/// The events of an account stream. The personal fields (see [`EventSchema::personal_fields`])
/// are sealed under the account's key and unreadable once the account is erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum AccountEvent {
    AccountRegistered {
        username: String,
        email: String,
        password_hash: String,
        display_name: Option<String>,
    },
    /// The whole editable profile after the change.
    ProfileUpdated {
        display_name: Option<String>,
        bio: Option<String>,
        avatar_media_id: Option<String>,
        interests: Vec<String>,
    },
    /// Whether follows of the account wait for its approval (a follow request) from now on.
    LockChanged {
        locked: bool,
    },
    /// A new password; the account's sessions are revoked in the same transaction.
    PasswordChanged {
        password_hash: String,
    },
    /// The legacy application's user `subject` is this account (its `legacy#` reservation is
    /// claimed in the same transaction): the legacy issuer's tokens for `subject` speak for it.
    LegacySubjectLinked {
        subject: String,
    },
    /// The link ends (its `legacy#` reservation is released in the same transaction): every
    /// revocation ends it, so a link planted by whoever held a token does not outlive it.
    LegacySubjectUnlinked {
        subject: String,
    },
    /// The account's personal data is gone: its key is shredded in the same transaction.
    AccountErased,
}

impl EventSchema for AccountEvent {
    fn personal_fields(event_type: &str) -> &'static [&'static str] {
        match event_type {
            "AccountRegistered" => &["email", "password_hash", "display_name"],
            "ProfileUpdated" => &["display_name", "bio", "interests"],
            "PasswordChanged" => &["password_hash"],
            "LegacySubjectLinked" | "LegacySubjectUnlinked" => &["subject"],
            _ => &[],
        }
    }
}

/// The events of a username or email reservation stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum ReservationEvent {
    ReservationClaimed { account_id: String },
    ReservationReleased { account_id: String },
}

impl EventSchema for ReservationEvent {}

/// Why an account's tokens were revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// "Log out everywhere".
    SessionsEnded,
    PasswordChanged,
    /// The account is gone: no token of it is ever valid again.
    AccountErased,
}

/// The events of a `sessions#<id>` stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum SessionEvent {
    /// Every token issued before this event is refused from now on.
    SessionsRevoked { reason: RevocationReason },
}

impl EventSchema for SessionEvent {}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_eventstore::{encode_personal, SubjectKey};

    #[test]
    fn a_lock_change_is_appended_in_clear_for_the_graph_to_read_without_the_accounts_key() {
        let key = SubjectKey::generate("acc_1");
        let appended = encode_personal(&AccountEvent::LockChanged { locked: true }, &key);
        assert_eq!(appended.event_type, "LockChanged");
        assert_eq!(
            appended.payload.as_object().map(|payload| payload.len()),
            Some(1),
            "{}",
            appended.payload
        );
        assert_eq!(appended.payload["locked"].as_bool(), Some(true));
    }
}
