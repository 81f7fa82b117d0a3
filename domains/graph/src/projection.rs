//! The projector role: the pair streams' events into the read table (see `read_model`), and of
//! the accounts' events what the graph shows and decides on (`AccountCard`). Each event's writes
//! follow from the event and the item its own stream keeps (a relationship's edge, an account's
//! card), which only that stream writes, so reading it before writing is safe under the
//! projector's per-stream order.

use crate::read_model::{
    account_key, counts_key, edge_key, mirror_key, relations_partition, AccountCard, List, ENTRY_ID,
    ENTRY_SINCE_MS, FOLLOWERS_COUNT, FOLLOWING_COUNT, MIRROR_SUFFIX,
};
use async_trait::async_trait;
use huddle_catalog::accounts::{account_of_stream, AccountEvent};
use huddle_catalog::graph::{
    erased_account_of, erasure_stream, pair_of, AudienceEvent, BlockEvent, ErasureEvent, FollowEvent,
    MuteEvent, Tier, AUDIENCE, BLOCK, FOLLOW, MUTE,
};
use huddle_delivery::{open_personal, Projected, Projection, ProjectionError};
use huddle_eventstore::{
    decode, encode, AppendError, Envelope, EventSchema, EventStore, ExpectedVersion, Metadata,
};
use huddle_ports::{Condition, Item, Key, Query, Table, TransactWrite};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use strum::VariantArray;

pub struct GraphProjection {
    /// Opens the sealed fields of account events (the display name) with the account's key.
    pub events: EventStore,
}

/// What a relationship's own item holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Edge {
    pub since_ms: i64,
    /// A follow that waits for the followee's answer.
    #[serde(default)]
    pub requested: bool,
    /// The member's narrowest tier (an `audience#` edge).
    #[serde(default)]
    pub tier: Option<Tier>,
    /// When the member joined each tier it is in: the narrowest and every wider one.
    #[serde(default)]
    pub tiers: BTreeMap<Tier, i64>,
}

impl Edge {
    pub(crate) fn of(item: &Item) -> Option<Edge> {
        serde_json::from_value(serde_json::Value::Object(item.clone())).ok()
    }
}

fn put(key: Key, attributes: serde_json::Value) -> TransactWrite {
    TransactWrite::Put { item: key.item(attributes), condition: Condition::Always }
}

fn put_edge(key: &Key, edge: &Edge) -> TransactWrite {
    put(key.clone(), serde_json::to_value(edge).expect("edges serialize"))
}

/// A list entry: who, and since when.
fn put_entry(list: List, owner: &str, since_ms: i64, other: &str) -> TransactWrite {
    put(list.entry(owner, since_ms, other), json!({ ENTRY_ID: other, ENTRY_SINCE_MS: since_ms }))
}

fn delete(key: Key) -> TransactWrite {
    TransactWrite::Delete { key, condition: Condition::Always }
}

fn add(account: &str, attribute: &str, delta: i64) -> TransactWrite {
    TransactWrite::Add { key: counts_key(account), attribute: attribute.into(), delta }
}

fn decoded<E: EventSchema + DeserializeOwned>(event: &Envelope) -> Result<E, ProjectionError> {
    decode(event).map_err(|e| ProjectionError::Invalid(e.to_string()))
}

/// What one event of a pair stream changes, decoded.
#[derive(Debug, Clone, Copy)]
enum PairChange {
    Follow(FollowEvent),
    Block(bool),
    Mute(bool),
    /// The member's narrowest tier from now on, if any.
    Audience(Option<Tier>),
}

impl PairChange {
    fn of(kind: &str, event: &Envelope) -> Result<Self, ProjectionError> {
        Ok(match kind {
            FOLLOW => PairChange::Follow(decoded(event)?),
            BLOCK => PairChange::Block(decoded::<BlockEvent>(event)? == BlockEvent::Blocked),
            MUTE => PairChange::Mute(decoded::<MuteEvent>(event)? == MuteEvent::Muted),
            AUDIENCE => PairChange::Audience(match decoded::<AudienceEvent>(event)? {
                AudienceEvent::AudienceSet { tier } => Some(tier),
                AudienceEvent::AudienceCleared => None,
            }),
            _ => unreachable!("pair_of names only the graph's kinds"),
        })
    }

