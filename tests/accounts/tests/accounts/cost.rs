//! The cost guards of the accounts actions: the requests each makes, its fan-out and projection
//! included, on both families (the counts are the same on moto as on the embedded store).

use huddle_runner::cost::workload::{perform, Action, People};
use huddle_test_support::cost::{changed_requests, escaped_requests, metered_system};
use huddle_test_support::system::{accounts_domain, accounts_settings};
use huddle_test_support::{on_both_families, Family};

on_both_families!(each_accounts_action_makes_the_requests_it_made_before);

/// Who makes each action, in order: two people sign up, the first does everything else.
const SCRIPT: [(Action, usize); 12] = [
    (Action::SignUp, 0),
    (Action::SignUp, 0),
    (Action::LogIn, 0),
    (Action::ReadOwnProfile, 0),
    (Action::ReadProfile, 0),
    (Action::ReadProfileByUsername, 0),
    (Action::EditProfile, 0),
    (Action::ChangePassword, 0),
    (Action::LogIn, 0),
    (Action::RevokeSessions, 0),
    (Action::LogIn, 0),
    (Action::EraseAccount, 0),
];

/// Every request API Gateway bills and every step of the asynchronous tail of an action that
/// appends events: the fan-out's invocation and its one publish (one event, ⌈1/10⌉ calls), and
/// the projector's: one receive, one invocation, its writes, one delete.
const REQUEST: [(&str, u64); 1] = [("API Gateway HttpApi request", 1)];
const PROJECTED_TAIL: [(&str, u64); 6] = [
    ("Lambda FanoutFunction", 1),
    ("SNS PublishBatch by FanoutFunction", 1),
    ("SQS ReceiveMessage", 1),
    ("Lambda AccountsProjectorFunction", 1),
    ("DynamoDB TransactWriteItems by AccountsProjectorFunction", 1),
    ("SQS DeleteMessage", 1),
];

