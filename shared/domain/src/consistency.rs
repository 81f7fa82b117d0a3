//! Read your own writes. A command's response names what its appends wrote (each stream and
//! the newest version written to it) in an opaque, tamper-evident `Huddle-Consistency` token;
//! a query sent the token back answers only once the domain's projection has applied those
//! versions of the streams its subscription takes, waiting up to [`WAIT`], else 503
//! `projection_behind`. Hosts serve a domain's roles through [`command_role`] and
//! [`query_role`], so no domain writes any of it.

use crate::{Domain, DomainPorts};
use async_trait::async_trait;
use huddle_delivery::applied_version;
use huddle_eventstore::{attribute, recording_appends, stream_type, Written};
use huddle_http::{request_id, ApiError, Body, CursorCodec, HttpFunction, Request, Response};
use huddle_ports::{FilterPolicy, Table};
use lambda_http::http::{HeaderName, HeaderValue};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The header a command answers with and a query is sent.
pub const HEADER: HeaderName = HeaderName::from_static("huddle-consistency");

/// How long a query waits for its projection to apply a token's versions.
pub const WAIT: Duration = Duration::from_secs(2);

/// A longer token is refused unread, and a command that would write one sends none.
pub const MAX_TOKEN_BYTES: usize = 4 * 1024;

/// A token naming more streams is refused, so one request costs at most this many reads a poll.
pub const MAX_TOKEN_STREAMS: usize = 100;

/// Tokens are signed as cursors are, under the deployment's request secret, in a scope of their
/// own: a cursor is never taken for a token, nor the reverse.
const SCOPE: &str = "consistency";

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_millis(200);

/// The token naming `written`; `None` when nothing was written or it would be over the bounds.
pub fn token(codec: &CursorCodec, written: &Written) -> Option<String> {
    if written.is_empty() || written.len() > MAX_TOKEN_STREAMS {
        return None;
    }
    Some(codec.encode(SCOPE, written)).filter(|token| token.len() <= MAX_TOKEN_BYTES)
}

/// What `token` names, if this deployment signed it and it is within the bounds.
pub fn decode(codec: &CursorCodec, token: &[u8]) -> Result<Written, ApiError> {
    let invalid =
        |why: &str| ApiError::bad_request("invalid_consistency_token", format!("the {HEADER} {why}"));
    if token.len() > MAX_TOKEN_BYTES {
        return Err(invalid(&format!("token is over {MAX_TOKEN_BYTES} bytes")));
    }
    let token = std::str::from_utf8(token).map_err(|_| invalid("token is not one we issued"))?;
    let written: Written = codec.decode(SCOPE, token).map_err(|_| invalid("token is not one we issued"))?;
    if written.len() > MAX_TOKEN_STREAMS {
        return Err(invalid(&format!("token names over {MAX_TOKEN_STREAMS} streams")));
    }
    Ok(written)
}

/// `domain`'s command role, answering with a token whenever its appends wrote something
/// (an idempotent repeat names what the first request wrote).
pub fn command_role(domain: &dyn Domain, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
    Arc::new(TokenIssuing { command: domain.command(ports), codec: ports.cursors.clone() })
}

/// `domain`'s query role, holding each request that carries a token until the projection
/// caught up with it.
pub fn query_role(domain: &dyn Domain, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
    Arc::new(TokenHonouring {
        query: domain.query(ports),
        codec: ports.cursors.clone(),
        read_model: ports.read_model.clone(),
        consumes: domain.consumes(),
    })
}

struct TokenIssuing {
    command: Arc<dyn HttpFunction>,
    codec: CursorCodec,
}

#[async_trait]
impl HttpFunction for TokenIssuing {
    async fn call(&self, request: Request) -> Response<Body> {
        let (mut response, written) = recording_appends(self.command.call(request)).await;
        // Only a success speaks for its writes: a refused request (an idempotency key reused for
        // another body, say) may have looked at someone else's first append, and must not name it.
        if !response.status().is_success() {
            return response;
        }
        match token(&self.codec, &written).and_then(|token| HeaderValue::try_from(token).ok()) {
            Some(token) => {
                response.headers_mut().insert(HEADER, token);
            }
            None if !written.is_empty() => {
                tracing::warn!(
                    streams = written.len(),
                    "the append is too large to name in a consistency token"
                );
            }
            None => {}
        }
        response
    }
}

