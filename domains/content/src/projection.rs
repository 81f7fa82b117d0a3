//! The projector role: posts, likes, threads and their entries into the read table (see
//! `read_model`), and an erased account out of it. Each event's writes follow from the event and
//! the item its own stream keeps (a post's, thread's or entry's record, a like's item), which
//! only that stream and the erasure write: both delete such an item only as they read it (a condition that it is still there), so of an
//! erasure step and a deletion racing, one counts the post or like out and the other is applied
//! again to nothing. Counts change by atomic adds in the event's transaction.

use crate::read_model::{
    counts_key, entry_key, erased_key, like_key, post_key, thread_key, EntryRecord, List, PostRecord,
    ThreadRecord, ENTRY_COUNT, LIKE_COUNT, REPLY_COUNT,
};
use async_trait::async_trait;
use huddle_catalog::accounts::account_of_stream;
use huddle_catalog::content::{
    entry_of_stream, erased_account_of, erasure_stream, like_of_stream, post_of_stream, thread_of_stream,
    EntryEvent, ErasureEvent, LikeEvent, PostEvent, ThreadEvent,
};
use huddle_delivery::{Projected, Projection, ProjectionError};
use huddle_eventstore::{
    decode, encode, AppendError, Envelope, EventSchema, EventStore, ExpectedVersion, Metadata,
};
use huddle_ports::{Condition, Item, Key, Query, Table, TransactWrite};
use serde::de::DeserializeOwned;
use serde_json::json;
use std::collections::HashSet;
use time::format_description::well_known::Rfc3339;

pub struct ContentProjection {
    /// Where the erasure steps are appended.
    pub events: EventStore,
}

/// How many posts one erasure step takes out: each is up to 4 writes and one per tag.
pub const ERASURE_POSTS: usize = 5;
/// How many likes one erasure step takes back: 3 writes each.
pub const ERASURE_LIKES: usize = 25;
/// How many threads one erasure step takes out: 2 writes each.
pub const ERASURE_THREADS: usize = 25;
/// How many entries one erasure step takes out: 4 writes each.
pub const ERASURE_ENTRIES: usize = 20;

/// The liker attribute of a like's item.
const LIKER: &str = "liker";
/// The author attribute of a post's or an entry's record.
const AUTHOR: &str = "author";
/// The owner attribute of a thread's record.
const OWNER: &str = "owner";

fn decoded<E: EventSchema + DeserializeOwned>(event: &Envelope) -> Result<E, ProjectionError> {
    decode(event).map_err(|e| ProjectionError::Invalid(e.to_string()))
}

fn put(item: Item) -> TransactWrite {
    TransactWrite::Put { item, condition: Condition::Always }
}

fn delete(key: Key) -> TransactWrite {
    TransactWrite::Delete { key, condition: Condition::Always }
}

fn add(key: Key, attribute: &str, delta: i64) -> TransactWrite {
    TransactWrite::Add { key, attribute: attribute.into(), delta }
}

/// What makes or keeps an account's post or like rests on the account not being erased: once
/// its marker is there (before its erasure reads anything), a transaction that read no marker
/// fails here and is applied again, to nothing.
fn not_erased(account: &str) -> TransactWrite {
    TransactWrite::Check { key: erased_key(account), condition: Condition::NotExists }
}

async fn erased(read_model: &dyn Table, account: &str) -> Result<bool, ProjectionError> {
    Ok(read_model.get(&erased_key(account)).await?.is_some())
}

async fn record(read_model: &dyn Table, post_id: &str) -> Result<Option<PostRecord>, ProjectionError> {
    let item = read_model.get(&post_key(post_id)).await?;
    Ok(item.as_ref().map(PostRecord::of).transpose()?)
}

/// The writes that take post `post_id` (`record` as read) out of the read table: its record
/// (only as read), its entries, its parent's reply count.
fn post_removed(post_id: &str, record: &PostRecord) -> Vec<TransactWrite> {
    let as_read = Condition::attribute_equals(AUTHOR, record.author.as_str());
    let mut writes = vec![TransactWrite::Delete { key: post_key(post_id), condition: as_read }];
    writes.extend(record.lists().into_iter().map(|list| delete(list.entry_key(post_id))));
    writes.extend(record.reply_to.as_deref().map(|parent| add(counts_key(parent), REPLY_COUNT, -1)));
    writes
}

