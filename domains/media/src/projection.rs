//! The media projection: each event of a `media#` stream rewrites its record; an account's
//! erasure deletes every object and record of its media.

use crate::read_model::{
    erased_key, owned_key, owner_partition, record_key, MediaRecord, Status, ERASED_MARK_KEPT_FOR,
    PENDING_FOR, REJECTION_SHOWN_FOR,
};
use async_trait::async_trait;
use huddle_catalog::accounts::account_of_stream;
use huddle_catalog::media::{media_of_stream, owner_prefixes, MediaEvent, MEDIA_ID_PREFIX};
use huddle_delivery::{FanOutWrite, Projected, Projection, ProjectionError};
use huddle_eventstore::{decode, Envelope};
use huddle_ports::table::EXPIRES_AT;
use huddle_ports::{delete_prefix, Blobs, Condition, Query, SkRange, Table, TransactWrite};
use std::sync::Arc;

/// The account event that makes the projection delete an owner's media.
const ACCOUNT_ERASED: &str = "AccountErased";

pub struct MediaProjection {
    pub blobs: Arc<dyn Blobs>,
}

impl MediaProjection {
    /// The mark first, so that from then on no media event of the owner's writes a record and no
    /// upload keeps its outputs (each checks it after writing); then every object under the
    /// owner's prefixes, and (fan-out deletes, any number) every record and entry of its
    /// partition. Each step is safe to repeat on a redelivery.
    async fn erase(
        &self,
        owner: &str,
        envelope: &Envelope,
        read_model: &dyn Table,
    ) -> Result<Projected, ProjectionError> {
        let kept_until = (envelope.occurred_at + ERASED_MARK_KEPT_FOR).unix_timestamp();
        let mark = erased_key(owner).item(serde_json::json!({ EXPIRES_AT: kept_until }));
        read_model.transact(vec![TransactWrite::Put { item: mark, condition: Condition::Always }]).await?;
        for prefix in owner_prefixes(owner) {
            delete_prefix(self.blobs.as_ref(), &prefix).await?;
        }
        let mut deletes: Vec<FanOutWrite> = Vec::new();
        let mut query = Query::new(owner_partition(owner)).range(SkRange::Prefix(MEDIA_ID_PREFIX.to_owned()));
        loop {
            let page = read_model.query(&query).await?;
            for item in &page.items {
                let media_id = item.get("sk").and_then(serde_json::Value::as_str).unwrap_or_default();
                deletes.push(FanOutWrite::Delete(record_key(media_id)));
                deletes.push(FanOutWrite::Delete(owned_key(owner, media_id)));
            }
            match page.next {
                Some(next) => query = query.after(Some(next)),
                None => break,
            }
        }
        Ok(Projected::nothing().with_fan_out(deletes))
    }
}

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
        if let Some(owner) = account_of_stream(&envelope.stream) {
            // Only the erasure matters here, and only its type is read: the account's other
            // events hold sealed fields this projection has no use for.
            return match envelope.event_type == ACCOUNT_ERASED {
                true => self.erase(owner, envelope, read_model).await,
                false => Ok(Projected::nothing()),
            };
        }
        let Some(media_id) = media_of_stream(&envelope.stream) else { return Ok(Projected::nothing()) };
        let event: MediaEvent = decode(envelope).map_err(invalid)?;
        let current = match read_model.get(&record_key(media_id)).await? {
            Some(item) => Some(MediaRecord::from_item(&item).map_err(invalid)?),
            None => None,
        };
        let owner = match (&current, &event) {
            (Some(record), _) => record.owner.clone(),
            (None, MediaEvent::MediaRequested { owner, .. }) => owner.clone(),
            // Its owner was erased, or the record expired: there is nothing left to change.
            (None, _) => return Ok(Projected::nothing()),
        };
        // An erased owner's media makes no record: read here, and required again when the
        // write lands (an erasure marking the owner meanwhile fails it, and the retry reads it).
        if read_model.get(&erased_key(&owner)).await?.is_some() {
            return Ok(Projected::nothing());
        }
        let not_erased = TransactWrite::Check { key: erased_key(&owner), condition: Condition::NotExists };
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
        let mut writes = vec![not_erased];
        if record.status == Status::PendingUpload {
            let entry = owned_key(&record.owner, media_id).item(serde_json::json!({}));
            writes.push(TransactWrite::Put { item: entry, condition: Condition::Always });
        }
        writes.push(TransactWrite::Put { item: record.into_item(media_id), condition: Condition::Always });
        Ok(writes.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_catalog::accounts::AccountEvent;
    use strum::VariantNames;

    #[test]
    fn the_erasure_it_waits_for_is_an_account_event() {
        assert!(AccountEvent::VARIANTS.contains(&ACCOUNT_ERASED));
    }
}
