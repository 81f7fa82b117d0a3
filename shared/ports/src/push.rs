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
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("push service unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Push: Send + Sync {
    /// Register a device token; registering the same token again returns the same endpoint.
    async fn register(
        &self,
        platform: Platform,
        token: &str,
        user_data: &str,
    ) -> Result<DeviceEndpoint, PushError>;
    /// Send a notification; `payload` is the JSON message the platform delivers to the app.
    async fn publish(&self, endpoint: &DeviceEndpoint, payload: &str) -> Result<(), PushError>;
    async fn is_enabled(&self, endpoint: &DeviceEndpoint) -> Result<bool, PushError>;
    async fn unregister(&self, endpoint: &DeviceEndpoint) -> Result<(), PushError>;
}
