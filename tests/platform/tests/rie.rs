//! The Docker-free `sam local invoke`: every function binary of template.yaml runs as a real
//! `bootstrap` under the Lambda Runtime Interface Emulator (RIE) that ships inside the
//! aws-sam-cli wheel, is invoked with its events/ fixture, and talks to this process's moto
//! server.
//!
//! A test binary of its own: cargo runs test binaries one after another, so the build below and
//! the emulated functions never compete for the CPU with the other platform tests' timeouts.
//!
//! `cargo test --workspace` does not build a package's binaries unless that package has
//! integration tests of its own, so the functions are built here with one `cargo build`, and
//! their paths are read from cargo's JSON messages rather than guessed from the target
//! directory. That build selects what `cargo test --workspace` selects (every package, test
//! targets included), so cargo resolves the same features, reuses every dependency the test
//! run compiled and only links the function binaries.

use aws_sdk_sqs::types::MessageAttributeValue;
use huddle_aws::provision;
use huddle_eventstore::Envelope;
use huddle_platform_tests::INVOCATIONS;
use huddle_test_support::{moto, unique_name};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

#[test]
fn every_function_binary_of_the_template_has_an_invocation() {
    let template =
        std::fs::read_to_string(workspace_root().join("template.yaml")).expect("read template.yaml");
    // `Binary:` appears only in BuildProperties; commented-out patterns do not count.
    let binaries: Vec<&str> = template
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.trim().strip_prefix("Binary:"))
        .map(str::trim)
        .collect();
    assert!(!binaries.is_empty(), "template.yaml names no function binary");
    for binary in binaries {
        assert!(
            INVOCATIONS.iter().any(|invocation| invocation.binary == binary),
            "template.yaml builds `{binary}`, but no invocation in rie.rs runs it under the RIE"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_function_binary_answers_its_fixture_under_the_runtime_interface_emulator() {
    let emulator = emulator_path();
    let binaries = build_function_binaries();
    for invocation in INVOCATIONS {
        let fixtures: Vec<Value> = invocation.fixtures.iter().map(|path| fixture(path)).collect();
        let bootstrap = &binaries[invocation.binary];
        match invocation.binary {
            "fanout" => fanout_publishes_every_inserted_event(&emulator, bootstrap, &fixtures[0]).await,
            "accounts" => accounts_roles_answer_their_routes(&emulator, bootstrap, &fixtures).await,
            "graph" => graph_roles_answer_their_routes(&emulator, bootstrap, &fixtures).await,
            "media" => media_roles_take_an_upload_to_ready(&emulator, bootstrap, &fixtures).await,
            "content" => content_roles_post_project_and_show(&emulator, bootstrap, &fixtures).await,
            "authorizer" => authorizer_admits_valid_tokens_only(&emulator, bootstrap, &fixtures[0]).await,
            "not-found" => not_found_answers_our_json_404(&emulator, bootstrap, &fixtures[0]).await,
            other => panic!("no expectations written for `{other}`"),
        }
    }
}

fn fixture(path: &str) -> Value {
    let text =
        std::fs::read_to_string(workspace_root().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).expect("fixtures are JSON")
}

const TOKEN_SECRET: &str = "the RIE test's token secret, at least 32 bytes";

/// An events table, an accounts read table and the graph's (which the accounts query reads) on
/// moto, and the accounts function's environment for `role`.
struct AccountsTables {
    events: String,
    read: String,
    graph: String,
    /// The accounts queue's dead-letter queue: URL and ARN.
    dead_letters: (String, String),
}

impl AccountsTables {
    async fn new() -> Self {
        let client = aws_sdk_dynamodb::Client::new(&moto::sdk_config().await);
        let sqs = aws_sdk_sqs::Client::new(&moto::sdk_config().await);
        let dead_letters = provision::queue(&sqs, &unique_name("accounts-dlq"), None).await.unwrap();
        let (events, read, graph) = (unique_name("events"), unique_name("accounts"), unique_name("graph"));
        let tables = Self { events, read, graph, dead_letters };
        for table in [&tables.events, &tables.read, &tables.graph] {
            provision::table(&client, table, false).await.unwrap();
        }
        tables
    }

    fn env<'a>(&'a self, role: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("HUDDLE_ROLE", role),
            ("EVENTS_TABLE", &self.events),
            ("READ_TABLE", &self.read),
            ("GRAPH_READ_TABLE", &self.graph),
            ("TOKEN_SECRET", TOKEN_SECRET),
            ("EMAIL_LOOKUP_KEY", "the RIE test's email lookup key, 32+ bytes"),
            ("CURSOR_SECRET", CURSOR_SECRET),
            ("LEGACY_ISSUER", LEGACY_ISSUER),
            ("LEGACY_ALGORITHM", "HS256"),
            ("LEGACY_KEY", LEGACY_KEY),
            ("MAX_RECEIVES", MAX_RECEIVES),
            ("DEAD_LETTER_QUEUE_URL", &self.dead_letters.0),
            ("DEAD_LETTER_QUEUE_ARN", &self.dead_letters.1),
        ]
    }
}

