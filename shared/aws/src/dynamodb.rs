//! The Table port on DynamoDB. Reads are strongly consistent: commands validate against what
//! was last written, and projectors read their own checkpoints.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, DeleteRequest, KeysAndAttributes, Put, PutRequest, ReturnValue,
    TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use huddle_ports::table::{
    validate_batch, validate_batch_get, validate_item, validate_key, validate_pk, validate_transaction,
};
use huddle_ports::{
    BatchWrite, Condition, Direction, Item, Key, Page, Query, Scan, Segment, SkRange, Table, TableError,
    TransactWrite, EXPIRES_AT,
};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

type Attributes = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    name: String,
}

impl DynamoTable {
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self { client, name: name.into() }
    }
}

/// How a batch's `UnprocessedItems` are sent again: after a pause that doubles from `first_pause`
/// (each one jittered down to as little as half, so throttled writers spread out), at most
/// `attempts` sends in all, as AWS advises for BatchWriteItem.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    first_pause: Duration,
    attempts: u32,
}

/// 8 sends, pausing 50 ms, 100 ms, ... 3.2 s between them: about 6 s in all before giving up.
const UNPROCESSED_BACKOFF: Backoff = Backoff { first_pause: Duration::from_millis(50), attempts: 8 };

/// Sends `pending` with `send` (which returns the writes it left unprocessed) until none is
/// left, pausing as `backoff` says; still some after the last attempt is
/// [`TableError::Unavailable`] (throttled: safe to retry, the writes being unconditional).
async fn send_until_processed<W, F, Sent>(
    mut pending: Vec<W>,
    backoff: Backoff,
    mut send: F,
) -> Result<(), TableError>
where
    F: FnMut(Vec<W>) -> Sent,
    Sent: Future<Output = Result<Vec<W>, TableError>>,
{
    let mut pause = backoff.first_pause;
    for attempt in 1..=backoff.attempts {
        pending = send(pending).await?;
        if pending.is_empty() {
            return Ok(());
        }
        if attempt < backoff.attempts {
            tokio::time::sleep(pause.mul_f64(rand::random_range(0.5..=1.0))).await;
            pause *= 2;
        }
    }
    Err(TableError::Unavailable(format!(
        "{} batched requests still unprocessed after {} attempts",
        pending.len(),
        backoff.attempts
    )))
}

fn to_attributes(item: &Item) -> Result<Attributes, TableError> {
    serde_dynamo::to_item(item).map_err(|e| TableError::Invalid(format!("item not storable: {e}")))
}

fn to_value(value: &serde_json::Value) -> Result<AttributeValue, TableError> {
    serde_dynamo::to_attribute_value(value)
        .map_err(|e| TableError::Invalid(format!("value not storable: {e}")))
}

fn from_attributes(attributes: Attributes) -> Result<Item, TableError> {
    serde_dynamo::from_item(attributes).map_err(|e| TableError::Unavailable(format!("unreadable item: {e}")))
}

