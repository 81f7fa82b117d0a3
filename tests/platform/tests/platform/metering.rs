//! Conformance of the metered decorators over both adapter families: each port call is charged
//! what AWS bills for it (DynamoDB's read and write units, SNS and SQS requests per 64 KiB, S3
//! requests, SNS mobile push), to the action it is charged to. Each call is measured as an action
//! of its own ([`charged`]), and its whole usage is compared, so an extra or missing line fails
//! as surely as a wrong count.

use crate::delivery::{append_notes, NOTES_CORRELATION_ID};
use crate::queue::HIDDEN;
use crate::table::{item, item_of_size};
use huddle_delivery::fan_out;
use huddle_eventstore::EventStore;
use huddle_metering::units::{MESSAGING_CHUNK_BYTES, READ_UNIT_BYTES, WRITE_UNIT_BYTES};
use huddle_metering::{
    Attribution, Line, Meter, MeteredBlobs, MeteredPush, MeteredQueue, MeteredTable, MeteredTopic, Service,
    Tally, Unit, Usage, BACKGROUND,
};
use huddle_ports::table::MAX_ITEM_BYTES;
use huddle_ports::topic::MAX_PUBLISH_BATCH;
use huddle_ports::{
    BlobError, Blobs, Condition, Key, OutgoingMessage, Platform, Push, PushError, Query, Queue, Scan, Table,
    TableError, Topic, TopicMessage, TransactWrite,
};
use huddle_test_support::{on_both_families, unique_name, Family};
use serde_json::json;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Runs `call` as an action of its own; returns its output and all the action was charged.
async fn charged<T>(meter: &Meter, call: impl Future<Output = T>) -> (T, Usage) {
    let action = unique_name("action");
    let output = Attribution::to(action.clone()).scope(call).await;
    (output, meter.usage_of(&action))
}

fn usage<const N: usize>(lines: [(Service, &str, Unit, Tally); N]) -> Usage {
    lines
        .into_iter()
        .map(|(service, operation, unit, tally)| (Line::new(service, operation, unit), tally))
        .collect()
}

/// One call, billed `billed` units, storing nothing.
fn call(billed: f64) -> Tally {
    Tally { calls: 1.0, billed, stored_bytes: 0.0 }
}

/// One call, billed `billed` units, adding `stored_bytes` to storage.
fn storing(billed: f64, stored_bytes: usize) -> Tally {
    Tally { stored_bytes: stored_bytes as f64, ..call(billed) }
}

/// An action's `weight` of a call made for several.
fn share(tally: Tally, weight: f64) -> Tally {
    Tally {
        calls: tally.calls * weight,
        billed: tally.billed * weight,
        stored_bytes: tally.stored_bytes * weight,
    }
}

/// What DynamoDB adds to each stored item for its indexing (its storage pricing rule).
const STORAGE_OVERHEAD_BYTES: usize = 100;

/// A fresh table on `family`, unmetered (to set up what a test measures) and metered.
async fn metered_table(family: Family, meter: &Meter) -> (Arc<dyn Table>, MeteredTable) {
    let inner = family.backend().await.table(false).await;
    (inner.clone(), MeteredTable::new(inner, meter.clone()))
}

fn reads(operation: &str, units: f64) -> Usage {
    usage([(Service::DynamoDB, operation, Unit::ReadRequestUnits, call(units))])
}

fn writes(operation: &str, tally: Tally) -> Usage {
    usage([(Service::DynamoDB, operation, Unit::WriteRequestUnits, tally)])
}

on_both_families!(
    table_reads_are_billed_per_4_kb_of_what_one_request_read,
    table_writes_are_billed_per_1_kb_of_each_item_and_twice_in_a_transaction,
    failed_conditions_are_billed_and_invalid_requests_are_not,
    only_inserts_add_to_storage,
    a_send_or_publish_is_one_call_billed_per_64_kb,
    a_publish_is_charged_to_the_actions_whose_events_it_carries,
    a_receive_is_charged_to_the_actions_whose_messages_it_brings,
    the_fan_out_publishes_a_stream_batch_in_one_call_per_ten_events,
    s3_bills_every_request_that_reaches_the_bucket_and_no_presign,
    push_bills_every_sns_request_and_only_notifications_sent_as_deliveries,
);

