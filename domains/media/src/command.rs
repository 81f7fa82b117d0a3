//! The command role: asking to upload (the media's stream begins, a presigned PUT bound to its
//! owner, id, type and size comes back) and putting a poster on a video.

use crate::media::{Media, MediaCommand, MediaError, MediaFile, Requested};
use crate::processing::{limits, Kind, MediaType};
use crate::routes::{Operation, ROUTES};
use crate::views::{NewMedia, PendingMedia, Poster, Upload, UploadTicket};
use async_trait::async_trait;
use huddle_catalog::media::{media_stream, upload_key, MediaKind, MEDIA_ID_PREFIX};
use huddle_domain::decider::{load, refused, StreamError};
use huddle_domain::throttle::{Limit, Throttle};
use huddle_domain::{operation, Execution};
use huddle_eventstore::{EventStore, Metadata};
use huddle_http::{
    caller, correlation_id, is_prefixed_id, json_body, json_response, prefixed_id, request_id, ApiError,
    Body, FieldError, HttpFunction, Request, Response,
};
use huddle_ports::Blobs;
use lambda_http::http::StatusCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// How long an upload URL lives. S3 checks the expiry when a request begins, so a slow upload
/// that began in time still lands; a short life bounds how long one URL can be replayed.
pub const UPLOAD_URL_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// At most this many upload requests per account: each one hands out a URL that takes files
/// (and costs processing) for five minutes.
pub const UPLOADS_PER_ACCOUNT: Limit = Limit::new(60, 60 * 60);

/// At most this many poster attachments per account: each appends to the video's stream (and
/// is projected), so a script attaching posters without end is stopped as an upload script is.
pub const POSTERS_PER_ACCOUNT: Limit = Limit::new(60, 60 * 60);

pub struct MediaCommandRole {
    pub(crate) events: EventStore,
    pub(crate) blobs: Arc<dyn Blobs>,
    /// Counts [`UPLOADS_PER_ACCOUNT`].
    pub(crate) uploads: Throttle,
    /// Counts [`POSTERS_PER_ACCOUNT`].
    pub(crate) posters: Throttle,
}

impl From<MediaError> for ApiError {
    fn from(error: MediaError) -> Self {
        match error {
            MediaError::NotFound => ApiError::not_found(error.to_string()),
            MediaError::NotAVideo | MediaError::NotReady => {
                ApiError::validation(vec![FieldError::new("id", error.to_string())])
            }
            MediaError::AlreadyRequested | MediaError::NotAnOutcome => {
                ApiError::conflict("conflict", error.to_string())
            }
        }
    }
}

/// The declared file, when Huddle takes it: 422 naming the field otherwise.
fn accepted(new: &NewMedia) -> Result<Requested, ApiError> {
    let refuse = |field: &str, why: String| Err(ApiError::validation(vec![FieldError::new(field, why)]));
    let Ok(media_type) = MediaType::from_str(&new.content_type) else {
        let types: Vec<&str> = MediaType::ALL.iter().map(|t| t.as_str()).collect();
        return refuse("content_type", format!("must be one of {}", types.join(", ")));
    };
    let (kind, limit) = match media_type.kind() {
        Kind::Image => (MediaKind::Image, limits::MAX_IMAGE_BYTES),
        Kind::Video => (MediaKind::Video, limits::MAX_VIDEO_BYTES),
    };
    if kind != new.kind {
        return refuse("content_type", format!("{} is not a type of that kind", media_type.as_str()));
    }
    if new.size_bytes == 0 || new.size_bytes > limit as u64 {
        return refuse("size_bytes", format!("must be 1 to {limit} bytes for this kind"));
    }
    Ok(Requested {
        owner: String::new(),
        kind,
        content_type: media_type.as_str().to_owned(),
        size_bytes: new.size_bytes,
    })
}

