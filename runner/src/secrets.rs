//! The secrets of a local system. Wherever state outlives the process they persist in a
//! `secrets.json` (owner-only), since the stored email reservations are keyed with one of them,
//! the users' tokens are signed with another, and the idempotency records' fingerprints (and
//! cursors) are keyed with the third: in the data folder itself,
//! or, for a system on an AWS endpoint, in the data folder under a name that endpoint and
//! resource prefix make. Memory-only systems make new ones each start.

use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub struct LocalSecrets {
    pub token_secret: Vec<u8>,
    pub email_lookup_key: Vec<u8>,
    /// The runner's `Settings::request_secret`.
    pub request_secret: Vec<u8>,
}

fn random_secret() -> Vec<u8> {
    // Two ULIDs: 32 bytes, 160 of them random.
    [ulid::Ulid::new().to_bytes(), ulid::Ulid::new().to_bytes()].concat()
}

impl LocalSecrets {
    pub fn fresh() -> Self {
        Self {
            token_secret: random_secret(),
            email_lookup_key: random_secret(),
            request_secret: random_secret(),
        }
    }

    /// Where [`LocalSecrets::for_endpoint`] keeps the secrets of the system on `endpoint` whose
    /// resources are named `prefix…`: `data/aws/<hash of both>/`, so that two endpoints, or two
    /// systems on one endpoint, never share secrets. A trailing `/` does not make another endpoint.
    pub fn endpoint_folder(data: &Path, endpoint: &str, prefix: &str) -> PathBuf {
        let endpoint = endpoint.trim_end_matches('/');
        let digest = Sha256::digest(format!("{endpoint}\n{prefix}"));
        data.join("aws").join(hex::encode(&digest[..8]))
    }

    /// The secrets of the system on `endpoint` (see [`LocalSecrets::endpoint_folder`]): the
    /// endpoint keeps that system's accounts across restarts of the runner, so its secrets must
    /// last as long.
    pub fn for_endpoint(data: &Path, endpoint: &str, prefix: &str) -> Result<Self, String> {
        Self::in_folder(&Self::endpoint_folder(data, endpoint, prefix))
    }

    /// The folder's secrets, made on first use.
    pub fn in_folder(folder: &Path) -> Result<Self, String> {
        let path = folder.join("secrets.json");
        let decode = |value: &serde_json::Value| value.as_str().and_then(|text| hex::decode(text).ok());
        let stored = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => serde_json::Value::Null,
            Err(error) => return Err(format!("{}: {error}", path.display())),
        };
        let fresh = Self::fresh();
        let secrets = match (decode(&stored["token_secret"]), decode(&stored["email_lookup_key"])) {
            (Some(token_secret), Some(email_lookup_key)) => Self {
                token_secret,
                email_lookup_key,
                // Folders from before it existed get one now.
                request_secret: decode(&stored["request_secret"]).unwrap_or(fresh.request_secret),
            },
            _ if stored.is_null() => fresh,
            _ => return Err(format!("{} lacks token_secret or email_lookup_key", path.display())),
        };
        if stored.is_null() || stored["request_secret"].is_null() {
            let record = json!({
                "token_secret": hex::encode(&secrets.token_secret),
                "email_lookup_key": hex::encode(&secrets.email_lookup_key),
                "request_secret": hex::encode(&secrets.request_secret),
            });
            std::fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
            write_private(&path, &record.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(secrets)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    // A new file, so it is never readable by others for an instant, replacing any old one.
    let fresh = path.with_extension("json.new");
    let _ = std::fs::remove_file(&fresh);
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&fresh)?;
    file.write_all(text.as_bytes())?;
    std::fs::rename(&fresh, path)
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_keeps_its_secrets_across_starts() {
        let folder = tempfile::tempdir().unwrap();
        let first = LocalSecrets::in_folder(folder.path()).unwrap();
        let again = LocalSecrets::in_folder(folder.path()).unwrap();
        assert_eq!(first.token_secret, again.token_secret);
        assert_eq!(first.email_lookup_key, again.email_lookup_key);
        assert_eq!(first.request_secret, again.request_secret);
        assert_ne!(first.token_secret, first.email_lookup_key);
        assert_eq!(first.token_secret.len(), 32);
    }

    #[test]
    fn a_folder_from_before_the_request_secret_gets_one_and_keeps_the_others() {
        let folder = tempfile::tempdir().unwrap();
        let old = json!({"token_secret": hex::encode([1u8; 32]), "email_lookup_key": hex::encode([2u8; 32])});
        std::fs::write(folder.path().join("secrets.json"), old.to_string()).unwrap();
        let upgraded = LocalSecrets::in_folder(folder.path()).unwrap();
        assert_eq!((upgraded.token_secret, upgraded.email_lookup_key), (vec![1u8; 32], vec![2u8; 32]));
        assert_eq!(LocalSecrets::in_folder(folder.path()).unwrap().request_secret, upgraded.request_secret);
    }

    #[cfg(unix)]
    #[test]
    fn the_secrets_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().unwrap();
        LocalSecrets::in_folder(folder.path()).unwrap();
        let mode = std::fs::metadata(folder.path().join("secrets.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }

    #[test]
    fn each_endpoint_and_prefix_keeps_secrets_of_its_own() {
        let data = tempfile::tempdir().unwrap();
        let secrets =
            |endpoint: &str, prefix: &str| LocalSecrets::for_endpoint(data.path(), endpoint, prefix).unwrap();
        let first = secrets("http://127.0.0.1:5000", "huddle-local-");
        let again = secrets("http://127.0.0.1:5000/", "huddle-local-");
        assert_eq!(
            (&first.token_secret, &first.email_lookup_key),
            (&again.token_secret, &again.email_lookup_key)
        );
        for (endpoint, prefix) in
            [("http://127.0.0.1:5001", "huddle-local-"), ("http://127.0.0.1:5000", "other-")]
        {
            assert_ne!(secrets(endpoint, prefix).token_secret, first.token_secret, "{endpoint} {prefix}");
        }
        let folder = LocalSecrets::endpoint_folder(data.path(), "http://127.0.0.1:5000", "huddle-local-");
        assert!(folder.join("secrets.json").is_file(), "{}", folder.display());
    }
}