async fn table_reads_are_billed_per_4_kb_of_what_one_request_read(family: Family) {
    let meter = Meter::new();
    let (inner, table) = metered_table(family, &meter).await;
    for (sk, bytes) in [("at-unit", READ_UNIT_BYTES), ("past-unit", READ_UNIT_BYTES + 1)] {
        inner.put(item_of_size("r", sk, bytes), Condition::Always).await.unwrap();
    }
    // Three items of 1,500 bytes read 4,500 bytes: two units for the page, where rounding each
    // item up would make three.
    for sk in ["q1", "q2", "q3"] {
        inner.put(item_of_size("q", sk, 1_500), Condition::Always).await.unwrap();
    }

    let (missing, bill) = charged(&meter, table.get(&Key::new("r", "none"))).await;
    assert!(missing.unwrap().is_none());
    assert_eq!(bill, reads("GetItem", 1.0), "a read that finds nothing costs the minimum");
    let (_, bill) = charged(&meter, table.get(&Key::new("r", "at-unit"))).await;
    assert_eq!(bill, reads("GetItem", 1.0), "4,096 bytes");
    let (_, bill) = charged(&meter, table.get(&Key::new("r", "past-unit"))).await;
    assert_eq!(bill, reads("GetItem", 2.0), "4,097 bytes");

    // A batch of reads bills each key as a GetItem of its own: 1 + 2 + 1 (nothing found) + 1.
    let keys =
        [Key::new("r", "at-unit"), Key::new("r", "past-unit"), Key::new("r", "none"), Key::new("q", "q1")];
    let (found, bill) = charged(&meter, table.batch_get(&keys)).await;
    assert_eq!(found.unwrap().iter().filter(|item| item.is_some()).count(), 3);
    assert_eq!(bill, reads("BatchGetItem", 5.0), "each item rounded up on its own");

    let (page, bill) = charged(&meter, table.query(&Query::new("q"))).await;
    assert_eq!(page.unwrap().items.len(), 3);
    assert_eq!(bill, reads("Query", 2.0), "4,500 bytes rounded up once");
    let (page, bill) = charged(&meter, table.query(&Query::new("empty"))).await;
    assert!(page.unwrap().items.is_empty());
    assert_eq!(bill, reads("Query", 1.0), "an empty page costs the minimum");
    // 4,096 + 4,097 + 4,500 = 12,693 bytes: four units (per item it would be six).
    let (page, bill) = charged(&meter, table.scan(&Scan::default())).await;
    assert_eq!(page.unwrap().items.len(), 5);
    assert_eq!(bill, reads("Scan", 4.0));
    assert!(meter.usage_of(BACKGROUND).is_empty(), "the unmetered setup charged nothing");
}

async fn table_writes_are_billed_per_1_kb_of_each_item_and_twice_in_a_transaction(family: Family) {
    let meter = Meter::new();
    let (inner, table) = metered_table(family, &meter).await;
    let at_unit = table.put(item_of_size("w", "at-unit", WRITE_UNIT_BYTES), Condition::Always);
    let (put, bill) = charged(&meter, at_unit).await;
    put.unwrap();
    assert_eq!(bill, writes("PutItem", call(1.0)), "1,024 bytes");
    let past_unit = table.put(item_of_size("w", "past-unit", WRITE_UNIT_BYTES + 1), Condition::Always);
    let (put, bill) = charged(&meter, past_unit).await;
    put.unwrap();
    assert_eq!(bill, writes("PutItem", call(2.0)), "1,025 bytes");

    let (deleted, bill) = charged(&meter, table.delete(&Key::new("w", "at-unit"), Condition::Always)).await;
    deleted.unwrap();
    assert_eq!(bill, writes("DeleteItem", call(1.0)), "a delete does not carry its item: the minimum");
    let (added, bill) = charged(&meter, table.add(&Key::new("w", "counter"), "n", 1)).await;
    assert_eq!(added.unwrap(), 1);
    assert_eq!(bill, writes("UpdateItem", call(1.0)), "an atomic add: the minimum");

    inner.put(item("w", "doomed", json!({})), Condition::Always).await.unwrap();
    let transaction = vec![
        TransactWrite::Put {
            item: item_of_size("w", "tx", WRITE_UNIT_BYTES + 1),
            condition: Condition::Always,
        },
        TransactWrite::Check { key: Key::new("w", "absent"), condition: Condition::NotExists },
        TransactWrite::Delete { key: Key::new("w", "doomed"), condition: Condition::Always },
        TransactWrite::Add { key: Key::new("w", "counter"), attribute: "n".into(), delta: 1 },
    ];
    let (committed, bill) = charged(&meter, table.transact(transaction)).await;
    committed.unwrap();
    // Twice each write: 2 × 2 for the 1,025-byte put, 2 × 1 for each of the other three.
    assert_eq!(bill, writes("TransactWriteItems", call(10.0)));
    assert!(inner.get(&Key::new("w", "doomed")).await.unwrap().is_none(), "the transaction was applied");
}

