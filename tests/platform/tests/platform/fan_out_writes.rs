//! Fan-out writes on both families: an event's writes to other partitions land in batches
//! before its checkpoint advances, a redelivery or a crash mid-way leaves exactly the items of a
//! clean run, and the stream's lease keeps an overlapping duplicate delivery from leaving items
//! a later event deleted.

use async_trait::async_trait;
use huddle_delivery::{Projector, ProjectorError};
use huddle_eventstore::{Envelope, EventStore, ExpectedVersion, Metadata};
use huddle_ports::{Item, Table, TableError};
use huddle_test_support::decorated_table::{faulty, DecoratedTable, Faults, Interceptor, Operation};
use huddle_test_support::notes::{events, inbox_of, stream_of, NoteEvent, NotesProjection};
use huddle_test_support::{on_both_families, scan_all, Family};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

on_both_families!(
    an_event_fans_out_to_a_thousand_items_and_later_events_replace_and_delete_them,
    a_duplicate_delivery_writes_nothing_new,
    a_failed_batch_holds_the_checkpoint_and_redelivery_leaves_a_clean_runs_items,
    a_crashed_holders_lease_holds_off_other_workers_until_it_expires,
    a_delivery_overlapping_the_lease_holder_cannot_leave_stale_items,
    concurrent_duplicates_write_the_fan_out_once_and_a_later_deletion_leaves_nothing,
);

const NOTE: &str = "shared";

/// Appends a note, shared with `readers`, then `later` events, to the note's stream.
async fn shared_note(store: &EventStore, readers: u32, later: &[NoteEvent]) -> Vec<Envelope> {
    let mut history =
        vec![NoteEvent::NoteWritten { text: "hello".into() }, NoteEvent::NoteShared { readers }];
    history.extend_from_slice(later);
    let meta = Metadata::new("corr-fan-out").actor("acc_test");
    store.append(&stream_of(NOTE), ExpectedVersion::NoStream, events(&history), &meta, None).await.unwrap();
    store.read_stream(&stream_of(NOTE), 1..=history.len() as u64).await.unwrap()
}

fn projector(read_model: Arc<dyn Table>, store: &EventStore) -> Projector {
    Projector::new(Arc::new(NotesProjection), read_model, store.clone())
}

/// The inbox items of the shared note, by reader.
async fn inboxes(read_model: &dyn Table) -> Vec<Item> {
    scan_all(read_model)
        .await
        .into_iter()
        .filter(|item| item["pk"].as_str().unwrap().starts_with("inbox#"))
        .collect()
}

async fn checkpoint(projector: &Projector) -> u64 {
    projector.checkpoint(&stream_of(NOTE)).await.unwrap()
}

async fn an_event_fans_out_to_a_thousand_items_and_later_events_replace_and_delete_them(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let stream =
        shared_note(&store, 1000, &[NoteEvent::NoteShared { readers: 400 }, NoteEvent::NoteDeleted]).await;
    let read_model = backend.table(false).await;
    let projector = projector(read_model.clone(), &store);

    projector.apply_stream(stream[..2].to_vec()).await.unwrap();
    let shared = inboxes(read_model.as_ref()).await;
    assert_eq!(shared.len(), 1000);
    assert_eq!(shared[0]["pk"], inbox_of(0));
    assert_eq!(shared[999]["pk"], inbox_of(999));
    assert!(shared.iter().all(|item| item["sk"] == stream_of(NOTE) && item["shared_at"] == 2));
    assert_eq!(checkpoint(&projector).await, 2);

    projector.apply_stream(vec![stream[2].clone()]).await.unwrap();
    let reshared = inboxes(read_model.as_ref()).await;
    assert_eq!(reshared.len(), 400, "readers 400 to 999 lost the note");
    assert!(reshared.iter().all(|item| item["shared_at"] == 3));
    assert_eq!(reshared[399]["pk"], inbox_of(399));

    projector.apply_stream(vec![stream[3].clone()]).await.unwrap();
    assert_eq!(inboxes(read_model.as_ref()).await, Vec::<Item>::new());
    assert_eq!(checkpoint(&projector).await, 4);
}

