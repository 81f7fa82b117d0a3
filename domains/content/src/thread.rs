//! One video thread as a decider over its `thread#` stream: created once by its owner, changed
//! (title, who may join) and deleted by its owner only, and gone for good once deleted. Whoever
//! else asks gets the same answer as for a thread that does not exist. Who may add an entry is
//! [`may_join`], the one rule the command and the query both ask.

use huddle_catalog::content::{JoinableBy, ThreadEvent};
use huddle_catalog::graph::Audience;
use huddle_domain::decider::Decider;
use serde::{Deserialize, Serialize};

/// What the stream's events say of the thread.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Thread {
    #[default]
    Unknown,
    Live(LiveThread),
    Deleted,
}

/// A thread that exists: what its view shows and what a join decides on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveThread {
    pub owner: String,
    pub title: String,
    pub media_id: String,
    pub audience: Audience,
    pub joinable_by: JoinableBy,
}

impl Thread {
    /// The thread while it exists.
    pub fn live(&self) -> Option<&LiveThread> {
        match self {
            Thread::Live(thread) => Some(thread),
            Thread::Unknown | Thread::Deleted => None,
        }
    }
}

/// Whether `viewer`, who may see a thread of `owner`'s, may add an entry to it: the owner always;
/// anyone else as `joinable_by` says (`follows`: the viewer follows the owner).
pub fn may_join(viewer: &str, owner: &str, joinable_by: JoinableBy, follows: bool) -> bool {
    viewer == owner
        || match joinable_by {
            JoinableBy::Audience => true,
            JoinableBy::Followers => follows,
            JoinableBy::Nobody => false,
        }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadCommand {
    Create(LiveThread),
    /// What the owner sends: `None` keeps the field as it is.
    Change {
        by: String,
        title: Option<String>,
        joinable_by: Option<JoinableBy>,
    },
    Delete {
        by: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThreadError {
    #[error("that thread id is taken")]
    AlreadyExists,
    /// Unknown, deleted, or another account's: the three look the same to the caller.
    #[error("no such thread")]
    NotFound,
}

pub struct ThreadStream;

impl Decider for ThreadStream {
    type State = Thread;
    type Command = ThreadCommand;
    type Event = ThreadEvent;
    type Error = ThreadError;

    fn decide(thread: &Thread, command: ThreadCommand) -> Result<Vec<ThreadEvent>, ThreadError> {
        let owned = |by: &str| thread.live().filter(|live| live.owner == by).ok_or(ThreadError::NotFound);
        match command {
            ThreadCommand::Create(LiveThread { owner, title, media_id, audience, joinable_by }) => {
                if *thread != Thread::Unknown {
                    return Err(ThreadError::AlreadyExists);
                }
                Ok(vec![ThreadEvent::ThreadCreated { owner, title, media_id, audience, joinable_by }])
            }
            // The owner asked: a change is appended even when it changes nothing, as a post's
            // edit is (`edited_at` says when it was asked).
            ThreadCommand::Change { by, title, joinable_by } => {
                let live = owned(&by)?;
                Ok(vec![ThreadEvent::ThreadChanged {
                    title: title.unwrap_or_else(|| live.title.clone()),
                    joinable_by: joinable_by.unwrap_or(live.joinable_by),
                }])
            }
            ThreadCommand::Delete { by } => {
                owned(&by)?;
                Ok(vec![ThreadEvent::ThreadDeleted])
            }
        }
    }

    fn evolve(thread: Thread, event: &ThreadEvent) -> Thread {
        match (thread, event) {
            (_, ThreadEvent::ThreadCreated { owner, title, media_id, audience, joinable_by }) => {
                Thread::Live(LiveThread {
                    owner: owner.clone(),
                    title: title.clone(),
                    media_id: media_id.clone(),
                    audience: *audience,
                    joinable_by: *joinable_by,
                })
            }
            (Thread::Live(live), ThreadEvent::ThreadChanged { title, joinable_by }) => {
                Thread::Live(LiveThread { title: title.clone(), joinable_by: *joinable_by, ..live })
            }
            (_, ThreadEvent::ThreadDeleted) => Thread::Deleted,
            (thread, ThreadEvent::ThreadChanged { .. }) => thread,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_domain::decider::testing::given;

    fn live(joinable_by: JoinableBy) -> LiveThread {
        LiveThread {
            owner: "ana".into(),
            title: "summer".into(),
            media_id: "med_1".into(),
            audience: Audience::Public,
            joinable_by,
        }
    }

    fn created() -> ThreadEvent {
        ThreadEvent::ThreadCreated {
            owner: "ana".into(),
            title: "summer".into(),
            media_id: "med_1".into(),
            audience: Audience::Public,
            joinable_by: JoinableBy::Followers,
        }
    }

    fn change(by: &str, title: Option<&str>, joinable_by: Option<JoinableBy>) -> ThreadCommand {
        ThreadCommand::Change { by: by.into(), title: title.map(Into::into), joinable_by }
    }

    fn changed(title: &str, joinable_by: JoinableBy) -> ThreadEvent {
        ThreadEvent::ThreadChanged { title: title.into(), joinable_by }
    }

    #[test]
    fn a_thread_is_created_once_as_its_command_says() {
        let made = given::<ThreadStream>([])
            .when(ThreadCommand::Create(live(JoinableBy::Followers)))
            .then([created()]);
        assert_eq!(made, Thread::Live(live(JoinableBy::Followers)));
        given::<ThreadStream>([created()])
            .when(ThreadCommand::Create(live(JoinableBy::Audience)))
            .then_error(ThreadError::AlreadyExists);
    }

    #[test]
    fn only_the_owner_changes_what_it_sends_and_keeps_the_rest() {
        let closed = given::<ThreadStream>([created()])
            .when(change("ana", None, Some(JoinableBy::Nobody)))
            .then([changed("summer", JoinableBy::Nobody)]);
        assert_eq!(closed, Thread::Live(live(JoinableBy::Nobody)));
        given::<ThreadStream>([created()])
            .when(change("ana", Some("winter"), None))
            .then([changed("winter", JoinableBy::Followers)]);
        given::<ThreadStream>([created()])
            .when(change("bo", None, Some(JoinableBy::Audience)))
            .then_error(ThreadError::NotFound);
        given::<ThreadStream>([]).when(change("ana", Some("x"), None)).then_error(ThreadError::NotFound);
    }

    #[test]
    fn only_the_owner_deletes_and_a_deleted_thread_is_gone() {
        given::<ThreadStream>([created()])
            .when(ThreadCommand::Delete { by: "bo".into() })
            .then_error(ThreadError::NotFound);
        let deleted = given::<ThreadStream>([created()])
            .when(ThreadCommand::Delete { by: "ana".into() })
            .then([ThreadEvent::ThreadDeleted]);
        assert_eq!(deleted, Thread::Deleted);
        let gone = [created(), ThreadEvent::ThreadDeleted];
        given::<ThreadStream>(gone.clone())
            .when(ThreadCommand::Delete { by: "ana".into() })
            .then_error(ThreadError::NotFound);
        given::<ThreadStream>(gone.clone())
            .when(change("ana", Some("back"), None))
            .then_error(ThreadError::NotFound);
        given::<ThreadStream>(gone)
            .when(ThreadCommand::Create(live(JoinableBy::Audience)))
            .then_error(ThreadError::AlreadyExists);
    }

    #[test]
    fn the_owner_always_joins_and_others_as_joinable_by_says() {
        for joinable_by in [JoinableBy::Audience, JoinableBy::Followers, JoinableBy::Nobody] {
            assert!(may_join("ana", "ana", joinable_by, false), "{joinable_by:?}");
        }
        assert!(may_join("bo", "ana", JoinableBy::Audience, false));
        assert!(may_join("bo", "ana", JoinableBy::Followers, true));
        assert!(!may_join("bo", "ana", JoinableBy::Followers, false));
        assert!(!may_join("bo", "ana", JoinableBy::Nobody, true));
    }
}
