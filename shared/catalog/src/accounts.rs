//! Accounts: one `account#<id>` stream per account, and one reservation stream per username
//! (`username#<name>`) and per email address (`email#<lookup>`, a keyed hash, so the log never
//! names an address). A reservation stream's latest event says who holds the name; sign-up
//! appends to all three in one transaction, which is what makes names unique.

use huddle_eventstore::EventSchema;
use serde::{Deserialize, Serialize};

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

/// The events of an account stream. The personal fields (see [`EventSchema::personal_fields`])
/// are sealed under the account's key and unreadable once the account is erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The account's personal data is gone: its key is shredded in the same transaction.
    AccountErased,
}

impl EventSchema for AccountEvent {
    fn personal_fields(event_type: &str) -> &'static [&'static str] {
        match event_type {
            "AccountRegistered" => &["email", "password_hash", "display_name"],
            "ProfileUpdated" => &["display_name", "bio", "interests"],
            _ => &[],
        }
    }
}

/// The account event types, for subscription filters.
pub const ACCOUNT_EVENT_TYPES: &[&str] = &["AccountRegistered", "ProfileUpdated", "AccountErased"];

/// The events of a username or email reservation stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ReservationEvent {
    ReservationClaimed { account_id: String },
    ReservationReleased { account_id: String },
}

impl EventSchema for ReservationEvent {}