async fn a_duplicate_delivery_writes_nothing_new(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let stream = shared_note(&store, 100, &[]).await;
    let metered = faulty(backend.table(false).await, Faults::default());
    let projector = projector(metered.clone(), &store);

    projector.apply_stream(stream.clone()).await.unwrap();
    assert_eq!(metered.interceptor.calls(Operation::BatchWrite), 4, "100 items in batches of 25");
    let applied = scan_all(metered.as_ref()).await;

    projector.apply_stream(stream.clone()).await.unwrap();
    projector.apply_stream(vec![stream[1].clone()]).await.unwrap();
    assert_eq!(metered.interceptor.calls(Operation::BatchWrite), 4, "a duplicate writes no batch");
    assert_eq!(scan_all(metered.as_ref()).await, applied);
}

async fn a_failed_batch_holds_the_checkpoint_and_redelivery_leaves_a_clean_runs_items(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let stream = shared_note(&store, 1000, &[]).await;
    let clean = backend.table(false).await;
    projector(clean.clone(), &store).apply_stream(stream.clone()).await.unwrap();

    let faults = Faults::default().on_call(
        Operation::BatchWrite,
        7,
        TableError::Unavailable("injected: throttled past every retry".into()),
    );
    let crashing = faulty(backend.table(false).await, faults);
    let projector = projector(crashing.clone(), &store);
    let failed = projector.apply_stream(stream.clone()).await;
    assert!(matches!(failed, Err(ProjectorError::Projection(_))), "{failed:?}");
    assert_eq!(crashing.interceptor.pending(), 0);
    assert_eq!(checkpoint(&projector).await, 1, "the checkpoint waits for every batch");
    let landed = inboxes(crashing.as_ref()).await.len();
    assert!(landed < 1000, "the failure stopped the fan-out midway ({landed} landed)");

    // The failed holder gave its lease back: the redelivery needs no wait.
    projector.apply_stream(stream.clone()).await.unwrap();
    assert_eq!(checkpoint(&projector).await, 2);
    assert_eq!(scan_all(crashing.as_ref()).await, scan_all(clean.as_ref()).await);
}

