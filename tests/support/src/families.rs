//! Both adapter families behind one interface, so each conformance test is written once.

use crate::{moto, unique_name};
use huddle_embedded::{Database, InProcessTopic, SqliteQueue, SqliteTable};
use huddle_ports::{Queue, Table, Topic};
use std::sync::Arc;

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
    },
}

impl Family {
    pub async fn backend(self) -> Backend {
        match self {
            Family::Embedded => Backend::Embedded { db: Database::in_memory().expect("in-memory database") },
            Family::Moto => {
                let config = moto::sdk_config().await;
                Backend::Moto {
                    dynamodb: aws_sdk_dynamodb::Client::new(&config),
                    sqs: aws_sdk_sqs::Client::new(&config),
                    sns: aws_sdk_sns::Client::new(&config),
                    config: Box::new(config),
                }
            }
        }
    }
}

impl Backend {
    /// A fresh, empty table; with `stream`, its writes feed a change stream.
    pub async fn table(&self, stream: bool) -> Arc<dyn Table> {
        let name = unique_name("table");
        match self {
            Backend::Embedded { db } => Arc::new(SqliteTable::new(db, name, stream)),
            Backend::Moto { dynamodb, .. } => {
                huddle_aws::provision::table(dynamodb, &name, stream).await.expect("create table");
                Arc::new(huddle_aws::DynamoTable::new(dynamodb.clone(), name))
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
