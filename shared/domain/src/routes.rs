//! A domain's HTTP routes, declared once. Each route names its operation (a variant of the
//! domain's own operation enum, so dispatch is an exhaustive `match`), its method and path,
//! whether the authorizer guards it, which role serves it, and its request and response bodies
//! with the errors it answers. Dispatch ([`operation`]), the runner's gateway, template.yaml's
//! HttpApi events and the OpenAPI contract all read this one declaration.

use huddle_http::{route_key, ApiError, Request, Route};
use lambda_http::http::{Method, StatusCode};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{Ref, RefOr};

/// Which Lambda of a domain serves a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Command,
    Query,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: sign-up and login.
    Public,
    /// Callers with a token the authorizer accepts.
    Authorized,
}

/// The component schemas a contract collects as it reads the routes' bodies.
pub type Components = Vec<(String, RefOr<Schema>)>;

/// A body's schema: adds the components it refers to and answers a reference to its own.
pub type BodySchema = fn(&mut Components) -> RefOr<Schema>;

/// The [`BodySchema`] of `T`, for a declaration: `request: Some(body::<SignUpRequest>)`.
pub fn body<T: utoipa::ToSchema>(components: &mut Components) -> RefOr<Schema> {
    T::schemas(components);
    components.push((T::name().into_owned(), T::schema()));
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

/// A query-string parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryParameter {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: ParameterKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterKind {
    /// An integer from `min` to `max`.
    Integer { min: i64, max: i64 },
    /// An opaque string of at most `max_length` characters (cursors).
    Text { max_length: usize },
}

/// The parameters of a cursor-paginated list: `limit` (1 to 100) and `cursor`.
pub const PAGE: &[QueryParameter] = &[
    QueryParameter {
        name: "limit",
        description: "How many items a page holds (default 20).",
        kind: ParameterKind::Integer { min: 1, max: 100 },
    },
    QueryParameter {
        name: "cursor",
        description: "The `next_cursor` of the previous page, as it was given.",
        kind: ParameterKind::Text { max_length: 1024 },
    },
];

/// One route of a domain. `Op` is the domain's operation enum; hosts see the erased form,
/// [`DomainRoute`], whose operation is the variant's name.
#[derive(Debug, Clone)]
pub struct RouteDeclaration<Op: 'static> {
    /// Also the OpenAPI `operationId` (lower camel case) and template.yaml's event name.
    pub operation: Op,
    pub method: Method,
    /// An HttpApi path: `/v1/accounts/{id}`.
    pub path: &'static str,
    pub role: Role,
    pub access: Access,
    /// One line for the contract.
    pub summary: &'static str,
    pub request: Option<BodySchema>,
    /// The status of success, and its body (`None`: no content).
    pub status: StatusCode,
    pub response: Option<BodySchema>,
    /// The errors particular to this route, each with when it happens. Every route may also
    /// answer 400 (malformed input), 413, 429 and 500, and an authorized one 401: the contract
    /// adds those.
    pub errors: &'static [(StatusCode, &'static str)],
    pub query: &'static [QueryParameter],
    /// Where a client may go next with what the success answered (OpenAPI links, which the
    /// contract's fuzzer follows to chain requests).
    pub links: &'static [RouteLink],
}

/// An OpenAPI link from a route's success to another operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteLink {
    pub name: &'static str,
    /// The target's operation name (the variant's, as declared).
    pub operation: &'static str,
    /// Each target parameter and the runtime expression it takes, e.g.
    /// `("id", "$response.body#/account/id")`.
    pub parameters: &'static [(&'static str, &'static str)],
}

/// A route as hosts see it.
pub type DomainRoute = RouteDeclaration<&'static str>;

impl<Op: Copy + Into<&'static str>> RouteDeclaration<Op> {
    /// The declaration with its operation named.
    pub fn erased(&self) -> DomainRoute {
        RouteDeclaration {
            operation: self.operation.into(),
            method: self.method.clone(),
            path: self.path,
            role: self.role,
            access: self.access,
            summary: self.summary,
            request: self.request,
            status: self.status,
            response: self.response,
            errors: self.errors,
            query: self.query,
            links: self.links,
        }
    }
}

impl<Op> RouteDeclaration<Op> {
    /// A route answering 200 without a body, with no errors of its own, parameters or links:
    /// set the rest with struct update syntax (`RouteDeclaration { status, ..new(..) }`).
    pub fn new(
        operation: Op,
        method: Method,
        path: &'static str,
        role: Role,
        access: Access,
        summary: &'static str,
    ) -> Self {
        Self {
            operation,
            method,
            path,
            role,
            access,
            summary,
            request: None,
            status: StatusCode::OK,
            response: None,
            errors: &[],
            query: &[],
            links: &[],
        }
    }

    pub fn route(&self) -> Route {
        Route::new(self.method.clone(), self.path)
    }

    pub fn authorized(&self) -> bool {
        self.access == Access::Authorized
    }
}

/// The operation `request` was routed to (by its route key, which the gateway sets): what a
/// role `match`es on.
pub fn operation<Op: Copy>(routes: &[RouteDeclaration<Op>], request: &Request) -> Result<Op, ApiError> {
    let key = route_key(request);
    routes
        .iter()
        .find(|declared| declared.route().key() == key)
        .map(|declared| declared.operation)
        .ok_or_else(|| ApiError::not_found(format!("no route {key}")))
}
