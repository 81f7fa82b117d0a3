use huddle_ports::table::{
    item_size, MAX_BATCH_GETS, MAX_BATCH_WRITES, MAX_ITEM_BYTES, MAX_TRANSACTION_BYTES, MAX_TRANSACT_WRITES,
};
use huddle_ports::{
    BatchWrite, Condition, Item, Key, Query, Scan, Segment, SkRange, TableError, TransactWrite, EXPIRES_AT,
};
use huddle_test_support::{on_both_families, scan_all, Family};
use serde_json::{json, Value};

pub(crate) fn item(pk: &str, sk: &str, extra: Value) -> Item {
    let mut item = extra.as_object().cloned().unwrap_or_default();
    item.insert("pk".into(), pk.into());
    item.insert("sk".into(), sk.into());
    item
}

fn sks(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i["sk"].as_str().unwrap()).collect()
}

on_both_families!(
    get_put_delete_round_trip_json_values,
    conditional_put_and_delete,
    query_ranges_directions_and_cursors,
    add_creates_and_accumulates,
    transact_is_all_or_nothing_and_names_the_failing_write,
    transact_refuses_malformed_requests,
    scan_visits_every_item_in_key_order_per_partition,
    scan_segments_partition_the_table_by_partition_key,
    item_count_counts_the_tables_items,
    keys_past_dynamodbs_size_limits_are_refused_on_reads_too,
    items_over_400_kb_are_refused,
    transactions_over_4_mb_or_100_writes_are_refused,
    numbers_dynamodb_cannot_store_are_refused,
    numbers_compare_and_read_back_by_value,
    expired_items_stay_readable_until_deleted,
    batch_write_puts_and_deletes_up_to_25_items,
    batch_write_refuses_what_batch_write_item_refuses,
    batch_get_reads_up_to_100_keys_in_their_order,
    batch_get_refuses_what_batch_get_item_refuses,
    get_all_reads_any_number_of_keys_repeats_included,
    compound_and_optional_attribute_conditions,
);

async fn get_put_delete_round_trip_json_values(family: Family) {
    let table = family.backend().await.table(false).await;
    let key = Key::new("user#1", "profile");
    assert!(table.get(&key).await.unwrap().is_none());

    let stored = item(
        "user#1",
        "profile",
        json!({"name": "Ana", "age": 31, "ratio": 0.5, "tags": ["a", "b"], "nested": {"ok": true}, "none": null}),
    );
    table.put(stored.clone(), Condition::Always).await.unwrap();
    assert_eq!(table.get(&key).await.unwrap(), Some(stored));

    table.delete(&key, Condition::Always).await.unwrap();
    assert!(table.get(&key).await.unwrap().is_none());
    table.delete(&key, Condition::Always).await.expect("deleting nothing is fine");
}

async fn conditional_put_and_delete(family: Family) {
    let table = family.backend().await.table(false).await;
    let key = Key::new("p", "s");
    table.put(item("p", "s", json!({"v": 1})), Condition::NotExists).await.unwrap();
    let again = table.put(item("p", "s", json!({"v": 2})), Condition::NotExists).await;
    assert!(matches!(again, Err(TableError::ConditionFailed { .. })), "{again:?}");

    let stale = table.put(item("p", "s", json!({"v": 3})), Condition::attribute_equals("v", 2)).await;
    assert!(matches!(stale, Err(TableError::ConditionFailed { .. })), "{stale:?}");
    table.put(item("p", "s", json!({"v": 3})), Condition::attribute_equals("v", 1)).await.unwrap();

    let refused = table.delete(&key, Condition::attribute_equals("v", 1)).await;
    assert!(matches!(refused, Err(TableError::ConditionFailed { .. })), "{refused:?}");
    assert_eq!(table.get(&key).await.unwrap().unwrap()["v"], json!(3));
    table.delete(&key, Condition::attribute_equals("v", 3)).await.unwrap();
    assert!(table.get(&key).await.unwrap().is_none());

    let missing = table.put(item("p", "s", json!({})), Condition::attribute_equals("v", 3)).await;
    assert!(
        matches!(missing, Err(TableError::ConditionFailed { .. })),
        "equality needs an item: {missing:?}"
    );
}