async fn thread_record(
    read_model: &dyn Table,
    thread_id: &str,
) -> Result<Option<ThreadRecord>, ProjectionError> {
    let item = read_model.get(&thread_key(thread_id)).await?;
    Ok(item.as_ref().map(ThreadRecord::of).transpose()?)
}

async fn entry_record(
    read_model: &dyn Table,
    entry_id: &str,
) -> Result<Option<EntryRecord>, ProjectionError> {
    let item = read_model.get(&entry_key(entry_id)).await?;
    Ok(item.as_ref().map(EntryRecord::of).transpose()?)
}

/// The writes that take thread `thread_id` (`record` as read) out of the read table: its record
/// (only as read) and its owner's list entry. Its entries stay where they are, unreachable: every
/// read of one goes through the thread (see ARCHITECTURE.md, "Decisions: content").
fn thread_removed(thread_id: &str, record: &ThreadRecord) -> Vec<TransactWrite> {
    let as_read = Condition::attribute_equals(OWNER, record.owner.as_str());
    vec![
        TransactWrite::Delete { key: thread_key(thread_id), condition: as_read },
        delete(List::ThreadsBy { owner: &record.owner }.entry_key(thread_id)),
    ]
}

/// The writes that take entry `entry_id` (`record` as read) out: its record (only as read), its
/// list entries, its thread's entry count.
fn entry_removed(entry_id: &str, record: &EntryRecord) -> Vec<TransactWrite> {
    let as_read = Condition::attribute_equals(AUTHOR, record.author.as_str());
    let mut writes = vec![TransactWrite::Delete { key: entry_key(entry_id), condition: as_read }];
    writes.extend(record.lists().into_iter().map(|list| delete(list.entry_key(entry_id))));
    writes.push(add(counts_key(&record.thread_id), ENTRY_COUNT, -1));
    writes
}

/// The writes that take `liker`'s like of `post_id` back (its item only as read).
fn like_removed(post_id: &str, liker: &str) -> Vec<TransactWrite> {
    vec![
        TransactWrite::Delete {
            key: like_key(post_id, liker),
            condition: Condition::attribute_equals(LIKER, liker),
        },
        delete(List::LikedBy { liker }.entry_key(post_id)),
        add(counts_key(post_id), LIKE_COUNT, -1),
    ]
}

#[async_trait]
impl Projection for ContentProjection {
    async fn project(&self, event: &Envelope, read_model: &dyn Table) -> Result<Projected, ProjectionError> {
        if let Some(post_id) = post_of_stream(&event.stream) {
            return project_post(post_id, event, read_model).await;
        }
        if let Some((item, liker)) = like_of_stream(&event.stream) {
            return project_like(item, liker, event, read_model).await;
        }
        if let Some(thread_id) = thread_of_stream(&event.stream) {
            return project_thread(thread_id, event, read_model).await;
        }
        if let Some(entry_id) = entry_of_stream(&event.stream) {
            return project_entry(entry_id, event, read_model).await;
        }
        if let Some(account) = account_of_stream(&event.stream) {
            return self.project_account(account, event, read_model).await;
        }
        if let Some(account) = erased_account_of(&event.stream) {
            return self.erasure_step(account, event, read_model).await;
        }
        Err(ProjectionError::Invalid(format!("{} is not a stream content keeps", event.stream)))
    }
}

