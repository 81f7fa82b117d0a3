use crate::ApiError;
use lambda_http::http::{Method, StatusCode};
use std::collections::HashMap;

/// An HttpApi route: a method and a path template such as `/v1/notes/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub template: String,
}

impl Route {
    pub fn new(method: Method, template: &str) -> Self {
        Self { method, template: template.to_owned() }
    }

    /// The route key as API Gateway names it, e.g. `POST /v1/notes`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// The path parameters when `path` fits the template.
    fn bind(&self, path: &str) -> Option<HashMap<String, String>> {
        let mut parameters = HashMap::new();
        let mut segments = path.split('/');
        for expected in self.template.split('/') {
            let actual = segments.next()?;
            match expected.strip_prefix('{').and_then(|e| e.strip_suffix('}')) {
                Some(name) if !actual.is_empty() => {
                    parameters.insert(name.to_owned(), percent_decode(actual)?);
                }
                Some(_) => return None,
                None if actual == expected => {}
                None => return None,
            }
        }
        segments.next().is_none().then_some(parameters)
    }
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

/// Routes to targets, as API Gateway routes requests to integrations.
pub struct Router<T> {
    routes: Vec<(Route, T)>,
}

impl<T> Default for Router<T> {
    fn default() -> Self {
        Self { routes: Vec::new() }
    }
}

impl<T> Router<T> {
    pub fn add(&mut self, route: Route, target: T) {
        self.routes.push((route, target));
    }

    /// The route and target for a request, with its path parameters; 404 when no route has the
    /// path, 405 when routes have it but not with this method.
    pub fn find(
        &self,
        method: &Method,
        path: &str,
    ) -> Result<(&Route, &T, HashMap<String, String>), ApiError> {
        let mut path_known = false;
        for (route, target) in &self.routes {
            if let Some(parameters) = route.bind(path) {
                if route.method == method {
                    return Ok((route, target, parameters));
                }
                path_known = true;
            }
        }
        Err(if path_known {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{method} is not allowed here"),
            )
        } else {
            ApiError::not_found(format!("no route for {path}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_bind_parameters_and_tell_404_from_405() {
        let mut router = Router::default();
        router.add(Route::new(Method::GET, "/v1/notes/{id}"), "get");
        router.add(Route::new(Method::POST, "/v1/notes"), "create");

        let (route, target, parameters) = router.find(&Method::GET, "/v1/notes/n%231").unwrap();
        assert_eq!(
            (route.key().as_str(), *target, parameters["id"].as_str()),
            ("GET /v1/notes/{id}", "get", "n#1")
        );
        assert_eq!(router.find(&Method::POST, "/v1/notes").unwrap().1, &"create");
        assert_eq!(router.find(&Method::POST, "/v1/notes/").unwrap_err().status, StatusCode::NOT_FOUND);
        assert_eq!(
            router.find(&Method::DELETE, "/v1/notes").unwrap_err().status,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(router.find(&Method::GET, "/v1/notes/a/b").unwrap_err().status, StatusCode::NOT_FOUND);
        assert_eq!(router.find(&Method::GET, "/v1/notes//").unwrap_err().status, StatusCode::NOT_FOUND);
    }
}
