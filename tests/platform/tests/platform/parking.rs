//! Poison events on both families: a stream that still fails on its message's last receive is
//! parked (its later events wait, other streams flow), an operator sees it, retries it after a
//! fix or skips the poison with a recorded reason, and dead-lettered messages are listed
//! without being lost and redriven.

use crate::delivery::sqs_event;
use async_trait::async_trait;
use aws_lambda_events::sqs::SqsEvent;
use huddle_delivery::{
    skip_key, OperationError, Operations, Projected, Projection, ProjectionError, Projector, StreamRetry,
};
use huddle_domain::Domain;
use huddle_eventstore::{decode, Envelope, EventStore, ExpectedVersion, Metadata};
use huddle_ports::table::{MAX_ITEM_BYTES, MAX_TRANSACTION_BYTES};
use huddle_ports::{Condition, Item, OutgoingMessage, Queue, Table, TransactWrite};
use huddle_test_support::families::Backend;
use huddle_test_support::notes::{events, stream_of, NoteEvent, NotesProjection};
use huddle_test_support::notes_api::NotesDomain;
use huddle_test_support::{on_both_families, scan_all, Family};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The receive after which the queue would dead-letter a message.
const MAX_RECEIVES: u32 = 3;

pub(crate) const POISON: &str = "poison";

/// How the poison event fails.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Poison {
    /// The projection returns an error (a bug).
    Bug,
    /// It writes one item over DynamoDB's 400 KB.
    OversizedItem,
    /// It writes items under 400 KB each but over 4 MB together.
    OversizedTransaction,
}

/// A notes projection (`healthy`), except for edits to the text [`POISON`], which fail as
/// `poison` says until `fixed` is set.
pub(crate) struct PoisonedNotes {
    poison: Poison,
    pub(crate) fixed: AtomicBool,
    healthy: Arc<dyn Projection>,
}

impl PoisonedNotes {
    pub(crate) fn new(poison: Poison, healthy: Arc<dyn Projection>) -> Self {
        Self { poison, fixed: AtomicBool::new(false), healthy }
    }
}

fn filler(pk: &str, n: usize, bytes: usize) -> TransactWrite {
    let mut item = Item::new();
    item.insert("pk".into(), json!(pk));
    item.insert("sk".into(), json!(format!("filler{n}")));
    item.insert("x".into(), json!("x".repeat(bytes)));
    TransactWrite::Put { item, condition: Condition::Always }
}

#[async_trait]
impl Projection for PoisonedNotes {
    async fn project(&self, event: &Envelope, read_model: &dyn Table) -> Result<Projected, ProjectionError> {
        let poisoned = matches!(decode(event), Ok(NoteEvent::NoteEdited { text }) if text == POISON);
        if !poisoned || self.fixed.load(Ordering::SeqCst) {
            return self.healthy.project(event, read_model).await;
        }
        Ok(match self.poison {
            Poison::Bug => return Err(ProjectionError::Invalid("a bug: the poison edit".into())),
            Poison::OversizedItem => vec![filler(&event.stream, 0, MAX_ITEM_BYTES + 1)].into(),
            // moto refuses items from 405,000 bytes: stay below, and over 4 MB together.
            Poison::OversizedTransaction => {
                let each = 390_000;
                (0..MAX_TRANSACTION_BYTES / each + 1)
                    .map(|n| filler(&event.stream, n, each))
                    .collect::<Vec<_>>()
                    .into()
            }
        })
    }
}

/// Note `n0` has a poison edit at version 2 and two healthy events after it; note `n1` is
/// healthy. A projector parks past [`MAX_RECEIVES`]; `operations` act on its read table and a
/// dead-letter queue.
struct Poisoned {
    store: EventStore,
    read_model: Arc<dyn Table>,
    projection: Arc<PoisonedNotes>,
    projector: Projector,
    dead_letters: Arc<dyn Queue>,
    operations: Operations,
    n0: Vec<Envelope>,
    n1: Vec<Envelope>,
    backend: Backend,
}

