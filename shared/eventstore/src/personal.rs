//! Crypto-shredding: the personal fields of an event are sealed (AES-256-GCM) under a key that
//! belongs to one data subject (an account) and lives in the events table beside the streams.
//! Erasing a subject deletes its key, which makes every copy of those fields unreadable at once:
//! the events, the stream records, the messages in queues and dead-letter queues, and the
//! backups. The events themselves are never rewritten.
//!
//! Stored shape: the event's personal fields leave its payload and come back as one field,
//! `"sealed": {"subject": "<id>", "data": "<base64 of nonce, ciphertext and tag>"}`.

use crate::schema::{decode_payload, DecodeError};
use crate::{encode, Envelope, EventSchema, NewEvent};
use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use huddle_ports::{Condition, Item, Key, TransactWrite};
use serde_json::{json, Map, Value};
use std::fmt;

const KEY_PREFIX: &str = "subject-key#";
const KEY_SK: &str = "key";
const KIND_SUBJECT_KEY: &str = "subject_key";
const SEALED_FIELD: &str = "sealed";

/// One data subject's key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct SubjectKey {
    subject: String,
    key: [u8; 32],
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectKey").field("subject", &self.subject).finish_non_exhaustive()
    }
}

/// A change to the subject keys, committed in the same transaction as an append.
#[derive(Debug, Clone)]
pub enum KeyChange {
    /// Store a new subject's key (refused if the subject already has one).
    Create(SubjectKey),
    /// Delete the subject's key: its sealed fields become unreadable everywhere.
    Shred(String),
}

impl SubjectKey {
    /// A fresh random key for `subject`.
    pub fn generate(subject: impl Into<String>) -> Self {
        let mut key = [0u8; 32];
        aws_lc_rs::rand::fill(&mut key).expect("the system random generator works");
        Self { subject: subject.into(), key }
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    fn cipher(&self) -> RandomizedNonceKey {
        RandomizedNonceKey::new(&AES_256_GCM, &self.key).expect("a 32-byte AES key")
    }

    /// `fields` sealed; `event_type` is bound in as associated data, so a sealed value cannot be
    /// moved into another kind of event.
    fn seal(&self, event_type: &str, fields: &Map<String, Value>) -> Value {
        self.seal_bytes(event_type.as_bytes(), serde_json::to_vec(fields).expect("JSON serializes"))
    }

    fn open(&self, event_type: &str, sealed: &str) -> Result<Map<String, Value>, DecodeError> {
        Ok(serde_json::from_slice(&self.open_bytes(event_type.as_bytes(), sealed)?)?)
    }

    /// `plain` sealed with `context` bound in as associated data: `{"subject", "data"}`.
    pub(crate) fn seal_bytes(&self, context: &[u8], mut plain: Vec<u8>) -> Value {
        let nonce = self
            .cipher()
            .seal_in_place_append_tag(Aad::from(context), &mut plain)
            .expect("sealing with a valid key");
        let mut sealed = nonce.as_ref().to_vec();
        sealed.extend_from_slice(&plain);
        json!({ "subject": self.subject, "data": BASE64.encode(sealed) })
    }

    /// The bytes `seal_bytes` sealed under this key with the same `context`.
    pub(crate) fn open_bytes(&self, context: &[u8], sealed: &str) -> Result<Vec<u8>, DecodeError> {
        let unreadable = || DecodeError::Sealed("sealed fields do not open with the subject's key".into());
        let bytes = BASE64.decode(sealed).map_err(|_| unreadable())?;
        if bytes.len() < NONCE_LEN {
            return Err(unreadable());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unreadable())?;
        let mut data = ciphertext.to_vec();
        let plain =
            self.cipher().open_in_place(nonce, Aad::from(context), &mut data).map_err(|_| unreadable())?;
        Ok(plain.to_vec())
    }

    pub(crate) fn from_item(subject: &str, item: &Item) -> Option<Self> {
        let bytes = BASE64.decode(item.get("key")?.as_str()?).ok()?;
        Some(Self { subject: subject.to_owned(), key: bytes.try_into().ok()? })
    }
}

pub(crate) fn key_of(subject: &str) -> Key {
    Key::new(format!("{KEY_PREFIX}{subject}"), KEY_SK)
}

pub(crate) fn is_key_stream(stream: &str) -> bool {
    stream.starts_with(KEY_PREFIX)
}

impl KeyChange {
    pub(crate) fn write(&self) -> TransactWrite {
        match self {
            KeyChange::Create(key) => {
                let Value::Object(item) = json!({
                    "pk": key_of(&key.subject).pk,
                    "sk": KEY_SK,
                    "kind": KIND_SUBJECT_KEY,
                    "key": BASE64.encode(key.key),
                }) else {
                    unreachable!("a JSON object")
                };
                TransactWrite::Put { item, condition: Condition::NotExists }
            }
            KeyChange::Shred(subject) => {
                TransactWrite::Delete { key: key_of(subject), condition: Condition::Always }
            }
        }
    }
}

/// `event` to append, with its personal fields (`E::personal_fields`) sealed under `key`.
pub fn encode_personal<E: EventSchema>(event: &E, key: &SubjectKey) -> NewEvent {
    let mut new_event = encode(event);
    let personal = E::personal_fields(&new_event.event_type);
    let Value::Object(payload) = &mut new_event.payload else { return new_event };
    let fields: Map<String, Value> = personal
        .iter()
        .filter_map(|name| payload.remove(*name).map(|value| (name.to_string(), value)))
        .collect();
    if !fields.is_empty() {
        payload.insert(SEALED_FIELD.into(), key.seal(&new_event.event_type, &fields));
    }
    new_event
}

/// The subject whose key sealed part of this event, if any.
pub fn sealed_subject(envelope: &Envelope) -> Option<&str> {
    envelope.payload.get(SEALED_FIELD)?.get("subject")?.as_str()
}

/// The typed event, its sealed fields opened with `key`. `Ok(None)` when the event holds sealed
/// fields and the subject's key is gone (`key` is `None`): its personal data was erased.
pub fn decode_personal<E: EventSchema>(
    envelope: &Envelope,
    key: Option<&SubjectKey>,
) -> Result<Option<E>, DecodeError> {
    let mut payload = envelope.payload.clone();
    if let Some(Value::Object(object)) = payload.as_object_mut().and_then(|p| p.remove(SEALED_FIELD)) {
        let Some(key) = key else { return Ok(None) };
        if object.get("subject").and_then(Value::as_str) != Some(key.subject.as_str()) {
            return Err(DecodeError::Sealed(format!("sealed for another subject than {}", key.subject)));
        }
        let sealed = object.get("data").and_then(Value::as_str).unwrap_or_default();
        let fields = key.open(&envelope.event_type, sealed)?;
        payload.as_object_mut().expect("an object payload").extend(fields);
    }
    decode_payload(&envelope.event_type, envelope.schema_version, payload).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use time::OffsetDateTime;
    use ulid::Ulid;

    #[derive(Debug, PartialEq, Serialize, Deserialize, strum::VariantNames)]
    #[serde(tag = "type", content = "data")]
    enum Registration {
        Registered { username: String, email: String },
        Renamed { email: String },
    }

    impl EventSchema for Registration {
        fn personal_fields(_event_type: &str) -> &'static [&'static str] {
            &["email"]
        }
    }