async fn project_post(
    post_id: &str,
    event: &Envelope,
    read_model: &dyn Table,
) -> Result<Projected, ProjectionError> {
    let at = occurred(event)?;
    Ok(match decoded::<PostEvent>(event)? {
        PostEvent::PostCreated { author, text, media_ids, audience, reply_to, thread_id, mentions, tags } => {
            if erased(read_model, &author).await? {
                return Ok(Projected::nothing());
            }
            let record = PostRecord {
                author,
                text,
                media_ids,
                audience,
                reply_to,
                thread_id,
                mentions,
                tags,
                created_at: at,
                edited_at: None,
            };
            let entry = record.entry(post_id);
            let mut writes = vec![put(record.item(post_id)), not_erased(&record.author)];
            writes.extend(record.lists().into_iter().map(|list| put(list.entry(post_id, &entry))));
            writes.extend(record.reply_to.as_deref().map(|parent| add(counts_key(parent), REPLY_COUNT, 1)));
            writes
        }
        PostEvent::PostEdited { text, mentions, tags } => {
            // Gone (deleted, or its author erased): nothing to edit.
            let Some(was) = record(read_model, post_id).await? else { return Ok(Projected::nothing()) };
            let now = PostRecord { text, mentions, tags, edited_at: Some(at), ..was.clone() };
            let entry = now.entry(post_id);
            let (before, after) = (was.lists(), now.lists());
            let as_read = Condition::attribute_equals(AUTHOR, was.author.as_str());
            let mut writes = vec![TransactWrite::Put { item: now.item(post_id), condition: as_read }];
            writes.extend(
                before
                    .iter()
                    .filter(|list| !after.contains(list))
                    .map(|list| delete(list.entry_key(post_id))),
            );
            writes.extend(
                after
                    .iter()
                    .filter(|list| !before.contains(list))
                    .map(|list| put(list.entry(post_id, &entry))),
            );
            writes
        }
        PostEvent::PostDeleted => match record(read_model, post_id).await? {
            Some(was) => post_removed(post_id, &was),
            None => vec![],
        },
    }
    .into())
}

/// When `event` happened, as records keep it.
fn occurred(event: &Envelope) -> Result<String, ProjectionError> {
    event.occurred_at.format(&Rfc3339).map_err(|e| ProjectionError::Invalid(e.to_string()))
}

async fn project_thread(
    thread_id: &str,
    event: &Envelope,
    read_model: &dyn Table,
) -> Result<Projected, ProjectionError> {
    Ok(match decoded::<ThreadEvent>(event)? {
        ThreadEvent::ThreadCreated { owner, title, media_id, audience, joinable_by } => {
            if erased(read_model, &owner).await? {
                return Ok(Projected::nothing());
            }
            let record = ThreadRecord {
                owner,
                title,
                media_id,
                audience,
                joinable_by,
                created_at: occurred(event)?,
                edited_at: None,
            };
            let listed = List::ThreadsBy { owner: &record.owner }.entry(thread_id, &record.entry(thread_id));
            vec![put(record.item(thread_id)), put(listed), not_erased(&record.owner)]
        }
        ThreadEvent::ThreadChanged { title, joinable_by } => {
            // Gone (deleted, or its owner erased): nothing to change.
            let Some(was) = thread_record(read_model, thread_id).await? else {
                return Ok(Projected::nothing());
            };
            let as_read = Condition::attribute_equals(OWNER, was.owner.as_str());
            let now = ThreadRecord { title, joinable_by, edited_at: Some(occurred(event)?), ..was };
            vec![TransactWrite::Put { item: now.item(thread_id), condition: as_read }]
        }
        ThreadEvent::ThreadDeleted => match thread_record(read_model, thread_id).await? {
            Some(was) => thread_removed(thread_id, &was),
            None => vec![],
        },
    }
    .into())
}

async fn project_entry(
    entry_id: &str,
    event: &Envelope,
    read_model: &dyn Table,
) -> Result<Projected, ProjectionError> {
    Ok(match decoded::<EntryEvent>(event)? {
        EntryEvent::EntryAdded { thread_id, thread_owner, audience, author, media_id, text } => {
            if erased(read_model, &author).await? {
                return Ok(Projected::nothing());
            }
            let record = EntryRecord {
                thread_id,
                thread_owner,
                audience,
                author,
                media_id,
                text,
                created_at: occurred(event)?,
            };
            let entry = record.entry(entry_id);
            let mut writes = vec![put(record.item(entry_id)), not_erased(&record.author)];
            writes.extend(record.lists().into_iter().map(|list| put(list.entry(entry_id, &entry))));
            writes.push(add(counts_key(&record.thread_id), ENTRY_COUNT, 1));
            writes
        }
        // Taken out by its author's erasure already: nothing left to take.
        EntryEvent::EntryRemoved => match entry_record(read_model, entry_id).await? {
            Some(was) => entry_removed(entry_id, &was),
            None => vec![],
        },
    }
    .into())
}