/// `fixture` as the account `account_id` sends it: the authorizer context (and an `{id}` path
/// parameter) name that account instead of the fixture's placeholder.
fn as_account(mut fixture: Value, account_id: &str) -> Value {
    if fixture["requestContext"]["authorizer"]["lambda"].is_object() {
        fixture["requestContext"]["authorizer"]["lambda"]["account_id"] = json!(account_id);
    }
    if fixture["pathParameters"]["id"].is_string() {
        fixture["pathParameters"]["id"] = json!(account_id);
        fixture["rawPath"] = json!(format!("/v1/accounts/{account_id}"));
    }
    fixture
}

/// template.yaml's MaxReceives default.
const MAX_RECEIVES: &str = "5";
const CURSOR_SECRET: &str = "the RIE test's cursor secret";

const LEGACY_ISSUER: &str = "https://legacy.example.com";
const LEGACY_KEY: &str = "the RIE test's legacy HS256 key, 32+ bytes";

/// A token of the legacy issuer for `subject`, valid for ten minutes.
fn legacy_token(subject: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({"iss": LEGACY_ISSUER, "sub": subject, "iat": now, "exp": now + 600});
    let key = jsonwebtoken::EncodingKey::from_secret(LEGACY_KEY.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
}

/// A domain function's environment in `role`: its tables, the settings every role may read,
/// and `extra` (the tables it is granted, the bucket).
fn domain_env<'a>(
    role: &'a str,
    events_table: &'a str,
    read_table: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("HUDDLE_ROLE", role),
        ("EVENTS_TABLE", events_table),
        ("READ_TABLE", read_table),
        ("CURSOR_SECRET", CURSOR_SECRET),
        ("MAX_RECEIVES", MAX_RECEIVES),
    ];
    env.extend_from_slice(extra);
    env
}

fn http_body(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

/// The accounts binary in each role: the command signs up, logs in, edits and erases; the
/// projector takes the command's events as SQS delivers them; the query reads what it wrote.
async fn accounts_roles_answer_their_routes(emulator: &Path, bootstrap: &Path, fixtures: &[Value]) {
    let [sign_up, log_in, get_me, get_account, get_by_username, update_me, legacy_link, change_password, revoke_sessions, erase_me, scheduled_sweep, operator_fixtures @ ..] =
        fixtures
    else {
        panic!("the accounts fixtures, in INVOCATIONS order")
    };
    let tables = AccountsTables::new().await;
    let command = Emulated::start(emulator, bootstrap, &tables.env("command"));
    let signed_up = command.invoke(sign_up).await;
    assert_eq!(signed_up["statusCode"], 201, "{signed_up}; log:\n{}", command.log());
    let account_id = http_body(&signed_up)["account"]["id"].as_str().expect("an account id").to_owned();
    let logged_in = command.invoke(log_in).await;
    assert_eq!(logged_in["statusCode"], 200, "{logged_in}");
    assert_eq!(http_body(&logged_in)["account"]["id"], account_id.as_str());

    let config = moto::sdk_config().await;
    let events = huddle_eventstore::EventStore::new(std::sync::Arc::new(huddle_aws::DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&config),
        tables.events.clone(),
    )));
    let stored = events.read_stream(&format!("account#{account_id}"), 1..).await.unwrap();
    let records: Vec<Value> = stored.iter().map(|envelope| sqs_record(envelope, "1")).collect();
    let projector = Emulated::start(emulator, bootstrap, &tables.env("projector"));
    let projected = projector.invoke(&json!({ "Records": records })).await;
    assert_eq!(projected, json!({"batchItemFailures": []}), "log:\n{}", projector.log());
    // Its schedule runs the sweeper: nothing is behind (and what was just appended is left to
    // live delivery).
    let swept = projector.invoke(scheduled_sweep).await;
    assert_eq!(swept["behind"], 0, "{swept}; log:\n{}", projector.log());
    assert!(swept["checked"].is_u64(), "{swept}");
    operator_lists_skips_and_retries_a_parked_stream(
        emulator,
        bootstrap,
        &tables,
        &events,
        &projector,
        operator_fixtures,
    )
    .await;

    let query = Emulated::start(emulator, bootstrap, &tables.env("query"));
    let me = query.invoke(&as_account(get_me.clone(), &account_id)).await;
    assert_eq!(
        (me["statusCode"].as_u64(), http_body(&me)["email"].as_str()),
        (Some(200), Some("ana@example.com"))
    );
    for public in [get_account, get_by_username] {
        let profile = query.invoke(&as_account(public.clone(), &account_id)).await;
        assert_eq!(profile["statusCode"], 200, "{profile}");
        assert_eq!(http_body(&profile)["id"], account_id.as_str());
        assert!(http_body(&profile).get("email").is_none(), "public profiles hold no email");
    }

    let updated = command.invoke(&as_account(update_me.clone(), &account_id)).await;
    assert_eq!(updated["statusCode"], 200, "{updated}");
    assert_eq!(http_body(&updated)["interests"], json!(["running", "jazz"]));
    let mut link = as_account(legacy_link.clone(), &account_id);
    let body = json!({ "legacy_token": legacy_token("legacy-user-42"), "password": "correct horse battery" });
    link["body"] = json!(body.to_string());
    let linked = command.invoke(&link).await;
    assert_eq!(linked["statusCode"], 204, "{linked}");
    let changed = command.invoke(&as_account(change_password.clone(), &account_id)).await;
    assert_eq!(changed["statusCode"], 204, "{changed}");
    let revoked = command.invoke(&as_account(revoke_sessions.clone(), &account_id)).await;
    assert_eq!(revoked["statusCode"], 204, "{revoked}");
    assert_eq!(events.head(&format!("sessions#{account_id}")).await.unwrap(), 2, "two revocations");
    let erased = command.invoke(&as_account(erase_me.clone(), &account_id)).await;
    assert_eq!(erased["statusCode"], 204, "{erased}");
    assert!(events.subject_key(&account_id).await.unwrap().is_none(), "the erasure shredded the key");
}

