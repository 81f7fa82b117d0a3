//! Posts, threads and a thread's entries as the caller sees them, from their records: their
//! counts, whether the caller likes them, and their media (the media domain's records, with
//! presigned GETs, as `GET /v1/media/{id}` makes them: `huddle_media::query::MediaQueryRole::view`).
//! The command answers with one as the query does. A page renders all of its items at once, each
//! kind of item read in one batch (`get_all`), so 20 posts cost a few requests, not a hundred.

use crate::read_model::{
    count, counts_key, like_key, EntryRecord, PostRecord, ThreadRecord, ENTRY_COUNT, LIKE_COUNT, REPLY_COUNT,
};
use crate::views::{EntryView, PostView, ThreadView};
use huddle_http::ApiError;
use huddle_media::query::MediaQueryRole;
use huddle_media::read_model::Status;
use huddle_media::views::MediaView;
use huddle_ports::{get_all, Item, Key, Table, TableError};
use std::sync::Arc;

#[derive(Clone)]
pub struct Renderer {
    /// The content read table.
    pub read_model: Arc<dyn Table>,
    /// The media read table (granted) and the bucket.
    pub media: Arc<MediaQueryRole>,
}

/// The first of a list of views made of one item.
fn only<T>(views: Vec<T>, request_id: &str) -> Result<T, ApiError> {
    let missing = || ApiError::internal(request_id, &"a view of one item made none");
    views.into_iter().next().ok_or_else(missing)
}

impl Renderer {
    pub async fn view(
        &self,
        post_id: &str,
        record: PostRecord,
        viewer: &str,
        request_id: &str,
    ) -> Result<PostView, ApiError> {
        only(self.views(vec![(post_id.to_owned(), record)], viewer, request_id).await?, request_id)
    }

    /// The view of each of `posts` (an id and its record), in their order: their counts and the
    /// viewer's likes in one batch of reads, their media in another.
    pub async fn views(
        &self,
        posts: Vec<(String, PostRecord)>,
        viewer: &str,
        request_id: &str,
    ) -> Result<Vec<PostView>, ApiError> {
        let keys: Vec<Key> =
            posts.iter().flat_map(|(id, _)| [counts_key(id), like_key(id, viewer)]).collect();
        let attached: Vec<(&str, &str)> = posts
            .iter()
            .flat_map(|(_, post)| {
                post.media_ids.iter().map(|media_id| (media_id.as_str(), post.author.as_str()))
            })
            .collect();
        let (read, media) =
            tokio::try_join!(self.read(&keys, request_id), self.shown(&attached, request_id))?;
        let (mut read, mut media) = (read.into_iter(), media.into_iter());
        let mut views = Vec::with_capacity(posts.len());
        for (id, record) in posts {
            let (counts, liked) = (read.next().flatten(), read.next().flatten());
            // In the post's order, those still there.
            let media = media.by_ref().take(record.media_ids.len()).flatten().collect();
            views.push(PostView {
                media,
                like_count: count(counts.as_ref(), LIKE_COUNT),
                reply_count: count(counts.as_ref(), REPLY_COUNT),
                liked_by_me: liked.is_some(),
                id,
                author: record.author,
                text: record.text,
                audience: record.audience,
                reply_to: record.reply_to,
                thread_id: record.thread_id,
                mentions: record.mentions,
                tags: record.tags,
                created_at: record.created_at,
                edited_at: record.edited_at,
            });
        }
        Ok(views)
    }

    /// Thread `thread_id` as the viewer sees it (`may_join`: whether it may add an entry now).
    pub async fn thread_view(
        &self,
        thread_id: &str,
        record: ThreadRecord,
        may_join: bool,
        request_id: &str,
    ) -> Result<ThreadView, ApiError> {
        only(self.thread_views(vec![(thread_id.to_owned(), record, may_join)], request_id).await?, request_id)
    }

