//! S3's event notifications as a queue carries them: the message body S3 sends to SQS when an
//! object is created (`{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": …,
//! "object": {"key", "size"}}}]}`, keys form-encoded), and the test event it sends once when a
//! notification is configured. The embedded store writes this shape and the upload handlers'
//! runtime reads it, so both families deliver the same messages.

use serde::{Deserialize, Serialize};

/// One object created under a notified prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    /// The object's key, decoded.
    pub key: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an S3 event notification: {0}")]
pub struct NotANotification(String);

#[derive(Serialize, Deserialize)]
struct Notification {
    #[serde(rename = "Records", default)]
    records: Vec<Record>,
    /// `s3:TestEvent` for the message S3 sends when a notification is configured.
    #[serde(rename = "Event", default, skip_serializing_if = "Option::is_none")]
    event: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    #[serde(rename = "eventSource", default)]
    event_source: String,
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: Entity,
}

#[derive(Serialize, Deserialize)]
struct Entity {
    bucket: Bucket,
    object: Object,
}

#[derive(Serialize, Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Serialize, Deserialize)]
struct Object {
    key: String,
    #[serde(default)]
    size: u64,
}

/// The objects a notification's body says were created (none for S3's test event, or for
/// events of other kinds).
pub fn objects_created(body: &str) -> Result<Vec<ObjectCreated>, NotANotification> {
    let notification: Notification =
        serde_json::from_str(body).map_err(|error| NotANotification(error.to_string()))?;
    if notification.event.is_some() {
        return Ok(Vec::new());
    }
    notification
        .records
        .into_iter()
        .filter(|record| record.event_source == "aws:s3" && record.event_name.starts_with("ObjectCreated:"))
        .map(|record| {
            let key = form_decoded(&record.s3.object.key)
                .ok_or_else(|| NotANotification(format!("undecodable key {:?}", record.s3.object.key)))?;
            Ok(ObjectCreated { key, size: record.s3.object.size })
        })
        .collect()
}

/// The body S3 sends for `object`, created by a PUT into `bucket`.
pub fn notification_body(bucket: &str, object: &ObjectCreated) -> String {
    let record = Record {
        event_source: "aws:s3".into(),
        event_name: "ObjectCreated:Put".into(),
        s3: Entity {
            bucket: Bucket { name: bucket.into() },
            object: Object { key: form_encoded(&object.key), size: object.size },
        },
    };
    serde_json::to_string(&Notification { records: vec![record], event: None })
        .expect("a notification serializes")
}

/// A key as S3 writes it into an event: form-encoded, a space as `+`.
fn form_encoded(key: &str) -> String {
    let mut encoded = String::with_capacity(key.len());
    for byte in key.bytes() {
        match byte {
            b' ' => encoded.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

fn form_decoded(encoded: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.bytes();
    while let Some(byte) = rest.next() {
        bytes.push(match byte {
            b'+' => b' ',
            b'%' => {
                let high = (rest.next()? as char).to_digit(16)?;
                let low = (rest.next()? as char).to_digit(16)?;
                (high * 16 + low) as u8
            }
            other => other,
        });
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_round_trips_keys_with_spaces_and_non_ascii_letters() {
        let object = ObjectCreated { key: "uploads/acc 1/ü+%.png".into(), size: 42 };
        let body = notification_body("media", &object);
        assert!(body.contains(r#""key":"uploads/acc+1/%C3%BC%2B%25.png""#), "{body}");
        assert_eq!(objects_created(&body), Ok(vec![object]));
    }

    #[test]
    fn s3s_own_event_shape_is_read_and_its_test_event_and_other_kinds_are_skipped() {
        // As S3 documents a notification, trimmed of what is not read.
        let put = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
            "eventTime":"2026-12-03T10:00:00.000Z","eventName":"ObjectCreated:Put",
            "userIdentity":{"principalId":"AWS:X"},"requestParameters":{"sourceIPAddress":"1.2.3.4"},
            "s3":{"s3SchemaVersion":"1.0","configurationId":"uploads","bucket":{"name":"media","arn":"arn:aws:s3:::media"},
            "object":{"key":"uploads/a%3Ab","size":7,"eTag":"x","sequencer":"0A"}}}]}"#;
        assert_eq!(objects_created(put), Ok(vec![ObjectCreated { key: "uploads/a:b".into(), size: 7 }]));
        let test_event = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-03T10:00:00.000Z","Bucket":"media"}"#;
        assert_eq!(objects_created(test_event), Ok(vec![]));
        let removed = put.replace("ObjectCreated:Put", "ObjectRemoved:Delete");
        assert_eq!(objects_created(&removed), Ok(vec![]));
        assert!(objects_created("{not json").is_err());
        assert!(objects_created(&put.replace("a%3Ab", "a%3")).is_err(), "a truncated escape");
    }
}
