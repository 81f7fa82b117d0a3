//! One `follow#<follower>#<followee>` stream: following, asked to (the followee is locked), or
//! neither. Every command is idempotent but accepting or rejecting a request that is not there.
//! That a block either way refuses a follow spans other streams (the two `block#` streams), so
//! the use case checks it in the follow's transaction (`command::follow`).

use huddle_catalog::graph::FollowEvent;
use huddle_domain::decider::Decider;

pub struct Follow;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FollowState {
    #[default]
    Neither,
    Requested,
    Following,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowCommand {
    /// Follow, or ask to when the followee is locked (the use case reads it from the
    /// followee's account stream).
    Follow {
        followee_locked: bool,
    },
    /// Stop following, or take a pending request back.
    Unfollow,
    /// The followee's answers to a pending request.
    Accept,
    Reject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FollowError {
    #[error("there is no pending follow request")]
    NoPendingRequest,
}

impl Decider for Follow {
    type State = FollowState;
    type Command = FollowCommand;
    type Event = FollowEvent;
    type Error = FollowError;

    fn decide(state: &FollowState, command: FollowCommand) -> Result<Vec<FollowEvent>, FollowError> {
        use FollowState::*;
        Ok(match (command, state) {
            (FollowCommand::Follow { .. }, Requested | Following) => vec![],
            (FollowCommand::Follow { followee_locked: true }, Neither) => {
                vec![FollowEvent::FollowRequested]
            }
            (FollowCommand::Follow { followee_locked: false }, Neither) => vec![FollowEvent::Followed],
            (FollowCommand::Unfollow, Following) => vec![FollowEvent::Unfollowed],
            (FollowCommand::Unfollow, Requested) => vec![FollowEvent::FollowRequestWithdrawn],
            (FollowCommand::Unfollow, Neither) => vec![],
            (FollowCommand::Accept, Requested) => vec![FollowEvent::FollowRequestAccepted],
            (FollowCommand::Reject, Requested) => vec![FollowEvent::FollowRequestRejected],
            (FollowCommand::Accept | FollowCommand::Reject, Neither | Following) => {
                return Err(FollowError::NoPendingRequest)
            }
        })
    }

    fn evolve(_: FollowState, event: &FollowEvent) -> FollowState {
        match event {
            FollowEvent::Followed | FollowEvent::FollowRequestAccepted => FollowState::Following,
            FollowEvent::FollowRequested => FollowState::Requested,
            FollowEvent::FollowRequestRejected
            | FollowEvent::FollowRequestWithdrawn
            | FollowEvent::Unfollowed => FollowState::Neither,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_domain::decider::testing::given;
    use FollowEvent::*;

    const OPEN: FollowCommand = FollowCommand::Follow { followee_locked: false };
    const LOCKED: FollowCommand = FollowCommand::Follow { followee_locked: true };

    #[test]
    fn an_open_account_is_followed_at_once_and_a_locked_one_asked() {
        given::<Follow>([]).when(OPEN).then([Followed]);
        given::<Follow>([]).when(LOCKED).then([FollowRequested]);
        given::<Follow>([FollowRequested]).when(FollowCommand::Accept).then([FollowRequestAccepted]);
        assert_eq!(
            *given::<Follow>([FollowRequested, FollowRequestAccepted]).state(),
            FollowState::Following
        );
    }

    #[test]
    fn following_or_asking_again_appends_nothing() {
        given::<Follow>([Followed]).when(OPEN).then([]);
        given::<Follow>([Followed]).when(LOCKED).then([]);
        given::<Follow>([FollowRequested]).when(OPEN).then([]);
        given::<Follow>([Unfollowed]).when(FollowCommand::Unfollow).then([]);
    }

    #[test]
    fn an_unfollow_ends_a_follow_or_takes_a_request_back() {
        given::<Follow>([Followed]).when(FollowCommand::Unfollow).then([Unfollowed]);
        given::<Follow>([FollowRequested, FollowRequestAccepted])
            .when(FollowCommand::Unfollow)
            .then([Unfollowed]);
        given::<Follow>([FollowRequested]).when(FollowCommand::Unfollow).then([FollowRequestWithdrawn]);
        given::<Follow>([FollowRequested, FollowRequestRejected]).when(OPEN).then([Followed]);
    }

    #[test]
    fn only_a_pending_request_is_answered() {
        given::<Follow>([FollowRequested]).when(FollowCommand::Reject).then([FollowRequestRejected]);
        for history in [vec![], vec![Followed], vec![FollowRequested, FollowRequestWithdrawn]] {
            given::<Follow>(history.clone())
                .when(FollowCommand::Accept)
                .then_error(FollowError::NoPendingRequest);
            given::<Follow>(history).when(FollowCommand::Reject).then_error(FollowError::NoPendingRequest);
        }
    }
}
