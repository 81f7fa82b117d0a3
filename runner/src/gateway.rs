//! The local HttpApi: routes requests to the functions' `lambda_http` handlers with the
//! authorizer in front and the request context filled as API Gateway (payload 2.0) fills it.

use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayV2CustomAuthorizerV2Request, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use huddle_http::{ApiError, Authorizer, HttpFunction, Route, Router};
use hyper::body::Incoming;
use hyper::http::{header, Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use std::collections::HashMap;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;

/// API Gateway's payload limit; larger requests never reach a function.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

/// The runner's own routes (the push outbox and whatever joins it) live under this prefix and
/// answer only requests addressed to a loopback host. The runner listens on 127.0.0.1 alone, but
/// a web page can still reach it through a name of its own that resolves there (DNS rebinding);
/// the browser then sends that name as the Host, and the page could read what phones were sent.
const LOOPBACK_ONLY_PREFIX: &str = "/_local/";

/// What a route leads to.
#[derive(Clone)]
pub struct Integration {
    pub function: Arc<dyn HttpFunction>,
    /// Whether the authorizer guards the route.
    pub authorized: bool,
}

/// Extra routes the runner itself serves (presigned uploads, the push outbox), outside the API.
#[async_trait::async_trait]
pub trait LocalRoutes: Send + Sync {
    /// `None` when the path is not one of these routes.
    async fn serve(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &hyper::HeaderMap,
        body: Bytes,
    ) -> Option<hyper::Response<Full<Bytes>>>;
}

pub struct Gateway {
    pub router: Router<Integration>,
    pub authorizer: Option<Arc<dyn Authorizer>>,
    pub local_routes: Vec<Arc<dyn LocalRoutes>>,
    /// `host:port` as clients reach the gateway.
    pub domain_name: String,
    /// Take the client's address from `X-Forwarded-For` (as API Gateway would see a client
    /// behind a proxy of ours) instead of the connection's peer: for tests that play several
    /// clients from loopback. Off by default: any client could claim any address with it.
    pub trust_forwarded_for: bool,
}

impl Gateway {
    /// Serve `request`, which came from `peer`.
    pub async fn handle(
        &self,
        request: hyper::Request<Incoming>,
        peer: std::net::SocketAddr,
    ) -> hyper::Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return to_hyper(
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        "the request body is too large",
                    )
                    .into_response(),
                )
            }
        };
        let path = parts.uri.path().to_owned();
        let query = parts.uri.query().unwrap_or_default().to_owned();
        if path.starts_with(LOOPBACK_ONLY_PREFIX) && !addressed_to_loopback(&parts.headers) {
            return to_hyper(
                ApiError::forbidden(
                    "the runner's /_local/ routes answer only 127.0.0.1, localhost and [::1]",
                )
                .into_response(),
            );
        }
        for routes in &self.local_routes {
            if let Some(response) =
                routes.serve(&parts.method, &path, &query, &parts.headers, body.clone()).await
            {
                return response;
            }
        }
        let (route, integration, path_parameters) = match self.router.find(&parts.method, &path) {
            Ok(found) => found,
            Err(error) => return to_hyper(error.into_response()),
        };
        let query_parameters = parse_query(&query);
        let mut context = self.request_context(&parts, route, peer);
        if integration.authorized {
            match self
                .authorize(&parts.headers, &path, &query, &query_parameters, &path_parameters, &context)
                .await
            {
                Ok(fields) => {
                    let mut authorizer = ApiGatewayRequestAuthorizer::default();
                    authorizer.fields = fields;
                    context.authorizer = Some(authorizer);
                }
                Err(response) => return response,
            }
        }
        let request = hyper::Request::from_parts(parts, lambda_body(body))
            .with_request_context(RequestContext::ApiGatewayV2(context))
            .with_path_parameters(path_parameters)
            .with_query_string_parameters(query_parameters);
        let (request_id, correlation_id) =
            (huddle_http::request_id(&request), huddle_http::correlation_id(&request));
        let started = std::time::Instant::now();
        let response = integration.function.call(request).await;
        // API Gateway's access log line, with the ids that tie it to the events it caused.
        tracing::info!(
            route = %route.key(),
            status = response.status().as_u16(),
            %request_id,
            %correlation_id,
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
        to_hyper(response)
    }

    fn request_context(
        &self,
        parts: &hyper::http::request::Parts,
        route: &Route,
        peer: std::net::SocketAddr,
    ) -> ApiGatewayV2httpRequestContext {
        let now = time::OffsetDateTime::now_utc();
        let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
        http.method = parts.method.clone();
        http.path = Some(parts.uri.path().to_owned());
        http.protocol = Some("HTTP/1.1".into());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
            .filter(|_| self.trust_forwarded_for);
        http.source_ip = Some(forwarded.unwrap_or(peer.ip()).to_string());
        http.user_agent =
            parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.route_key = Some(route.key());
        context.account_id = Some("000000000000".into());
        context.stage = Some("$default".into());
        context.request_id = Some(ulid::Ulid::new().to_string());
        context.apiid = Some("local".into());
        context.domain_name = Some(self.domain_name.clone());
        context.time = now.format(&Rfc3339).ok();
        context.time_epoch = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        context.http = http;
        context
    }

    /// Calls the authorizer as API Gateway does: no `Authorization` header is a 401 without a
    /// call; a denial is a 403. Both bodies are API Gateway's own, which HttpApi cannot reshape.
    async fn authorize(
        &self,
        headers: &hyper::HeaderMap,
        path: &str,
        query: &str,
        query_parameters: &HashMap<String, Vec<String>>,
        path_parameters: &HashMap<String, String>,
        context: &ApiGatewayV2httpRequestContext,
    ) -> Result<HashMap<String, serde_json::Value>, hyper::Response<Full<Bytes>>> {
        let gateway_error = |status: StatusCode, message: &str| {
            let body = serde_json::json!({ "message": message }).to_string();
            hyper::Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body)))
                .expect("a valid response")
        };
        let Some(identity) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return Err(gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"));
        };
        let Some(authorizer) = &self.authorizer else {
            return Err(gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"));
        };
        let mut request = ApiGatewayV2CustomAuthorizerV2Request::default();
        request.version = Some("2.0".into());
        request.type_ = Some("REQUEST".into());
        request.route_arn = context
            .route_key
            .as_ref()
            .map(|key| format!("arn:aws:execute-api:local:000000000000:local/$default/{key}"));
        request.identity_source = Some(vec![identity.to_owned()]);
        request.route_key = context.route_key.clone();
        request.raw_path = Some(path.to_owned());
        request.raw_query_string = Some(query.to_owned());
        request.headers = headers.clone();
        request.query_string_parameters =
            query_parameters.iter().map(|(k, v)| (k.clone(), v.join(","))).collect();
        request.request_context = context.clone();
        request.path_parameters = path_parameters.clone();
        let response = authorizer.authorize(request).await;
        if !response.is_authorized {
            return Err(gateway_error(StatusCode::FORBIDDEN, "Forbidden"));
        }
        Ok(match response.context {
            serde_json::Value::Object(fields) => fields.into_iter().collect(),
            _ => HashMap::new(),
        })
    }
}

