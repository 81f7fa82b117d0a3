//! Routes only the embedded runner has, standing in for AWS services: presigned uploads (S3's
//! PUT) and the recorded push outbox (what APNs/FCM would have shown on phones).

use crate::gateway::LocalRoutes;
use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::Full;
use huddle_embedded::{FolderBlobs, RecordedPush, UploadRequest, UPLOAD_ROUTE};
use hyper::http::{header, Method, StatusCode};
use serde_json::json;

/// `PUT /_blobs/<bucket>/<key>?…signature…` and `GET /_local/push-outbox?after=N`.
pub struct EmbeddedServices {
    pub blobs: FolderBlobs,
    pub push: RecordedPush,
}

const OUTBOX_ROUTE: &str = "/_local/push-outbox";

fn json(status: StatusCode, body: serde_json::Value) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid response")
}

#[async_trait]
impl LocalRoutes for EmbeddedServices {
    async fn serve(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &hyper::HeaderMap,
        body: Bytes,
    ) -> Option<hyper::Response<Full<Bytes>>> {
        if path.starts_with(UPLOAD_ROUTE) {
            let request = UploadRequest {
                method: method.as_str(),
                path,
                query,
                content_type: headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
                body: body.to_vec(),
            };
            return Some(match self.blobs.receive_upload(request).await {
                Ok(_) => hyper::Response::new(Full::new(Bytes::new())),
                Err(refused) => {
                    let status = StatusCode::from_u16(refused.status_code()).unwrap_or(StatusCode::FORBIDDEN);
                    json(status, json!({"error": {"code": "upload_refused", "message": refused.to_string()}}))
                }
            });
        }
        if path == OUTBOX_ROUTE && method == Method::GET {
            let after = url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "after")
                .and_then(|(_, value)| value.parse().ok())
                .unwrap_or(0);
            return Some(match self.push.outbox(after, 100) {
                Ok(entries) => json(StatusCode::OK, json!({ "items": entries })),
                Err(error) => json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": {"code": "internal_error", "message": error.to_string()}}),
                ),
            });
        }
        None
    }
}