fn key_attributes(key: &Key) -> Attributes {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(key.pk.clone())),
        ("sk".to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

fn key_from(attributes: Option<Attributes>) -> Option<Key> {
    let attributes = attributes?;
    let text = |name: &str| attributes.get(name)?.as_s().ok().cloned();
    Some(Key { pk: text("pk")?, sk: text("sk")? })
}

/// A condition as a DynamoDB expression with its names and values.
#[derive(Default)]
struct Expression {
    text: String,
    names: HashMap<String, String>,
    values: Attributes,
}

fn condition_expression(condition: &Condition) -> Result<Option<Expression>, TableError> {
    if *condition == Condition::Always {
        return Ok(None);
    }
    let mut expression = Expression::default();
    expression.text = expression.clause(condition)?;
    Ok(Some(expression))
}

impl Expression {
    /// The text of `condition`, its names and values added under placeholders numbered apart, so
    /// the clauses of [`Condition::All`] never collide. The text is never parenthesized as a
    /// whole: DynamoDB refuses redundant parentheses (`((a))`).
    fn clause(&mut self, condition: &Condition) -> Result<String, TableError> {
        let number = self.names.len();
        let (name, value) = (format!("#c{number}"), format!(":c{number}"));
        let (attribute, operand, text) = match condition {
            Condition::Always => return Ok("attribute_exists(pk) OR attribute_not_exists(pk)".into()),
            Condition::NotExists => return Ok("attribute_not_exists(pk)".into()),
            Condition::All(conditions) if conditions.is_empty() => return self.clause(&Condition::Always),
            Condition::All(conditions) if conditions.len() == 1 => return self.clause(&conditions[0]),
            Condition::All(conditions) => {
                let mut clauses = Vec::with_capacity(conditions.len());
                for condition in conditions {
                    clauses.push(format!("({})", self.clause(condition)?));
                }
                return Ok(clauses.join(" AND "));
            }
            Condition::AttributeEquals { name: attribute, value: operand } => {
                (attribute, to_value(operand)?, format!("{name} = {value}"))
            }
            Condition::AbsentOrExpired { name: attribute, now } => (
                attribute,
                AttributeValue::N(now.to_string()),
                format!("attribute_not_exists(pk) OR {name} < {value}"),
            ),
            Condition::AttributeAbsentOrEquals { name: attribute, value: operand } => {
                (attribute, to_value(operand)?, format!("attribute_not_exists({name}) OR {name} = {value}"))
            }
            Condition::AttributeAbsentOrBelow { name: attribute, value: operand } => (
                attribute,
                AttributeValue::N(operand.to_string()),
                format!("attribute_not_exists({name}) OR {name} < {value}"),
            ),
        };
        self.names.insert(name, attribute.clone());
        self.values.insert(value, operand);
        Ok(text)
    }
}

fn non_empty<T>(map: HashMap<String, T>) -> Option<HashMap<String, T>> {
    (!map.is_empty()).then_some(map)
}

/// Maps the errors every operation can return; `ConditionalCheckFailed` is the caller's to map.
fn service_error<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> TableError {
    match error.code() {
        Some("ConditionalCheckFailedException") => TableError::ConditionFailed { index: None },
        Some("TransactionConflictException") => TableError::TransactionConflict,
        Some("ValidationException") => TableError::Invalid(error.message().unwrap_or_default().to_owned()),
        _ => TableError::Unavailable(format!("{error:?}")),
    }
}

fn transaction_error(error: SdkError<TransactWriteItemsError>) -> TableError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() {
        let reasons = cancelled.cancellation_reasons();
        if let Some(index) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
            return TableError::ConditionFailed { index: Some(index) };
        }
        if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
            return TableError::TransactionConflict;
        }
        return TableError::Unavailable(format!("transaction cancelled: {reasons:?}"));
    }
    service_error(error)
}