async fn failed_conditions_are_billed_and_invalid_requests_are_not(family: Family) {
    let meter = Meter::new();
    let (inner, table) = metered_table(family, &meter).await;
    let existing = item_of_size("f", "existing", WRITE_UNIT_BYTES + 1);
    inner.put(existing.clone(), Condition::Always).await.unwrap();

    let (refused, bill) = charged(&meter, table.put(existing.clone(), Condition::NotExists)).await;
    assert!(matches!(refused, Err(TableError::ConditionFailed { .. })), "{refused:?}");
    assert_eq!(bill, writes("PutItem", call(2.0)), "billed as made, storing nothing");
    let stale = Condition::attribute_equals("pad", "stale");
    let (refused, bill) = charged(&meter, table.delete(&Key::new("f", "existing"), stale)).await;
    assert!(matches!(refused, Err(TableError::ConditionFailed { .. })), "{refused:?}");
    assert_eq!(bill, writes("DeleteItem", call(1.0)));
    let cancelled = vec![
        TransactWrite::Put { item: item("f", "new", json!({})), condition: Condition::NotExists },
        TransactWrite::Put { item: existing, condition: Condition::NotExists },
    ];
    let (refused, bill) = charged(&meter, table.transact(cancelled)).await;
    assert!(matches!(refused, Err(TableError::ConditionFailed { index: Some(1) })), "{refused:?}");
    assert_eq!(bill, writes("TransactWriteItems", call(2.0 * 1.0 + 2.0 * 2.0)), "storing nothing");

    let oversized = item_of_size("f", "oversized", MAX_ITEM_BYTES + 1);
    let (refused, bill) = charged(&meter, table.put(oversized.clone(), Condition::Always)).await;
    assert!(matches!(refused, Err(TableError::Invalid(_))), "{refused:?}");
    assert_eq!(bill, Usage::new(), "refused before it reaches DynamoDB");
    let in_transaction = vec![TransactWrite::Put { item: oversized, condition: Condition::Always }];
    let (refused, bill) = charged(&meter, table.transact(in_transaction)).await;
    assert!(matches!(refused, Err(TableError::Invalid(_))), "{refused:?}");
    assert_eq!(bill, Usage::new());
}

async fn only_inserts_add_to_storage(family: Family) {
    let meter = Meter::new();
    let (_, table) = metered_table(family, &meter).await;
    let inserted = item_of_size("s", "item", WRITE_UNIT_BYTES + 1);
    let (put, bill) = charged(&meter, table.put(inserted.clone(), Condition::NotExists)).await;
    put.unwrap();
    assert_eq!(bill, writes("PutItem", storing(2.0, WRITE_UNIT_BYTES + 1 + STORAGE_OVERHEAD_BYTES)));
    let (put, bill) = charged(&meter, table.put(inserted, Condition::Always)).await;
    put.unwrap();
    assert_eq!(bill, writes("PutItem", call(2.0)), "an overwrite adds no item");

    let transaction = vec![
        TransactWrite::Put { item: item_of_size("s", "tx-insert", 500), condition: Condition::NotExists },
        TransactWrite::Put { item: item_of_size("s", "item", 500), condition: Condition::Always },
    ];
    let (committed, bill) = charged(&meter, table.transact(transaction)).await;
    committed.unwrap();
    assert_eq!(bill, writes("TransactWriteItems", storing(4.0, 500 + STORAGE_OVERHEAD_BYTES)));
}

/// `count` message bodies of `total` bytes together, as even as they come (no attributes, so
/// the bodies are all SNS and SQS count).
fn bodies(count: usize, total: usize) -> Vec<String> {
    (0..count).map(|n| "x".repeat(total / count + usize::from(n < total % count))).collect()
}