/// The requests each action made when these counts were last changed, and why they are what
/// they are.
fn expected(action: Action) -> Vec<(&'static str, u64)> {
    let authorized = [("Lambda AuthorizerFunction", 1), ("DynamoDB Query by AuthorizerFunction", 1)];
    let lines: &[(&str, u64)] = match action {
        // Both reservation streams read (the account's stream is new: nothing to load), the
        // sign-up throttle counted, one append; the projector reads the account's checkpoint and
        // the profile it replaces.
        Action::SignUp => &[
            ("Lambda AccountsCommandFunction", 1),
            ("DynamoDB UpdateItem by AccountsCommandFunction", 1),
            ("DynamoDB Query by AccountsCommandFunction", 2),
            ("DynamoDB TransactWriteItems by AccountsCommandFunction", 1),
            ("DynamoDB GetItem by AccountsProjectorFunction", 2),
        ],
        // Public: no authorizer. Both guessing throttles taken and, the password right, given
        // back (four atomic adds); the account loaded (snapshot and key, its events) and its
        // session generation read. No event: no tail.
        Action::LogIn => &[
            ("Lambda AccountsCommandFunction", 1),
            ("DynamoDB UpdateItem by AccountsCommandFunction", 4),
            ("DynamoDB GetItem by AccountsCommandFunction", 2),
            ("DynamoDB Query by AccountsCommandFunction", 3),
        ],
        // From the log: the account's snapshot and key, then its events.
        Action::ReadOwnProfile => &[
            ("Lambda AccountsQueryFunction", 1),
            ("DynamoDB GetItem by AccountsQueryFunction", 2),
            ("DynamoDB Query by AccountsQueryFunction", 1),
        ],
        // One profile item of the read table, and at once from the graph's: the follow counts
        // and, in one Query of the caller's relationships with the account, both blocks (a block
        // hides the profile).
        Action::ReadProfile => &[
            ("Lambda AccountsQueryFunction", 1),
            ("DynamoDB GetItem by AccountsQueryFunction", 2),
            ("DynamoDB Query by AccountsQueryFunction", 1),
        ],
        // The username's index entry, then what reading a profile reads.
        Action::ReadProfileByUsername => &[
            ("Lambda AccountsQueryFunction", 1),
            ("DynamoDB Query by AccountsQueryFunction", 2),
            ("DynamoDB GetItem by AccountsQueryFunction", 2),
        ],
        // The account loaded and appended to; the projector reads the checkpoint, the profile
        // and the username's entry it keeps.
        Action::EditProfile => &[
            ("Lambda AccountsCommandFunction", 1),
            ("DynamoDB GetItem by AccountsCommandFunction", 2),
            ("DynamoDB Query by AccountsCommandFunction", 1),
            ("DynamoDB TransactWriteItems by AccountsCommandFunction", 1),
            ("DynamoDB GetItem by AccountsProjectorFunction", 3),
        ],
        // As a login (throttles, the account and its generation), then one append.
        Action::ChangePassword => &[
            ("Lambda AccountsCommandFunction", 1),
            ("DynamoDB UpdateItem by AccountsCommandFunction", 4),
            ("DynamoDB GetItem by AccountsCommandFunction", 2),
            ("DynamoDB Query by AccountsCommandFunction", 3),
            ("DynamoDB TransactWriteItems by AccountsCommandFunction", 1),
            ("DynamoDB GetItem by AccountsProjectorFunction", 2),
        ],
        // The account and its sessions stream loaded, one append to the sessions stream, which
        // no projection consumes: the fan-out publishes it, no queue takes it.
        Action::RevokeSessions => &[
            ("Lambda AccountsCommandFunction", 1),
            ("DynamoDB GetItem by AccountsCommandFunction", 2),
            ("DynamoDB Query by AccountsCommandFunction", 2),
            ("DynamoDB TransactWriteItems by AccountsCommandFunction", 1),
        ],
        // As a password check (throttles, account, generation), both reservation streams read
        // to release them, one append that also deletes the subject's key.
        Action::EraseAccount => &[
            ("Lambda AccountsCommandFunction", 1),
            ("DynamoDB UpdateItem by AccountsCommandFunction", 4),
            ("DynamoDB GetItem by AccountsCommandFunction", 2),
            ("DynamoDB Query by AccountsCommandFunction", 5),
            ("DynamoDB TransactWriteItems by AccountsCommandFunction", 1),
            ("DynamoDB GetItem by AccountsProjectorFunction", 2),
        ],
        // The graph's guard (tests/graph) and content's (tests/content) count their own.
        Action::Follow
        | Action::Unfollow
        | Action::AddToAudience
        | Action::Mute
        | Action::Block
        | Action::ListFollowers
        | Action::ReadRelationships
        | Action::CreatePost
        | Action::ReadPost
        | Action::LikePost => unreachable!("{} is not an accounts action", action.title()),
    };
    let public = matches!(action, Action::SignUp | Action::LogIn);
    let tail: &[(&str, u64)] = match action {
        Action::LogIn | Action::ReadOwnProfile | Action::ReadProfile | Action::ReadProfileByUsername => &[],
        Action::RevokeSessions => &PROJECTED_TAIL[..2],
        _ => &PROJECTED_TAIL,
    };
    let mut all: Vec<(&str, u64)> = REQUEST.iter().chain(lines).chain(tail).copied().collect();
    if !public {
        all.extend(authorized);
    }
    all
}

async fn each_accounts_action_makes_the_requests_it_made_before(family: Family) {
    let mut system = metered_system(family, vec![accounts_domain(accounts_settings())]).await;
    let mut people = People::default();
    let mut changed = Vec::new();
    for (action, actor) in SCRIPT {
        let measured = perform(&mut system, &mut people, action, actor).await.unwrap();
        changed.extend(changed_requests(action.title(), &expected(action), &measured.usage));
    }
    changed.extend(escaped_requests(&system));
    system.shutdown().await;
    assert!(changed.is_empty(), "{}", changed.join("\n"));
}
