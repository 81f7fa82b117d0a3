//! The OpenAPI 3.1 contract of a set of domains, generated from their route declarations:
//! every route with its parameters, bodies and errors, the bearer scheme, and the errors every
//! route shares (ours in the `{"error": {...}}` shape; the HttpApi's own, `{"message"}`, for
//! what API Gateway answers before a function runs).

use crate::consistency::{HEADER, MAX_TOKEN_BYTES, WAIT};
use crate::{Access, Components, Domain, DomainRoute, ParameterKind, Role};
use huddle_http::ErrorBody;
use lambda_http::http::{Method, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, Paths,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AnyOf, ComponentsBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Required, ResponseBuilder,
    ResponsesBuilder,
};

/// The security scheme's name in the contract.
const BEARER: &str = "bearer";
const JSON: &str = "application/json";
/// The statuses API Gateway may answer itself, in its own `{"message"}` shape, before a function
/// runs (no token, a refused token, a body over its limit, its throttle): whatever a route
/// declares for them, the answer may be either shape.
const GATEWAY_ANSWERS: [StatusCode; 4] = [
    StatusCode::UNAUTHORIZED,
    StatusCode::FORBIDDEN,
    StatusCode::PAYLOAD_TOO_LARGE,
    StatusCode::TOO_MANY_REQUESTS,
];

/// The contract of `domains`, as `huddle serve` serves it at `/openapi.json` and `openapi.json`
/// holds it.
pub fn contract(domains: &[Arc<dyn Domain>]) -> OpenApi {
    let mut components = Components::new();
    let error = crate::body::<ErrorBody>(&mut components);
    components.push((
        "GatewayError".into(),
        ObjectBuilder::new()
            .description(Some("An error API Gateway answers itself, before any function runs."))
            .property("message", ObjectBuilder::new().schema_type(Type::String))
            .required("message")
            .into(),
    ));
    let gateway_error = RefOr::Ref(Ref::from_schema_name("GatewayError"));
    let either_error: RefOr<Schema> = AnyOf::builder().item(error.clone()).item(gateway_error).into();

    // Paths in order, each with its methods in the order they were declared.
    let mut paths: BTreeMap<&str, PathItem> = BTreeMap::new();
    for domain in domains {
        for route in domain.routes() {
            let operation = operation(&route, &mut components, &error, &either_error);
            let method = http_method(&route.method);
            match paths.remove(route.path) {
                Some(mut item) => {
                    item.merge_operations(PathItem::new(method, operation));
                    paths.insert(route.path, item);
                }
                None => {
                    paths.insert(route.path, PathItem::new(method, operation));
                }
            }
        }
    }
    let mut paths_object = Paths::new();
    for (path, item) in paths {
        paths_object.paths.insert(path.to_owned(), item);
    }

    let mut schemas = ComponentsBuilder::new().security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("The `token` a sign-up or a login answers."))
                .build(),
        ),
    );
    components.sort_by(|a, b| a.0.cmp(&b.0));
    components.dedup_by(|a, b| a.0 == b.0);
    for (name, schema) in components {
        schemas = schemas.schema(name, schema);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Huddle")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Share video stories and posts with the audiences you choose.")),
        )
        .paths(paths_object)
        .components(Some(schemas.build()))
        .build()
}

