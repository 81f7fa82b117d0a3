//! Creates the resources template.yaml declares, for a local AWS emulator (tests, and the local
//! runner's `--aws-endpoint` mode). Every call is idempotent: an existing resource is kept.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, StreamSpecification,
    StreamViewType,
};
use aws_sdk_sqs::types::QueueAttributeName;

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

/// A bucket in the client's region.
pub async fn bucket(client: &aws_sdk_s3::Client, name: &str) -> Result<(), ProvisionError> {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    // us-east-1 is the one region that refuses to be named as a location constraint.
    let location =
        client.config().region().map(|region| region.as_ref()).filter(|region| *region != "us-east-1").map(
            |region| {
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build()
            },
        );
    let created = client.create_bucket().bucket(name).set_create_bucket_configuration(location).send().await;
    match created {
        Err(error) if !error.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you()) => {
            Err(failed(name, error))
        }
        _ => Ok(()),
    }
}

/// Announce objects created in bucket `name` under each prefix of `notifications` on its queue
/// (`(prefix, queue ARN)`), replacing the bucket's notification configuration: all of it is set
/// at once, as template.yaml declares it. On AWS each queue's policy must let S3 send;
/// template.yaml grants it.
pub async fn bucket_notifications(
    client: &aws_sdk_s3::Client,
    name: &str,
    notifications: &[(&str, &str)],
) -> Result<(), ProvisionError> {
    use aws_sdk_s3::types::{
        Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
        QueueConfiguration, S3KeyFilter,
    };
    let mut queues = Vec::with_capacity(notifications.len());
    for (prefix, queue_arn) in notifications {
        let rule = FilterRule::builder().name(FilterRuleName::Prefix).value(*prefix).build();
        let filter = NotificationConfigurationFilter::builder()
            .key(S3KeyFilter::builder().filter_rules(rule).build())
            .build();
        let queue = QueueConfiguration::builder()
            .id(format!("created-under-{prefix}"))
            .queue_arn(*queue_arn)
            .events(Event::S3ObjectCreated)
            .filter(filter)
            .build()
            .map_err(|error| failed(name, error))?;
        queues.push(queue);
    }
    let configuration = NotificationConfiguration::builder().set_queue_configurations(Some(queues)).build();
    client
        .put_bucket_notification_configuration()
        .bucket(name)
        .notification_configuration(configuration)
        .send()
        .await
        .map_err(|error| failed(name, error))?;
    Ok(())
}

/// An SNS platform application for `platform`, returning its ARN. Its credentials are
/// placeholders: an emulator delivers nothing, and real ones come from template.yaml.
pub async fn platform_application(
    client: &aws_sdk_sns::Client,
    name: &str,
    platform: huddle_ports::Platform,
) -> Result<String, ProvisionError> {
    let platform = crate::push::sns_platform(platform);
    let mut existing = client.list_platform_applications().into_paginator().items().send();
    while let Some(application) = existing.next().await {
        let arn = application.map_err(|e| failed(name, e))?.platform_application_arn.unwrap_or_default();
        if arn.ends_with(&format!(":app/{platform}/{name}")) {
            return Ok(arn);
        }
    }
    let created = client
        .create_platform_application()
        .name(name)
        .platform(platform)
        .attributes("PlatformCredential", "local-emulator")
        .send()
        .await
        .map_err(|e| failed(name, e))?;
    created.platform_application_arn.ok_or_else(|| failed(name, "CreatePlatformApplication returned no ARN"))
}

/// A standard queue; with `redrive = Some((dead_letter_arn, max_receives))`, a redrive policy that
/// moves a message to that queue instead of receiving it more than `max_receives` times.
/// Returns the queue's URL and ARN. The policy is set apart from creating the queue, so calling
/// again with another policy updates it instead of failing as a conflicting CreateQueue would.
pub async fn queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
    redrive: Option<(&str, u32)>,
) -> Result<(String, String), ProvisionError> {
    let created = client.create_queue().queue_name(name).send().await.map_err(|e| failed(name, e))?;
    let url = created.queue_url.ok_or_else(|| failed(name, "CreateQueue returned no URL"))?;
    if let Some((dead_letter_arn, max_receives)) = redrive {
        let policy =
            serde_json::json!({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receives});
        client
            .set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::RedrivePolicy, policy.to_string())
            .send()
            .await
            .map_err(|e| failed(name, e))?;
    }
    let described = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| failed(name, e))?;
    let arn = described
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| failed(name, "GetQueueAttributes returned no QueueArn"))?;
    Ok((url, arn))
}

/// A standard topic (CreateTopic returns the existing one); returns its ARN.
pub async fn topic(client: &aws_sdk_sns::Client, name: &str) -> Result<String, ProvisionError> {
    let created = client.create_topic().name(name).send().await.map_err(|e| failed(name, e))?;
    created.topic_arn.ok_or_else(|| failed(name, "CreateTopic returned no ARN"))
}
