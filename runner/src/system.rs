//! The whole topology in one process: storage, the event log and its stream, the topic, one
//! queue (with its dead-letter queue) and read table per domain, the event source mappings, and
//! the HTTP gateway. The same wiring runs on the embedded adapters or on any AWS endpoint.

use crate::authorizer_cache::AuthorizerCache;
use crate::contract::ContractRoute;
use crate::cors::Cors;
use crate::gateway::{Gateway, Integration, LocalRoutes};
use crate::local_routes::EmbeddedServices;
use crate::mappings::{
    run_queue, run_stream, run_sweeps, AwsStream, DeliveryGate, EmbeddedStream, PausedDeliveries,
    QueueMapping, QueuePolling, StreamSource,
};
use crate::metering::{DeployedFunction, Invoker};
use huddle_delivery::{Operations, Projector, Sweeper, SWEEP_INTERVAL};
use huddle_domain::{command_role, query_role, Domain, DomainPorts, Role, Uploads};
use huddle_embedded::{
    Database, FolderBlobs, FolderBlobsConfig, InProcessTopic, RecordedPush, SqliteQueue, SqliteTable,
};
use huddle_eventstore::EventStore;
use huddle_http::{Authorizer, NotFound, Router};
use huddle_metering::{Meter, MeteredBlobs, MeteredPush, MeteredQueue, MeteredTable, MeteredTopic};
use huddle_ports::{Blobs, Platform, Push, Queue, Table, Topic};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The SQLite database of a data folder.
pub const DATABASE_FILE: &str = "huddle.sqlite3";

/// Where the system keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// Nothing survives the process.
    Memory,
    /// An SQLite database (and uploaded blobs) in this folder.
    Folder(PathBuf),
    /// The AWS adapters against this endpoint (a local emulator such as moto), with every
    /// resource name prefixed so several systems can share one endpoint.
    Aws { endpoint: String, prefix: String },
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub storage: Storage,
    /// 127.0.0.1 and this port; 0 picks a free one.
    pub port: u16,
    pub polling: QueuePolling,
    /// Receives before a message moves to its queue's dead-letter queue.
    pub max_receives: u32,
    /// Signs pagination cursors and keys idempotency fingerprints (`CURSOR_SECRET` on AWS).
    pub request_secret: Vec<u8>,
    /// Signs the embedded blob store's upload URLs.
    pub upload_secret: Vec<u8>,
    /// The largest upload the embedded blob store takes.
    pub max_upload_bytes: u64,
    /// See [`Gateway::trust_forwarded_for`].
    pub trust_forwarded_for: bool,
    /// The origins the gateway's CORS allows (template.yaml's `AllowedOrigins`; see [`Cors`]).
    pub allowed_origins: Vec<String>,
    /// How long an authorizer answer is reused for the same `Authorization` header, as API
    /// Gateway's `ReauthorizeEvery` (see [`AuthorizerCache`]); zero asks on every request.
    pub authorizer_cache_ttl: Duration,
    /// How often each domain's sweeper runs (see `huddle_delivery::Sweeper`).
    pub sweep_interval: Duration,
    /// On an AWS endpoint, the file the fan-out's stream positions are kept in across restarts
    /// (none: every start reads the stream from its trim horizon).
    pub stream_positions: Option<PathBuf>,
    /// Meters every port call, request and invocation (`huddle cost`); none by default.
    pub meter: Option<Meter>,
}