impl MediaCommandRole {
    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        match operation(&ROUTES, &request)? {
            Operation::RequestUpload => self.request_upload(&request).await,
            Operation::AttachPoster => self.attach_poster(&request).await,
            query => Err(ApiError::not_found(format!("{query:?} is not a command"))),
        }
    }

    async fn request_upload(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let owner = caller(request)?.account_id;
        let new: NewMedia = json_body(request)?;
        let requested = Requested { owner: owner.clone(), ..accepted(&new)? };
        let (request_id, media_id) = (request_id(request), format!("{MEDIA_ID_PREFIX}{}", ulid::Ulid::new()));
        // Counted once the request is one Huddle takes; account ids are no personal data.
        let counted =
            self.uploads.take(&owner).await.map_err(|error| ApiError::internal(&request_id, &error))?;
        if let Err(throttled) = counted {
            let why =
                format!("at most {UPLOADS_PER_ACCOUNT} upload requests per account (a count per seconds)");
            return Err(ApiError::too_many_requests("too_many_uploads", why, throttled.retry_after));
        }
        let key = upload_key(&owner, &media_id);
        let upload = self
            .blobs
            .presign_upload(&key, &requested.content_type, requested.size_bytes, UPLOAD_URL_LIFETIME)
            .await
            .map_err(|error| ApiError::internal(&request_id, &error))?;
        let metadata = Metadata::new(correlation_id(request)).actor(&owner).caused_by(&request_id);
        Execution::<MediaFile>::new(
            &self.events,
            media_stream(&media_id),
            MediaCommand::Request(requested),
            metadata,
        )
        .new_stream()
        .execute::<ApiError>()
        .await
        .map_err(refused(&request_id))?;
        let ticket = UploadTicket {
            media: PendingMedia { id: media_id, status: "pending_upload" },
            upload: Upload {
                url: upload.url,
                method: upload.method,
                headers: upload.headers.into_iter().collect(),
                expires_at: upload.expires_at,
            },
        };
        Ok(json_response(StatusCode::CREATED, &ticket))
    }

    async fn attach_poster(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let by = caller(request)?.account_id;
        let video_id = prefixed_id(request, "id", MEDIA_ID_PREFIX)?;
        let poster: Poster = json_body(request)?;
        let request_id = request_id(request);
        let not_a_poster =
            || ApiError::validation(vec![FieldError::new("media_id", "must be a ready image of yours")]);
        let internal = |error: StreamError| ApiError::internal(&request_id, &error);
        // Someone else's video does not exist to the caller, whatever the poster.
        let video = load::<MediaFile>(&self.events, media_stream(&video_id)).await.map_err(internal)?;
        if video.state.owner() != Some(by.as_str()) {
            return Err(MediaError::NotFound.into());
        }
        if !is_prefixed_id(&poster.media_id, MEDIA_ID_PREFIX) {
            return Err(not_a_poster());
        }
        // A ready image stays ready: nothing to hold unchanged while the video's stream changes.
        let image =
            load::<MediaFile>(&self.events, media_stream(&poster.media_id)).await.map_err(internal)?;
        match &image.state {
            Media::Ready { owner, kind: MediaKind::Image, .. } if *owner == by => {}
            _ => return Err(not_a_poster()),
        }
        // Counted once the attachment is one Huddle takes.
        let counted =
            self.posters.take(&by).await.map_err(|error| ApiError::internal(&request_id, &error))?;
        if let Err(throttled) = counted {
            let why =
                format!("at most {POSTERS_PER_ACCOUNT} poster attachments per account (a count per seconds)");
            return Err(ApiError::too_many_requests("too_many_posters", why, throttled.retry_after));
        }
        let metadata = Metadata::new(correlation_id(request)).actor(&by).caused_by(&request_id);
        let command = MediaCommand::AttachPoster { by, poster_id: poster.media_id };
        Execution::<MediaFile>::new(&self.events, media_stream(&video_id), command, metadata)
            .execute::<ApiError>()
            .await
            .map_err(refused(&request_id))?;
        Ok(Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).expect("a response"))
    }
}

#[async_trait]
impl HttpFunction for MediaCommandRole {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}