async fn query_ranges_directions_and_cursors(family: Family) {
    let table = family.backend().await.table(false).await;
    for sk in ["a#1", "a#2", "a#3", "b#1", "b#2", "c"] {
        table.put(item("q", sk, json!({})), Condition::Always).await.unwrap();
    }
    table.put(item("other", "a#1", json!({})), Condition::Always).await.unwrap();

    let all = table.query(&Query::new("q")).await.unwrap();
    assert_eq!(sks(&all.items), ["a#1", "a#2", "a#3", "b#1", "b#2", "c"]);
    assert!(all.next.is_none());

    let prefix = table.query(&Query::new("q").range(SkRange::Prefix("a#".into()))).await.unwrap();
    assert_eq!(sks(&prefix.items), ["a#1", "a#2", "a#3"]);
    let between =
        table.query(&Query::new("q").range(SkRange::Between("a#2".into(), "b#1".into()))).await.unwrap();
    assert_eq!(sks(&between.items), ["a#2", "a#3", "b#1"]);
    let at_least = table.query(&Query::new("q").range(SkRange::AtLeast("b#2".into()))).await.unwrap();
    assert_eq!(sks(&at_least.items), ["b#2", "c"]);
    let at_most =
        table.query(&Query::new("q").range(SkRange::AtMost("a#1".into())).backward()).await.unwrap();
    assert_eq!(sks(&at_most.items), ["a#1"]);

    // Page backward through a prefix two at a time, as a newest-first feed would.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = table
            .query(&Query::new("q").range(SkRange::Prefix("a#".into())).backward().limit(2).after(after))
            .await
            .unwrap();
        seen.extend(sks(&page.items).into_iter().map(str::to_owned));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["a#3", "a#2", "a#1"]);
}

async fn add_creates_and_accumulates(family: Family) {
    let table = family.backend().await.table(false).await;
    let key = Key::new("counter", "likes");
    assert_eq!(table.add(&key, "count", 5).await.unwrap(), 5);
    assert_eq!(table.add(&key, "count", -2).await.unwrap(), 3);
    let stored = table.get(&key).await.unwrap().unwrap();
    assert_eq!(stored["count"], json!(3));

    let concurrent = (0..20).map(|_| {
        let table = table.clone();
        let key = key.clone();
        tokio::spawn(async move { table.add(&key, "count", 1).await.unwrap() })
    });
    let mut returned = futures::future::try_join_all(concurrent).await.unwrap();
    returned.sort_unstable();
    assert_eq!(returned, (4..=23).collect::<Vec<_>>(), "each add returns the value it made, none twice");
    assert_eq!(table.get(&key).await.unwrap().unwrap()["count"], json!(23));
}