impl Poisoned {
    async fn new(family: Family, poison: Poison) -> Self {
        let backend = family.backend().await;
        let store = EventStore::new(backend.table(true).await);
        let meta = Metadata::new("corr-poison");
        let histories = [
            (
                "n0",
                vec![
                    NoteEvent::NoteWritten { text: "first".into() },
                    NoteEvent::NoteEdited { text: POISON.into() },
                    NoteEvent::NoteLiked { by: "acc_1".into() },
                    NoteEvent::NoteEdited { text: "after".into() },
                ],
            ),
            (
                "n1",
                vec![
                    NoteEvent::NoteWritten { text: "other".into() },
                    NoteEvent::NoteLiked { by: "acc_2".into() },
                ],
            ),
        ];
        for (id, history) in &histories {
            for event in history {
                let appended = events(std::slice::from_ref(event));
                store.append(&stream_of(id), ExpectedVersion::Any, appended, &meta, None).await.unwrap();
            }
        }
        let n0 = store.read_stream(&stream_of("n0"), 1..).await.unwrap();
        let n1 = store.read_stream(&stream_of("n1"), 1..).await.unwrap();
        let read_model = backend.table(false).await;
        let projection = Arc::new(PoisonedNotes::new(poison, Arc::new(NotesProjection)));
        let projector = Projector::new(projection.clone(), read_model.clone(), store.clone())
            .with_max_receives(MAX_RECEIVES);
        let dead_letters = backend.queue(None).await;
        let operations = Operations::new(projector.clone(), dead_letters.clone(), NotesDomain.consumes());
        Self { store, read_model, projection, projector, dead_letters, operations, n0, n1, backend }
    }

    /// Delivers `envelopes` as one batch received `receive_count` times; returns the failed ids.
    async fn deliver(&self, envelopes: &[Envelope], receive_count: u32) -> BTreeSet<String> {
        let counted: Vec<_> = envelopes.iter().map(|envelope| (envelope.clone(), receive_count)).collect();
        let response = self.projector.handle(received(&counted)).await;
        response.batch_item_failures.into_iter().map(|failure| failure.item_identifier).collect()
    }

    /// Brings `n0` to its poison event and parks it there on the last receive.
    async fn park_n0(&self) {
        assert!(self.deliver(&self.n0[..1], 1).await.is_empty());
        assert_eq!(
            self.deliver(&self.n0[1..2], MAX_RECEIVES - 1).await.len(),
            1,
            "not parked before the last receive"
        );
        assert!(
            self.deliver(&self.n0[1..2], MAX_RECEIVES).await.is_empty(),
            "the last receive parks and acknowledges"
        );
    }

    async fn checkpoint(&self, id: &str) -> u64 {
        self.projector.checkpoint(&stream_of(id)).await.unwrap()
    }

    /// The notes a healthy projection makes of the whole log, in order.
    async fn clean_run(&self) -> Vec<Item> {
        let clean = self.backend.table(false).await;
        let projector = Projector::new(Arc::new(NotesProjection), clean.clone(), self.store.clone());
        for envelope in self.n0.iter().chain(&self.n1) {
            projector.apply_stream(vec![envelope.clone()]).await.unwrap();
        }
        notes_in(clean.as_ref()).await
    }
}

/// A read model's items but the projector's and the operator's own.
async fn notes_in(table: &dyn Table) -> Vec<Item> {
    let bookkeeping = ["checkpoint#", "parked", "skipped#"];
    let items = scan_all(table).await;
    items
        .into_iter()
        .filter(|item| !bookkeeping.iter().any(|p| item["pk"].as_str().unwrap().starts_with(p)))
        .collect()
}

/// `envelopes` as SQS hands them over, each on its receive number.
pub(crate) fn received(envelopes: &[(Envelope, u32)]) -> SqsEvent {
    let mut event = sqs_event(&envelopes.iter().map(|(envelope, _)| envelope.clone()).collect::<Vec<_>>());
    for (record, (_, count)) in event.records.iter_mut().zip(envelopes) {
        record.attributes.insert("ApproximateReceiveCount".into(), count.to_string());
    }
    event
}