struct TokenHonouring {
    query: Arc<dyn HttpFunction>,
    codec: CursorCodec,
    read_model: Arc<dyn Table>,
    consumes: FilterPolicy,
}

#[async_trait]
impl HttpFunction for TokenHonouring {
    async fn call(&self, request: Request) -> Response<Body> {
        match self.caught_up(&request).await {
            Ok(()) => self.query.call(request).await,
            Err(error) => error.into_response(),
        }
    }
}

impl TokenHonouring {
    /// Waits until the projection applied every version the request's token names of a stream
    /// the domain consumes (the others it never sees). A checkpoint is written in the
    /// transaction of the read-model change it counts, and table reads are strongly
    /// consistent, so the query that follows sees the change.
    async fn caught_up(&self, request: &Request) -> Result<(), ApiError> {
        let Some(token) = request.headers().get(HEADER) else { return Ok(()) };
        let mut pending: Vec<(String, u64)> = decode(&self.codec, token.as_bytes())?
            .into_iter()
            .filter(|(stream, _)| self.consumes.may_match(attribute::STREAM_TYPE, stream_type(stream)))
            .collect();
        let deadline = Instant::now() + WAIT;
        let mut pause = FIRST_PAUSE;
        loop {
            let applied = futures::future::try_join_all(
                pending.iter().map(|(stream, _)| applied_version(self.read_model.as_ref(), stream)),
            )
            .await
            .map_err(|e| ApiError::internal(&request_id(request), &e))?;
            pending = pending
                .into_iter()
                .zip(applied)
                .filter(|((_, wanted), applied)| applied < wanted)
                .map(|(stream, _)| stream)
                .collect();
            if pending.is_empty() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ApiError::unavailable(
                    "projection_behind",
                    "this read does not include your latest change yet; ask again",
                    Duration::from_secs(1),
                ));
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_delivery::CHECKPOINT_PREFIX;
    use huddle_embedded::{Database, SqliteTable};
    use huddle_eventstore::{EventStore, ExpectedVersion, Idempotency, Metadata, NewEvent};
    use huddle_ports::Condition;
    use lambda_http::http::StatusCode;
    use serde_json::json;

    const SECRET: &[u8] = b"the deployment's request secret";

    /// Appends one event to each of its streams, one append each (under an idempotency key,
    /// when it has one).
    struct Appending {
        events: EventStore,
        streams: &'static [&'static str],
        idempotency: Option<&'static str>,
    }

    #[async_trait]
    impl HttpFunction for Appending {
        async fn call(&self, _request: Request) -> Response<Body> {
            let event = || NewEvent { event_type: "Noted".into(), schema_version: 1, payload: json!({}) };
            let idempotency = self.idempotency.map(|key| Idempotency { key: key.into(), receipt: None });
            for stream in self.streams {
                let metadata = Metadata::new("test");
                let appended = self.events.append(
                    stream,
                    ExpectedVersion::Any,
                    vec![event()],
                    &metadata,
                    idempotency.clone(),
                );
                appended.await.unwrap();
            }
            Response::new(Body::Empty)
        }
    }

    struct Answering;

    #[async_trait]
    impl HttpFunction for Answering {
        async fn call(&self, _request: Request) -> Response<Body> {
            Response::new(Body::Text("read".into()))
        }
    }

    fn tables() -> (EventStore, Arc<dyn Table>) {
        let database = Database::in_memory().unwrap();
        (
            EventStore::new(Arc::new(SqliteTable::new(&database, "events", true))),
            Arc::new(SqliteTable::new(&database, "read", false)),
        )
    }

