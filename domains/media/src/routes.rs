//! The media routes, declared once: the command and the query dispatch on [`Operation`], and the
//! runner, template.yaml and the OpenAPI contract read [`ROUTES`].

use crate::views::{MediaView, NewMedia, Poster, UploadTicket};
use huddle_domain::{body, Access, Role, RouteDeclaration};
use lambda_http::http::{Method, StatusCode};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum Operation {
    RequestUpload,
    GetMedia,
    AttachPoster,
}

const NO_MEDIA: (StatusCode, &str) = (StatusCode::NOT_FOUND, "No media of the caller's has this id.");
const REFUSED_FILE: (StatusCode, &str) = (
    StatusCode::UNPROCESSABLE_ENTITY,
    "The kind, type or size is not one Huddle takes (images: JPEG, PNG, WebP up to 16 MB; videos: MP4, QuickTime up to 99 MB).",
);
const TOO_MANY_UPLOADS: (StatusCode, &str) =
    (StatusCode::TOO_MANY_REQUESTS, "60 upload requests an hour per account (`too_many_uploads`).");
const TOO_MANY_POSTERS: (StatusCode, &str) =
    (StatusCode::TOO_MANY_REQUESTS, "60 poster attachments an hour per account (`too_many_posters`).");
const NOT_A_POSTER: (StatusCode, &str) = (
    StatusCode::UNPROCESSABLE_ENTITY,
    "The media is no ready video, or the poster no ready image of the caller's.",
);

type Route = RouteDeclaration<Operation>;

/// Every media route.
pub static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(routes);

fn routes() -> Vec<Route> {
    use Operation::*;
    vec![
        Route {
            request: Some(body::<NewMedia>),
            status: StatusCode::CREATED,
            response: Some(body::<UploadTicket>),
            errors: &[REFUSED_FILE, TOO_MANY_UPLOADS],
            ..Route::new(
                RequestUpload,
                Method::POST,
                "/v1/media",
                Role::Command,
                Access::Authorized,
                "Ask to upload an image or a video: its id and a presigned PUT to send the file with.",
            )
        },
        Route {
            response: Some(body::<MediaView>),
            errors: &[NO_MEDIA],
            ..Route::new(
                GetMedia,
                Method::GET,
                "/v1/media/{id}",
                Role::Query,
                Access::Authorized,
                "One of the caller's media: its processing status and, once ready, presigned URLs.",
            )
        },
        Route {
            request: Some(body::<Poster>),
            status: StatusCode::NO_CONTENT,
            errors: &[NO_MEDIA, NOT_A_POSTER, TOO_MANY_POSTERS],
            ..Route::new(
                AttachPoster,
                Method::PUT,
                "/v1/media/{id}/poster",
                Role::Command,
                Access::Authorized,
                "Show one of the caller's ready images before a ready video of theirs plays.",
            )
        },
    ]
}
