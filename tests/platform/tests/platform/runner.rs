//! The whole topology through the local runner, on both families: HTTP → command → event store
//! → stream → fan-out → topic → queue → projector → read model → query → HTTP.

use huddle_delivery::Projector;
use huddle_eventstore::{encode, Envelope};
use huddle_ports::TopicMessage;
use huddle_runner::{QueuePolling, Running, Settings, StartError, Storage};
use huddle_test_support::notes::{stream_of, NoteEvent, NotesProjection};
use huddle_test_support::notes_api::NotesDomain;
use huddle_test_support::{moto, on_both_families, unique_name, Family};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the runner polls its domain queue in a test.
struct Redelivery {
    /// How long a received message stays hidden before it comes again.
    visibility_timeout: Duration,
    /// Receives before a message moves to the dead-letter queue.
    max_receives: u32,
}

/// For tests whose messages all succeed: a healthy message slowed down by a busy machine comes
/// again after 5 s at the earliest and is dead-lettered only after five receives, so it lands.
const LENIENT: Redelivery = Redelivery { visibility_timeout: Duration::from_secs(5), max_receives: 5 };

/// For the poison test: a failing message is dead-lettered after its second receive, a few
/// seconds after it was published.
const STRICT: Redelivery = Redelivery { visibility_timeout: Duration::from_secs(2), max_receives: 2 };

async fn start(family: Family) -> Running {
    start_with(family, LENIENT).await
}

async fn start_with(family: Family, redelivery: Redelivery) -> Running {
    let storage = match family {
        Family::Embedded => Storage::Memory,
        Family::Moto => {
            Storage::Aws { endpoint: moto::endpoint().to_owned(), prefix: format!("{}-", unique_name("sys")) }
        }
    };
    let mut settings = Settings::new(storage, 0);
    settings.polling = QueuePolling {
        batch_size: 10,
        visibility_timeout: redelivery.visibility_timeout,
        concurrency: 2,
        wait: Duration::from_secs(1),
    };
    settings.max_receives = redelivery.max_receives;
    huddle_runner::start(settings, vec![Arc::new(NotesDomain)]).await.expect("runner starts")
}

fn as_(account: &str) -> String {
    format!("Bearer test:{account}")
}

