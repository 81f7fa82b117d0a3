//! Typed event payloads: an enum per aggregate, serialized adjacently tagged
//! (`#[serde(tag = "type", content = "data")]`) so the variant name is the envelope's event type
//! and the variant's fields are the payload.

use crate::{Envelope, NewEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// A family of events (one aggregate's enum) with its schema history.
pub trait EventSchema: Serialize + DeserializeOwned + strum::VariantNames {
    /// Every event type of the schema, as `encode` names them (derive `strum::VariantNames` on
    /// the enum, which serde tags by its variant names): subscriptions filter by these.
    fn event_types() -> &'static [&'static str] {
        Self::VARIANTS
    }

    /// The schema version new events of `event_type` are written with.
    fn schema_version(_event_type: &str) -> u32 {
        1
    }

    /// Rewrite a payload stored at an older `schema_version` into the current shape.
    fn upcast(event_type: &str, schema_version: u32, payload: Value) -> Result<Value, DecodeError> {
        let _ = (event_type, payload);
        Err(DecodeError::UnknownSchemaVersion(schema_version))
    }

    /// The payload fields of `event_type` that are personal data: `encode_personal` seals them
    /// under the data subject's key, so erasing the subject erases them (see `personal`).
    fn personal_fields(_event_type: &str) -> &'static [&'static str] {
        &[]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown schema version {0}")]
    UnknownSchemaVersion(u32),
    #[error("undecodable payload: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("{0}")]
    Sealed(String),
}

/// The type, schema version and payload to append for `event`.
pub fn encode<E: EventSchema>(event: &E) -> NewEvent {
    let tagged = serde_json::to_value(event).expect("events serialize");
    let event_type = tagged["type"].as_str().expect("events are adjacently tagged by `type`").to_owned();
    debug_assert!(
        E::event_types().contains(&event_type.as_str()),
        "{event_type} is not among the schema's event types: a serde rename the variant names do not carry"
    );
    let payload = tagged.get("data").cloned().unwrap_or(Value::Null);
    NewEvent { schema_version: E::schema_version(&event_type), event_type, payload }
}

/// The typed event in an envelope, upcast from an older schema version if need be.
/// Events with sealed personal fields decode with `decode_personal` instead.
pub fn decode<E: EventSchema>(envelope: &Envelope) -> Result<E, DecodeError> {
    decode_payload(&envelope.event_type, envelope.schema_version, envelope.payload.clone())
}

pub(crate) fn decode_payload<E: EventSchema>(
    event_type: &str,
    schema_version: u32,
    payload: Value,
) -> Result<E, DecodeError> {
    let current = E::schema_version(event_type);
    let payload = if schema_version == current {
        payload
    } else if schema_version < current {
        E::upcast(event_type, schema_version, payload)?
    } else {
        return Err(DecodeError::UnknownSchemaVersion(schema_version));
    };
    let tagged = if payload.is_null() {
        json!({ "type": event_type })
    } else {
        json!({ "type": event_type, "data": payload })
    };
    Ok(serde_json::from_value(tagged)?)
}
