//! The query role: a post, and the lists of posts (a post's replies, an account's posts, a tag's
//! public posts), newest first, keyset-paginated with sealed cursors; a video thread with a page
//! of its entries, oldest first, and an account's threads (`threads.rs`). Everything shown is
//! what the caller may see by the graph's rule (a block either way hides each side from the
//! other); a post or thread it may not see, or whose author was erased, is not there.

mod threads;

use crate::read_model::{may_see, may_see_each, post_key, Entry, List, PostRecord};
use crate::render::Renderer;
use crate::routes::{Operation, ROUTES};
use crate::text::is_tag;
use crate::views::{PostPage, PostView};
use async_trait::async_trait;
use huddle_catalog::accounts::ACCOUNT_ID_PREFIX;
use huddle_catalog::content::{POST_ID_PREFIX, THREAD_ID_PREFIX};
use huddle_catalog::graph::Audience;
use huddle_domain::operation;
use huddle_graph::visibility::GraphReader;
use huddle_http::{
    caller, json_response, path_parameter, prefixed_id, request_id, ApiError, Body, CursorCodec,
    HttpFunction, Request, Response,
};
use huddle_ports::{get_all, Key, Query, Table, TableError};
use lambda_http::http::StatusCode;
use std::sync::Arc;

pub struct ContentQuery {
    pub(crate) read_model: Arc<dyn Table>,
    pub(crate) graph: GraphReader,
    pub(crate) cursors: CursorCodec,
    pub(crate) renderer: Renderer,
}

fn no_post() -> ApiError {
    ApiError::not_found("no post you may see has this id")
}

fn no_thread() -> ApiError {
    ApiError::not_found("no thread you may see has this id")
}

/// One request's viewer, and the answers it needed so far.
struct Viewer<'a> {
    account: String,
    request_id: String,
    query: &'a ContentQuery,
}

impl Viewer<'_> {
    fn failed(&self) -> impl Fn(TableError) -> ApiError + '_ {
        |e| ApiError::internal(&self.request_id, &e)
    }

    /// Whether the viewer may see what `author` shared with `audience`: the graph's rule, and
    /// the author not erased.
    async fn may_see(&self, author: &str, audience: Audience) -> Result<bool, ApiError> {
        let query = self.query;
        may_see(query.read_model.as_ref(), &query.graph, &self.account, author, audience)
            .await
            .map_err(self.failed())
    }

    async fn record(&self, post_id: &str) -> Result<Option<PostRecord>, ApiError> {
        let item = self.query.read_model.get(&post_key(post_id)).await.map_err(self.failed())?;
        item.as_ref().map(PostRecord::of).transpose().map_err(self.failed())
    }

    /// The records of `post_ids`, in their order (a deleted post's is `None`), read in batches.
    async fn records(&self, post_ids: &[&str]) -> Result<Vec<Option<PostRecord>>, ApiError> {
        let keys: Vec<Key> = post_ids.iter().map(|id| post_key(id)).collect();
        let items = get_all(self.query.read_model.as_ref(), &keys).await.map_err(self.failed())?;
        items
            .iter()
            .map(|item| item.as_ref().map(PostRecord::of).transpose().map_err(self.failed()))
            .collect()
    }

    /// Which of `shared` (an author and an audience) the viewer may see, in its order.
    async fn may_see_each(&self, shared: &[(&str, Audience)]) -> Result<Vec<bool>, ApiError> {
        let query = self.query;
        may_see_each(query.read_model.as_ref(), &query.graph, &self.account, shared)
            .await
            .map_err(self.failed())
    }

    /// Of the posts `records` answer, those hidden from the viewer: there, and not for it to
    /// see. A reply shows only to whoever may see what it answers: its own audience is its
    /// author's tier, which says nothing of the parent's. A deleted post hides nothing: its
    /// replies stay where they were.
    async fn hidden_answered<'r>(
        &self,
        records: impl Iterator<Item = &'r PostRecord>,
    ) -> Result<Vec<String>, ApiError> {
        let mut answered: Vec<&str> = records.flat_map(answered_by).collect();
        answered.sort_unstable();
        answered.dedup();
        let there: Vec<(&str, PostRecord)> = answered
            .iter()
            .copied()
            .zip(self.records(&answered).await?)
            .filter_map(|(id, record)| Some((id, record?)))
            .collect();
        let shared: Vec<(&str, Audience)> =
            there.iter().map(|(_, record)| (record.author.as_str(), record.audience)).collect();
        let seen = self.may_see_each(&shared).await?;
        Ok(there.into_iter().zip(seen).filter(|(_, seen)| !seen).map(|((id, _), _)| id.to_owned()).collect())
    }

    /// Post `post_id` as the viewer may see it, or `None`.
    async fn post(&self, post_id: &str) -> Result<Option<PostView>, ApiError> {
        match self.record(post_id).await? {
            Some(record) if self.may_see(&record.author, record.audience).await? => {
                if !self.hidden_answered(std::iter::once(&record)).await?.is_empty() {
                    return Ok(None);
                }
                let view = self.query.renderer.view(post_id, record, &self.account, &self.request_id);
                Ok(Some(view.await?))
            }
            _ => Ok(None),
        }
    }

    /// The entries of the page `?limit=&cursor=` asks for of `list` that the viewer may see
    /// (`may_see_each`: each author's standing read once), in the list's order, and the cursor
    /// that resumes after the page. A page may hold fewer than the limit; its cursor still
    /// resumes after it.
    async fn visible_entries(
        &self,
        request: &Request,
        list: List<'_>,
    ) -> Result<(Vec<Entry>, Option<String>), ApiError> {
        let partition = list.partition();
        let scope = format!("content-list:{partition}");
        let (limit, after) = self.query.cursors.page::<String>(request, &scope)?;
        let query = Query::new(&partition);
        let query = if list.oldest_first() { query } else { query.backward() };
        let query = query.limit(limit).after(after.map(|sk| Key::new(&partition, sk)));
        let page = self.query.read_model.query(&query).await.map_err(self.failed())?;
        let entries: Vec<Entry> =
            page.items.iter().map(Entry::of).collect::<Result<_, _>>().map_err(self.failed())?;
        let shared: Vec<(&str, Audience)> =
            entries.iter().map(|entry| (entry.author.as_str(), entry.audience)).collect();
        let seen = self.may_see_each(&shared).await?;
        let shown = entries.into_iter().zip(seen).filter(|(_, seen)| *seen).map(|(entry, _)| entry).collect();
        let next_cursor = page.next.map(|key| self.query.cursors.encode(&scope, &key.sk));
        Ok((shown, next_cursor))
    }

    /// The page `?limit=&cursor=` asks for of `list`: the posts of its entries that the viewer
    /// may see, in the list's order, each kind of item read in batches (`Renderer::views`).
    async fn page(&self, request: &Request, list: List<'_>) -> Result<PostPage, ApiError> {
        let (entries, next_cursor) = self.visible_entries(request, list).await?;
        let shown: Vec<&str> = entries.iter().map(|entry| entry.id.as_str()).collect();
        // Deleted since the entry was read: left out.
        let records: Vec<(String, PostRecord)> = shown
            .iter()
            .zip(self.records(&shown).await?)
            .filter_map(|(id, record)| Some((id.to_string(), record?)))
            .collect();
        let hidden = self.hidden_answered(records.iter().map(|(_, record)| record)).await?;
        let answered: Vec<(String, PostRecord)> = records
            .into_iter()
            .filter(|(_, record)| !answered_by(record).iter().any(|id| hidden.iter().any(|h| h == id)))
            .collect();
        let items = self.query.renderer.views(answered, &self.account, &self.request_id).await?;
        Ok(PostPage { items, next_cursor })
    }
}

