//! The events/ fixtures (what `sam local invoke -e` and `scripts/invoke` feed the functions)
//! are the Lambda event types of their triggers and drive the handlers' shared runtime: the
//! stream batch through the fan-out, the SQS batch through the projector. rie.rs runs the built
//! function binaries with them.

use async_trait::async_trait;
use aws_lambda_events::dynamodb::Event as StreamEvent;
use aws_lambda_events::s3::S3Event;
use aws_lambda_events::sqs::SqsEvent;
use huddle_delivery::{fan_out, Projected, Projection, ProjectionError, Projector};
use huddle_embedded::{Database, SqliteTable};
use huddle_eventstore::{Envelope, EventStore};
use huddle_platform_tests::{Invocation, INVOCATIONS};
use huddle_ports::{FilterPolicy, PublishFailure, Queue, Table, Topic, TopicError, TopicMessage};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const STREAM_INSERT: &str = "events/fanout/stream-insert.json";
const SQS_BATCH: &str = "events/projector/sqs-batch.json";
const UPLOAD_NOTIFICATION: &str = "events/media/upload-notification.json";

/// Every fixture a test in this module reads; a fixture no test here or in rie.rs reads is an
/// error.
const FIXTURES: &[&str] = &[STREAM_INSERT, SQS_BATCH, UPLOAD_NOTIFICATION];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture<T: DeserializeOwned>(path: &str) -> T {
    let text =
        std::fs::read_to_string(workspace_root().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path} is not a {}: {e}", std::any::type_name::<T>()))
}

/// The envelopes of the stream fixture's NewImages, in record order.
fn stream_fixture_envelopes() -> Vec<Envelope> {
    let event: StreamEvent = fixture(STREAM_INSERT);
    event
        .records
        .iter()
        .map(|record| {
            let item =
                serde_dynamo::from_item(record.change.new_image.clone()).expect("a NewImage is an item");
            Envelope::from_item(&item).expect("the NewImage is an event item").expect("the event decodes")
        })
        .collect()
}

/// Every file under events/, by folder (`events/<function>/`), relative to the workspace root.
fn fixtures_under_events() -> Vec<(String, Vec<String>)> {
    let mut folders = Vec::new();
    for folder in std::fs::read_dir(workspace_root().join("events")).expect("read events/") {
        let folder = folder.unwrap().path();
        let mut files: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|file| {
                file.unwrap().path().strip_prefix(workspace_root()).unwrap().to_string_lossy().into_owned()
            })
            .collect();
        files.sort();
        folders.push((folder.file_name().unwrap().to_string_lossy().into_owned(), files));
    }
    folders.sort();
    folders
}

/// The invocation of tests/platform/lib.rs that lists `path`, if any.
fn invocation_of(path: &str) -> Option<&'static Invocation> {
    INVOCATIONS.iter().find(|invocation| invocation.fixtures.contains(&path))
}

#[test]
fn every_fixture_under_events_is_exercised() {
    for (_, files) in fixtures_under_events() {
        for path in files {
            assert!(
                FIXTURES.contains(&path.as_str()) || invocation_of(&path).is_some(),
                "{path} is read by no test: add it to FIXTURES (or to INVOCATIONS in tests/platform/lib.rs) and test it"
            );
        }
    }
}

/// A folder's fixtures are one function's triggers, so the RIE runs all of them or none: a new
/// route's fixture beside the others cannot be left out of its function's invocation.
#[test]
fn every_fixture_of_a_folder_the_emulator_runs_is_in_the_same_invocation() {
    let mut folders_run = 0;
    for (folder, files) in fixtures_under_events() {
        let Some(invocation) = files.iter().find_map(|path| invocation_of(path)) else { continue };
        folders_run += 1;
        for path in &files {
            assert!(
                invocation.fixtures.contains(&path.as_str()),
                "events/{folder}/ is run under the RIE as `{}`, but {path} is not in its INVOCATIONS entry (tests/platform/lib.rs)",
                invocation.binary
            );
        }
    }
    assert!(
        folders_run > 0,
        "no folder of events/ is run under the RIE: INVOCATIONS' paths are relative to the workspace root"
    );
}

/// What rie.rs reads only once the emulator runs is checked here, where it is cheap.
#[test]
fn every_listed_fixture_exists_and_is_json() {
    let lists = INVOCATIONS.iter().map(|invocation| (invocation.binary, invocation.fixtures));
    for (list, paths) in lists.chain([("FIXTURES", FIXTURES)]) {
        let mut seen = std::collections::BTreeSet::new();
        for path in paths {
            assert!(
                path.starts_with("events/") && path.ends_with(".json"),
                "{path} is not an events/ fixture"
            );
            assert!(seen.insert(path), "{list} lists {path} twice");
            let _: serde_json::Value = fixture(path);
        }
    }
}

