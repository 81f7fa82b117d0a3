//! What the SNS and SQS adapters share: their SDKs' error and attribute shapes are alike.

use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use huddle_ports::Attributes;
use std::collections::HashMap;

/// Message attributes in an SDK's own attribute type (SNS and SQS each have one), or none at all
/// when there are none, as both APIs expect.
pub(crate) fn attribute_map<V>(
    attributes: Attributes,
    to_value: impl Fn(String) -> V,
) -> Option<HashMap<String, V>> {
    (!attributes.is_empty())
        .then(|| attributes.into_iter().map(|(name, value)| (name, to_value(value))).collect())
}

/// What an SNS or SQS call's error means to a port.
pub(crate) enum CallFailure {
    /// The service refused the request as sent; retrying it cannot help.
    Refused(String),
    /// Anything else (throttling, a network fault, the service itself): a retry may succeed.
    Unavailable(String),
}

/// Classifies an SDK error by its code: one of `refused` (after stripping SQS's legacy
/// `AWS.SimpleQueueService.` prefix) is a refusal, the rest an outage.
pub(crate) fn classify<E, R>(error: SdkError<E, R>, refused: &[&str]) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = error.code().map(|code| code.trim_start_matches("AWS.SimpleQueueService."));
    match code {
        Some(code) if refused.contains(&code) => {
            CallFailure::Refused(format!("{code}: {}", error.message().unwrap_or_default()))
        }
        _ => CallFailure::Unavailable(DisplayErrorContext(&error).to_string()),
    }
}
