//! The local HttpApi: routes requests to the functions' `lambda_http` handlers with the
//! authorizer in front, CORS from template.yaml, and each request handed over as the payload 2.0
//! event API Gateway would send, converted by `lambda_http` as on Lambda.

use crate::authorizer_cache::{Answer, AuthorizerCache};
use crate::cors::Cors;
use crate::metering::{invoke, record_http_api_request, DeployedFunction};
use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayV2CustomAuthorizerV2Request, ApiGatewayV2httpRequest,
    ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription,
};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use huddle_http::{ApiError, Authorizer, HttpFunction, Router};
use huddle_metering::{Attribution, Meter};
use hyper::http::header::{HeaderMap, HeaderValue};
use hyper::http::{header, Method, StatusCode};
use lambda_http::request::LambdaRequest;
use lambda_http::Body;
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

/// HttpApi's name for the route of requests no other route matches.
const DEFAULT_ROUTE_KEY: &str = "$default";

/// What a route leads to.
#[derive(Clone)]
pub struct Integration {
    pub function: Arc<dyn HttpFunction>,
    /// Whether the authorizer guards the route.
    pub authorized: bool,
    /// The Lambda function the route invokes, as template.yaml deploys it.
    pub deployed_as: DeployedFunction,
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
    /// The `$default` route: what a request no route matches goes to (template.yaml's
    /// NotFoundFunction, `huddle_http::NotFound`).
    pub default_route: Integration,
    pub authorizer: Option<Arc<dyn Authorizer>>,
    pub authorizer_cache: AuthorizerCache,
    /// Meters every request and invocation, when set (`huddle cost`).
    pub meter: Option<Meter>,
    /// The authorizer as template.yaml deploys it.
    pub authorizer_function: DeployedFunction,
    pub cors: Cors,
    pub local_routes: Vec<Arc<dyn LocalRoutes>>,
    /// `host:port` as clients reach the gateway.
    pub domain_name: String,
    /// Take the client's address from `X-Forwarded-For` (as API Gateway would see a client
    /// behind a proxy of ours) instead of the connection's peer: for tests that play several
    /// clients from loopback. Off by default: any client could claim any address with it.
    pub trust_forwarded_for: bool,
    /// The largest body a request to the presigned blob route may carry: S3 takes uploads far
    /// larger than API Gateway's payload limit, and so does the runner's stand-in for it.
    pub max_blob_request_bytes: usize,
}

