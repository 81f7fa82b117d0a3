//! Content: one `post#<id>` stream per post (a reply is a post with a parent), and one short
//! `like#<post id>#<liker>` stream per post and account that liked it, so a like costs the same
//! on a post with a million likes as on one with none, and two likers never contend. An erased
//! account leaves the content read model a page at a time, each page a `content-erasure#<id>`
//! step (as the graph's `graph-erasure#`).
//!
//! Video threads: one `thread#<thr_…>` stream per thread (a story others join: its title, its
//! video, who may see it and who may join it) and one `entry#<ent_…>` stream per entry (a
//! video, and text, an account added to a thread). An entry carries what deciding on it needs
//! of its thread (the owner, who may remove any entry, and the audience), so its decider stays
//! pure. Likes of entries are `like#<entry id>#<liker>` streams, as likes of posts.
//!
//! Post text is user content published to an audience, not a field of the account: it is in
//! clear in the log (see ARCHITECTURE.md, "Decisions: content").

use crate::graph::Audience;
use huddle_eventstore::EventSchema;
use serde::{Deserialize, Serialize};

/// What every post id begins with (a ULID follows).
pub const POST_ID_PREFIX: &str = "pst_";

/// What every thread id begins with (a ULID follows).
pub const THREAD_ID_PREFIX: &str = "thr_";
/// What every entry id begins with (a ULID follows).
pub const ENTRY_ID_PREFIX: &str = "ent_";

/// The stream types.
pub const POST: &str = "post";
pub const THREAD: &str = "thread";
pub const ENTRY: &str = "entry";
pub const LIKE: &str = "like";
pub const ERASURE: &str = "content-erasure";

pub fn post_stream(post_id: &str) -> String {
    format!("{POST}#{post_id}")
}

/// The post id of a `post#<id>` stream.
pub fn post_of_stream(stream: &str) -> Option<&str> {
    single_id_of(stream, POST)
}

pub fn thread_stream(thread_id: &str) -> String {
    format!("{THREAD}#{thread_id}")
}

/// The thread id of a `thread#<id>` stream.
pub fn thread_of_stream(stream: &str) -> Option<&str> {
    single_id_of(stream, THREAD)
}

pub fn entry_stream(entry_id: &str) -> String {
    format!("{ENTRY}#{entry_id}")
}

/// The entry id of an `entry#<id>` stream.
pub fn entry_of_stream(stream: &str) -> Option<&str> {
    single_id_of(stream, ENTRY)
}

/// The id of a `<stream_type>#<id>` stream whose id holds no `#`.
fn single_id_of<'s>(stream: &'s str, stream_type: &str) -> Option<&'s str> {
    stream.strip_prefix(stream_type)?.strip_prefix('#').filter(|id| !id.is_empty() && !id.contains('#'))
}

/// The stream of `liker`'s like of `item` (a post or a thread entry).
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

/// Who may add an entry to a thread besides its owner (who always may): everyone its audience
/// lets see it, only those of them who follow the owner, or nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
pub enum JoinableBy {
    Audience,
    Followers,
    Nobody,
}

/// The events of a `thread#` stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum ThreadEvent {
    /// A thread begun by `owner` with a ready video of the owner's (`media_id`), shown to
    /// `audience` for good (entries carry it).
    ThreadCreated {
        owner: String,
        title: String,
        media_id: String,
        audience: Audience,
        joinable_by: JoinableBy,
    },
    /// The owner's change: the title and who may join, as they are after it.
    ThreadChanged {
        title: String,
        joinable_by: JoinableBy,
    },
    ThreadDeleted,
}

impl EventSchema for ThreadEvent {}

/// The events of an `entry#` stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum EntryEvent {
    /// `author`'s entry in thread `thread_id`: a ready video of the author's and text (may be
    /// empty). `thread_owner` (who may remove it too) and `audience` are the thread's.
    EntryAdded {
        thread_id: String,
        thread_owner: String,
        audience: Audience,
        author: String,
        media_id: String,
        text: String,
    },
    /// Removed by its author or the thread's owner, for good.
    EntryRemoved,
}

impl EventSchema for EntryEvent {}

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

    #[test]
    fn thread_and_entry_streams_name_their_id_and_nothing_else_does() {
        assert_eq!(thread_of_stream(&thread_stream("thr_1")), Some("thr_1"));
        assert_eq!(entry_of_stream(&entry_stream("ent_1")), Some("ent_1"));
        assert_eq!(like_of_stream(&like_stream("ent_1", "acc_2")), Some(("ent_1", "acc_2")));
        for other in ["thread#", "thread#a#b", "threads#a", "entry#", "entry#a#b", "entryx#a", "post#thr_1"] {
            assert!(thread_of_stream(other).is_none() && entry_of_stream(other).is_none(), "{other}");
        }
        assert_eq!(post_of_stream(&thread_stream("thr_1")), None);
    }
}
