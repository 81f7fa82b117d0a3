//! The JSON shapes content takes and answers with.

use huddle_catalog::graph::Audience;
use huddle_media::views::MediaView;
use serde::{Deserialize, Serialize};

/// `POST /v1/posts`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    /// Up to 2,000 characters (grapheme clusters) and 16 KiB; may be empty when media is attached.
    #[serde(default)]
    pub text: String,
    /// 0 to 10 ready media of the caller's, shown in this order.
    #[serde(default)]
    pub media_ids: Vec<String>,
    /// `public`, `followers` (the default), `acquaintances`, `friends` or `close_friends`.
    #[schema(value_type = Option<String>, example = "followers")]
    pub audience: Option<Audience>,
    /// The post this one replies to.
    pub reply_to: Option<String>,
}

/// `PATCH /v1/posts/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostEdit {
    pub text: String,
}

/// A post as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PostView {
    pub id: String,
    pub author: String,
    pub text: String,
    /// The attached media that are still there, with presigned URLs for the next minutes.
    pub media: Vec<MediaView>,
    #[schema(value_type = String, example = "followers")]
    pub audience: Audience,
    pub reply_to: Option<String>,
    /// The root post of the thread (the post's own id when it is no reply).
    pub thread_id: String,
    /// The accounts the text's `@names` named when it was written.
    pub mentions: Vec<String>,
    pub tags: Vec<String>,
    pub like_count: u64,
    pub reply_count: u64,
    pub liked_by_me: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub edited_at: Option<String>,
}

/// A page of posts, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PostPage {
    pub items: Vec<PostView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// `PUT /v1/posts/{id}/like`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Liked {
    pub liked: bool,
    pub like_count: u64,
}
