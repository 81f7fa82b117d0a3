//! Both adapter families behind one interface, so each conformance test is written once.

use crate::{moto, unique_name};
use aws_lambda_events::dynamodb::Event;
use huddle_aws::streams::StreamPoller;
use huddle_aws::{PlatformApplications, S3Blobs, SnsPush};
use huddle_embedded::{
    ChangeFeed, Database, FolderBlobs, FolderBlobsConfig, InProcessTopic, PresignedRequest, RecordedPush,
    SqliteQueue, SqliteTable,
};
use huddle_ports::{
    Blobs, DeviceEndpoint, Platform, PresignedDownload, PresignedUpload, Push, Queue, Table, Topic,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// SQLite in memory and in-process adapters.
    Embedded,
    /// The AWS adapters against this process's moto server.
    Moto,
}

/// The resources of one test on one family; every resource it makes has a fresh name.
pub enum Backend {
    Embedded {
        db: Database,
    },
    Moto {
        config: Box<aws_config::SdkConfig>,
        dynamodb: aws_sdk_dynamodb::Client,
        sqs: aws_sdk_sqs::Client,
        sns: aws_sdk_sns::Client,
        /// The moto server's endpoint URL.
        endpoint: String,
        /// The server of a private backend, stopped with it; `None` on the process's shared one.
        _server: Option<moto::MotoServer>,
    },
}

impl Family {
    pub async fn backend(self) -> Backend {
        match self {
            Family::Embedded => Backend::Embedded { db: Database::in_memory().expect("in-memory database") },
            Family::Moto => Backend::moto(moto::endpoint(), None).await,
        }
    }

    /// A backend whose emulator no other test shares, for a heavy test: on moto it starts a
    /// server of its own ([`moto::private_server`]), which stops when the backend is dropped;
    /// an embedded backend is private anyway.
    pub async fn private_backend(self) -> Backend {
        match self {
            Family::Embedded => self.backend().await,
            Family::Moto => {
                let server = moto::private_server();
                let endpoint = server.endpoint().to_owned();
                Backend::moto(&endpoint, Some(server)).await
            }
        }
    }
}

impl Backend {
    async fn moto(endpoint: &str, server: Option<moto::MotoServer>) -> Backend {
        let config = huddle_aws::sdk_config(Some(endpoint)).await;
        Backend::Moto {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            config: Box::new(config),
            endpoint: endpoint.to_owned(),
            _server: server,
        }
    }

    /// A fresh, empty table; with `stream`, its writes feed a change stream.
    pub async fn table(&self, stream: bool) -> Arc<dyn Table> {
        self.streamed_table_if(stream).await.0
    }

    /// A fresh, empty table whose writes feed the returned change stream.
    pub async fn streamed_table(&self) -> (Arc<dyn Table>, ChangeStream) {
        let (table, stream) = self.streamed_table_if(true).await;
        (table, stream.expect("a streamed table has a stream"))
    }

    async fn streamed_table_if(&self, stream: bool) -> (Arc<dyn Table>, Option<ChangeStream>) {
        let name = unique_name("table");
        match self {
            Backend::Embedded { db } => {
                let table = SqliteTable::new(db, name, stream);
                let feed = stream.then(|| ChangeStream::Embedded { feed: table.change_feed(), after: 0 });
                (Arc::new(table), feed)
            }
            Backend::Moto { config, dynamodb, .. } => {
                let arn = huddle_aws::provision::table(dynamodb, &name, stream).await.expect("create table");
                let poller = arn.map(|arn| {
                    let streams = aws_sdk_dynamodbstreams::Client::new(config);
                    ChangeStream::Moto(Box::new(StreamPoller::new(streams, arn)))
                });
                (Arc::new(huddle_aws::DynamoTable::new(dynamodb.clone(), name)), poller)
            }
        }
    }

