//! Password hashing with Argon2id. Hashing is deliberately slow, so it runs on the blocking
//! pool, and a login for an unknown account verifies against a dummy hash to take as long as a
//! wrong password does.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use password_hash::rand_core::OsRng;
use std::sync::{Arc, OnceLock};

/// Argon2id cost: memory in KiB, iterations, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordCost {
    /// OWASP's first Argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

#[derive(Clone)]
pub struct Passwords {
    argon2: Arc<Argon2<'static>>,
    /// Verified against when the login names no account; made on first need.
    dummy: Arc<OnceLock<String>>,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashingFailed(String);

impl Passwords {
    pub fn new(cost: PasswordCost) -> Self {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .expect("valid Argon2 parameters");
        Self {
            argon2: Arc::new(Argon2::new(Algorithm::Argon2id, Version::V0x13, params)),
            dummy: Arc::new(OnceLock::new()),
        }
    }

    /// The PHC string (`$argon2id$v=19$m=…`) of `password` with a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String, HashingFailed> {
        let argon2 = self.argon2.clone();
        tokio::task::spawn_blocking(move || hash_now(&argon2, &password))
            .await
            .map_err(|e| HashingFailed(e.to_string()))?
    }

    /// Whether `password` matches `hash`; with no hash (unknown account) it spends the same
    /// time and says no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let known = hash.is_some();
            let hash = match hash {
                Some(hash) => hash,
                None => this
                    .dummy
                    .get_or_init(|| {
                        hash_now(&this.argon2, "no account has this password").unwrap_or_default()
                    })
                    .clone(),
            };
            let matches = PasswordHash::new(&hash)
                .map(|parsed| this.argon2.verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false);
            known && matches
        })
        .await
        .unwrap_or(false)
    }
}

fn hash_now(argon2: &Argon2<'static>, password: &str) -> Result<String, HashingFailed> {
    let salt = SaltString::generate(&mut OsRng);
    argon2
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashingFailed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Passwords {
        Passwords::new(PasswordCost { memory_kib: 64, iterations: 1, parallelism: 1 })
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = cheap();
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert_ne!(hash, passwords.hash("correct horse".into()).await.unwrap(), "salted");
        assert!(passwords.verify("correct horse".into(), Some(hash.clone())).await);
        assert!(!passwords.verify("wrong horse!".into(), Some(hash)).await);
        assert!(!passwords.verify("correct horse".into(), None).await);
        assert!(
            !passwords.verify("no account has this password".into(), None).await,
            "the dummy never matches"
        );
    }
}
