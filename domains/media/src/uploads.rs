//! The uploads role: an object created under [`UPLOAD_PREFIX`] is the upload of the media its
//! key names. Its stream says what was declared; the bytes are checked and processed
//! (`processing`), what came of them is written outside the upload prefix, the outcome is
//! appended (ready or rejected, with a reason its owner can read), and the upload itself is
//! deleted, since its bytes still hold what processing strips (GPS positions among them).
//!
//! Every step is safe to repeat: a redelivered notification finds the stream decided and only
//! deletes the upload again; outputs are written under keys fixed by the media id. An upload URL
//! only creates its object (the port signs `If-None-Match: *`), so a replay of it within its
//! minutes cannot swap the bytes being processed; one after the upload was deleted makes an
//! object that finds the stream decided, and goes.

use crate::media::{MediaCommand, MediaError, MediaFile, Requested};
use crate::processing::{self, MediaType, Processed, Rejection, Rendition as Output};
use crate::read_model::erased_key;
use async_trait::async_trait;
use huddle_catalog::media::{
    media_stream, output_key, owner_prefixes, upload_of, MediaEvent, Rendition, UPLOAD_PREFIX,
};
use huddle_domain::decider::{load, ExecuteError, Execution};
use huddle_domain::{ObjectCreated, UploadError, UploadHandler};
use huddle_eventstore::{EventStore, Metadata};
use huddle_ports::{delete_prefix, BlobError, Blobs, Table};
use std::str::FromStr;
use std::sync::Arc;

pub struct ProcessUploads {
    events: EventStore,
    blobs: Arc<dyn Blobs>,
    /// The media read table, for the mark an owner's erasure leaves.
    read_model: Arc<dyn Table>,
}

impl ProcessUploads {
    pub fn new(events: EventStore, blobs: Arc<dyn Blobs>, read_model: Arc<dyn Table>) -> Self {
        Self { events, blobs, read_model }
    }

    /// An owner erased while its upload was processed: the erasure may have swept the bucket
    /// before the outputs landed, so they go now.
    async fn unless_erased(&self, owner: &str) -> Result<(), UploadError> {
        let erased = self.read_model.get(&erased_key(owner)).await;
        if erased.map_err(|error| UploadError(error.to_string()))?.is_some() {
            let [_, outputs] = owner_prefixes(owner);
            delete_prefix(self.blobs.as_ref(), &outputs).await.map_err(unavailable)?;
        }
        Ok(())
    }

    /// Append what `command` decides on the media's stream; a refusal means the stream is not
    /// in a state that takes it, which a redelivery can meet: nothing to do.
    async fn execute(&self, media_id: &str, command: MediaCommand) -> Result<(), UploadError> {
        let metadata = Metadata::new(format!("upload-{media_id}"));
        let executed = Execution::<MediaFile>::new(&self.events, media_stream(media_id), command, metadata);
        match executed.execute::<MediaError>().await {
            Ok(_) | Err(ExecuteError::Rejected(_)) => Ok(()),
            Err(ExecuteError::Stream(error)) => Err(UploadError(error.to_string())),
        }
    }

    /// What processing made of the upload: its outputs written, the event that says so.
    async fn outcome(
        &self,
        owner: &str,
        media_id: &str,
        requested: &Requested,
        bytes: Vec<u8>,
    ) -> Result<MediaEvent, UploadError> {
        // Requests are checked against the same types; a stream from before a type was dropped.
        let Ok(declared) = MediaType::from_str(&requested.content_type) else {
            return Ok(MediaEvent::MediaRejected {
                code: "unsupported_type".into(),
                reason: "Huddle does not take files of this type.".into(),
            });
        };
        if bytes.len() as u64 != requested.size_bytes {
            return Ok(MediaEvent::MediaRejected {
                code: "size_mismatch".into(),
                reason: "The file is not the size that was announced.".into(),
            });
        }
        // Decoding a photo takes a core for most of a second: off the async threads.
        let (processed, bytes) =
            tokio::task::spawn_blocking(move || (processing::process(declared, &bytes), bytes))
                .await
                .map_err(|error| UploadError(format!("processing stopped: {error}")))?;
        match processed {
            Err(rejection) => Ok(rejected(&rejection)),
            Ok(Processed::Image { width, height, original, thumbnails, blurhash }) => {
                let original = self.write(owner, media_id, "original", original).await?;
                let mut written = Vec::with_capacity(thumbnails.len());
                for thumbnail in thumbnails {
                    let name = thumbnail.width.max(thumbnail.height).to_string();
                    written.push(self.write(owner, media_id, &name, thumbnail).await?);
                }
                Ok(MediaEvent::MediaProcessed {
                    width,
                    height,
                    duration_ms: None,
                    codec: None,
                    blurhash: Some(blurhash),
                    original,
                    thumbnails: written,
                })
            }
            Ok(Processed::Video { media_type, width, height, duration_ms, codec }) => {
                // Published without where and when it was filmed (a phone records both).
                let bytes = match processing::scrub_video(&bytes) {
                    Ok(scrubbed) => scrubbed,
                    Err(rejection) => return Ok(rejected(&rejection)),
                };
                let video = Output { bytes, media_type, width, height };
                let original = self.write(owner, media_id, "original", video).await?;
                Ok(MediaEvent::MediaProcessed {
                    width,
                    height,
                    duration_ms: Some(duration_ms),
                    codec: Some(codec.as_str().to_owned()),
                    blurhash: None,
                    original,
                    thumbnails: Vec::new(),
                })
            }
        }
    }

