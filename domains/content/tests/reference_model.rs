//! A randomized run of content against a reference model: random likes, unlikes (repeated
//! ones among them), replies, deletions and account erasures among a few accounts and their
//! public posts, and entries to their public video threads with their likes, unlikes and
//! removals, made through the content command role as HTTP requests on a real event store,
//! each answer checked; every event then delivered to the projector twice over, in shuffled
//! batches; and every count, `liked_by_me`, reply list and thread's entries (paged through the
//! query role) compared with what plain sets say. The seed is printed; `HUDDLE_TEST_SEED=N`
//! repeats a run.

use huddle_catalog::accounts::{account_stream, AccountEvent};
use huddle_catalog::media::{media_stream, MediaEvent, MediaKind, Rendition};
use huddle_content::ContentDomain;
use huddle_delivery::testing::deliver_until_applied;
use huddle_delivery::Projector;
use huddle_domain::{command_role, query_role, Domain, DomainPorts};
use huddle_embedded::{Database, FolderBlobs, FolderBlobsConfig, SqliteTable};
use huddle_eventstore::{attribute, encode, Envelope, EventStore, ExpectedVersion, Metadata};
use huddle_http::HttpFunction;
use huddle_ports::{Blobs, Scan, Table};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const ACCOUNTS: usize = 5;
/// Each account's public posts made before the run.
const POSTS_EACH: usize = 2;

/// What content should show, as plain sets of indexes (a post is an index into
/// `Content::posts`).
#[derive(Default)]
struct Model {
    /// (post, liker).
    likes: BTreeSet<(usize, usize)>,
    /// Each post's author.
    authors: Vec<usize>,
    /// Each reply's parent.
    parents: BTreeMap<usize, usize>,
    deleted: BTreeSet<usize>,
    erased: BTreeSet<usize>,
    /// Each thread entry's (thread, author): account n's thread is thread n.
    entries: Vec<(usize, usize)>,
    removed: BTreeSet<usize>,
    /// (entry, liker).
    entry_likes: BTreeSet<(usize, usize)>,
}

impl Model {
    /// Whether the post is shown: not deleted, its author not erased.
    fn shown(&self, post: usize) -> bool {
        !self.deleted.contains(&post) && !self.erased.contains(&self.authors[post])
    }

    fn like_count(&self, post: usize) -> usize {
        self.likes.iter().filter(|(liked, liker)| *liked == post && !self.erased.contains(liker)).count()
    }

    fn replies(&self, parent: usize) -> BTreeSet<usize> {
        let replies = self.parents.iter().filter(|(_, of)| **of == parent).map(|(reply, _)| *reply);
        replies.filter(|reply| self.shown(*reply)).collect()
    }

    /// The entries thread `thread` shows (while its owner is not erased): not removed, their
    /// author not erased.
    fn thread_entries(&self, thread: usize) -> BTreeSet<usize> {
        let of_thread = self.entries.iter().enumerate().filter(|(_, (of, _))| *of == thread);
        of_thread
            .filter(|(entry, (_, author))| !self.removed.contains(entry) && !self.erased.contains(author))
            .map(|(entry, _)| entry)
            .collect()
    }

    fn entry_like_count(&self, entry: usize) -> usize {
        self.entry_likes
            .iter()
            .filter(|(liked, liker)| *liked == entry && !self.erased.contains(liker))
            .count()
    }
}

/// Content's roles over one in-memory database (the graph's and media's read tables granted and
/// empty: every post here is public, and none has media).
struct Content {
    events: EventStore,
    command: Arc<dyn HttpFunction>,
    query: Arc<dyn HttpFunction>,
    projector: Projector,
    ids: Vec<String>,
    posts: Vec<String>,
    /// Account n's ready video, and its public thread, joinable by its audience.
    videos: Vec<String>,
    threads: Vec<String>,
    entries: Vec<String>,
    _folder: tempfile::TempDir,
}

