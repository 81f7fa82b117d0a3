//! HttpApi's CORS: preflights answered by the gateway, and the CORS headers added to every other
//! answer to an allowed origin, from template.yaml's `CorsConfiguration` itself. The runner
//! compiles the template in and reads that block (its lists are JSON, which YAML reads as it
//! is), so methods, headers and max age are declared once; the allowed origins are the template's
//! `AllowedOrigins` parameter there and `huddle serve --allowed-origins` here.

use bytes::Bytes;
use http_body_util::Full;
use hyper::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::http::{Method, StatusCode};

use crate::TEMPLATE;

/// template.yaml's allowed origins: its `AllowedOrigins` parameter, whose value `huddle serve
/// --allowed-origins` gives here.
const ORIGINS_FROM_THE_PARAMETER: &str = "!Ref AllowedOrigins";

/// The CORS configuration of the HttpApi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// Origins as API Gateway takes them: exact (`https://app.example`), `*` for any, or a
    /// prefix ending in `*` (`https://*`).
    pub allowed_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: u64,
}

impl Cors {
    /// template.yaml's `CorsConfiguration`, with these allowed origins.
    pub fn from_template(allowed_origins: Vec<String>) -> Self {
        Self::parse(TEMPLATE, allowed_origins).unwrap_or_else(|error| {
            panic!("template.yaml's CorsConfiguration, compiled into the runner: {error}")
        })
    }

