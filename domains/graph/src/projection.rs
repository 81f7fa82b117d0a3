//! The projector role: the pair streams' events into the read table (see `read_model`), and of
//! the accounts' events what the graph shows and decides on (`AccountCard`). Each event's writes
//! follow from the event and the item its own stream keeps (a relationship's edge, an account's
//! card), which only that stream writes, so reading it before writing is safe under the
//! projector's per-stream order.

use crate::read_model::{
    account_key, counts_key, edge_key, mirror_key, AccountCard, List, ENTRY_ID, ENTRY_SINCE_MS,
    FOLLOWERS_COUNT, FOLLOWING_COUNT,
};
use async_trait::async_trait;
use huddle_catalog::accounts::{account_of_stream, AccountEvent};
use huddle_catalog::graph::{
    pair_of, AudienceEvent, BlockEvent, FollowEvent, MuteEvent, Tier, AUDIENCE, BLOCK, FOLLOW, MUTE,
};
use huddle_delivery::{open_personal, Projected, Projection, ProjectionError};
use huddle_eventstore::{decode, Envelope, EventSchema, EventStore};
use huddle_ports::{Condition, Item, Key, Table, TransactWrite};
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

#[async_trait]
impl Projection for GraphProjection {
    async fn project(&self, event: &Envelope, read_model: &dyn Table) -> Result<Projected, ProjectionError> {
        if let Some(account) = account_of_stream(&event.stream) {
            return self.project_account(account, event, read_model).await;
        }
        let Some((kind, from, to)) = pair_of(&event.stream) else {
            return Err(ProjectionError::Invalid(format!(
                "{} is not a stream the graph keeps",
                event.stream
            )));
        };
        let edge_key = edge_key(kind, from, to);
        let edge = read_model.get(&edge_key).await?.as_ref().and_then(Edge::of);
        let now_ms = (event.occurred_at.unix_timestamp_nanos() / 1_000_000) as i64;
        let began =
            |requested: bool| put_edge(&edge_key, &Edge { since_ms: now_ms, requested, ..Edge::default() });
        let writes = match kind {
            FOLLOW => match decoded::<FollowEvent>(event)? {
                FollowEvent::FollowRequested => {
                    vec![began(true), put_entry(List::FollowRequests, to, now_ms, from)]
                }
                accepted @ (FollowEvent::Followed | FollowEvent::FollowRequestAccepted) => {
                    let mut writes = vec![
                        began(false),
                        put_entry(List::Followers, to, now_ms, from),
                        put_entry(List::Following, from, now_ms, to),
                        add(to, FOLLOWERS_COUNT, 1),
                        add(from, FOLLOWING_COUNT, 1),
                    ];
                    if let (FollowEvent::FollowRequestAccepted, Some(request)) = (accepted, edge) {
                        writes.push(delete(List::FollowRequests.entry(to, request.since_ms, from)));
                    }
                    writes
                }
                FollowEvent::FollowRequestRejected | FollowEvent::FollowRequestWithdrawn => match edge {
                    Some(request) => {
                        vec![
                            delete(edge_key.clone()),
                            delete(List::FollowRequests.entry(to, request.since_ms, from)),
                        ]
                    }
                    None => vec![],
                },
                FollowEvent::Unfollowed => match edge {
                    Some(follow) => vec![
                        delete(edge_key.clone()),
                        delete(List::Followers.entry(to, follow.since_ms, from)),
                        delete(List::Following.entry(from, follow.since_ms, to)),
                        add(to, FOLLOWERS_COUNT, -1),
                        add(from, FOLLOWING_COUNT, -1),
                    ],
                    None => vec![],
                },
            },
            BLOCK => switched(
                decoded::<BlockEvent>(event)? == BlockEvent::Blocked,
                List::Blocks,
                &edge_key,
                edge,
                (from, to),
                now_ms,
            ),
            MUTE => switched(
                decoded::<MuteEvent>(event)? == MuteEvent::Muted,
                List::Mutes,
                &edge_key,
                edge,
                (from, to),
                now_ms,
            ),
            AUDIENCE => {
                let narrowest = match decoded::<AudienceEvent>(event)? {
                    AudienceEvent::AudienceSet { tier } => Some(tier),
                    AudienceEvent::AudienceCleared => None,
                };
                tiers_changed(&edge_key, edge.unwrap_or_default(), narrowest, (from, to), now_ms)
            }
            _ => unreachable!("pair_of names only the graph's kinds"),
        };
        Ok(with_mirror(writes, &edge_key, &mirror_key(kind, from, to)).into())
    }
}

impl GraphProjection {
    /// An account's card: made at registration, kept current, deleted at erasure.
    async fn project_account(
        &self,
        account: &str,
        event: &Envelope,
        read_model: &dyn Table,
    ) -> Result<Projected, ProjectionError> {
        let Some(opened) = open_personal::<AccountEvent>(&self.events, event).await? else {
            return Ok(Projected::nothing());
        };
        let card = || async { Ok::<_, ProjectionError>(AccountCard::read(read_model, account).await?) };
        let changed = |card: AccountCard| {
            vec![TransactWrite::Put { item: card.item(account), condition: Condition::Always }]
        };
        Ok(match opened {
            AccountEvent::AccountRegistered { username, display_name, .. } => {
                changed(AccountCard { username, display_name, locked: false })
            }
            AccountEvent::ProfileUpdated { display_name, .. } => match card().await? {
                Some(card) => changed(AccountCard { display_name, ..card }),
                None => vec![],
            },
            AccountEvent::LockChanged { locked } => match card().await? {
                Some(card) => changed(AccountCard { locked, ..card }),
                None => vec![],
            },
            AccountEvent::AccountErased => vec![delete(account_key(account))],
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
        (false, Some(was)) => vec![delete(edge_key.clone()), delete(list.entry(from, was.since_ms, to))],
        (false, None) => vec![],
    }
}

/// The writes that make `member`'s tiers in `owner`'s lists those of `narrowest` (and every
/// wider tier), from those `was` recorded: a tier it stays in keeps its entry and its date.
fn tiers_changed(
    edge_key: &Key,
    was: Edge,
    narrowest: Option<Tier>,
    (owner, member): (&str, &str),
    now_ms: i64,
) -> Vec<TransactWrite> {
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
    writes.push(match narrowest {
        Some(tier) => {
            put_edge(edge_key, &Edge { since_ms: now_ms, tier: Some(tier), tiers, ..Edge::default() })
        }
        None => delete(edge_key.clone()),
    });
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
