//! Keyed hashes that name things in the log and the counters without naming the person: an
//! email address's reservation stream, a legacy subject's link stream, and who a throttle
//! counts (a login name, an address). Without the key, nobody can confirm a guess offline.

use hmac::{Hmac, Mac};
use huddle_catalog::accounts::{email_stream, legacy_stream};
use sha2::Sha256;

#[derive(Clone)]
pub struct Lookup {
    key: Vec<u8>,
}

impl Lookup {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// Each kind of value is hashed under its own label, so equal strings of two kinds (a
    /// login name and a legacy subject) never share a hash.
    fn hash(&self, kind: &str, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// `address` is already normalised.
    pub fn email_stream(&self, address: &str) -> String {
        // Unlabelled, as it was first written: the log's email streams are named this way.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(address.as_bytes());
        email_stream(&hex::encode(mac.finalize().into_bytes()))
    }

    /// The link stream of the legacy issuer's user `subject`.
    pub fn legacy_stream(&self, subject: &str) -> String {
        legacy_stream(&self.hash("legacy-subject", subject))
    }

    /// Who a throttle counts, for a value of `kind` (`login`, `ip`).
    pub fn throttle_subject(&self, kind: &str, value: &str) -> String {
        self.hash(kind, value)
    }
}
