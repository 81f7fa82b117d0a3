//! Content: one `post#<id>` stream per post (a reply is a post with a parent), and one short
//! `like#<post id>#<liker>` stream per post and account that liked it, so a like costs the same
//! on a post with a million likes as on one with none, and two likers never contend. An erased
//! account leaves the content read model a page at a time, each page a `content-erasure#<id>`
//! step (as the graph's `graph-erasure#`).
//!
//! Post text is user content published to an audience, not a field of the account: it is in
//! clear in the log (see ARCHITECTURE.md, "Decisions: content").

use crate::graph::Audience;
use huddle_eventstore::EventSchema;
use serde::{Deserialize, Serialize};

/// What every post id begins with (a ULID follows).
pub const POST_ID_PREFIX: &str = "pst_";

/// The stream types.
pub const POST: &str = "post";
pub const LIKE: &str = "like";
pub const ERASURE: &str = "content-erasure";

pub fn post_stream(post_id: &str) -> String {
    format!("{POST}#{post_id}")
}

/// The post id of a `post#<id>` stream.
pub fn post_of_stream(stream: &str) -> Option<&str> {
    stream.strip_prefix(POST)?.strip_prefix('#').filter(|id| !id.is_empty() && !id.contains('#'))
}

/// The stream of `liker`'s like of `item` (a post).
pub fn like_stream(item: &str, liker: &str) -> String {
    format!("{LIKE}#{item}#{liker}")
}

/// The item and the liker of a `like#<item>#<liker>` stream.
pub fn like_of_stream(stream: &str) -> Option<(&str, &str)> {
    let (item, liker) = stream.strip_prefix(LIKE)?.strip_prefix('#')?.split_once('#')?;
    (!item.is_empty() && !liker.is_empty() && !liker.contains('#')).then_some((item, liker))
}

pub fn erasure_stream(account: &str) -> String {
    format!("{ERASURE}#{account}")
}

/// The account a `content-erasure#` stream takes out of the content read model.
pub fn erased_account_of(stream: &str) -> Option<&str> {
    stream.strip_prefix(ERASURE)?.strip_prefix('#').filter(|account| !account.is_empty())
}

/// The events of a `post#` stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum PostEvent {
    /// A post, or a reply (`reply_to` its parent, `thread_id` the root post of the thread; a
    /// post that is no reply is its own thread's root). `mentions` are the account ids the
    /// text's `@names` named when it was written, `tags` its `#tags`, lower-cased.
    PostCreated {
        author: String,
        text: String,
        media_ids: Vec<String>,
        audience: Audience,
        reply_to: Option<String>,
        thread_id: String,
        mentions: Vec<String>,
        tags: Vec<String>,
    },
    /// The new text, and the mentions and tags it holds.
    PostEdited {
        text: String,
        mentions: Vec<String>,
        tags: Vec<String>,
    },
    PostDeleted,
}

impl EventSchema for PostEvent {}

/// The events of a `like#` stream: they alternate, beginning with `Liked`, so a projection that
/// adds one per `Liked` and subtracts one per `Unliked` counts exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum LikeEvent {
    Liked,
    Unliked,
}

impl EventSchema for LikeEvent {}

/// The events of a `content-erasure#` stream: the content projection's own record of taking an
/// erased account's posts and likes out of its read model, a page at a time. The projection
/// appends each when it applies the one before (the first when it applies `AccountErased`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum ErasureEvent {
    ErasureStepped,
}

impl EventSchema for ErasureEvent {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_name_their_post_or_like_and_nothing_else_does() {
        assert_eq!(post_of_stream(&post_stream("pst_1")), Some("pst_1"));
        assert_eq!(like_of_stream(&like_stream("pst_1", "acc_2")), Some(("pst_1", "acc_2")));
        assert_eq!(erased_account_of(&erasure_stream("acc_1")), Some("acc_1"));
        for other in
            ["post#", "post#a#b", "postx#a", "like#pst_1", "like#pst_1#", "like##acc_1", "like#a#b#c"]
        {
            assert!(post_of_stream(other).is_none() && like_of_stream(other).is_none(), "{other}");
        }
        assert_eq!(erased_account_of("content-erasure#"), None);
    }
}