    fn issuing(
        events: &EventStore,
        streams: &'static [&'static str],
        key: Option<&'static str>,
    ) -> TokenIssuing {
        let command = Arc::new(Appending { events: events.clone(), streams, idempotency: key });
        TokenIssuing { command, codec: CursorCodec::new(SECRET) }
    }

    fn honouring(read_model: &Arc<dyn Table>) -> TokenHonouring {
        TokenHonouring {
            query: Arc::new(Answering),
            codec: CursorCodec::new(SECRET),
            read_model: read_model.clone(),
            consumes: FilterPolicy::attribute_in(attribute::STREAM_TYPE, &["note"]),
        }
    }

    fn with_token(token: &str) -> Request {
        lambda_http::http::Request::builder().header(HEADER, token).body(Body::Empty).unwrap()
    }

    async fn checkpoint(read_model: &dyn Table, stream: &str, version: u64) {
        let item =
            json!({"pk": format!("{CHECKPOINT_PREFIX}{stream}"), "sk": "checkpoint", "version": version});
        let serde_json::Value::Object(item) = item else { unreachable!("an object") };
        read_model.put(item, Condition::Always).await.unwrap();
    }

    fn named(token: &str) -> Written {
        decode(&CursorCodec::new(SECRET), token.as_bytes()).unwrap()
    }

    #[tokio::test]
    async fn a_command_names_each_stream_it_wrote_at_its_newest_version_and_a_repeat_the_first_writes() {
        let (events, _) = tables();
        let twice = issuing(&events, &["note#1", "note#1", "tag#a"], None);
        let response = twice.call(Request::default()).await;
        let token = response.headers()[HEADER].to_str().unwrap().to_owned();
        assert_eq!(named(&token), Written::from([("note#1".into(), 2), ("tag#a".into(), 1)]));

        let keyed = issuing(&events, &["note#2"], Some("once"));
        let first = keyed.call(Request::default()).await.headers()[HEADER].to_str().unwrap().to_owned();
        let repeat = keyed.call(Request::default()).await.headers()[HEADER].to_str().unwrap().to_owned();
        assert_eq!(
            named(&first),
            named(&repeat),
            "a repeat wrote nothing, but a read after it must see the first writes"
        );
        assert_eq!(events.head("note#2").await.unwrap(), 1);

        let idle = issuing(&events, &[], None).call(Request::default()).await;
        assert!(idle.headers().get(HEADER).is_none(), "nothing written, nothing to wait for");
    }

    #[tokio::test]
    async fn a_query_answers_once_the_projection_applied_the_tokens_versions_of_streams_it_consumes() {
        let (_, read_model) = tables();
        let codec = CursorCodec::new(SECRET);
        let written = Written::from([("note#1".into(), 3), ("tag#a".into(), 9)]);
        let token = token(&codec, &written).unwrap();
        checkpoint(read_model.as_ref(), "note#1", 2).await;
        let projecting = {
            let read_model = read_model.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(150)).await;
                checkpoint(read_model.as_ref(), "note#1", 3).await;
            }
        };
        let query = honouring(&read_model);
        let started = Instant::now();
        let (response, ()) = tokio::join!(query.call(with_token(&token)), projecting);
        assert_eq!(response.status(), StatusCode::OK, "tag#a is not consumed, so never waited for");
        assert!(started.elapsed() >= Duration::from_millis(150), "answered before the projection caught up");
        assert!(started.elapsed() < WAIT);
    }

    #[tokio::test]
    async fn tokens_that_are_forged_foreign_or_oversized_are_refused() {
        let (_, read_model) = tables();
        let query = honouring(&read_model);
        let written = Written::from([("note#1".into(), 1)]);
        let foreign = token(&CursorCodec::new(b"another deployment"), &written).unwrap();
        let cursor = CursorCodec::new(SECRET).encode("feed", &written);
        let many: Written = (0..=MAX_TOKEN_STREAMS).map(|n| (format!("note#{n}"), 1)).collect();
        let too_many = CursorCodec::new(SECRET).encode(SCOPE, &many);
        let long = "a".repeat(MAX_TOKEN_BYTES + 1);
        for refused in [foreign.as_str(), cursor.as_str(), too_many.as_str(), long.as_str(), "garbage"] {
            let response = query.call(with_token(refused)).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{refused}");
            let Body::Text(body) = response.body() else { panic!("a JSON error") };
            assert!(body.contains("invalid_consistency_token"), "{body}");
        }
        assert!(token(&CursorCodec::new(SECRET), &many).is_none(), "a command never issues one");
    }
}