impl Gateway {
    /// Serve `request`, which came from `peer`.
    pub async fn handle<B>(
        &self,
        request: hyper::Request<B>,
        peer: std::net::SocketAddr,
    ) -> hyper::Response<Full<Bytes>>
    where
        B: hyper::body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (parts, body) = request.into_parts();
        let limit = if parts.uri.path().starts_with(huddle_embedded::BLOB_ROUTE) {
            self.max_blob_request_bytes
        } else {
            MAX_REQUEST_BYTES
        };
        let body = match Limited::new(body, limit).collect().await {
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
        let path = parts.uri.path();
        let query = parts.uri.query().unwrap_or_default();
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
                routes.serve(&parts.method, path, query, &parts.headers, body.clone()).await
            {
                return response;
            }
        }
        if let Some(preflight) = self.cors.preflight(&parts.method, &parts.headers) {
            return preflight;
        }
        let mut response = self.route(&parts, body, peer).await;
        self.cors.apply(&parts.headers, response.headers_mut());
        response
    }

    /// The answer of the route's function, or the authorizer's refusal.
    async fn route(
        &self,
        parts: &hyper::http::request::Parts,
        body: Bytes,
        peer: std::net::SocketAddr,
    ) -> hyper::Response<Full<Bytes>> {
        let (route_key, integration, path_parameters) =
            match self.router.find(&parts.method, parts.uri.path()) {
                Some((route, integration, path_parameters)) => (route.key(), integration, path_parameters),
                None => (DEFAULT_ROUTE_KEY.to_owned(), &self.default_route, HashMap::new()),
            };
        let request_bytes = body.len();
        let mut event = self.event(parts, body, route_key, path_parameters, peer);
        let correlation_id = huddle_http::correlation_id_or(
            event.headers.get("x-correlation-id").and_then(|v| v.to_str().ok()),
            event.request_context.request_id.as_deref().unwrap_or_default(),
        );
        let attribution = Attribution::to(correlation_id.clone());
        if integration.authorized {
            let authorized = attribution.clone().scope(self.authorize(&event));
            match authorized.await {
                Ok(fields) => {
                    let mut authorizer = ApiGatewayRequestAuthorizer::default();
                    authorizer.fields = fields;
                    event.request_context.authorizer = Some(authorizer);
                }
                Err(refusal) => return refusal,
            }
        }
        let route_key = event.route_key.clone().unwrap_or_default();
        let request: lambda_http::Request = LambdaRequest::ApiGatewayV2(event).into();
        let request_id = huddle_http::request_id(&request);
        let started = std::time::Instant::now();
        let call = integration.function.call(request);
        let response = invoke(self.meter.as_ref(), &integration.deployed_as, attribution.clone(), call).await;
        // API Gateway bills what reached a function (not what the authorizer refused).
        let response_bytes = match response.body() {
            Body::Empty => 0,
            Body::Text(text) => text.len(),
            Body::Binary(bytes) => bytes.len(),
            _ => 0,
        };
        attribution
            .scope(async { record_http_api_request(self.meter.as_ref(), request_bytes + response_bytes) })
            .await;
        // API Gateway's access log line, with the ids that tie it to the events it caused.
        tracing::info!(
            route = %route_key,
            status = response.status().as_u16(),
            %request_id,
            %correlation_id,
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
        to_hyper(response)
    }

    /// The request as API Gateway hands it to a Lambda function (payload format 2.0).
    fn event(
        &self,
        parts: &hyper::http::request::Parts,
        body: Bytes,
        route_key: String,
        path_parameters: HashMap<String, String>,
        peer: std::net::SocketAddr,
    ) -> ApiGatewayV2httpRequest {
        let path = parts.uri.path();
        let query = parts.uri.query().unwrap_or_default();
        let (mut headers, cookies) = payload_headers(&parts.headers);
        // API Gateway sets the scheme itself; `lambda_http` builds the request's URI from it and
        // the Host, and would panic on a URI they do not make.
        headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
        let host_makes_a_uri = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .is_some_and(|host| url::Url::parse(&format!("http://{host}{path}")).is_ok());
        if !host_makes_a_uri {
            headers.insert(
                header::HOST,
                HeaderValue::from_str(&self.domain_name).expect("host:port is a header value"),
            );
        }
        let mut event = ApiGatewayV2httpRequest::default();
        event.version = Some("2.0".into());
        event.request_context = self.request_context(parts, &route_key, peer);
        event.route_key = Some(route_key);
        event.raw_path = Some(path.to_owned());
        event.raw_query_string = Some(query.to_owned());
        event.query_string_parameters = query.parse().unwrap_or_default();
        event.cookies = (!cookies.is_empty()).then_some(cookies);
        event.headers = headers;
        event.path_parameters = path_parameters;
        if !body.is_empty() {
            match String::from_utf8(body.to_vec()) {
                Ok(text) => event.body = Some(text),
                Err(_) => {
                    event.body = Some(base64::engine::general_purpose::STANDARD.encode(&body));
                    event.is_base64_encoded = true;
                }
            }
        }
        event
    }

    fn request_context(
        &self,
        parts: &hyper::http::request::Parts,
        route_key: &str,
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
        context.route_key = Some(route_key.to_owned());
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
    /// An answer is reused for the same header while [`AuthorizerCache`] keeps it.
    async fn authorize(
        &self,
        event: &ApiGatewayV2httpRequest,
    ) -> Result<HashMap<String, serde_json::Value>, hyper::Response<Full<Bytes>>> {
        let gateway_error = |status: StatusCode, message: &str| {
            let body = serde_json::json!({ "message": message }).to_string();
            hyper::Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body)))
                .expect("a valid response")
        };
        let identity = event.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let (Some(identity), Some(authorizer)) = (identity, &self.authorizer) else {
            return Err(gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"));
        };
        let answer = match self.authorizer_cache.get(identity) {
            Some(cached) => cached,
            None => {
                let answer = invoke(
                    self.meter.as_ref(),
                    &self.authorizer_function,
                    Attribution::current(),
                    ask(authorizer.as_ref(), event, identity),
                )
                .await;
                self.authorizer_cache.put(identity, answer.clone());
                answer
            }
        };
        answer.ok_or_else(|| gateway_error(StatusCode::FORBIDDEN, "Forbidden"))
    }
}

/// The authorizer's answer to `event`, whose identity source is `identity`.
async fn ask(authorizer: &dyn Authorizer, event: &ApiGatewayV2httpRequest, identity: &str) -> Answer {
    let mut request = ApiGatewayV2CustomAuthorizerV2Request::default();
    request.version = Some("2.0".into());
    request.type_ = Some("REQUEST".into());
    request.route_arn = event
        .route_key
        .as_ref()
        .map(|key| format!("arn:aws:execute-api:local:000000000000:local/$default/{key}"));
    request.identity_source = Some(vec![identity.to_owned()]);
    request.route_key = event.route_key.clone();
    request.raw_path = event.raw_path.clone();
    request.raw_query_string = event.raw_query_string.clone();
    request.cookies = event.cookies.clone().unwrap_or_default();
    request.headers = event.headers.clone();
    request.query_string_parameters = parse_query(event.raw_query_string.as_deref().unwrap_or_default())
        .into_iter()
        .map(|(name, values)| (name, values.join(",")))
        .collect();
    request.request_context = event.request_context.clone();
    request.path_parameters = event.path_parameters.clone();
    let response = authorizer.authorize(request).await;
    response.is_authorized.then(|| match response.context {
        serde_json::Value::Object(fields) => fields.into_iter().collect(),
        _ => HashMap::new(),
    })
}

