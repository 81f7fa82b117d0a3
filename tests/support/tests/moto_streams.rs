//! The harness's moto server tells the truth about DynamoDB Streams around transactions, as
//! DynamoDB does: a cancelled TransactWriteItems emits no stream record, and a reader holding
//! an iterator from before it goes on to see every later write, once, in order.
//!
//! moto alone fails this: it writes a cancelled transaction's passing writes (recording them on
//! the stream) and then rolls the table back to a copy taken before, so a reader's iterator is
//! left on the discarded shard, holding the phantom record and none of the later ones, while the
//! live shard reuses the phantom's sequence number for the next real write.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use huddle_test_support::{moto, unique_name};
use std::time::Duration;
use tokio::time::Instant;

/// How long a reader waits for records that should be there at once.
const PATIENCE: Duration = Duration::from_secs(10);

/// One stream record as a reader sees it: its sequence number and the `pk` it is about.
type Seen = (String, String);

/// A reader of a table's one stream shard, following `NextShardIterator` as a long-running
/// consumer (the runner's poller, an event source mapping) does.
struct Reader {
    client: aws_sdk_dynamodbstreams::Client,
    iterator: Option<String>,
}

impl Reader {
    async fn open(client: &aws_sdk_dynamodbstreams::Client, stream_arn: &str) -> Reader {
        let described =
            client.describe_stream().stream_arn(stream_arn).send().await.expect("describe stream");
        let shards = described.stream_description.and_then(|d| d.shards).unwrap_or_default();
        assert_eq!(shards.len(), 1, "moto keeps one shard per stream");
        let iterator = client
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shards[0].shard_id.clone().expect("a shard id"))
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("shard iterator")
            .shard_iterator;
        Reader { client: client.clone(), iterator }
    }

    /// What the stream yields until at least `count` records came (or [`PATIENCE`] passed),
    /// then one read more, so a record beyond those expected shows too.
    async fn read(&mut self, count: usize) -> Vec<Seen> {
        let deadline = Instant::now() + PATIENCE;
        let mut seen = Vec::new();
        loop {
            let enough = seen.len() >= count || Instant::now() >= deadline;
            let iterator = self.iterator.clone().expect("an open shard");
            let output =
                self.client.get_records().shard_iterator(iterator).send().await.expect("get records");
            self.iterator = output.next_shard_iterator;
            for record in output.records.unwrap_or_default() {
                let change = record.dynamodb.expect("a change");
                let pk = change.keys.as_ref().and_then(|keys| keys.get("pk")).expect("a pk key");
                let pk = pk.as_s().expect("a string pk").clone();
                seen.push((change.sequence_number.expect("a sequence number"), pk));
            }
            if enough {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn pks(seen: &[Seen]) -> Vec<&str> {
    seen.iter().map(|(_, pk)| pk.as_str()).collect()
}

fn item(pk: &str) -> std::collections::HashMap<String, AttributeValue> {
    [("pk", pk), ("sk", "item")]
        .into_iter()
        .map(|(name, value)| (name.into(), AttributeValue::S(value.into())))
        .collect()
}

fn put_if_absent(table: &str, pk: &str) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item(pk)))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .expect("a put");
    TransactWriteItem::builder().put(put).build()
}

fn check_absent(table: &str, pk: &str) -> TransactWriteItem {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(item(pk)))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .expect("a condition check");
    TransactWriteItem::builder().condition_check(check).build()
}

#[tokio::test]
async fn a_cancelled_transaction_emits_no_record_and_hides_no_later_one() {
    let config = moto::sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let streams = aws_sdk_dynamodbstreams::Client::new(&config);
    let table = unique_name("stream-truth");
    let stream_arn =
        huddle_aws::provision::table(&dynamodb, &table, true).await.expect("create table").expect("a stream");
    let put = |pk: &str| dynamodb.put_item().table_name(&table).set_item(Some(item(pk))).send();

    put("first").await.expect("put first");
    let mut reader = Reader::open(&streams, &stream_arn).await;
    assert_eq!(pks(&reader.read(1).await), ["first"]);

    // The put passes its condition and the check after it fails: DynamoDB cancels the whole
    // transaction and records nothing.
    let cancelled = dynamodb
        .transact_write_items()
        .transact_items(put_if_absent(&table, "phantom"))
        .transact_items(check_absent(&table, "first"))
        .send()
        .await;
    assert!(
        matches!(
            &cancelled,
            Err(SdkError::ServiceError(e)) if matches!(e.err(), TransactWriteItemsError::TransactionCanceledException(_))
        ),
        "the transaction is cancelled: {cancelled:?}"
    );
    let phantom = dynamodb.get_item().table_name(&table).set_key(Some(item("phantom"))).send().await;
    assert!(phantom.expect("get item").item.is_none(), "the cancelled put left no item");

    put("second").await.expect("put second");
    dynamodb
        .transact_write_items()
        .transact_items(put_if_absent(&table, "third"))
        .transact_items(put_if_absent(&table, "fourth"))
        .send()
        .await
        .expect("a transaction whose conditions all hold");
    let after_the_cancel = reader.read(3).await;
    assert_eq!(pks(&after_the_cancel), ["second", "third", "fourth"], "every later write, no phantom");

    // A reader starting now sees the same records under the same sequence numbers: nothing the
    // first reader saw was rewound.
    let mut late_reader = Reader::open(&streams, &stream_arn).await;
    let history = late_reader.read(4).await;
    assert_eq!(pks(&history), ["first", "second", "third", "fourth"]);
    assert_eq!(history[1..], after_the_cancel[..]);
}