    fn parse(template: &str, allowed_origins: Vec<String>) -> Result<Self, String> {
        let (_, block) =
            template.split_once("\n      CorsConfiguration:\n").ok_or("no CorsConfiguration in HttpApi")?;
        let properties: Vec<(&str, &str)> = block
            .lines()
            .take_while(|line| line.starts_with("        "))
            .filter_map(|line| line.trim().split_once(": "))
            .collect();
        let property = |name: &str| {
            properties
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| *value)
                .ok_or_else(|| format!("CorsConfiguration has no {name}"))
        };
        let list = |name: &str| -> Result<Vec<String>, String> {
            serde_json::from_str(property(name)?)
                .map_err(|e| format!("{name} is not a JSON list of strings: {e}"))
        };
        if property("AllowOrigins")? != ORIGINS_FROM_THE_PARAMETER {
            return Err(format!(
                "AllowOrigins must be `{ORIGINS_FROM_THE_PARAMETER}`, which --allowed-origins stands for"
            ));
        }
        Ok(Self {
            allowed_origins,
            allow_methods: list("AllowMethods")?,
            allow_headers: list("AllowHeaders")?,
            expose_headers: list("ExposeHeaders")?,
            max_age_seconds: property("MaxAge")?.parse().map_err(|e| format!("MaxAge: {e}"))?,
        })
    }

    /// What `Access-Control-Allow-Origin` answers `origin` with, when it is allowed.
    fn allowed(&self, origin: &str) -> Option<HeaderValue> {
        if self.allowed_origins.iter().any(|allowed| allowed == "*") {
            return Some(HeaderValue::from_static("*"));
        }
        let matches = |allowed: &String| match allowed.strip_suffix('*') {
            Some(prefix) => origin.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix)),
            None => origin.eq_ignore_ascii_case(allowed),
        };
        self.allowed_origins.iter().any(matches).then(|| HeaderValue::from_str(origin).ok()).flatten()
    }

    /// The gateway's own answer to a preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`) from an allowed origin. Anything else is routed; on AWS
    /// that reaches `$default`, whose function answers `OPTIONS` with a bare 204, so a preflight
    /// from another origin gets no CORS headers and the browser refuses the request.
    pub fn preflight(&self, method: &Method, headers: &HeaderMap) -> Option<hyper::Response<Full<Bytes>>> {
        if method != Method::OPTIONS || !headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
            return None;
        }
        let allow_origin = self.allowed(headers.get(header::ORIGIN)?.to_str().ok()?)?;
        hyper::Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin)
            .header(header::ACCESS_CONTROL_ALLOW_METHODS, self.allow_methods.join(","))
            .header(header::ACCESS_CONTROL_ALLOW_HEADERS, self.allow_headers.join(","))
            .header(header::ACCESS_CONTROL_MAX_AGE, self.max_age_seconds)
            .body(Full::new(Bytes::new()))
            .ok()
    }

    /// The CORS headers of an answer to `request_headers`: API Gateway's for an allowed origin,
    /// and never a function's own (API Gateway drops those).
    pub fn apply(&self, request_headers: &HeaderMap, response_headers: &mut HeaderMap) {
        let functions_own: Vec<HeaderName> = response_headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in functions_own {
            response_headers.remove(name);
        }
        let origin = request_headers.get(header::ORIGIN).and_then(|origin| origin.to_str().ok());
        let Some(allow_origin) = origin.and_then(|origin| self.allowed(origin)) else {
            return;
        };
        if allow_origin != "*" {
            // The answer names the caller's origin: a shared cache must not hand it to another.
            response_headers.append(header::VARY, HeaderValue::from_static("origin"));
        }
        response_headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        if !self.expose_headers.is_empty() {
            if let Ok(exposed) = HeaderValue::from_str(&self.expose_headers.join(",")) {
                response_headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        pairs.iter().map(|(name, value)| (name.clone(), value.parse().unwrap())).collect()
    }

    #[test]
    fn the_template_declares_the_configuration_the_runner_uses() {
        let cors = Cors::from_template(vec!["*".into()]);
        assert!(cors.allow_methods.contains(&"PATCH".to_owned()), "{cors:?}");
        assert!(cors.allow_headers.contains(&"Idempotency-Key".to_owned()), "{cors:?}");
        assert!(cors.expose_headers.contains(&"Idempotent-Replayed".to_owned()), "{cors:?}");
        assert!(cors.expose_headers.contains(&"Huddle-Consistency".to_owned()), "{cors:?}");
        assert!(cors.allow_headers.contains(&"Huddle-Consistency".to_owned()), "{cors:?}");
        assert!(cors.max_age_seconds > 0);
        let hand_written =
            "\n      CorsConfiguration:\n        AllowOrigins: [\"*\"]\n        AllowMethods: [GET]\n";
        assert!(
            Cors::parse(hand_written, vec![]).unwrap_err().contains("AllowedOrigins"),
            "origins typed into the template would not be the ones --allowed-origins serves"
        );
    }

    #[test]
    fn origins_match_exactly_by_prefix_or_all() {
        let cors = |origins: &[&str]| Cors {
            allowed_origins: origins.iter().map(|origin| origin.to_string()).collect(),
            ..Cors::from_template(vec![])
        };
        let exact = cors(&["https://app.example"]);
        assert_eq!(
            exact.allowed("https://app.example"),
            Some(HeaderValue::from_static("https://app.example"))
        );
        assert_eq!(
            exact.allowed("https://APP.example"),
            Some(HeaderValue::from_static("https://APP.example"))
        );
        assert_eq!(exact.allowed("https://app.example.evil"), None);
        assert_eq!(exact.allowed("http://app.example"), None);
        let prefix = cors(&["https://*"]);
        assert!(prefix.allowed("https://anything.example").is_some());
        assert_eq!(prefix.allowed("http://anything.example"), None);
        assert_eq!(cors(&["https://a.example", "*"]).allowed("null"), Some(HeaderValue::from_static("*")));
        assert_eq!(cors(&[]).allowed("https://app.example"), None);
    }

    #[test]
    fn function_cors_headers_are_replaced_by_the_gateways() {
        let cors =
            Cors { allowed_origins: vec!["https://app.example".into()], ..Cors::from_template(vec![]) };
        let mut response = request(&[
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "https://evil.example"),
            (header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true"),
            (header::CONTENT_TYPE, "application/json"),
        ]);
        cors.apply(&request(&[(header::ORIGIN, "https://app.example")]), &mut response);
        assert_eq!(response[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        assert!(!response.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
        assert_eq!(response[header::ACCESS_CONTROL_EXPOSE_HEADERS], cors.expose_headers.join(","));
        assert_eq!(response[header::CONTENT_TYPE], "application/json");

        let mut response = request(&[(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")]);
        cors.apply(&request(&[(header::ORIGIN, "https://other.example")]), &mut response);
        assert!(response.is_empty(), "another origin gets no CORS headers at all: {response:?}");
    }
}
