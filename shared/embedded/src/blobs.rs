//! The Blobs port on a local folder. Each object is one file; its content type and size are a
//! row in SQLite. Uploads and downloads go through URLs signed with HMAC-SHA256 that the local
//! runner serves on [`BLOB_ROUTE`] and hands to [`FolderBlobs::receive_upload`] (a PUT, its
//! content type and length signed) and [`FolderBlobs::serve_download`] (a GET).
//!
//! Like S3's event notifications to SQS, the store sends a notification of each object created
//! under a prefix to the queue registered for it ([`FolderBlobs::notify`]).
//!
//! Files are named by the SHA-256 of their key rather than by the key itself: S3 lets `a` and
//! `a/b` both be objects, which a file and a directory of one name could not, and no key can
//! then reach outside the folder. Keys are still validated as the port requires.

use crate::Database;
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use huddle_ports::{
    notification_body, validate_key, validate_page, BlobError, BlobMeta, Blobs, ObjectCreated,
    OutgoingMessage, PresignedDownload, PresignedUpload, Queue, BLOB_PAGE, MAX_PRESIGNED_LIFETIME,
};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use time::OffsetDateTime;
use url::Url;

/// The path under which the runner serves presigned uploads and downloads: `/_blobs/<bucket>/<key>`.
pub const BLOB_ROUTE: &str = "/_blobs/";

/// How a folder blob store is set up.
pub struct FolderBlobsConfig {
    /// Names the store's objects in the database, and its uploads in URLs.
    pub bucket: String,
    /// Where the object files live; created when missing.
    pub folder: PathBuf,
    /// The origin the runner serves presigned URLs on, e.g. `http://127.0.0.1:3000`.
    pub upload_origin: Url,
    /// Signs presigned URLs; anyone who holds it can mint them.
    pub signing_key: Vec<u8>,
    /// The largest upload [`FolderBlobs::receive_upload`] accepts.
    pub max_upload_bytes: u64,
}

#[derive(Clone)]
pub struct FolderBlobs {
    db: Database,
    bucket: String,
    folder: PathBuf,
    upload_origin: Url,
    signing_key: Vec<u8>,
    max_upload_bytes: u64,
    notifications: Arc<RwLock<Vec<Notification>>>,
}

/// Objects created under `prefix` are announced on `queue`.
struct Notification {
    prefix: String,
    queue: Arc<dyn Queue>,
}

/// A request to a presigned URL as the runner's route received it.
pub struct PresignedRequest<'a> {
    pub method: &'a str,
    /// The request path as sent, percent-encoded: `/_blobs/<bucket>/<key>`.
    pub path: &'a str,
    /// The query string as sent, without the `?`.
    pub query: &'a str,
    /// The request's Content-Type header.
    pub content_type: Option<&'a str>,
    /// The request's If-None-Match header: an upload must send `*` (it is signed).
    pub if_none_match: Option<&'a str>,
    /// The request's body (a download's is empty); its length is the one checked against a
    /// signed Content-Length.
    pub body: Vec<u8>,
}

/// Why a request to a presigned URL was refused; [`Refused::status_code`] is the HTTP answer,
/// as S3 gives it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("presigned URLs take PUT (an upload) or GET (a download), not {0}")]
    WrongMethod(String),
    #[error("not an object path of this store: {0}")]
    InvalidKey(String),
    #[error("the URL's signature does not match")]
    BadSignature,
    #[error("the URL has expired")]
    Expired,
    #[error("the upload URL is for content type {signed:?}, the request sent {sent:?}")]
    WrongContentType { signed: String, sent: Option<String> },
    #[error("the upload URL is for {signed} bytes, the request sent {sent}")]
    WrongLength { signed: u64, sent: u64 },
    #[error("an upload URL only creates its object: the request must send If-None-Match: *")]
    NotCreateOnly,
    #[error("an object is at {0} already, and an upload URL only creates one")]
    AlreadyExists(String),
    #[error("no object at {0}")]
    NotFound(String),
    #[error("the upload is {size} bytes, over the bound of {limit}")]
    TooLarge { size: u64, limit: u64 },
    #[error("the object could not be stored or read: {0}")]
    Storage(String),
}