async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// GETs `url` until it answers 200 with a body for which `done` holds (10 s at most). The read
/// side lags the write side, so until then a 404 is expected; any other status (a refused
/// token, a bad request, a server error) can never turn into the wanted 200, so it fails at once.
async fn eventually(client: &Client, url: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) =
            json_of(client.get(url).header("authorization", as_("acc_ana")).send().await.unwrap()).await;
        match status {
            StatusCode::OK if done(&body) => return body,
            StatusCode::OK | StatusCode::NOT_FOUND => {}
            refused => panic!("{url} answered {refused} {body}, which waiting never turns into 200"),
        }
        assert!(Instant::now() < deadline, "{url} never got there; last {status} {body}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until the notes projection has applied every event of `stream` (10 s at most), so a
/// read after it sees the final state rather than a passing one.
async fn wait_until_projected(system: &Running, stream: &str) {
    let head = system.events.head(stream).await.unwrap();
    // Only its checkpoint is read; the projection itself does nothing here.
    let projector = Projector::new(
        Arc::new(NotesProjection),
        system.domains[0].read_model.clone(),
        system.events.clone(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let checkpoint = projector.checkpoint(stream).await.unwrap();
        if checkpoint == head {
            return;
        }
        assert!(checkpoint < head, "{stream} projected up to {checkpoint}, past its head {head}");
        assert!(Instant::now() < deadline, "{stream} projected up to {checkpoint} of {head}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

on_both_families!(
    a_write_reaches_the_read_model_through_the_whole_pipeline,
    errors_are_json_with_the_right_status,
    an_idempotent_retry_returns_the_first_response,
    a_poison_message_reaches_the_dead_letter_queue_and_its_batch_still_lands,
    a_presigned_upload_lands_in_the_media_store_and_a_presigned_get_serves_it,
);

async fn a_write_reaches_the_read_model_through_the_whole_pipeline(family: Family) {
    let system = start(family).await;
    let client = Client::new();
    let created = client
        .post(format!("{}/v1/notes", system.url()))
        .header("authorization", as_("acc_ana"))
        .header("x-correlation-id", "corr-e2e")
        .json(&json!({"text": "hello"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(created).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let note_url = format!("{}/v1/notes/{id}", system.url());
    let note = eventually(&client, &note_url, |_| true).await;
    assert_eq!((note["text"].as_str(), note["likes"].as_i64()), (Some("hello"), Some(0)));

    for liker in ["acc_bea", "acc_cai", "acc_dan", "acc_bea"] {
        let liked = client
            .post(format!("{note_url}/likes"))
            .header("authorization", as_(liker))
            .send()
            .await
            .unwrap();
        assert_eq!(liked.status(), StatusCode::OK);
    }
    // Not the first read that shows three likes: the read once every event is applied, so a
    // like counted twice shows as four.
    wait_until_projected(&system, &stream_of(&id)).await;
    let note = eventually(&client, &note_url, |_| true).await;
    assert_eq!(note["likes"], 3, "three distinct likers: {note}");
    let listed =
        eventually(&client, &format!("{}/v1/notes", system.url()), |list| list["items"] != json!([])).await;
    assert_eq!(listed["items"], json!([{ "id": id }]));

    let stored = system.events.read_stream(&format!("note#{id}"), 1..).await.unwrap();
    assert_eq!(stored.len(), 4, "one write and three distinct likes");
    assert_eq!(stored[0].correlation_id, "corr-e2e", "the correlation id travels into the envelope");
    assert_eq!(stored[0].actor.as_deref(), Some("acc_ana"), "the caller comes from the token");
    system.shutdown().await;
}

async fn errors_are_json_with_the_right_status(family: Family) {
    let system = start(family).await;
    let client = Client::new();
    let url = |path: &str| format!("{}{path}", system.url());
    let error_code = |body: &Value| body["error"]["code"].as_str().unwrap_or_default().to_owned();

    // What HttpApi's $default route answers on AWS, a known path with another method included.
    for (method, path) in [(reqwest::Method::GET, "/v1/nowhere"), (reqwest::Method::DELETE, "/v1/notes")] {
        let (status, body) = json_of(client.request(method.clone(), url(path)).send().await.unwrap()).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::NOT_FOUND,
                json!({"error": {"code": "not_found", "message": format!("no route for {method} {path}")}})
            )
        );
    }

    let (status, body) =
        json_of(client.post(url("/v1/notes")).json(&json!({"text": "x"})).send().await.unwrap()).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, json!({"message": "Unauthorized"})));
    let forged = client.post(url("/v1/notes")).header("authorization", "Bearer forged").send().await.unwrap();
    assert_eq!(json_of(forged).await, (StatusCode::FORBIDDEN, json!({"message": "Forbidden"})));

    let post = |body: &'static str| {
        client
            .post(url("/v1/notes"))
            .header("authorization", as_("acc_ana"))
            .header("content-type", "application/json")
            .body(body)
    };
    let (status, body) = json_of(post("{\"text\": ").send().await.unwrap()).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "malformed_json"));
    let (status, body) = json_of(post("{\"text\": \"   \"}").send().await.unwrap()).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    assert_eq!(body["error"]["details"][0]["field"], "text");
    let huge = json!({ "text": "x".repeat(huddle_http::MAX_BODY_BYTES) }).to_string();
    let response = client
        .post(url("/v1/notes"))
        .header("authorization", as_("acc_ana"))
        .body(huge)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"));

    let missing =
        client.get(url("/v1/notes/nope")).header("authorization", as_("acc_ana")).send().await.unwrap();
    assert_eq!(json_of(missing).await.0, StatusCode::NOT_FOUND);
    let tampered = client
        .get(url("/v1/notes?cursor=abc.def"))
        .header("authorization", as_("acc_ana"))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(tampered).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::BAD_REQUEST, "invalid_cursor"));
    let liked_missing = client
        .post(url("/v1/notes/nope/likes"))
        .header("authorization", as_("acc_ana"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(liked_missing).await.0, StatusCode::NOT_FOUND);
    system.shutdown().await;
}

