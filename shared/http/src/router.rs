use lambda_http::http::Method;
use std::collections::HashMap;

/// An HttpApi route: a method and a path template such as `/v1/notes/{id}`, whose last segment
/// may be greedy (`/v1/files/{path+}`: one or more segments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub template: String,
}

/// How specifically a template names its paths, in HttpApi's order of preference: a template
/// without variables beats one with variables, which beats a greedy one; among those, more literal
/// segments win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Specificity {
    not_greedy: bool,
    no_variables: bool,
    literal_segments: usize,
}

impl Route {
    pub fn new(method: Method, template: &str) -> Self {
        Self { method, template: template.to_owned() }
    }

    /// The route key as API Gateway names it, e.g. `POST /v1/notes`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    fn specificity(&self) -> Specificity {
        let segments = || self.template.split('/');
        let variable = |segment: &str| segment.starts_with('{') && segment.ends_with('}');
        Specificity {
            not_greedy: !self.template.ends_with("+}"),
            no_variables: !segments().any(variable),
            literal_segments: segments().filter(|segment| !variable(segment)).count(),
        }
    }

    /// The path parameters when `path` fits the template. A greedy variable takes the rest of the
    /// path as it was sent, slashes included, as API Gateway passes `{proxy+}`.
    fn bind(&self, path: &str) -> Option<HashMap<String, String>> {
        let mut parameters = HashMap::new();
        let mut rest = path;
        let mut expected_segments = self.template.split('/').peekable();
        while let Some(expected) = expected_segments.next() {
            let (actual, remaining) = rest.split_once('/').unwrap_or((rest, ""));
            let at_end = !rest.contains('/');
            match expected.strip_prefix('{').and_then(|e| e.strip_suffix('}')) {
                Some(greedy) if greedy.ends_with('+') && expected_segments.peek().is_none() => {
                    if rest.is_empty() {
                        return None;
                    }
                    parameters.insert(greedy.trim_end_matches('+').to_owned(), percent_decode(rest)?);
                    return Some(parameters);
                }
                Some(name) if !actual.is_empty() => {
                    parameters.insert(name.to_owned(), percent_decode(actual)?);
                }
                Some(_) => return None,
                None if actual == expected => {}
                None => return None,
            }
            if at_end {
                return expected_segments.next().is_none().then_some(parameters);
            }
            rest = remaining;
        }
        None
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

    /// The route and target for a request, with its path parameters: of the routes of this method
    /// that fit the path, the most specific (see [`Specificity`]). `None` is HttpApi's `$default`.
    pub fn find(&self, method: &Method, path: &str) -> Option<(&Route, &T, HashMap<String, String>)> {
        self.routes
            .iter()
            .filter(|(route, _)| route.method == method)
            .filter_map(|(route, target)| Some((route, target, route.bind(path)?)))
            .max_by_key(|(route, _, _)| route.specificity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get_routes(templates: &[&'static str]) -> Router<&'static str> {
        let mut router = Router::default();
        for template in templates {
            router.add(Route::new(Method::GET, template), *template);
        }
        router
    }

    fn chosen(router: &Router<&'static str>, path: &str) -> Option<&'static str> {
        router.find(&Method::GET, path).map(|(_, target, _)| *target)
    }

    #[test]
    fn routes_bind_parameters_by_method_and_path() {
        let mut router = Router::default();
        router.add(Route::new(Method::GET, "/v1/notes/{id}"), "get");
        router.add(Route::new(Method::POST, "/v1/notes"), "create");

        let (route, target, parameters) = router.find(&Method::GET, "/v1/notes/n%231").unwrap();
        assert_eq!(
            (route.key().as_str(), *target, parameters["id"].as_str()),
            ("GET /v1/notes/{id}", "get", "n#1")
        );
        assert_eq!(router.find(&Method::POST, "/v1/notes").unwrap().1, &"create");
        assert!(router.find(&Method::POST, "/v1/notes/").is_none());
        assert!(router.find(&Method::DELETE, "/v1/notes").is_none(), "another method is $default's");
        assert!(router.find(&Method::GET, "/v1/notes/a/b").is_none());
        assert!(router.find(&Method::GET, "/v1/notes//").is_none());
        assert!(router.find(&Method::GET, "/v1/notes/bad%zz").is_none(), "an undecodable segment");
    }

    #[test]
    fn an_exact_path_beats_variables_and_more_literal_segments_win() {
        // Added least specific first, so that the order of adding cannot be what decides.
        let router = get_routes(&[
            "/v1/{kind}/{id}",
            "/v1/accounts/{id}",
            "/v1/accounts/by-username/{username}",
            "/v1/accounts/by-username/me",
        ]);
        assert_eq!(chosen(&router, "/v1/accounts/by-username/me"), Some("/v1/accounts/by-username/me"));
        assert_eq!(
            chosen(&router, "/v1/accounts/by-username/ana"),
            Some("/v1/accounts/by-username/{username}")
        );
        assert_eq!(chosen(&router, "/v1/accounts/acc_1"), Some("/v1/accounts/{id}"));
        assert_eq!(chosen(&router, "/v1/notes/n1"), Some("/v1/{kind}/{id}"));
        let reversed = get_routes(&["/v1/accounts/me", "/v1/accounts/{id}"]);
        assert_eq!(chosen(&reversed, "/v1/accounts/me"), Some("/v1/accounts/me"));
    }

    #[test]
    fn a_greedy_variable_takes_the_rest_of_the_path_and_comes_after_every_other_match() {
        let router = get_routes(&["/v1/files/{path+}", "/v1/files/{id}/meta", "/{proxy+}"]);
        let (_, _, parameters) = router.find(&Method::GET, "/v1/files/a/b%20c/d.txt").unwrap();
        assert_eq!(parameters["path"], "a/b c/d.txt", "slashes kept, segments decoded");
        assert_eq!(chosen(&router, "/v1/files/f1/meta"), Some("/v1/files/{id}/meta"));
        assert_eq!(chosen(&router, "/v1/files/f1"), Some("/v1/files/{path+}"));
        assert_eq!(chosen(&router, "/v1/files/"), Some("/{proxy+}"), "a greedy variable needs a segment");
        assert_eq!(chosen(&router, "/elsewhere"), Some("/{proxy+}"));
        assert_eq!(chosen(&router, "/"), None, "nothing for {{proxy+}} to take: $default's");
    }
}
