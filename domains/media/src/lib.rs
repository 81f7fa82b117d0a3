//! The media domain (issue 11): uploaded images and videos.
//! A client asks to upload (`command`: the media's stream begins, a presigned PUT comes back),
//! sends the file straight to the bucket, and the bucket's notification brings it to the uploads
//! role (`uploads`), which checks and processes its bytes (`processing`) and appends ready or
//! rejected on the media's stream (`media`, its decider). The projection keeps each media's
//! record (`projection`, `read_model`), which the owner reads (`query`).

pub mod command;
pub mod media;
pub mod processing;
pub mod projection;
pub mod query;
pub mod read_model;
pub mod routes;
pub mod uploads;
pub mod views;

use huddle_catalog::accounts::{account_stream, AccountEvent};
use huddle_catalog::media::{media_stream, MediaEvent, UPLOAD_PREFIX};
use huddle_delivery::Projection;
use huddle_domain::throttle::Throttle;
use huddle_domain::{Domain, DomainPorts, DomainRoute, UploadHandler};
use huddle_eventstore::{attribute, EventSchema};
use huddle_http::HttpFunction;
use huddle_ports::FilterPolicy;
use std::sync::Arc;

/// The media domain's name: its read table's.
pub const NAME: &str = "media";

pub struct MediaDomain;

/// The throttle of an account's poster attachments ([`command::POSTERS_PER_ACCOUNT`]), on the
/// counters table.
pub fn poster_throttle(counters: Arc<dyn huddle_ports::Table>) -> Throttle {
    Throttle::new(counters, "media-poster", command::POSTERS_PER_ACCOUNT)
}

impl Domain for MediaDomain {
    fn name(&self) -> &'static str {
        NAME
    }

    fn routes(&self) -> Vec<DomainRoute> {
        routes::ROUTES.iter().map(|route| route.erased()).collect()
    }

    /// Its own streams' events, and every event of the account streams (an erasure deletes the
    /// account's media; it takes the events it ignores too, so it never heals a gap they leave).
    fn consumes(&self) -> FilterPolicy {
        let (media_streams, account_streams) = (media_stream(""), account_stream(""));
        let stream_types = [media_streams.trim_end_matches('#'), account_streams.trim_end_matches('#')];
        let event_types = [MediaEvent::event_types(), AccountEvent::event_types()].concat();
        FilterPolicy::all_of(&[
            (attribute::STREAM_TYPE, &stream_types),
            (attribute::EVENT_TYPE, &event_types),
        ])
    }

    fn command(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        Arc::new(command::MediaCommandRole {
            events: ports.events.clone(),
            blobs: ports.blobs(),
            uploads: Throttle::new(ports.counters.clone(), "media-upload", command::UPLOADS_PER_ACCOUNT),
            posters: poster_throttle(ports.counters.clone()),
        })
    }

    fn query(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        Arc::new(query::MediaQueryRole { read_model: ports.read_model.clone(), blobs: ports.blobs() })
    }

    fn projection(&self, ports: &DomainPorts) -> Arc<dyn Projection> {
        Arc::new(projection::MediaProjection { blobs: ports.blobs() })
    }

    fn uses_blobs(&self) -> bool {
        true
    }

    fn upload_prefix(&self) -> Option<&'static str> {
        Some(UPLOAD_PREFIX)
    }

    fn upload_handler(&self, ports: &DomainPorts) -> Option<Arc<dyn UploadHandler>> {
        Some(Arc::new(uploads::ProcessUploads::new(
            ports.events.clone(),
            ports.blobs(),
            ports.read_model.clone(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use huddle_catalog::media::{OUTPUT_PREFIX, UPLOAD_PREFIX};

    /// deploy.toml grants each role the bucket's objects by key prefix, written out there as
    /// template.yaml shows them: they must be the prefixes the domain writes and reads.
    #[test]
    fn the_manifest_grants_the_prefixes_the_domain_uses() {
        let manifest = include_str!("../deploy.toml");
        let granted: Vec<&str> = manifest
            .lines()
            .filter_map(|line| line.strip_prefix("objects = "))
            .map(|prefix| prefix.trim_matches('"'))
            .collect();
        assert!(!granted.is_empty(), "deploy.toml grants no objects");
        for prefix in &granted {
            assert!([UPLOAD_PREFIX, OUTPUT_PREFIX].contains(prefix), "deploy.toml grants {prefix}");
        }
        assert!(granted.contains(&UPLOAD_PREFIX) && granted.contains(&OUTPUT_PREFIX), "{granted:?}");
    }
}