impl Refused {
    pub fn status_code(&self) -> u16 {
        match self {
            Refused::WrongMethod(_) => 405,
            Refused::InvalidKey(_) => 400,
            // Content type and length are signed, so S3 answers another one like a bad signature.
            Refused::BadSignature
            | Refused::Expired
            | Refused::WrongContentType { .. }
            | Refused::WrongLength { .. }
            | Refused::NotCreateOnly => 403,
            Refused::NotFound(_) => 404,
            Refused::AlreadyExists(_) => 412,
            Refused::TooLarge { .. } => 413,
            Refused::Storage(_) => 500,
        }
    }
}

/// Whether a write may replace an object already at its key (S3's `If-None-Match: *` when not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Replace,
    CreateOnly,
}

/// What a presigned URL grants, as its signature covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant<'a> {
    Upload { content_type: &'a str, content_length: u64 },
    Download,
}

fn unavailable(error: impl std::fmt::Display) -> BlobError {
    BlobError::Unavailable(error.to_string())
}

/// A content type must be a valid header value, since the uploader sends it as one.
fn validate_content_type(content_type: &str) -> Result<(), BlobError> {
    let printable = content_type.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
    if content_type.trim().is_empty() || !printable {
        return Err(BlobError::Invalid(format!("content type {content_type:?} is not a header value")));
    }
    Ok(())
}

impl FolderBlobs {
    pub fn open(db: &Database, config: FolderBlobsConfig) -> std::io::Result<Self> {
        std::fs::create_dir_all(&config.folder).map_err(|e| {
            std::io::Error::new(e.kind(), format!("blob folder {}: {e}", config.folder.display()))
        })?;
        Ok(Self {
            db: db.clone(),
            bucket: config.bucket,
            folder: config.folder,
            upload_origin: config.upload_origin,
            signing_key: config.signing_key,
            max_upload_bytes: config.max_upload_bytes,
            notifications: Arc::default(),
        })
    }

    /// Announce every object created under `prefix` (by a presigned upload or a put) on `queue`,
    /// in S3's notification format, as a bucket's notification configuration does.
    pub fn notify(&self, prefix: &str, queue: Arc<dyn Queue>) {
        self.notifications
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(Notification { prefix: prefix.into(), queue });
    }

    /// Sends the notifications `object` matches. A failed send fails the write that created the
    /// object, so the writer tries again and nothing is created unannounced.
    async fn announce(&self, object: ObjectCreated) -> Result<(), BlobError> {
        let queues: Vec<Arc<dyn Queue>> = {
            let notifications = self.notifications.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            notifications
                .iter()
                .filter(|notification| object.key.starts_with(&notification.prefix))
                .map(|notification| notification.queue.clone())
                .collect()
        };
        for queue in queues {
            let message =
                OutgoingMessage { body: notification_body(&self.bucket, &object), ..Default::default() };
            queue.send_batch(vec![message]).await.map_err(|e| BlobError::Unavailable(e.to_string()))?;
        }
        Ok(())
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The runner may refuse a longer body before reading it.
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_bytes
    }

    /// Checks a request against the URL that was presigned for it, as of `now`; it stores and
    /// reads nothing. The checks run in the order S3 runs them, so an expired URL with a
    /// tampered signature is refused as tampered.
    pub fn verify(&self, request: &PresignedRequest<'_>, now: OffsetDateTime) -> Result<(), Refused> {
        self.verified_key(request, now).map(drop)
    }

    /// Verifies an upload now and stores its body under the key its path names.
    pub async fn receive_upload(&self, request: PresignedRequest<'_>) -> Result<BlobMeta, Refused> {
        if request.method != "PUT" {
            return Err(Refused::WrongMethod(request.method.to_owned()));
        }
        let key = self.verified_key(&request, OffsetDateTime::now_utc())?;
        let content_type = request.content_type.unwrap_or_default().to_owned();
        let meta = BlobMeta { size: request.body.len() as u64, content_type: Some(content_type.clone()) };
        let created = self.write(&key, &content_type, request.body, Write::CreateOnly).await;
        match created.map_err(|e| Refused::Storage(e.to_string()))? {
            true => Ok(meta),
            false => Err(Refused::AlreadyExists(key)),
        }
    }

