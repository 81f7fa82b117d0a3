//! Delivery around failed transactions on both families: appends that lose a race commit
//! nothing, so the change stream, the fan-out and a projection see every committed event and
//! only those. On moto this holds only because the harness corrects moto's transaction path
//! (see `tests/support/moto_launcher.py`); DynamoDB records nothing for a cancelled transaction.

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use huddle_delivery::{fan_out, Projector};
use huddle_eventstore::{AppendError, Envelope, EventStore, ExpectedVersion, Metadata, StreamWrite};
use huddle_ports::{FilterPolicy, Key, Table};
use huddle_test_support::notes::{events, stream_of, NoteEvent, NotesProjection};
use huddle_test_support::queues::receive_deliveries;
use huddle_test_support::{on_both_families, scan_all, Family};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const RACERS: usize = 8;

on_both_families!(racing_failed_appends_hide_no_later_event);

/// Appends `event` to note `id`'s stream after whatever it holds.
async fn append(store: &EventStore, id: &str, event: NoteEvent) {
    let meta = Metadata::new("corr-race").actor("acc_race");
    store.append(&stream_of(id), ExpectedVersion::Any, events(&[event]), &meta, None).await.unwrap();
}

/// The ids of the notes the `notes` listing of `read_model` holds.
async fn listed_notes(read_model: &dyn Table) -> BTreeSet<String> {
    let items = scan_all(read_model).await;
    let notes = items.iter().filter(|item| item["pk"] == "notes");
    notes.map(|item| item["sk"].as_str().unwrap().to_owned()).collect()
}

/// As sign-ups racing for one username do: each racer appends to a stream of its own and, in
/// the same transaction, claims one shared stream with `NoStream`. One wins; each loser's own
/// write passes its condition before the claim fails, which is where moto alone recorded a
/// phantom on the stream and lost the events after it.
async fn racing_failed_appends_hide_no_later_event(family: Family) {
    let backend = family.backend().await;
    let (events_table, mut changes) = backend.streamed_table().await;
    let store = EventStore::new(events_table);
    let topic = backend.topic().await;
    let queue = backend.queue(None).await;
    topic
        .subscribe(queue.clone(), &FilterPolicy::parse(json!({ "stream_type": ["note"] })).unwrap())
        .await
        .unwrap();

    // The change stream is read before the race, as a running fan-out reads it.
    append(&store, "before", NoteEvent::NoteWritten { text: "before the race".into() }).await;
    let mut fanned_out = 0;
    let first = changes.read_at_least(1).await;
    fanned_out += first.records.len();
    assert!(fan_out(topic.as_ref(), first).await.batch_item_failures.is_empty());

    let racers = (0..RACERS).map(|racer| {
        let store = store.clone();
        tokio::spawn(async move {
            let own = StreamWrite {
                stream: stream_of(&format!("racer-{racer}")),
                expected: ExpectedVersion::NoStream,
                events: events(&[NoteEvent::NoteWritten { text: format!("racer {racer}") }]),
            };
            let claim = StreamWrite {
                stream: stream_of("claim"),
                expected: ExpectedVersion::NoStream,
                events: events(&[NoteEvent::NoteWritten { text: format!("claimed by {racer}") }]),
            };
            (racer, store.append_all(vec![own, claim], &Metadata::new("corr-race"), None).await)
        })
    });
    let mut winners = Vec::new();
    for (racer, outcome) in futures::future::try_join_all(racers).await.unwrap() {
        match outcome {
            Ok(_) => winners.push(racer),
            Err(AppendError::Conflict { stream, .. }) => assert_eq!(stream, stream_of("claim")),
            Err(other) => panic!("racer {racer}: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "one racer claims the stream: {winners:?}");
    let winner = format!("racer-{}", winners[0]);

    // Events after the race, on the claimed stream, the winner's, and streams new and old.
    append(&store, "claim", NoteEvent::NoteEdited { text: "edited after the race".into() }).await;
    append(&store, &winner, NoteEvent::NoteLiked { by: "acc_fan".into() }).await;
    append(&store, "after", NoteEvent::NoteWritten { text: "after the race".into() }).await;
    append(&store, "before", NoteEvent::NoteLiked { by: "acc_fan".into() }).await;

    let committed_notes = ["before", "claim", winner.as_str(), "after"];
    let mut committed = Vec::new();
    for id in committed_notes {
        committed.extend(store.read_stream(&stream_of(id), 1..).await.unwrap());
    }
    assert_eq!(committed.len(), 7, "two events before and in the race, four after");
    for loser in (0..RACERS).map(|racer| format!("racer-{racer}")).filter(|id| *id != winner) {
        assert!(
            store.read_stream(&stream_of(&loser), 1..).await.unwrap().is_empty(),
            "{loser} holds nothing"
        );
    }

    let rest = changes.read_at_least(committed.len() - fanned_out).await;
    assert!(fan_out(topic.as_ref(), rest).await.batch_item_failures.is_empty());
    let delivered = receive_deliveries(queue.as_ref(), committed.len(), Duration::from_secs(120)).await;
    let published: BTreeSet<(String, u64, String)> = delivered
        .0
        .iter()
        .map(|message| serde_json::from_str::<Envelope>(&message.body).unwrap())
        .map(|envelope| (envelope.stream, envelope.version, envelope.event_id.to_string()))
        .collect();
    let expected: BTreeSet<(String, u64, String)> =
        committed.iter().map(|e| (e.stream.clone(), e.version, e.event_id.to_string())).collect();
    assert_eq!(published, expected, "every committed event is published, and nothing else");
    assert_eq!(delivered.0.len(), committed.len(), "each once");

    let read_model = backend.table(false).await;
    let projector = Projector::new(Arc::new(NotesProjection), read_model.clone(), store.clone());
    let mut batch = SqsEvent::default();
    batch.records = delivered
        .0
        .iter()
        .map(|message| {
            let mut record = SqsMessage::default();
            record.message_id = Some(message.message_id.clone());
            record.body = Some(message.body.clone());
            record
        })
        .collect();
    let response = projector.handle(batch).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);

    let expected_notes: BTreeSet<String> = committed_notes.iter().map(|id| id.to_string()).collect();
    assert_eq!(listed_notes(read_model.as_ref()).await, expected_notes, "no loser's note is projected");
    for id in committed_notes {
        let head = store.read_stream(&stream_of(id), 1..).await.unwrap().len() as u64;
        assert_eq!(
            projector.checkpoint(&stream_of(id)).await.unwrap(),
            head,
            "note {id} is projected to its head"
        );
    }
    let claim_text = read_model.get(&Key::new(stream_of("claim"), "text")).await.unwrap().unwrap();
    assert_eq!(claim_text["text"], "edited after the race");
}
