//! Routes only the embedded runner has, standing in for AWS services: presigned uploads and
//! downloads (S3's PUT and GET) and the recorded push outbox (what APNs/FCM would have shown on
//! phones).

use crate::gateway::LocalRoutes;
use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::Full;
use huddle_embedded::{FolderBlobs, PresignedRequest, RecordedPush, Refused, BLOB_ROUTE};
use hyper::http::{header, Method, StatusCode};
use serde_json::json;

/// `PUT` and `GET /_blobs/<bucket>/<key>?…signature…`, and `GET /_local/push-outbox?after=N`.
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

/// A refused presigned request as JSON, with S3's status for it.
fn refusal(refused: &Refused) -> hyper::Response<Full<Bytes>> {
    let status = StatusCode::from_u16(refused.status_code()).unwrap_or(StatusCode::FORBIDDEN);
    json(status, json!({"error": {"code": "presigned_request_refused", "message": refused.to_string()}}))
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
        if path.starts_with(BLOB_ROUTE) {
            let request = PresignedRequest {
                method: method.as_str(),
                path,
                query,
                content_type: headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
                if_none_match: headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()),
                body: body.to_vec(),
            };
            let served = if method == Method::GET {
                self.blobs.serve_download(request).await.and_then(|(content_type, bytes)| {
                    // Served on the API's own origin: never run as a page of it, whatever its type.
                    hyper::Response::builder()
                        .header(header::CONTENT_TYPE, content_type)
                        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                        .header(header::CONTENT_SECURITY_POLICY, "sandbox")
                        .body(Full::new(Bytes::from(bytes)))
                        .map_err(|error| Refused::Storage(error.to_string()))
                })
            } else {
                self.blobs
                    .receive_upload(request)
                    .await
                    .map(|_| hyper::Response::new(Full::new(Bytes::new())))
            };
            return Some(served.unwrap_or_else(|refused| refusal(&refused)));
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