/// The request's headers as payload 2.0 carries them: one value per name, a repeated header's
/// values joined with commas, and the cookies apart (one entry per cookie, from every `Cookie`
/// header), which `lambda_http` gives functions back as one `Cookie` header.
fn payload_headers(headers: &HeaderMap) -> (HeaderMap, Vec<String>) {
    let mut joined = HeaderMap::new();
    let mut cookies = Vec::new();
    for name in headers.keys() {
        let values = headers.get_all(name).iter();
        if name == header::COOKIE {
            for value in values {
                let text = String::from_utf8_lossy(value.as_bytes());
                cookies.extend(text.split(';').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned));
            }
            continue;
        }
        let value: Vec<u8> = values.map(HeaderValue::as_bytes).collect::<Vec<_>>().join(&b","[..]);
        // Values that were valid alone stay valid joined with commas.
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            joined.insert(name.clone(), value);
        }
    }
    (joined, cookies)
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
    use huddle_http::{NotFound, Route};
    use serde_json::{json, Value};

    /// Answers with the headers, path parameters and body it was handed, as a function reads them.
    struct Echo;

    #[async_trait::async_trait]
    impl HttpFunction for Echo {
        async fn call(&self, request: lambda_http::Request) -> lambda_http::Response<Body> {
            use lambda_http::RequestExt;
            let headers: serde_json::Map<String, Value> = request
                .headers()
                .keys()
                .map(|name| {
                    let values: Vec<&str> =
                        request.headers().get_all(name).iter().map(|v| v.to_str().unwrap()).collect();
                    (name.to_string(), json!(values))
                })
                .collect();
            let parameters: HashMap<String, String> =
                request.path_parameters().iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
            let body = json!({
                "headers": headers,
                "path_parameters": parameters,
                "body": String::from_utf8_lossy(request.body().as_ref()),
            });
            huddle_http::json_response(StatusCode::OK, &body)
        }
    }

    fn gateway() -> Gateway {
        let mut router = Router::default();
        let echo = Integration {
            function: Arc::new(Echo),
            authorized: false,
            deployed_as: DeployedFunction::named("NotFoundFunction"),
        };
        router.add(Route::new(Method::POST, "/echo/{rest+}"), echo);
        Gateway {
            router,
            default_route: Integration {
                function: Arc::new(NotFound),
                authorized: false,
                deployed_as: DeployedFunction::named("NotFoundFunction"),
            },
            authorizer: None,
            authorizer_cache: AuthorizerCache::new(std::time::Duration::ZERO),
            meter: None,
            authorizer_function: DeployedFunction::named("AuthorizerFunction"),
            cors: Cors::from_template(vec!["*".into()]),
            local_routes: Vec::new(),
            domain_name: "127.0.0.1:3000".into(),
            trust_forwarded_for: false,
            max_blob_request_bytes: MAX_REQUEST_BYTES,
        }
    }

    async fn send(request: hyper::Request<Full<Bytes>>) -> (StatusCode, Value) {
        let response = gateway().handle(request, "127.0.0.1:50000".parse().unwrap()).await;
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn functions_get_repeated_headers_joined_with_commas_and_cookies_as_one_header() {
        let request = hyper::Request::post("/echo/a/b%20c")
            .header("host", "localhost:3000")
            .header("x-tag", "one")
            .header("x-tag", "two, three")
            .header("cookie", "a=1; b=2")
            .header("cookie", "c=3")
            .header("x-forwarded-proto", "gopher://not a scheme")
            .body(Full::new(Bytes::from_static(b"{\"x\": 1}")))
            .unwrap();
        let (status, echoed) = send(request).await;
        assert_eq!(status, StatusCode::OK, "{echoed}");
        assert_eq!(echoed["headers"]["x-tag"], json!(["one,two, three"]), "{echoed}");
        assert_eq!(echoed["headers"]["cookie"], json!(["a=1; b=2; c=3"]), "{echoed}");
        assert_eq!(echoed["headers"]["host"], json!(["localhost:3000"]));
        assert_eq!(
            echoed["headers"]["x-forwarded-proto"],
            json!(["http"]),
            "the gateway's, not the client's"
        );
        assert_eq!(echoed["path_parameters"], json!({"rest": "a/b c"}));
        assert_eq!(echoed["body"], "{\"x\": 1}");
    }

    #[tokio::test]
    async fn a_host_that_makes_no_uri_is_replaced_by_the_gateways_name() {
        let request = hyper::Request::post("/echo/x")
            .header("host", "not a host")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let (status, echoed) = send(request).await;
        assert_eq!(status, StatusCode::OK, "{echoed}");
        assert_eq!(echoed["headers"]["host"], json!(["127.0.0.1:3000"]));
    }

    #[tokio::test]
    async fn unmatched_requests_reach_the_default_route() {
        let request = hyper::Request::get("/echo/x").body(Full::new(Bytes::new())).unwrap();
        let (status, body) = send(request).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::NOT_FOUND,
                json!({"error": {"code": "not_found", "message": "no route for GET /echo/x"}})
            )
        );
    }

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
