//! Creates the resources template.yaml declares, for a local AWS emulator (tests, and the local
//! runner's `--aws-endpoint` mode). Every call is idempotent: an existing resource is kept.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, StreamSpecification,
    StreamViewType,
};

#[derive(Debug, thiserror::Error)]
#[error("provisioning {resource} failed: {message}")]
pub struct ProvisionError {
    pub resource: String,
    pub message: String,
}

fn failed(resource: &str, error: impl std::fmt::Debug) -> ProvisionError {
    ProvisionError { resource: resource.to_owned(), message: format!("{error:?}") }
}

/// A pay-per-request table keyed by string `pk` and `sk`; with `stream`, a NEW_IMAGE stream.
/// Returns the stream ARN when the table has one.
pub async fn table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    stream: bool,
) -> Result<Option<String>, ProvisionError> {
    let key = |attribute: &str, key_type| {
        KeySchemaElement::builder().attribute_name(attribute).key_type(key_type).build().expect("complete")
    };
    let string = |attribute: &str| {
        AttributeDefinition::builder()
            .attribute_name(attribute)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("complete")
    };
    let created = client
        .create_table()
        .table_name(name)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(string("pk"))
        .attribute_definitions(string("sk"))
        .billing_mode(BillingMode::PayPerRequest)
        .set_stream_specification(stream.then(|| {
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .expect("complete")
        }))
        .send()
        .await;
    if let Err(error) = created {
        let exists = error.as_service_error().is_some_and(|e| e.is_resource_in_use_exception());
        if !exists {
            return Err(failed(name, error));
        }
    }
    let described = client.describe_table().table_name(name).send().await.map_err(|e| failed(name, e))?;
    Ok(described.table.and_then(|t| t.latest_stream_arn))
}