on_both_families!(
    a_stream_failing_on_its_last_receive_is_parked_and_retried_after_the_fix,
    a_skip_records_its_reason_and_applies_the_rest,
    oversized_items_and_transactions_park_their_stream,
    dead_lettered_messages_are_listed_without_loss_and_redriven,
    the_runners_queue_mapping_parks_past_its_receive_limit,
    a_delivery_that_read_the_checkpoint_before_a_park_never_commits_over_it,
);

async fn a_stream_failing_on_its_last_receive_is_parked_and_retried_after_the_fix(family: Family) {
    let poisoned = Poisoned::new(family, Poison::Bug).await;
    assert!(poisoned.deliver(&poisoned.n0[..1], 1).await.is_empty());
    // Before the last receive the failure is reported, and only the failing stream's.
    let batch = [poisoned.n0[1].clone(), poisoned.n1[0].clone()];
    assert_eq!(poisoned.deliver(&batch, 1).await, BTreeSet::from(["m0".to_owned()]));
    assert!(poisoned.deliver(&poisoned.n0[1..2], MAX_RECEIVES).await.is_empty(), "parked and acknowledged");

    let listing = poisoned.operations.list().await.unwrap();
    assert_eq!(listing.parked.len(), 1, "{listing:?}");
    let parked = &listing.parked[0];
    assert_eq!((parked.stream.as_str(), parked.parked.version), (stream_of("n0").as_str(), 2));
    assert!(parked.parked.error.contains("a bug: the poison edit"), "{}", parked.parked.error);
    assert_eq!(parked.parked.event_id.as_deref(), Some(poisoned.n0[1].event_id.to_string().as_str()));
    assert_eq!(parked.parked.correlation_id.as_deref(), Some("corr-poison"));
    time::OffsetDateTime::parse(&parked.parked.since, &time::format_description::well_known::Rfc3339)
        .expect("the park's time is RFC 3339");

    // Later events of the parked stream are acknowledged and wait; the other stream flows on.
    let later = [poisoned.n0[2].clone(), poisoned.n0[3].clone(), poisoned.n1[1].clone()];
    assert!(poisoned.deliver(&later, 1).await.is_empty());
    assert_eq!((poisoned.checkpoint("n0").await, poisoned.checkpoint("n1").await), (1, 2));

    // A retry before the fix parks the stream again, at the same event.
    let retried = poisoned.operations.retry().await.unwrap();
    assert!(
        matches!(&retried.streams[..], [StreamRetry::ParkedAgain(again)] if again.parked.version == 2),
        "{retried:?}"
    );
    assert_eq!(poisoned.operations.list().await.unwrap().parked.len(), 1);

    poisoned.projection.fixed.store(true, Ordering::SeqCst);
    let retried = poisoned.operations.retry().await.unwrap();
    assert_eq!(retried.streams, [StreamRetry::CaughtUp { stream: stream_of("n0"), version: 4 }]);
    assert!(poisoned.operations.list().await.unwrap().parked.is_empty());
    assert_eq!(
        notes_in(poisoned.read_model.as_ref()).await,
        poisoned.clean_run().await,
        "after the retry the read model is the one a healthy run makes"
    );
}