/// What `record` answers: its parent and its thread's root (nothing for a post that is no reply).
fn answered_by(record: &PostRecord) -> Vec<&str> {
    match &record.reply_to {
        Some(parent) => vec![parent.as_str(), record.thread_id.as_str()],
        None => Vec::new(),
    }
}

impl ContentQuery {
    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        let operation = operation(&ROUTES, &request)?;
        let viewer =
            Viewer { account: caller(&request)?.account_id, request_id: request_id(&request), query: self };
        let page = |page: PostPage| json_response(StatusCode::OK, &page);
        match operation {
            Operation::GetPost => {
                let post_id = prefixed_id(&request, "id", POST_ID_PREFIX)?;
                let post = viewer.post(&post_id).await?.ok_or_else(no_post)?;
                Ok(json_response(StatusCode::OK, &post))
            }
            Operation::ListReplies => {
                let parent = prefixed_id(&request, "id", POST_ID_PREFIX)?;
                viewer.post(&parent).await?.ok_or_else(no_post)?;
                Ok(page(viewer.page(&request, List::Replies { parent: &parent }).await?))
            }
            Operation::ListAccountPosts => {
                let author = prefixed_id(&request, "id", ACCOUNT_ID_PREFIX)?;
                Ok(page(viewer.page(&request, List::By { author: &author }).await?))
            }
            Operation::ListTagPosts => {
                let tag = path_parameter(&request, "tag")?;
                if !is_tag(&tag) {
                    return Err(ApiError::not_found("a tag is 1 to 30 of a-z, digits, - and _"));
                }
                Ok(page(viewer.page(&request, List::Tag { tag: &tag }).await?))
            }
            Operation::GetThread => {
                let thread_id = prefixed_id(&request, "id", THREAD_ID_PREFIX)?;
                Ok(json_response(StatusCode::OK, &viewer.thread_page(&request, &thread_id).await?))
            }
            Operation::ListAccountThreads => {
                let owner = prefixed_id(&request, "id", ACCOUNT_ID_PREFIX)?;
                Ok(json_response(StatusCode::OK, &viewer.threads(&request, &owner).await?))
            }
            command => Err(ApiError::not_found(format!("{command:?} is not a query"))),
        }
    }
}

#[async_trait]
impl HttpFunction for ContentQuery {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}