async fn transact_is_all_or_nothing_and_names_the_failing_write(family: Family) {
    let table = family.backend().await.table(false).await;
    table.put(item("t", "existing", json!({"v": 1})), Condition::Always).await.unwrap();

    let failing = table
        .transact(vec![
            TransactWrite::Put { item: item("t", "new", json!({})), condition: Condition::NotExists },
            TransactWrite::Add { key: Key::new("t", "counter"), attribute: "n".into(), delta: 1 },
            TransactWrite::Put {
                item: item("t", "existing", json!({"v": 2})),
                condition: Condition::NotExists,
            },
        ])
        .await;
    assert!(matches!(failing, Err(TableError::ConditionFailed { index: Some(2) })), "{failing:?}");
    assert!(
        table.get(&Key::new("t", "new")).await.unwrap().is_none(),
        "nothing of a failed transaction lands"
    );
    assert!(table.get(&Key::new("t", "counter")).await.unwrap().is_none());

    table
        .transact(vec![
            TransactWrite::Put { item: item("t", "new", json!({})), condition: Condition::NotExists },
            TransactWrite::Add { key: Key::new("t", "counter"), attribute: "n".into(), delta: 1 },
            TransactWrite::Check {
                key: Key::new("t", "existing"),
                condition: Condition::attribute_equals("v", 1),
            },
            TransactWrite::Delete { key: Key::new("t", "gone"), condition: Condition::Always },
        ])
        .await
        .unwrap();
    assert!(table.get(&Key::new("t", "new")).await.unwrap().is_some());
    assert_eq!(table.get(&Key::new("t", "counter")).await.unwrap().unwrap()["n"], json!(1));

    let check_fails = table
        .transact(vec![
            TransactWrite::Check {
                key: Key::new("t", "existing"),
                condition: Condition::attribute_equals("v", 9),
            },
            TransactWrite::Delete { key: Key::new("t", "new"), condition: Condition::Always },
        ])
        .await;
    assert!(matches!(check_fails, Err(TableError::ConditionFailed { index: Some(0) })), "{check_fails:?}");
    assert!(table.get(&Key::new("t", "new")).await.unwrap().is_some());
}

async fn transact_refuses_malformed_requests(family: Family) {
    let table = family.backend().await.table(false).await;
    let same_key_twice = table
        .transact(vec![
            TransactWrite::Put { item: item("t", "k", json!({})), condition: Condition::Always },
            TransactWrite::Delete { key: Key::new("t", "k"), condition: Condition::Always },
        ])
        .await;
    assert!(matches!(same_key_twice, Err(TableError::Invalid(_))), "{same_key_twice:?}");
    assert!(matches!(table.transact(vec![]).await, Err(TableError::Invalid(_))));
    let keyless = table.put(json!({"pk": "only"}).as_object().unwrap().clone(), Condition::Always).await;
    assert!(matches!(keyless, Err(TableError::Invalid(_))), "{keyless:?}");
}