impl Content {
    async fn new() -> Self {
        let db = Database::in_memory().unwrap();
        let events_table: Arc<dyn Table> = Arc::new(SqliteTable::new(&db, "events", true));
        let read_model: Arc<dyn Table> = Arc::new(SqliteTable::new(&db, "content", false));
        let folder = tempfile::tempdir().unwrap();
        let config = FolderBlobsConfig {
            bucket: "media".into(),
            folder: folder.path().to_owned(),
            upload_origin: "http://127.0.0.1:3000".parse().unwrap(),
            signing_key: b"model".to_vec(),
            max_upload_bytes: 1024,
        };
        let blobs: Arc<dyn Blobs> = Arc::new(FolderBlobs::open(&db, config).unwrap());
        let ports = DomainPorts::new(events_table, read_model.clone(), b"the reference model's secret")
            .with_blobs(blobs)
            .granting(huddle_graph::NAME, Arc::new(SqliteTable::new(&db, "graph", false)))
            .granting(huddle_media::NAME, Arc::new(SqliteTable::new(&db, "media", false)));
        let projector = Projector::new(ContentDomain.projection(&ports), read_model, ports.events.clone());
        let mut content = Self {
            events: ports.events.clone(),
            command: command_role(&ContentDomain, &ports),
            query: query_role(&ContentDomain, &ports),
            projector,
            ids: (0..ACCOUNTS).map(|_| format!("acc_{}", ulid::Ulid::new())).collect(),
            posts: Vec::new(),
            videos: (0..ACCOUNTS).map(|_| format!("med_{}", ulid::Ulid::new())).collect(),
            threads: Vec::new(),
            entries: Vec::new(),
            _folder: folder,
        };
        for author in 0..ACCOUNTS {
            for n in 0..POSTS_EACH {
                let (status, post) = content.create(author, &format!("post {n}"), None).await;
                assert_eq!(status, 201, "{post}");
                content.posts.push(post["id"].as_str().unwrap().to_owned());
            }
            content.ready_video(author).await;
            let body = json!({ "title": "a story", "media_id": content.videos[author], "audience": "public", "joinable_by": "audience" });
            let (status, thread) = content
                .call(content.command.as_ref(), ("POST", "/v1/threads"), author, &[], &[], Some(body))
                .await;
            assert_eq!(status, 201, "{thread}");
            content.threads.push(thread["id"].as_str().unwrap().to_owned());
        }
        content
    }

    /// The media domain's record of `account`'s video, processed.
    async fn ready_video(&self, account: usize) {
        let original = Rendition {
            key: format!("media/{}/original.mp4", self.videos[account]),
            content_type: "video/mp4".into(),
            width: 160,
            height: 120,
        };
        let ready = [
            MediaEvent::MediaRequested {
                owner: self.ids[account].clone(),
                kind: MediaKind::Video,
                content_type: "video/mp4".into(),
                size_bytes: 4_000,
            },
            MediaEvent::MediaUploaded,
            MediaEvent::MediaProcessed {
                width: 160,
                height: 120,
                duration_ms: Some(2_000),
                codec: Some("avc1".into()),
                blurhash: None,
                original,
                thumbnails: vec![],
            },
        ];
        let stream = media_stream(&self.videos[account]);
        let events = ready.iter().map(encode).collect();
        self.events
            .append(&stream, ExpectedVersion::NoStream, events, &Metadata::new("model"), None)
            .await
            .unwrap();
    }

    /// `method route` on entry `entry` (of the thread it was added to) as `who`.
    async fn on_entry(
        &self,
        (method, route): (&str, &str),
        who: usize,
        entry: usize,
        thread: usize,
    ) -> (u16, Value) {
        let ids = [("id", self.threads[thread].as_str()), ("entry_id", self.entries[entry].as_str())];
        self.call(self.command.as_ref(), (method, route), who, &ids, &[], None).await
    }

    async fn create(&self, author: usize, text: &str, reply_to: Option<&str>) -> (u16, Value) {
        let body = json!({ "text": text, "audience": "public", "reply_to": reply_to });
        self.call(self.command.as_ref(), ("POST", "/v1/posts"), author, &[], &[], Some(body)).await
    }

    /// `method route` on post `post` as `who`.
    async fn on_post(&self, (method, route): (&str, &str), who: usize, post: usize) -> (u16, Value) {
        let function = if method == "GET" { self.query.as_ref() } else { self.command.as_ref() };
        self.call(function, (method, route), who, &[("id", &self.posts[post])], &[], None).await
    }

    /// The accounts domain's record of `account`'s erasure.
    async fn erase(&self, account: usize) {
        let erased = vec![encode(&AccountEvent::AccountErased)];
        let stream = account_stream(&self.ids[account]);
        self.events
            .append(&stream, ExpectedVersion::Any, erased, &Metadata::new("model"), None)
            .await
            .unwrap();
    }

