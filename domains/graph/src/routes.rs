//! The graph routes, declared once: the command and the query dispatch on [`Operation`], and the
//! runner, template.yaml and the OpenAPI contract read [`ROUTES`].

use crate::views::{AccountPage, FollowPage, Relationship, Relationships};
use huddle_domain::{body, Access, ParameterKind, QueryParameter, Role, RouteDeclaration, PAGE};
use lambda_http::http::{Method, StatusCode};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum Operation {
    Follow,
    Unfollow,
    AcceptFollowRequest,
    RejectFollowRequest,
    Block,
    Unblock,
    Mute,
    Unmute,
    AddToAudience,
    RemoveFromAudience,
    ListFollowers,
    ListFollowing,
    ListFollowRequests,
    ListBlocks,
    ListMutes,
    ListAudience,
    GetRelationships,
}

/// At most this many ids in one `GET /v1/me/relationships`.
pub const MAX_RELATIONSHIP_IDS: usize = 40;

const NO_ACCOUNT: (StatusCode, &str) = (StatusCode::NOT_FOUND, "The account does not exist or was erased.");
const YOURSELF: (StatusCode, &str) = (StatusCode::UNPROCESSABLE_ENTITY, "The account is the caller's own.");
const BLOCKED: (StatusCode, &str) =
    (StatusCode::FORBIDDEN, "One of the two accounts blocks the other (`blocked`).");
const RACED: (StatusCode, &str) =
    (StatusCode::CONFLICT, "The relationship changed at the same time, more than retries could absorb.");
const NO_TIER: (StatusCode, &str) =
    (StatusCode::NOT_FOUND, "No such account, or the tier is not close_friends, friends or acquaintances.");
const PRIVATE_LISTS: (StatusCode, &str) =
    (StatusCode::FORBIDDEN, "The account is locked: only its followers see its lists (`locked`).");

const RELATIONSHIP_IDS: &[QueryParameter] = &[QueryParameter {
    name: "ids",
    description: "Up to 40 account ids, separated by commas.",
    kind: ParameterKind::Text { max_length: 1_400 },
}];

type Route = RouteDeclaration<Operation>;

/// Every graph route.
pub static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(routes);

fn routes() -> Vec<Route> {
    use Operation::*;
    let command = |operation, method, path, summary| {
        Route::new(operation, method, path, Role::Command, Access::Authorized, summary)
    };
    let query = |operation, path, summary| Route {
        query: PAGE,
        ..Route::new(operation, Method::GET, path, Role::Query, Access::Authorized, summary)
    };
    // A change that answers with the relationship it leaves, and one that answers nothing.
    let relating = |route: Route, errors| Route { response: Some(body::<Relationship>), errors, ..route };
    let ending =
        |route: Route| Route { status: StatusCode::NO_CONTENT, errors: &[NO_ACCOUNT, RACED], ..route };
    vec![
        relating(
            command(
                Follow,
                Method::PUT,
                "/v1/me/following/{account_id}",
                "Follow an account, or ask to when it is locked (`requested`).",
            ),
            &[NO_ACCOUNT, YOURSELF, BLOCKED, RACED],
        ),
        ending(command(
            Unfollow,
            Method::DELETE,
            "/v1/me/following/{account_id}",
            "Stop following an account, or take a follow request back.",
        )),
        relating(
            command(
                AcceptFollowRequest,
                Method::POST,
                "/v1/me/follow-requests/{account_id}/accept",
                "Let the account that asked follow the caller.",
            ),
            &[(StatusCode::NOT_FOUND, "The account has no pending request to follow the caller."), RACED],
        ),
        Route {
            errors: &[
                (StatusCode::NOT_FOUND, "The account has no pending request to follow the caller."),
                RACED,
            ],
            ..ending(command(
                RejectFollowRequest,
                Method::POST,
                "/v1/me/follow-requests/{account_id}/reject",
                "Refuse the account's request to follow the caller.",
            ))
        },
        relating(
            command(
                Block,
                Method::PUT,
                "/v1/me/blocks/{account_id}",
                "Block an account: follows and requests both ways end, and it leaves the caller's tiers.",
            ),
            &[NO_ACCOUNT, YOURSELF, RACED],
        ),
        ending(command(
            Unblock,
            Method::DELETE,
            "/v1/me/blocks/{account_id}",
            "Unblock an account (restores nothing).",
        )),
        relating(
            command(
                Mute,
                Method::PUT,
                "/v1/me/mutes/{account_id}",
                "Mute an account: its posts and notifications stop reaching the caller; the follow stays.",
            ),
            &[NO_ACCOUNT, YOURSELF, RACED],
        ),
        ending(command(Unmute, Method::DELETE, "/v1/me/mutes/{account_id}", "Unmute an account.")),
        relating(
            command(
                AddToAudience,
                Method::PUT,
                "/v1/me/audiences/{tier}/{account_id}",
                "Put an account in one of the caller's tiers (and so in every wider one).",
            ),
            &[NO_TIER, YOURSELF, BLOCKED, RACED],
        ),
        Route {
            errors: &[NO_TIER, RACED],
            ..ending(command(
                RemoveFromAudience,
                Method::DELETE,
                "/v1/me/audiences/{tier}/{account_id}",
                "Take an account out of a tier (and of every narrower one).",
            ))
        },
        Route {
            response: Some(body::<FollowPage>),
            errors: &[NO_ACCOUNT, PRIVATE_LISTS],
            ..query(ListFollowers, "/v1/accounts/{id}/followers", "Who follows the account, newest first.")
        },
        Route {
            response: Some(body::<FollowPage>),
            errors: &[NO_ACCOUNT, PRIVATE_LISTS],
            ..query(ListFollowing, "/v1/accounts/{id}/following", "Whom the account follows, newest first.")
        },
        Route {
            response: Some(body::<AccountPage>),
            ..query(
                ListFollowRequests,
                "/v1/me/follow-requests",
                "Who asks to follow the caller, newest first.",
            )
        },
        Route {
            response: Some(body::<AccountPage>),
            ..query(ListBlocks, "/v1/me/blocks", "Whom the caller blocks, newest first.")
        },
        Route {
            response: Some(body::<AccountPage>),
            ..query(ListMutes, "/v1/me/mutes", "Whom the caller mutes, newest first.")
        },
        Route {
            response: Some(body::<AccountPage>),
            errors: &[(StatusCode::NOT_FOUND, "The tier is not close_friends, friends or acquaintances.")],
            ..query(
                ListAudience,
                "/v1/me/audiences/{tier}",
                "The members of one of the caller's tiers, newest first.",
            )
        },
        Route {
            response: Some(body::<Relationships>),
            query: RELATIONSHIP_IDS,
            ..Route::new(
                GetRelationships,
                Method::GET,
                "/v1/me/relationships",
                Role::Query,
                Access::Authorized,
                "The caller's relationship with each of the accounts.",
            )
        },
    ]
}