impl DynamoTable {
    /// `ADD` to a number attribute; with `expires_at`, a new item also gets its expiry.
    async fn update_add(
        &self,
        key: &Key,
        attribute: &str,
        delta: i64,
        expires_at: Option<i64>,
    ) -> Result<i64, TableError> {
        validate_key(key)?;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_attributes(key)))
            .expression_attribute_names("#attr", attribute)
            .expression_attribute_values(":delta", AttributeValue::N(delta.to_string()))
            .return_values(ReturnValue::UpdatedNew);
        update = match expires_at {
            None => update.update_expression("ADD #attr :delta"),
            Some(expires_at) => update
                .update_expression("ADD #attr :delta SET #exp = if_not_exists(#exp, :exp)")
                .expression_attribute_names("#exp", EXPIRES_AT)
                .expression_attribute_values(":exp", AttributeValue::N(expires_at.to_string())),
        };
        let output = update.send().await.map_err(service_error)?;
        output
            .attributes
            .and_then(|mut attributes| attributes.remove(attribute))
            .and_then(|value| value.as_n().ok().and_then(|n| n.parse().ok()))
            .ok_or_else(|| TableError::Unavailable("ADD returned no number".into()))
    }

    fn transact_item(&self, write: &TransactWrite) -> Result<TransactWriteItem, TableError> {
        let built = |e: aws_sdk_dynamodb::error::BuildError| TableError::Invalid(e.to_string());
        Ok(match write {
            TransactWrite::Put { item, condition } => {
                let expression = condition_expression(condition)?;
                let (text, names, values) = split(expression);
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.name)
                            .set_item(Some(to_attributes(item)?))
                            .set_condition_expression(text)
                            .set_expression_attribute_names(names)
                            .set_expression_attribute_values(values)
                            .build()
                            .map_err(built)?,
                    )
                    .build()
            }
            TransactWrite::Delete { key, condition } => {
                let (text, names, values) = split(condition_expression(condition)?);
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(&self.name)
                            .set_key(Some(key_attributes(key)))
                            .set_condition_expression(text)
                            .set_expression_attribute_names(names)
                            .set_expression_attribute_values(values)
                            .build()
                            .map_err(built)?,
                    )
                    .build()
            }
            TransactWrite::Add { key, attribute, delta } => TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.name)
                        .set_key(Some(key_attributes(key)))
                        .update_expression("ADD #attr :delta")
                        .expression_attribute_names("#attr", attribute)
                        .expression_attribute_values(":delta", AttributeValue::N(delta.to_string()))
                        .build()
                        .map_err(built)?,
                )
                .build(),
            TransactWrite::Check { key, condition } => {
                let (text, names, values) = split(condition_expression(condition)?);
                TransactWriteItem::builder()
                    .condition_check(
                        ConditionCheck::builder()
                            .table_name(&self.name)
                            .set_key(Some(key_attributes(key)))
                            .condition_expression(
                                text.unwrap_or_else(|| {
                                    "attribute_exists(pk) OR attribute_not_exists(pk)".into()
                                }),
                            )
                            .set_expression_attribute_names(names)
                            .set_expression_attribute_values(values)
                            .build()
                            .map_err(built)?,
                    )
                    .build()
            }
        })
    }
}