impl Settings {
    pub fn new(storage: Storage, port: u16) -> Self {
        Self {
            storage,
            port,
            polling: QueuePolling {
                batch_size: 10,
                visibility_timeout: Duration::from_secs(30),
                concurrency: 2,
                wait: Duration::from_secs(1),
            },
            max_receives: 5,
            // Fresh each start: cursors and upload URLs are short-lived, and a fixed secret in
            // the source would let anyone mint them.
            request_secret: ulid::Ulid::new().to_bytes().to_vec(),
            upload_secret: ulid::Ulid::new().to_bytes().to_vec(),
            max_upload_bytes: 100 * 1024 * 1024,
            trust_forwarded_for: false,
            allowed_origins: vec!["*".into()],
            authorizer_cache_ttl: Duration::ZERO,
            sweep_interval: SWEEP_INTERVAL,
            stream_positions: None,
            meter: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("port {0} is busy: another process listens on 127.0.0.1:{0}; pick another with --port")]
    PortBusy(u16),
    #[error("cannot listen on 127.0.0.1:{port}: {cause}")]
    Listen { port: u16, cause: std::io::Error },
    #[error("cannot use data folder {path}: {cause}")]
    DataFolder { path: PathBuf, cause: String },
    #[error("cannot set up {0}")]
    Provision(String),
}

/// A domain's read table and its queue's dead-letter queue.
pub struct DomainResources {
    pub name: &'static str,
    pub read_model: Arc<dyn Table>,
    pub dead_letters: Arc<dyn Queue>,
}

/// A started system; dropping it without `shutdown` leaves its tasks running until the process ends.
pub struct Running {
    pub address: SocketAddr,
    pub events: EventStore,
    /// The events table itself, for inspection (what besides events it holds).
    pub events_table: Arc<dyn Table>,
    pub topic: Arc<dyn Topic>,
    pub blobs: Arc<dyn Blobs>,
    pub push: Arc<dyn Push>,
    /// What each domain runs on, for inspection.
    pub domains: Vec<DomainResources>,
    /// Holds the queue mappings on request (see [`DeliveryGate`]).
    deliveries: DeliveryGate,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
    /// The blob folder of a memory-only system, removed when the system is dropped.
    _scratch: Option<tempfile::TempDir>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Hold every queue mapping once its current batch is done, until the answer is dropped.
    pub async fn pause_deliveries(&self) -> PausedDeliveries {
        self.deliveries.pause().await
    }

    /// Stop accepting requests, let the mappings finish their current batch, and return.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        let drained = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(10), drained).await.is_err() {
            self.tasks.abort_all();
        }
    }
}

/// The adapters of one storage choice.
enum Infrastructure {
    Embedded { db: Database },
    Aws { config: Box<aws_config::SdkConfig>, prefix: String },
}

impl Infrastructure {
    async fn new(storage: &Storage) -> Result<Self, StartError> {
        Ok(match storage {
            Storage::Memory => Infrastructure::Embedded {
                db: Database::in_memory().map_err(|e| StartError::Provision(e.to_string()))?,
            },
            Storage::Folder(path) => {
                let unusable = |cause: String| StartError::DataFolder { path: path.clone(), cause };
                std::fs::create_dir_all(path).map_err(|e| unusable(e.to_string()))?;
                let db = Database::open(&path.join(DATABASE_FILE)).map_err(|e| unusable(e.to_string()))?;
                Infrastructure::Embedded { db }
            }
            Storage::Aws { endpoint, prefix } => Infrastructure::Aws {
                config: Box::new(huddle_aws::sdk_config(Some(endpoint)).await),
                prefix: prefix.clone(),
            },
        })
    }

    async fn table(&self, name: &str) -> Result<Arc<dyn Table>, StartError> {
        Ok(match self {
            Infrastructure::Embedded { db } => Arc::new(SqliteTable::new(db, name, false)),
            Infrastructure::Aws { config, prefix } => {
                let client = aws_sdk_dynamodb::Client::new(config);
                let name = format!("{prefix}{name}");
                huddle_aws::provision::table(&client, &name, false)
                    .await
                    .map_err(|e| StartError::Provision(e.to_string()))?;
                Arc::new(huddle_aws::DynamoTable::new(client, name))
            }
        })
    }

    /// The events table and its stream.
    async fn events(
        &self,
        stream_positions: Option<PathBuf>,
    ) -> Result<(Arc<dyn Table>, Box<dyn StreamSource>), StartError> {
        Ok(match self {
            Infrastructure::Embedded { db } => {
                let table = SqliteTable::new(db, "events", true);
                let stream = EmbeddedStream::resume(table.change_feed())
                    .map_err(|e| StartError::Provision(format!("the change feed: {e}")))?;
                (Arc::new(table), Box::new(stream))
            }
            Infrastructure::Aws { config, prefix } => {
                let client = aws_sdk_dynamodb::Client::new(config);
                let name = format!("{prefix}events");
                let stream_arn = huddle_aws::provision::table(&client, &name, true)
                    .await
                    .map_err(|e| StartError::Provision(e.to_string()))?
                    .ok_or_else(|| StartError::Provision(format!("table {name} has no stream")))?;
                let poller = huddle_aws::streams::StreamPoller::new(
                    aws_sdk_dynamodbstreams::Client::new(config),
                    stream_arn,
                );
                let stream = AwsStream::new(poller, stream_positions);
                (Arc::new(huddle_aws::DynamoTable::new(client, name)), Box::new(stream))
            }
        })
    }

