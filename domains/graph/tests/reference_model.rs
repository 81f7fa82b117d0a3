//! A randomized run of the graph against a reference model: random follows, requests and their
//! answers, blocks, mutes and tier changes among a few accounts (two of them locked), made
//! through the graph's command role as HTTP requests on a real event store, each answer compared
//! with what the model says; every event then delivered to the projector twice over, in
//! shuffled batches; and every list (paged through the query role), count and `may_view`
//! answer compared with what plain sets say. The seed is printed; `HUDDLE_TEST_SEED=N` repeats
//! a run.

use huddle_catalog::accounts::{account_stream, AccountEvent};
use huddle_catalog::graph::Tier;
use huddle_delivery::testing::deliver_until_applied;
use huddle_delivery::Projector;
use huddle_domain::{command_role, query_role, Domain, DomainPorts};
use huddle_embedded::{Database, SqliteTable};
use huddle_eventstore::{encode, Envelope, EventStore, ExpectedVersion, Metadata};
use huddle_graph::read_model::{counts_key, FOLLOWERS_COUNT, FOLLOWING_COUNT};
use huddle_graph::visibility::{Audience, GraphReader};
use huddle_graph::GraphDomain;
use huddle_http::HttpFunction;
use huddle_ports::{Scan, Table};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use strum::VariantArray;

const ACCOUNTS: usize = 6;
/// The accounts whose follows are requests.
const LOCKED: [usize; 2] = [1, 4];
const TIERS: [Tier; 3] = [Tier::CloseFriends, Tier::Friends, Tier::Acquaintances];

type Pair = (usize, usize);

/// What the graph should hold, as plain sets of account indexes.
#[derive(Default)]
struct Model {
    follows: BTreeSet<Pair>,
    requests: BTreeSet<Pair>,
    blocks: BTreeSet<Pair>,
    mutes: BTreeSet<Pair>,
    /// (owner, tier) → members: a member of a tier is a member of every wider one.
    tiers: BTreeMap<(usize, Tier), BTreeSet<usize>>,
    erased: BTreeSet<usize>,
}

impl Model {
    /// `account` is gone: every relationship with it, both ways.
    fn erase(&mut self, account: usize) {
        self.erased.insert(account);
        for pairs in [&mut self.follows, &mut self.requests, &mut self.blocks, &mut self.mutes] {
            pairs.retain(|(from, to)| *from != account && *to != account);
        }
        self.tiers.retain(|(owner, _), _| *owner != account);
        for members in self.tiers.values_mut() {
            members.remove(&account);
        }
    }

    fn blocked_either_way(&self, a: usize, b: usize) -> bool {
        self.blocks.contains(&(a, b)) || self.blocks.contains(&(b, a))
    }

    fn in_tier(&self, owner: usize, tier: Tier, member: usize) -> bool {
        self.tiers.get(&(owner, tier)).is_some_and(|members| members.contains(&member))
    }

    fn narrowest(&self, owner: usize, member: usize) -> Option<Tier> {
        TIERS.into_iter().find(|tier| self.in_tier(owner, *tier, member))
    }

    /// Into a tier is into every wider one; out of a tier is out of every narrower one.
    fn change_tier(&mut self, owner: usize, member: usize, tier: Tier, put: bool) {
        for other in TIERS {
            let members = self.tiers.entry((owner, other)).or_default();
            if put && tier.within(other) {
                members.insert(member);
            } else if !put && other.within(tier) {
                members.remove(&member);
            }
        }
    }

    /// The relationship the command answers with, `a`'s with `b`.
    fn relationship(&self, ids: &[String], a: usize, b: usize) -> Value {
        json!({
            "id": ids[b],
            "following": self.follows.contains(&(a, b)),
            "requested": self.requests.contains(&(a, b)),
            "followed_by": self.follows.contains(&(b, a)),
            "blocking": self.blocks.contains(&(a, b)),
            "blocked_by": self.blocks.contains(&(b, a)),
            "muting": self.mutes.contains(&(a, b)),
            "tier": self.narrowest(a, b),
        })
    }

    fn may_view(&self, viewer: usize, author: usize, audience: Audience) -> bool {
        if viewer == author {
            return true;
        }
        if self.blocked_either_way(viewer, author) {
            return false;
        }
        let follows = self.follows.contains(&(viewer, author));
        match audience.tier() {
            None if audience == Audience::Public => true,
            None => follows,
            Some(tier) => follows && self.in_tier(author, tier, viewer),
        }
    }
}

/// The graph's roles over one in-memory database, and the accounts they know.
struct Graph {
    events: EventStore,
    read_model: Arc<dyn Table>,
    command: Arc<dyn HttpFunction>,
    query: Arc<dyn HttpFunction>,
    projector: Projector,
    ids: Vec<String>,
}