    async fn write(
        &self,
        owner: &str,
        media_id: &str,
        name: &str,
        output: Output,
    ) -> Result<Rendition, UploadError> {
        let key = output_key(owner, media_id, &format!("{name}.{}", extension(output.media_type)));
        let content_type = output.media_type.as_str();
        self.blobs.put(&key, content_type, output.bytes).await.map_err(unavailable)?;
        Ok(Rendition {
            key,
            content_type: content_type.to_owned(),
            width: output.width,
            height: output.height,
        })
    }
}

fn rejected(rejection: &Rejection) -> MediaEvent {
    MediaEvent::MediaRejected { code: rejection.code().to_owned(), reason: rejection.reason() }
}

fn extension(media_type: MediaType) -> &'static str {
    match media_type {
        MediaType::Jpeg => "jpg",
        MediaType::Png => "png",
        MediaType::Webp => "webp",
        MediaType::Mp4 => "mp4",
        MediaType::QuickTime => "mov",
    }
}

fn unavailable(error: BlobError) -> UploadError {
    UploadError(error.to_string())
}

#[async_trait]
impl UploadHandler for ProcessUploads {
    async fn uploaded(&self, object: &ObjectCreated) -> Result<(), UploadError> {
        let Some((owner, media_id)) = upload_of(&object.key) else {
            // Only presigned keys reach the prefix; anything else is left to the bucket's expiry.
            tracing::warn!(prefix = UPLOAD_PREFIX, "an object under the upload prefix names no media");
            return Ok(());
        };
        let current = load::<MediaFile>(&self.events, media_stream(media_id))
            .await
            .map_err(|error| UploadError(error.to_string()))?;
        let requested = match current.state.pending() {
            Some(requested) if requested.owner == owner => requested.clone(),
            // Processed already (a redelivery, perhaps of an attempt cut short after its outcome),
            // or not this owner's: only the upload goes, and outputs of an owner since erased.
            _ => {
                if let Some(owner) = current.state.owner() {
                    self.unless_erased(owner).await?;
                }
                return self.blobs.delete(&object.key).await.map_err(unavailable);
            }
        };
        self.execute(media_id, MediaCommand::BeginProcessing).await?;
        let bytes = match self.blobs.get(&object.key).await {
            Ok(bytes) => bytes,
            // Deleted since: a delivery that got here first processed it.
            Err(BlobError::NotFound(_)) => return Ok(()),
            Err(error) => return Err(unavailable(error)),
        };
        let outcome = self.outcome(owner, media_id, &requested, bytes).await?;
        self.execute(media_id, MediaCommand::Finish(outcome)).await?;
        self.unless_erased(owner).await?;
        self.blobs.delete(&object.key).await.map_err(unavailable)
    }

    /// Processing kept failing (a store that does not answer, a file that takes the function
    /// down): the media ends rejected, so its owner knows, and the upload goes.
    async fn gave_up(&self, object: &ObjectCreated) -> Result<(), UploadError> {
        let Some((owner, media_id)) = upload_of(&object.key) else { return Ok(()) };
        let outcome = MediaEvent::MediaRejected {
            code: "processing_failed".into(),
            reason: "Huddle could not process the file. Please try again.".into(),
        };
        self.execute(media_id, MediaCommand::Finish(outcome)).await?;
        // An attempt cut short may have written outputs before it stopped.
        self.unless_erased(owner).await?;
        self.blobs.delete(&object.key).await.map_err(unavailable)
    }
}
