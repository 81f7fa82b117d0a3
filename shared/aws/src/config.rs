use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The one SDK configuration a process builds; every client is made from it once, in `main`.
///
/// With an `endpoint` (a local AWS emulator) the region defaults to us-east-1 and, unless the
/// environment names credentials, fixed test credentials stand in; the emulator ignores them.
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
        if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
            loader = loader.region(Region::new("us-east-1"));
        }
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test",
                "test",
                None,
                None,
                "local-emulator",
            ));
        }
    }
    loader.load().await
}

/// The S3 client for `config`. Against a local endpoint it addresses buckets by path
/// (`http://host/bucket/key`): virtual-hosted names such as `bucket.127.0.0.1` do not resolve.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let local_endpoint = config.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config).force_path_style(local_endpoint).build(),
    )
}