async fn an_idempotent_retry_returns_the_first_response(family: Family) {
    let system = start(family).await;
    let client = Client::new();
    let post = |text: &str| {
        client
            .post(format!("{}/v1/notes", system.url()))
            .header("authorization", as_("acc_ana"))
            .header("idempotency-key", "retry-1")
            .json(&json!({ "text": text }))
    };
    let first = post("once").send().await.unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let (status, first) = json_of(first).await;
    assert_eq!(status, StatusCode::CREATED);
    let again = post("once").send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(again).await, (StatusCode::CREATED, first.clone()));

    let reused = json_of(post("something else").send().await.unwrap()).await;
    assert_eq!(
        (reused.0, reused.1["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("idempotency_key_reused"))
    );
    // The same key from another caller is another request.
    let other = client
        .post(format!("{}/v1/notes", system.url()))
        .header("authorization", as_("acc_bea"))
        .header("idempotency-key", "retry-1")
        .json(&json!({ "text": "once" }))
        .send()
        .await
        .unwrap();
    let (status, other) = json_of(other).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(other["id"], first["id"]);

    let id = first["id"].as_str().unwrap();
    assert_eq!(system.events.head(&format!("note#{id}")).await.unwrap(), 1, "the retry appended nothing");
    system.shutdown().await;
}

async fn a_poison_message_reaches_the_dead_letter_queue_and_its_batch_still_lands(family: Family) {
    let system = start_with(family, STRICT).await;
    let client = Client::new();
    // The good message is an event that only this publish delivers: a note no command wrote, so
    // it reaches the read model only if the poison's batch lands.
    let id = ulid::Ulid::new().to_string();
    let written = encode(&NoteEvent::NoteWritten { text: "survivor".into() });
    let envelope = Envelope {
        stream: stream_of(&id),
        version: 1,
        event_id: ulid::Ulid::new(),
        event_type: written.event_type,
        schema_version: written.schema_version,
        occurred_at: time::OffsetDateTime::now_utc(),
        actor: Some("acc_ana".into()),
        correlation_id: "corr-poison".into(),
        causation_id: None,
        payload: written.payload,
    };
    let attributes = envelope.message_attributes();
    // The poison and the good event travel in one publish, so in one queue batch.
    let poison = TopicMessage {
        id: "poison".into(),
        body: "{\"not\": \"an envelope\"}".into(),
        attributes: attributes.clone(),
    };
    let good =
        TopicMessage { id: "good".into(), body: serde_json::to_string(&envelope).unwrap(), attributes };
    assert!(system.topic.publish_batch(vec![poison, good]).await.unwrap().is_empty());

    let note = eventually(&client, &format!("{}/v1/notes/{id}", system.url()), |_| true).await;
    assert_eq!((note["text"].as_str(), note["likes"].as_i64()), (Some("survivor"), Some(0)));
    let dead_letters = &system.domains[0].dead_letters;
    let deadline = Instant::now() + Duration::from_secs(15);
    let dead = loop {
        let received =
            dead_letters.receive(10, Duration::from_secs(30), Duration::from_secs(1)).await.unwrap();
        if !received.is_empty() {
            break received;
        }
        assert!(Instant::now() < deadline, "the poison message never reached the dead-letter queue");
    };
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].body, "{\"not\": \"an envelope\"}");
    system.shutdown().await;
}

#[tokio::test]
async fn start_up_names_a_busy_port_and_an_unusable_data_folder() {
    let system = start(Family::Embedded).await;
    let busy = huddle_runner::start(Settings::new(Storage::Memory, system.address.port()), vec![]).await;
    assert!(matches!(busy, Err(StartError::PortBusy(port)) if port == system.address.port()));
    system.shutdown().await;

    let file = std::env::temp_dir().join(unique_name("not-a-folder"));
    std::fs::write(&file, b"").unwrap();
    let unusable = huddle_runner::start(Settings::new(Storage::Folder(file.clone()), 0), vec![]).await;
    assert!(matches!(unusable, Err(StartError::DataFolder { .. })), "{:?}", unusable.err());
    std::fs::remove_file(file).unwrap();
}