/// Whether the request's Host (any port) is `localhost` or a loopback address.
fn addressed_to_loopback(headers: &hyper::HeaderMap) -> bool {
    let Some(authority) = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .and_then(|host| host.parse::<hyper::http::uri::Authority>().ok())
    else {
        return false;
    };
    let host = authority.host();
    let address = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || address.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn parse_query(query: &str) -> HashMap<String, Vec<String>> {
    let mut parameters: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        parameters.entry(name.into_owned()).or_default().push(value.into_owned());
    }
    parameters
}

fn lambda_body(bytes: Bytes) -> Body {
    if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(binary) => Body::Binary(binary.into_bytes()),
        }
    }
}

fn to_hyper(response: lambda_http::Response<Body>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(binary) => Bytes::from(binary),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> hyper::HeaderMap {
        hyper::HeaderMap::from_iter([(header::HOST, host.parse().unwrap())])
    }

    #[test]
    fn only_loopback_hosts_count_as_loopback() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:3000",
            "localhost",
            "LocalHost:80",
            "[::1]",
            "[::1]:3000",
            "127.8.9.10:1",
        ] {
            assert!(addressed_to_loopback(&with_host(host)), "{host}");
        }
        for host in [
            "evil.example:3000",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "10.0.0.7:3000",
            "[::ffff:7f00:1]",
            "0.0.0.0",
            "::1",
            "",
        ] {
            assert!(!addressed_to_loopback(&with_host(host)), "{host}");
        }
        assert!(!addressed_to_loopback(&hyper::HeaderMap::new()), "no Host at all");
    }
}
