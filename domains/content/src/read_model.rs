//! The content read table:
//!
//! | pk | sk | holds |
//! |---|---|---|
//! | `post#<id>` | `post` | a post's record: what `GET /v1/posts/{id}` shows but its counts |
//! | `counts#<id>` | `counts` | its like and reply counts, changed only by atomic adds |
//! | `replies#<parent>` | `<post id>` | an entry per reply (read backward: post ids are ULIDs, so newest first) |
//! | `posts-by#<author>` | `<post id>` | an entry per post of the author |
//! | `tag#<tag>` | `<post id>` | an entry per public post with the tag |
//! | `like#<post>#<liker>` | `like` | that the liker likes the post (`liked_by_me`) |
//! | `likes-by#<liker>` | `<post id>` | an entry per post the account likes, for its erasure |
//! | `thread#<id>` | `thread` | a video thread's record: what its view shows but its counts |
//! | `counts#<thread id>` | `counts` | its `entry_count`, changed only by atomic adds |
//! | `threads-by#<owner>` | `<thread id>` | an entry per thread of the owner (read backward: newest first) |
//! | `entry#<id>` | `entry` | a thread entry's record |
//! | `counts#<entry id>` | `counts` | its `like_count` |
//! | `entries#<thread>` | `<entry id>` | an entry per entry of the thread (read forward: oldest first) |
//! | `entries-by#<author>` | `<entry id>` | an entry per entry of the author, for its erasure |
//! | `like#<entry>#<liker>`, `likes-by#<liker>` | | an entry's likes, as a post's |
//! | `erased#<account>` | `erased` | the account was erased: its posts, threads, entries and likes leave, page by page |
//!
//! Entries carry the item's author and audience, so a list checks what the caller may see
//! before it reads any record. A thread's entries are listed with audience `public`: an entry
//! shows to whoever may see its thread (asked once for the page) and is not blocked either way
//! with the entrant, who is not erased (`may_see(viewer, entrant, public)`).

