//! The command role: posts (`posts.rs`: create, edit, delete), video threads (`threads.rs`:
//! create, change, delete), their entries (`entries.rs`: add, remove, like) and likes
//! (`likes.rs`), each one `Execution` on its stream. What a post, thread or entry may be is
//! checked before (`checks.rs`: text, title, media, audience, the parent); mentions are resolved
//! to accounts as a post is written (`mentions.rs`). Whether the caller may see a post or a
//! thread is the graph's rule, read through its granted port.

mod checks;
mod entries;
mod likes;
mod mentions;
mod posts;
mod threads;

use crate::entry::EntryError;
use crate::post::{LivePost, Post, PostError, PostStream};
use crate::read_model::{may_see, PostRecord};
use crate::render::Renderer;
use crate::routes::{Operation, ROUTES};
use crate::thread::{Thread, ThreadError, ThreadStream};
use async_trait::async_trait;
use huddle_catalog::content::{
    post_stream, thread_stream, ENTRY_ID_PREFIX, POST_ID_PREFIX, THREAD_ID_PREFIX,
};
use huddle_catalog::graph::Audience;
use huddle_domain::decider::{load, Current, Decider};
use huddle_domain::operation;
use huddle_domain::throttle::{Limit, Throttle};
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
    /// Counts [`WRITES_PER_ACCOUNT`].
    pub(crate) writes: Throttle,
}

/// What an account may write in a window: posts, replies, edits, threads and entries together,
/// Mastodon's limit on statuses (300 per 3 hours). Each carries text or mentions others would
/// read, so a script that posts or edits without end is stopped, as an upload script is.
pub const WRITES_PER_ACCOUNT: Limit = Limit::new(300, 3 * 60 * 60);

impl ContentCommand {
    /// Counts one write of the caller's, once it is one Huddle takes; 429 over the limit
    /// (account ids are no personal data).
    pub(crate) async fn counted(&self, caller: &Caller) -> Result<(), ApiError> {
        let counted = self.writes.take(&caller.account).await;
        match counted.map_err(|e| ApiError::internal(&caller.request_id, &e))? {
            Ok(_) => Ok(()),
            Err(throttled) => Err(ApiError::too_many_requests(
                "too_many_writes",
                format!("at most {WRITES_PER_ACCOUNT} posts, edits, threads and entries per account (a count per seconds)"),
                throttled.retry_after,
            )),
        }
    }
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

impl From<ThreadError> for ApiError {
    fn from(error: ThreadError) -> Self {
        match error {
            ThreadError::NotFound => no_thread(),
            ThreadError::AlreadyExists => ApiError::conflict("conflict", error.to_string()),
        }
    }
}

impl From<EntryError> for ApiError {
    fn from(error: EntryError) -> Self {
        match error {
            EntryError::NotFound => no_entry(),
            EntryError::AlreadyExists => ApiError::conflict("conflict", error.to_string()),
        }
    }
}

pub(crate) fn not_found() -> ApiError {
    ApiError::not_found("no post you may see has this id")
}

pub(crate) fn no_thread() -> ApiError {
    ApiError::not_found("no thread you may see has this id")
}

pub(crate) fn no_entry() -> ApiError {
    ApiError::not_found("no entry you may see has this id in this thread")
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
        let thread_id = || prefixed_id(&request, "id", THREAD_ID_PREFIX);
        let entry_id = || prefixed_id(&request, "entry_id", ENTRY_ID_PREFIX);
        match operation {
            Operation::CreatePost => self.create(&caller, &request).await,
            Operation::EditPost => self.edit(&caller, &post_id()?, &request).await,
            Operation::DeletePost => self.delete(&caller, &post_id()?).await.map(|()| no_content()),
            Operation::LikePost => self.like_post(&caller, &post_id()?).await,
            Operation::UnlikePost => self.unlike(&caller, &post_id()?).await.map(|()| no_content()),
            Operation::CreateThread => self.create_thread(&caller, &request).await,
            Operation::ChangeThread => self.change_thread(&caller, &thread_id()?, &request).await,
            Operation::DeleteThread => {
                self.delete_thread(&caller, &thread_id()?).await.map(|()| no_content())
            }
            Operation::AddEntry => self.add_entry(&caller, &thread_id()?, &request).await,
            Operation::RemoveEntry => {
                self.remove_entry(&caller, &thread_id()?, &entry_id()?).await.map(|()| no_content())
            }
            Operation::LikeEntry => self.like_entry(&caller, &thread_id()?, &entry_id()?).await,
            Operation::UnlikeEntry => {
                thread_id()?;
                self.unlike(&caller, &entry_id()?).await.map(|()| no_content())
            }
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
    ) -> Result<Option<Current<PostStream>>, ApiError> {
        let shared = |post: &Post| post.live().map(|post| (post.author.clone(), post.audience));
        self.visible_stream(post_stream(post_id), viewer, shared).await
    }

    /// Thread `thread_id` as its stream has it, if `viewer` may see it (as [`Self::visible`]).
    pub(crate) async fn visible_thread(
        &self,
        thread_id: &str,
        viewer: &Caller,
    ) -> Result<Option<Current<ThreadStream>>, ApiError> {
        let shared = |thread: &Thread| thread.live().map(|thread| (thread.owner.clone(), thread.audience));
        self.visible_stream(thread_stream(thread_id), viewer, shared).await
    }

    /// `stream` loaded, if what it holds exists (`shared`: by whom, with whom) and `viewer` may
    /// see it.
    async fn visible_stream<D>(
        &self,
        stream: String,
        viewer: &Caller,
        shared: impl Fn(&D::State) -> Option<(String, Audience)>,
    ) -> Result<Option<Current<D>>, ApiError>
    where
        D: Decider,
        D::State: serde::Serialize + serde::de::DeserializeOwned,
        D::Event: huddle_eventstore::EventSchema,
    {
        let internal = |e: &dyn std::fmt::Display| ApiError::internal(&viewer.request_id, e);
        let current = load::<D>(&self.events, stream).await.map_err(|e| internal(&e))?;
        let Some((author, audience)) = shared(&current.state) else { return Ok(None) };
        let may = may_see(self.read_model.as_ref(), &self.graph, &viewer.account, &author, audience);
        Ok(may.await.map_err(|e| internal(&e))?.then_some(current))
    }
}

#[async_trait]
impl HttpFunction for ContentCommand {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}