async fn a_skip_records_its_reason_and_applies_the_rest(family: Family) {
    let poisoned = Poisoned::new(family, Poison::Bug).await;
    poisoned.park_n0().await;
    let (n0, n1) = (stream_of("n0"), stream_of("n1"));
    let ops = &poisoned.operations;

    let wrong = ops.skip(&n0, 3, "not this one", "ops").await.unwrap_err();
    assert!(matches!(wrong, OperationError::NotTheParkedVersion { parked: 2, asked: 3, .. }), "{wrong}");
    assert!(wrong.to_string().contains("parked at version 2, not 3"), "{wrong}");
    assert!(matches!(ops.skip(&n1, 1, "healthy", "ops").await, Err(OperationError::NotParked { .. })));
    assert!(matches!(ops.skip(&n0, 2, "  ", "ops").await, Err(OperationError::Invalid(_))));
    assert_eq!(poisoned.checkpoint("n0").await, 1, "refused skips change nothing");

    let report = ops.skip(&n0, 2, "the poison edit is a known bad import", "ana (ops)").await.unwrap();
    assert_eq!(report.stream, StreamRetry::CaughtUp { stream: n0.clone(), version: 4 });
    let record = poisoned.read_model.get(&skip_key(&n0, 2)).await.unwrap().expect("the skip is recorded");
    assert_eq!(
        (
            record["stream"].as_str(),
            record["version"].as_u64(),
            record["reason"].as_str(),
            record["by"].as_str()
        ),
        (Some(n0.as_str()), Some(2), Some("the poison edit is a known bad import"), Some("ana (ops)"))
    );
    assert_eq!(record["at"], json!(report.skip.at));
    assert!(ops.list().await.unwrap().parked.is_empty());
    // Everything but the poison edit was applied: the like and the later edit.
    let note = poisoned.read_model.get(&huddle_ports::Key::new(&n0, "note")).await.unwrap().unwrap();
    assert_eq!((note["likes"].as_i64(), note["edits"].as_i64()), (Some(1), Some(1)));
    let text = poisoned.read_model.get(&huddle_ports::Key::new(&n0, "text")).await.unwrap().unwrap();
    assert_eq!(text["text"], "after");
    assert!(matches!(ops.skip(&n0, 2, "again", "ops").await, Err(OperationError::NotParked { .. })));
}

async fn oversized_items_and_transactions_park_their_stream(family: Family) {
    for (poison, refusal) in [
        (Poison::OversizedItem, "an item holds at most"),
        (Poison::OversizedTransaction, "a transaction's items hold at most"),
    ] {
        let poisoned = Poisoned::new(family, poison).await;
        poisoned.park_n0().await;
        assert!(
            poisoned.deliver(&poisoned.n1, MAX_RECEIVES).await.is_empty(),
            "{poison:?}: the other stream flows"
        );
        assert_eq!((poisoned.checkpoint("n0").await, poisoned.checkpoint("n1").await), (1, 2), "{poison:?}");
        let listing = poisoned.operations.list().await.unwrap();
        let [parked] = &listing.parked[..] else { panic!("{poison:?}: {listing:?}") };
        assert_eq!(parked.parked.version, 2);
        assert!(parked.parked.error.contains(refusal), "{poison:?}: {}", parked.parked.error);
        let filler =
            poisoned.read_model.get(&huddle_ports::Key::new(stream_of("n0"), "filler0")).await.unwrap();
        assert!(filler.is_none(), "{poison:?}: nothing of the refused writes landed");
    }
}