use huddle_catalog::content::JoinableBy;
use huddle_catalog::graph::Audience;
use huddle_graph::visibility::{may_view, GraphReader, Standing};
use huddle_ports::{get_all, Item, Key, Table, TableError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

pub fn post_key(post_id: &str) -> Key {
    Key::new(format!("post#{post_id}"), "post")
}

pub fn counts_key(post_id: &str) -> Key {
    Key::new(format!("counts#{post_id}"), "counts")
}

pub const LIKE_COUNT: &str = "like_count";
pub const REPLY_COUNT: &str = "reply_count";
pub const ENTRY_COUNT: &str = "entry_count";

pub fn thread_key(thread_id: &str) -> Key {
    Key::new(format!("thread#{thread_id}"), "thread")
}

pub fn entry_key(entry_id: &str) -> Key {
    Key::new(format!("entry#{entry_id}"), "entry")
}

pub fn like_key(post_id: &str, liker: &str) -> Key {
    Key::new(format!("like#{post_id}#{liker}"), "like")
}

pub fn erased_key(account: &str) -> Key {
    Key::new(format!("erased#{account}"), "erased")
}

/// Whether `viewer` may see what `author` shared with `audience`: the graph's rule (a block
/// either way hides it), and the author not erased. The command and the query both ask this.
pub async fn may_see(
    read_model: &dyn Table,
    graph: &GraphReader,
    viewer: &str,
    author: &str,
    audience: Audience,
) -> Result<bool, TableError> {
    let erased = erased_key(author);
    let (erased, may_view) =
        tokio::try_join!(read_model.get(&erased), graph.may_view(viewer, author, audience))?;
    Ok(erased.is_none() && may_view)
}

/// How many authors' standings with a viewer are read at once.
const STANDINGS_AT_ONCE: usize = 16;

/// [`may_see`] of each of `shared` (an author and an audience), in its order: the authors'
/// erasure markers in batches of reads, and each distinct author's standing with the viewer
/// once ([`STANDINGS_AT_ONCE`] at a time), so a page of a hundred posts by a few authors
/// costs a few reads, not two hundred.
pub async fn may_see_each(
    read_model: &dyn Table,
    graph: &GraphReader,
    viewer: &str,
    shared: &[(&str, Audience)],
) -> Result<Vec<bool>, TableError> {
    let mut authors: Vec<&str> = shared.iter().map(|(author, _)| *author).collect();
    authors.sort_unstable();
    authors.dedup();
    let markers: Vec<Key> = authors.iter().map(|author| erased_key(author)).collect();
    let standings = async {
        let mut standings = Vec::with_capacity(authors.len());
        for some in authors.chunks(STANDINGS_AT_ONCE) {
            let asked = some.iter().map(|author| standing_with(graph, viewer, author));
            standings.extend(futures::future::try_join_all(asked).await?);
        }
        Ok::<_, TableError>(standings)
    };
    let (markers, standings) = tokio::try_join!(get_all(read_model, &markers), standings)?;
    let standing: HashMap<&str, Option<Standing>> = authors
        .into_iter()
        .zip(markers.into_iter().zip(standings))
        .map(|(author, (marker, standing))| (author, marker.is_none().then_some(standing)))
        .collect();
    Ok(shared
        .iter()
        .map(|(author, audience)| {
            standing[author].is_some_and(|standing| may_view(viewer, author, *audience, &standing))
        })
        .collect())
}

/// The viewer's standing with `author` (none with itself: it sees its own).
async fn standing_with(graph: &GraphReader, viewer: &str, author: &str) -> Result<Standing, TableError> {
    match author == viewer {
        true => Ok(Standing::default()),
        false => graph.standing(viewer, author).await,
    }
}

/// Whether `viewer`, who may see a thread of `owner`'s, may add an entry to it now
/// ([`crate::thread::may_join`], with the follow read from the graph only where it matters).
pub async fn may_join(
    graph: &GraphReader,
    viewer: &str,
    owner: &str,
    joinable_by: JoinableBy,
) -> Result<bool, TableError> {
    let follows = match joinable_by {
        JoinableBy::Followers if viewer != owner => graph.standing(viewer, owner).await?.follows,
        _ => false,
    };
    Ok(crate::thread::may_join(viewer, owner, joinable_by, follows))
}

/// The lists, each newest first but a thread's entries (oldest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List<'a> {
    Replies {
        parent: &'a str,
    },
    By {
        author: &'a str,
    },
    /// Public posts only.
    Tag {
        tag: &'a str,
    },
    /// What the account likes (read by its erasure only).
    LikedBy {
        liker: &'a str,
    },
    /// The owner's threads.
    ThreadsBy {
        owner: &'a str,
    },
    /// The thread's entries, oldest first.
    Entries {
        thread: &'a str,
    },
    /// The author's entries (read by its erasure only).
    EntriesBy {
        author: &'a str,
    },
}

impl List<'_> {
    pub fn partition(self) -> String {
        match self {
            List::Replies { parent } => format!("replies#{parent}"),
            List::By { author } => format!("posts-by#{author}"),
            List::Tag { tag } => format!("tag#{tag}"),
            List::LikedBy { liker } => format!("likes-by#{liker}"),
            List::ThreadsBy { owner } => format!("threads-by#{owner}"),
            List::Entries { thread } => format!("entries#{thread}"),
            List::EntriesBy { author } => format!("entries-by#{author}"),
        }
    }

    /// Whether the list is read oldest first (its sort keys are ULID ids).
    pub fn oldest_first(self) -> bool {
        matches!(self, List::Entries { .. })
    }

    pub fn entry_key(self, post_id: &str) -> Key {
        Key::new(self.partition(), post_id)
    }

    /// The entry of `post` in this list.
    pub fn entry(self, post_id: &str, entry: &Entry) -> Item {
        self.entry_key(post_id).item(serde_json::to_value(entry).expect("entries serialize"))
    }
}