    /// The change that ends the relationship of `kind` whose own item is `edge`: what the graph
    /// makes of it when one of the two accounts is erased.
    fn ending(kind: &str, edge: &Edge) -> Option<Self> {
        Some(match kind {
            FOLLOW if edge.requested => PairChange::Follow(FollowEvent::FollowRequestWithdrawn),
            FOLLOW => PairChange::Follow(FollowEvent::Unfollowed),
            BLOCK => PairChange::Block(false),
            MUTE => PairChange::Mute(false),
            AUDIENCE => PairChange::Audience(None),
            _ => return None,
        })
    }
}

/// How many relationships of an erased account one erasure step ends: each takes up to six
/// writes of the step's transaction (the edge, its mirror, two list entries, two counts).
pub const ERASURE_PAGE: usize = 15;

/// The attribute of an account's card that says it was erased.
const ERASED: &str = "erased";

#[async_trait]
impl Projection for GraphProjection {
    async fn project(&self, event: &Envelope, read_model: &dyn Table) -> Result<Projected, ProjectionError> {
        if let Some(account) = account_of_stream(&event.stream) {
            return self.project_account(account, event, read_model).await;
        }
        if let Some(account) = erased_account_of(&event.stream) {
            return self.erasure_step(account, event, read_model).await;
        }
        let Some((kind, from, to)) = pair_of(&event.stream) else {
            return Err(ProjectionError::Invalid(format!(
                "{} is not a stream the graph keeps",
                event.stream
            )));
        };
        let change = PairChange::of(kind, event)?;
        let edge = read_model.get(&edge_key(kind, from, to)).await?.as_ref().and_then(Edge::of);
        let mut writes = pair_writes(change, kind, (from, to), edge, event_ms(event));
        // What makes or keeps a relationship rests on neither account being erased: once one is
        // (its card says so before its erasure reads its relationships), the event projects
        // nothing, and a transaction that read the card before it was marked fails its check
        // and is applied again.
        if writes.iter().any(|write| matches!(write, TransactWrite::Put { .. })) {
            let (one, other) =
                futures::try_join!(AccountCard::read(read_model, from), AccountCard::read(read_model, to))?;
            if [one, other].iter().flatten().any(|card| card.erased) {
                return Ok(Projected::nothing());
            }
            for account in [from, to] {
                let not_erased =
                    Condition::AttributeAbsentOrEquals { name: ERASED.into(), value: false.into() };
                writes.push(TransactWrite::Check { key: account_key(account), condition: not_erased });
            }
        }
        Ok(writes.into())
    }
}