#[test]
fn the_stream_fixture_holds_inserted_event_items_keyed_by_stream_and_padded_version() {
    let event: StreamEvent = fixture(STREAM_INSERT);
    let envelopes = stream_fixture_envelopes();
    assert!(!envelopes.is_empty());
    for (record, envelope) in event.records.iter().zip(&envelopes) {
        assert_eq!(record.event_name, "INSERT");
        let keys: serde_json::Value = serde_dynamo::from_item(record.change.keys.clone()).unwrap();
        assert_eq!(keys["pk"], envelope.stream.as_str());
        assert_eq!(keys["sk"], format!("{:012}", envelope.version));
    }
}

/// Records what the fan-out publishes.
#[derive(Default)]
struct RecordingTopic {
    published: Mutex<Vec<TopicMessage>>,
}

#[async_trait]
impl Topic for RecordingTopic {
    async fn publish_batch(&self, messages: Vec<TopicMessage>) -> Result<Vec<PublishFailure>, TopicError> {
        self.published.lock().unwrap().extend(messages);
        Ok(Vec::new())
    }

    async fn subscribe(&self, _queue: Arc<dyn Queue>, _policy: &FilterPolicy) -> Result<(), TopicError> {
        Err(TopicError::Invalid("the fan-out never subscribes".into()))
    }
}

#[tokio::test]
async fn the_fanout_publishes_every_event_of_the_stream_fixture() {
    let topic = RecordingTopic::default();
    let response = fan_out(&topic, fixture(STREAM_INSERT)).await;
    assert!(response.batch_item_failures.is_empty());

    let published = topic.published.into_inner().unwrap();
    let bodies: Vec<Envelope> = published.iter().map(|m| serde_json::from_str(&m.body).unwrap()).collect();
    assert_eq!(bodies, stream_fixture_envelopes());
    for (message, envelope) in published.iter().zip(&bodies) {
        assert_eq!(message.attributes["event_type"], envelope.event_type);
        assert_eq!(message.attributes["stream"], envelope.stream);
    }
}

/// Records which events the projector applies, in order; writes nothing to the read model.
#[derive(Default)]
struct RecordingProjection {
    applied: Mutex<Vec<(String, u64)>>,
}

#[async_trait]
impl Projection for RecordingProjection {
    async fn project(&self, event: &Envelope, _read_model: &dyn Table) -> Result<Projected, ProjectionError> {
        self.applied.lock().unwrap().push((event.stream.clone(), event.version));
        Ok(Projected::nothing())
    }
}

#[tokio::test]
async fn the_projector_applies_the_sqs_fixture_in_version_order() {
    let mut event: SqsEvent = fixture(SQS_BATCH);
    // The queued bodies are what the fan-out publishes for the stream fixture.
    let bodies: Vec<Envelope> =
        event.records.iter().map(|m| serde_json::from_str(m.body.as_deref().unwrap()).unwrap()).collect();
    assert_eq!(bodies, stream_fixture_envelopes());
    for (message, envelope) in event.records.iter().zip(&bodies) {
        let attribute = |name: &str| message.message_attributes[name].string_value.as_deref();
        assert_eq!(attribute("event_type"), Some(envelope.event_type.as_str()));
        assert_eq!(attribute("stream"), Some(envelope.stream.as_str()));
    }

    // Delivered newest first, as a standard queue may deliver them: the projector restores the
    // version order itself.
    event.records.reverse();
    let versions: Vec<u64> = bodies.iter().map(|e| e.version).collect();
    assert!(versions.len() > 1 && versions.is_sorted(), "the fixture holds one stream's versions in order");

    let db = Database::in_memory().unwrap();
    let projection = Arc::new(RecordingProjection::default());
    let projector = Projector::new(
        projection.clone(),
        Arc::new(SqliteTable::new(&db, "read", false)),
        EventStore::new(Arc::new(SqliteTable::new(&db, "events", true))),
    );
    let response = projector.handle(event).await;
    assert!(response.batch_item_failures.is_empty());
    let expected: Vec<(String, u64)> = bodies.iter().map(|e| (e.stream.clone(), e.version)).collect();
    assert_eq!(*projection.applied.lock().unwrap(), expected);
}

/// The uploads queue's message is S3's ObjectCreated event, as S3 sends it to SQS, for an upload
/// under the key the media domain signs (its owner's and its media's).
#[test]
fn the_upload_notification_is_an_s3_event_of_an_upload_in_the_media_bucket() {
    let batch: SqsEvent = fixture(UPLOAD_NOTIFICATION);
    let [message] = batch.records.as_slice() else { panic!("one message") };
    let body = message.body.as_deref().expect("a body");
    let event: S3Event = serde_json::from_str(body).expect("the body is an S3 event");
    let [record] = event.records.as_slice() else { panic!("one record") };
    assert!(record.event_name.as_deref().is_some_and(|name| name.starts_with("ObjectCreated:")));
    let key = record.s3.object.key.as_deref().unwrap();
    assert!(
        huddle_catalog::media::upload_of(key).is_some(),
        "an upload's key names its owner and media: {key}"
    );
    let announced = huddle_ports::objects_created(body).expect("the uploads role reads it");
    let size = record.s3.object.size.unwrap() as u64;
    assert_eq!(announced, [huddle_ports::ObjectCreated { key: key.to_owned(), size }]);
}
