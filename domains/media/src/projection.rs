//! The media projection: each event of a `media#` stream rewrites its record.

use crate::read_model::{record_key, MediaRecord, Status, PENDING_FOR, REJECTION_SHOWN_FOR};
use async_trait::async_trait;
use huddle_catalog::media::{media_of_stream, MediaEvent};
use huddle_delivery::{Projected, Projection, ProjectionError};
use huddle_eventstore::{decode, Envelope};
use huddle_ports::{Condition, Table, TransactWrite};

pub struct MediaProjection;

fn invalid(what: impl std::fmt::Display) -> ProjectionError {
    ProjectionError::Invalid(what.to_string())
}

#[async_trait]
impl Projection for MediaProjection {
    async fn project(
        &self,
        envelope: &Envelope,
        read_model: &dyn Table,
    ) -> Result<Projected, ProjectionError> {
        let Some(media_id) = media_of_stream(&envelope.stream) else { return Ok(Projected::nothing()) };
        let event: MediaEvent = decode(envelope).map_err(invalid)?;
        let current = match read_model.get(&record_key(media_id)).await? {
            Some(item) => Some(MediaRecord::from_item(&item).map_err(invalid)?),
            None => None,
        };
        let at = envelope.occurred_at;
        let record = match (current, event) {
            (None, MediaEvent::MediaRequested { owner, kind, content_type, .. }) => MediaRecord {
                owner,
                status: Status::PendingUpload,
                kind,
                content_type,
                width: None,
                height: None,
                duration_ms: None,
                blurhash: None,
                original: None,
                thumbnails: Vec::new(),
                poster_id: None,
                reason: None,
                expires_at: Some((at + PENDING_FOR).unix_timestamp()),
            },
            (Some(record), MediaEvent::MediaUploaded) => MediaRecord { status: Status::Processing, ..record },
            (
                Some(record),
                MediaEvent::MediaProcessed {
                    width,
                    height,
                    duration_ms,
                    codec: _,
                    blurhash,
                    original,
                    thumbnails,
                },
            ) => MediaRecord {
                status: Status::Ready,
                width: Some(width),
                height: Some(height),
                duration_ms,
                blurhash,
                original: Some(original),
                thumbnails,
                expires_at: None,
                ..record
            },
            (Some(record), MediaEvent::MediaRejected { reason, .. }) => MediaRecord {
                status: Status::Rejected,
                reason: Some(reason),
                expires_at: Some((at + REJECTION_SHOWN_FOR).unix_timestamp()),
                ..record
            },
            (Some(record), MediaEvent::PosterAttached { poster_id }) => {
                MediaRecord { poster_id: Some(poster_id), ..record }
            }
            (current, event) => {
                return Err(invalid(format!(
                    "{event:?} cannot follow {:?} in {}",
                    current.map(|record| record.status),
                    envelope.stream
                )))
            }
        };
        Ok(vec![TransactWrite::Put { item: record.into_item(media_id), condition: Condition::Always }].into())
    }
}
