//! The note aggregate behind HTTP, as a real domain's command and query functions are built,
//! plus a test authorizer (`Authorization: Bearer test:<account id>`).

use crate::notes::{
    decide, events, evolve, stream_of, Note, NoteCommand, NoteError, NoteEvent, NotesProjection,
};
use async_trait::async_trait;
use aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use huddle_delivery::Projection;
use huddle_domain::{operation, Access, Domain, DomainPorts, DomainRoute, Role, RouteDeclaration, PAGE};
use huddle_eventstore::{decode, EventSchema, EventStore, ExpectedVersion, Metadata};
use huddle_http::{
    caller, correlation_id, json_body, json_response, path_parameter, replay_or, request_id, ApiError,
    Authorizer, Body, CursorCodec, FieldError, HttpFunction, IdempotencyKeys, Request, Response,
};
use huddle_ports::{Key, Query, Table};
use lambda_http::http::{Method, StatusCode};
use serde_json::json;
use std::sync::{Arc, LazyLock};

pub struct NotesDomain;

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
enum NoteOperation {
    WriteNote,
    LikeNote,
    ListNotes,
    GetNote,
}

static NOTE_ROUTES: LazyLock<Vec<RouteDeclaration<NoteOperation>>> = LazyLock::new(|| {
    let route = |operation, method, path, role| {
        RouteDeclaration::new(operation, method, path, role, Access::Authorized, "")
    };
    vec![
        route(NoteOperation::WriteNote, Method::POST, "/v1/notes", Role::Command),
        route(NoteOperation::LikeNote, Method::POST, "/v1/notes/{id}/likes", Role::Command),
        RouteDeclaration {
            query: PAGE,
            ..route(NoteOperation::ListNotes, Method::GET, "/v1/notes", Role::Query)
        },
        route(NoteOperation::GetNote, Method::GET, "/v1/notes/{id}", Role::Query),
    ]
});

impl Domain for NotesDomain {
    fn name(&self) -> &'static str {
        "notes"
    }

    fn routes(&self) -> Vec<DomainRoute> {
        NOTE_ROUTES.iter().map(|route| route.erased()).collect()
    }

    fn consumes(&self) -> huddle_ports::FilterPolicy {
        huddle_ports::FilterPolicy::attribute_in("event_type", NoteEvent::event_types())
    }

    fn command(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        Arc::new(NotesCommand { events: ports.events.clone(), idempotency: ports.idempotency.clone() })
    }

    fn query(&self, ports: &DomainPorts) -> Arc<dyn HttpFunction> {
        Arc::new(NotesQuery { read_model: ports.read_model.clone(), cursors: ports.cursors.clone() })
    }

    fn projection(&self, _ports: &DomainPorts) -> Arc<dyn Projection> {
        Arc::new(NotesProjection)
    }

    fn authorizer(&self, _ports: &DomainPorts) -> Option<Arc<dyn Authorizer>> {
        Some(Arc::new(TestAuthorizer))
    }
}

fn note_error(error: NoteError) -> ApiError {
    match error {
        NoteError::AlreadyExists => ApiError::conflict("already_exists", error.to_string()),
        NoteError::NotFound => ApiError::not_found(error.to_string()),
        NoteError::InvalidText => ApiError::validation(vec![FieldError::new("text", error.to_string())]),
    }
}

struct NotesCommand {
    events: EventStore,
    idempotency: IdempotencyKeys,
}

#[derive(serde::Deserialize)]
struct WriteNote {
    text: String,
}