    /// Verifies a download now and reads the object its path names: its content type and bytes.
    pub async fn serve_download(&self, request: PresignedRequest<'_>) -> Result<(String, Vec<u8>), Refused> {
        if request.method != "GET" {
            return Err(Refused::WrongMethod(request.method.to_owned()));
        }
        let key = self.verified_key(&request, OffsetDateTime::now_utc())?;
        let content_type = self.head(&key).await.map_err(|e| Refused::Storage(e.to_string()))?;
        let content_type = content_type.ok_or_else(|| Refused::NotFound(key.clone()))?.content_type;
        match self.get(&key).await {
            Ok(bytes) => Ok((content_type.unwrap_or_default(), bytes)),
            Err(BlobError::NotFound(_)) => Err(Refused::NotFound(key)),
            Err(error) => Err(Refused::Storage(error.to_string())),
        }
    }

    fn verified_key(&self, request: &PresignedRequest<'_>, now: OffsetDateTime) -> Result<String, Refused> {
        let key = self.key_of_path(request.path)?;
        let signed = SignedQuery::parse(request.query).ok_or(Refused::BadSignature)?;
        let grant = match request.method {
            "PUT" => Grant::Upload {
                content_type: signed.content_type.as_deref().ok_or(Refused::BadSignature)?,
                content_length: signed.content_length.ok_or(Refused::BadSignature)?,
            },
            "GET" => Grant::Download,
            other => return Err(Refused::WrongMethod(other.to_owned())),
        };
        let signature = hex::decode(&signed.signature).map_err(|_| Refused::BadSignature)?;
        self.mac(&key, signed.expires, grant).verify_slice(&signature).map_err(|_| Refused::BadSignature)?;
        if now.unix_timestamp() >= signed.expires {
            return Err(Refused::Expired);
        }
        let Grant::Upload { content_type, content_length } = grant else { return Ok(key) };
        if request.content_type != Some(content_type) {
            return Err(Refused::WrongContentType {
                signed: content_type.to_owned(),
                sent: request.content_type.map(str::to_owned),
            });
        }
        let size = request.body.len() as u64;
        if size > self.max_upload_bytes {
            return Err(Refused::TooLarge { size, limit: self.max_upload_bytes });
        }
        if size != content_length {
            return Err(Refused::WrongLength { signed: content_length, sent: size });
        }
        if request.if_none_match != Some("*") {
            return Err(Refused::NotCreateOnly);
        }
        Ok(key)
    }

    fn route_prefix(&self) -> String {
        format!("{BLOB_ROUTE}{}/", self.bucket)
    }

    fn key_of_path(&self, path: &str) -> Result<String, Refused> {
        let invalid = || Refused::InvalidKey(path.to_owned());
        let encoded = path.strip_prefix(&self.route_prefix()).ok_or_else(invalid)?;
        let key = percent_encoding::percent_decode_str(encoded).decode_utf8().map_err(|_| invalid())?;
        validate_key(&key).map_err(|_| invalid())?;
        Ok(key.into_owned())
    }

    /// The MAC of one grant: method, bucket, key, expiry and, for an upload, content type and
    /// length, each on its own line (none of them can hold a newline, so no two grants share a
    /// text, and an upload's signature is no download's).
    fn mac(&self, key: &str, expires: i64, grant: Grant<'_>) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.signing_key).expect("HMAC takes any key length");
        let bucket = &self.bucket;
        let text = match grant {
            Grant::Upload { content_type, content_length } => {
                format!("PUT\n{bucket}\n{key}\n{expires}\n{content_type}\n{content_length}")
            }
            Grant::Download => format!("GET\n{bucket}\n{key}\n{expires}"),
        };
        mac.update(text.as_bytes());
        mac
    }

