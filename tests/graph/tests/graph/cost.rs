//! The cost guards of the graph actions: the requests each makes, its fan-out and projection
//! included, on both families (the counts are the same on moto as on the embedded store).

use huddle_runner::cost::workload::{perform, Action, People};
use huddle_test_support::cost::{changed_requests, escaped_requests, metered_system};
use huddle_test_support::system::{accounts_domain, accounts_settings};
use huddle_test_support::{on_both_families, Family};
use std::sync::Arc;

on_both_families!(each_graph_action_makes_the_requests_it_made_before);

/// Who makes each graph action, in order, once two people signed up: the first follows the
/// second and puts it among its friends, reads, mutes, unfollows, and blocks it.
const SCRIPT: [(Action, usize); 7] = [
    (Action::Follow, 0),
    (Action::AddToAudience, 0),
    (Action::ReadRelationships, 0),
    (Action::ListFollowers, 0),
    (Action::Mute, 0),
    (Action::Unfollow, 0),
    (Action::Block, 0),
];

/// Every request API Gateway bills, the authorizer's, and the asynchronous tail of an action
/// that appends events: the fan-out's invocation and its one publish (⌈events/10⌉ calls), and
/// the graph projector's: one receive, one invocation, its checkpoint and edge reads, one
/// transaction, one delete.
const REQUEST: [(&str, u64); 3] = [
    ("API Gateway HttpApi request", 1),
    ("Lambda AuthorizerFunction", 1),
    ("DynamoDB Query by AuthorizerFunction", 1),
];
const PROJECTED_TAIL: [(&str, u64); 6] = [
    ("Lambda FanoutFunction", 1),
    ("SNS PublishBatch by FanoutFunction", 1),
    ("SQS ReceiveMessage", 1),
    ("Lambda GraphProjectorFunction", 1),
    ("DynamoDB TransactWriteItems by GraphProjectorFunction", 1),
    ("SQS DeleteMessage", 1),
];

/// The requests each action made when these counts were last changed, and why they are what
/// they are.
fn expected(action: Action) -> Vec<(&'static str, u64)> {
    let lines: &[(&str, u64)] = match action {
        // The followee's account stream (exists, locked), the follow stream, both block
        // streams; one append resting on the three it does not write; the answer folds the
        // pair's six streams. The projector reads the checkpoint, the edge it replaces and both
        // accounts' cards (what makes a relationship rests on neither being erased).
        Action::Follow | Action::AddToAudience => &[
            ("Lambda GraphCommandFunction", 1),
            ("DynamoDB Query by GraphCommandFunction", 10),
            ("DynamoDB TransactWriteItems by GraphCommandFunction", 1),
            ("DynamoDB GetItem by GraphProjectorFunction", 4),
        ],
        // As a follow without the block streams: the account stream, the mute stream, the
        // answer's six.
        Action::Mute => &[
            ("Lambda GraphCommandFunction", 1),
            ("DynamoDB Query by GraphCommandFunction", 8),
            ("DynamoDB TransactWriteItems by GraphCommandFunction", 1),
            ("DynamoDB GetItem by GraphProjectorFunction", 4),
        ],
        // The follow stream, one append, no answer body; the projector reads the checkpoint and
        // the edge (an ending reads no card).
        Action::Unfollow => &[
            ("Lambda GraphCommandFunction", 1),
            ("DynamoDB Query by GraphCommandFunction", 1),
            ("DynamoDB TransactWriteItems by GraphCommandFunction", 1),
            ("DynamoDB GetItem by GraphProjectorFunction", 2),
        ],
        // The account stream, the block stream, the two follow streams and the tier stream it
        // closes, the answer's six; one append of the block and the tier's clearing (two
        // streams, two events in one publish), each projected in its own transaction from one
        // receive (the block's reads both cards, the clearing's none).
        Action::Block => &[
            ("Lambda GraphCommandFunction", 1),
            ("DynamoDB Query by GraphCommandFunction", 11),
            ("DynamoDB TransactWriteItems by GraphCommandFunction", 1),
            ("DynamoDB GetItem by GraphProjectorFunction", 6),
            ("DynamoDB TransactWriteItems by GraphProjectorFunction", 1),
            ("SQS DeleteMessage", 1),
        ],
        // Everything between the two: one Query of the caller's partition.
        Action::ReadRelationships => {
            &[("Lambda GraphQueryFunction", 1), ("DynamoDB Query by GraphQueryFunction", 1)]
        }
        // The owner's card and the caller's standing with it (one Query), the page, and the card
        // of its one follower.
        Action::ListFollowers => &[
            ("Lambda GraphQueryFunction", 1),
            ("DynamoDB GetItem by GraphQueryFunction", 2),
            ("DynamoDB Query by GraphQueryFunction", 2),
        ],
        other => unreachable!("{} is not a graph action", other.title()),
    };
    let tail: &[(&str, u64)] = match action {
        Action::ReadRelationships | Action::ListFollowers => &[],
        _ => &PROJECTED_TAIL,
    };
    let mut all: Vec<(&str, u64)> = Vec::new();
    for (line, count) in REQUEST.iter().chain(tail).chain(lines) {
        match all.iter_mut().find(|(known, _)| known == line) {
            Some((_, total)) => *total += count,
            None => all.push((line, *count)),
        }
    }
    all
}

async fn each_graph_action_makes_the_requests_it_made_before(family: Family) {
    let domains = vec![accounts_domain(accounts_settings()), Arc::new(huddle_graph::GraphDomain) as _];
    let mut system = metered_system(family, domains).await;
    let mut people = People::default();
    for _ in 0..2 {
        perform(&mut system, &mut people, Action::SignUp, 0).await.unwrap();
    }
    let mut changed = Vec::new();
    for (action, actor) in SCRIPT {
        let measured = perform(&mut system, &mut people, action, actor).await.unwrap();
        changed.extend(changed_requests(action.title(), &expected(action), &measured.usage));
    }
    changed.extend(escaped_requests(&system));
    system.shutdown().await;
    assert!(changed.is_empty(), "{}", changed.join("\n"));
}
