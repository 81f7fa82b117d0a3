//! The accounts routes, declared once: the command and the query dispatch on [`Operation`], and
//! the runner, template.yaml and the OpenAPI contract read [`ROUTES`].

use crate::validation::{
    ErasureRequest, LegacyLinkRequest, LoginRequest, PasswordChangeRequest, ProfilePatch, SignUpRequest,
};
use crate::views::{AccountView, PrivateProfile, SignedIn};
use huddle_domain::{body, Access, Role, RouteDeclaration, RouteLink};
use lambda_http::http::{Method, StatusCode};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum Operation {
    SignUp,
    LogIn,
    UpdateProfile,
    ChangePassword,
    RevokeSessions,
    LinkLegacySubject,
    EraseAccount,
    GetMe,
    GetAccount,
    GetAccountByUsername,
}

const INVALID: (StatusCode, &str) = (StatusCode::UNPROCESSABLE_ENTITY, "A field is invalid (see `details`).");
const NO_ACCOUNT: (StatusCode, &str) = (StatusCode::NOT_FOUND, "The account does not exist or was erased.");
const NO_PROFILE: (StatusCode, &str) =
    (StatusCode::NOT_FOUND, "The account does not exist, was erased, or one of the two blocks the other.");
const WRONG_PASSWORD: (StatusCode, &str) = (StatusCode::UNAUTHORIZED, "The password is wrong.");
const RACED: (StatusCode, &str) =
    (StatusCode::CONFLICT, "The account changed at the same time, more than retries could absorb.");

type Route = RouteDeclaration<Operation>;

/// Every accounts route.
pub static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(routes);

fn routes() -> Vec<Route> {
    use Access::{Authorized, Public};
    use Operation::*;
    use Role::{Command, Query};
    vec![
        Route {
            request: Some(body::<SignUpRequest>),
            status: StatusCode::CREATED,
            response: Some(body::<SignedIn>),
            errors: &[(StatusCode::CONFLICT, "The username or the email address is taken."), INVALID],
            links: &[
                RouteLink {
                    name: "GetAccount",
                    operation: "GetAccount",
                    parameters: &[("id", "$response.body#/account/id")],
                },
                RouteLink {
                    name: "GetAccountByUsername",
                    operation: "GetAccountByUsername",
                    parameters: &[("username", "$response.body#/account/username")],
                },
                RouteLink { name: "GetMe", operation: "GetMe", parameters: &[] },
            ],
            ..Route::new(
                SignUp,
                Method::POST,
                "/v1/accounts",
                Command,
                Public,
                "Create an account and sign in.",
            )
        },
        Route {
            request: Some(body::<LoginRequest>),
            response: Some(body::<SignedIn>),
            errors: &[(StatusCode::UNAUTHORIZED, "The login or the password is wrong."), INVALID],
            ..Route::new(
                LogIn,
                Method::POST,
                "/v1/sessions",
                Command,
                Public,
                "Sign in with a username or email.",
            )
        },
        Route {
            request: Some(body::<ProfilePatch>),
            response: Some(body::<PrivateProfile>),
            errors: &[NO_ACCOUNT, RACED, INVALID],
            links: &[
                RouteLink {
                    name: "GetAccount",
                    operation: "GetAccount",
                    parameters: &[("id", "$response.body#/id")],
                },
                RouteLink { name: "GetMe", operation: "GetMe", parameters: &[] },
            ],
            ..Route::new(
                UpdateProfile,
                Method::PATCH,
                "/v1/me",
                Command,
                Authorized,
                "Change the caller's profile, or whether it is locked.",
            )
        },
        Route {
            request: Some(body::<PasswordChangeRequest>),
            status: StatusCode::NO_CONTENT,
            errors: &[WRONG_PASSWORD, NO_ACCOUNT, RACED, INVALID],
            ..Route::new(
                ChangePassword,
                Method::POST,
                "/v1/me/password",
                Command,
                Authorized,
                "Change the password; every token issued before is revoked.",
            )
        },
        Route {
            status: StatusCode::NO_CONTENT,
            errors: &[NO_ACCOUNT, RACED],
            ..Route::new(
                RevokeSessions,
                Method::POST,
                "/v1/me/sessions/revoke",
                Command,
                Authorized,
                "Log out everywhere: every token issued before is revoked.",
            )
        },
        Route {
            request: Some(body::<LegacyLinkRequest>),
            status: StatusCode::NO_CONTENT,
            errors: &[
                WRONG_PASSWORD,
                (StatusCode::NOT_FOUND, "The account is gone, or this deployment trusts no legacy issuer."),
                (StatusCode::CONFLICT, "The legacy user is linked to another account."),
                INVALID,
            ],
            ..Route::new(
                LinkLegacySubject,
                Method::PUT,
                "/v1/me/legacy-link",
                Command,
                Authorized,
                "Link the legacy application's user (proved by its token) to the caller.",
            )
        },
        Route {
            request: Some(body::<ErasureRequest>),
            status: StatusCode::NO_CONTENT,
            errors: &[WRONG_PASSWORD, NO_ACCOUNT, RACED, INVALID],
            ..Route::new(
                EraseAccount,
                Method::DELETE,
                "/v1/me",
                Command,
                Authorized,
                "Erase the caller's account and its personal data.",
            )
        },
        Route {
            response: Some(body::<PrivateProfile>),
            errors: &[NO_ACCOUNT],
            ..Route::new(GetMe, Method::GET, "/v1/me", Query, Authorized, "The caller's own profile.")
        },
        Route {
            response: Some(body::<AccountView>),
            errors: &[NO_PROFILE],
            ..Route::new(
                GetAccount,
                Method::GET,
                "/v1/accounts/{id}",
                Query,
                Authorized,
                "A profile by account id.",
            )
        },
        Route {
            response: Some(body::<AccountView>),
            errors: &[NO_PROFILE],
            ..Route::new(
                GetAccountByUsername,
                Method::GET,
                "/v1/accounts/by-username/{username}",
                Query,
                Authorized,
                "A profile by username.",
            )
        },
    ]
}