/// The graph binary in each role: the command follows (the followee's registration is in the
/// log), the projector takes the follow and both registrations, the query lists and relates.
async fn graph_roles_answer_their_routes(emulator: &Path, bootstrap: &Path, fixtures: &[Value]) {
    use huddle_catalog::accounts::{account_stream, AccountEvent};
    let [follow, list_followers, relationships] = fixtures else {
        panic!("the graph fixtures, in INVOCATIONS order")
    };
    let follower =
        follow["requestContext"]["authorizer"]["lambda"]["account_id"].as_str().unwrap().to_owned();
    let followee = follow["pathParameters"]["account_id"].as_str().unwrap().to_owned();
    let config = moto::sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let (events_table, read_table) = (unique_name("events"), unique_name("graph"));
    provision::table(&dynamodb, &events_table, false).await.unwrap();
    provision::table(&dynamodb, &read_table, false).await.unwrap();
    let events = huddle_eventstore::EventStore::new(std::sync::Arc::new(huddle_aws::DynamoTable::new(
        dynamodb,
        events_table.clone(),
    )));
    for (id, username) in [(&follower, "ana"), (&followee, "bo")] {
        let registered = AccountEvent::AccountRegistered {
            username: username.to_owned(),
            email: format!("{username}@example.com"),
            password_hash: "not a real hash".to_owned(),
            display_name: None,
        };
        let metadata = huddle_eventstore::Metadata::new("rie");
        let new = vec![huddle_eventstore::encode(&registered)];
        events
            .append(&account_stream(id), huddle_eventstore::ExpectedVersion::NoStream, new, &metadata, None)
            .await
            .unwrap();
    }
    let env = |role| domain_env(role, &events_table, &read_table, &[]);
    let command = Emulated::start(emulator, bootstrap, &env("command"));
    let followed = command.invoke(follow).await;
    assert_eq!(followed["statusCode"], 200, "{followed}; log:\n{}", command.log());
    assert_eq!(http_body(&followed)["following"], true, "{followed}");

    let mut records = Vec::new();
    for stream in
        [account_stream(&follower), account_stream(&followee), format!("follow#{follower}#{followee}")]
    {
        let stored = events.read_stream(&stream, 1..).await.unwrap();
        records.extend(stored.iter().map(|envelope| sqs_record(envelope, "1")));
    }
    let projector = Emulated::start(emulator, bootstrap, &env("projector"));
    let projected = projector.invoke(&json!({ "Records": records })).await;
    assert_eq!(projected, json!({"batchItemFailures": []}), "log:\n{}", projector.log());

    let query = Emulated::start(emulator, bootstrap, &env("query"));
    let listed = query.invoke(list_followers).await;
    assert_eq!(listed["statusCode"], 200, "{listed}; log:\n{}", query.log());
    let items = &http_body(&listed)["items"];
    assert_eq!(
        (items[0]["id"].as_str(), items[0]["username"].as_str()),
        (Some(follower.as_str()), Some("ana")),
        "{listed}"
    );
    let related = query.invoke(relationships).await;
    assert_eq!(related["statusCode"], 200, "{related}");
    assert_eq!(http_body(&related)["items"][0]["following"], true, "{related}");
}