#[allow(clippy::type_complexity)]
fn split(
    expression: Option<Expression>,
) -> (Option<String>, Option<HashMap<String, String>>, Option<Attributes>) {
    match expression {
        None => (None, None, None),
        Some(e) => (Some(e.text), non_empty(e.names), non_empty(e.values)),
    }
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        validate_key(key)?;
        let output = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(service_error)?;
        output.item.map(from_attributes).transpose()
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        validate_item(&item)?;
        let (text, names, values) = split(condition_expression(&condition)?);
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(to_attributes(&item)?))
            .set_condition_expression(text)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await
            .map_err(service_error)?;
        Ok(())
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        validate_key(key)?;
        let (text, names, values) = split(condition_expression(&condition)?);
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_attributes(key)))
            .set_condition_expression(text)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await
            .map_err(service_error)?;
        Ok(())
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        validate_pk(&query.pk)?;
        let mut values = HashMap::from([(":pk".to_owned(), AttributeValue::S(query.pk.clone()))]);
        let s = |text: &String| AttributeValue::S(text.clone());
        let key_condition = match &query.range {
            SkRange::All => "pk = :pk",
            SkRange::Prefix(prefix) => {
                values.insert(":low".into(), s(prefix));
                "pk = :pk AND begins_with(sk, :low)"
            }
            SkRange::Between(low, high) => {
                values.insert(":low".into(), s(low));
                values.insert(":high".into(), s(high));
                "pk = :pk AND sk BETWEEN :low AND :high"
            }
            SkRange::AtLeast(low) => {
                values.insert(":low".into(), s(low));
                "pk = :pk AND sk >= :low"
            }
            SkRange::AtMost(high) => {
                values.insert(":high".into(), s(high));
                "pk = :pk AND sk <= :high"
            }
        };
        let output = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression(key_condition)
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(query.direction == Direction::Forward)
            .limit(query.limit.clamp(1, i32::MAX as usize) as i32)
            .set_exclusive_start_key(query.after.as_ref().map(key_attributes))
            .consistent_read(true)
            .send()
            .await
            .map_err(service_error)?;
        let items =
            output.items.unwrap_or_default().into_iter().map(from_attributes).collect::<Result<_, _>>()?;
        Ok(Page { items, next: key_from(output.last_evaluated_key) })
    }

    async fn scan(&self, scan: &Scan) -> Result<Page, TableError> {
        let whole = scan.segment == Segment::WHOLE;
        let output = self
            .client
            .scan()
            .table_name(&self.name)
            .limit(scan.limit.clamp(1, i32::MAX as usize) as i32)
            .set_exclusive_start_key(scan.after.as_ref().map(key_attributes))
            // A whole-table scan sends no segment, so it runs on emulators without parallel scan.
            .set_segment((!whole).then_some(scan.segment.index() as i32))
            .set_total_segments((!whole).then_some(scan.segment.total() as i32))
            .consistent_read(true)
            .send()
            .await
            .map_err(service_error)?;
        let items =
            output.items.unwrap_or_default().into_iter().map(from_attributes).collect::<Result<_, _>>()?;
        Ok(Page { items, next: key_from(output.last_evaluated_key) })
    }

    async fn approximate_item_count(&self) -> Result<u64, TableError> {
        let output =
            self.client.describe_table().table_name(&self.name).send().await.map_err(service_error)?;
        let count = output.table.and_then(|table| table.item_count).unwrap_or(0);
        Ok(count.max(0) as u64)
    }

    async fn add(&self, key: &Key, attribute: &str, delta: i64) -> Result<i64, TableError> {
        self.update_add(key, attribute, delta, None).await
    }

    async fn add_expiring(
        &self,
        key: &Key,
        attribute: &str,
        delta: i64,
        expires_at: i64,
    ) -> Result<i64, TableError> {
        self.update_add(key, attribute, delta, Some(expires_at)).await
    }

    /// BatchWriteItem, sending what DynamoDB leaves unprocessed (throttled partitions) again
    /// with [`UNPROCESSED_BACKOFF`].
    async fn batch_write(&self, writes: Vec<BatchWrite>) -> Result<(), TableError> {
        validate_batch(&writes)?;
        let requests = writes.iter().map(write_request).collect::<Result<Vec<_>, _>>()?;
        send_until_processed(requests, UNPROCESSED_BACKOFF, |requests| async move {
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.name, requests)
                .send()
                .await
                .map_err(service_error)?;
            Ok(output.unprocessed_items.and_then(|mut tables| tables.remove(&self.name)).unwrap_or_default())
        })
        .await
    }

    /// BatchGetItem, strongly consistent, asking again for what DynamoDB leaves unprocessed (over
    /// 16 MB, or throttled) with [`UNPROCESSED_BACKOFF`].
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        validate_batch_get(keys)?;
        let found = std::sync::Mutex::new(HashMap::new());
        let requests = keys.iter().map(key_attributes).collect();
        send_until_processed(requests, UNPROCESSED_BACKOFF, |requests| {
            let found = &found;
            async move {
                let wanted = KeysAndAttributes::builder()
                    .set_keys(Some(requests))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| TableError::Invalid(e.to_string()))?;
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.name, wanted)
                    .send()
                    .await
                    .map_err(service_error)?;
                for attributes in
                    output.responses.and_then(|mut tables| tables.remove(&self.name)).unwrap_or_default()
                {
                    let item = from_attributes(attributes)?;
                    let key = Key::of(&item)
                        .ok_or_else(|| TableError::Invalid("an item without its key".into()))?;
                    found.lock().expect("not poisoned").insert(key, item);
                }
                Ok(output
                    .unprocessed_keys
                    .and_then(|mut tables| tables.remove(&self.name))
                    .map(|unprocessed| unprocessed.keys)
                    .unwrap_or_default())
            }
        })
        .await?;
        let mut found = found.into_inner().expect("not poisoned");
        Ok(keys.iter().map(|key| found.remove(key)).collect())
    }

    async fn transact(&self, writes: Vec<TransactWrite>) -> Result<(), TableError> {
        validate_transaction(&writes)?;
        let items = writes.iter().map(|w| self.transact_item(w)).collect::<Result<Vec<_>, _>>()?;
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(transaction_error)?;
        Ok(())
    }
}

