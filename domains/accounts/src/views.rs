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
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
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
