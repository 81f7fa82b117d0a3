//! The projector role: posts and likes into the read table (see `read_model`), and an erased
//! account out of it. Each event's writes follow from the event and the item its own stream
//! keeps (a post's record, a like's item), which only that stream and the erasure write: both
//! delete such an item only as they read it (a condition that it is still there), so of an
//! erasure step and a deletion racing, one counts the post or like out and the other is applied
//! again to nothing. Counts change by atomic adds in the event's transaction.

use crate::read_model::{
    counts_key, erased_key, like_key, post_key, List, PostRecord, LIKE_COUNT, REPLY_COUNT,
};
use async_trait::async_trait;
use huddle_catalog::accounts::account_of_stream;
use huddle_catalog::content::{
    erased_account_of, erasure_stream, like_of_stream, post_of_stream, ErasureEvent, LikeEvent, PostEvent,
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

/// The liker attribute of a like's item.
const LIKER: &str = "liker";
/// The author attribute of a post's record.
const AUTHOR: &str = "author";

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
        if let Some((post_id, liker)) = like_of_stream(&event.stream) {
            return project_like(post_id, liker, event, read_model).await;
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
    let at = event.occurred_at.format(&Rfc3339).map_err(|e| ProjectionError::Invalid(e.to_string()))?;
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
    /// posts or likes. Every other
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
        // An account with no post and no like has nothing to take out: no step. Read after the
        // mark, so a post or like committed before it is found, and one not yet committed fails
        // its check of the mark.
        let posts = Query::new(List::By { author: account }.partition()).limit(1);
        let likes = Query::new(List::LikedBy { liker: account }.partition()).limit(1);
        let (posts, likes) = tokio::try_join!(read_model.query(&posts), read_model.query(&likes))?;
        if posts.items.is_empty() && likes.items.is_empty() {
            return Ok(Projected::nothing());
        }
        // Each application starts a step: a replay sweeps again after the mark.
        let first = vec![encode(&ErasureEvent::ErasureStepped)];
        self.events
            .append(&erasure_stream(account), ExpectedVersion::Any, first, &caused_by(event), None)
            .await?;
        Ok(Projected::nothing())
    }

    /// One step of taking an erased account out: a page of its posts, or once none is left a
    /// page of its likes, taken out in this step's transaction, and the next step appended (the
    /// projector applies it after this one). A step that finds nothing is the last.
    async fn erasure_step(
        &self,
        account: &str,
        event: &Envelope,
        read_model: &dyn Table,
    ) -> Result<Projected, ProjectionError> {
        let mut writes = Vec::new();
        let posts = Query::new(List::By { author: account }.partition()).limit(ERASURE_POSTS);
        let posts = read_model.query(&posts).await?.items;
        // A transaction changes an item once: two replies to one parent go in two steps.
        let mut parents = HashSet::new();
        for item in &posts {
            let Some(post_id) = item.get("sk").and_then(serde_json::Value::as_str) else { continue };
            match record(read_model, post_id).await? {
                Some(was) if was.reply_to.as_ref().is_none_or(|parent| parents.insert(parent.clone())) => {
                    writes.extend(post_removed(post_id, &was))
                }
                Some(_) => {}
                // An entry whose record is gone (a corrupt table): the entry goes too.
                None => writes.push(delete(List::By { author: account }.entry_key(post_id))),
            }
        }
        if posts.is_empty() {
            let likes = Query::new(List::LikedBy { liker: account }.partition()).limit(ERASURE_LIKES);
            for item in read_model.query(&likes).await?.items {
                let Some(post_id) = item.get("sk").and_then(serde_json::Value::as_str) else { continue };
                writes.extend(like_removed(post_id, account));
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
    async fn an_erased_account_without_posts_or_likes_gets_no_erasure_step() {
        let content = Content::new();
        content.record("account#cy", AccountEvent::AccountErased).await;
        assert!(content.has(&erased_key("cy")).await, "marked");
        assert_eq!(content.events.head(&erasure_stream("cy")).await.unwrap(), 0);
    }
}
