//! A post, a thread or a thread's entry as the caller sees it, from its record: its counts,
//! whether the caller likes it, and its media (the media domain's records, with presigned GETs,
//! as `GET /v1/media/{id}` makes them: `huddle_media::query::MediaQueryRole::view`). The command
//! answers with them as the query does.

use crate::read_model::{
    count, counts_key, like_key, EntryRecord, PostRecord, ThreadRecord, ENTRY_COUNT, LIKE_COUNT, REPLY_COUNT,
};
use crate::views::{EntryView, PostView, ThreadView};
use huddle_http::ApiError;
use huddle_media::query::MediaQueryRole;
use huddle_media::read_model::Status;
use huddle_media::views::MediaView;
use huddle_ports::Table;
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
        let failed = |e: huddle_ports::TableError| ApiError::internal(request_id, &e);
        let (counts, liked, media) = tokio::try_join!(
            async { self.read_model.get(&counts_key(post_id)).await.map_err(failed) },
            async { self.read_model.get(&like_key(post_id, viewer)).await.map_err(failed) },
            self.media(&record, request_id),
        )?;
        Ok(PostView {
            id: post_id.to_owned(),
            author: record.author,
            text: record.text,
            media,
            audience: record.audience,
            reply_to: record.reply_to,
            thread_id: record.thread_id,
            mentions: record.mentions,
            tags: record.tags,
            like_count: count(counts.as_ref(), LIKE_COUNT),
            reply_count: count(counts.as_ref(), REPLY_COUNT),
            liked_by_me: liked.is_some(),
            created_at: record.created_at,
            edited_at: record.edited_at,
        })
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
        let (counts, liked, media) = tokio::try_join!(
            async { self.read_model.get(&counts_key(entry_id)).await.map_err(failed) },
            async { self.read_model.get(&like_key(entry_id, viewer)).await.map_err(failed) },
            self.shown(&record.media_id, &record.author, request_id),
        )?;
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

    /// The post's media that are there and ready (an erased owner's are gone), in its order.
    async fn media(&self, record: &PostRecord, request_id: &str) -> Result<Vec<MediaView>, ApiError> {
        let views = record.media_ids.iter().map(|media_id| self.shown(media_id, &record.author, request_id));
        Ok(futures::future::try_join_all(views).await?.into_iter().flatten().collect())
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