fn write_request(write: &BatchWrite) -> Result<WriteRequest, TableError> {
    let built = |e: aws_sdk_dynamodb::error::BuildError| TableError::Invalid(e.to_string());
    Ok(match write {
        BatchWrite::Put(item) => WriteRequest::builder()
            .put_request(PutRequest::builder().set_item(Some(to_attributes(item)?)).build().map_err(built)?)
            .build(),
        BatchWrite::Delete(key) => WriteRequest::builder()
            .delete_request(
                DeleteRequest::builder().set_key(Some(key_attributes(key))).build().map_err(built)?,
            )
            .build(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    const QUICK: Backoff = Backoff { first_pause: Duration::from_millis(1), attempts: 4 };

    /// DynamoDB's answer to a throttled batch, played by a closure: it processes at most
    /// `per_send` writes of each send and returns the rest, recording what every send carried.
    fn throttled(
        per_send: usize,
        sends: &Mutex<Vec<Vec<u32>>>,
    ) -> impl FnMut(Vec<u32>) -> std::future::Ready<Result<Vec<u32>, TableError>> + '_ {
        move |mut pending: Vec<u32>| {
            sends.lock().unwrap().push(pending.clone());
            let unprocessed = pending.split_off(per_send.min(pending.len()));
            std::future::ready(Ok(unprocessed))
        }
    }

    #[tokio::test]
    async fn unprocessed_writes_are_sent_again_until_none_is_left() {
        let sends = Mutex::new(Vec::new());
        send_until_processed((0..10).collect(), QUICK, throttled(4, &sends)).await.unwrap();
        assert_eq!(*sends.lock().unwrap(), [(0..10).collect::<Vec<_>>(), (4..10).collect(), vec![8, 9]]);
    }

    #[tokio::test]
    async fn requests_still_unprocessed_after_the_last_attempt_are_unavailable() {
        let sends = Mutex::new(Vec::new());
        let result = send_until_processed((0..10).collect(), QUICK, throttled(0, &sends)).await;
        assert!(
            matches!(&result, Err(TableError::Unavailable(why)) if why.contains("10 batched requests")),
            "{result:?}"
        );
        assert_eq!(sends.lock().unwrap().len(), QUICK.attempts as usize);
    }

    #[tokio::test]
    async fn an_error_ends_the_retries_at_once() {
        let mut sends = 0;
        let result = send_until_processed(vec![1], QUICK, |_| {
            sends += 1;
            std::future::ready(Err::<Vec<u32>, _>(TableError::Invalid("refused".into())))
        })
        .await;
        assert!(matches!(result, Err(TableError::Invalid(_))), "{result:?}");
        assert_eq!(sends, 1);
    }

    #[test]
    fn all_conditions_number_their_placeholders_apart() {
        let condition = Condition::All(vec![
            Condition::attribute_equals("version", 3),
            Condition::AttributeAbsentOrBelow { name: "lease_until".into(), value: 7 },
            Condition::All(vec![Condition::NotExists, Condition::attribute_equals("lease", "t")]),
            Condition::All(vec![Condition::All(vec![])]),
        ]);
        let expression = condition_expression(&condition).unwrap().unwrap();
        assert_eq!(
            expression.text,
            "(#c0 = :c0) AND (attribute_not_exists(#c1) OR #c1 < :c1) AND ((attribute_not_exists(pk)) AND (#c2 = :c2)) \
             AND (attribute_exists(pk) OR attribute_not_exists(pk))"
        );
        assert_eq!(expression.names.len(), 3);
        assert_eq!(expression.values[":c1"], AttributeValue::N("7".into()));
    }
}