    /// A URL on the runner's [`BLOB_ROUTE`] for `key`, its query `grant`ed until `expires_in`
    /// from now.
    fn presign(
        &self,
        key: &str,
        expires_in: Duration,
        grant: Grant<'_>,
    ) -> Result<(Url, OffsetDateTime), BlobError> {
        validate_key(key)?;
        if expires_in > MAX_PRESIGNED_LIFETIME {
            return Err(BlobError::Invalid(format!(
                "presigned URLs live at most {MAX_PRESIGNED_LIFETIME:?}"
            )));
        }
        let expires = (OffsetDateTime::now_utc() + expires_in).unix_timestamp();
        let signature = hex::encode(self.mac(key, expires, grant).finalize().into_bytes());
        let mut url = self.upload_origin.clone();
        url.path_segments_mut()
            .map_err(|()| BlobError::Invalid(format!("{} cannot be a base URL", self.upload_origin)))?
            .clear()
            .extend(BLOB_ROUTE.split('/').filter(|segment| !segment.is_empty()))
            .push(&self.bucket)
            .extend(key.split('/'));
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("expires", &expires.to_string());
            if let Grant::Upload { content_type, content_length } = grant {
                query
                    .append_pair("content_type", content_type)
                    .append_pair("content_length", &content_length.to_string());
            }
            query.append_pair("signature", &signature);
        }
        let expires_at =
            OffsetDateTime::from_unix_timestamp(expires).map_err(|e| BlobError::Invalid(e.to_string()))?;
        Ok((url, expires_at))
    }

    fn file_of(&self, key: &str) -> PathBuf {
        self.folder.join(hex::encode(Sha256::digest(key.as_bytes())))
    }

    /// Stores the object and announces it; `false` when `write` is create-only and an object is
    /// there (nothing changed).
    async fn write(
        &self,
        key: &str,
        content_type: &str,
        bytes: Vec<u8>,
        write: Write,
    ) -> Result<bool, BlobError> {
        validate_key(key)?;
        validate_content_type(content_type)?;
        let object = ObjectCreated { key: key.to_owned(), size: bytes.len() as u64 };
        let (key, content_type) = (key.to_owned(), content_type.to_owned());
        let stored = self.blocking(move |store| store.store(&key, &content_type, &bytes, write)).await?;
        if stored {
            self.announce(object).await?;
        }
        Ok(stored)
    }

    /// Writes the bytes beside their final file, then renames the file into place and records
    /// the row in one transaction, so a reader sees the old object or the new one, never a mix.
    fn store(&self, key: &str, content_type: &str, bytes: &[u8], write: Write) -> Result<bool, BlobError> {
        let file = self.file_of(key);
        let staging = file.with_extension(format!("{}.partial", ulid::Ulid::new()));
        std::fs::write(&staging, bytes).map_err(unavailable)?;
        let committed = self.commit(key, content_type, bytes.len(), &staging, &file, write);
        if !matches!(committed, Ok(true)) {
            let _ = std::fs::remove_file(&staging);
        }
        committed
    }

    fn commit(
        &self,
        key: &str,
        content_type: &str,
        size: usize,
        staging: &Path,
        file: &Path,
        write: Write,
    ) -> Result<bool, BlobError> {
        let mut conn = self.db.lock();
        let tx = conn.transaction().map_err(unavailable)?;
        let statement = match write {
            Write::Replace => {
                "INSERT OR REPLACE INTO blobs (bucket, key, content_type, size) VALUES (?1, ?2, ?3, ?4)"
            }
            Write::CreateOnly => {
                "INSERT OR IGNORE INTO blobs (bucket, key, content_type, size) VALUES (?1, ?2, ?3, ?4)"
            }
        };
        let inserted = tx
            .prepare_cached(statement)
            .and_then(|mut stmt| stmt.execute(params![self.bucket, key, content_type, size as i64]))
            .map_err(unavailable)?;
        if inserted == 0 {
            return Ok(false);
        }
        std::fs::rename(staging, file).map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok(true)
    }

    /// Forgets the row and removes the file under the database's lock, so no reader finds a row
    /// without its file.
    fn remove(&self, key: &str) -> Result<(), BlobError> {
        let conn = self.db.lock();
        conn.prepare_cached("DELETE FROM blobs WHERE bucket = ?1 AND key = ?2")
            .and_then(|mut stmt| stmt.execute(params![self.bucket, key]))
            .map_err(unavailable)?;
        match std::fs::remove_file(self.file_of(key)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(unavailable(error)),
            _ => Ok(()),
        }
    }

    /// Opens the object's file while holding the database, so the bytes read are those of the
    /// row found (a later rename replaces the name, not the open file).
    fn load(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let mut file = {
            let conn = self.db.lock();
            if meta_in(&conn, &self.bucket, key)?.is_none() {
                return Err(BlobError::NotFound(key.to_owned()));
            }
            std::fs::File::open(self.file_of(key)).map_err(unavailable)?
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(unavailable)?;
        Ok(bytes)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&FolderBlobs) -> Result<T, BlobError> + Send + 'static,
    ) -> Result<T, BlobError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&store)).await.map_err(unavailable)?
    }
}