/// Batches by their message count and total bytes, and the requests each is billed: 64 KiB
/// itself is one request, a byte more is two, and four messages of 64 KiB (SNS's largest
/// publish) are four.
const BATCHES: [(usize, usize, f64); 4] = [
    (3, 300, 1.0),
    (2, MESSAGING_CHUNK_BYTES, 1.0),
    (2, MESSAGING_CHUNK_BYTES + 1, 2.0),
    (4, 4 * MESSAGING_CHUNK_BYTES, 4.0),
];

async fn a_send_or_publish_is_one_call_billed_per_64_kb(family: Family) {
    let backend = family.backend().await;
    let meter = Meter::new();
    let queue = MeteredQueue::new(backend.queue(None).await, meter.clone());
    let topic = MeteredTopic::new(backend.topic().await, meter.clone());
    for (count, bytes, requests) in BATCHES {
        let sent = bodies(count, bytes).into_iter().map(|body| crate::queue::message(&body, &[])).collect();
        let (result, bill) = charged(&meter, queue.send_batch(sent)).await;
        result.unwrap();
        let expected = usage([(Service::Sqs, "SendMessageBatch", Unit::SqsRequests, call(requests))]);
        assert_eq!(bill, expected, "a send of {count} messages, {bytes} bytes");

        let published = bodies(count, bytes)
            .iter()
            .enumerate()
            .map(|(n, body)| crate::topic::message(&format!("m{n}"), body, &[]))
            .collect();
        let (failures, bill) = charged(&meter, topic.publish_batch(published)).await;
        assert_eq!(failures.unwrap(), []);
        let expected = usage([(Service::Sns, "PublishBatch", Unit::SnsRequests, call(requests))]);
        assert_eq!(bill, expected, "a publish of {count} messages, {bytes} bytes");
    }
    assert!(meter.usage_of(BACKGROUND).is_empty());
}

/// The correlation ids of a batch carrying three events of one action and one of another.
const THREE_TO_ONE: [&str; 4] = ["three-quarters", "three-quarters", "three-quarters", "one-quarter"];

/// Checks that one small call of `operation`, made `by` a function or none, was charged 3:1 to
/// the actions of [`THREE_TO_ONE`]; returns their usage.
fn split_three_to_one(meter: &Meter, line: Line) -> [Usage; 2] {
    let operation = line.operation.clone();
    [(0.75, "three-quarters"), (0.25, "one-quarter")].map(|(weight, correlation_id)| {
        let expected = Usage::from([(line.clone(), share(call(1.0), weight))]);
        assert_eq!(meter.usage_of(correlation_id), expected, "{correlation_id}'s {operation}");
        expected
    })
}

async fn a_publish_is_charged_to_the_actions_whose_events_it_carries(family: Family) {
    let meter = Meter::new();
    let topic = MeteredTopic::new(family.backend().await.topic().await, meter.clone());
    let messages: Vec<TopicMessage> = THREE_TO_ONE
        .iter()
        .enumerate()
        .map(|(n, id)| crate::topic::message(&format!("m{n}"), "{}", &[("correlation_id", id)]))
        .collect();
    // Published as the fan-out publishes: in its function, for the events' actions.
    let publisher = Attribution::to("publisher").in_function("FanoutFunction");
    assert_eq!(publisher.scope(topic.publish_batch(messages)).await.unwrap(), []);
    assert_eq!(meter.usage_of("publisher"), Usage::new(), "not the publisher's: the events' actions'");
    let by_fan_out = Line {
        by: Some("FanoutFunction".into()),
        ..Line::new(Service::Sns, "PublishBatch", Unit::SnsRequests)
    };
    split_three_to_one(&meter, by_fan_out);
    assert!(meter.fan_out_caught_up("three-quarters"), "nothing appended, nothing owed");
}

