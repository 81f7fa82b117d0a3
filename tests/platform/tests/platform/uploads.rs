//! Uploads through the runner, on both families: a presigned PUT under a domain's upload prefix
//! is announced on the domain's uploads queue (by moto's S3 or the folder store) and handed to
//! its upload handler, which is called again after a failure and told to give an object up
//! after the last receive; objects outside the prefix are not handed over.

use async_trait::async_trait;
use huddle_delivery::Projection;
use huddle_domain::{Domain, DomainPorts, DomainRoute, ObjectCreated, UploadError, UploadHandler};
use huddle_eventstore::{AppendError, EventStore, ExpectedVersion, Metadata};
use huddle_http::{Authorizer, HttpFunction};
use huddle_runner::{QueuePolling, Running, Settings, Storage};
use huddle_test_support::notes::{events, stream_of, NoteEvent};
use huddle_test_support::notes_api::NotesDomain;
use huddle_test_support::{moto, on_both_families, unique_name, Family};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PREFIX: &str = "uploads/";

/// The notes domain, taking uploads: each uploaded object becomes a note named by its key's
/// last segment, holding its size; the first attempt at an object named `flaky` fails, and
/// every attempt at one named `hopeless`, which is then given up.
struct UploadingNotes {
    flaky_attempts: Arc<AtomicU32>,
}

struct WritesANote {
    events: EventStore,
    flaky_attempts: Arc<AtomicU32>,
}

#[async_trait]
impl UploadHandler for WritesANote {
    async fn uploaded(&self, object: &ObjectCreated) -> Result<(), UploadError> {
        let name = object.key.rsplit('/').next().unwrap_or_default();
        if name == "flaky" && self.flaky_attempts.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(UploadError("the first attempt fails".into()));
        }
        if name == "hopeless" {
            return Err(UploadError("every attempt fails".into()));
        }
        let note = events(&[NoteEvent::NoteWritten { text: format!("{} bytes", object.size) }]);
        let (stream, metadata) = (stream_of(name), Metadata::new("upload"));
        let appended = self.events.append(&stream, ExpectedVersion::NoStream, note, &metadata, None);
        match appended.await {
            // Announced again (a redelivery): already written.
            Ok(_) | Err(AppendError::Conflict { .. }) => Ok(()),
            Err(error) => Err(UploadError(error.to_string())),
        }
    }

    /// A note named `gave-up-<name>` says the object was given up.
    async fn gave_up(&self, object: &ObjectCreated) -> Result<(), UploadError> {
        let name = object.key.rsplit('/').next().unwrap_or_default();
        let note = events(&[NoteEvent::NoteWritten { text: "given up".into() }]);
        let (stream, metadata) = (stream_of(&format!("gave-up-{name}")), Metadata::new("upload"));
        match self.events.append(&stream, ExpectedVersion::NoStream, note, &metadata, None).await {
            Ok(_) | Err(AppendError::Conflict { .. }) => Ok(()),
            Err(error) => Err(UploadError(error.to_string())),
        }
    }
}

impl Domain for UploadingNotes {
    fn name(&self) -> &'static str {
        NotesDomain.name()
    }
    fn routes(&self) -> Vec<DomainRoute> {
        NotesDomain.routes()
    }
    fn consumes(&self) -> huddle_ports::FilterPolicy {
        NotesDomain.consumes()
    }
    fn command(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        NotesDomain.command(ports)
    }
    fn query(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        NotesDomain.query(ports)
    }
    fn projection(&self, ports: &DomainPorts) -> Arc<dyn Projection> {
        NotesDomain.projection(ports)
    }
    fn authorizer(&self, ports: &DomainPorts) -> Option<Arc<dyn Authorizer>> {
        NotesDomain.authorizer(ports)
    }
    fn uses_blobs(&self) -> bool {
        true
    }
    fn upload_prefix(&self) -> Option<&'static str> {
        Some(PREFIX)
    }
    fn upload_handler(&self, ports: &DomainPorts) -> Option<Arc<dyn UploadHandler>> {
        // The ports carry the media bucket, as uses_blobs() asks.
        let _bucket = ports.blobs();
        Some(Arc::new(WritesANote {
            events: ports.events.clone(),
            flaky_attempts: self.flaky_attempts.clone(),
        }))
    }
}

async fn start(family: Family, flaky_attempts: Arc<AtomicU32>) -> Running {
    let storage = match family {
        Family::Embedded => Storage::Memory,
        Family::Moto => {
            Storage::Aws { endpoint: moto::endpoint().to_owned(), prefix: format!("{}-", unique_name("up")) }
        }
    };
    let mut settings = Settings::new(storage, 0);
    // A failed message comes back after a second.
    settings.polling = QueuePolling {
        batch_size: 10,
        visibility_timeout: Duration::from_secs(1),
        concurrency: 2,
        wait: Duration::from_secs(1),
    };
    settings.max_receives = 5;
    huddle_runner::start(settings, vec![Arc::new(UploadingNotes { flaky_attempts })])
        .await
        .expect("runner starts")
}

async fn upload(system: &Running, key: &str, body: Vec<u8>) {
    let upload = system
        .blobs
        .presign_upload(key, "image/png", body.len() as u64, Duration::from_secs(60))
        .await
        .unwrap();
    let mut request = reqwest::Client::new().put(&upload.url).body(body);
    for (name, value) in &upload.headers {
        request = request.header(name, value);
    }
    let status = request.send().await.unwrap().status();
    assert!(status.is_success(), "{key}: {status}");
}

on_both_families!(
    an_upload_under_the_prefix_reaches_the_handler_again_after_a_failure_and_is_given_up_after_the_last
);

async fn an_upload_under_the_prefix_reaches_the_handler_again_after_a_failure_and_is_given_up_after_the_last(
    family: Family,
) {
    let flaky_attempts = Arc::new(AtomicU32::new(0));
    let system = start(family, flaky_attempts.clone()).await;
    upload(&system, "uploads/acc_1/steady", vec![1; 3]).await;
    upload(&system, "uploads/acc_1/flaky", vec![1; 5]).await;
    upload(&system, "elsewhere/acc_1/ignored", vec![1; 7]).await;
    upload(&system, "uploads/acc_1/hopeless", vec![1; 9]).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut written = Vec::new();
    for name in ["steady", "flaky", "gave-up-hopeless"] {
        loop {
            let stream = system.events.read_stream(&stream_of(name), 1..).await.unwrap();
            if !stream.is_empty() {
                written.push((name, stream.len(), stream[0].payload["text"].clone()));
                break;
            }
            assert!(Instant::now() < deadline, "{name} never reached the handler");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(
        written,
        [
            ("steady", 1, serde_json::json!("3 bytes")),
            ("flaky", 1, serde_json::json!("5 bytes")),
            ("gave-up-hopeless", 1, serde_json::json!("given up")),
        ]
    );
    assert!(flaky_attempts.load(Ordering::SeqCst) >= 2, "the failed attempt was made again");
    // Give a stray announcement of the object outside the prefix time to be handled.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ignored = system.events.read_stream(&stream_of("ignored"), 1..).await.unwrap();
    assert!(ignored.is_empty(), "an object outside the upload prefix is not handed over");
    system.shutdown().await;
}