    async fn topic(&self) -> Result<Arc<dyn Topic>, StartError> {
        Ok(match self {
            Infrastructure::Embedded { .. } => Arc::new(InProcessTopic::default()),
            Infrastructure::Aws { config, prefix } => {
                let client = aws_sdk_sns::Client::new(config);
                let arn = huddle_aws::provision::topic(&client, &format!("{prefix}events"))
                    .await
                    .map_err(|e| StartError::Provision(e.to_string()))?;
                Arc::new(huddle_aws::SnsTopic::new(client, arn))
            }
        })
    }

    /// The media bucket and the push service; on the embedded side also the runner routes that
    /// stand in for S3's upload endpoint and the phones, and a scratch folder when memory-only.
    async fn media_and_push(
        &self,
        storage: &Storage,
        settings: &Settings,
        address: SocketAddr,
    ) -> Result<
        (Arc<dyn Blobs>, Arc<dyn Push>, Option<EmbeddedServices>, Option<tempfile::TempDir>),
        StartError,
    > {
        Ok(match self {
            Infrastructure::Embedded { db } => {
                let (folder, scratch) = match storage {
                    Storage::Folder(path) => (path.join("blobs"), None),
                    _ => {
                        let scratch =
                            tempfile::tempdir().map_err(|e| StartError::Provision(e.to_string()))?;
                        (scratch.path().to_owned(), Some(scratch))
                    }
                };
                let config = FolderBlobsConfig {
                    bucket: "media".into(),
                    folder,
                    upload_origin: url::Url::parse(&format!("http://{address}")).expect("a valid origin"),
                    signing_key: settings.upload_secret.clone(),
                    max_upload_bytes: settings.max_upload_bytes,
                };
                let blobs =
                    FolderBlobs::open(db, config).map_err(|e| StartError::Provision(e.to_string()))?;
                let push = RecordedPush::new(db);
                let services = EmbeddedServices { blobs: blobs.clone(), push: push.clone() };
                (Arc::new(blobs), Arc::new(push), Some(services), scratch)
            }
            Infrastructure::Aws { config, prefix } => {
                let failed = |e: huddle_aws::provision::ProvisionError| StartError::Provision(e.to_string());
                let s3 = huddle_aws::s3_client(config);
                let bucket = format!("{prefix}media");
                huddle_aws::provision::bucket(&s3, &bucket).await.map_err(failed)?;
                let sns = aws_sdk_sns::Client::new(config);
                let applications = huddle_aws::PlatformApplications {
                    apns: huddle_aws::provision::platform_application(
                        &sns,
                        &format!("{prefix}apns"),
                        Platform::Apns,
                    )
                    .await
                    .map_err(failed)?,
                    fcm: huddle_aws::provision::platform_application(
                        &sns,
                        &format!("{prefix}fcm"),
                        Platform::Fcm,
                    )
                    .await
                    .map_err(failed)?,
                };
                (
                    Arc::new(huddle_aws::S3Blobs::new(s3, bucket)),
                    Arc::new(huddle_aws::SnsPush::new(sns, applications)),
                    None,
                    None,
                )
            }
        })
    }

