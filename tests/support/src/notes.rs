//! A test-only aggregate, "note", that exercises the platform the way a real domain will:
//! a decider (pure `decide` and `evolve`), its event schema, and a projection with a counter.

use async_trait::async_trait;
use huddle_delivery::{Effect, Projected, Projection, ProjectionError};
use huddle_eventstore::{decode, encode, Envelope, EventSchema, NewEvent};
use huddle_ports::{Condition, Item, Key, Table, TransactWrite};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum NoteEvent {
    NoteWritten { text: String },
    NoteEdited { text: String },
    NoteLiked { by: String },
    NoteDeleted,
}

impl EventSchema for NoteEvent {}

#[derive(Debug, Clone, PartialEq)]
pub enum NoteCommand {
    Write { text: String },
    Edit { text: String },
    Like { by: String },
    Delete,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Note {
    #[default]
    Missing,
    Live {
        text: String,
        likers: Vec<String>,
    },
    Deleted,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoteError {
    #[error("the note already exists")]
    AlreadyExists,
    #[error("no such note")]
    NotFound,
    #[error("text must be 1 to 280 characters")]
    InvalidText,
}

fn valid(text: &str) -> Result<String, NoteError> {
    let length = text.trim().chars().count();
    if (1..=280).contains(&length) {
        Ok(text.trim().to_owned())
    } else {
        Err(NoteError::InvalidText)
    }
}

/// The decider: what a command on a note in `state` causes.
pub fn decide(state: &Note, command: NoteCommand) -> Result<Vec<NoteEvent>, NoteError> {
    match (state, command) {
        (Note::Missing, NoteCommand::Write { text }) => {
            Ok(vec![NoteEvent::NoteWritten { text: valid(&text)? }])
        }
        (_, NoteCommand::Write { .. }) => Err(NoteError::AlreadyExists),
        (Note::Live { .. }, NoteCommand::Edit { text }) => {
            Ok(vec![NoteEvent::NoteEdited { text: valid(&text)? }])
        }
        (Note::Live { likers, .. }, NoteCommand::Like { by }) if likers.contains(&by) => Ok(vec![]),
        (Note::Live { .. }, NoteCommand::Like { by }) => Ok(vec![NoteEvent::NoteLiked { by }]),
        (Note::Live { .. }, NoteCommand::Delete) => Ok(vec![NoteEvent::NoteDeleted]),
        (Note::Missing | Note::Deleted, _) => Err(NoteError::NotFound),
    }
}

pub fn evolve(state: Note, event: &NoteEvent) -> Note {
    match (state, event) {
        (_, NoteEvent::NoteWritten { text }) => Note::Live { text: text.clone(), likers: vec![] },
        (Note::Live { likers, .. }, NoteEvent::NoteEdited { text }) => {
            Note::Live { text: text.clone(), likers }
        }
        (Note::Live { text, mut likers }, NoteEvent::NoteLiked { by }) => {
            likers.push(by.clone());
            Note::Live { text, likers }
        }
        (_, NoteEvent::NoteDeleted) => Note::Deleted,
        (state, _) => state,
    }
}

pub fn stream_of(id: &str) -> String {
    format!("note#{id}")
}

pub fn events(events: &[NoteEvent]) -> Vec<NewEvent> {
    events.iter().map(encode).collect()
}

/// Read model: `note#<id>/note` holds a like counter and an edit counter, `note#<id>/text` the
/// latest text, and `notes/<id>` lists the live notes. The counters are not idempotent on their
/// own: only the version gate keeps a redelivered like from counting twice.
pub struct NotesProjection;

#[async_trait]
impl Projection for NotesProjection {
    async fn project(&self, event: &Envelope, _read_model: &dyn Table) -> Result<Projected, ProjectionError> {
        let id = event
            .stream
            .strip_prefix("note#")
            .ok_or_else(|| ProjectionError::Invalid(event.stream.clone()))?;
        let note = Key::new(&event.stream, "note");
        let listing = |condition| TransactWrite::Put { item: item("notes", id, json!({})), condition };
        let decoded: NoteEvent = decode(event).map_err(|e| ProjectionError::Invalid(e.to_string()))?;
        let text_item = |text: String| TransactWrite::Put {
            item: item(&event.stream, "text", json!({ "text": text })),
            condition: Condition::Always,
        };
        Ok(match decoded {
            NoteEvent::NoteWritten { text } => vec![
                TransactWrite::Put {
                    item: item(&note.pk, &note.sk, json!({"likes": 0, "edits": 0})),
                    condition: Condition::Always,
                },
                text_item(text),
                listing(Condition::Always),
            ],
            NoteEvent::NoteEdited { text } => {
                vec![TransactWrite::Add { key: note, attribute: "edits".into(), delta: 1 }, text_item(text)]
            }
            NoteEvent::NoteLiked { .. } => {
                vec![TransactWrite::Add { key: note, attribute: "likes".into(), delta: 1 }]
            }
            NoteEvent::NoteDeleted => vec![
                TransactWrite::Delete { key: note, condition: Condition::Always },
                TransactWrite::Delete { key: Key::new(&event.stream, "text"), condition: Condition::Always },
                TransactWrite::Delete { key: Key::new("notes", id), condition: Condition::Always },
            ],
        }
        .into())
    }
}

/// The sink [`NotifyingNotesProjection`] tells a note's author about each like through.
pub const NOTIFY_SINK: &str = "notify";

/// The sink [`NotifyingNotesProjection`] announces each edit on.
pub const ACTIVITY_SINK: &str = "activity";

/// [`NotesProjection`] with side effects: a like emits "notify the author" (keyed by the liker,
/// to [`NOTIFY_SINK`]) and an edit an activity message (to [`ACTIVITY_SINK`]).
pub struct NotifyingNotesProjection;

#[async_trait]
impl Projection for NotifyingNotesProjection {
    async fn project(&self, event: &Envelope, read_model: &dyn Table) -> Result<Projected, ProjectionError> {
        let mut projected = NotesProjection.project(event, read_model).await?;
        let decoded: NoteEvent = decode(event).map_err(|e| ProjectionError::Invalid(e.to_string()))?;
        let note = &event.stream;
        match decoded {
            NoteEvent::NoteLiked { by } => {
                let body = json!({ "note": note, "liked_by": by }).to_string();
                projected.effects.push(Effect::new(NOTIFY_SINK, by, body));
            }
            NoteEvent::NoteEdited { text } => {
                let body = json!({ "note": note, "text": text }).to_string();
                projected.effects.push(Effect::new(ACTIVITY_SINK, "edit", body));
            }
            NoteEvent::NoteWritten { .. } | NoteEvent::NoteDeleted => {}
        }
        Ok(projected)
    }
}

fn item(pk: &str, sk: &str, attributes: serde_json::Value) -> Item {
    let mut item = attributes.as_object().cloned().unwrap_or_default();
    item.insert("pk".into(), pk.into());
    item.insert("sk".into(), sk.into());
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(events: &[NoteEvent]) -> Note {
        events.iter().fold(Note::default(), evolve)
    }

    #[test]
    fn a_missing_note_can_be_written_once() {
        let written = decide(&given(&[]), NoteCommand::Write { text: " hi ".into() });
        assert_eq!(written, Ok(vec![NoteEvent::NoteWritten { text: "hi".into() }]));
        let again = decide(
            &given(&[NoteEvent::NoteWritten { text: "hi".into() }]),
            NoteCommand::Write { text: "x".into() },
        );
        assert_eq!(again, Err(NoteError::AlreadyExists));
    }

    #[test]
    fn likes_count_once_per_person() {
        let state =
            given(&[NoteEvent::NoteWritten { text: "hi".into() }, NoteEvent::NoteLiked { by: "ana".into() }]);
        assert_eq!(decide(&state, NoteCommand::Like { by: "ana".into() }), Ok(vec![]));
        assert_eq!(
            decide(&state, NoteCommand::Like { by: "bea".into() }),
            Ok(vec![NoteEvent::NoteLiked { by: "bea".into() }])
        );
    }

    #[test]
    fn deleted_notes_refuse_everything_and_text_is_validated() {
        let deleted = given(&[NoteEvent::NoteWritten { text: "hi".into() }, NoteEvent::NoteDeleted]);
        assert_eq!(decide(&deleted, NoteCommand::Like { by: "ana".into() }), Err(NoteError::NotFound));
        assert_eq!(
            decide(&given(&[]), NoteCommand::Write { text: "  ".into() }),
            Err(NoteError::InvalidText)
        );
    }
}
