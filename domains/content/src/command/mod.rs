//! The command role: posts (`posts.rs`: create, edit, delete) and likes (`likes.rs`), each one
//! `Execution` on its stream. What a post may be is checked before (`checks.rs`: text, media,
//! audience, the parent); mentions are resolved to accounts as it is written (`mentions.rs`).
//! Whether the caller may see a post is the graph's rule, read through its granted port.

mod checks;
mod likes;
mod mentions;
mod posts;

use crate::post::{LivePost, Post, PostError, PostStream};
use crate::read_model::{may_see, PostRecord};
use crate::render::Renderer;
use crate::routes::{Operation, ROUTES};
use async_trait::async_trait;
use huddle_catalog::content::{post_stream, POST_ID_PREFIX};
use huddle_domain::decider::load;
use huddle_domain::operation;
use huddle_eventstore::{EventStore, Metadata};
use huddle_graph::visibility::GraphReader;
use huddle_http::{
    caller, correlation_id, prefixed_id, request_id, ApiError, Body, FieldError, HttpFunction, Request,
    Response,
};
use huddle_ports::Table;
use lambda_http::http::StatusCode;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub struct ContentCommand {
    pub(crate) events: EventStore,
    /// The content read table: whether an author was erased, and what a like answers with.
    pub(crate) read_model: Arc<dyn Table>,
    pub(crate) graph: GraphReader,
    pub(crate) renderer: Renderer,
}

/// Who asks, and what their appends carry.
pub(crate) struct Caller {
    pub account: String,
    pub metadata: Metadata,
    pub request_id: String,
}

impl From<PostError> for ApiError {
    fn from(error: PostError) -> Self {
        match error {
            PostError::NotFound => not_found(),
            PostError::Empty => ApiError::validation(vec![FieldError::new("text", error.to_string())]),
            PostError::AlreadyExists => ApiError::conflict("conflict", error.to_string()),
        }
    }
}

pub(crate) fn not_found() -> ApiError {
    ApiError::not_found("no post you may see has this id")
}

fn no_content() -> Response<Body> {
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).expect("a response")
}

/// A time as views show it.
pub(crate) fn shown(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// The record a view is made of, from a post's folded state.
pub(crate) fn record_of(
    post: LivePost,
    created_at: Option<OffsetDateTime>,
    edited_at: Option<OffsetDateTime>,
) -> PostRecord {
    let LivePost { author, text, media_ids, audience, reply_to, thread_id, mentions, tags } = post;
    PostRecord {
        author,
        text,
        media_ids,
        audience,
        reply_to,
        thread_id,
        mentions,
        tags,
        created_at: created_at.map(shown).unwrap_or_default(),
        edited_at: edited_at.map(shown),
    }
}

impl ContentCommand {
    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        let operation = operation(&ROUTES, &request)?;
        let account = caller(&request)?.account_id;
        let request_id = request_id(&request);
        let metadata = Metadata::new(correlation_id(&request)).actor(&account).caused_by(&request_id);
        let caller = Caller { account, metadata, request_id };
        let post_id = || prefixed_id(&request, "id", POST_ID_PREFIX);
        match operation {
            Operation::CreatePost => self.create(&caller, &request).await,
            Operation::EditPost => self.edit(&caller, &post_id()?, &request).await,
            Operation::DeletePost => self.delete(&caller, &post_id()?).await.map(|()| no_content()),
            Operation::LikePost => self.like(&caller, &post_id()?).await,
            Operation::UnlikePost => self.unlike(&caller, &post_id()?).await.map(|()| no_content()),
            query => Err(ApiError::not_found(format!("{query:?} is not a command"))),
        }
    }

    /// Post `post_id` as its stream has it, if `viewer` may see it: it exists, its author was
    /// not erased, and the graph's rule lets the viewer see its audience (a block either way
    /// hides it). A post the viewer may not see is no post to it.
    pub(crate) async fn visible(
        &self,
        post_id: &str,
        viewer: &Caller,
    ) -> Result<Option<huddle_domain::decider::Current<PostStream>>, ApiError> {
        let internal = |e: &dyn std::fmt::Display| ApiError::internal(&viewer.request_id, e);
        let current =
            load::<PostStream>(&self.events, post_stream(post_id)).await.map_err(|e| internal(&e))?;
        let Post::Live(post) = &current.state else { return Ok(None) };
        let may =
            may_see(self.read_model.as_ref(), &self.graph, &viewer.account, &post.author, post.audience);
        Ok(may.await.map_err(|e| internal(&e))?.then_some(current))
    }
}

#[async_trait]
impl HttpFunction for ContentCommand {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}
