//! The projector role: the pair streams' events into the read table (see `read_model`). Each
//! event's writes follow from the event and the relationship's own item, which only this stream
//! writes, so reading it before writing is safe under the projector's per-stream order.

use crate::read_model::{counts_key, List, EDGE, FOLLOWERS_COUNT, FOLLOWING_COUNT};
use async_trait::async_trait;
use huddle_catalog::graph::{
    pair_of, AudienceEvent, BlockEvent, FollowEvent, MuteEvent, Tier, AUDIENCE, BLOCK, FOLLOW, MUTE,
};
use huddle_delivery::{Projected, Projection, ProjectionError};
use huddle_eventstore::{decode, Envelope, EventSchema};
use huddle_ports::{Condition, Key, Table, TransactWrite};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

pub struct GraphProjection;

/// What a relationship's own item holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Edge {
    since_ms: i64,
    /// A follow that waits for the followee's answer.
    requested: bool,
    tier: Option<Tier>,
}

impl Edge {
    fn of(item: &huddle_ports::Item) -> Option<Edge> {
        Some(Edge {
            since_ms: item.get("since_ms")?.as_i64()?,
            requested: item.get("requested").and_then(Value::as_bool).unwrap_or(false),
            tier: item.get("tier").cloned().and_then(|tier| serde_json::from_value(tier).ok()),
        })
    }
}

fn put(key: Key, attributes: Value) -> TransactWrite {
    TransactWrite::Put { item: key.item(attributes), condition: Condition::Always }
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
        let Some((kind, from, to)) = pair_of(&event.stream) else {
            return Err(ProjectionError::Invalid(format!("{} is not a pair stream", event.stream)));
        };
        let edge_key = Key::new(event.stream.clone(), EDGE);
        let edge = read_model.get(&edge_key).await?.as_ref().and_then(Edge::of);
        let now_ms = (event.occurred_at.unix_timestamp_nanos() / 1_000_000) as i64;
        let began = |requested: bool, tier: Option<Tier>| {
            put(edge_key.clone(), json!({ "since_ms": now_ms, "requested": requested, "tier": tier }))
        };
        let writes = match kind {
            FOLLOW => match decoded::<FollowEvent>(event)? {
                FollowEvent::FollowRequested => {
                    vec![
                        began(true, None),
                        put(List::FollowRequests.entry(to, now_ms, from), json!({ "id": from })),
                    ]
                }
                accepted @ (FollowEvent::Followed | FollowEvent::FollowRequestAccepted) => {
                    let mut writes = vec![
                        began(false, None),
                        put(
                            List::Followers.entry(to, now_ms, from),
                            json!({ "id": from, "since_ms": now_ms }),
                        ),
                        put(List::Following.entry(from, now_ms, to), json!({ "id": to, "since_ms": now_ms })),
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
                        vec![delete(edge_key), delete(List::FollowRequests.entry(to, request.since_ms, from))]
                    }
                    None => vec![],
                },
                FollowEvent::Unfollowed => match edge {
                    Some(follow) => vec![
                        delete(edge_key),
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
                from,
                to,
                now_ms,
            ),
            MUTE => switched(
                decoded::<MuteEvent>(event)? == MuteEvent::Muted,
                List::Mutes,
                &edge_key,
                edge,
                from,
                to,
                now_ms,
            ),
            AUDIENCE => {
                let mut writes: Vec<TransactWrite> = edge
                    .and_then(|member| {
                        Some(delete(List::Tier(member.tier?).entry(from, member.since_ms, to)))
                    })
                    .into_iter()
                    .collect();
                match decoded::<AudienceEvent>(event)? {
                    AudienceEvent::AudienceSet { tier } => {
                        writes.push(began(false, Some(tier)));
                        writes.push(put(List::Tier(tier).entry(from, now_ms, to), json!({ "id": to })));
                    }
                    AudienceEvent::AudienceCleared => writes.push(delete(edge_key)),
                }
                writes
            }
            _ => unreachable!("pair_of names only the graph's kinds"),
        };
        Ok(writes.into())
    }
}

/// The writes of an on/off relation (a block, a mute) turned `on` or off: its own item and its
/// entry in the owner's list.
fn switched(
    on: bool,
    list: List,
    edge_key: &Key,
    edge: Option<Edge>,
    from: &str,
    to: &str,
    now_ms: i64,
) -> Vec<TransactWrite> {
    match (on, edge) {
        (true, _) => vec![
            put(edge_key.clone(), json!({ "since_ms": now_ms })),
            put(list.entry(from, now_ms, to), json!({ "id": to })),
        ],
        (false, Some(was)) => vec![delete(edge_key.clone()), delete(list.entry(from, was.since_ms, to))],
        (false, None) => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_catalog::graph::pair_stream;
    use huddle_delivery::Projector;
    use huddle_embedded::{Database, SqliteTable};
    use huddle_eventstore::{encode, EventStore, ExpectedVersion, Metadata};
    use huddle_ports::Query;
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
            let projector = Projector::new(Arc::new(GraphProjection), read_model.clone(), events.clone());
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
            let key = Key::new(pair_stream(kind, from, to), EDGE);
            self.read_model.get(&key).await.unwrap().as_ref().and_then(Edge::of)
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
        use crate::relationships::Relationship;
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
        graph.record(AUDIENCE, "ana", "cy", AudienceEvent::AudienceSet { tier: Tier::CloseFriends }).await;
        assert!(graph.list(List::Tier(Tier::Friends), "ana").await.is_empty(), "moved, not copied");
        assert_eq!(graph.list(List::Tier(Tier::CloseFriends), "ana").await, ["cy"]);
        assert_eq!(graph.edge(AUDIENCE, "ana", "cy").await.unwrap().tier, Some(Tier::CloseFriends));
        graph.record(AUDIENCE, "ana", "cy", AudienceEvent::AudienceCleared).await;
        assert!(graph.list(List::Tier(Tier::CloseFriends), "ana").await.is_empty());
        assert_eq!(graph.edge(AUDIENCE, "ana", "cy").await, None);
    }
}