async fn a_crashed_holders_lease_holds_off_other_workers_until_it_expires(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let stream = shared_note(&store, 100, &[]).await;
    let clean = backend.table(false).await;
    projector(clean.clone(), &store).apply_stream(stream.clone()).await.unwrap();

    // A holder "crashes": its third batch fails and so does the put that would release its
    // lease (the lease taken is the read model's first put, after the first event's
    // transaction), so the lease stays as a killed process would leave it.
    let crash = || {
        Faults::default()
            .on_call(Operation::BatchWrite, 3, TableError::Unavailable("injected: process killed".into()))
            .on_call(Operation::Put, 2, TableError::Unavailable("injected: process killed".into()))
    };
    let read_model = backend.table(false).await;
    let crashed = faulty(read_model.clone(), crash());
    let holder = projector(crashed.clone(), &store);
    assert!(holder.apply_stream(stream.clone()).await.is_err());
    assert_eq!(crashed.interceptor.pending(), 0, "the release failed too");

    let other = projector(read_model.clone(), &store);
    let refused = other.apply_stream(stream.clone()).await;
    assert!(
        matches!(&refused, Err(ProjectorError::Leased { stream }) if *stream == stream_of(NOTE)),
        "{refused:?}"
    );
    assert_eq!(checkpoint(&other).await, 1);

    // A holder whose lease is short: once it expires, another worker takes over.
    let read_model = backend.table(false).await;
    let crashed = faulty(read_model.clone(), crash());
    let holder = projector(crashed.clone(), &store).with_fan_out_lease(Duration::from_secs(1));
    assert!(holder.apply_stream(stream.clone()).await.is_err());
    let other = projector(read_model.clone(), &store);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match other.apply_stream(stream.clone()).await {
            Ok(()) => break,
            Err(ProjectorError::Leased { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(error) => panic!("the expired lease was not taken over: {error}"),
        }
    }
    assert_eq!(scan_all(read_model.as_ref()).await, scan_all(clean.as_ref()).await);
}

/// Holds every batch write at a gate until the test opens it, and says when the first arrived.
struct Gate {
    arrived: Notify,
    open: watch::Receiver<bool>,
}

#[async_trait]
impl Interceptor for Gate {
    fn before(&self, _operation: Operation) -> Result<(), TableError> {
        Ok(())
    }

    async fn batch_writing(&self) {
        self.arrived.notify_one();
        let mut open = self.open.clone();
        open.wait_for(|open| *open).await.expect("the test holds the gate's sender");
    }
}

async fn a_delivery_overlapping_the_lease_holder_cannot_leave_stale_items(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let stream = shared_note(&store, 100, &[NoteEvent::NoteDeleted]).await;
    let read_model = backend.table(false).await;
    let fast = projector(read_model.clone(), &store);
    fast.apply_stream(vec![stream[0].clone()]).await.unwrap();

    // A slow worker takes the share event and stalls in its first batch write. Without the
    // lease, the fast worker would apply the share and the deletion, and the slow worker's
    // items would land after the deletion, for good.
    let (open, gate) = watch::channel(false);
    let gated =
        Arc::new(DecoratedTable::new(read_model.clone(), Gate { arrived: Notify::new(), open: gate }));
    let slow = projector(gated.clone(), &store);
    let share = stream[1].clone();
    let slow_delivery = tokio::spawn(async move { slow.apply_stream(vec![share]).await });
    tokio::time::timeout(Duration::from_secs(10), gated.interceptor.arrived.notified())
        .await
        .expect("the slow worker reaches its first batch write");

    for delivery in [vec![stream[1].clone()], vec![stream[2].clone()], stream.clone()] {
        let refused = fast.apply_stream(delivery).await;
        assert!(matches!(refused, Err(ProjectorError::Leased { .. })), "{refused:?}");
    }
    assert_eq!(checkpoint(&fast).await, 1);

    open.send(true).unwrap();
    slow_delivery.await.unwrap().unwrap();
    assert_eq!(checkpoint(&fast).await, 2);
    assert_eq!(inboxes(read_model.as_ref()).await.len(), 100);

    fast.apply_stream(stream.clone()).await.unwrap();
    assert_eq!(checkpoint(&fast).await, 3);
    assert_eq!(inboxes(read_model.as_ref()).await, Vec::<Item>::new(), "nothing stale after the deletion");
}

async fn concurrent_duplicates_write_the_fan_out_once_and_a_later_deletion_leaves_nothing(family: Family) {
    let backend = family.backend().await;
    let store = EventStore::new(backend.table(true).await);
    let stream = shared_note(&store, 100, &[NoteEvent::NoteDeleted]).await;
    let metered = faulty(backend.table(false).await, Faults::default());
    let projector = projector(metered.clone(), &store);
    projector.apply_stream(vec![stream[0].clone()]).await.unwrap();

    // Two deliveries of the share at once, as SNS duplicates arrive; the one refused is
    // redelivered, as SQS would, until it is a duplicate.
    let share = || projector.apply_stream(vec![stream[1].clone()]);
    let (first, second) = tokio::join!(share(), share());
    for result in [first, second] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut result = result;
        while let Err(ProjectorError::Leased { .. }) = result {
            assert!(tokio::time::Instant::now() < deadline, "the lease holder never committed");
            tokio::time::sleep(Duration::from_millis(20)).await;
            result = share().await;
        }
        result.unwrap();
    }
    assert_eq!(metered.interceptor.calls(Operation::BatchWrite), 4, "only the lease holder wrote");
    assert_eq!(inboxes(metered.as_ref()).await.len(), 100);

    projector.apply_stream(vec![stream[2].clone()]).await.unwrap();
    share().await.unwrap();
    assert_eq!(checkpoint(&projector).await, 3);
    assert_eq!(inboxes(metered.as_ref()).await, Vec::<Item>::new(), "nothing stale after the deletion");
}
