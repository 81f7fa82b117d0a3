//! HTTP glue every command and query function reuses: JSON errors (DESIGN.md section 6), the
//! caller from the authorizer context, body limits, prefixed ids in paths, opaque signed
//! cursors, `Idempotency-Key`, correlation ids, a small router with the `$default` route's
//! [`NotFound`] function, and JSON logs.

mod cursor;
mod error;
mod function;
mod idempotency;
mod ids;
mod logging;
mod not_found;
mod request;
mod router;

pub use cursor::CursorCodec;
pub use error::{ApiError, ErrorBody, ErrorDetail, FieldError};
pub use function::{json_response, run_authorizer, run_lambda, Authorizer, HttpFunction};
pub use idempotency::{replay_or, replayed, IdempotencyKeys, IdempotentRequest};
pub use ids::{is_prefixed_id, prefixed_id};
pub use logging::init_logging;
pub use not_found::NotFound;
pub use request::{
    caller, correlation_id, correlation_id_or, json_body, path_parameter, query_parameter, request_id,
    route_key, source_ip, Caller, MAX_BODY_BYTES,
};
pub use router::{Route, Router};

/// The HTTP types functions take and return (`lambda_http`'s, as API Gateway delivers them).
pub use lambda_http::{Body, Request, Response};
