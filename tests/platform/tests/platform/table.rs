use huddle_ports::{Condition, Item, Key, Query, SkRange, TableError, TransactWrite};
use huddle_test_support::{on_both_families, Family};
use serde_json::{json, Value};

fn item(pk: &str, sk: &str, extra: Value) -> Item {
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
    keys_past_dynamodbs_size_limits_are_refused_on_reads_too,
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
        let page = table.scan(after.as_ref(), 4).await.unwrap();
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