async fn scan_visits_every_item_in_key_order_per_partition(family: Family) {
    let table = family.backend().await.table(false).await;
    for pk in ["s#1", "s#2", "s#3"] {
        for sk in ["0001", "0002", "0003"] {
            table.put(item(pk, sk, json!({})), Condition::Always).await.unwrap();
        }
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut after: Option<Key> = None;
    loop {
        let page = table.scan(&Scan::default().limit(4).after(after.clone())).await.unwrap();
        seen.extend(
            page.items.iter().map(|i| (i["pk"].as_str().unwrap().into(), i["sk"].as_str().unwrap().into())),
        );
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9);
    for pk in ["s#1", "s#2", "s#3"] {
        let order: Vec<&str> = seen.iter().filter(|(p, _)| p == pk).map(|(_, s)| s.as_str()).collect();
        assert_eq!(order, ["0001", "0002", "0003"], "partition {pk}");
    }
}

async fn scan_segments_partition_the_table_by_partition_key(family: Family) {
    let table = family.backend().await.table(false).await;
    for p in 0..40 {
        for sk in ["0001", "0002"] {
            table.put(item(&format!("s#{p}"), sk, json!({})), Condition::Always).await.unwrap();
        }
    }
    let everything: Vec<Key> = scan_all(table.as_ref()).await.iter().filter_map(Key::of).collect();
    for total in [1, 3, 4] {
        let mut seen: Vec<Key> = Vec::new();
        let mut partitions_of = Vec::new();
        for segment in Segment::all(total).unwrap() {
            let mut keys: Vec<Key> = Vec::new();
            let mut after: Option<Key> = None;
            loop {
                let page = table.scan(&Scan::default().segment(segment).limit(7).after(after)).await.unwrap();
                keys.extend(page.items.iter().filter_map(Key::of));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            partitions_of
                .push(keys.iter().map(|key| key.pk.clone()).collect::<std::collections::BTreeSet<_>>());
            seen.extend(keys);
        }
        let visited = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(visited, seen.len(), "{total} segments: no item in two segments");
        assert_eq!(seen, everything, "{total} segments together visit the whole table");
        for (index, partitions) in partitions_of.iter().enumerate() {
            for other in &partitions_of[index + 1..] {
                assert!(
                    partitions.is_disjoint(other),
                    "{total} segments: a partition key in one segment only"
                );
            }
        }
        if total > 1 {
            let parts_with_items = partitions_of.iter().filter(|partitions| !partitions.is_empty()).count();
            assert!(parts_with_items > 1, "{total} segments split 40 partition keys: {partitions_of:?}");
        }
    }
    for (index, total) in [(0, 0), (3, 3), (0, Segment::MAX_TOTAL + 1)] {
        assert!(
            matches!(Segment::new(index, total), Err(TableError::Invalid(_))),
            "segment {index} of {total}"
        );
    }
}

async fn item_count_counts_the_tables_items(family: Family) {
    let table = family.backend().await.table(false).await;
    assert_eq!(table.approximate_item_count().await.unwrap(), 0);
    for p in 0..5 {
        table.put(item(&format!("c#{p}"), "0001", json!({})), Condition::Always).await.unwrap();
    }
    // DynamoDB refreshes its count about every six hours; moto and the embedded table count at once.
    assert_eq!(table.approximate_item_count().await.unwrap(), 5);
}

async fn keys_past_dynamodbs_size_limits_are_refused_on_reads_too(family: Family) {
    use huddle_ports::table::{MAX_PK_BYTES, MAX_SK_BYTES};
    let table = family.backend().await.table(false).await;
    let (widest_pk, widest_sk) = ("p".repeat(MAX_PK_BYTES), "s".repeat(MAX_SK_BYTES));
    table
        .put(item(&widest_pk, &widest_sk, json!({})), Condition::Always)
        .await
        .expect("the limits themselves fit");
    assert!(table.get(&Key::new(widest_pk.as_str(), widest_sk.as_str())).await.unwrap().is_some());

    for key in [Key::new("p".repeat(MAX_PK_BYTES + 1), "s"), Key::new("p", "s".repeat(MAX_SK_BYTES + 1))] {
        let refused = |result: Result<(), TableError>| matches!(result, Err(TableError::Invalid(_)));
        assert!(refused(table.get(&key).await.map(drop)), "get");
        assert!(refused(table.put(item(&key.pk, &key.sk, json!({})), Condition::Always).await), "put");
        assert!(refused(table.delete(&key, Condition::Always).await), "delete");
        assert!(refused(table.add(&key, "n", 1).await.map(drop)), "add");
        let write = TransactWrite::Check { key: key.clone(), condition: Condition::NotExists };
        assert!(refused(table.transact(vec![write]).await), "transact");
    }
    let query = Query::new("p".repeat(MAX_PK_BYTES + 1));
    assert!(matches!(table.query(&query).await, Err(TableError::Invalid(_))), "query");
}

/// A large item both families store: moto refuses items from 405,000 bytes, a little below
/// DynamoDB's limit ([`MAX_ITEM_BYTES`]).
const LARGE_ITEM_BYTES: usize = 400_000;

/// An item under `key` of exactly `bytes` by DynamoDB's count (its padding is a string).
pub(crate) fn item_of_size(pk: &str, sk: &str, bytes: usize) -> Item {
    let mut sized = item(pk, sk, json!({ "pad": "" }));
    let padding = bytes - item_size(&sized);
    sized.insert("pad".into(), "x".repeat(padding).into());
    assert_eq!(item_size(&sized), bytes);
    sized
}

fn is_invalid(result: &Result<(), TableError>) -> bool {
    matches!(result, Err(TableError::Invalid(_)))
}

async fn items_over_400_kb_are_refused(family: Family) {
    let table = family.backend().await.table(false).await;
    let over = table.put(item_of_size("big", "over", MAX_ITEM_BYTES + 1), Condition::Always).await;
    assert!(is_invalid(&over), "{over:?}");
    let in_transaction = table
        .transact(vec![
            TransactWrite::Put { item: item("big", "small", json!({})), condition: Condition::Always },
            TransactWrite::Put {
                item: item_of_size("big", "over", MAX_ITEM_BYTES + 1),
                condition: Condition::Always,
            },
        ])
        .await;
    assert!(is_invalid(&in_transaction), "{in_transaction:?}");
    for sk in ["over", "small"] {
        assert!(table.get(&Key::new("big", sk)).await.unwrap().is_none(), "{sk} was not written");
    }
    let large = item_of_size("big", "large", LARGE_ITEM_BYTES);
    table.put(large.clone(), Condition::Always).await.unwrap();
    assert_eq!(table.get(&Key::new("big", "large")).await.unwrap(), Some(large));
}

async fn transactions_over_4_mb_or_100_writes_are_refused(family: Family) {
    let table = family.backend().await.table(false).await;
    let puts = |count: usize, bytes: usize| -> Vec<TransactWrite> {
        (0..count)
            .map(|n| TransactWrite::Put {
                item: item_of_size("tx", &format!("{n:03}"), bytes),
                condition: Condition::Always,
            })
            .collect()
    };
    let bytes = LARGE_ITEM_BYTES;
    assert!((10 * bytes..11 * bytes).contains(&MAX_TRANSACTION_BYTES));
    let too_heavy = table.transact(puts(11, bytes)).await;
    assert!(is_invalid(&too_heavy), "11 items of {bytes} bytes: {too_heavy:?}");
    let too_many = table.transact(puts(MAX_TRANSACT_WRITES + 1, 20)).await;
    assert!(is_invalid(&too_many), "{too_many:?}");
    assert!(table.query(&Query::new("tx")).await.unwrap().items.is_empty(), "nothing was written");

    table.transact(puts(10, bytes)).await.expect("10 items of the same size fit");
    table.transact(puts(MAX_TRANSACT_WRITES, 20)).await.expect("100 writes fit");
}

async fn numbers_dynamodb_cannot_store_are_refused(family: Family) {
    let table = family.backend().await.table(false).await;
    // DynamoDB stores magnitudes from 1E-130 to just below 1E+126.
    let largest = f64::from_bits(1e126_f64.to_bits() - 1);
    for unstorable in [json!(1e126), json!(-1e300), json!(1e-131), json!({ "nested": [f64::MAX] })] {
        let put = table.put(item("n", "bad", json!({ "n": unstorable })), Condition::Always).await;
        assert!(is_invalid(&put), "{unstorable}: {put:?}");
        let write = TransactWrite::Put {
            item: item("n", "bad", json!({ "n": unstorable })),
            condition: Condition::Always,
        };
        let transaction = table.transact(vec![write]).await;
        assert!(is_invalid(&transaction), "{unstorable}: {transaction:?}");
    }
    assert!(table.get(&Key::new("n", "bad")).await.unwrap().is_none());

    let extremes = item(
        "n",
        "ok",
        json!({ "large": largest, "small": -1e-130, "min": i64::MIN, "max": u64::MAX, "zero": 0 }),
    );
    table.put(extremes.clone(), Condition::Always).await.unwrap();
    assert_eq!(table.get(&Key::new("n", "ok")).await.unwrap(), Some(extremes));
}

async fn numbers_compare_and_read_back_by_value(family: Family) {
    let table = family.backend().await.table(false).await;
    let key = Key::new("num", "v");
    // DynamoDB keeps decimals, not integers and floats: 1.0 reads back as 1.
    table
        .put(item("num", "v", json!({ "v": 1.0, "half": 0.5, "list": [2.0] })), Condition::Always)
        .await
        .unwrap();
    assert_eq!(
        table.get(&key).await.unwrap(),
        Some(item("num", "v", json!({ "v": 1, "half": 0.5, "list": [2] })))
    );

    let refused = table.put(item("num", "v", json!({ "v": 2 })), Condition::attribute_equals("v", 10)).await;
    assert!(matches!(refused, Err(TableError::ConditionFailed { .. })), "{refused:?}");
    table.put(item("num", "v", json!({ "v": 2 })), Condition::attribute_equals("v", 1)).await.unwrap();
    table.put(item("num", "v", json!({ "v": 3 })), Condition::attribute_equals("v", 2.0)).await.unwrap();
    let check = |value: Value| TransactWrite::Check {
        key: key.clone(),
        condition: Condition::attribute_equals("v", value),
    };
    table.transact(vec![check(json!(3.0))]).await.expect("3.0 equals 3");
    let unequal = table.transact(vec![check(json!(3.5))]).await;
    assert!(matches!(unequal, Err(TableError::ConditionFailed { index: Some(0) })), "{unequal:?}");
    let text = table.transact(vec![check(json!("3"))]).await;
    assert!(
        matches!(text, Err(TableError::ConditionFailed { index: Some(0) })),
        "a string is no number: {text:?}"
    );
}

async fn expired_items_stay_readable_until_deleted(family: Family) {
    // DynamoDB's TTL deletes an expired item eventually (typically within two days), and until
    // then reads, queries and scans return it. Code that must not see it checks the time
    // (`is_expired`, `Condition::AbsentOrExpired`), as the event store does.
    let table = family.backend().await.table(false).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expired = item("ttl", "gone", json!({ EXPIRES_AT: now - 60 }));
    table.put(expired.clone(), Condition::Always).await.unwrap();
    assert_eq!(table.get(&Key::new("ttl", "gone")).await.unwrap(), Some(expired.clone()));
    assert_eq!(table.query(&Query::new("ttl")).await.unwrap().items, std::slice::from_ref(&expired));
    assert_eq!(scan_all(table.as_ref()).await, [expired]);

    let replaced = item("ttl", "gone", json!({ EXPIRES_AT: now + 3600 }));
    let condition = Condition::AbsentOrExpired { name: EXPIRES_AT.into(), now };
    table.put(replaced.clone(), condition.clone()).await.expect("an expired item counts as absent");
    let live = table.put(replaced, condition).await;
    assert!(matches!(live, Err(TableError::ConditionFailed { .. })), "{live:?}");
}

async fn batch_write_puts_and_deletes_up_to_25_items(family: Family) {
    let table = family.backend().await.table(false).await;
    let puts: Vec<_> = (0..MAX_BATCH_WRITES)
        .map(|n| BatchWrite::Put(item("inbox", &format!("{n:02}"), json!({ "n": n }))))
        .collect();
    table.batch_write(puts).await.unwrap();
    let stored = table.query(&Query::new("inbox")).await.unwrap().items;
    assert_eq!(stored.len(), MAX_BATCH_WRITES);
    assert_eq!(stored[24], item("inbox", "24", json!({ "n": 24 })));

    // Deletes (one of a key never written) and puts that replace, together.
    let mut mixed: Vec<_> =
        (0..10).map(|n| BatchWrite::Delete(Key::new("inbox", format!("{n:02}")))).collect();
    mixed.push(BatchWrite::Delete(Key::new("inbox", "never")));
    mixed.push(BatchWrite::Put(item("inbox", "24", json!({ "n": "replaced" }))));
    mixed.push(BatchWrite::Put(item("elsewhere", "x", json!({}))));
    table.batch_write(mixed).await.unwrap();
    let stored = table.query(&Query::new("inbox")).await.unwrap().items;
    assert_eq!(sks(&stored), (10..25).map(|n| format!("{n:02}")).collect::<Vec<_>>());
    assert_eq!(stored[14]["n"], "replaced");
    assert!(table.get(&Key::new("elsewhere", "x")).await.unwrap().is_some());
}

async fn batch_write_refuses_what_batch_write_item_refuses(family: Family) {
    let table = family.backend().await.table(false).await;
    let put = |sk: &str| BatchWrite::Put(item("batch", sk, json!({})));
    let too_many: Vec<_> = (0..=MAX_BATCH_WRITES).map(|n| put(&format!("{n:02}"))).collect();
    let mut keyless = item("batch", "keyless", json!({}));
    keyless.remove("sk");
    let refused = [
        ("26 writes", too_many),
        ("no write", vec![]),
        ("two on one key", vec![put("a"), BatchWrite::Delete(Key::new("batch", "a"))]),
        (
            "an item over 400 KB",
            vec![put("b"), BatchWrite::Put(item_of_size("batch", "big", MAX_ITEM_BYTES + 1))],
        ),
        ("an item without a sort key", vec![put("c"), BatchWrite::Put(keyless)]),
        (
            "a key over its limit",
            vec![
                put("d"),
                BatchWrite::Delete(Key::new("batch", "k".repeat(huddle_ports::table::MAX_SK_BYTES + 1))),
            ],
        ),
        (
            "a number DynamoDB cannot store",
            vec![put("e"), BatchWrite::Put(item("batch", "f", json!({ "n": 1e300 })))],
        ),
    ];
    for (what, writes) in refused {
        let result = table.batch_write(writes).await;
        assert!(is_invalid(&result), "{what}: {result:?}");
    }
    assert!(table.query(&Query::new("batch")).await.unwrap().items.is_empty(), "nothing was written");
}

async fn batch_get_reads_up_to_100_keys_in_their_order(family: Family) {
    let table = family.backend().await.table(false).await;
    // Every other key is written, some items large (the whole batch nears 1 MB, DynamoDB's page
    // of a Query, which a batch of reads is not held to).
    let writes: Vec<BatchWrite> = (0..MAX_BATCH_GETS)
        .step_by(2)
        .map(|n| {
            let padding = if n % 10 == 0 { "x".repeat(100_000) } else { String::new() };
            BatchWrite::Put(item(
                &format!("shelf#{}", n % 7),
                &format!("{n:03}"),
                json!({ "n": n, "padding": padding }),
            ))
        })
        .collect();
    for batch in writes.chunks(MAX_BATCH_WRITES) {
        table.batch_write(batch.to_vec()).await.unwrap();
    }
    let keys: Vec<Key> =
        (0..MAX_BATCH_GETS).rev().map(|n| Key::new(format!("shelf#{}", n % 7), format!("{n:03}"))).collect();
    let found = table.batch_get(&keys).await.unwrap();
    assert_eq!(found.len(), MAX_BATCH_GETS);
    for (key, found) in keys.iter().zip(&found) {
        let n: usize = key.sk.parse().unwrap();
        match found {
            Some(item) => {
                assert_eq!((n % 2, item["n"].as_u64(), &item["sk"]), (0, Some(n as u64), &json!(key.sk)))
            }
            None => assert_eq!(n % 2, 1, "{key:?} was written"),
        }
    }
}

async fn batch_get_refuses_what_batch_get_item_refuses(family: Family) {
    let table = family.backend().await.table(false).await;
    let key = |n: usize| Key::new("reads", format!("{n:03}"));
    let refused = [
        ("101 keys", (0..=MAX_BATCH_GETS).map(key).collect::<Vec<_>>()),
        ("no key", vec![]),
        ("one key twice", vec![key(1), key(2), key(1)]),
        (
            "a key over its limit",
            vec![key(1), Key::new("reads", "k".repeat(huddle_ports::table::MAX_SK_BYTES + 1))],
        ),
    ];
    for (what, keys) in refused {
        let result = table.batch_get(&keys).await;
        assert!(matches!(result, Err(TableError::Invalid(_))), "{what}: {result:?}");
    }
}

async fn get_all_reads_any_number_of_keys_repeats_included(family: Family) {
    let table = family.backend().await.table(false).await;
    let writes: Vec<BatchWrite> =
        (0..25).map(|n| BatchWrite::Put(item("many", &format!("{n:03}"), json!({ "n": n })))).collect();
    table.batch_write(writes).await.unwrap();
    // 250 keys, each of 0..50 five times (the first 25 written), more than two batches.
    let keys: Vec<Key> = (0..250).map(|n| Key::new("many", format!("{:03}", n % 50))).collect();
    let found = huddle_ports::get_all(table.as_ref(), &keys).await.unwrap();
    let numbers: Vec<Option<u64>> =
        found.iter().map(|item| item.as_ref().and_then(|item| item["n"].as_u64())).collect();
    let expected: Vec<Option<u64>> = (0..250u64).map(|n| Some(n % 50).filter(|n| *n < 25)).collect();
    assert_eq!(numbers, expected);
    assert!(huddle_ports::get_all(table.as_ref(), &[]).await.unwrap().is_empty(), "no keys, no read");
}

async fn compound_and_optional_attribute_conditions(family: Family) {
    let table = family.backend().await.table(false).await;
    let key = Key::new("lease", "checkpoint");
    let absent_or_equals =
        |value: i64| Condition::AttributeAbsentOrEquals { name: "version".into(), value: json!(value) };
    let absent_or_below = |value: i64| Condition::AttributeAbsentOrBelow { name: "until".into(), value };
    let both = |version: i64, now: i64| Condition::All(vec![absent_or_equals(version), absent_or_below(now)]);

    // No item: both hold (and so does their conjunction).
    table.put(item("lease", "checkpoint", json!({ "version": 0, "until": 100 })), both(7, 0)).await.unwrap();
    let failed = |result: Result<(), TableError>| matches!(result, Err(TableError::ConditionFailed { .. }));
    assert!(
        failed(table.put(item("lease", "checkpoint", json!({})), both(0, 100)).await),
        "until 100 is not below 100"
    );
    assert!(
        failed(table.put(item("lease", "checkpoint", json!({})), both(1, 101)).await),
        "version 0 is not 1"
    );
    table.put(item("lease", "checkpoint", json!({ "version": 1 })), both(0, 101)).await.unwrap();

    // An item without `until`: absent-or-below holds whatever the bound.
    assert!(table
        .transact(vec![TransactWrite::Check { key: key.clone(), condition: absent_or_below(i64::MIN) }])
        .await
        .is_ok());
    // Nested, single and empty conjunctions, as DynamoDB parses them (it refuses `((a))`).
    let numbers_by_value = Condition::All(vec![
        Condition::All(vec![absent_or_equals(1)]),
        Condition::All(vec![Condition::All(vec![]), Condition::attribute_equals("version", 1.0)]),
        Condition::All(vec![Condition::All(vec![Condition::Always])]),
    ]);
    table.delete(&key, numbers_by_value).await.unwrap();
    assert!(table.get(&key).await.unwrap().is_none());

    // Inside a transaction, a failing conjunction names its write.
    table.put(item("lease", "other", json!({ "version": 5 })), Condition::Always).await.unwrap();
    let result = table
        .transact(vec![
            TransactWrite::Put { item: item("lease", "new", json!({})), condition: Condition::All(vec![]) },
            TransactWrite::Check { key: Key::new("lease", "other"), condition: both(5, 0) },
            TransactWrite::Check { key: Key::new("lease", "other"), condition: both(4, 0) },
        ])
        .await;
    assert!(is_invalid(&result), "two writes on one key are refused first: {result:?}");
    let result = table
        .transact(vec![
            TransactWrite::Put { item: item("lease", "new", json!({})), condition: Condition::All(vec![]) },
            TransactWrite::Check { key: Key::new("lease", "other"), condition: both(4, 0) },
        ])
        .await;
    assert!(matches!(result, Err(TableError::ConditionFailed { index: Some(1) })), "{result:?}");
    assert!(table.get(&Key::new("lease", "new")).await.unwrap().is_none());
}
