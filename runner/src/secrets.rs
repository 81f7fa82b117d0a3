//! The secrets of the accounts domain when it runs locally. With a data folder they persist in
//! `secrets.json` there (owner-only), since the folder's email reservations are keyed with one
//! of them and its users' tokens are signed with the other; otherwise each start makes new ones.

use serde_json::json;
use std::path::Path;

pub struct LocalSecrets {
    pub token_secret: Vec<u8>,
    pub email_lookup_key: Vec<u8>,
}

fn random_secret() -> Vec<u8> {
    // Two ULIDs: 32 bytes, 160 of them random.
    [ulid::Ulid::new().to_bytes(), ulid::Ulid::new().to_bytes()].concat()
}

impl LocalSecrets {
    pub fn fresh() -> Self {
        Self { token_secret: random_secret(), email_lookup_key: random_secret() }
    }

    /// The folder's secrets, made on first use.
    pub fn in_folder(folder: &Path) -> Result<Self, String> {
        let path = folder.join("secrets.json");
        let decode = |value: &serde_json::Value| value.as_str().and_then(|text| hex::decode(text).ok());
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let stored: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                match (decode(&stored["token_secret"]), decode(&stored["email_lookup_key"])) {
                    (Some(token_secret), Some(email_lookup_key)) => {
                        Ok(Self { token_secret, email_lookup_key })
                    }
                    _ => Err(format!("{} lacks token_secret or email_lookup_key", path.display())),
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let secrets = Self::fresh();
                let stored = json!({
                    "token_secret": hex::encode(&secrets.token_secret),
                    "email_lookup_key": hex::encode(&secrets.email_lookup_key),
                });
                std::fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
                write_private(&path, &stored.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(secrets)
            }
            Err(error) => Err(format!("{}: {error}", path.display())),
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())
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
        assert_ne!(first.token_secret, first.email_lookup_key);
        assert_eq!(first.token_secret.len(), 32);
    }
}