impl Graph {
    async fn new() -> Self {
        let db = Database::in_memory().unwrap();
        let events_table: Arc<dyn Table> = Arc::new(SqliteTable::new(&db, "events", true));
        let read_model: Arc<dyn Table> = Arc::new(SqliteTable::new(&db, "graph", false));
        let ports = DomainPorts::new(events_table, read_model.clone(), b"the reference model's secret");
        let projector =
            Projector::new(GraphDomain.projection(&ports), read_model.clone(), ports.events.clone());
        let ids: Vec<String> = (0..ACCOUNTS).map(|_| format!("acc_{}", ulid::Ulid::new())).collect();
        // The accounts domain's events, as far as the graph reads them (registrations are
        // written unsealed here: the graph needs no key to count them).
        for (n, id) in ids.iter().enumerate() {
            let registered = AccountEvent::AccountRegistered {
                username: format!("user{n}"),
                email: format!("user{n}@example.com"),
                password_hash: "not a hash".into(),
                display_name: Some(format!("User {n}")),
            };
            let mut events = vec![encode(&registered)];
            if LOCKED.contains(&n) {
                events.push(encode(&AccountEvent::LockChanged { locked: true }));
            }
            let metadata = Metadata::new("model");
            ports
                .events
                .append(&account_stream(id), ExpectedVersion::NoStream, events, &metadata, None)
                .await
                .unwrap();
        }
        Self {
            events: ports.events.clone(),
            read_model,
            command: command_role(&GraphDomain, &ports),
            query: query_role(&GraphDomain, &ports),
            projector,
            ids,
        }
    }

    /// The accounts domain's record of `account`'s erasure.
    async fn erase(&self, account: usize) {
        let erased = vec![encode(&AccountEvent::AccountErased)];
        let metadata = Metadata::new("model");
        self.events
            .append(&account_stream(&self.ids[account]), ExpectedVersion::Any, erased, &metadata, None)
            .await
            .unwrap();
    }

    /// `method route` as account `caller`, with the route's path parameters and query.
    async fn call(
        &self,
        function: &dyn HttpFunction,
        (method, route): (&str, &str),
        caller: usize,
        parameters: &[(&str, &str)],
        query: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut path = route.to_owned();
        for (name, value) in parameters {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let event = json!({
            "version": "2.0",
            "routeKey": format!("{method} {route}"),
            "rawPath": path,
            "rawQueryString": query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"),
            "headers": {},
            "queryStringParameters": query.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "pathParameters": parameters.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "requestContext": {
                "accountId": "123456789012", "apiId": "model", "domainName": "model", "domainPrefix": "model",
                "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "model" },
                "requestId": ulid::Ulid::new().to_string(), "routeKey": format!("{method} {route}"), "stage": "$default",
                "time": "03/Dec/2026:10:00:00 +0000", "timeEpoch": 1796292000000_u64,
                "authorizer": { "lambda": { "account_id": self.ids[caller], "username": format!("user{caller}") } },
            },
            "isBase64Encoded": false,
        });
        let request = lambda_http::request::from_str(&event.to_string()).expect("an HttpApi request");
        let response = function.call(request).await;
        let status = response.status().as_u16();
        let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
        (status, body)
    }

    /// A command between `a` and `b`.
    async fn change(
        &self,
        (method, route): (&str, &str),
        a: usize,
        b: usize,
        tier: Option<Tier>,
    ) -> (u16, Value) {
        let tier_name: Option<&'static str> = tier.map(Into::into);
        let mut parameters = vec![("account_id", self.ids[b].as_str())];
        parameters.extend(tier_name.map(|name| ("tier", name)));
        self.call(self.command.as_ref(), (method, route), a, &parameters, &[]).await
    }

    /// Every id in a list the query role pages, as `caller` sees it, walking every cursor.
    async fn list(&self, route: &str, caller: usize, parameters: &[(&str, &str)]) -> BTreeSet<usize> {
        let mut listed = BTreeSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "2")];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let (status, page) =
                self.call(self.query.as_ref(), ("GET", route), caller, parameters, &query).await;
            assert_eq!(status, 200, "{route}: {page}");
            for item in page["items"].as_array().unwrap() {
                let id = item["id"].as_str().unwrap();
                let n = self.ids.iter().position(|known| known == id).unwrap();
                assert_eq!(item["username"], json!(format!("user{n}")), "the card of {id}");
                assert!(listed.insert(n), "{route} listed {id} twice");
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return listed,
            }
        }
    }
}

fn pick(rng: &mut StdRng) -> usize {
    rng.random_range(0..ACCOUNTS)
}