/// The content binary in each role: the command posts (a public post, which the graph's and
/// media's empty read tables let anyone see) and begins a public thread (with a video the log
/// says is ready), the projector takes their streams, and the query shows each by the id the
/// command made (put into the fixture's path).
async fn content_roles_post_project_and_show(emulator: &Path, bootstrap: &Path, fixtures: &[Value]) {
    let [create_post, get_post, create_thread, get_thread] = fixtures else {
        panic!("the content fixtures, in INVOCATIONS order")
    };
    let config = moto::sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let tables = [unique_name("events"), unique_name("content"), unique_name("graph"), unique_name("media")];
    for table in &tables {
        provision::table(&dynamodb, table, false).await.unwrap();
    }
    let [events_table, read_table, graph_table, media_table] = &tables;
    let granted = [("GRAPH_READ_TABLE", graph_table.as_str()), ("MEDIA_READ_TABLE", media_table.as_str())];
    let env = |role| {
        domain_env(
            role,
            events_table,
            read_table,
            &[&granted[..], &[("MEDIA_BUCKET", "rie-content-media")]].concat(),
        )
    };
    let command = Emulated::start(emulator, bootstrap, &env("command"));
    let created = command.invoke(create_post).await;
    assert_eq!(created["statusCode"], 201, "{created}; log:\n{}", command.log());
    let post = http_body(&created);
    assert_eq!(post["tags"], json!(["huddle"]), "{created}");
    let post_id = post["id"].as_str().unwrap().to_owned();

    let events = huddle_eventstore::EventStore::new(std::sync::Arc::new(huddle_aws::DynamoTable::new(
        dynamodb,
        events_table.clone(),
    )));
    let stored = events.read_stream(&format!("post#{post_id}"), 1..).await.unwrap();
    let records: Vec<Value> = stored.iter().map(|envelope| sqs_record(envelope, "1")).collect();
    let projector = Emulated::start(emulator, bootstrap, &env("projector"));
    let projected = projector.invoke(&json!({ "Records": records })).await;
    assert_eq!(projected, json!({"batchItemFailures": []}), "log:\n{}", projector.log());

    let mut get_post = get_post.clone();
    let path = format!("/v1/posts/{post_id}");
    get_post["rawPath"] = json!(path);
    get_post["requestContext"]["http"]["path"] = json!(path);
    get_post["pathParameters"]["id"] = json!(post_id);
    let query = Emulated::start(emulator, bootstrap, &env("query"));
    let shown = query.invoke(&get_post).await;
    assert_eq!(shown["statusCode"], 200, "{shown}; log:\n{}", query.log());
    assert_eq!(http_body(&shown), post, "the post as the command answered it");

    // The thread's video, ready as the media domain's log would say.
    let owner = create_thread["requestContext"]["authorizer"]["lambda"]["account_id"].as_str().unwrap();
    let body: Value = serde_json::from_str(create_thread["body"].as_str().unwrap()).unwrap();
    ready_video(&events, owner, body["media_id"].as_str().unwrap()).await;
    let created = command.invoke(create_thread).await;
    assert_eq!(created["statusCode"], 201, "{created}; log:\n{}", command.log());
    let thread = http_body(&created);
    let thread_id = thread["id"].as_str().unwrap().to_owned();
    let stored = events.read_stream(&format!("thread#{thread_id}"), 1..).await.unwrap();
    let records: Vec<Value> = stored.iter().map(|envelope| sqs_record(envelope, "1")).collect();
    let projected = projector.invoke(&json!({ "Records": records })).await;
    assert_eq!(projected, json!({"batchItemFailures": []}), "log:\n{}", projector.log());
    let mut get_thread = get_thread.clone();
    let path = format!("/v1/threads/{thread_id}");
    get_thread["rawPath"] = json!(path);
    get_thread["requestContext"]["http"]["path"] = json!(path);
    get_thread["pathParameters"]["id"] = json!(thread_id);
    let shown = query.invoke(&get_thread).await;
    assert_eq!(shown["statusCode"], 200, "{shown}; log:\n{}", query.log());
    let page = http_body(&shown);
    assert_eq!(
        (&page["thread"], &page["entries"]),
        (&thread, &json!([])),
        "the thread as the command answered it"
    );
}

/// Media `media_id` of `owner`'s in the log as a processed video.
async fn ready_video(events: &huddle_eventstore::EventStore, owner: &str, media_id: &str) {
    use huddle_catalog::media::{media_stream, MediaEvent, MediaKind, Rendition};
    let original = Rendition {
        key: format!("media/{media_id}/original.mp4"),
        content_type: "video/mp4".to_owned(),
        width: 160,
        height: 120,
    };
    let ready = [
        MediaEvent::MediaRequested {
            owner: owner.to_owned(),
            kind: MediaKind::Video,
            content_type: "video/mp4".to_owned(),
            size_bytes: 3_967,
        },
        MediaEvent::MediaUploaded,
        MediaEvent::MediaProcessed {
            width: 160,
            height: 120,
            duration_ms: Some(2_000),
            codec: Some("avc1".to_owned()),
            blurhash: None,
            original,
            thumbnails: vec![],
        },
    ];
    let metadata = huddle_eventstore::Metadata::new("rie").actor(owner);
    let new = ready.iter().map(huddle_eventstore::encode).collect();
    let stream = media_stream(media_id);
    events.append(&stream, huddle_eventstore::ExpectedVersion::NoStream, new, &metadata, None).await.unwrap();
}

