//! A test-only aggregate, "note", that exercises the platform the way a real domain will:
//! a decider (pure `decide` and `evolve`), its event schema, and a projection with a counter
//! and fan-out writes (a shared note in each reader's inbox).

use async_trait::async_trait;
use huddle_delivery::{Effect, FanOutWrite, Projected, Projection, ProjectionError};
use huddle_eventstore::{decode, encode, Envelope, EventSchema, NewEvent};
use huddle_ports::{Condition, Item, Key, Table, TransactWrite};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "type", content = "data")]
pub enum NoteEvent {
    NoteWritten {
        text: String,
    },
    NoteEdited {
        text: String,
    },
    NoteLiked {
        by: String,
    },
    /// Shared with readers `0..readers` (replacing an earlier share).
    NoteShared {
        readers: u32,
    },
    NoteDeleted,
}

impl EventSchema for NoteEvent {}

#[derive(Debug, Clone, PartialEq)]
pub enum NoteCommand {
    Write { text: String },
    Edit { text: String },
    Like { by: String },
    Share { readers: u32 },
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
        (Note::Live { .. }, NoteCommand::Share { readers }) => Ok(vec![NoteEvent::NoteShared { readers }]),
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

/// The partition of reader `reader`'s inbox, where a note shared with them is `note#<id>`.
pub fn inbox_of(reader: u32) -> String {
    format!("inbox#reader-{reader:05}")
}

/// Read model: `note#<id>/note` holds a like counter and an edit counter, `note#<id>/text` the
/// latest text, `note#<id>/shares` how many readers it is shared with, and `notes/<id>` lists
/// the live notes. The counters are not idempotent on their own: only the version gate keeps a
/// redelivered like from counting twice. A share puts the note into each reader's inbox (and
/// takes it out of the inboxes of readers an earlier share had and this one has not), and a
/// deletion takes it out of every inbox: fan-out writes.
pub struct NotesProjection;

impl NotesProjection {
    /// How many readers the note is shared with now, as the read model says.
    async fn shared_with(note_stream: &str, read_model: &dyn Table) -> Result<u32, ProjectionError> {
        let shares = read_model.get(&Key::new(note_stream, "shares")).await?;
        Ok(shares.and_then(|item| item.get("readers")?.as_u64()).map_or(0, |readers| readers as u32))
    }
}

#[async_trait]
impl Projection for NotesProjection {
    async fn project(&self, event: &Envelope, read_model: &dyn Table) -> Result<Projected, ProjectionError> {
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
        let sk = &event.stream;
        let unshare = |readers: std::ops::Range<u32>| {
            readers.map(|reader| FanOutWrite::Delete(Key::new(inbox_of(reader), sk))).collect::<Vec<_>>()
        };
        Ok(match decoded {
            NoteEvent::NoteShared { readers } => {
                let before = Self::shared_with(&event.stream, read_model).await?;
                let mut fan_out: Vec<FanOutWrite> = (0..readers)
                    .map(|reader| {
                        FanOutWrite::Put(item(&inbox_of(reader), sk, json!({ "shared_at": event.version })))
                    })
                    .collect();
                fan_out.extend(unshare(readers..before));
                let shares = item(&event.stream, "shares", json!({ "readers": readers }));
                Projected::from(vec![TransactWrite::Put { item: shares, condition: Condition::Always }])
                    .with_fan_out(fan_out)
            }
            NoteEvent::NoteDeleted => Projected::from(vec![
                TransactWrite::Delete { key: note, condition: Condition::Always },
                TransactWrite::Delete { key: Key::new(&event.stream, "text"), condition: Condition::Always },
                TransactWrite::Delete { key: Key::new("notes", id), condition: Condition::Always },
                TransactWrite::Delete {
                    key: Key::new(&event.stream, "shares"),
                    condition: Condition::Always,
                },
            ])
            .with_fan_out(unshare(0..Self::shared_with(&event.stream, read_model).await?)),
            NoteEvent::NoteWritten { text } => vec![
                TransactWrite::Put {
                    item: item(&note.pk, &note.sk, json!({"likes": 0, "edits": 0})),
                    condition: Condition::Always,
                },
                text_item(text),
                listing(Condition::Always),
            ]
            .into(),
            NoteEvent::NoteEdited { text } => {
                vec![TransactWrite::Add { key: note, attribute: "edits".into(), delta: 1 }, text_item(text)]
                    .into()
            }
            NoteEvent::NoteLiked { .. } => {
                vec![TransactWrite::Add { key: note, attribute: "likes".into(), delta: 1 }].into()
            }
        })
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
            NoteEvent::NoteWritten { .. } | NoteEvent::NoteShared { .. } | NoteEvent::NoteDeleted => {}
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