const FOLLOW: (&str, &str) = ("PUT", "/v1/me/following/{account_id}");
const UNFOLLOW: (&str, &str) = ("DELETE", "/v1/me/following/{account_id}");
const ACCEPT: (&str, &str) = ("POST", "/v1/me/follow-requests/{account_id}/accept");
const REJECT: (&str, &str) = ("POST", "/v1/me/follow-requests/{account_id}/reject");
const BLOCK: (&str, &str) = ("PUT", "/v1/me/blocks/{account_id}");
const UNBLOCK: (&str, &str) = ("DELETE", "/v1/me/blocks/{account_id}");
const MUTE: (&str, &str) = ("PUT", "/v1/me/mutes/{account_id}");
const UNMUTE: (&str, &str) = ("DELETE", "/v1/me/mutes/{account_id}");
const PUT_TIER: (&str, &str) = ("PUT", "/v1/me/audiences/{tier}/{account_id}");
const REMOVE_TIER: (&str, &str) = ("DELETE", "/v1/me/audiences/{tier}/{account_id}");

/// One random command through the command role, applied to the model by hand; the command's
/// status, and its relationship when it answers one, must be what the model says.
async fn step(rng: &mut StdRng, graph: &Graph, model: &mut Model, context: &str) {
    let (a, b) = (pick(rng), pick(rng));
    // An erased account makes no more requests (its tokens are revoked).
    if model.erased.contains(&a) {
        return;
    }
    // Now and then an account is erased, as the accounts domain records it.
    if rng.random_ratio(1, 60) && model.erased.len() < 2 {
        graph.erase(a).await;
        model.erase(a);
        return;
    }
    let gone = model.erased.contains(&b);
    if a == b {
        let (status, body) = graph.change(FOLLOW, a, b, None).await;
        assert_eq!(status, 422, "{context}: following yourself: {body}");
        return;
    }
    let blocked = model.blocked_either_way(a, b);
    let (route, tier, expected_status) = match rng.random_range(0..12) {
        0..=2 => {
            if !gone && !blocked && !model.follows.contains(&(a, b)) && !model.requests.contains(&(a, b)) {
                if LOCKED.contains(&b) {
                    model.requests.insert((a, b));
                } else {
                    model.follows.insert((a, b));
                }
            }
            (
                FOLLOW,
                None,
                if gone {
                    404
                } else if blocked {
                    403
                } else {
                    200
                },
            )
        }
        3 => {
            model.follows.remove(&(a, b));
            model.requests.remove(&(a, b));
            (UNFOLLOW, None, 204)
        }
        // `a` answers `b`'s request.
        4 => {
            let accept = rng.random_bool(0.5);
            let pending = model.requests.remove(&(b, a));
            if pending && accept {
                model.follows.insert((b, a));
            }
            match (accept, pending) {
                (_, _) if gone => (if accept { ACCEPT } else { REJECT }, None, 404),
                (_, false) => (if accept { ACCEPT } else { REJECT }, None, 404),
                (true, true) => (ACCEPT, None, 200),
                (false, true) => (REJECT, None, 204),
            }
        }
        5 | 6 => {
            let on = rng.random_bool(0.7);
            if on && gone {
                (BLOCK, None, 404)
            } else if on {
                model.blocks.insert((a, b));
                for pair in [(a, b), (b, a)] {
                    model.follows.remove(&pair);
                    model.requests.remove(&pair);
                }
                model.change_tier(a, b, Tier::Acquaintances, false);
                (BLOCK, None, 200)
            } else {
                model.blocks.remove(&(a, b));
                (UNBLOCK, None, 204)
            }
        }
        7 => {
            let on = rng.random_bool(0.6);
            if on && gone {
                (MUTE, None, 404)
            } else if on {
                model.mutes.insert((a, b));
                (MUTE, None, 200)
            } else {
                model.mutes.remove(&(a, b));
                (UNMUTE, None, 204)
            }
        }
        _ => {
            let tier = TIERS[rng.random_range(0..TIERS.len())];
            let on = rng.random_bool(0.6);
            if on && gone {
                (PUT_TIER, Some(tier), 404)
            } else if on {
                if !blocked {
                    model.change_tier(a, b, tier, true);
                }
                (PUT_TIER, Some(tier), if blocked { 403 } else { 200 })
            } else {
                model.change_tier(a, b, tier, false);
                (REMOVE_TIER, Some(tier), 204)
            }
        }
    };
    let (status, body) = graph.change(route, a, b, tier).await;
    let what = format!("{context}: {} {} as {a} of {b} ({tier:?})", route.0, route.1);
    assert_eq!(status, expected_status, "{what}: {body}");
    if status == 200 {
        // The caller's relationship (an accept's: with the account it let in).
        assert_eq!(body, model.relationship(&graph.ids, a, b), "{what}");
    }
}

