//! A post as the caller sees it, from its record: its counts, whether the caller likes it, and
//! its media (the media domain's records, with presigned GETs, as `GET /v1/media/{id}` makes
//! them: `huddle_media::query::MediaQueryRole::view`). The command answers with it as the query
//! does.

use crate::read_model::{count, counts_key, like_key, PostRecord, LIKE_COUNT, REPLY_COUNT};
use crate::views::PostView;
use huddle_http::ApiError;
use huddle_media::query::MediaQueryRole;
use huddle_media::read_model::Status;
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

    /// The post's media that are there and ready (an erased owner's are gone), in its order.
    async fn media(
        &self,
        record: &PostRecord,
        request_id: &str,
    ) -> Result<Vec<huddle_media::views::MediaView>, ApiError> {
        let views = record.media_ids.iter().map(|media_id| async move {
            let media = self.media.record(media_id, request_id).await?;
            match media.filter(|media| media.status == Status::Ready && media.owner == record.author) {
                Some(media) => self.media.view(media_id.clone(), media, request_id).await.map(Some),
                None => Ok(None),
            }
        });
        Ok(futures::future::try_join_all(views).await?.into_iter().flatten().collect())
    }
}
