//! The query role: `GET /v1/media/{id}` for the media's owner only. Anyone else, like a stranger
//! to an id, gets 404: other accounts see media through the posts they may see (the content
//! domain), never by id. Files are behind presigned GETs that expire in minutes.

use crate::read_model::{record_key, MediaRecord, Status};
use crate::routes::{Operation, ROUTES};
use crate::views::{FileView, MediaView, PosterView};
use async_trait::async_trait;
use huddle_catalog::media::{Rendition, MEDIA_ID_PREFIX};
use huddle_domain::operation;
use huddle_http::{
    caller, json_response, prefixed_id, request_id, ApiError, Body, HttpFunction, Request, Response,
};
use huddle_ports::{get_all, Blobs, Table};
use lambda_http::http::StatusCode;
use std::sync::Arc;
use std::time::Duration;

/// How long a file URL in an answer lives: an app shows it at once, and asks again later.
pub const FILE_URL_LIFETIME: Duration = Duration::from_secs(10 * 60);

pub struct MediaQueryRole {
    pub(crate) read_model: Arc<dyn Table>,
    pub(crate) blobs: Arc<dyn Blobs>,
}

fn no_media() -> ApiError {
    ApiError::not_found("no media of yours has this id")
}

impl MediaQueryRole {
    /// The role on the media read table and bucket; also how the content domain shows the media
    /// of the posts a caller may see (granted the media read table, read-only).
    pub fn new(read_model: Arc<dyn Table>, blobs: Arc<dyn Blobs>) -> Self {
        Self { read_model, blobs }
    }

    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        match operation(&ROUTES, &request)? {
            Operation::GetMedia => self.get(&request).await,
            command => Err(ApiError::not_found(format!("{command:?} is not a query"))),
        }
    }

    /// The media's record, unless it is missing or expired.
    pub async fn record(&self, media_id: &str, request_id: &str) -> Result<Option<MediaRecord>, ApiError> {
        let item = self
            .read_model
            .get(&record_key(media_id))
            .await
            .map_err(|e| ApiError::internal(request_id, &e))?;
        unexpired(item, request_id)
    }

    /// [`record`](Self::record) of each of `media_ids`, in their order, read in batches.
    pub async fn records(
        &self,
        media_ids: &[&str],
        request_id: &str,
    ) -> Result<Vec<Option<MediaRecord>>, ApiError> {
        let keys: Vec<_> = media_ids.iter().map(|id| record_key(id)).collect();
        let items = get_all(self.read_model.as_ref(), &keys).await;
        let items = items.map_err(|e| ApiError::internal(request_id, &e))?;
        items.into_iter().map(|item| unexpired(item, request_id)).collect()
    }

    async fn url(&self, key: &str, request_id: &str) -> Result<String, ApiError> {
        let download = self.blobs.presign_download(key, FILE_URL_LIFETIME).await;
        Ok(download.map_err(|e| ApiError::internal(request_id, &e))?.url)
    }

    async fn file(&self, rendition: &Rendition, request_id: &str) -> Result<FileView, ApiError> {
        let url = self.url(&rendition.key, request_id).await?;
        Ok(FileView { url, width: rendition.width, height: rendition.height })
    }

    async fn get(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let viewer = caller(request)?.account_id;
        let media_id = prefixed_id(request, "id", MEDIA_ID_PREFIX)?;
        let request_id = request_id(request);
        let record = self.record(&media_id, &request_id).await?.filter(|record| record.owner == viewer);
        let record = record.ok_or_else(no_media)?;
        Ok(json_response(StatusCode::OK, &self.view(media_id, record, &request_id).await?))
    }

    /// What `GET /v1/media/{id}` shows of `record`, with presigned GETs of its files.
    pub async fn view(
        &self,
        media_id: String,
        record: MediaRecord,
        request_id: &str,
    ) -> Result<MediaView, ApiError> {
        let url = match &record.original {
            Some(original) if record.status == Status::Ready => {
                Some(self.url(&original.key, request_id).await?)
            }
            _ => None,
        };
        let mut thumbnails = Vec::with_capacity(record.thumbnails.len());
        for thumbnail in &record.thumbnails {
            thumbnails.push(self.file(thumbnail, request_id).await?);
        }
        let poster = match &record.poster_id {
            Some(poster_id) => {
                let original = self.record(poster_id, request_id).await?.and_then(|poster| poster.original);
                match original {
                    Some(original) => Some(PosterView {
                        id: poster_id.clone(),
                        url: self.url(&original.key, request_id).await?,
                    }),
                    // Erased since: the video shows without it.
                    None => None,
                }
            }
            None => None,
        };
        Ok(MediaView {
            id: media_id,
            status: record.status.as_str().to_owned(),
            kind: record.kind,
            content_type: record.content_type,
            width: record.width,
            height: record.height,
            duration_ms: record.duration_ms,
            blurhash: record.blurhash,
            url,
            thumbnails,
            poster,
            reason: record.reason,
        })
    }
}

#[async_trait]
impl HttpFunction for MediaQueryRole {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}

/// The record an item holds, unless it is missing or expired.
fn unexpired(item: Option<huddle_ports::Item>, request_id: &str) -> Result<Option<MediaRecord>, ApiError> {
    let record = item.map(|item| MediaRecord::from_item(&item)).transpose();
    let record = record.map_err(|e| ApiError::internal(request_id, &e))?;
    Ok(record.filter(|record| !record.expired(time::OffsetDateTime::now_utc())))
}