async fn a_receive_is_charged_to_the_actions_whose_messages_it_brings(family: Family) {
    let meter = Meter::new();
    let inner = family.backend().await.queue(None).await;
    let queue = MeteredQueue::new(inner.clone(), meter.clone());
    // Sent unmetered, so the actions' usage is the receive's alone.
    let messages: Vec<OutgoingMessage> =
        THREE_TO_ONE.iter().map(|id| crate::queue::message("{}", &[("correlation_id", id)])).collect();
    inner.send_batch(messages).await.unwrap();

    let (received, bill) = charged(&meter, queue.receive(10, HIDDEN, Duration::from_secs(1))).await;
    let received = received.unwrap();
    assert_eq!(received.len(), 4, "one receive brings the whole batch on both families");
    assert_eq!(bill, Usage::new(), "not the poller's: the messages' actions'");
    // Received as a queue mapping receives, outside any function.
    let [three_quarters, one_quarter] =
        split_three_to_one(&meter, Line::new(Service::Sqs, "ReceiveMessage", Unit::SqsRequests));

    let (empty, bill) = charged(&meter, queue.receive(10, HIDDEN, Duration::ZERO)).await;
    assert_eq!(empty.unwrap(), []);
    assert_eq!(bill, Usage::new(), "an idle poll is no action's");
    assert_eq!(
        meter.usage_of(BACKGROUND),
        usage([(Service::Sqs, "ReceiveMessage", Unit::SqsRequests, call(1.0))])
    );

    let (deleted, bill) = charged(&meter, queue.delete(&received[0].receipt_handle)).await;
    deleted.unwrap();
    assert_eq!(bill, usage([(Service::Sqs, "DeleteMessage", Unit::SqsRequests, call(1.0))]));
    let (released, bill) = charged(&meter, queue.release(&received[1].receipt_handle, Duration::ZERO)).await;
    released.unwrap();
    assert_eq!(bill, usage([(Service::Sqs, "ChangeMessageVisibility", Unit::SqsRequests, call(1.0))]));
    assert_eq!(meter.usage_of("three-quarters"), three_quarters, "deletes and releases go to the scope");
    assert_eq!(meter.usage_of("one-quarter"), one_quarter);
}

/// The fan-out guard: however many events a stream batch brings, the fan-out publishes them ten
/// to a call, each call charged to the events' action.
async fn the_fan_out_publishes_a_stream_batch_in_one_call_per_ten_events(family: Family) {
    let backend = family.backend().await;
    for count in [1, 9, 10, 11, 26] {
        let meter = Meter::new();
        let (events_table, mut stream) = backend.streamed_table().await;
        let store = EventStore::new(Arc::new(MeteredTable::new(events_table, meter.clone())));
        append_notes(&store, count).await;
        assert!(!meter.fan_out_caught_up(NOTES_CORRELATION_ID), "{count} events appended, none published");

        let topic = MeteredTopic::new(backend.topic().await, meter.clone());
        let batch = stream.read_at_least(count).await;
        assert_eq!(batch.records.len(), count);
        let response = fan_out(&topic, batch).await;
        assert!(response.batch_item_failures.is_empty(), "{response:?}");

        // Ten note events are far below 64 KiB: each call is billed one request.
        let calls = count.div_ceil(MAX_PUBLISH_BATCH) as f64;
        let publishes = Tally { calls, billed: calls, stored_bytes: 0.0 };
        let sns = |correlation_id: &str| -> Usage {
            meter
                .usage_of(correlation_id)
                .into_iter()
                .filter(|(line, _)| line.service == Service::Sns)
                .collect()
        };
        assert_eq!(
            sns(NOTES_CORRELATION_ID),
            usage([(Service::Sns, "PublishBatch", Unit::SnsRequests, publishes)]),
            "{count} events"
        );
        assert_eq!(sns(BACKGROUND), Usage::new());
        assert!(meter.fan_out_caught_up(NOTES_CORRELATION_ID), "{count} events published");
    }
}

fn s3(operation: &str, unit: Unit, tally: Tally) -> Usage {
    usage([(Service::S3, operation, unit, tally)])
}

