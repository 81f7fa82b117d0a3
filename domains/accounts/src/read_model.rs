//! The accounts read table:
//!
//! | pk | sk | holds |
//! |---|---|---|
//! | `account#<id>` | `profile` | the private view (`PrivateProfile`) |
//! | `username#<name>` | `<account id>` | who holds the name; the newest account wins while an erased holder's item is on its way out |

use crate::views::PrivateProfile;
use huddle_ports::{Key, Query, Table, TableError};
use serde_json::Value;

pub fn profile_key(account_id: &str) -> Key {
    Key::new(format!("account#{account_id}"), "profile")
}

pub fn username_key(username: &str, account_id: &str) -> Key {
    Key::new(format!("username#{username}"), account_id)
}

pub async fn profile(table: &dyn Table, account_id: &str) -> Result<Option<PrivateProfile>, TableError> {
    let Some(item) = table.get(&profile_key(account_id)).await? else { return Ok(None) };
    serde_json::from_value(Value::Object(item))
        .map(Some)
        .map_err(|e| TableError::Invalid(format!("corrupt profile: {e}")))
}

/// The account holding `username` (normalised), if any.
pub async fn account_named(table: &dyn Table, username: &str) -> Result<Option<String>, TableError> {
    let newest = table.query(&Query::new(format!("username#{username}")).backward().limit(1)).await?;
    Ok(newest.items.first().and_then(|item| item.get("sk")).and_then(Value::as_str).map(str::to_owned))
}