/// The media binary in each role: the command hands out an upload URL; the uploads role takes
/// the fixture's notification of a video its owner asked to upload (the request is in the log,
/// the bytes, an ffmpeg-made MP4, in the bucket), processes it and deletes the upload; the
/// projector takes the media's stream; the query shows the owner the ready video.
async fn media_roles_take_an_upload_to_ready(emulator: &Path, bootstrap: &Path, fixtures: &[Value]) {
    use huddle_catalog::media::{media_stream, upload_of, MediaEvent, MediaKind};
    let [request_upload, notification, get_media] = fixtures else {
        panic!("the media fixtures, in INVOCATIONS order")
    };
    let body = notification["Records"][0]["body"].as_str().expect("the notification's body");
    let [announced] = huddle_ports::objects_created(body).unwrap().try_into().expect("one object");
    let (owner, media_id) = upload_of(&announced.key).expect("an upload's key");
    let video = std::fs::read(workspace_root().join("domains/media/tests/fixtures/h264-160x120-2s.mp4"))
        .expect("the ffmpeg fixture");
    let config = moto::sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let s3 = huddle_aws::s3_client(&config);
    let (events_table, read_table, bucket) =
        (unique_name("events"), unique_name("media"), unique_name("media"));
    provision::table(&dynamodb, &events_table, false).await.unwrap();
    provision::table(&dynamodb, &read_table, false).await.unwrap();
    provision::bucket(&s3, &bucket).await.unwrap();
    let events = huddle_eventstore::EventStore::new(std::sync::Arc::new(huddle_aws::DynamoTable::new(
        dynamodb,
        events_table.clone(),
    )));
    let requested = MediaEvent::MediaRequested {
        owner: owner.to_owned(),
        kind: MediaKind::Video,
        content_type: "video/mp4".to_owned(),
        size_bytes: video.len() as u64,
    };
    let metadata = huddle_eventstore::Metadata::new("rie").actor(owner);
    let new = vec![huddle_eventstore::encode(&requested)];
    let stream = media_stream(media_id);
    events.append(&stream, huddle_eventstore::ExpectedVersion::NoStream, new, &metadata, None).await.unwrap();
    let upload = aws_sdk_s3::primitives::ByteStream::from(video);
    s3.put_object()
        .bucket(&bucket)
        .key(&announced.key)
        .content_type("video/mp4")
        .body(upload)
        .send()
        .await
        .unwrap();
    let env = |role| domain_env(role, &events_table, &read_table, &[("MEDIA_BUCKET", bucket.as_str())]);

    let command = Emulated::start(emulator, bootstrap, &env("command"));
    let ticket = command.invoke(request_upload).await;
    assert_eq!(ticket["statusCode"], 201, "{ticket}; log:\n{}", command.log());
    let ticket = http_body(&ticket);
    assert_eq!(
        (ticket["upload"]["method"].as_str(), ticket["media"]["status"].as_str()),
        (Some("PUT"), Some("pending_upload"))
    );
    assert!(ticket["upload"]["url"].as_str().is_some_and(|url| url.contains(&bucket)), "{ticket}");

    let uploads = Emulated::start(emulator, bootstrap, &env("uploads"));
    let processed = uploads.invoke(notification).await;
    assert_eq!(processed, json!({"batchItemFailures": []}), "log:\n{}", uploads.log());
    let stored = events.read_stream(&stream, 1..).await.unwrap();
    let types: Vec<&str> = stored.iter().map(|envelope| envelope.event_type.as_str()).collect();
    assert_eq!(types, ["MediaRequested", "MediaUploaded", "MediaProcessed"], "log:\n{}", uploads.log());
    let left = s3.head_object().bucket(&bucket).key(&announced.key).send().await;
    assert!(left.is_err(), "the upload is deleted once processed");

    let projector = Emulated::start(emulator, bootstrap, &env("projector"));
    let records: Vec<Value> = stored.iter().map(|envelope| sqs_record(envelope, "1")).collect();
    let projected = projector.invoke(&json!({ "Records": records })).await;
    assert_eq!(projected, json!({"batchItemFailures": []}), "log:\n{}", projector.log());

    let query = Emulated::start(emulator, bootstrap, &env("query"));
    let shown = query.invoke(get_media).await;
    assert_eq!(shown["statusCode"], 200, "{shown}; log:\n{}", query.log());
    let shown = http_body(&shown);
    assert_eq!(
        (shown["status"].as_str(), shown["duration_ms"].as_u64()),
        (Some("ready"), Some(2000)),
        "{shown}"
    );
    assert_eq!((shown["width"].as_u64(), shown["height"].as_u64()), (Some(160), Some(120)), "{shown}");
}

