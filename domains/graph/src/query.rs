//! The query role: the lists (newest first, keyset-paginated with signed cursors) and the
//! caller's relationships, from the read table.

use crate::command::audience_tier;
use crate::read_model::{AccountCard, List, ENTRY_ID, ENTRY_SINCE_MS};
use crate::routes::{Operation, MAX_RELATIONSHIP_IDS, ROUTES};
use crate::views::{AccountPage, FollowPage, ListedAccount, Relationships};
use crate::visibility::GraphReader;
use async_trait::async_trait;
use huddle_catalog::accounts::ACCOUNT_ID_PREFIX;
use huddle_domain::operation;
use huddle_http::{
    caller, is_prefixed_id, json_response, prefixed_id, query_parameter, request_id, ApiError, Body,
    CursorCodec, HttpFunction, Request, Response,
};
use huddle_ports::{Key, Query, Table, TableError};
use lambda_http::http::StatusCode;
use serde_json::Value;
use std::sync::Arc;
use time::OffsetDateTime;

pub struct GraphQuery {
    pub(crate) read_model: Arc<dyn Table>,
    pub(crate) reader: GraphReader,
    pub(crate) cursors: CursorCodec,
}

fn no_such_account() -> ApiError {
    ApiError::not_found("no such account")
}

/// One page of a list, as its entries' accounts are now: an entry whose account is gone (erased)
/// is left out.
struct Listed {
    items: Vec<ListedAccount>,
    next_cursor: Option<String>,
}

impl GraphQuery {
    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        let caller = caller(&request)?.account_id;
        let request_id = request_id(&request);
        let failed = |e: TableError| ApiError::internal(&request_id, &e);
        let (request, caller) = (&request, caller.as_str());
        let own = |list: List| async move {
            let Listed { items, next_cursor } = self.page(request, list, caller).await.map_err(failed)??;
            Ok::<_, ApiError>(json_response(StatusCode::OK, &AccountPage { items, next_cursor }))
        };
        match operation(&ROUTES, request)? {
            Operation::ListFollowRequests => own(List::FollowRequests).await,
            Operation::ListBlocks => own(List::Blocks).await,
            Operation::ListMutes => own(List::Mutes).await,
            Operation::ListAudience => own(List::Tier(audience_tier(request)?)).await,
            list @ (Operation::ListFollowers | Operation::ListFollowing) => {
                let owner = prefixed_id(request, "id", ACCOUNT_ID_PREFIX)?;
                self.may_see_lists_of(caller, &owner).await.map_err(failed)??;
                let list = if list == Operation::ListFollowers { List::Followers } else { List::Following };
                let Listed { items, next_cursor } =
                    self.page(request, list, &owner).await.map_err(failed)??;
                let items = items.into_iter().map(Into::into).collect();
                Ok(json_response(StatusCode::OK, &FollowPage { items, next_cursor }))
            }
            Operation::GetRelationships => {
                let ids = relationship_ids(request)?;
                let relationships =
                    futures::future::try_join_all(ids.iter().map(|id| self.reader.relationship(caller, id)));
                let items = relationships.await.map_err(failed)?;
                Ok(json_response(StatusCode::OK, &Relationships { items }))
            }
            command => Err(ApiError::not_found(format!("{command:?} is not a query"))),
        }
    }

    /// Whether `viewer` may see `owner`'s followers and following: 404 when the account is gone
    /// or one of the two blocks the other; 403 when it is locked and the viewer does not follow it.
    async fn may_see_lists_of(&self, viewer: &str, owner: &str) -> Result<Result<(), ApiError>, TableError> {
        if viewer == owner {
            return Ok(Ok(()));
        }
        let (card, standing) = futures::try_join!(
            AccountCard::live(self.read_model.as_ref(), owner),
            self.reader.standing(viewer, owner)
        )?;
        Ok(match card {
            None => Err(no_such_account()),
            Some(_) if standing.blocked_either_way => Err(no_such_account()),
            Some(card) if card.locked && !standing.follows => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "locked",
                "this account is locked: only its followers see whom it follows and who follows it",
            )),
            Some(_) => Ok(()),
        })
    }

    /// The page `?limit=&cursor=` asks for of `owner`'s `list`, newest first.
    async fn page(
        &self,
        request: &Request,
        list: List,
        owner: &str,
    ) -> Result<Result<Listed, ApiError>, TableError> {
        let partition = list.partition(owner);
        // A cursor names the last sort key of its page, signed for this one list.
        let scope = format!("graph-list:{partition}");
        let (limit, after) = match self.cursors.page::<String>(request, &scope) {
            Ok(page) => page,
            Err(refused) => return Ok(Err(refused)),
        };
        let query =
            Query::new(&partition).backward().limit(limit).after(after.map(|sk| Key::new(&partition, sk)));
        let page = self.read_model.query(&query).await?;
        let entries = page.items.iter().filter_map(|item| {
            let id = item.get(ENTRY_ID)?.as_str()?.to_owned();
            let since_ms = item.get(ENTRY_SINCE_MS).and_then(Value::as_i64)?;
            Some((id, since_ms))
        });
        let cards = futures::future::try_join_all(entries.map(|(id, since_ms)| async move {
            let card = AccountCard::live(self.read_model.as_ref(), &id).await?;
            Ok::<_, TableError>(card.map(|card| listed(id, card, since_ms)))
        }));
        let items = cards.await?.into_iter().flatten().collect();
        let next_cursor = page.next.map(|key| self.cursors.encode(&scope, &key.sk));
        Ok(Ok(Listed { items, next_cursor }))
    }
}

fn listed(id: String, card: AccountCard, since_ms: i64) -> ListedAccount {
    let since = OffsetDateTime::from_unix_timestamp_nanos(i128::from(since_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    ListedAccount { id, username: card.username, display_name: card.display_name, since }
}

/// `?ids=a,b,…`: 1 to [`MAX_RELATIONSHIP_IDS`] account ids, each once, in the order given.
fn relationship_ids(request: &Request) -> Result<Vec<String>, ApiError> {
    let invalid = |why: String| ApiError::bad_request("invalid_ids", why);
    let text = query_parameter(request, "ids").unwrap_or_default();
    let mut ids: Vec<String> = Vec::new();
    for id in text.split(',').filter(|id| !id.is_empty()) {
        if !is_prefixed_id(id, ACCOUNT_ID_PREFIX) {
            return Err(invalid(format!("{id:.40} is not an account id")));
        }
        if !ids.iter().any(|seen| seen == id) {
            ids.push(id.to_owned());
        }
    }
    match ids.len() {
        0 => Err(invalid("name 1 to 40 account ids, separated by commas".into())),
        n if n > MAX_RELATIONSHIP_IDS => Err(invalid(format!("at most {MAX_RELATIONSHIP_IDS} ids at once"))),
        _ => Ok(ids),
    }
}

#[async_trait]
impl HttpFunction for GraphQuery {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}