async fn dead_lettered_messages_are_listed_without_loss_and_redriven(family: Family) {
    let poisoned = Poisoned::new(family, Poison::Bug).await;
    // n1's events and one that is no envelope, as the queue moves them after too many receives.
    let mut messages: Vec<OutgoingMessage> = poisoned
        .n1
        .iter()
        .map(|envelope| OutgoingMessage {
            body: serde_json::to_string(envelope).unwrap(),
            ..Default::default()
        })
        .collect();
    messages.push(OutgoingMessage { body: "{not an envelope".into(), ..Default::default() });
    poisoned.dead_letters.send_batch(messages).await.unwrap();

    let listed = |listing: huddle_delivery::Listing| {
        let mut rows: Vec<(Option<String>, Option<u64>)> =
            listing.dead_letters.into_iter().map(|message| (message.stream, message.version)).collect();
        rows.sort();
        rows
    };
    let expected = vec![(None, None), (Some(stream_of("n1")), Some(1)), (Some(stream_of("n1")), Some(2))];
    assert_eq!(listed(poisoned.operations.list().await.unwrap()), expected);
    assert_eq!(listed(poisoned.operations.list().await.unwrap()), expected, "listing loses nothing");

    let report = poisoned.operations.retry().await.unwrap();
    assert_eq!(report.redriven, 2, "{report:?}");
    let [still_dead] = &report.still_dead[..] else { panic!("{report:?}") };
    assert_eq!(still_dead.message.stream, None);
    assert!(still_dead.error.contains("no event envelope"), "{}", still_dead.error);
    assert_eq!(poisoned.checkpoint("n1").await, 2);
    let note =
        poisoned.read_model.get(&huddle_ports::Key::new(stream_of("n1"), "note")).await.unwrap().unwrap();
    assert_eq!(note["likes"].as_i64(), Some(1));
    // What failed again is back in the queue at once; what was redriven is gone.
    let left =
        poisoned.dead_letters.receive(10, Duration::from_secs(30), Duration::from_secs(1)).await.unwrap();
    assert_eq!(left.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["{not an envelope"]);
}

