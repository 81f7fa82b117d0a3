//! The command role: each use case on its pair stream with the decider kit (load, decide, append
//! in one transaction, decide again on a conflict). A rule that spans streams (no follow across
//! a block, no follow of an erased account, a lock applies from the moment it is set) is checked
//! in the same transaction: the streams it rests on must be unchanged since they were read
//! ([`huddle_eventstore::StreamWrite::unchanged`]), so a block and a follow that race never both
//! land.

mod accounts;
mod audiences;
mod follow;
mod relations;

pub(crate) use audiences::tier as audience_tier;

use crate::follow::{Follow, FollowState};
use crate::relation::{Block, Mute};
use crate::routes::{Operation, ROUTES};
use crate::tiers::TierMembership;
use crate::views::Relationship;
use async_trait::async_trait;
use huddle_catalog::accounts::ACCOUNT_ID_PREFIX;
use huddle_catalog::graph::{pair_stream, AUDIENCE, BLOCK, FOLLOW, MUTE};
use huddle_domain::decider::{load, refused, Decider, ExecuteError};
use huddle_domain::{operation, Execution};
use huddle_eventstore::{EventSchema, EventStore, Metadata, StreamWrite};
use huddle_http::{
    caller, correlation_id, json_response, prefixed_id, request_id, ApiError, Body, FieldError, HttpFunction,
    Request, Response,
};
use lambda_http::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub struct GraphCommand {
    pub(crate) events: EventStore,
}

/// The caller and the account a route names, once both are known to be two accounts.
pub(crate) struct Pair {
    pub caller: String,
    pub other: String,
    pub metadata: Metadata,
    pub request_id: String,
}

fn blocked() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "blocked", "one of the two accounts blocks the other")
}

fn no_content() -> Response<Body> {
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).expect("a response")
}

impl GraphCommand {
    async fn handle(&self, request: Request) -> Result<Response<Body>, ApiError> {
        match operation(&ROUTES, &request)? {
            Operation::Follow => self.follow(&self.pair(&request)?).await,
            Operation::Unfollow => self.unfollow(&self.pair(&request)?).await,
            Operation::AcceptFollowRequest => self.answer_request(&self.pair(&request)?, true).await,
            Operation::RejectFollowRequest => self.answer_request(&self.pair(&request)?, false).await,
            Operation::Block => self.block(&self.pair(&request)?).await,
            Operation::Unblock => self.unblock(&self.pair(&request)?).await,
            Operation::Mute => self.mute(&self.pair(&request)?).await,
            Operation::Unmute => self.unmute(&self.pair(&request)?).await,
            Operation::AddToAudience => {
                let tier = audience_tier(&request)?;
                self.add_to_audience(&self.pair(&request)?, tier).await
            }
            Operation::RemoveFromAudience => {
                let tier = audience_tier(&request)?;
                self.remove_from_audience(&self.pair(&request)?, tier).await
            }
            query => Err(ApiError::not_found(format!("{query:?} is not a command"))),
        }
    }

    /// The caller and the `account_id` of the path: 404 for what is no account id, 422 for the
    /// caller's own.
    fn pair(&self, request: &Request) -> Result<Pair, ApiError> {
        let caller = caller(request)?.account_id;
        let other = prefixed_id(request, "account_id", ACCOUNT_ID_PREFIX)?;
        if other == caller {
            let why = "this is your own account";
            return Err(ApiError::validation(vec![FieldError::new("account_id", why)]));
        }
        let request_id = request_id(request);
        let metadata = Metadata::new(correlation_id(request)).actor(&caller).caused_by(&request_id);
        Ok(Pair { caller, other, metadata, request_id })
    }

    /// `command` on `stream`, made by the pair's caller, with no other writes.
    async fn run<D>(&self, pair: &Pair, stream: String, command: D::Command) -> Result<(), ApiError>
    where
        D: Decider,
        D::State: Serialize + DeserializeOwned,
        D::Command: Clone,
        D::Event: EventSchema + Clone,
        ApiError: From<D::Error>,
    {
        Execution::<D>::new(&self.events, stream, command, pair.metadata.clone())
            .execute::<ApiError>()
            .await
            .map_err(refused(&pair.request_id))?;
        Ok(())
    }

    /// The caller's relationship with the other account after the change, from the six streams
    /// between them (the read table may not have the change yet).
    async fn answer(&self, pair: &Pair) -> Result<Response<Body>, ApiError> {
        let (caller, other) = (pair.caller.as_str(), pair.other.as_str());
        let (following, followed_by, blocking, blocked_by, muting, member) = tokio::try_join!(
            load::<Follow>(&self.events, pair_stream(FOLLOW, caller, other)),
            load::<Follow>(&self.events, pair_stream(FOLLOW, other, caller)),
            load::<Block>(&self.events, pair_stream(BLOCK, caller, other)),
            load::<Block>(&self.events, pair_stream(BLOCK, other, caller)),
            load::<Mute>(&self.events, pair_stream(MUTE, caller, other)),
            load::<TierMembership>(&self.events, pair_stream(AUDIENCE, caller, other)),
        )
        .map_err(|e| ApiError::internal(&pair.request_id, &e))?;
        let relationship = Relationship {
            id: pair.other.clone(),
            following: following.state == FollowState::Following,
            requested: following.state == FollowState::Requested,
            followed_by: followed_by.state == FollowState::Following,
            blocking: blocking.state,
            blocked_by: blocked_by.state,
            muting: muting.state,
            tier: member.state,
        };
        Ok(json_response(StatusCode::OK, &relationship))
    }

    /// Refused when one of the pair blocks the other; else the checks that neither block
    /// changes before the caller's append lands.
    async fn not_blocked(&self, pair: &Pair) -> Result<Vec<StreamWrite>, ExecuteError<ApiError>> {
        let (one_way, other_way) = tokio::try_join!(
            load::<Block>(&self.events, pair_stream(BLOCK, &pair.caller, &pair.other)),
            load::<Block>(&self.events, pair_stream(BLOCK, &pair.other, &pair.caller)),
        )?;
        if one_way.state || other_way.state {
            return Err(ExecuteError::Rejected(blocked()));
        }
        Ok(vec![one_way.unchanged(), other_way.unchanged()])
    }
}

#[async_trait]
impl HttpFunction for GraphCommand {
    async fn call(&self, request: Request) -> Response<Body> {
        self.handle(request).await.unwrap_or_else(ApiError::into_response)
    }
}