    /// A fresh, empty queue; with `redrive = Some((dead_letter, max_receives))`, a message that
    /// would be received more than `max_receives` times moves to `dead_letter` instead.
    pub async fn queue(&self, redrive: Option<(&dyn Queue, u32)>) -> Arc<dyn Queue> {
        let name = unique_name("queue");
        let redrive = redrive.map(|(dead_letter, max_receives)| (dead_letter.address(), max_receives));
        match self {
            Backend::Embedded { db } => Arc::new(SqliteQueue::new(db, name, redrive)),
            Backend::Moto { sqs, .. } => {
                let (url, arn) =
                    huddle_aws::provision::queue(sqs, &name, redrive).await.expect("create queue");
                Arc::new(huddle_aws::SqsQueue::new(sqs.clone(), url, arn))
            }
        }
    }

    /// A fresh topic without subscriptions.
    pub async fn topic(&self) -> Arc<dyn Topic> {
        match self {
            Backend::Embedded { .. } => Arc::new(InProcessTopic::default()),
            Backend::Moto { sns, .. } => {
                let arn =
                    huddle_aws::provision::topic(sns, &unique_name("topic")).await.expect("create topic");
                Arc::new(huddle_aws::SnsTopic::new(sns.clone(), arn))
            }
        }
    }

    /// A fresh, empty blob store.
    pub async fn blobs(&self) -> BlobStore {
        let bucket = unique_name("bucket");
        match self {
            Backend::Embedded { db } => {
                let folder = tempfile::tempdir().expect("temporary blob folder");
                let config = FolderBlobsConfig {
                    bucket,
                    folder: folder.path().to_owned(),
                    upload_origin: url::Url::parse("http://127.0.0.1:3000").expect("origin"),
                    signing_key: unique_name("signing-key").into_bytes(),
                    max_upload_bytes: EMBEDDED_MAX_UPLOAD_BYTES,
                };
                let blobs = FolderBlobs::open(db, config).expect("open blob folder");
                BlobStore {
                    blobs: Arc::new(blobs.clone()),
                    presigned: PresignedRoute::Folder { blobs: Box::new(blobs), _folder: folder },
                }
            }
            Backend::Moto { config, .. } => {
                let s3 = huddle_aws::s3_client(config);
                huddle_aws::provision::bucket(&s3, &bucket).await.expect("create bucket");
                BlobStore {
                    blobs: Arc::new(S3Blobs::new(s3.clone(), bucket.clone())),
                    presigned: PresignedRoute::Http { client: reqwest::Client::new(), s3, bucket },
                }
            }
        }
    }

    /// A fresh push service with its own platform applications.
    pub async fn push(&self) -> PushService {
        match self {
            Backend::Embedded { db } => {
                let recorded = RecordedPush::new(db);
                PushService { push: Arc::new(recorded.clone()), platform: PlatformSide::Recorded(recorded) }
            }
            Backend::Moto { sns, endpoint, .. } => {
                let application = |platform| {
                    let sns = sns.clone();
                    async move {
                        let name = unique_name("app");
                        huddle_aws::provision::platform_application(&sns, &name, platform)
                            .await
                            .expect("create platform application")
                    }
                };
                let applications = PlatformApplications {
                    apns: application(Platform::Apns).await,
                    fcm: application(Platform::Fcm).await,
                };
                PushService {
                    push: Arc::new(SnsPush::new(sns.clone(), applications)),
                    platform: PlatformSide::Sns { sns: sns.clone(), moto_endpoint: endpoint.clone() },
                }
            }
        }
    }
}

/// The largest upload the embedded family's blob stores accept.
pub const EMBEDDED_MAX_UPLOAD_BYTES: u64 = 1024 * 1024;

/// A fresh blob store, and the way an app's presigned requests reach it.
pub struct BlobStore {
    pub blobs: Arc<dyn Blobs>,
    presigned: PresignedRoute,
}