fn event_ms(event: &Envelope) -> i64 {
    (event.occurred_at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The writes of `change` to the relationship of `kind` from `from` to `to`, whose own item was
/// `edge`: its own item and its mirror, its list entries and the follow counts. An edge is
/// deleted only as it was read, so two changes that end one relationship at once (an unfollow
/// and its account's erasure) never both count it out: the second fails and is applied again.
fn pair_writes(
    change: PairChange,
    kind: &str,
    (from, to): (&str, &str),
    edge: Option<Edge>,
    now_ms: i64,
) -> Vec<TransactWrite> {
    let edge_key = edge_key(kind, from, to);
    let began =
        |requested: bool| put_edge(&edge_key, &Edge { since_ms: now_ms, requested, ..Edge::default() });
    let writes = match change {
        PairChange::Follow(FollowEvent::FollowRequested) => {
            vec![began(true), put_entry(List::FollowRequests, to, now_ms, from)]
        }
        PairChange::Follow(accepted @ (FollowEvent::Followed | FollowEvent::FollowRequestAccepted)) => {
            let mut writes = vec![
                began(false),
                put_entry(List::Followers, to, now_ms, from),
                put_entry(List::Following, from, now_ms, to),
                add(to, FOLLOWERS_COUNT, 1),
                add(from, FOLLOWING_COUNT, 1),
            ];
            if let (FollowEvent::FollowRequestAccepted, Some(request)) = (accepted, &edge) {
                writes.push(delete(List::FollowRequests.entry(to, request.since_ms, from)));
            }
            writes
        }
        PairChange::Follow(FollowEvent::FollowRequestRejected | FollowEvent::FollowRequestWithdrawn) => {
            match &edge {
                Some(request) => vec![
                    delete_edge(&edge_key, request),
                    delete(List::FollowRequests.entry(to, request.since_ms, from)),
                ],
                None => vec![],
            }
        }
        PairChange::Follow(FollowEvent::Unfollowed) => match &edge {
            Some(follow) => vec![
                delete_edge(&edge_key, follow),
                delete(List::Followers.entry(to, follow.since_ms, from)),
                delete(List::Following.entry(from, follow.since_ms, to)),
                add(to, FOLLOWERS_COUNT, -1),
                add(from, FOLLOWING_COUNT, -1),
            ],
            None => vec![],
        },
        PairChange::Block(on) => switched(on, List::Blocks, &edge_key, edge, (from, to), now_ms),
        PairChange::Mute(on) => switched(on, List::Mutes, &edge_key, edge, (from, to), now_ms),
        PairChange::Audience(narrowest) => tiers_changed(&edge_key, edge, narrowest, (from, to), now_ms),
    };
    with_mirror(writes, &edge_key, &mirror_key(kind, from, to))
}

impl GraphProjection {
    /// One step of taking an erased account out of the graph: the first page of what its
    /// partition still holds (every relationship, both ways) ended in this step's transaction,
    /// and the next step appended, which the projector applies only after this one. A step that
    /// finds nothing is the last.
    async fn erasure_step(
        &self,
        account: &str,
        event: &Envelope,
        read_model: &dyn Table,
    ) -> Result<Projected, ProjectionError> {
        let page = read_model.query(&Query::new(relations_partition(account)).limit(ERASURE_PAGE)).await?;
        if page.items.is_empty() {
            return Ok(Projected::nothing());
        }
        let mut writes = Vec::new();
        // One relationship with each other account a step: a transaction changes an item once,
        // and two with one account would both change its counts item (the next step takes the
        // other).
        let mut others = std::collections::HashSet::new();
        for item in &page.items {
            let sk = item.get("sk").and_then(serde_json::Value::as_str).unwrap_or_default();
            let Some((other, kind)) = sk.split_once('#') else { continue };
            if !others.insert(other) {
                continue;
            }
            let (kind, from, to) = match kind.strip_suffix(MIRROR_SUFFIX) {
                Some(kind) => (kind, other, account),
                None => (kind, account, other),
            };
            let edge =
                Edge::of(item).ok_or_else(|| ProjectionError::Invalid(format!("a corrupt edge {sk}")))?;
            if let Some(ending) = PairChange::ending(kind, &edge) {
                writes.extend(pair_writes(ending, kind, (from, to), Some(edge), event_ms(event)));
            }
        }
        // The erased account's own counts are left as they are: nothing shows them any more, and
        // every relationship of the step would change them.
        let own_counts = counts_key(account);
        writes.retain(|write| !matches!(write, TransactWrite::Add { key, .. } if *key == own_counts));
        let (next, metadata) = (vec![encode(&ErasureEvent::ErasureStepped)], caused_by(event));
        let after_this = ExpectedVersion::Exact(event.version);
        match self.events.append(&event.stream, after_this, next, &metadata, None).await {
            // A step applied again (its transaction failed) finds the next one appended already.
            Ok(_) | Err(AppendError::Conflict { .. }) => Ok(writes.into()),
            Err(error) => Err(error.into()),
        }
    }
}

/// The metadata of what the graph appends as it applies `event`.
fn caused_by(event: &Envelope) -> Metadata {
    Metadata::new(event.correlation_id.clone()).actor("system:graph").caused_by(event.event_id.to_string())
}

/// The delete of a relationship's own item as it was read.
fn delete_edge(edge_key: &Key, was: &Edge) -> TransactWrite {
    TransactWrite::Delete {
        key: edge_key.clone(),
        condition: Condition::attribute_equals("since_ms", was.since_ms),
    }
}

impl GraphProjection {
    /// An account's card: made at registration, kept current; at erasure, marked erased (its
    /// name and display name gone) and the erasure's first step appended.
    async fn project_account(
        &self,
        account: &str,
        event: &Envelope,
        read_model: &dyn Table,
    ) -> Result<Projected, ProjectionError> {
        let Some(opened) = open_personal::<AccountEvent>(&self.events, event).await? else {
            return Ok(Projected::nothing());
        };
        let card = || async { Ok::<_, ProjectionError>(AccountCard::live(read_model, account).await?) };
        let changed = |card: AccountCard| {
            vec![TransactWrite::Put { item: card.item(account), condition: Condition::Always }]
        };
        Ok(match opened {
            AccountEvent::AccountRegistered { username, display_name, .. } => {
                changed(AccountCard { username, display_name, locked: false, erased: false })
            }
            AccountEvent::ProfileUpdated { display_name, .. } => match card().await? {
                Some(card) => changed(AccountCard { display_name, ..card }),
                None => vec![],
            },
            AccountEvent::LockChanged { locked } => match card().await? {
                Some(card) => changed(AccountCard { locked, ..card }),
                None => vec![],
            },
            AccountEvent::AccountErased => {
                // Marked before the first step reads anything, and directly (a repeat is the same
                // put): from here on no relationship of the account is made (see `project`).
                let erased = AccountCard { erased: true, ..AccountCard::default() };
                read_model.put(erased.item(account), Condition::Always).await?;
                // Each application starts a step: a replay sweeps again after the mark.
                let first = vec![encode(&ErasureEvent::ErasureStepped)];
                let stream = erasure_stream(account);
                self.events.append(&stream, ExpectedVersion::Any, first, &caused_by(event), None).await?;
                vec![]
            }
            AccountEvent::PasswordChanged { .. }
            | AccountEvent::LegacySubjectLinked { .. }
            | AccountEvent::LegacySubjectUnlinked { .. } => vec![],
        }
        .into())
    }
}

/// `writes`, with each write of a relationship's own item (`own`) made on its mirror too.
fn with_mirror(writes: Vec<TransactWrite>, own: &Key, mirror: &Key) -> Vec<TransactWrite> {
    let mut all = Vec::with_capacity(writes.len() + 1);
    for write in writes {
        let mirrored = match &write {
            TransactWrite::Put { item, condition } if Key::of(item).as_ref() == Some(own) => {
                let mut item = item.clone();
                item.extend(mirror.item(serde_json::Value::Null));
                Some(TransactWrite::Put { item, condition: condition.clone() })
            }
            TransactWrite::Delete { key, condition } if key == own => {
                Some(TransactWrite::Delete { key: mirror.clone(), condition: condition.clone() })
            }
            _ => None,
        };
        all.push(write);
        all.extend(mirrored);
    }
    all
}

/// The writes of an on/off relation (a block, a mute) from `from` to `to` turned `on` or off:
/// its own item and its entry in the owner's list.
fn switched(
    on: bool,
    list: List,
    edge_key: &Key,
    edge: Option<Edge>,
    (from, to): (&str, &str),
    now_ms: i64,
) -> Vec<TransactWrite> {
    match (on, edge) {
        (true, Some(_)) => vec![],
        (true, None) => vec![
            put_edge(edge_key, &Edge { since_ms: now_ms, ..Edge::default() }),
            put_entry(list, from, now_ms, to),
        ],
        (false, Some(was)) => vec![delete_edge(edge_key, &was), delete(list.entry(from, was.since_ms, to))],
        (false, None) => vec![],
    }
}

/// The writes that make `member`'s tiers in `owner`'s lists those of `narrowest` (and every
/// wider tier), from those `was` recorded: a tier it stays in keeps its entry and its date.
fn tiers_changed(
    edge_key: &Key,
    edge: Option<Edge>,
    narrowest: Option<Tier>,
    (owner, member): (&str, &str),
    now_ms: i64,
) -> Vec<TransactWrite> {
    let was = edge.clone().unwrap_or_default();
    let mut writes = Vec::new();
    let mut tiers = BTreeMap::new();
    for &tier in Tier::VARIANTS {
        let member_now = narrowest.is_some_and(|narrowest| narrowest.within(tier));
        match (was.tiers.get(&tier), member_now) {
            (Some(&since), true) => {
                tiers.insert(tier, since);
            }
            (None, true) => {
                tiers.insert(tier, now_ms);
                writes.push(put_entry(List::Tier(tier), owner, now_ms, member));
            }
            (Some(&since), false) => writes.push(delete(List::Tier(tier).entry(owner, since, member))),
            (None, false) => {}
        }
    }
    match (narrowest, &edge) {
        (Some(tier), _) => writes
            .push(put_edge(edge_key, &Edge { since_ms: now_ms, tier: Some(tier), tiers, ..Edge::default() })),
        (None, Some(was)) => writes.push(delete_edge(edge_key, was)),
        (None, None) => {}
    }
    writes
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_catalog::graph::pair_stream;
    use huddle_delivery::Projector;
    use huddle_embedded::{Database, SqliteTable};
    use huddle_eventstore::{encode, EventStore, ExpectedVersion, Metadata};
    use huddle_ports::Query;
    use serde_json::Value;
    use std::sync::Arc;

    /// An events table and a read table in one in-memory database, and the graph's projector.
    struct Graph {
        events: EventStore,
        read_model: Arc<dyn Table>,
        projector: Projector,
    }

    impl Graph {
        fn new() -> Self {
            let db = Database::in_memory().unwrap();
            let events = EventStore::new(Arc::new(SqliteTable::new(&db, "events", true)));
            let read_model: Arc<dyn Table> = Arc::new(SqliteTable::new(&db, "graph", false));
            let projection = GraphProjection { events: events.clone() };
            let projector = Projector::new(Arc::new(projection), read_model.clone(), events.clone());
            Self { events, read_model, projector }
        }

        /// Appends `event` to the pair stream and projects the stream.
        async fn record<E: EventSchema>(&self, kind: &str, from: &str, to: &str, event: E) {
            let stream = pair_stream(kind, from, to);
            let metadata = Metadata::new("test");
            self.events
                .append(&stream, ExpectedVersion::Any, vec![encode(&event)], &metadata, None)
                .await
                .unwrap();
            let envelopes = self.events.read_stream(&stream, 1..).await.unwrap();
            self.projector.apply_stream(envelopes).await.unwrap();
        }

        /// The ids in `owner`'s list, newest first.
        async fn list(&self, list: List, owner: &str) -> Vec<String> {
            let page = self.read_model.query(&Query::new(list.partition(owner)).backward()).await.unwrap();
            page.items.iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect()
        }

        async fn counts(&self, account: &str) -> (i64, i64) {
            let item = self.read_model.get(&counts_key(account)).await.unwrap().unwrap_or_default();
            let count = |name: &str| item.get(name).and_then(Value::as_i64).unwrap_or(0);
            (count(FOLLOWERS_COUNT), count(FOLLOWING_COUNT))
        }

        async fn edge(&self, kind: &str, from: &str, to: &str) -> Option<Edge> {
            let own = self.read_model.get(&edge_key(kind, from, to)).await.unwrap();
            let mirror = self.read_model.get(&mirror_key(kind, from, to)).await.unwrap();
            let attributes = |item: Option<huddle_ports::Item>| {
                item.map(|mut item| {
                    item.retain(|name, _| name != "pk" && name != "sk");
                    item
                })
            };
            assert_eq!(attributes(own.clone()), attributes(mirror), "an edge and its mirror agree");
            own.as_ref().and_then(Edge::of)
        }
    }

    #[tokio::test]
    async fn follows_fill_both_lists_newest_first_and_count_exactly() {
        let graph = Graph::new();
        graph.record(FOLLOW, "ana", "cy", FollowEvent::Followed).await;
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        graph.record(FOLLOW, "bo", "cy", FollowEvent::Followed).await;
        assert_eq!(graph.list(List::Followers, "cy").await, ["bo", "ana"], "newest first");
        assert_eq!(graph.list(List::Following, "ana").await, ["cy"]);
        assert_eq!(graph.counts("cy").await, (2, 0));
        assert_eq!(graph.counts("ana").await, (0, 1));

        graph.record(FOLLOW, "ana", "cy", FollowEvent::Unfollowed).await;
        assert_eq!(graph.list(List::Followers, "cy").await, ["bo"]);
        assert!(graph.list(List::Following, "ana").await.is_empty());
        assert_eq!((graph.counts("cy").await, graph.counts("ana").await), ((1, 0), (0, 0)));
        assert_eq!(graph.edge(FOLLOW, "ana", "cy").await, None);
    }

    #[tokio::test]
    async fn a_request_waits_in_the_followees_list_until_it_is_answered() {
        let graph = Graph::new();
        graph.record(FOLLOW, "ana", "cy", FollowEvent::FollowRequested).await;
        assert_eq!(graph.list(List::FollowRequests, "cy").await, ["ana"]);
        assert!(graph.edge(FOLLOW, "ana", "cy").await.unwrap().requested);
        assert_eq!(graph.counts("cy").await, (0, 0), "a request is no follow");

        graph.record(FOLLOW, "ana", "cy", FollowEvent::FollowRequestAccepted).await;
        assert!(graph.list(List::FollowRequests, "cy").await.is_empty());
        assert_eq!(graph.list(List::Followers, "cy").await, ["ana"]);
        assert_eq!(graph.counts("cy").await, (1, 0));

        graph.record(FOLLOW, "bo", "cy", FollowEvent::FollowRequested).await;
        graph.record(FOLLOW, "bo", "cy", FollowEvent::FollowRequestRejected).await;
        assert!(graph.list(List::FollowRequests, "cy").await.is_empty());
        assert_eq!(graph.edge(FOLLOW, "bo", "cy").await, None);
    }

    #[tokio::test]
    async fn the_reader_answers_the_visibility_rule_from_what_was_projected() {
        use crate::visibility::{Audience, GraphReader};
        let graph = Graph::new();
        let reader = GraphReader::new(graph.read_model.clone());
        let sees = |audience| {
            let reader = reader.clone();
            async move { reader.may_view("bo", "ana", audience).await.unwrap() }
        };
        graph.record(AUDIENCE, "ana", "bo", AudienceEvent::AudienceSet { tier: Tier::Friends }).await;
        assert!(
            sees(Audience::Public).await && !sees(Audience::Friends).await,
            "a member who does not follow"
        );
        graph.record(FOLLOW, "bo", "ana", FollowEvent::FollowRequested).await;
        assert!(!sees(Audience::Followers).await, "a request is no follow");
        graph.record(FOLLOW, "bo", "ana", FollowEvent::FollowRequestAccepted).await;
        assert!(sees(Audience::Friends).await && !sees(Audience::CloseFriends).await);
        graph.record(BLOCK, "bo", "ana", BlockEvent::Blocked).await;
        assert!(!sees(Audience::Public).await, "the viewer blocks the author");
        graph.record(BLOCK, "bo", "ana", BlockEvent::Unblocked).await;
        graph.record(BLOCK, "ana", "bo", BlockEvent::Blocked).await;
        assert!(!sees(Audience::Public).await, "the author blocks the viewer");
        assert!(reader.may_view("ana", "ana", Audience::CloseFriends).await.unwrap());
    }

    #[tokio::test]
    async fn a_relationship_reads_every_edge_between_the_two() {
        use crate::views::Relationship;
        use crate::visibility::GraphReader;
        let graph = Graph::new();
        let reader = GraphReader::new(graph.read_model.clone());
        let nothing = Relationship {
            id: "bo".into(),
            following: false,
            requested: false,
            followed_by: false,
            blocking: false,
            blocked_by: false,
            muting: false,
            tier: None,
        };
        assert_eq!(reader.relationship("ana", "bo").await.unwrap(), nothing);
        graph.record(FOLLOW, "ana", "bo", FollowEvent::FollowRequested).await;
        graph.record(FOLLOW, "bo", "ana", FollowEvent::Followed).await;
        graph.record(MUTE, "ana", "bo", MuteEvent::Muted).await;
        graph.record(AUDIENCE, "ana", "bo", AudienceEvent::AudienceSet { tier: Tier::Friends }).await;
        graph.record(BLOCK, "bo", "ana", BlockEvent::Blocked).await;
        let expected = Relationship {
            requested: true,
            followed_by: true,
            blocked_by: true,
            muting: true,
            tier: Some(Tier::Friends),
            ..nothing.clone()
        };
        assert_eq!(reader.relationship("ana", "bo").await.unwrap(), expected);
        graph.record(FOLLOW, "ana", "bo", FollowEvent::FollowRequestAccepted).await;
        let following = reader.relationship("ana", "bo").await.unwrap();
        assert!(following.following && !following.requested);
    }

    #[tokio::test]
    async fn blocks_mutes_and_tiers_keep_one_entry_each_in_the_owners_lists() {
        let graph = Graph::new();
        graph.record(BLOCK, "ana", "bo", BlockEvent::Blocked).await;
        graph.record(MUTE, "ana", "cy", MuteEvent::Muted).await;
        assert_eq!(graph.list(List::Blocks, "ana").await, ["bo"]);
        assert_eq!(graph.list(List::Mutes, "ana").await, ["cy"]);
        graph.record(BLOCK, "ana", "bo", BlockEvent::Unblocked).await;
        assert!(graph.list(List::Blocks, "ana").await.is_empty());

        graph.record(AUDIENCE, "ana", "cy", AudienceEvent::AudienceSet { tier: Tier::Friends }).await;
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        graph.record(AUDIENCE, "ana", "bo", AudienceEvent::AudienceSet { tier: Tier::Acquaintances }).await;
        assert!(graph.list(List::Tier(Tier::CloseFriends), "ana").await.is_empty());
        assert_eq!(graph.list(List::Tier(Tier::Friends), "ana").await, ["cy"]);
        assert_eq!(
            graph.list(List::Tier(Tier::Acquaintances), "ana").await,
            ["bo", "cy"],
            "a friend is an acquaintance"
        );
        let joined = graph.edge(AUDIENCE, "ana", "cy").await.unwrap().tiers;

        graph.record(AUDIENCE, "ana", "cy", AudienceEvent::AudienceSet { tier: Tier::CloseFriends }).await;
        for tier in [Tier::CloseFriends, Tier::Friends] {
            assert_eq!(graph.list(List::Tier(tier), "ana").await, ["cy"], "{tier:?}");
        }
        let narrowed = graph.edge(AUDIENCE, "ana", "cy").await.unwrap();
        assert_eq!(narrowed.tier, Some(Tier::CloseFriends));
        assert_eq!(
            narrowed.tiers[&Tier::Friends],
            joined[&Tier::Friends],
            "a tier it stays in keeps its date"
        );
        assert_eq!(
            graph.list(List::Tier(Tier::Acquaintances), "ana").await,
            ["bo", "cy"],
            "not moved to the front"
        );

        graph.record(AUDIENCE, "ana", "cy", AudienceEvent::AudienceSet { tier: Tier::Acquaintances }).await;
        assert!(
            graph.list(List::Tier(Tier::Friends), "ana").await.is_empty(),
            "taken out of the narrower tiers"
        );
        graph.record(AUDIENCE, "ana", "cy", AudienceEvent::AudienceCleared).await;
        assert_eq!(graph.list(List::Tier(Tier::Acquaintances), "ana").await, ["bo"]);
        assert_eq!(graph.edge(AUDIENCE, "ana", "cy").await, None);
    }
}
