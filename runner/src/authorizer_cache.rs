//! API Gateway's cache of authorizer answers (`ReauthorizeEvery` in template.yaml): an answer is
//! reused for the same identity source (the `Authorization` header) until its TTL ends, whatever
//! route it was given for. So on AWS a revoked token keeps passing for up to that long; the
//! runner shows it with `huddle serve --authorizer-cache-seconds N`, and by default asks every time.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The authorizer's answer: the context it gave an allowed caller, or `None` for a denial,
/// which API Gateway caches as well.
pub type Answer = Option<HashMap<String, Value>>;

/// Entries beyond which a put first drops the expired ones, so that many one-off tokens cannot
/// grow the cache without bound.
const SWEEP_ABOVE: usize = 10_000;

pub struct AuthorizerCache {
    ttl: Duration,
    answers: Mutex<HashMap<String, (Instant, Answer)>>,
}

impl AuthorizerCache {
    /// A TTL of zero caches nothing.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, answers: Mutex::new(HashMap::new()) }
    }

    /// The answer given for `identity` less than the TTL ago.
    pub fn get(&self, identity: &str) -> Option<Answer> {
        let answers = self.answers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (expires, answer) = answers.get(identity)?;
        (Instant::now() < *expires).then(|| answer.clone())
    }

    pub fn put(&self, identity: &str, answer: Answer) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut answers = self.answers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if answers.len() >= SWEEP_ABOVE {
            answers.retain(|_, (expires, _)| now < *expires);
        }
        answers.insert(identity.to_owned(), (now + self.ttl, answer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_last_for_the_ttl_per_identity() {
        let cache = AuthorizerCache::new(Duration::from_millis(200));
        let allowed: Answer = Some(HashMap::from([("account_id".to_owned(), Value::from("acc_1"))]));
        cache.put("Bearer a", allowed.clone());
        cache.put("Bearer b", None);
        assert_eq!(cache.get("Bearer a"), Some(allowed));
        assert_eq!(cache.get("Bearer b"), Some(None), "a denial is cached too");
        assert_eq!(cache.get("Bearer c"), None);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(cache.get("Bearer a"), None, "past its TTL the authorizer is asked again");
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = AuthorizerCache::new(Duration::ZERO);
        cache.put("Bearer a", None);
        assert_eq!(cache.get("Bearer a"), None);
    }
}