enum PresignedRoute {
    /// S3 (moto) takes the requests itself.
    Http { client: reqwest::Client, s3: aws_sdk_s3::Client, bucket: String },
    /// No runner serves the presigned route in these tests, so the request goes to the function
    /// that route calls. The folder is deleted with the store.
    Folder { blobs: Box<FolderBlobs>, _folder: tempfile::TempDir },
}

impl BlobStore {
    /// Performs `upload` as an app would, with the headers it names and `body`; returns the HTTP
    /// status the store answers (on the embedded family, the one the runner would answer).
    pub async fn upload(&self, upload: &PresignedUpload, body: Vec<u8>) -> u16 {
        match &self.presigned {
            PresignedRoute::Http { client, .. } => {
                let method = reqwest::Method::from_bytes(upload.method.as_bytes()).expect("HTTP method");
                let mut request = client.request(method, &upload.url).body(body);
                for (name, value) in &upload.headers {
                    request = request.header(name, value);
                }
                request.send().await.expect("upload request").status().as_u16()
            }
            PresignedRoute::Folder { blobs, .. } => {
                let url = url::Url::parse(&upload.url).expect("upload URL");
                let header = |wanted: &str| {
                    let found = upload.headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(wanted));
                    found.map(|(_, value)| value.as_str())
                };
                let request = PresignedRequest {
                    method: &upload.method,
                    path: url.path(),
                    query: url.query().unwrap_or_default(),
                    content_type: header("content-type"),
                    if_none_match: header("if-none-match"),
                    body,
                };
                blobs.receive_upload(request).await.map_or_else(|refused| refused.status_code(), |_| 200)
            }
        }
    }

    /// Performs `download` as an app would: the HTTP status the store answers and, on 200, the
    /// content type and bytes it served.
    pub async fn download(&self, download: &PresignedDownload) -> (u16, Option<(String, Vec<u8>)>) {
        match &self.presigned {
            PresignedRoute::Http { client, .. } => {
                let response = client.get(&download.url).send().await.expect("download request");
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let bytes = response.bytes().await.expect("download body").to_vec();
                (status, (status == 200).then_some((content_type, bytes)))
            }
            PresignedRoute::Folder { blobs, .. } => {
                let url = url::Url::parse(&download.url).expect("download URL");
                let request = PresignedRequest {
                    method: "GET",
                    path: url.path(),
                    query: url.query().unwrap_or_default(),
                    content_type: None,
                    if_none_match: None,
                    body: Vec::new(),
                };
                match blobs.serve_download(request).await {
                    Ok(served) => (200, Some(served)),
                    Err(refused) => (refused.status_code(), None),
                }
            }
        }
    }

    /// Announce every object created under `prefix` on `queue`, as a bucket's notification
    /// configuration does (moto sends S3's own messages; the folder store writes the same). On
    /// moto this replaces the bucket's notifications: call it once per store.
    pub async fn notify(&self, prefix: &str, queue: Arc<dyn Queue>) {
        match &self.presigned {
            PresignedRoute::Http { s3, bucket, .. } => {
                huddle_aws::provision::bucket_notifications(s3, bucket, &[(prefix, queue.address())])
                    .await
                    .expect("configure the bucket's notification");
            }
            PresignedRoute::Folder { blobs, .. } => blobs.notify(prefix, queue),
        }
    }

    /// The folder store behind the embedded family, whose upload checks tests drive directly.
    pub fn folder(&self) -> Option<&FolderBlobs> {
        match &self.presigned {
            PresignedRoute::Folder { blobs, .. } => Some(blobs),
            PresignedRoute::Http { .. } => None,
        }
    }
}

/// A fresh push service, and the platform's side of it: feedback that disables endpoints, and
/// what reached the devices.
pub struct PushService {
    pub push: Arc<dyn Push>,
    platform: PlatformSide,
}

enum PlatformSide {
    Recorded(RecordedPush),
    /// SNS on the moto server at `moto_endpoint`, whose back door shows what was delivered.
    Sns {
        sns: aws_sdk_sns::Client,
        moto_endpoint: String,
    },
}