    fn stored(event: NewEvent) -> Envelope {
        Envelope {
            stream: "account#acc_1".into(),
            version: 1,
            event_id: Ulid::new(),
            event_type: event.event_type,
            schema_version: event.schema_version,
            occurred_at: OffsetDateTime::now_utc(),
            actor: None,
            correlation_id: "c".into(),
            causation_id: None,
            payload: event.payload,
        }
    }

    fn registered() -> Registration {
        Registration::Registered { username: "ana".into(), email: "ana@example.com".into() }
    }

    #[test]
    fn personal_fields_are_sealed_and_open_with_the_subjects_key() {
        let key = SubjectKey::generate("acc_1");
        let envelope = stored(encode_personal(&registered(), &key));
        assert_eq!(envelope.payload["username"], "ana", "other fields stay in clear");
        assert!(envelope.payload.get("email").is_none());
        assert!(!envelope.payload.to_string().contains("ana@example.com"));
        assert_eq!(sealed_subject(&envelope), Some("acc_1"));
        assert_eq!(decode_personal::<Registration>(&envelope, Some(&key)).unwrap(), Some(registered()));
    }

    #[test]
    fn without_the_key_a_sealed_event_reads_as_erased() {
        let envelope = stored(encode_personal(&registered(), &SubjectKey::generate("acc_1")));
        assert_eq!(decode_personal::<Registration>(&envelope, None).unwrap(), None);
    }

    #[test]
    fn another_key_a_moved_value_or_a_tampered_one_do_not_open() {
        let key = SubjectKey::generate("acc_1");
        let envelope = stored(encode_personal(&registered(), &key));
        let other_key = SubjectKey::generate("acc_1");
        assert!(decode_personal::<Registration>(&envelope, Some(&other_key)).is_err());
        assert!(decode_personal::<Registration>(&envelope, Some(&SubjectKey::generate("acc_2"))).is_err());

        let mut moved = stored(encode_personal(&Registration::Renamed { email: "x@y.z".into() }, &key));
        moved.payload["sealed"] = envelope.payload["sealed"].clone();
        assert!(decode_personal::<Registration>(&moved, Some(&key)).is_err(), "bound to its event type");

        let mut tampered = envelope.clone();
        let mut bytes = BASE64.decode(tampered.payload["sealed"]["data"].as_str().unwrap()).unwrap();
        bytes[NONCE_LEN] ^= 1;
        tampered.payload["sealed"]["data"] = BASE64.encode(bytes).into();
        assert!(decode_personal::<Registration>(&tampered, Some(&key)).is_err());
    }

    #[test]
    fn events_without_personal_fields_need_no_key_and_debug_hides_keys() {
        let envelope = stored(encode(&registered()));
        assert_eq!(decode_personal::<Registration>(&envelope, None).unwrap(), Some(registered()));
        let key = SubjectKey::generate("acc_1");
        assert!(!format!("{key:?}").contains(&format!("{:?}", key.key)));
    }
}
