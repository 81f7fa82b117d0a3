//! The JSON shapes content takes and answers with.

use huddle_catalog::content::JoinableBy;
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

/// `POST /v1/threads`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewThread {
    /// 1 to 100 characters (grapheme clusters).
    pub title: String,
    /// A ready video of the caller's.
    pub media_id: String,
    /// `public`, `followers` (the default), `acquaintances`, `friends` or `close_friends`; for good.
    #[schema(value_type = Option<String>, example = "followers")]
    pub audience: Option<Audience>,
    /// Who besides the owner may add entries: `audience` (whoever may see the thread),
    /// `followers` (the default: those of them who follow the owner) or `nobody`.
    #[schema(value_type = Option<String>, example = "followers")]
    pub joinable_by: Option<JoinableBy>,
}

/// `PATCH /v1/threads/{id}`: what is sent changes, the rest stays; at least one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadChange {
    pub title: Option<String>,
    /// `nobody` closes the thread to new entries.
    #[schema(value_type = Option<String>, example = "nobody")]
    pub joinable_by: Option<JoinableBy>,
}

/// `POST /v1/threads/{id}/entries`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    /// A ready video of the caller's.
    pub media_id: String,
    /// Up to 2,000 characters, as a post's text (its `@names` and `#tags` stay text).
    #[serde(default)]
    pub text: String,
}

/// A video thread as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ThreadView {
    pub id: String,
    pub owner: String,
    pub title: String,
    /// The thread's video with presigned URLs for the next minutes (absent once it is gone).
    pub media: Option<MediaView>,
    #[schema(value_type = String, example = "followers")]
    pub audience: Audience,
    #[schema(value_type = String, example = "followers")]
    pub joinable_by: JoinableBy,
    pub entry_count: u64,
    /// Whether the caller may add an entry now.
    pub may_join: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub edited_at: Option<String>,
}

/// An entry of a video thread as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub id: String,
    pub thread_id: String,
    pub author: String,
    /// The entry's video with presigned URLs for the next minutes (absent once it is gone).
    pub media: Option<MediaView>,
    pub text: String,
    pub like_count: u64,
    pub liked_by_me: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// `GET /v1/threads/{id}`: the thread and a page of its entries, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThreadPage {
    pub thread: ThreadView,
    pub entries: Vec<EntryView>,
    /// Pass as `cursor` for the next page of entries; absent on the last.
    pub next_cursor: Option<String>,
}

/// A page of threads, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThreadList {
    pub items: Vec<ThreadView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}
