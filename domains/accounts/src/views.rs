//! The JSON shapes of an account: the public profile anyone signed in may read, and the
//! private view (with the email address) its owner sees. The read model stores the private
//! view, so the query role serves both from one item.

use crate::account::ActiveAccount;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicProfile {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_media_id: Option<String>,
    pub interests: Vec<String>,
    /// Whether follows of the account wait for its approval (follow requests).
    // Read items projected before accounts could lock have none: they were unlocked.
    #[serde(default)]
    #[schema(required = true)]
    pub locked: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// Another account's profile as `GET /v1/accounts/…` shows it: the public profile, and the
/// follow counts the graph keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    #[serde(flatten)]
    pub profile: PublicProfile,
    pub followers_count: u64,
    pub following_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PrivateProfile {
    #[serde(flatten)]
    pub public: PublicProfile,
    pub email: String,
}

impl PrivateProfile {
    pub fn of(account_id: &str, account: &ActiveAccount, created_at: OffsetDateTime) -> Self {
        let profile = &account.profile;
        Self {
            public: PublicProfile {
                id: account_id.to_owned(),
                username: account.username.clone(),
                display_name: profile.display_name.clone(),
                bio: profile.bio.clone(),
                avatar_media_id: profile.avatar_media_id.clone(),
                interests: profile.interests.clone(),
                locked: account.locked,
                created_at,
            },
            email: account.email.clone(),
        }
    }
}

/// The answer to a sign-up or a login: the account and a bearer token for it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    pub account: PrivateProfile,
    pub token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_item_projected_before_accounts_could_lock_reads_as_unlocked() {
        let before_locks = serde_json::json!({
            "id": "acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6",
            "username": "ana",
            "display_name": "Ana",
            "bio": null,
            "avatar_media_id": null,
            "interests": [],
            "created_at": "2026-11-23T10:00:00Z",
            "email": "ana@example.com",
        });
        let view: PrivateProfile = serde_json::from_value(before_locks).expect("an older item reads");
        assert!(!view.public.locked);
        assert_eq!(serde_json::to_value(&view.public).unwrap()["locked"], false, "and shows it");
    }
}
