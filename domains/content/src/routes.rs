//! The content routes, declared once: the command and the query dispatch on [`Operation`], and
//! the runner, template.yaml and the OpenAPI contract read [`ROUTES`].

use crate::views::{
    EntryView, Liked, NewEntry, NewPost, NewThread, PostEdit, PostPage, PostView, ThreadChange, ThreadList,
    ThreadPage, ThreadView,
};
use huddle_domain::{body, Access, Role, RouteDeclaration, RouteLink, PAGE};
use lambda_http::http::{Method, StatusCode};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum Operation {
    CreatePost,
    GetPost,
    EditPost,
    DeletePost,
    LikePost,
    UnlikePost,
    ListReplies,
    ListAccountPosts,
    ListTagPosts,
    CreateThread,
    GetThread,
    ChangeThread,
    DeleteThread,
    AddEntry,
    RemoveEntry,
    LikeEntry,
    UnlikeEntry,
    ListAccountThreads,
}

const NO_POST: (StatusCode, &str) =
    (StatusCode::NOT_FOUND, "No post with this id that the caller may see (a missing one looks the same).");
const NOT_YOURS: (StatusCode, &str) = (StatusCode::NOT_FOUND, "No post of the caller's has this id.");
const NOT_A_POST_ID: (StatusCode, &str) =
    (StatusCode::NOT_FOUND, "The id is not a post id (pst_ and a ULID).");
const NOT_AN_ACCOUNT_ID: (StatusCode, &str) =
    (StatusCode::NOT_FOUND, "The id is not an account id (acc_ and a ULID).");
const REFUSED_POST: (StatusCode, &str) = (
    StatusCode::UNPROCESSABLE_ENTITY,
    "Text over 2,000 characters, or empty without media; more than 10 media, or one that is not a ready media of the caller's; an audience wider than the parent's; too many mentions or tags.",
);
const TOO_MANY_WRITES: (StatusCode, &str) = (
    StatusCode::TOO_MANY_REQUESTS,
    "300 posts, edits, threads and entries in 3 hours per account (`too_many_writes`).",
);
const RACED: (StatusCode, &str) =
    (StatusCode::CONFLICT, "The post changed at the same time, more than retries could absorb.");

const TO_POST: &[RouteLink] =
    &[RouteLink { name: "GetPost", operation: "GetPost", parameters: &[("id", "$response.body#/id")] }];
const TO_THREAD: &[RouteLink] = &[
    RouteLink { name: "GetThread", operation: "GetThread", parameters: &[("id", "$response.body#/id")] },
    RouteLink { name: "AddEntry", operation: "AddEntry", parameters: &[("id", "$response.body#/id")] },
];
const TO_ENTRY: &[RouteLink] = &[
    RouteLink {
        name: "GetThread",
        operation: "GetThread",
        parameters: &[("id", "$response.body#/thread_id")],
    },
    RouteLink {
        name: "LikeEntry",
        operation: "LikeEntry",
        parameters: &[("id", "$response.body#/thread_id"), ("entry_id", "$response.body#/id")],
    },
];

const NO_THREAD: (StatusCode, &str) =
    (StatusCode::NOT_FOUND, "No thread with this id that the caller may see (a missing one looks the same).");
const NOT_YOUR_THREAD: (StatusCode, &str) = (StatusCode::NOT_FOUND, "No thread of the caller's has this id.");
const NO_ENTRY: (StatusCode, &str) = (
    StatusCode::NOT_FOUND,
    "No entry with this id in a thread the caller may see, by an account the caller may see.",
);
const NOT_JOINABLE: (StatusCode, &str) = (
    StatusCode::FORBIDDEN,
    "`not_joinable`: the caller may see the thread but not add to it (its owner lets only followers, or nobody).",
);
const REFUSED_THREAD: (StatusCode, &str) = (
    StatusCode::UNPROCESSABLE_ENTITY,
    "A title empty or over 100 characters; a media that is not a ready video of the caller's; nothing to change.",
);
const REFUSED_ENTRY: (StatusCode, &str) = (
    StatusCode::UNPROCESSABLE_ENTITY,
    "Text over 2,000 characters; a media that is not a ready video of the caller's.",
);

type Route = RouteDeclaration<Operation>;

/// Every content route.
pub static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(routes);

