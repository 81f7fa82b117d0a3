//! The cost guards of the content actions: the requests each makes, its fan-out and projection
//! included, on both families (the counts are the same on moto as on the embedded store).

use huddle_runner::cost::workload::{perform, Action, People};
use huddle_test_support::cost::{changed_requests, escaped_requests, metered_system};
use huddle_test_support::system::{accounts_domain, accounts_settings};
use huddle_test_support::{on_both_families, Family};
use std::sync::Arc;

on_both_families!(each_content_action_makes_the_requests_it_made_before);

/// Who makes each content action, in order, once two people signed up: the first posts, the
/// second reads and likes it.
const SCRIPT: [(Action, usize); 3] = [(Action::CreatePost, 0), (Action::ReadPost, 1), (Action::LikePost, 1)];

/// Every request API Gateway bills, and the authorizer's.
const REQUEST: [(&str, u64); 3] = [
    ("API Gateway HttpApi request", 1),
    ("Lambda AuthorizerFunction", 1),
    ("DynamoDB Query by AuthorizerFunction", 1),
];
/// The asynchronous tail of an action that appends one event: the fan-out's invocation and its
/// one publish, and the content projector's: one receive, one invocation, one transaction, one
/// delete.
const PROJECTED_TAIL: [(&str, u64); 6] = [
    ("Lambda FanoutFunction", 1),
    ("SNS PublishBatch by FanoutFunction", 1),
    ("SQS ReceiveMessage", 1),
    ("Lambda ContentProjectorFunction", 1),
    ("DynamoDB TransactWriteItems by ContentProjectorFunction", 1),
    ("SQS DeleteMessage", 1),
];

/// The requests each action made when these counts were last changed, and why they are what
/// they are.
fn expected(action: Action) -> Vec<(&'static str, u64)> {
    let lines: &[(&str, u64)] = match action {
        // The author's write counted (its throttle); a fresh stream: nothing read (no mention,
        // no media, no parent here), one append; the answer reads the new post's counts and the
        // caller's like in one batch. The projector reads the checkpoint and the author's
        // erasure mark (a post rests on its author not erased).
        Action::CreatePost => &[
            ("Lambda ContentCommandFunction", 1),
            ("DynamoDB UpdateItem by ContentCommandFunction", 1),
            ("DynamoDB BatchGetItem by ContentCommandFunction", 1),
            ("DynamoDB TransactWriteItems by ContentCommandFunction", 1),
            ("DynamoDB GetItem by ContentProjectorFunction", 2),
        ],
        // The record and the author's erasure mark; the counts and the caller's like in one
        // batch; the caller's standing with the author from the graph's table (one Query).
        Action::ReadPost => &[
            ("Lambda ContentQueryFunction", 1),
            ("DynamoDB GetItem by ContentQueryFunction", 2),
            ("DynamoDB BatchGetItem by ContentQueryFunction", 1),
            ("DynamoDB Query by ContentQueryFunction", 1),
        ],
        // The post's stream, the caller's standing (the graph's table) and the like's stream:
        // three Queries; the author's erasure mark; one append; the answer reads the like item
        // and the count. The projector reads the checkpoint and the liker's erasure mark.
        Action::LikePost => &[
            ("Lambda ContentCommandFunction", 1),
            ("DynamoDB GetItem by ContentCommandFunction", 3),
            ("DynamoDB Query by ContentCommandFunction", 3),
            ("DynamoDB TransactWriteItems by ContentCommandFunction", 1),
            ("DynamoDB GetItem by ContentProjectorFunction", 2),
        ],
        other => unreachable!("{} is not a content action", other.title()),
    };
    let tail: &[(&str, u64)] = match action {
        Action::ReadPost => &[],
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

async fn each_content_action_makes_the_requests_it_made_before(family: Family) {
    // Without the media domain (its read table is granted empty): on moto its uploads function
    // would take S3's test event, which no action makes.
    let domains = vec![
        accounts_domain(accounts_settings()),
        Arc::new(huddle_graph::GraphDomain) as _,
        Arc::new(huddle_content::ContentDomain) as _,
    ];
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