    /// The view of each of `threads` (an id, its record, whether the viewer may join it), in
    /// their order: their counts in one batch of reads, their videos in another.
    pub async fn thread_views(
        &self,
        threads: Vec<(String, ThreadRecord, bool)>,
        request_id: &str,
    ) -> Result<Vec<ThreadView>, ApiError> {
        let keys: Vec<Key> = threads.iter().map(|(id, _, _)| counts_key(id)).collect();
        let videos: Vec<(&str, &str)> =
            threads.iter().map(|(_, thread, _)| (thread.media_id.as_str(), thread.owner.as_str())).collect();
        let (counts, media) =
            tokio::try_join!(self.read(&keys, request_id), self.shown(&videos, request_id))?;
        Ok(threads
            .into_iter()
            .zip(counts.into_iter().zip(media))
            .map(|((id, record, may_join), (counts, media))| ThreadView {
                id,
                owner: record.owner,
                title: record.title,
                media,
                audience: record.audience,
                joinable_by: record.joinable_by,
                entry_count: count(counts.as_ref(), ENTRY_COUNT),
                may_join,
                created_at: record.created_at,
                edited_at: record.edited_at,
            })
            .collect())
    }

    /// Entry `entry_id` as `viewer` sees it.
    pub async fn entry_view(
        &self,
        entry_id: &str,
        record: EntryRecord,
        viewer: &str,
        request_id: &str,
    ) -> Result<EntryView, ApiError> {
        only(self.entry_views(vec![(entry_id.to_owned(), record)], viewer, request_id).await?, request_id)
    }

    /// The view of each of `entries` (an id and its record), in their order: their counts and
    /// the viewer's likes in one batch of reads, their videos in another.
    pub async fn entry_views(
        &self,
        entries: Vec<(String, EntryRecord)>,
        viewer: &str,
        request_id: &str,
    ) -> Result<Vec<EntryView>, ApiError> {
        let keys: Vec<Key> =
            entries.iter().flat_map(|(id, _)| [counts_key(id), like_key(id, viewer)]).collect();
        let videos: Vec<(&str, &str)> =
            entries.iter().map(|(_, entry)| (entry.media_id.as_str(), entry.author.as_str())).collect();
        let (read, media) = tokio::try_join!(self.read(&keys, request_id), self.shown(&videos, request_id))?;
        let mut read = read.into_iter();
        Ok(entries
            .into_iter()
            .zip(media)
            .map(|((id, record), media)| {
                let (counts, liked) = (read.next().flatten(), read.next().flatten());
                EntryView {
                    id,
                    thread_id: record.thread_id,
                    author: record.author,
                    media,
                    text: record.text,
                    like_count: count(counts.as_ref(), LIKE_COUNT),
                    liked_by_me: liked.is_some(),
                    created_at: record.created_at,
                }
            })
            .collect())
    }

    /// What `keys` hold of the content read table, in their order.
    async fn read(&self, keys: &[Key], request_id: &str) -> Result<Vec<Option<Item>>, ApiError> {
        get_all(self.read_model.as_ref(), keys)
            .await
            .map_err(|e: TableError| ApiError::internal(request_id, &e))
    }

    /// Each media of `attached` (its id and the account whose item shows it) while it is there,
    /// ready and that account's (an erased owner's are gone), in their order: the records in one
    /// batch, then their presigned URLs.
    async fn shown(
        &self,
        attached: &[(&str, &str)],
        request_id: &str,
    ) -> Result<Vec<Option<MediaView>>, ApiError> {
        let ids: Vec<&str> = attached.iter().map(|(media_id, _)| *media_id).collect();
        let records = self.media.records(&ids, request_id).await?;
        let views = attached.iter().zip(records).map(|((media_id, owner), media)| async move {
            match media.filter(|media| media.status == Status::Ready && media.owner == *owner) {
                Some(media) => self.media.view((*media_id).to_owned(), media, request_id).await.map(Some),
                None => Ok(None),
            }
        });
        futures::future::try_join_all(views).await
    }
}