async fn project_like(
    post_id: &str,
    liker: &str,
    event: &Envelope,
    read_model: &dyn Table,
) -> Result<Projected, ProjectionError> {
    Ok(match decoded::<LikeEvent>(event)? {
        LikeEvent::Liked => {
            if erased(read_model, liker).await? {
                return Ok(Projected::nothing());
            }
            vec![
                put(like_key(post_id, liker).item(json!({ LIKER: liker }))),
                put(List::LikedBy { liker }.entry_key(post_id).item(json!({ "id": post_id }))),
                add(counts_key(post_id), LIKE_COUNT, 1),
                not_erased(liker),
            ]
        }
        // Taken back by the liker's erasure already: nothing left to take.
        LikeEvent::Unliked => match read_model.get(&like_key(post_id, liker)).await? {
            Some(_) => like_removed(post_id, liker),
            None => vec![],
        },
    }
    .into())
}

/// The metadata of what content appends as it applies `event`.
fn caused_by(event: &Envelope) -> Metadata {
    Metadata::new(event.correlation_id.clone()).actor("system:content").caused_by(event.event_id.to_string())
}

impl ContentProjection {
    /// An erased account: marked (directly, so the mark is there before the first step reads
    /// anything; a repeat is the same put), and its erasure's first step appended if it has
    /// posts, threads, entries or likes. Every other
    /// account event is nothing to content (read by type: sealed payloads are never opened).
    async fn project_account(
        &self,
        account: &str,
        event: &Envelope,
        read_model: &dyn Table,
    ) -> Result<Projected, ProjectionError> {
        if event.event_type != "AccountErased" {
            return Ok(Projected::nothing());
        }
        read_model.put(erased_key(account).item(json!({})), Condition::Always).await?;
        // An account with nothing in its lists has nothing to take out: no step. Read after the
        // mark, so what was committed before it is found, and what was not yet committed fails
        // its check of the mark.
        let has_any = |(list, _): (List<'_>, usize)| {
            let query = Query::new(list.partition()).limit(1);
            async move { Ok::<_, ProjectionError>(!read_model.query(&query).await?.items.is_empty()) }
        };
        let found = futures::future::try_join_all(erased_lists(account).into_iter().map(has_any)).await?;
        if !found.contains(&true) {
            return Ok(Projected::nothing());
        }
        // Each application starts a step: a replay sweeps again after the mark.
        let first = vec![encode(&ErasureEvent::ErasureStepped)];
        self.events
            .append(&erasure_stream(account), ExpectedVersion::Any, first, &caused_by(event), None)
            .await?;
        Ok(Projected::nothing())
    }

    /// One step of taking an erased account out: a page of its posts, or once none is left of
    /// its threads, then of its entries, then of its likes, taken out in this step's
    /// transaction, and the next step appended (the projector applies it after this one). A step
    /// that finds nothing is the last.
    async fn erasure_step(
        &self,
        account: &str,
        event: &Envelope,
        read_model: &dyn Table,
    ) -> Result<Projected, ProjectionError> {
        let mut writes = Vec::new();
        for list in erased_lists(account) {
            writes = erased_page(list, read_model).await?;
            if !writes.is_empty() {
                break;
            }
        }
        if writes.is_empty() {
            return Ok(Projected::nothing());
        }
        let next = vec![encode(&ErasureEvent::ErasureStepped)];
        let after_this = ExpectedVersion::Exact(event.version);
        match self.events.append(&event.stream, after_this, next, &caused_by(event), None).await {
            // A step applied again (its transaction failed) finds the next one appended already.
            Ok(_) | Err(AppendError::Conflict { .. }) => Ok(writes.into()),
            Err(error) => Err(error.into()),
        }
    }
}

