//! Both adapter families behind one interface, so each conformance test is written once.

use crate::{moto, unique_name};
use aws_lambda_events::dynamodb::Event;
use huddle_aws::streams::StreamPoller;
use huddle_embedded::{ChangeFeed, Database, SqliteTable};
use huddle_ports::Table;
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
    Embedded { db: Database },
    Moto { config: Box<aws_config::SdkConfig>, dynamodb: aws_sdk_dynamodb::Client },
}

impl Family {
    pub async fn backend(self) -> Backend {
        match self {
            Family::Embedded => Backend::Embedded { db: Database::in_memory().expect("in-memory database") },
            Family::Moto => {
                let config = moto::sdk_config().await;
                Backend::Moto { dynamodb: aws_sdk_dynamodb::Client::new(&config), config: Box::new(config) }
            }
        }
    }
}

impl Backend {
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
            Backend::Moto { config, dynamodb } => {
                let arn = huddle_aws::provision::table(dynamodb, &name, stream).await.expect("create table");
                let poller = arn.map(|arn| {
                    let streams = aws_sdk_dynamodbstreams::Client::new(config);
                    ChangeStream::Moto(Box::new(StreamPoller::new(streams, arn)))
                });
                (Arc::new(huddle_aws::DynamoTable::new(dynamodb.clone(), name)), poller)
            }
        }
    }
}

/// A table's change stream, read the way each family's event source mapping reads it.
pub enum ChangeStream {
    Embedded { feed: ChangeFeed, after: u64 },
    Moto(Box<StreamPoller>),
}

impl ChangeStream {
    /// Every record the stream yields until it holds at least `count` (or 10 s pass), as one
    /// Lambda event.
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
                    records.extend(batch);
                }
                ChangeStream::Moto(poller) => {
                    for batch in poller.poll().await.expect("poll stream") {
                        records.extend(batch.event.records);
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