    /// `method route` as account `caller`, with the route's path parameters (`{id}`, …), a
    /// query and a body.
    async fn call(
        &self,
        function: &dyn HttpFunction,
        (method, route): (&str, &str),
        caller: usize,
        ids: &[(&str, &str)],
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let path =
            ids.iter().fold(route.to_owned(), |path, (name, id)| path.replace(&format!("{{{name}}}"), id));
        let parameters: serde_json::Map<String, Value> =
            ids.iter().map(|(name, id)| (name.to_string(), json!(id))).collect();
        let event = json!({
            "version": "2.0",
            "routeKey": format!("{method} {route}"),
            "rawPath": path,
            "rawQueryString": query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"),
            "headers": { "content-type": "application/json" },
            "queryStringParameters": query.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "pathParameters": parameters,
            "requestContext": {
                "accountId": "123456789012", "apiId": "model", "domainName": "model", "domainPrefix": "model",
                "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "model" },
                "requestId": ulid::Ulid::new().to_string(), "routeKey": format!("{method} {route}"), "stage": "$default",
                "time": "03/Dec/2026:10:00:00 +0000", "timeEpoch": 1796292000000_u64,
                "authorizer": { "lambda": { "account_id": self.ids[caller], "username": format!("user{caller}") } },
            },
            "body": body.map(|body| body.to_string()),
            "isBase64Encoded": false,
        });
        let request = lambda_http::request::from_str(&event.to_string()).expect("an HttpApi request");
        let response = function.call(request).await;
        let status = response.status().as_u16();
        let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
        (status, body)
    }

    /// The replies of `parent` as `viewer` sees them, walking every cursor.
    async fn replies(&self, parent: usize, viewer: usize) -> BTreeSet<usize> {
        let mut listed = BTreeSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "2")];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let route = ("GET", "/v1/posts/{id}/replies");
            let ids = [("id", self.posts[parent].as_str())];
            let (status, page) = self.call(self.query.as_ref(), route, viewer, &ids, &query, None).await;
            assert_eq!(status, 200, "{page}");
            for item in page["items"].as_array().unwrap() {
                let n = self.posts.iter().position(|known| item["id"] == json!(known)).expect("a known post");
                assert!(listed.insert(n), "listed twice: {item}");
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return listed,
            }
        }
    }

    /// Thread `thread` as `viewer` sees it: its entry count, and each entry it lists (walking
    /// every cursor) with its like count and whether the viewer likes it; `None` for a 404.
    async fn thread(&self, thread: usize, viewer: usize) -> Option<(u64, BTreeMap<usize, (u64, bool)>)> {
        let mut listed = BTreeMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "2")];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let ids = [("id", self.threads[thread].as_str())];
            let route = ("GET", "/v1/threads/{id}");
            let (status, page) = self.call(self.query.as_ref(), route, viewer, &ids, &query, None).await;
            if status == 404 {
                return None;
            }
            assert_eq!(status, 200, "{page}");
            for item in page["entries"].as_array().unwrap() {
                let n =
                    self.entries.iter().position(|known| item["id"] == json!(known)).expect("a known entry");
                let shown = (item["like_count"].as_u64().unwrap(), item["liked_by_me"].as_bool().unwrap());
                assert!(listed.insert(n, shown).is_none(), "listed twice: {item}");
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Some((page["thread"]["entry_count"].as_u64().unwrap(), listed)),
            }
        }
    }
}

const ADD_ENTRY: (&str, &str) = ("POST", "/v1/threads/{id}/entries");
const REMOVE_ENTRY: (&str, &str) = ("DELETE", "/v1/threads/{id}/entries/{entry_id}");
const LIKE_ENTRY: (&str, &str) = ("PUT", "/v1/threads/{id}/entries/{entry_id}/like");
const UNLIKE_ENTRY: (&str, &str) = ("DELETE", "/v1/threads/{id}/entries/{entry_id}/like");
const LIKE: (&str, &str) = ("PUT", "/v1/posts/{id}/like");
const UNLIKE: (&str, &str) = ("DELETE", "/v1/posts/{id}/like");
const DELETE: (&str, &str) = ("DELETE", "/v1/posts/{id}");
const GET: (&str, &str) = ("GET", "/v1/posts/{id}");