/// Waits (15 s at most) until `done` holds of what `probe` returns.
async fn eventually<T: std::fmt::Debug, F: std::future::Future<Output = T>>(
    probe: impl Fn() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let value = probe().await;
        if done(&value) {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "never got there: {value:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The runner's own mapping: its queue hides a failed message for a second and would
/// dead-letter it on its second receive, so its projector parks the stream on that receive.
async fn the_runners_queue_mapping_parks_past_its_receive_limit(family: Family) {
    let storage = match family {
        Family::Embedded => huddle_runner::Storage::Memory,
        Family::Moto => huddle_runner::Storage::Aws {
            endpoint: huddle_test_support::moto::endpoint().to_owned(),
            prefix: format!("{}-", huddle_test_support::unique_name("parking")),
        },
    };
    let mut settings = huddle_runner::Settings::new(storage, 0);
    settings.polling.visibility_timeout = Duration::from_secs(1);
    settings.max_receives = 2;
    let domain = Arc::new(huddle_test_support::notes_api::NotesDomain);
    let system = huddle_runner::start(settings, vec![domain]).await.expect("runner starts");
    let resources = &system.domains[0];
    let operations = Operations::new(
        Projector::new(Arc::new(NotesProjection), resources.read_model.clone(), system.events.clone()),
        resources.dead_letters.clone(),
        NotesDomain.consumes(),
    );
    let (poisoned, healthy) = (stream_of("runner-poisoned"), stream_of("runner-healthy"));
    let meta = Metadata::new("corr-runner-poison");
    // A note whose payload is no note: the notes projection cannot decode it.
    let unreadable = huddle_eventstore::NewEvent {
        event_type: "NoteWritten".into(),
        schema_version: 1,
        payload: json!({"not": "a note"}),
    };
    system.events.append(&poisoned, ExpectedVersion::NoStream, vec![unreadable], &meta, None).await.unwrap();
    let listing =
        eventually(|| operations.list(), |listing| listing.as_ref().is_ok_and(|l| !l.parked.is_empty()))
            .await
            .unwrap();
    assert_eq!((listing.parked[0].stream.as_str(), listing.parked[0].parked.version), (poisoned.as_str(), 1));

    let liked = events(&[NoteEvent::NoteLiked { by: "acc_1".into() }]);
    system.events.append(&poisoned, ExpectedVersion::Any, liked, &meta, None).await.unwrap();
    let written = events(&[NoteEvent::NoteWritten { text: "flows".into() }]);
    system.events.append(&healthy, ExpectedVersion::NoStream, written, &meta, None).await.unwrap();
    let checkpoint = |stream: String| {
        let projector =
            Projector::new(Arc::new(NotesProjection), resources.read_model.clone(), system.events.clone());
        async move { projector.checkpoint(&stream).await.unwrap() }
    };
    eventually(|| checkpoint(healthy.clone()), |version| *version == 1).await;
    // The healthy stream flows; the parked one stays where it is whenever its second event
    // arrives (acknowledged unapplied), and nothing of it is dead-lettered.
    assert_eq!(checkpoint(poisoned.clone()).await, 0);
    let listing = operations.list().await.unwrap();
    assert_eq!((listing.parked.len(), listing.dead_letters.len()), (1, 0), "{listing:?}");

    let report = operations.skip(&poisoned, 1, "written by a broken importer", "ops").await.unwrap();
    assert_eq!(report.stream, StreamRetry::CaughtUp { stream: poisoned.clone(), version: 2 });
    system.shutdown().await;
}

/// A healthy notes projection (as after a transient fault) whose first projection of `n0`'s
/// poison event waits while `parker`, which still fails on it, parks the stream on its last
/// receive: the race of two deliveries of one event, the later one having read the checkpoint
/// before the park. With `fan_out`, the event also has a fan-out write, so the late worker takes
/// the stream's lease instead of committing unleased.
struct ParkedMeanwhile {
    parker: Projector,
    fan_out: bool,
    raced: AtomicBool,
}

#[async_trait]
impl Projection for ParkedMeanwhile {
    async fn project(&self, event: &Envelope, read_model: &dyn Table) -> Result<Projected, ProjectionError> {
        if event.version == 2 && !self.raced.swap(true, Ordering::SeqCst) {
            let response = self.parker.handle(received(&[(event.clone(), MAX_RECEIVES)])).await;
            assert!(response.batch_item_failures.is_empty(), "the parker parks and acknowledges");
        }
        let projected = NotesProjection.project(event, read_model).await?;
        if !self.fan_out {
            return Ok(projected);
        }
        let mut marker = Item::new();
        marker.insert("pk".into(), json!(format!("fan-out#{}", event.stream)));
        marker.insert("sk".into(), json!(event.version.to_string()));
        Ok(projected.with_fan_out(vec![huddle_ports::BatchWrite::Put(marker)]))
    }
}

async fn a_delivery_that_read_the_checkpoint_before_a_park_never_commits_over_it(family: Family) {
    for fan_out in [false, true] {
        let poisoned = Poisoned::new(family, Poison::Bug).await;
        assert!(poisoned.deliver(&poisoned.n0[..1], 1).await.is_empty());
        let late = Projector::new(
            Arc::new(ParkedMeanwhile {
                parker: poisoned.projector.clone(),
                fan_out,
                raced: AtomicBool::new(false),
            }),
            poisoned.read_model.clone(),
            poisoned.store.clone(),
        )
        .with_max_receives(MAX_RECEIVES);
        let response = late.handle(received(&[(poisoned.n0[1].clone(), 1)])).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "fan_out {fan_out}: waits behind the park, acknowledged"
        );
        // An event delivered behind the park is acknowledged unapplied; the park stays.
        assert!(poisoned.deliver(&poisoned.n0[2..3], 1).await.is_empty());
        assert_eq!(poisoned.checkpoint("n0").await, 1, "fan_out {fan_out}: nothing committed over the park");
        let listing = poisoned.operations.list().await.unwrap();
        let [parked] = &listing.parked[..] else { panic!("fan_out {fan_out}: {listing:?}") };
        assert_eq!(parked.parked.version, 2, "fan_out {fan_out}");

        poisoned.projection.fixed.store(true, Ordering::SeqCst);
        let retried = poisoned.operations.retry().await.unwrap();
        assert_eq!(retried.streams, [StreamRetry::CaughtUp { stream: stream_of("n0"), version: 4 }]);
        let n0_items = |items: Vec<Item>| -> Vec<Item> {
            items.into_iter().filter(|item| item["pk"] == json!(stream_of("n0"))).collect()
        };
        assert_eq!(
            n0_items(notes_in(poisoned.read_model.as_ref()).await),
            n0_items(poisoned.clean_run().await),
            "fan_out {fan_out}: after the retry n0 is what a healthy run makes of it"
        );
    }
}