fn operation(
    route: &DomainRoute,
    components: &mut Components,
    error: &RefOr<Schema>,
    either_error: &RefOr<Schema>,
) -> Operation {
    let mut operation = OperationBuilder::new()
        .operation_id(Some(lower_camel(route.operation)))
        .summary(Some(route.summary))
        .tag(tag_of(route.path));
    for name in route.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
        operation = operation.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)))),
        );
    }
    for parameter in route.query {
        let schema = match parameter.kind {
            ParameterKind::Integer { min, max } => ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(min as f64))
                .maximum(Some(max as f64)),
            ParameterKind::Text { max_length } => {
                ObjectBuilder::new().schema_type(Type::String).max_length(Some(max_length))
            }
        };
        operation = operation.parameter(
            ParameterBuilder::new()
                .name(parameter.name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(parameter.description))
                .schema(Some(schema)),
        );
    }
    if route.role == Role::Query {
        operation = operation.parameter(
            ParameterBuilder::new()
                .name(HEADER.as_str())
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "A command's `Huddle-Consistency` answer, as it was given: the read waits until it \
                     includes that command's writes.",
                ))
                .schema(Some(
                    ObjectBuilder::new().schema_type(Type::String).max_length(Some(MAX_TOKEN_BYTES)),
                )),
        );
    }
    if let Some(request) = route.request {
        operation = operation.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(JSON, ContentBuilder::new().schema(Some(request(components))).build())
                .build(),
        ));
    }

    let mut responses = ResponsesBuilder::new();
    let success = ResponseBuilder::new().description(reason(route.status));
    let success = match route.response {
        Some(body) => success.content(JSON, ContentBuilder::new().schema(Some(body(components))).build()),
        None => success,
    };
    let success = match route.role {
        Role::Command => success.header(
            HEADER.as_str(),
            HeaderBuilder::new()
                .description(Some(
                    "Present when the command wrote: send it back with a read to see these writes.",
                ))
                .build(),
        ),
        Role::Query => success,
    };
    let success = route.links.iter().fold(success, |response, link| {
        let target = LinkBuilder::new().operation_id(lower_camel(link.operation));
        let target = link
            .parameters
            .iter()
            .fold(target, |target, (name, expression)| target.parameter(*name, *expression));
        response.link(link.name, target.build())
    });
    responses = responses.response(route.status.as_str(), success.build());
    let errors =
        |responses: ResponsesBuilder, status: StatusCode, description: &str, schema: &RefOr<Schema>| {
            let content = ContentBuilder::new().schema(Some(schema.clone())).build();
            responses.response(
                status.as_str(),
                ResponseBuilder::new().description(description).content(JSON, content).build(),
            )
        };
    for (status, description) in route.errors {
        let schema = if GATEWAY_ANSWERS.contains(status) { either_error } else { error };
        responses = errors(responses, *status, description, schema);
    }
    let declared = |status: StatusCode| route.errors.iter().any(|(s, _)| *s == status);
    let malformed = match route.role {
        Role::Command => "The body is no JSON of this shape, or a path or query parameter is malformed.",
        Role::Query => {
            "A path or query parameter is malformed, or the `Huddle-Consistency` token is not one we \
             issued (`invalid_consistency_token`)."
        }
    };
    let behind = format!(
        "The read does not include the `Huddle-Consistency` token's writes {} s after it was asked \
         (`projection_behind`); ask again after `Retry-After`.",
        WAIT.as_secs()
    );
    let mut shared = vec![
        (StatusCode::BAD_REQUEST, malformed, error),
        (StatusCode::PAYLOAD_TOO_LARGE, "The body is too large.", either_error),
        (StatusCode::TOO_MANY_REQUESTS, "Too many requests; wait as `Retry-After` says.", either_error),
        (StatusCode::INTERNAL_SERVER_ERROR, "A failure of ours; the message names the request id.", error),
    ];
    if route.role == Role::Query {
        shared.push((StatusCode::SERVICE_UNAVAILABLE, &behind, error));
    }
    if route.access == Access::Authorized {
        shared.push((StatusCode::UNAUTHORIZED, "No valid bearer token.", either_error));
        shared.push((
            StatusCode::FORBIDDEN,
            "The token was refused (expired, revoked, or its account erased).",
            either_error,
        ));
        operation = operation.security(SecurityRequirement::new(BEARER, Vec::<String>::new()));
    }
    for (status, description, schema) in shared {
        if !declared(status) {
            responses = errors(responses, status, description, schema);
        }
    }
    operation.responses(responses.build()).build()
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        _ => HttpMethod::Trace,
    }
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Success")
}

/// The tag grouping a route: its first segment after the version (`/v1/accounts/{id}` → `accounts`).
fn tag_of(path: &str) -> String {
    path.split('/').filter(|s| !s.is_empty()).nth(1).unwrap_or("api").to_owned()
}

/// `SignUp` → `signUp`.
fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|first| first.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}