/// One random command through the command role, applied to the model by hand; its status must
/// be what the model says. Nothing is projected yet, so the command sees no erasure: what the
/// log alone refuses (a deleted post) is all the model refuses.
async fn step(rng: &mut StdRng, content: &mut Content, model: &mut Model, context: &str) {
    let who = rng.random_range(0..ACCOUNTS);
    // An erased account makes no more requests (its tokens are revoked).
    if model.erased.contains(&who) {
        return;
    }
    if rng.random_ratio(1, 3) {
        return thread_step(rng, content, model, who, context).await;
    }
    let post = rng.random_range(0..content.posts.len());
    let gone = model.deleted.contains(&post);
    match rng.random_range(0..20) {
        0..=8 => {
            let (status, body) = content.on_post(LIKE, who, post).await;
            if gone {
                assert_eq!(status, 404, "{context}: a like of a deleted post: {body}");
            } else {
                assert_eq!((status, &body["liked"]), (200, &json!(true)), "{context}: {body}");
                model.likes.insert((post, who));
            }
        }
        9..=14 => {
            let (status, body) = content.on_post(UNLIKE, who, post).await;
            assert_eq!(status, 204, "{context}: {body}");
            model.likes.remove(&(post, who));
        }
        15..=17 => {
            let (status, body) = content.create(who, "a reply", Some(&content.posts[post])).await;
            if gone {
                assert_eq!(status, 404, "{context}: a reply to a deleted post: {body}");
            } else {
                assert_eq!(status, 201, "{context}: {body}");
                content.posts.push(body["id"].as_str().unwrap().to_owned());
                model.authors.push(who);
                model.parents.insert(content.posts.len() - 1, post);
            }
        }
        18 => {
            let (status, body) = content.on_post(DELETE, who, post).await;
            let own = model.authors[post] == who && !gone;
            assert_eq!(status, if own { 204 } else { 404 }, "{context}: {body}");
            if own {
                model.deleted.insert(post);
            }
        }
        _ if model.erased.len() < 2 && rng.random_ratio(1, 2) => {
            content.erase(who).await;
            model.erased.insert(who);
        }
        _ => {}
    }
}

/// One random command on the threads' entries by `who`, as [`step`]: nothing is projected yet,
/// so every thread is there and lets everyone join, and only removals refuse.
async fn thread_step(rng: &mut StdRng, content: &mut Content, model: &mut Model, who: usize, context: &str) {
    let thread = rng.random_range(0..ACCOUNTS);
    let entry = (!model.entries.is_empty()).then(|| rng.random_range(0..model.entries.len()));
    match (rng.random_range(0..10), entry) {
        (0..=2, _) | (_, None) => {
            let body = json!({ "media_id": content.videos[who], "text": "me too" });
            let ids = [("id", content.threads[thread].as_str())];
            let (status, body) =
                content.call(content.command.as_ref(), ADD_ENTRY, who, &ids, &[], Some(body)).await;
            assert_eq!(status, 201, "{context}: {body}");
            content.entries.push(body["id"].as_str().unwrap().to_owned());
            model.entries.push((thread, who));
        }
        (3..=5, Some(entry)) => {
            let (status, body) = content.on_entry(LIKE_ENTRY, who, entry, model.entries[entry].0).await;
            if model.removed.contains(&entry) {
                assert_eq!(status, 404, "{context}: a like of a removed entry: {body}");
            } else {
                assert_eq!((status, &body["liked"]), (200, &json!(true)), "{context}: {body}");
                model.entry_likes.insert((entry, who));
            }
        }
        (6..=7, Some(entry)) => {
            let (status, body) = content.on_entry(UNLIKE_ENTRY, who, entry, model.entries[entry].0).await;
            assert_eq!(status, 204, "{context}: {body}");
            model.entry_likes.remove(&(entry, who));
        }
        (_, Some(entry)) => {
            let (of, author) = model.entries[entry];
            let (status, body) = content.on_entry(REMOVE_ENTRY, who, entry, of).await;
            let may = !model.removed.contains(&entry) && (author == who || of == who);
            assert_eq!(status, if may { 204 } else { 404 }, "{context}: {body}");
            if may {
                model.removed.insert(entry);
            }
        }
    }
}