async fn a_presigned_upload_lands_in_the_media_store_and_a_presigned_get_serves_it(family: Family) {
    let system = start(family).await;
    let minute = Duration::from_secs(60);
    // Over API Gateway's 10 MB payload limit, which uploads to S3 never meet.
    let size = 11 * 1024 * 1024;
    let upload =
        system.blobs.presign_upload("uploads/clip.mp4", "video/mp4", size as u64, minute).await.unwrap();
    let mut request = Client::new().put(&upload.url).body(vec![7u8; size]);
    for (name, value) in &upload.headers {
        request = request.header(name, value);
    }
    assert!(request.send().await.unwrap().status().is_success());
    let stored = system.blobs.head("uploads/clip.mp4").await.unwrap().expect("the object exists");
    assert_eq!((stored.size, stored.content_type.as_deref()), (size as u64, Some("video/mp4")));

    let download = system.blobs.presign_download("uploads/clip.mp4", minute).await.unwrap();
    let served = Client::new().get(&download.url).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "video/mp4");
    if family == Family::Embedded {
        // Served on the API's own origin: never sniffed, never run as a page of it.
        assert_eq!(served.headers()["x-content-type-options"], "nosniff");
        assert_eq!(served.headers()["content-security-policy"], "sandbox");
    }
    assert_eq!(served.bytes().await.unwrap().to_vec(), vec![7u8; size]);
    system.shutdown().await;
}

#[tokio::test]
async fn the_embedded_runner_refuses_forged_uploads_and_shows_the_push_outbox() {
    let system = start(Family::Embedded).await;
    let client = Client::new();
    let upload =
        system.blobs.presign_upload("a.jpg", "image/jpeg", 1, Duration::from_secs(60)).await.unwrap();
    let forged = upload.url.replace("a.jpg", "b.jpg");
    let refused = client.put(&forged).header("content-type", "image/jpeg").body("x").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(system.blobs.head("b.jpg").await.unwrap().is_none());

    let endpoint = system.push.register(huddle_ports::Platform::Fcm, "token-1", "acc_ana").await.unwrap();
    system.push.publish(&endpoint, r#"{"title": "hi"}"#).await.unwrap();
    let (status, outbox) =
        json_of(client.get(format!("{}/_local/push-outbox", system.url())).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outbox["items"][0]["endpoint"], json!(endpoint.id));
    assert_eq!(outbox["items"][0]["payload"], json!(r#"{"title": "hi"}"#));
    system.shutdown().await;
}

#[tokio::test]
async fn the_runners_local_routes_answer_loopback_hosts_only() {
    let system = start(Family::Embedded).await;
    let endpoint = system.push.register(huddle_ports::Platform::Fcm, "token-1", "acc_ana").await.unwrap();
    system.push.publish(&endpoint, r#"{"title": "hi"}"#).await.unwrap();
    let port = system.address.port();
    let outbox = |host: String| {
        let request = Client::new().get(format!("{}/_local/push-outbox", system.url())).header("host", host);
        async move { json_of(request.send().await.unwrap()).await }
    };
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), "[::1]".to_owned()] {
        let (status, body) = outbox(host.clone()).await;
        assert_eq!((status, &body["items"][0]["endpoint"]), (StatusCode::OK, &json!(endpoint.id)), "{host}");
    }
    // A page on a rebinding name reaches 127.0.0.1 with its own name as the Host.
    for host in
        [format!("rebound.example:{port}"), format!("localhost.example:{port}"), "192.168.1.20".into()]
    {
        let (status, body) = outbox(host.clone()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{host}"
        );
        assert!(body.get("items").is_none(), "{host}: {body}");
    }
    let (status, body) = json_of(
        Client::new()
            .get(format!("{}/_local/anything-else", system.url()))
            .header("host", "rebound.example")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "every /_local/ route: {body}");
    system.shutdown().await;
}