impl NotesCommand {
    async fn load(&self, id: &str, request_id: &str) -> Result<(Note, u64), ApiError> {
        let envelopes = self
            .events
            .read_stream(&stream_of(id), 1..)
            .await
            .map_err(|e| ApiError::internal(request_id, &e))?;
        let version = envelopes.last().map_or(0, |e| e.version);
        let mut note = Note::default();
        for envelope in &envelopes {
            let event: NoteEvent = decode(envelope).map_err(|e| ApiError::internal(request_id, &e))?;
            note = evolve(note, &event);
        }
        Ok((note, version))
    }

    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(&request)?;
        let request_id = request_id(&request);
        let metadata =
            Metadata::new(correlation_id(&request)).actor(&caller.account_id).caused_by(&request_id);
        let retry = self.idempotency.of(&request, &caller.account_id)?;
        let (id, command, status) = match operation(&NOTE_ROUTES, &request)? {
            NoteOperation::WriteNote => {
                let body: WriteNote = json_body(&request)?;
                (ulid::Ulid::new().to_string(), NoteCommand::Write { text: body.text }, StatusCode::CREATED)
            }
            NoteOperation::LikeNote => (
                path_parameter(&request, "id")?,
                NoteCommand::Like { by: caller.account_id.clone() },
                StatusCode::OK,
            ),
            query => return Err(ApiError::not_found(format!("{query:?} is not a command"))),
        };
        let (note, version) = self.load(&id, &request_id).await?;
        let new_events = decide(&note, command).map_err(note_error)?;
        let body = json!({ "id": id });
        if new_events.is_empty() {
            return Ok(json_response(status, &body));
        }
        let appended = self
            .events
            .append(
                &stream_of(&id),
                ExpectedVersion::Exact(version),
                events(&new_events),
                &metadata,
                retry.as_ref().map(|r| r.with_response(status, &body)),
            )
            .await
            .map_err(|e| ApiError::from_append(e, &request_id))?;
        replay_or(&appended, retry.as_ref(), status, &body)
    }
}

#[async_trait]
impl HttpFunction for NotesCommand {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}

struct NotesQuery {
    read_model: Arc<dyn Table>,
    cursors: CursorCodec,
}

impl NotesQuery {
    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        caller(&request)?;
        let request_id = request_id(&request);
        let failed = |e: huddle_ports::TableError| ApiError::internal(&request_id, &e);
        match operation(&NOTE_ROUTES, &request)? {
            NoteOperation::GetNote => {
                let id = path_parameter(&request, "id")?;
                let stream = stream_of(&id);
                let counters = self.read_model.get(&Key::new(&stream, "note")).await.map_err(failed)?;
                let text = self.read_model.get(&Key::new(&stream, "text")).await.map_err(failed)?;
                let (Some(counters), Some(text)) = (counters, text) else {
                    return Err(ApiError::not_found("no such note"));
                };
                Ok(json_response(
                    StatusCode::OK,
                    &json!({"id": id, "text": text["text"], "likes": counters["likes"], "edits": counters["edits"]}),
                ))
            }
            NoteOperation::ListNotes => {
                let (limit, after) = self.cursors.page::<Key>(&request, "notes")?;
                let page = self
                    .read_model
                    .query(&Query::new("notes").limit(limit).after(after))
                    .await
                    .map_err(failed)?;
                let items: Vec<_> = page.items.iter().map(|item| json!({"id": item["sk"]})).collect();
                let next_cursor = page.next.map(|key| self.cursors.encode("notes", &key));
                Ok(json_response(StatusCode::OK, &json!({ "items": items, "next_cursor": next_cursor })))
            }
            command => Err(ApiError::not_found(format!("{command:?} is not a query"))),
        }
    }
}

#[async_trait]
impl HttpFunction for NotesQuery {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}

/// Accepts `Bearer test:<account id>` and nothing else.
pub struct TestAuthorizer;

#[async_trait]
impl Authorizer for TestAuthorizer {
    async fn authorize(
        &self,
        request: ApiGatewayV2CustomAuthorizerV2Request,
    ) -> ApiGatewayV2CustomAuthorizerSimpleResponse {
        let token = request.identity_source.unwrap_or_default().into_iter().next().unwrap_or_default();
        let account = token.strip_prefix("Bearer test:").filter(|a| !a.is_empty());
        let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
        response.is_authorized = account.is_some();
        response.context = json!({ "account_id": account.unwrap_or_default() });
        response
    }
}
