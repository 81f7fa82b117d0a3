//! The Blobs port on S3. Uploads go straight from the app to S3 through presigned PUT URLs
//! whose signature binds the content type, so S3 itself refuses another type.

use async_trait::async_trait;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use huddle_ports::{
    validate_key, validate_page, BlobError, BlobMeta, Blobs, PresignedDownload, PresignedUpload, BLOB_PAGE,
};
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;

#[derive(Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    /// `client` should come from [`crate::s3_client`], which addresses local endpoints by path.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }
}

/// Presigning from now, signed to whole seconds as a URL's X-Amz-Date is, and when it expires.
fn presigning(expires_in: Duration) -> Result<(PresigningConfig, OffsetDateTime), BlobError> {
    let start = OffsetDateTime::now_utc().replace_nanosecond(0).expect("zero is a valid nanosecond");
    let config = PresigningConfig::builder()
        .start_time(SystemTime::from(start))
        .expires_in(expires_in)
        .build()
        .map_err(|e| BlobError::Invalid(e.to_string()))?;
    Ok((config, start + expires_in))
}

fn service_error<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> BlobError {
    match error.code() {
        Some("NoSuchKey" | "NotFound") => BlobError::NotFound(error.message().unwrap_or_default().to_owned()),
        Some("InvalidArgument" | "KeyTooLongError") => {
            BlobError::Invalid(error.message().unwrap_or_default().to_owned())
        }
        _ => BlobError::Unavailable(format!("{error:?}")),
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, BlobError> {
        validate_key(key)?;
        let (presigning, expires_at) = presigning(expires_in)?;
        let content_length = i64::try_from(content_length)
            .map_err(|_| BlobError::Invalid(format!("{content_length} bytes is no object size")))?;
        // An explicit Content-Length is signed (only the SDK's default one is left out), so S3
        // refuses a body of another size as it refuses another content type.
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(content_length)
            .if_none_match("*")
            .presigned(presigning)
            .await
            .map_err(|e| BlobError::Invalid(format!("cannot presign: {e:?}")))?;
        Ok(PresignedUpload {
            url: presigned.uri().to_owned(),
            method: presigned.method().to_owned(),
            headers: presigned.headers().map(|(name, value)| (name.to_owned(), value.to_owned())).collect(),
            expires_at,
        })
    }

    async fn presign_download(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedDownload, BlobError> {
        validate_key(key)?;
        let (presigning, expires_at) = presigning(expires_in)?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning)
            .await
            .map_err(|e| BlobError::Invalid(format!("cannot presign: {e:?}")))?;
        Ok(PresignedDownload { url: presigned.uri().to_owned(), expires_at })
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        validate_key(key)?;
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(object) => Ok(Some(BlobMeta {
                size: object.content_length().unwrap_or_default().max(0) as u64,
                content_type: object.content_type().map(str::to_owned),
            })),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(service_error(error)),
        }
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        validate_key(key)?;
        let object =
            self.client.get_object().bucket(&self.bucket).key(key).send().await.map_err(|error| {
                match service_error(error) {
                    BlobError::NotFound(_) => BlobError::NotFound(key.to_owned()),
                    other => other,
                }
            })?;
        let body = object.body.collect().await.map_err(|e| BlobError::Unavailable(e.to_string()))?;
        Ok(body.to_vec())
    }

    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        validate_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(service_error)?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(service_error)?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let listed = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(BLOB_PAGE as i32)
            .send()
            .await
            .map_err(service_error)?;
        Ok(listed.contents().iter().filter_map(|object| object.key().map(str::to_owned)).collect())
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), BlobError> {
        validate_page(keys)?;
        if keys.is_empty() {
            return Ok(());
        }
        let objects = keys
            .iter()
            .map(|key| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BlobError::Invalid(e.to_string()))?;
        // Quiet: the answer lists only the keys that failed.
        let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build();
        let delete = delete.map_err(|e| BlobError::Invalid(e.to_string()))?;
        let answer = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(service_error)?;
        match answer.errors().first() {
            None => Ok(()),
            Some(failed) => Err(BlobError::Unavailable(format!(
                "{} of {} objects not deleted, the first {:?}: {}",
                answer.errors().len(),
                keys.len(),
                failed.key().unwrap_or_default(),
                failed.message().unwrap_or_default()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::{BehaviorVersion, Region};

    /// Presigning is local computation, so this needs no endpoint: it checks what S3 would
    /// enforce and the emulator does not (moto ignores presigned signatures).
    #[tokio::test]
    async fn presigned_urls_sign_the_content_type_length_and_expiry() {
        let config = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
                aws_sdk_s3::config::Credentials::new("test", "test", None, None, "test"),
            ))
            .build();
        let blobs = S3Blobs::new(crate::s3_client(&config), "media");
        let before = OffsetDateTime::now_utc().unix_timestamp();
        let upload =
            blobs.presign_upload("a/b.png", "image/png", 1234, Duration::from_secs(300)).await.unwrap();
        let after = OffsetDateTime::now_utc().unix_timestamp();

        assert_eq!(upload.method, "PUT");
        assert!(upload.url.starts_with("http://127.0.0.1:9/media/a/b.png?"), "path style: {}", upload.url);
        let query: Vec<(String, String)> =
            url::form_urlencoded::parse(upload.url.split_once('?').unwrap().1.as_bytes())
                .into_owned()
                .collect();
        let param = |name: &str| query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(param("X-Amz-Expires"), Some("300"));
        let signed: Vec<&str> = param("X-Amz-SignedHeaders").unwrap().split(';').collect();
        for header in ["content-type", "content-length", "if-none-match"] {
            assert!(signed.contains(&header), "{header} is signed: {signed:?}");
        }
        for header in [("content-type", "image/png"), ("content-length", "1234")] {
            let header = (header.0.to_owned(), header.1.to_owned());
            assert!(upload.headers.contains(&header), "{:?}", upload.headers);
        }
        // Signed to whole seconds at a moment between `before` and `after`.
        let expires_at = upload.expires_at.unix_timestamp();
        assert!(
            (before + 300..=after + 300).contains(&expires_at),
            "{expires_at} not in {before}..={after} + 300"
        );

        let too_long = blobs.presign_upload("k", "image/png", 1, Duration::from_secs(8 * 24 * 3600)).await;
        assert!(matches!(too_long, Err(BlobError::Invalid(_))), "{too_long:?}");

        let download = blobs.presign_download("a/b.png", Duration::from_secs(60)).await.unwrap();
        assert!(download.url.starts_with("http://127.0.0.1:9/media/a/b.png?"), "{}", download.url);
        assert!(download.url.contains("X-Amz-Expires=60"), "{}", download.url);
        let too_long = blobs.presign_download("k", Duration::from_secs(8 * 24 * 3600)).await;
        assert!(matches!(too_long, Err(BlobError::Invalid(_))), "{too_long:?}");
    }
}