/// The lists of what an erased account leaves, in the order its erasure takes them, each with
/// how many of its items one step takes.
fn erased_lists(account: &str) -> [(List<'_>, usize); 4] {
    [
        (List::By { author: account }, ERASURE_POSTS),
        (List::ThreadsBy { owner: account }, ERASURE_THREADS),
        (List::EntriesBy { author: account }, ERASURE_ENTRIES),
        (List::LikedBy { liker: account }, ERASURE_LIKES),
    ]
}

/// The writes that take the first `page` items of `list` (one of [`erased_lists`]) out. A transaction
/// changes an item once: two replies to one parent, or two entries of one thread, go in two steps.
async fn erased_page(
    (list, page): (List<'_>, usize),
    read_model: &dyn Table,
) -> Result<Vec<TransactWrite>, ProjectionError> {
    let items = read_model.query(&Query::new(list.partition()).limit(page)).await?.items;
    let ids = items.iter().filter_map(|item| item.get("sk").and_then(serde_json::Value::as_str));
    let mut writes = Vec::new();
    let mut counted = HashSet::new();
    for id in ids {
        match list {
            List::By { .. } => match record(read_model, id).await? {
                Some(was) if was.reply_to.as_ref().is_none_or(|parent| counted.insert(parent.clone())) => {
                    writes.extend(post_removed(id, &was))
                }
                Some(_) => {}
                // An entry whose record is gone (a corrupt table): the entry goes too.
                None => writes.push(delete(list.entry_key(id))),
            },
            List::ThreadsBy { .. } => match thread_record(read_model, id).await? {
                Some(was) => writes.extend(thread_removed(id, &was)),
                None => writes.push(delete(list.entry_key(id))),
            },
            List::EntriesBy { .. } => match entry_record(read_model, id).await? {
                Some(was) if counted.insert(was.thread_id.clone()) => writes.extend(entry_removed(id, &was)),
                Some(_) => {}
                None => writes.push(delete(list.entry_key(id))),
            },
            List::LikedBy { liker } => writes.extend(like_removed(id, liker)),
            List::Replies { .. } | List::Tag { .. } | List::Entries { .. } => {}
        }
    }
    Ok(writes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_catalog::accounts::AccountEvent;
    use huddle_catalog::content::{like_stream, post_stream};
    use huddle_catalog::graph::Audience;
    use huddle_delivery::Projector;
    use huddle_embedded::{Database, SqliteTable};
    use std::sync::Arc;

    /// An events table and a read table in one in-memory database, and content's projector.
    struct Content {
        events: EventStore,
        read_model: Arc<dyn Table>,
        projector: Projector,
    }

    impl Content {
        fn new() -> Self {
            let db = Database::in_memory().unwrap();
            let events = EventStore::new(Arc::new(SqliteTable::new(&db, "events", true)));
            let read_model: Arc<dyn Table> = Arc::new(SqliteTable::new(&db, "content", false));
            let projection = ContentProjection { events: events.clone() };
            let projector = Projector::new(Arc::new(projection), read_model.clone(), events.clone());
            Self { events, read_model, projector }
        }

        /// Appends `event` to `stream` and projects the stream.
        async fn record<E: EventSchema>(&self, stream: &str, event: E) {
            let metadata = Metadata::new("test");
            self.events
                .append(stream, ExpectedVersion::Any, vec![encode(&event)], &metadata, None)
                .await
                .unwrap();
            self.project(stream).await;
        }

        async fn project(&self, stream: &str) {
            let envelopes = self.events.read_stream(stream, 1..).await.unwrap();
            self.projector.apply_stream(envelopes).await.unwrap();
        }

        async fn created(&self, post: &str, author: &str, reply_to: Option<&str>, tags: &[&str]) {
            let created = PostEvent::PostCreated {
                author: author.into(),
                text: "text".into(),
                media_ids: vec![],
                audience: Audience::Public,
                reply_to: reply_to.map(Into::into),
                thread_id: reply_to.unwrap_or(post).into(),
                mentions: vec![],
                tags: tags.iter().map(|tag| tag.to_string()).collect(),
            };
            self.record(&post_stream(post), created).await;
        }

        async fn has(&self, key: &Key) -> bool {
            self.read_model.get(key).await.unwrap().is_some()
        }

        async fn entry_count(&self, thread: &str) -> i64 {
            let item = self.read_model.get(&counts_key(thread)).await.unwrap().unwrap_or_default();
            item.get(ENTRY_COUNT).and_then(serde_json::Value::as_i64).unwrap_or(0)
        }

        async fn counts(&self, post: &str) -> (i64, i64) {
            let item = self.read_model.get(&counts_key(post)).await.unwrap().unwrap_or_default();
            let count = |name: &str| item.get(name).and_then(serde_json::Value::as_i64).unwrap_or(0);
            (count(REPLY_COUNT), count(LIKE_COUNT))
        }
    }

    #[tokio::test]
    async fn an_erased_account_leaves_records_entries_and_counts_step_by_step() {
        let content = Content::new();
        content.created("pst_bo", "bo", None, &[]).await;
        // More posts than a step takes, all replies to one parent.
        let posts: Vec<String> = (0..=ERASURE_POSTS).map(|n| format!("pst_ana{n}")).collect();
        for post in &posts {
            content.created(post, "ana", Some("pst_bo"), &["jazz"]).await;
        }
        content.record(&like_stream("pst_bo", "ana"), LikeEvent::Liked).await;
        assert_eq!(content.counts("pst_bo").await, (posts.len() as i64, 1));

        content.record("account#ana", AccountEvent::AccountErased).await;
        // The projector applies each step as the one before appends it.
        for _ in 0..=posts.len() + 1 {
            content.project(&erasure_stream("ana")).await;
        }
        for post in &posts {
            assert!(!content.has(&post_key(post)).await, "{post}'s record");
            assert!(!content.has(&List::Tag { tag: "jazz" }.entry_key(post)).await);
            assert!(!content.has(&List::Replies { parent: "pst_bo" }.entry_key(post)).await);
            assert!(!content.has(&List::By { author: "ana" }.entry_key(post)).await);
        }
        assert!(!content.has(&like_key("pst_bo", "ana")).await);
        assert_eq!(content.counts("pst_bo").await, (0, 0));
        assert!(content.has(&post_key("pst_bo")).await, "the other account's post stays");

        // What the erased account's streams still bring projects nothing.
        content.record(&like_stream("pst_bo", "ana"), LikeEvent::Unliked).await;
        content.created("pst_late", "ana", Some("pst_bo"), &[]).await;
        assert!(!content.has(&post_key("pst_late")).await);
        assert_eq!(content.counts("pst_bo").await, (0, 0));
    }

    #[tokio::test]
    async fn an_erased_accounts_threads_entries_and_entry_likes_leave_and_counts_follow() {
        use huddle_catalog::content::{entry_stream, thread_stream, EntryEvent, JoinableBy, ThreadEvent};
        let content = Content::new();
        for (thread, owner) in [("thr_bo", "bo"), ("thr_ana", "ana")] {
            let created = ThreadEvent::ThreadCreated {
                owner: owner.into(),
                title: "a story".into(),
                media_id: "med_1".into(),
                audience: Audience::Public,
                joinable_by: JoinableBy::Audience,
            };
            content.record(&thread_stream(thread), created).await;
        }
        // Two of ana's entries in bo's thread (two steps: one counts item per transaction), one of bo's.
        for (entry, author) in [("ent_ana1", "ana"), ("ent_ana2", "ana"), ("ent_bo", "bo")] {
            let added = EntryEvent::EntryAdded {
                thread_id: "thr_bo".into(),
                thread_owner: "bo".into(),
                audience: Audience::Public,
                author: author.into(),
                media_id: "med_1".into(),
                text: String::new(),
            };
            content.record(&entry_stream(entry), added).await;
        }
        content.record(&like_stream("ent_bo", "ana"), LikeEvent::Liked).await;
        assert_eq!((content.entry_count("thr_bo").await, content.counts("ent_bo").await.1), (3, 1));

        content.record("account#ana", AccountEvent::AccountErased).await;
        for _ in 0..5 {
            content.project(&erasure_stream("ana")).await;
        }
        for entry in ["ent_ana1", "ent_ana2"] {
            assert!(!content.has(&entry_key(entry)).await, "{entry}'s record");
            assert!(!content.has(&List::Entries { thread: "thr_bo" }.entry_key(entry)).await);
            assert!(!content.has(&List::EntriesBy { author: "ana" }.entry_key(entry)).await);
        }
        assert!(!content.has(&thread_key("thr_ana")).await);
        assert!(!content.has(&List::ThreadsBy { owner: "ana" }.entry_key("thr_ana")).await);
        assert!(!content.has(&like_key("ent_bo", "ana")).await);
        assert_eq!((content.entry_count("thr_bo").await, content.counts("ent_bo").await.1), (1, 0));
        assert!(content.has(&entry_key("ent_bo")).await && content.has(&thread_key("thr_bo")).await);
    }

    #[tokio::test]
    async fn an_erased_account_without_posts_or_likes_gets_no_erasure_step() {
        let content = Content::new();
        content.record("account#cy", AccountEvent::AccountErased).await;
        assert!(content.has(&erased_key("cy")).await, "marked");
        assert_eq!(content.events.head(&erasure_stream("cy")).await.unwrap(), 0);
    }
}