/// A message of the accounts queue as SQS hands it over on receive number `receive_count`.
fn sqs_record(envelope: &Envelope, receive_count: &str) -> Value {
    json!({
        "messageId": envelope.event_id.to_string(),
        "receiptHandle": "fixture",
        "body": serde_json::to_string(envelope).unwrap(),
        "attributes": {"ApproximateReceiveCount": receive_count},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:accounts",
        "awsRegion": "us-east-1",
    })
}

/// The skip fixture's stream: a registration the projection cannot read, delivered on its last
/// receive, parks it. The operator role lists it, skips it as the fixture says, and retries.
async fn operator_lists_skips_and_retries_a_parked_stream(
    emulator: &Path,
    bootstrap: &Path,
    tables: &AccountsTables,
    events: &huddle_eventstore::EventStore,
    projector: &Emulated,
    fixtures: &[Value],
) {
    let [dead_letters, skip, retry, replay] = fixtures else {
        panic!("the operator fixtures, in INVOCATIONS order")
    };
    let stream = skip["stream"].as_str().expect("the skip fixture names a stream");
    let poison = huddle_eventstore::NewEvent {
        event_type: "AccountRegistered".into(),
        schema_version: 1,
        payload: json!({"not": "a registration"}),
    };
    let meta = huddle_eventstore::Metadata::new("corr-rie-operator");
    events
        .append(stream, huddle_eventstore::ExpectedVersion::NoStream, vec![poison], &meta, None)
        .await
        .unwrap();
    let envelope = events.read_stream(stream, 1..).await.unwrap().remove(0);
    let parked = projector.invoke(&json!({ "Records": [sqs_record(&envelope, MAX_RECEIVES)] })).await;
    assert_eq!(
        parked,
        json!({"batchItemFailures": []}),
        "parked on the last receive; log:\n{}",
        projector.log()
    );

    let operator = Emulated::start(emulator, bootstrap, &tables.env("operator"));
    let listing = operator.invoke(dead_letters).await;
    assert_eq!(listing["dead_letters"], json!([]), "{listing}; log:\n{}", operator.log());
    let [entry] = listing["parked"].as_array().expect("a list of parked streams").as_slice() else {
        panic!("one parked stream: {listing}")
    };
    assert_eq!((entry["stream"].as_str(), entry["version"].as_u64()), (Some(stream), Some(1)), "{entry}");
    assert_eq!(entry["event_id"], json!(envelope.event_id.to_string()));
    assert!(entry["error"].as_str().is_some_and(|error| error.contains("cannot project event")), "{entry}");

    let mut wrong_version = skip.clone();
    wrong_version["version"] = json!(2);
    let refused = operator.invoke(&wrong_version).await;
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("parked at version 1, not 2")), "{refused}");
    let not_an_operation = operator.invoke(&json!({"operation": "drop-everything"})).await;
    assert!(
        not_an_operation["error"].as_str().is_some_and(|e| e.starts_with("not an operation")),
        "{not_an_operation}"
    );

    let skipped = operator.invoke(skip).await;
    assert_eq!(skipped["skip"]["reason"], skip["reason"], "{skipped}");
    assert!(
        skipped["skip"]["by"].as_str().is_some_and(|by| by.starts_with("operator role, request ")),
        "{skipped}"
    );
    assert_eq!(skipped["stream"], json!({"outcome": "caught_up", "stream": stream, "version": 1}));
    let retried = operator.invoke(retry).await;
    assert_eq!(retried, json!({"streams": [], "redriven": 0, "still_dead": []}), "log:\n{}", operator.log());
    assert_eq!(operator.invoke(dead_letters).await, json!({"parked": [], "dead_letters": []}));
    // A replay over the log (in parallel segments on the real DynamoDB API) finds every account
    // event applied already.
    let replayed = operator.invoke(replay).await;
    assert_eq!(replayed["segments"], 4, "{replayed}; log:\n{}", operator.log());
    assert!(replayed["visited"].as_u64().is_some_and(|visited| visited > 0), "{replayed}");
}

