//! A post, a thread or a thread's entry as the caller sees it, from its record: its counts,
//! whether the caller likes it, and its media (the media domain's records, with presigned GETs,
//! as `GET /v1/media/{id}` makes them: `huddle_media::query::MediaQueryRole::view`). The command
//! answers with them as the query does. A page of posts renders all of them at once, each kind
//! of item read in batches, so 20 posts cost a few requests, not a hundred.

use crate::read_model::{
    count, counts_key, like_key, EntryRecord, PostRecord, ThreadRecord, ENTRY_COUNT, LIKE_COUNT, REPLY_COUNT,
};
use crate::views::{EntryView, PostView, ThreadView};
use huddle_http::ApiError;
use huddle_media::query::MediaQueryRole;
use huddle_media::read_model::Status;
use huddle_media::views::MediaView;
use huddle_ports::{get_all, Key, Table};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone)]
pub struct Renderer {
    /// The content read table.
    pub read_model: Arc<dyn Table>,
    /// The media read table (granted) and the bucket.
    pub media: Arc<MediaQueryRole>,
}

impl Renderer {
    pub async fn view(
        &self,
        post_id: &str,
        record: PostRecord,
        viewer: &str,
        request_id: &str,
    ) -> Result<PostView, ApiError> {
        let mut views = self.views(vec![(post_id.to_owned(), record)], viewer, request_id).await?;
        Ok(views.remove(0))
    }

    /// The view of each of `posts` (an id and its record), in their order: their counts and
    /// the viewer's likes in one batch of reads, their media records in another.
    pub async fn views(
        &self,
        posts: Vec<(String, PostRecord)>,
        viewer: &str,
        request_id: &str,
    ) -> Result<Vec<PostView>, ApiError> {
        let failed = |e: huddle_ports::TableError| ApiError::internal(request_id, &e);
        let keys: Vec<Key> =
            posts.iter().flat_map(|(id, _)| [counts_key(id), like_key(id, viewer)]).collect();
        let (read, mut media) = tokio::try_join!(
            async { get_all(self.read_model.as_ref(), &keys).await.map_err(failed) },
            async { self.media(&posts, request_id).await },
        )?;
        let mut read = read.into_iter();
        let mut views = Vec::with_capacity(posts.len());
        for (id, record) in posts {
            let (counts, liked) = (read.next().flatten(), read.next().flatten());
            let media =
                record.media_ids.iter().filter_map(|media_id| media.remove(&(id.clone(), media_id.clone())));
            views.push(PostView {
                media: media.collect(),
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

    /// Each post's media that are there and ready and its author's (an erased owner's are
    /// gone), by post and media id.
    async fn media(
        &self,
        posts: &[(String, PostRecord)],
        request_id: &str,
    ) -> Result<HashMap<(String, String), MediaView>, ApiError> {
        let attached: Vec<(&str, &PostRecord, &str)> = posts
            .iter()
            .flat_map(|(id, record)| {
                record.media_ids.iter().map(move |media_id| (id.as_str(), record, media_id.as_str()))
            })
            .collect();
        let ids: Vec<&str> = attached.iter().map(|(_, _, media_id)| *media_id).collect();
        let records = self.media.records(&ids, request_id).await?;
        let shown = attached.into_iter().zip(records).filter_map(|((post_id, post, media_id), media)| {
            let media = media.filter(|media| media.status == Status::Ready && media.owner == post.author)?;
            Some(async move {
                let view = self.media.view(media_id.to_owned(), media, request_id).await?;
                Ok::<_, ApiError>(((post_id.to_owned(), media_id.to_owned()), view))
            })
        });
        Ok(futures::future::try_join_all(shown).await?.into_iter().collect())
    }

    /// Thread `thread_id` as `viewer` sees it (`may_join`: whether it may add an entry now).
    pub async fn thread_view(
        &self,
        thread_id: &str,
        record: ThreadRecord,
        may_join: bool,
        request_id: &str,
    ) -> Result<ThreadView, ApiError> {
        let failed = |e: huddle_ports::TableError| ApiError::internal(request_id, &e);
        let (counts, media) = tokio::try_join!(
            async { self.read_model.get(&counts_key(thread_id)).await.map_err(failed) },
            self.shown(&record.media_id, &record.owner, request_id),
        )?;
        Ok(ThreadView {
            id: thread_id.to_owned(),
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
    }

    /// Entry `entry_id` as `viewer` sees it.
    pub async fn entry_view(
        &self,
        entry_id: &str,
        record: EntryRecord,
        viewer: &str,
        request_id: &str,
    ) -> Result<EntryView, ApiError> {
        let failed = |e: huddle_ports::TableError| ApiError::internal(request_id, &e);
        let keys = [counts_key(entry_id), like_key(entry_id, viewer)];
        let (read, media) = tokio::try_join!(
            async { get_all(self.read_model.as_ref(), &keys).await.map_err(failed) },
            self.shown(&record.media_id, &record.author, request_id),
        )?;
        let mut read = read.into_iter();
        let (counts, liked) = (read.next().flatten(), read.next().flatten());
        Ok(EntryView {
            id: entry_id.to_owned(),
            thread_id: record.thread_id,
            author: record.author,
            media,
            text: record.text,
            like_count: count(counts.as_ref(), LIKE_COUNT),
            liked_by_me: liked.is_some(),
            created_at: record.created_at,
        })
    }

    /// Media `media_id` while it is there, ready and `owner`'s.
    async fn shown(
        &self,
        media_id: &str,
        owner: &str,
        request_id: &str,
    ) -> Result<Option<MediaView>, ApiError> {
        let media = self.media.record(media_id, request_id).await?;
        match media.filter(|media| media.status == Status::Ready && media.owner == owner) {
            Some(media) => self.media.view(media_id.to_owned(), media, request_id).await.map(Some),
            None => Ok(None),
        }
    }
}
