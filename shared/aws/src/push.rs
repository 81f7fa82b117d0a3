//! The Push port on SNS mobile push: one platform application per platform (APNs, and GCM,
//! SNS's name for FCM), one platform endpoint per device token.

use async_trait::async_trait;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sns::Client;
use huddle_ports::{validate_payload, DeviceEndpoint, Platform, Push, PushError};

/// The ARNs of the SNS platform applications that hold each platform's credentials.
#[derive(Debug, Clone)]
pub struct PlatformApplications {
    pub apns: String,
    pub fcm: String,
}

#[derive(Clone)]
pub struct SnsPush {
    client: Client,
    applications: PlatformApplications,
}

impl SnsPush {
    pub fn new(client: Client, applications: PlatformApplications) -> Self {
        Self { client, applications }
    }
}

/// SNS's name of a platform, in application ARNs and in the keys of a JSON message.
pub(crate) fn sns_platform(platform: Platform) -> &'static str {
    match platform {
        Platform::Apns => "APNS",
        Platform::Fcm => "GCM",
    }
}

fn service_error<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    error: SdkError<E, R>,
    endpoint: &str,
) -> PushError {
    match error.code() {
        Some("EndpointDisabled") => PushError::EndpointDisabled(endpoint.to_owned()),
        Some("NotFound") => PushError::NotFound(endpoint.to_owned()),
        Some("InvalidParameter" | "ParameterValueInvalid") => {
            PushError::Invalid(error.message().unwrap_or_default().to_owned())
        }
        _ => PushError::Unavailable(format!("{error:?}")),
    }
}

/// SNS refuses to create a second endpoint for a token whose endpoint has other attributes,
/// and names the existing one: "... Endpoint <arn> already exists with the same Token, but
/// different attributes."
fn existing_endpoint(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("Endpoint ")?;
    let (arn, _) = rest.split_once(" already exists")?;
    arn.starts_with("arn:").then_some(arn)
}

/// The SNS platform of an endpoint, read from its ARN (`arn:...:endpoint/APNS/app/id`), so a
/// publish needs no lookup.
fn platform_of(endpoint: &str) -> Result<&str, PushError> {
    endpoint
        .split_once(":endpoint/")
        .and_then(|(_, path)| path.split('/').next())
        .filter(|platform| !platform.is_empty())
        .ok_or_else(|| PushError::Invalid(format!("not an SNS endpoint ARN: {endpoint}")))
}

impl SnsPush {
    async fn set_attributes(&self, endpoint: &str, attributes: &[(&str, &str)]) -> Result<(), PushError> {
        let mut request = self.client.set_endpoint_attributes().endpoint_arn(endpoint);
        for (name, value) in attributes {
            request = request.attributes(*name, *value);
        }
        request.send().await.map_err(|e| service_error(e, endpoint))?;
        Ok(())
    }
}

#[async_trait]
impl Push for SnsPush {
    /// Follows AWS's token-management advice: create the endpoint; when SNS holds one for the
    /// token already, bring its user data up to date and enable it again.
    async fn register(
        &self,
        platform: Platform,
        token: &str,
        user_data: &str,
    ) -> Result<DeviceEndpoint, PushError> {
        let application = match platform {
            Platform::Apns => &self.applications.apns,
            Platform::Fcm => &self.applications.fcm,
        };
        let created = self
            .client
            .create_platform_endpoint()
            .platform_application_arn(application)
            .token(token)
            .custom_user_data(user_data)
            .send()
            .await;
        let id = match created {
            Ok(output) => {
                let id = output
                    .endpoint_arn
                    .ok_or_else(|| PushError::Unavailable("CreatePlatformEndpoint returned no ARN".into()))?;
                // SNS hands back an existing endpoint with the same attributes even when disabled.
                if !self.is_enabled(&DeviceEndpoint { id: id.clone() }).await? {
                    self.set_attributes(&id, &[("Enabled", "true")]).await?;
                }
                id
            }
            Err(error) => {
                let existing = error.message().and_then(existing_endpoint).map(str::to_owned);
                let Some(id) = existing else { return Err(service_error(error, application)) };
                self.set_attributes(&id, &[("CustomUserData", user_data), ("Enabled", "true")]).await?;
                id
            }
        };
        Ok(DeviceEndpoint { id })
    }

    async fn publish(&self, endpoint: &DeviceEndpoint, payload: &str) -> Result<(), PushError> {
        validate_payload(payload)?;
        // A JSON message structure delivers `payload` as the platform's own message; `default`
        // is required by SNS and is what any other protocol would get.
        let message = serde_json::json!({ "default": payload, platform_of(&endpoint.id)?: payload });
        self.client
            .publish()
            .target_arn(&endpoint.id)
            .message_structure("json")
            .message(message.to_string())
            .send()
            .await
            .map_err(|e| service_error(e, &endpoint.id))?;
        Ok(())
    }

    async fn is_enabled(&self, endpoint: &DeviceEndpoint) -> Result<bool, PushError> {
        let output = self
            .client
            .get_endpoint_attributes()
            .endpoint_arn(&endpoint.id)
            .send()
            .await
            .map_err(|e| service_error(e, &endpoint.id))?;
        let enabled = output.attributes.as_ref().and_then(|attributes| attributes.get("Enabled"));
        Ok(enabled.is_none_or(|value| value.eq_ignore_ascii_case("true")))
    }

    async fn unregister(&self, endpoint: &DeviceEndpoint) -> Result<(), PushError> {
        self.client
            .delete_endpoint()
            .endpoint_arn(&endpoint.id)
            .send()
            .await
            .map_err(|e| service_error(e, &endpoint.id))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_existing_endpoint_from_the_duplicate_token_error() {
        let message = "Invalid parameter: Token Reason: Endpoint arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/5e3e9847 already exists with the same Token, but different attributes.";
        assert_eq!(
            existing_endpoint(message),
            Some("arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/5e3e9847")
        );
        assert_eq!(existing_endpoint("Invalid parameter: Token"), None);
    }

    #[test]
    fn reads_the_platform_from_an_endpoint_arn() {
        assert_eq!(
            platform_of("arn:aws:sns:us-east-1:1:endpoint/APNS_SANDBOX/app/id").unwrap(),
            "APNS_SANDBOX"
        );
        assert!(matches!(platform_of("endpoint_01j"), Err(PushError::Invalid(_))));
    }
}