/// The authorizer turns a valid token into the caller's context and refuses the fixture's own,
/// long-expired token.
async fn authorizer_admits_valid_tokens_only(emulator: &Path, bootstrap: &Path, fixture: &Value) {
    let tables = AccountsTables::new().await;
    let authorizer = Emulated::start(emulator, bootstrap, &tables.env("authorizer"));
    let refused = authorizer.invoke(fixture).await;
    assert_eq!(refused["isAuthorized"], false, "{refused}; log:\n{}", authorizer.log());

    let issuer = huddle_accounts::tokens::TokenIssuer::new(TOKEN_SECRET.as_bytes(), Duration::from_secs(600));
    let token = issuer.issue("acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6", "ana", 0).token;
    let mut valid = fixture.clone();
    valid["identitySource"] = json!([format!("Bearer {token}")]);
    valid["headers"]["authorization"] = json!(format!("Bearer {token}"));
    let admitted = authorizer.invoke(&valid).await;
    assert_eq!(
        admitted,
        json!({"isAuthorized": true, "context": {"account_id": "acc_01JB8Y3T7Q5ZV1F0C2D3E4G5H6", "username": "ana"}}),
        "log:\n{}",
        authorizer.log()
    );

    // A legacy HS256 key under 32 bytes is refused at start-up: the function never serves.
    let mut short_key = tables.env("authorizer");
    short_key.retain(|(name, _)| *name != "LEGACY_KEY");
    short_key.push(("LEGACY_KEY", "thirty-one bytes, one too short"));
    let misconfigured = Emulated::start(emulator, bootstrap, &short_key);
    let failed = misconfigured.invoke_text(&valid).await;
    assert!(!failed.contains("isAuthorized"), "a short legacy key still served: {failed}");
    assert!(
        misconfigured.log().contains("at least 32 bytes"),
        "the start-up error names the key's length: {}",
        misconfigured.log()
    );
}

/// The `$default` route's function answers an unmatched request with our JSON 404, naming its
/// method and path, and an `OPTIONS` (a CORS preflight) with an empty 204.
async fn not_found_answers_our_json_404(emulator: &Path, bootstrap: &Path, fixture: &Value) {
    let function = Emulated::start(emulator, bootstrap, &[]);
    let answered = function.invoke(fixture).await;
    assert_eq!(answered["statusCode"], 404, "{answered}; log:\n{}", function.log());
    assert_eq!(answered["headers"]["content-type"], "application/json", "{answered}");
    assert_eq!(
        http_body(&answered),
        json!({"error": {"code": "not_found", "message": "no route for DELETE /v1/nowhere"}})
    );
    let mut preflight = fixture.clone();
    preflight["requestContext"]["http"]["method"] = json!("OPTIONS");
    preflight["headers"]["origin"] = json!("https://app.example.com");
    preflight["headers"]["access-control-request-method"] = json!("POST");
    let answered = function.invoke(&preflight).await;
    assert_eq!(answered["statusCode"], 204, "{answered}; log:\n{}", function.log());
    assert_eq!(answered.get("body").and_then(Value::as_str).unwrap_or_default(), "", "{answered}");
}

/// The fan-out reports no failure and every event of the fixture reaches a queue subscribed to
/// the topic, as its envelope with `event_type` and `stream` attributes.
async fn fanout_publishes_every_inserted_event(emulator: &Path, bootstrap: &Path, fixture: &Value) {
    let config = moto::sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let topic_arn = provision::topic(&sns, &unique_name("events")).await.unwrap();
    let (queue_url, queue_arn) = provision::queue(&sqs, &unique_name("domain"), None).await.unwrap();
    let records = fixture["Records"].as_array().expect("a stream event has Records");
    let image = |record: &Value, attribute: &str| record["dynamodb"]["NewImage"][attribute]["S"].clone();
    // Subscribed as template.yaml subscribes a domain queue: raw delivery, filtered by event type.
    let event_types: Vec<Value> = records.iter().map(|record| image(record, "event_type")).collect();
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .attributes("FilterPolicyScope", "MessageAttributes")
        .attributes("FilterPolicy", json!({ "event_type": event_types }).to_string())
        .send()
        .await
        .unwrap();

    let function = Emulated::start(emulator, bootstrap, &[("EVENTS_TOPIC_ARN", &topic_arn)]);
    let response = function.invoke(fixture).await;
    assert_eq!(response, json!({"batchItemFailures": []}), "fanout's response; its log:\n{}", function.log());

    let mut expected: Vec<Value> = records.iter().map(|record| image(record, "event_id")).collect();
    let mut delivered = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while delivered.len() < expected.len() && Instant::now() < deadline {
        let received = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        delivered.extend(received.messages.unwrap_or_default());
    }
    let mut delivered_ids = Vec::new();
    for message in &delivered {
        let envelope: Envelope =
            serde_json::from_str(message.body().expect("a body")).expect("raw delivery carries the envelope");
        let attribute = |name: &str| {
            message
                .message_attributes()
                .and_then(|attributes| attributes.get(name))
                .and_then(MessageAttributeValue::string_value)
        };
        assert_eq!(attribute("event_type"), Some(envelope.event_type.as_str()));
        assert_eq!(attribute("stream"), Some(envelope.stream.as_str()));
        delivered_ids.push(json!(envelope.event_id.to_string()));
    }
    delivered_ids.sort_by_key(Value::to_string);
    expected.sort_by_key(Value::to_string);
    assert_eq!(
        delivered_ids,
        expected,
        "events delivered to the subscribed queue; fanout's log:\n{}",
        function.log()
    );
}