/// Every event of the log that content's subscription takes (the erasure steps the projection
/// appends as it goes among them), each twice, in shuffled batches of up to ten, round after
/// round until a round appends nothing new.
async fn deliver_twice_shuffled(rng: &mut StdRng, content: &Content) {
    let subscription = ContentDomain.consumes();
    let mut delivered = BTreeSet::new();
    loop {
        let mut envelopes: Vec<Envelope> = Vec::new();
        let mut after = None;
        loop {
            let page = content.events.scan(&Scan::default().limit(500).after(after)).await.unwrap();
            envelopes.extend(page.events.into_iter().map(|event| event.decode().unwrap()));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        envelopes.retain(|envelope| {
            let stream_type = envelope.stream.split('#').next().unwrap_or_default();
            subscription.may_match(attribute::STREAM_TYPE, stream_type)
                && delivered.insert((envelope.stream.clone(), envelope.version))
        });
        if envelopes.is_empty() {
            return;
        }
        deliver_round(rng, content, envelopes).await;
    }
}

/// How often a message that failed is delivered again, as SQS would, before the run fails: a
/// deletion and an erasure step that take one post out at once fail one another's transaction,
/// and the one applied again does nothing.
const REDELIVERIES: usize = 5;

async fn deliver_round(rng: &mut StdRng, content: &Content, envelopes: Vec<Envelope>) {
    let mut deliveries: Vec<Envelope> = envelopes.iter().chain(envelopes.iter()).cloned().collect();
    deliveries.shuffle(rng);
    deliver_until_applied(&content.projector, deliveries, REDELIVERIES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_replies_entries_deletions_and_erasures_count_as_plain_sets_say_under_duplicated_shuffled_delivery(
) {
    let seed: u64 =
        std::env::var("HUDDLE_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("reference_model: seed {seed}; rerun with HUDDLE_TEST_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    for round in 0..6 {
        let mut content = Content::new().await;
        let authors = (0..ACCOUNTS).flat_map(|author| [author; POSTS_EACH]).collect();
        let mut model = Model { authors, ..Model::default() };
        let context = |what: &str| format!("seed {seed}, round {round}: {what}");
        for n in 0..120 {
            step(&mut rng, &mut content, &mut model, &context(&format!("step {n}"))).await;
        }
        deliver_twice_shuffled(&mut rng, &content).await;

        let viewers: Vec<usize> = (0..ACCOUNTS).filter(|viewer| !model.erased.contains(viewer)).collect();
        for post in 0..content.posts.len() {
            for &viewer in &viewers {
                let (status, view) = content.on_post(GET, viewer, post).await;
                if !model.shown(post) {
                    assert_eq!(status, 404, "{}", context(&format!("post {post} is gone: {view}")));
                    continue;
                }
                assert_eq!(status, 200, "{}", context(&format!("post {post}: {view}")));
                let what = |field: &str| context(&format!("{field} of post {post} for {viewer}: {view}"));
                assert_eq!(view["like_count"], json!(model.like_count(post)), "{}", what("like_count"));
                assert_eq!(view["reply_count"], json!(model.replies(post).len()), "{}", what("reply_count"));
                let liked = model.likes.contains(&(post, viewer));
                assert_eq!(view["liked_by_me"], json!(liked), "{}", what("liked_by_me"));
            }
            if let (true, Some(&viewer)) = (model.shown(post), viewers.first()) {
                assert_eq!(
                    content.replies(post, viewer).await,
                    model.replies(post),
                    "{}",
                    context("replies")
                );
            }
        }
        for thread in 0..ACCOUNTS {
            for &viewer in &viewers {
                let shown = content.thread(thread, viewer).await;
                let seen = format!("{shown:?}");
                let what = |field: &str| context(&format!("{field} of thread {thread} for {viewer}: {seen}"));
                if model.erased.contains(&thread) {
                    assert!(shown.is_none(), "{}", what("an erased owner's thread"));
                    continue;
                }
                let (entry_count, entries) = shown.unwrap_or_else(|| panic!("{}", what("the thread")));
                let expected = model.thread_entries(thread);
                assert_eq!(entries.keys().copied().collect::<BTreeSet<_>>(), expected, "{}", what("entries"));
                assert_eq!(entry_count, expected.len() as u64, "{}", what("entry_count"));
                for (entry, (like_count, liked_by_me)) in entries {
                    assert_eq!(like_count, model.entry_like_count(entry) as u64, "{}", what("like_count"));
                    let liked = model.entry_likes.contains(&(entry, viewer));
                    assert_eq!(liked_by_me, liked, "{}", what("liked_by_me"));
                }
            }
        }
    }
}