impl PushService {
    /// Disables `endpoint` as APNs or FCM feedback about a dead token would.
    pub async fn disable(&self, endpoint: &DeviceEndpoint) {
        match &self.platform {
            PlatformSide::Recorded(recorded) => recorded.disable(endpoint).expect("disable endpoint"),
            PlatformSide::Sns { sns, .. } => {
                sns.set_endpoint_attributes()
                    .endpoint_arn(&endpoint.id)
                    .attributes("Enabled", "false")
                    .send()
                    .await
                    .expect("disable endpoint");
            }
        }
    }

    /// The payloads the platform was handed for `endpoint`, sorted: moto keeps an endpoint's
    /// messages in a map keyed by message id, so the order they were sent in is lost.
    pub async fn delivered(&self, endpoint: &DeviceEndpoint) -> Vec<String> {
        let mut payloads = match &self.platform {
            PlatformSide::Recorded(recorded) => recorded
                .outbox(0, usize::MAX)
                .expect("read outbox")
                .into_iter()
                .filter(|entry| entry.endpoint == endpoint.id)
                .map(|entry| entry.payload)
                .collect(),
            PlatformSide::Sns { moto_endpoint, .. } => {
                moto::platform_endpoint_messages(moto_endpoint, &endpoint.id)
                    .await
                    .iter()
                    .map(|message| platform_payload(message))
                    .collect::<Vec<_>>()
            }
        };
        payloads.sort();
        payloads
    }
}

/// What SNS hands the platform out of a JSON-structured message: its one platform-specific
/// entry (the other, `default`, is for protocols that are not mobile push).
fn platform_payload(message: &str) -> String {
    let structure: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(message).expect("a JSON message structure");
    let mut platform_entries = structure.iter().filter(|(key, _)| *key != "default");
    let (_, payload) = platform_entries.next().expect("a platform entry");
    assert!(platform_entries.next().is_none(), "one platform entry in {message}");
    payload.as_str().expect("platform payloads are strings").to_owned()
}

/// A table's change stream, read the way each family's event source mapping reads it.
pub enum ChangeStream {
    Embedded { feed: ChangeFeed, after: u64 },
    Moto(Box<StreamPoller>),
}

impl ChangeStream {
    /// Every record the stream yields until it holds at least `count` (or 10 s pass), as one
    /// Lambda event, leaving out the records of the appended-streams index: they are the
    /// store's bookkeeping for the sweeper (its tests read the index itself), written beside
    /// every append, and would only blur what a test counts.
    pub async fn read_at_least(&mut self, count: usize) -> Event {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut records = Vec::new();
        while records.len() < count && Instant::now() < deadline {
            match self {
                ChangeStream::Embedded { feed, after } => {
                    let batch = feed.read(*after, 1000).expect("read change feed");
                    if let Some(last) = batch.last() {
                        *after = last.change.sequence_number.as_deref().unwrap().parse().unwrap();
                    }
                    records.extend(batch.into_iter().filter(not_index));
                }
                ChangeStream::Moto(poller) => {
                    for batch in poller.poll().await.expect("poll stream") {
                        records.extend(batch.event.records.into_iter().filter(not_index));
                    }
                }
            }
            if records.len() < count {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let mut event = Event::default();
        event.records = records;
        event
    }
}

fn not_index(record: &aws_lambda_events::dynamodb::EventRecord) -> bool {
    let key: huddle_ports::Item = serde_dynamo::from_item(record.change.keys.clone()).expect("a key");
    !key.get("pk").and_then(serde_json::Value::as_str).is_some_and(|pk| pk.starts_with("appended#"))
}

/// Runs each named `async fn(Family)` once per adapter family, as tests `NAME::embedded` and
/// `NAME::moto`.
#[macro_export]
macro_rules! on_both_families {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn embedded() {
                super::$name($crate::Family::Embedded).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn moto() {
                super::$name($crate::Family::Moto).await
            }
        }
    )*};
}