fn routes() -> Vec<Route> {
    use Operation::*;
    let route = |operation, method, path, role, summary| {
        Route::new(operation, method, path, role, Access::Authorized, summary)
    };
    let list = |operation, path, summary| Route {
        query: PAGE,
        response: Some(body::<PostPage>),
        ..route(operation, Method::GET, path, Role::Query, summary)
    };
    vec![
        Route {
            request: Some(body::<NewPost>),
            status: StatusCode::CREATED,
            response: Some(body::<PostView>),
            errors: &[REFUSED_POST, NO_POST, TOO_MANY_WRITES],
            links: TO_POST,
            ..route(
                CreatePost,
                Method::POST,
                "/v1/posts",
                Role::Command,
                "Post, or reply to a post the caller may see, for an audience no wider than its parent's.",
            )
        },
        Route {
            response: Some(body::<PostView>),
            errors: &[NO_POST],
            ..route(GetPost, Method::GET, "/v1/posts/{id}", Role::Query, "A post the caller may see.")
        },
        Route {
            request: Some(body::<PostEdit>),
            response: Some(body::<PostView>),
            errors: &[NOT_YOURS, REFUSED_POST, RACED, TOO_MANY_WRITES],
            ..route(
                EditPost,
                Method::PATCH,
                "/v1/posts/{id}",
                Role::Command,
                "Change the text of one of the caller's posts (mentions and tags follow it).",
            )
        },
        Route {
            status: StatusCode::NO_CONTENT,
            errors: &[NOT_YOURS, RACED],
            ..route(
                DeletePost,
                Method::DELETE,
                "/v1/posts/{id}",
                Role::Command,
                "Delete one of the caller's posts.",
            )
        },
        Route {
            response: Some(body::<Liked>),
            errors: &[NO_POST, RACED],
            ..route(
                LikePost,
                Method::PUT,
                "/v1/posts/{id}/like",
                Role::Command,
                "Like a post the caller may see.",
            )
        },
        Route {
            status: StatusCode::NO_CONTENT,
            errors: &[NOT_A_POST_ID, RACED],
            ..route(
                UnlikePost,
                Method::DELETE,
                "/v1/posts/{id}/like",
                Role::Command,
                "Take the caller's like back.",
            )
        },
        Route {
            errors: &[NO_POST],
            ..list(
                ListReplies,
                "/v1/posts/{id}/replies",
                "The replies to a post that the caller may see, newest first.",
            )
        },
        Route {
            errors: &[NOT_AN_ACCOUNT_ID],
            ..list(
                ListAccountPosts,
                "/v1/accounts/{id}/posts",
                "The account's posts that the caller may see, newest first.",
            )
        },
        Route {
            errors: &[(StatusCode::NOT_FOUND, "The tag is not 1 to 30 of a-z, digits, - and _.")],
            ..list(ListTagPosts, "/v1/tags/{tag}/posts", "Public posts with the tag, newest first.")
        },
        Route {
            request: Some(body::<NewThread>),
            status: StatusCode::CREATED,
            response: Some(body::<ThreadView>),
            errors: &[REFUSED_THREAD, TOO_MANY_WRITES],
            links: TO_THREAD,
            ..route(
                CreateThread,
                Method::POST,
                "/v1/threads",
                Role::Command,
                "Begin a video thread with a ready video of the caller's, for an audience, joinable by whom it says.",
            )
        },
        Route {
            query: PAGE,
            response: Some(body::<ThreadPage>),
            errors: &[NO_THREAD],
            ..route(
                GetThread,
                Method::GET,
                "/v1/threads/{id}",
                Role::Query,
                "A thread the caller may see, with a page of the entries it may see, oldest first.",
            )
        },
        Route {
            request: Some(body::<ThreadChange>),
            response: Some(body::<ThreadView>),
            errors: &[NOT_YOUR_THREAD, REFUSED_THREAD, RACED],
            ..route(
                ChangeThread,
                Method::PATCH,
                "/v1/threads/{id}",
                Role::Command,
                "Change the title of one of the caller's threads, or who may join it.",
            )
        },
        Route {
            status: StatusCode::NO_CONTENT,
            errors: &[NOT_YOUR_THREAD, RACED],
            ..route(
                DeleteThread,
                Method::DELETE,
                "/v1/threads/{id}",
                Role::Command,
                "Delete one of the caller's threads (its entries are no longer shown anywhere).",
            )
        },
        Route {
            request: Some(body::<NewEntry>),
            status: StatusCode::CREATED,
            response: Some(body::<EntryView>),
            errors: &[NO_THREAD, NOT_JOINABLE, REFUSED_ENTRY, RACED, TOO_MANY_WRITES],
            links: TO_ENTRY,
            ..route(
                AddEntry,
                Method::POST,
                "/v1/threads/{id}/entries",
                Role::Command,
                "Add a ready video of the caller's to a thread that lets the caller join.",
            )
        },
        Route {
            status: StatusCode::NO_CONTENT,
            errors: &[
                (StatusCode::NOT_FOUND, "No entry of this thread that is the caller's or in the caller's thread."),
                RACED,
            ],
            ..route(
                RemoveEntry,
                Method::DELETE,
                "/v1/threads/{id}/entries/{entry_id}",
                Role::Command,
                "Remove an entry: the caller's own, or any in the caller's thread.",
            )
        },
        Route {
            response: Some(body::<Liked>),
            errors: &[NO_ENTRY, RACED],
            ..route(
                LikeEntry,
                Method::PUT,
                "/v1/threads/{id}/entries/{entry_id}/like",
                Role::Command,
                "Like an entry the caller may see.",
            )
        },
        Route {
            status: StatusCode::NO_CONTENT,
            errors: &[(StatusCode::NOT_FOUND, "The ids are not a thread's and an entry's (thr_ and ent_ and a ULID)."), RACED],
            ..route(
                UnlikeEntry,
                Method::DELETE,
                "/v1/threads/{id}/entries/{entry_id}/like",
                Role::Command,
                "Take the caller's like of an entry back.",
            )
        },
        Route {
            query: PAGE,
            response: Some(body::<ThreadList>),
            errors: &[NOT_AN_ACCOUNT_ID],
            ..route(
                ListAccountThreads,
                Method::GET,
                "/v1/accounts/{id}/threads",
                Role::Query,
                "The account's threads that the caller may see, newest first.",
            )
        },
    ]
}