    /// Have the media bucket announce the objects created under each prefix on its queue: the
    /// folder store's own notifications, or the bucket's notification configuration on AWS.
    async fn announce_uploads(
        &self,
        folder: Option<&FolderBlobs>,
        notifications: &[(&'static str, Arc<dyn Queue>)],
    ) -> Result<(), StartError> {
        match (self, folder) {
            (Infrastructure::Aws { config, prefix }, _) => {
                let pairs: Vec<(&str, &str)> = notifications
                    .iter()
                    .map(|(upload_prefix, queue)| (*upload_prefix, queue.address()))
                    .collect();
                let s3 = huddle_aws::s3_client(config);
                huddle_aws::provision::bucket_notifications(&s3, &format!("{prefix}media"), &pairs)
                    .await
                    .map_err(|e| StartError::Provision(e.to_string()))
            }
            (Infrastructure::Embedded { .. }, Some(folder)) => {
                for (upload_prefix, queue) in notifications {
                    folder.notify(upload_prefix, queue.clone());
                }
                Ok(())
            }
            (Infrastructure::Embedded { .. }, None) => {
                Err(StartError::Provision("the embedded media bucket is missing".into()))
            }
        }
    }

    /// A queue and its dead-letter queue.
    async fn queue(
        &self,
        name: &str,
        max_receives: u32,
    ) -> Result<(Arc<dyn Queue>, Arc<dyn Queue>), StartError> {
        let dead_letters = format!("{name}-dlq");
        Ok(match self {
            Infrastructure::Embedded { db } => (
                Arc::new(SqliteQueue::new(db, name, Some((&dead_letters, max_receives)))),
                Arc::new(SqliteQueue::new(db, dead_letters, None)),
            ),
            Infrastructure::Aws { config, prefix } => {
                let client = aws_sdk_sqs::Client::new(config);
                let failed = |e: huddle_aws::provision::ProvisionError| StartError::Provision(e.to_string());
                let (dlq_url, dlq_arn) =
                    huddle_aws::provision::queue(&client, &format!("{prefix}{dead_letters}"), None)
                        .await
                        .map_err(failed)?;
                let (url, arn) = huddle_aws::provision::queue(
                    &client,
                    &format!("{prefix}{name}"),
                    Some((&dlq_arn, max_receives)),
                )
                .await
                .map_err(failed)?;
                (
                    Arc::new(huddle_aws::SqsQueue::new(client.clone(), url, arn)),
                    Arc::new(huddle_aws::SqsQueue::new(client, dlq_url, dlq_arn)),
                )
            }
        })
    }
}

/// The events table and the read table of the domain `domain` on `storage`, as [`start`] builds
/// them, for operator commands that work beside a running system (`huddle replay`).
pub async fn domain_tables(
    storage: &Storage,
    domain: &str,
) -> Result<(Arc<dyn Table>, Arc<dyn Table>), StartError> {
    let infrastructure = Infrastructure::new(storage).await?;
    // The stream is the running system's to read; an operator command only needs the table.
    let (events_table, _stream) = infrastructure.events(None).await?;
    Ok((events_table, infrastructure.table(domain).await?))
}

/// Start everything and return once the gateway accepts requests.
pub async fn start(settings: Settings, domains: Vec<Arc<dyn Domain>>) -> Result<Running, StartError> {
    let listener = TcpListener::bind(("127.0.0.1", settings.port)).await.map_err(|cause| {
        if cause.kind() == std::io::ErrorKind::AddrInUse {
            StartError::PortBusy(settings.port)
        } else {
            StartError::Listen { port: settings.port, cause }
        }
    })?;
    let address = listener.local_addr().map_err(|cause| StartError::Listen { port: settings.port, cause })?;

    let infrastructure = Infrastructure::new(&settings.storage).await?;
    let meter = settings.meter.clone();
    let metered = Metered(meter.clone());
    let (events_table, stream) = infrastructure.events(settings.stream_positions.clone()).await?;
    let events = EventStore::new(metered.table(events_table.clone()));
    let topic = metered.topic(infrastructure.topic().await?);
    let (blobs, push, embedded_services, scratch) =
        infrastructure.media_and_push(&settings.storage, &settings, address).await?;
    let (blobs, push) = (metered.blobs(blobs), metered.push(push));
    let folder_blobs = embedded_services.as_ref().map(|services| services.blobs.clone());
    let deliveries = DeliveryGate::default();
    let mut local_routes: Vec<Arc<dyn LocalRoutes>> = vec![Arc::new(ContractRoute::new(&domains))];
    local_routes
        .extend(embedded_services.into_iter().map(|services| Arc::new(services) as Arc<dyn LocalRoutes>));
    let (shutdown, shutdown_signal) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut router = Router::default();
    let mut inspection = Vec::new();
    let mut authorizer: Option<Arc<dyn Authorizer>> = None;
    let mut upload_notifications = Vec::new();

    let mut read_tables = std::collections::BTreeMap::new();
    for domain in &domains {
        read_tables.insert(domain.name(), infrastructure.table(domain.name()).await?);
    }
    for domain in domains {
        let read_model = read_tables[domain.name()].clone();
        let (queue, dead_letters) = infrastructure.queue(domain.name(), settings.max_receives).await?;
        // SNS's deliveries to SQS are free: the subscription takes the queue unmetered.
        topic
            .subscribe(queue.clone(), &domain.consumes())
            .await
            .map_err(|e| StartError::Provision(e.to_string()))?;
        let mut ports = DomainPorts::new(
            metered.table(events_table.clone()),
            metered.table(read_model.clone()),
            &settings.request_secret,
        );
        // A domain that is not running here still has its table: empty, as it would be with
        // nothing projected yet.
        let reads = [Role::Command, Role::Query].map(|role| domain.reads(role)).concat();
        for other in reads {
            let table = match read_tables.get(other) {
                Some(table) => table.clone(),
                None => infrastructure.table(other).await?,
            };
            ports = ports.granting(other, metered.table(table));
        }
        if domain.uses_blobs() {
            ports = ports.with_blobs(blobs.clone());
        }
        if let Some(verifier) = domain.authorizer(&ports) {
            if authorizer.replace(verifier).is_some() {
                return Err(StartError::Provision("two domains bring an authorizer".into()));
            }
        }
        let (command, query) = (command_role(domain.as_ref(), &ports), query_role(domain.as_ref(), &ports));
        for declared in domain.routes() {
            let (function, role) = match declared.role {
                Role::Command => (command.clone(), "Command"),
                Role::Query => (query.clone(), "Query"),
            };
            let deployed_as = DeployedFunction::of_domain(domain.name(), role);
            router.add(
                declared.route(),
                Integration { function, authorized: declared.authorized(), deployed_as },
            );
        }
        let projector = projector(domain.as_ref(), &ports, settings.max_receives);
        let sweeper = Sweeper::new(projector.clone(), events.clone(), domain.consumes());
        let projector_function =
            Invoker::new(DeployedFunction::of_domain(domain.name(), "Projector"), meter.clone());
        tasks.spawn(run_sweeps(
            sweeper,
            settings.sweep_interval,
            projector_function.clone(),
            shutdown_signal.clone(),
        ));
        let mapping = QueueMapping {
            queue: metered.queue(queue),
            handler: Arc::new(projector),
            function: projector_function,
            polling: settings.polling,
            gate: deliveries.clone(),
        };
        tasks.spawn(run_queue(mapping, shutdown_signal.clone()));
        if let Some(prefix) = domain.upload_prefix() {
            let handler = domain.upload_handler(&ports).ok_or_else(|| {
                StartError::Provision(format!("{} has an upload prefix and no upload handler", domain.name()))
            })?;
            let (uploads, _dead_letters) =
                infrastructure.queue(&format!("{}-uploads", domain.name()), settings.max_receives).await?;
            // S3 sends the announcements itself: unmetered here as on moto.
            upload_notifications.push((prefix, uploads.clone()));
            let mapping = QueueMapping {
                queue: metered.queue(uploads),
                handler: Arc::new(Uploads::new(handler).with_max_receives(settings.max_receives)),
                function: Invoker::new(DeployedFunction::of_domain(domain.name(), "Uploads"), meter.clone()),
                // One upload at a time, as template.yaml's BatchSize: a photo's decoding takes
                // a core and hundreds of MB.
                polling: QueuePolling { batch_size: 1, ..settings.polling },
                gate: deliveries.clone(),
            };
            tasks.spawn(run_queue(mapping, shutdown_signal.clone()));
        }
        inspection.push(DomainResources { name: domain.name(), read_model, dead_letters });
    }
    if !upload_notifications.is_empty() {
        infrastructure.announce_uploads(folder_blobs.as_ref(), &upload_notifications).await?;
    }
    let fan_out_function = Invoker::new(DeployedFunction::named("FanoutFunction"), meter.clone());
    tasks.spawn(run_stream(stream, topic.clone(), fan_out_function, shutdown_signal.clone()));

    let gateway = Arc::new(Gateway {
        router,
        default_route: Integration {
            function: Arc::new(NotFound),
            authorized: false,
            deployed_as: DeployedFunction::named("NotFoundFunction"),
        },
        authorizer,
        meter,
        authorizer_function: DeployedFunction::named("AuthorizerFunction"),
        authorizer_cache: AuthorizerCache::new(settings.authorizer_cache_ttl),
        cors: Cors::from_template(settings.allowed_origins.clone()),
        local_routes,
        domain_name: address.to_string(),
        trust_forwarded_for: settings.trust_forwarded_for,
        max_blob_request_bytes: usize::try_from(settings.max_upload_bytes).unwrap_or(usize::MAX),
    });
    tasks.spawn(serve(listener, gateway, shutdown_signal));
    Ok(Running {
        address,
        events,
        events_table,
        topic,
        blobs,
        push,
        domains: inspection,
        deliveries,
        shutdown,
        tasks,
        _scratch: scratch,
    })
}

/// Wraps ports in their metered decorators when there is a meter.
struct Metered(Option<Meter>);

impl Metered {
    fn wrap<P: ?Sized>(&self, port: Arc<P>, decorate: impl FnOnce(Arc<P>, Meter) -> Arc<P>) -> Arc<P> {
        match &self.0 {
            Some(meter) => decorate(port, meter.clone()),
            None => port,
        }
    }

    fn table(&self, table: Arc<dyn Table>) -> Arc<dyn Table> {
        self.wrap(table, |table, meter| Arc::new(MeteredTable::new(table, meter)))
    }

    fn queue(&self, queue: Arc<dyn Queue>) -> Arc<dyn Queue> {
        self.wrap(queue, |queue, meter| Arc::new(MeteredQueue::new(queue, meter)))
    }

    fn topic(&self, topic: Arc<dyn Topic>) -> Arc<dyn Topic> {
        self.wrap(topic, |topic, meter| Arc::new(MeteredTopic::new(topic, meter)))
    }

    fn blobs(&self, blobs: Arc<dyn Blobs>) -> Arc<dyn Blobs> {
        self.wrap(blobs, |blobs, meter| Arc::new(MeteredBlobs::new(blobs, meter)))
    }

    fn push(&self, push: Arc<dyn Push>) -> Arc<dyn Push> {
        self.wrap(push, |push, meter| Arc::new(MeteredPush::new(push, meter)))
    }
}

/// A domain's projector as the queue mapping runs it: parking past the queue's redrive limit.
fn projector(domain: &dyn Domain, ports: &DomainPorts, max_receives: u32) -> Projector {
    Projector::new(domain.projection(ports), ports.read_model.clone(), ports.events.clone())
        .with_max_receives(max_receives)
}

/// The operations on `domain`'s delivery failures (`huddle dead-letters`), on the read table,
/// event log and dead-letter queue `start` gives it on `storage`.
pub async fn operations(
    storage: &Storage,
    domain: &dyn Domain,
    max_receives: u32,
) -> Result<Operations, StartError> {
    let infrastructure = Infrastructure::new(storage).await?;
    let (events_table, _stream) = infrastructure.events(None).await?;
    let read_model = infrastructure.table(domain.name()).await?;
    let (_queue, dead_letters) = infrastructure.queue(domain.name(), max_receives).await?;
    // Operations neither page nor key idempotency records.
    let ports = DomainPorts::new(events_table, read_model, &ulid::Ulid::new().to_bytes());
    Ok(Operations::new(projector(domain, &ports, max_receives), dead_letters, domain.consumes()))
}

async fn serve(listener: TcpListener, gateway: Arc<Gateway>, mut shutdown: watch::Receiver<bool>) {
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let gateway = gateway.clone();
        let service = hyper::service::service_fn(move |request| {
            let gateway = gateway.clone();
            async move { Ok::<_, std::convert::Infallible>(gateway.handle(request, peer).await) }
        });
        let connection = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), connections.shutdown()).await;
}