async fn s3_bills_every_request_that_reaches_the_bucket_and_no_presign(family: Family) {
    let meter = Meter::new();
    let store = family.backend().await.blobs().await;
    let blobs = MeteredBlobs::new(store.blobs.clone(), meter.clone());
    let body = b"ten bytes!".to_vec();

    let (presigned, bill) =
        charged(&meter, blobs.presign_upload("media/a", "image/png", 10, Duration::from_secs(300))).await;
    presigned.unwrap();
    assert_eq!(bill, Usage::new(), "presigning is local signing");
    let (presigned, bill) =
        charged(&meter, blobs.presign_download("media/a", Duration::from_secs(300))).await;
    presigned.unwrap();
    assert_eq!(bill, Usage::new(), "presigning a download too");
    let (put, bill) = charged(&meter, blobs.put("media/a", "image/png", body.clone())).await;
    put.unwrap();
    assert_eq!(bill, s3("PutObject", Unit::S3WriteRequests, storing(1.0, body.len())));

    let (got, bill) = charged(&meter, blobs.get("media/a")).await;
    assert_eq!(got.unwrap(), body);
    assert_eq!(bill, s3("GetObject", Unit::S3ReadRequests, call(1.0)));
    let (missing, bill) = charged(&meter, blobs.get("media/none")).await;
    assert!(matches!(missing, Err(BlobError::NotFound(_))), "{missing:?}");
    assert_eq!(bill, s3("GetObject", Unit::S3ReadRequests, call(1.0)), "a miss is billed like a hit");
    for (key, exists) in [("media/a", true), ("media/none", false)] {
        let (meta, bill) = charged(&meter, blobs.head(key)).await;
        assert_eq!(meta.unwrap().is_some(), exists);
        assert_eq!(bill, s3("HeadObject", Unit::S3ReadRequests, call(1.0)), "{key}");
    }

    let (listed, bill) = charged(&meter, blobs.list("media/")).await;
    assert_eq!(listed.unwrap(), ["media/a"]);
    assert_eq!(bill, s3("ListObjectsV2", Unit::S3WriteRequests, call(1.0)), "a LIST is in the write tier");
    let (deleted, bill) = charged(&meter, blobs.delete_many(&["media/a".to_owned()])).await;
    deleted.unwrap();
    assert_eq!(bill, Usage::new(), "deletes are free");

    let (refused, bill) = charged(&meter, blobs.put("../outside", "image/png", body)).await;
    assert!(matches!(refused, Err(BlobError::Invalid(_))), "{refused:?}");
    assert_eq!(bill, Usage::new(), "refused before it reaches S3");
}

fn sns_request(operation: &str) -> (Service, &str, Unit, Tally) {
    (Service::Sns, operation, Unit::SnsRequests, call(1.0))
}

/// SNS bills each request the Push port makes; the AWS adapter's register makes more than one
/// (it reads the endpoint back, and enables or updates it when it must), which a decorator over
/// the port cannot see: it charges the one request a register is for, on both families.
async fn push_bills_every_sns_request_and_only_notifications_sent_as_deliveries(family: Family) {
    let meter = Meter::new();
    let service = family.backend().await.push().await;
    let push = MeteredPush::new(service.push.clone(), meter.clone());
    let payload = r#"{"aps":{"alert":"Ana liked your video"}}"#;
    let delivery = (Service::MobilePush, "Deliver", Unit::MobilePushDeliveries, call(1.0));

    let (endpoint, bill) =
        charged(&meter, push.register(Platform::Apns, &unique_name("token"), "acc_1")).await;
    let endpoint = endpoint.unwrap();
    assert_eq!(bill, usage([sns_request("CreatePlatformEndpoint")]));
    let (published, bill) = charged(&meter, push.publish(&endpoint, payload)).await;
    published.unwrap();
    assert_eq!(bill, usage([sns_request("Publish"), delivery]));
    let (enabled, bill) = charged(&meter, push.is_enabled(&endpoint)).await;
    assert!(enabled.unwrap());
    assert_eq!(bill, usage([sns_request("GetEndpointAttributes")]));

    service.disable(&endpoint).await;
    let (refused, bill) = charged(&meter, push.publish(&endpoint, payload)).await;
    assert!(matches!(refused, Err(PushError::EndpointDisabled(_))), "{refused:?}");
    assert_eq!(bill, usage([sns_request("Publish")]), "a request, but nothing delivered");
    assert_eq!(service.delivered(&endpoint).await, [payload], "the one notification sent");

    let (unregistered, bill) = charged(&meter, push.unregister(&endpoint)).await;
    unregistered.unwrap();
    assert_eq!(bill, usage([sns_request("DeleteEndpoint")]));
    let (refused, bill) = charged(&meter, push.publish(&endpoint, payload)).await;
    assert!(matches!(refused, Err(PushError::NotFound(_))), "{refused:?}");
    assert_eq!(bill, usage([sns_request("Publish")]), "a request, but nothing delivered");
}