/// The RIE of the aws-sam-cli wheel in `.venv` (made by `scripts/test`), for this machine's
/// instruction set.
fn emulator_path() -> PathBuf {
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    };
    let name = format!("aws-lambda-rie-{arch}");
    let lib = workspace_root().join(".venv/lib");
    let found = std::fs::read_dir(&lib).ok().into_iter().flatten().flatten().find_map(|python| {
        let path = python.path().join("site-packages/samcli/local/rapid").join(&name);
        path.exists().then_some(path)
    });
    found.unwrap_or_else(|| {
        panic!(
            "no {name} under {}/python*/site-packages/samcli/local/rapid: run `scripts/test`, which \
             installs aws-sam-cli (it ships the Runtime Interface Emulator) into .venv",
            lib.display()
        )
    })
}

/// Builds the workspace's binaries with one cargo call and returns their paths by name.
fn build_function_binaries() -> BTreeMap<String, PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace_root()).args([
        "build",
        "--workspace",
        "--bins",
        "--tests",
        "--locked",
        "--message-format=json-render-diagnostics",
    ]);
    // Cargo gives the test process its package's CARGO_PKG_*/CARGO_MANIFEST_* variables. A build
    // script that tracks them (ring's does, and rustls or a JWT crate can bring ring in) would
    // see values `cargo test` did not, and cargo would rebuild it and everything above it, here
    // and again in the next `cargo test`.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_for_tests = name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
            ]
            .contains(&name.as_ref());
        if set_for_tests {
            command.env_remove(name.as_ref());
        }
    }
    let output = command.stderr(Stdio::inherit()).output().expect("run cargo build");
    assert!(output.status.success(), "cargo build of the function binaries failed");
    let mut binaries = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let message: Value = serde_json::from_str(line).expect("cargo prints JSON messages");
        // A binary is built twice: as itself and as its unit-test harness (`profile.test`).
        let is_binary = message["target"]["kind"] == json!(["bin"]) && message["profile"]["test"] == false;
        if let (true, Some(name), Some(executable)) =
            (is_binary, message["target"]["name"].as_str(), message["executable"].as_str())
        {
            binaries.insert(name.to_owned(), PathBuf::from(executable));
        }
    }
    for invocation in INVOCATIONS {
        assert!(binaries.contains_key(invocation.binary), "cargo built no `{}` binary", invocation.binary);
    }
    binaries
}

/// One function running under the RIE on free loopback ports; stopped when dropped.
struct Emulated {
    process: Child,
    invoke_url: String,
    log: PathBuf,
}

impl Emulated {
    /// `env` is the function's environment beyond the AWS endpoint, region and credentials,
    /// which point it at this process's moto server.
    fn start(emulator: &Path, bootstrap: &Path, env: &[(&str, &str)]) -> Self {
        let emulator_address = free_loopback_address();
        let runtime_api_address = free_loopback_address();
        let log = std::env::temp_dir().join(format!("{}.log", unique_name("rie")));
        let log_file = File::create(&log).expect("create the RIE log");
        let process = Command::new(emulator)
            .arg("--runtime-interface-emulator-address")
            .arg(&emulator_address)
            .arg("--runtime-api-address")
            .arg(&runtime_api_address)
            .arg(bootstrap)
            .env("AWS_ENDPOINT_URL", moto::endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("HUDDLE_LOG_LEVEL", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone the log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", emulator.display()));
        let invoke_url = format!("http://{emulator_address}/2015-03-31/functions/function/invocations");
        Self { process, invoke_url, log }
    }

    /// Posts `event` as the invocation payload and returns the function's JSON response.
    async fn invoke(&self, event: &Value) -> Value {
        let body = self.invoke_text(event).await;
        serde_json::from_str(&body)
            .unwrap_or_else(|_| panic!("invocation answered {body:?}; log:\n{}", self.log()))
    }

    /// Posts `event` as the invocation payload and returns what the RIE answered (empty when
    /// the function failed to start). The RIE needs a moment to listen; the function itself
    /// starts on the first invocation.
    async fn invoke_text(&self, event: &Value) -> String {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match client.post(&self.invoke_url).json(event).timeout(Duration::from_secs(30)).send().await {
                Ok(response) => return response.text().await.expect("read the invocation response"),
                Err(error) if error.is_connect() && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!("invoke {}: {error}; log:\n{}", self.invoke_url, self.log()),
            }
        }
    }

    /// What the RIE and the function printed so far.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Emulated {
    fn drop(&mut self) {
        // SIGTERM lets the RIE stop the function process it started; SIGKILL would orphan it.
        let terminated = Command::new("kill").arg(self.process.id().to_string()).status();
        if !terminated.is_ok_and(|status| status.success()) {
            let _ = self.process.kill();
        }
        let _ = self.process.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A loopback address no one listens on right now.
fn free_loopback_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("local address").to_string()
}