fn meta_in(conn: &Connection, bucket: &str, key: &str) -> Result<Option<BlobMeta>, BlobError> {
    conn.prepare_cached("SELECT size, content_type FROM blobs WHERE bucket = ?1 AND key = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![bucket, key], |row| {
                Ok(BlobMeta { size: row.get::<_, i64>(0)? as u64, content_type: Some(row.get(1)?) })
            })
            .optional()
        })
        .map_err(unavailable)
}

/// The grant a presigned URL carries in its query (an upload's content type and length too).
struct SignedQuery {
    expires: i64,
    content_type: Option<String>,
    content_length: Option<u64>,
    signature: String,
}

impl SignedQuery {
    fn parse(query: &str) -> Option<Self> {
        let mut expires = None;
        let mut content_type = None;
        let mut content_length = None;
        let mut signature = None;
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "expires" => &mut expires,
                "content_type" => &mut content_type,
                "content_length" => &mut content_length,
                "signature" => &mut signature,
                _ => continue,
            };
            // A repeated parameter could make two readers of one URL disagree: refuse it.
            if slot.replace(value.into_owned()).is_some() {
                return None;
            }
        }
        let content_length = match content_length {
            Some(length) => Some(length.parse().ok()?),
            None => None,
        };
        Some(Self { expires: expires?.parse().ok()?, content_type, content_length, signature: signature? })
    }
}

#[async_trait]
impl Blobs for FolderBlobs {
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, BlobError> {
        validate_content_type(content_type)?;
        let grant = Grant::Upload { content_type, content_length };
        let (url, expires_at) = self.presign(key, expires_in, grant)?;
        Ok(PresignedUpload {
            url: url.into(),
            method: "PUT".into(),
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("content-length".into(), content_length.to_string()),
                ("if-none-match".into(), "*".into()),
            ],
            expires_at,
        })
    }

    async fn presign_download(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedDownload, BlobError> {
        let (url, expires_at) = self.presign(key, expires_in, Grant::Download)?;
        Ok(PresignedDownload { url: url.into(), expires_at })
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        validate_key(key)?;
        meta_in(&self.db.lock(), &self.bucket, key)
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        validate_key(key)?;
        let key = key.to_owned();
        self.blocking(move |store| store.load(&key)).await
    }

    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        self.write(key, content_type, bytes, Write::Replace).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        let key = key.to_owned();
        self.blocking(move |store| store.remove(&key)).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let conn = self.db.lock();
        // Byte order, as S3 lists (SQLite compares TEXT bytewise), the prefix matched exactly
        // rather than as a LIKE pattern.
        let mut statement = conn
            .prepare_cached(
                "SELECT key FROM blobs WHERE bucket = ?1 AND substr(key, 1, length(?2)) = ?2 ORDER BY key LIMIT ?3",
            )
            .map_err(unavailable)?;
        let keys = statement
            .query_map(params![self.bucket, prefix, BLOB_PAGE as i64], |row| row.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(unavailable)?;
        Ok(keys)
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), BlobError> {
        validate_page(keys)?;
        let keys = keys.to_vec();
        self.blocking(move |store| keys.iter().try_for_each(|key| store.remove(key))).await
    }
}
