//! Push: mobile push through platform endpoints (SNS mobile push on AWS).

use async_trait::async_trait;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Apns,
    Fcm,
}

/// An endpoint the push service created for one device token; `id` is its ARN on AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEndpoint {
    pub id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The platform refused the token (uninstalled app, expired token): stop sending to it.
    #[error("endpoint disabled: {0}")]
    EndpointDisabled(String),
    /// The endpoint was unregistered (or never existed): stop sending to it too.
    #[error("no such endpoint: {0}")]
    NotFound(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("push service unavailable: {0}")]
    Unavailable(String),
}

/// Refuses a payload that is not a JSON object: APNs and FCM both deliver a JSON dictionary,
/// and both adapter families check it the same way before anything is sent.
pub fn validate_payload(payload: &str) -> Result<(), PushError> {
    match serde_json::from_str::<serde_json::Value>(payload) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(PushError::Invalid("push payload must be a JSON object".into())),
    }
}

#[async_trait]
pub trait Push: Send + Sync {
    /// Register a device token; registering the same token again returns the same endpoint,
    /// with `user_data` updated and the endpoint enabled again (the app just proved the token
    /// live), as AWS recommends for SNS mobile push.
    async fn register(
        &self,
        platform: Platform,
        token: &str,
        user_data: &str,
    ) -> Result<DeviceEndpoint, PushError>;
    /// Send a notification; `payload` is the JSON object the platform delivers to the app.
    /// Fails with [`PushError::EndpointDisabled`] or [`PushError::NotFound`] when the endpoint
    /// can no longer receive.
    async fn publish(&self, endpoint: &DeviceEndpoint, payload: &str) -> Result<(), PushError>;
    /// Whether the endpoint still receives; [`PushError::NotFound`] once unregistered.
    async fn is_enabled(&self, endpoint: &DeviceEndpoint) -> Result<bool, PushError>;
    /// Remove the endpoint; unregistering one that is already gone succeeds.
    async fn unregister(&self, endpoint: &DeviceEndpoint) -> Result<(), PushError>;
}