/// Every event of the log (pair streams, account streams, the erasure steps the projection
/// appends as it goes), each twice, in shuffled batches of up to ten, round after round until a
/// round appends nothing new.
async fn deliver_twice_shuffled(rng: &mut StdRng, graph: &Graph) {
    let mut delivered = BTreeSet::new();
    loop {
        let mut envelopes: Vec<Envelope> = Vec::new();
        let mut after = None;
        loop {
            let page = graph.events.scan(&Scan::default().limit(500).after(after)).await.unwrap();
            envelopes.extend(page.events.into_iter().map(|event| event.decode().unwrap()));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        envelopes.retain(|envelope| delivered.insert((envelope.stream.clone(), envelope.version)));
        if envelopes.is_empty() {
            return;
        }
        deliver_round(rng, graph, envelopes).await;
    }
}

/// How often a message that failed is delivered again, as SQS would, before the run fails: two
/// projections that end one relationship at once (an unfollow and an erasure step) fail one
/// another's transaction, and the one applied again does nothing.
const REDELIVERIES: usize = 5;

async fn deliver_round(rng: &mut StdRng, graph: &Graph, envelopes: Vec<Envelope>) {
    let mut deliveries: Vec<Envelope> = envelopes.iter().chain(envelopes.iter()).cloned().collect();
    deliveries.shuffle(rng);
    deliver_until_applied(&graph.projector, deliveries, REDELIVERIES).await;
}

fn owned_by(pairs: &BTreeSet<Pair>, owner: usize, outgoing: bool) -> BTreeSet<usize> {
    pairs
        .iter()
        .filter(|(from, to)| if outgoing { *from == owner } else { *to == owner })
        .map(|(from, to)| if outgoing { *to } else { *from })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphs_use_cases_lists_counts_and_visibility_match_a_model_of_plain_sets() {
    let seed: u64 =
        std::env::var("HUDDLE_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("reference_model: seed {seed}; rerun with HUDDLE_TEST_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    for round in 0..12 {
        let graph = Graph::new().await;
        let mut model = Model::default();
        let context = |what: &str| format!("seed {seed}, round {round}: {what}");
        for n in 0..150 {
            step(&mut rng, &graph, &mut model, &context(&format!("step {n}"))).await;
        }
        deliver_twice_shuffled(&mut rng, &graph).await;

        let reader = GraphReader::new(graph.read_model.clone());
        for owner in 0..ACCOUNTS {
            let id = graph.ids[owner].as_str();
            let lists = [
                ("/v1/accounts/{id}/followers", vec![("id", id)], owned_by(&model.follows, owner, false)),
                ("/v1/accounts/{id}/following", vec![("id", id)], owned_by(&model.follows, owner, true)),
                ("/v1/me/follow-requests", vec![], owned_by(&model.requests, owner, false)),
                ("/v1/me/blocks", vec![], owned_by(&model.blocks, owner, true)),
                ("/v1/me/mutes", vec![], owned_by(&model.mutes, owner, true)),
            ];
            for (route, parameters, expected) in lists {
                assert_eq!(graph.list(route, owner, &parameters).await, expected, "{}", context(route));
            }
            for tier in TIERS {
                let name: &'static str = tier.into();
                let members: BTreeSet<usize> =
                    (0..ACCOUNTS).filter(|member| model.in_tier(owner, tier, *member)).collect();
                let listed = graph.list("/v1/me/audiences/{tier}", owner, &[("tier", name)]).await;
                assert_eq!(listed, members, "{}", context(name));
            }
            let counts = graph.read_model.get(&counts_key(id)).await.unwrap().unwrap_or_default();
            // An erased account's counts are shown nowhere: only the others' must be exact.
            let count = |name: &str| match model.erased.contains(&owner) {
                true => 0,
                false => {
                    usize::try_from(counts.get(name).and_then(Value::as_i64).unwrap_or(0)).expect("a count")
                }
            };
            assert_eq!(
                count(FOLLOWERS_COUNT),
                owned_by(&model.follows, owner, false).len(),
                "{}",
                context("followers count")
            );
            assert_eq!(
                count(FOLLOWING_COUNT),
                owned_by(&model.follows, owner, true).len(),
                "{}",
                context("following count")
            );
            for viewer in 0..ACCOUNTS {
                for audience in Audience::VARIANTS.iter().copied() {
                    assert_eq!(
                        reader.may_view(&graph.ids[viewer], id, audience).await.unwrap(),
                        model.may_view(viewer, owner, audience),
                        "{}",
                        context(&format!("may {viewer} view {owner}'s {audience:?}"))
                    );
                }
                if viewer != owner {
                    let related = reader.relationship(id, &graph.ids[viewer]).await.unwrap();
                    let related = serde_json::to_value(related).unwrap();
                    assert_eq!(
                        related,
                        model.relationship(&graph.ids, owner, viewer),
                        "{}",
                        context("relationship")
                    );
                }
            }
        }
    }
}