/// What a list entry holds: enough to decide whether the caller may see the post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub author: String,
    pub audience: Audience,
}

impl Entry {
    pub fn of(item: &Item) -> Result<Self, TableError> {
        decoded(item, "list entry")
    }
}

/// A record of the read table, read back.
fn decoded<T: DeserializeOwned>(item: &Item, what: &str) -> Result<T, TableError> {
    serde_json::from_value(Value::Object(item.clone()))
        .map_err(|e| TableError::Invalid(format!("a corrupt {what}: {e}")))
}

/// A post as the read table keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostRecord {
    pub author: String,
    pub text: String,
    pub media_ids: Vec<String>,
    pub audience: Audience,
    pub reply_to: Option<String>,
    pub thread_id: String,
    pub mentions: Vec<String>,
    pub tags: Vec<String>,
    /// RFC 3339.
    pub created_at: String,
    pub edited_at: Option<String>,
}

impl PostRecord {
    pub fn of(item: &Item) -> Result<Self, TableError> {
        decoded(item, "post record")
    }

    pub fn item(&self, post_id: &str) -> Item {
        post_key(post_id).item(serde_json::to_value(self).expect("records serialize"))
    }

    pub fn entry(&self, post_id: &str) -> Entry {
        Entry { id: post_id.to_owned(), author: self.author.clone(), audience: self.audience }
    }

    /// The lists the post is in: its author's, its parent's replies, and each of its tags' while
    /// it is public.
    pub fn lists(&self) -> Vec<List<'_>> {
        let mut lists = vec![List::By { author: &self.author }];
        lists.extend(self.reply_to.as_deref().map(|parent| List::Replies { parent }));
        if self.audience == Audience::Public {
            lists.extend(self.tags.iter().map(|tag| List::Tag { tag }));
        }
        lists
    }
}

/// A video thread as the read table keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadRecord {
    pub owner: String,
    pub title: String,
    pub media_id: String,
    pub audience: Audience,
    pub joinable_by: JoinableBy,
    /// RFC 3339.
    pub created_at: String,
    pub edited_at: Option<String>,
}

impl ThreadRecord {
    pub fn of(item: &Item) -> Result<Self, TableError> {
        decoded(item, "thread record")
    }

    pub fn item(&self, thread_id: &str) -> Item {
        thread_key(thread_id).item(serde_json::to_value(self).expect("records serialize"))
    }

    /// Its entry in its owner's list.
    pub fn entry(&self, thread_id: &str) -> Entry {
        Entry { id: thread_id.to_owned(), author: self.owner.clone(), audience: self.audience }
    }
}

/// A thread's entry as the read table keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    pub thread_id: String,
    pub thread_owner: String,
    /// The thread's.
    pub audience: Audience,
    pub author: String,
    pub media_id: String,
    pub text: String,
    /// RFC 3339.
    pub created_at: String,
}

impl EntryRecord {
    pub fn of(item: &Item) -> Result<Self, TableError> {
        decoded(item, "entry record")
    }

    pub fn item(&self, entry_id: &str) -> Item {
        entry_key(entry_id).item(serde_json::to_value(self).expect("records serialize"))
    }

    /// Its entry in the thread's list and its author's: public on the entrant's side (the
    /// thread's audience is asked of the thread).
    pub fn entry(&self, entry_id: &str) -> Entry {
        Entry { id: entry_id.to_owned(), author: self.author.clone(), audience: Audience::Public }
    }

    /// The lists the entry is in.
    pub fn lists(&self) -> [List<'_>; 2] {
        [List::Entries { thread: &self.thread_id }, List::EntriesBy { author: &self.author }]
    }
}

/// A post's counts, never below zero in a view.
pub fn count(item: Option<&Item>, name: &str) -> u64 {
    item.and_then(|item| item.get(name)).and_then(Value::as_i64).unwrap_or(0).max(0) as u64
}
