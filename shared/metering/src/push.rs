//! Metered `Push`: each call an SNS request, and each notification sent a mobile push delivery.

use crate::units::messaging_requests;
use crate::{Line, Meter, Service, Tally, Unit};
use async_trait::async_trait;
use huddle_ports::{DeviceEndpoint, Platform, Push, PushError};
use std::sync::Arc;

pub struct MeteredPush {
    inner: Arc<dyn Push>,
    meter: Meter,
}

impl MeteredPush {
    pub fn new(inner: Arc<dyn Push>, meter: Meter) -> Self {
        Self { inner, meter }
    }

    fn charge(&self, service: Service, operation: &str, unit: Unit, billed: f64) {
        self.meter
            .record(Line::new(service, operation, unit), Tally { calls: 1.0, billed, stored_bytes: 0.0 });
    }

    fn charge_request<T>(&self, operation: &str, result: &Result<T, PushError>) {
        if reached(result) {
            self.charge(Service::Sns, operation, Unit::SnsRequests, 1.0);
        }
    }
}

/// Whether SNS bills the call: it was made, even when refused for the endpoint's state.
fn reached<T>(result: &Result<T, PushError>) -> bool {
    matches!(result, Ok(_) | Err(PushError::EndpointDisabled(_) | PushError::NotFound(_)))
}

#[async_trait]
impl Push for MeteredPush {
    async fn register(
        &self,
        platform: Platform,
        token: &str,
        user_data: &str,
    ) -> Result<DeviceEndpoint, PushError> {
        let result = self.inner.register(platform, token, user_data).await;
        self.charge_request("CreatePlatformEndpoint", &result);
        result
    }

    async fn publish(&self, endpoint: &DeviceEndpoint, payload: &str) -> Result<(), PushError> {
        let result = self.inner.publish(endpoint, payload).await;
        if reached(&result) {
            self.charge(Service::Sns, "Publish", Unit::SnsRequests, messaging_requests(payload.len()));
        }
        if result.is_ok() {
            self.charge(Service::MobilePush, "Deliver", Unit::MobilePushDeliveries, 1.0);
        }
        result
    }

    async fn is_enabled(&self, endpoint: &DeviceEndpoint) -> Result<bool, PushError> {
        let result = self.inner.is_enabled(endpoint).await;
        self.charge_request("GetEndpointAttributes", &result);
        result
    }

    async fn unregister(&self, endpoint: &DeviceEndpoint) -> Result<(), PushError> {
        let result = self.inner.unregister(endpoint).await;
        self.charge_request("DeleteEndpoint", &result);
        result
    }
}
