//! One entry of a video thread as a decider over its `entry#` stream: added once, removed by its
//! author or by the thread's owner (whom the entry carries, so the decision needs no other
//! stream), and gone for good once removed. Whoever else asks, or names it under another thread,
//! gets the same answer as for an entry that does not exist.

use huddle_catalog::content::EntryEvent;
use huddle_catalog::graph::Audience;
use huddle_domain::decider::Decider;
use serde::{Deserialize, Serialize};

/// What the stream's events say of the entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThreadEntry {
    #[default]
    Unknown,
    Live(LiveEntry),
    Removed,
}

/// An entry that exists: its thread (with the thread's owner and audience) and what it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEntry {
    pub thread_id: String,
    pub thread_owner: String,
    pub audience: Audience,
    pub author: String,
    pub media_id: String,
    pub text: String,
}

impl ThreadEntry {
    /// The entry while it exists.
    pub fn live(&self) -> Option<&LiveEntry> {
        match self {
            ThreadEntry::Live(entry) => Some(entry),
            ThreadEntry::Unknown | ThreadEntry::Removed => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryCommand {
    Add(LiveEntry),
    /// `by` removes the entry of thread `thread_id` (the thread the request named).
    Remove {
        by: String,
        thread_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("that entry id is taken")]
    AlreadyExists,
    /// Unknown, removed, of another thread, or neither the caller's nor in the caller's thread.
    #[error("no such entry")]
    NotFound,
}

pub struct EntryStream;

impl Decider for EntryStream {
    type State = ThreadEntry;
    type Command = EntryCommand;
    type Event = EntryEvent;
    type Error = EntryError;

    fn decide(entry: &ThreadEntry, command: EntryCommand) -> Result<Vec<EntryEvent>, EntryError> {
        match command {
            EntryCommand::Add(LiveEntry { thread_id, thread_owner, audience, author, media_id, text }) => {
                if *entry != ThreadEntry::Unknown {
                    return Err(EntryError::AlreadyExists);
                }
                Ok(vec![EntryEvent::EntryAdded { thread_id, thread_owner, audience, author, media_id, text }])
            }
            EntryCommand::Remove { by, thread_id } => {
                let removable = entry.live().is_some_and(|live| {
                    live.thread_id == thread_id && (live.author == by || live.thread_owner == by)
                });
                if !removable {
                    return Err(EntryError::NotFound);
                }
                Ok(vec![EntryEvent::EntryRemoved])
            }
        }
    }

    fn evolve(entry: ThreadEntry, event: &EntryEvent) -> ThreadEntry {
        match (entry, event) {
            (_, EntryEvent::EntryAdded { thread_id, thread_owner, audience, author, media_id, text }) => {
                ThreadEntry::Live(LiveEntry {
                    thread_id: thread_id.clone(),
                    thread_owner: thread_owner.clone(),
                    audience: *audience,
                    author: author.clone(),
                    media_id: media_id.clone(),
                    text: text.clone(),
                })
            }
            (_, EntryEvent::EntryRemoved) => ThreadEntry::Removed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_domain::decider::testing::given;

    fn live() -> LiveEntry {
        LiveEntry {
            thread_id: "thr_1".into(),
            thread_owner: "ana".into(),
            audience: Audience::Followers,
            author: "bo".into(),
            media_id: "med_1".into(),
            text: "me too".into(),
        }
    }

    fn added() -> EntryEvent {
        EntryEvent::EntryAdded {
            thread_id: "thr_1".into(),
            thread_owner: "ana".into(),
            audience: Audience::Followers,
            author: "bo".into(),
            media_id: "med_1".into(),
            text: "me too".into(),
        }
    }

    fn remove(by: &str, thread_id: &str) -> EntryCommand {
        EntryCommand::Remove { by: by.into(), thread_id: thread_id.into() }
    }

    #[test]
    fn an_entry_is_added_once_as_its_command_says() {
        let made = given::<EntryStream>([]).when(EntryCommand::Add(live())).then([added()]);
        assert_eq!(made, ThreadEntry::Live(live()));
        given::<EntryStream>([added()]).when(EntryCommand::Add(live())).then_error(EntryError::AlreadyExists);
    }

    #[test]
    fn the_author_or_the_threads_owner_removes_it_and_nobody_else() {
        for by in ["bo", "ana"] {
            let removed =
                given::<EntryStream>([added()]).when(remove(by, "thr_1")).then([EntryEvent::EntryRemoved]);
            assert_eq!(removed, ThreadEntry::Removed);
        }
        given::<EntryStream>([added()]).when(remove("cy", "thr_1")).then_error(EntryError::NotFound);
        given::<EntryStream>([added()]).when(remove("bo", "thr_2")).then_error(EntryError::NotFound);
        given::<EntryStream>([]).when(remove("bo", "thr_1")).then_error(EntryError::NotFound);
    }

    #[test]
    fn a_removed_entry_is_gone_for_good() {
        let gone = [added(), EntryEvent::EntryRemoved];
        given::<EntryStream>(gone.clone()).when(remove("bo", "thr_1")).then_error(EntryError::NotFound);
        given::<EntryStream>(gone.clone()).when(remove("ana", "thr_1")).then_error(EntryError::NotFound);
        given::<EntryStream>(gone).when(EntryCommand::Add(live())).then_error(EntryError::AlreadyExists);
    }
}
