//! Blobs conformance. Presigned uploads and downloads go through the way an app sends them: an
//! HTTP PUT or GET to S3 on moto; on the embedded family, straight into the function the runner's
//! presigned route calls.
//!
//! moto does not check presigned URLs: it stores a PUT whose signature was tampered with, whose
//! URL has expired, or whose content type or length differs (tried on moto 5.2.5). So refusals
//! are tested on the embedded family, which checks them itself, and the S3 adapter's unit test
//! checks that its URLs sign the content type, length and expiry that S3 enforces. moto does
//! honour the `If-None-Match: *` an upload sends, so create-only uploads are tested on both.

use huddle_embedded::{PresignedRequest, Refused};
use huddle_ports::{BlobError, BlobMeta};
use huddle_test_support::families::EMBEDDED_MAX_UPLOAD_BYTES;
use huddle_test_support::{on_both_families, Family};
use std::time::Duration;
use time::OffsetDateTime;
use url::Url;

const FIVE_MINUTES: Duration = Duration::from_secs(300);

on_both_families!(
    a_presigned_put_stores_the_object,
    an_upload_url_creates_its_object_once,
    deleting_a_prefix_removes_what_is_under_it_and_nothing_else,
    put_replaces_the_object_and_its_content_type,
    get_of_a_missing_key_is_not_found,
    keys_that_could_escape_a_folder_are_refused,
    upload_urls_live_at_most_seven_days,
    a_presigned_get_serves_the_object_until_it_is_deleted,
    objects_created_under_a_notified_prefix_are_announced_on_its_queue,
);

async fn a_presigned_put_stores_the_object(family: Family) {
    let store = family.backend().await.blobs().await;
    // A space and a non-ASCII letter: the URL must carry the key percent-encoded.
    let key = "media/acc_1/photo 01J ü.png";
    let body = b"\x89PNG not really an image".to_vec();
    let before = OffsetDateTime::now_utc().unix_timestamp();
    let length = body.len() as u64;
    let upload = store.blobs.presign_upload(key, "image/png", length, FIVE_MINUTES).await.unwrap();
    let after = OffsetDateTime::now_utc().unix_timestamp();
    assert_eq!(upload.method, "PUT");
    let headers = [
        ("content-type", "image/png".to_owned()),
        ("content-length", length.to_string()),
        ("if-none-match", "*".to_owned()),
    ];
    for header in headers {
        assert!(upload.headers.contains(&(header.0.into(), header.1)), "{:?}", upload.headers);
    }
    // Five minutes from the signing, which fell between `before` and `after`: URLs are signed
    // to whole seconds, so the bounds are too, and no amount of slowness breaks them.
    let lifetime = FIVE_MINUTES.as_secs() as i64;
    assert!(
        (before + lifetime..=after + lifetime).contains(&upload.expires_at.unix_timestamp()),
        "expires at {}, signed between {before} and {after}",
        upload.expires_at
    );
    assert!(store.blobs.head(key).await.unwrap().is_none(), "nothing is stored before the upload");

    assert_eq!(store.upload(&upload, body.clone()).await, 200);

    let meta = store.blobs.head(key).await.unwrap();
    assert_eq!(meta, Some(BlobMeta { size: body.len() as u64, content_type: Some("image/png".into()) }));
    assert_eq!(store.blobs.get(key).await.unwrap(), body);
}

/// An upload URL can be replayed until it expires, but never over the object it made: what a
/// notification announced is what its processor reads, until the processor deletes it.
async fn an_upload_url_creates_its_object_once(family: Family) {
    let store = family.backend().await.blobs().await;
    let key = "uploads/acc_1/med_1";
    let upload = store.blobs.presign_upload(key, "image/png", 5, FIVE_MINUTES).await.unwrap();
    assert_eq!(store.upload(&upload, b"first".to_vec()).await, 200);
    assert_eq!(store.upload(&upload, b"swaps".to_vec()).await, 412, "a second PUT over the first");
    assert_eq!(store.blobs.get(key).await.unwrap(), b"first");

    store.blobs.delete(key).await.unwrap();
    assert_eq!(store.upload(&upload, b"again".to_vec()).await, 200, "the URL creates once more");
    assert_eq!(store.blobs.get(key).await.unwrap(), b"again");
}

async fn deleting_a_prefix_removes_what_is_under_it_and_nothing_else(family: Family) {
    let store = family.backend().await.blobs().await;
    let erased =
        ["media/acc_1/med_1/original.jpg", "media/acc_1/med_1/640.jpg", "media/acc_1/med_2/original.mp4"];
    let kept = ["media/acc_10/med_3/original.jpg", "media/acc_2/med_4/original.jpg", "uploads/acc_1/med_5"];
    for key in erased.iter().chain(&kept) {
        store.blobs.put(key, "image/jpeg", key.as_bytes().to_vec()).await.unwrap();
    }
    let mut listed = store.blobs.list("media/acc_1/").await.unwrap();
    listed.sort();
    let mut expected = erased.map(str::to_owned).to_vec();
    expected.sort();
    assert_eq!(listed, expected, "the keys under the prefix, and no key it only begins");

    assert_eq!(huddle_ports::delete_prefix(store.blobs.as_ref(), "media/acc_1/").await.unwrap(), 3);
    for key in erased {
        assert!(store.blobs.head(key).await.unwrap().is_none(), "{key} deleted");
    }
    for key in kept {
        assert!(store.blobs.head(key).await.unwrap().is_some(), "{key} kept");
    }
    assert_eq!(huddle_ports::delete_prefix(store.blobs.as_ref(), "media/acc_1/").await.unwrap(), 0);
}

/// More objects than one page lists: deleted a page at a time until none is left.
#[tokio::test]
async fn embedded_deletes_a_prefix_of_more_objects_than_a_page() {
    let store = Family::Embedded.backend().await.blobs().await;
    let count = huddle_ports::BLOB_PAGE + 3;
    for n in 0..count {
        store.blobs.put(&format!("media/acc_1/{n:05}"), "image/jpeg", vec![1]).await.unwrap();
    }
    store.blobs.put("media/acc_2/kept", "image/jpeg", vec![1]).await.unwrap();
    assert_eq!(huddle_ports::delete_prefix(store.blobs.as_ref(), "media/acc_1/").await.unwrap(), count);
    assert!(store.blobs.list("media/acc_1/").await.unwrap().is_empty());
    assert_eq!(store.blobs.list("media/").await.unwrap(), ["media/acc_2/kept"]);
}

async fn put_replaces_the_object_and_its_content_type(family: Family) {
    let store = family.backend().await.blobs().await;
    store.blobs.put("a", "text/plain", b"first".to_vec()).await.unwrap();
    // S3 lets a key be a prefix of another; a folder store must too.
    store.blobs.put("a/b", "text/plain", b"nested".to_vec()).await.unwrap();
    store.blobs.put("a", "application/json", b"{\"v\":2}".to_vec()).await.unwrap();

    let meta = store.blobs.head("a").await.unwrap().unwrap();
    assert_eq!(meta, BlobMeta { size: 7, content_type: Some("application/json".into()) });
    assert_eq!(store.blobs.get("a").await.unwrap(), b"{\"v\":2}");
    assert_eq!(store.blobs.get("a/b").await.unwrap(), b"nested");
}

async fn get_of_a_missing_key_is_not_found(family: Family) {
    let store = family.backend().await.blobs().await;
    let missing = store.blobs.get("media/none.jpg").await;
    assert!(matches!(missing, Err(BlobError::NotFound(_))), "{missing:?}");
    assert!(store.blobs.head("media/none.jpg").await.unwrap().is_none());
}

async fn keys_that_could_escape_a_folder_are_refused(family: Family) {
    let store = family.backend().await.blobs().await;
    for key in ["../outside", "/etc/passwd", "a//b", "a\\b", ""] {
        let presigned = store.blobs.presign_upload(key, "image/png", 1, FIVE_MINUTES).await;
        assert!(matches!(presigned, Err(BlobError::Invalid(_))), "presign {key:?}: {presigned:?}");
        let presigned = store.blobs.presign_download(key, FIVE_MINUTES).await;
        assert!(matches!(presigned, Err(BlobError::Invalid(_))), "presign GET {key:?}: {presigned:?}");
        assert!(matches!(store.blobs.delete(key).await, Err(BlobError::Invalid(_))), "delete {key:?}");
        let put = store.blobs.put(key, "image/png", vec![1]).await;
        assert!(matches!(put, Err(BlobError::Invalid(_))), "put {key:?}: {put:?}");
        assert!(matches!(store.blobs.get(key).await, Err(BlobError::Invalid(_))), "get {key:?}");
        assert!(matches!(store.blobs.head(key).await, Err(BlobError::Invalid(_))), "head {key:?}");
    }
}

async fn upload_urls_live_at_most_seven_days(family: Family) {
    let store = family.backend().await.blobs().await;
    let week = Duration::from_secs(7 * 24 * 3600);
    store.blobs.presign_upload("k", "image/png", 1, week).await.expect("a week is allowed");
    store.blobs.presign_download("k", week).await.expect("a week is allowed");
    let longer = week + Duration::from_secs(1);
    let upload = store.blobs.presign_upload("k", "image/png", 1, longer).await;
    assert!(matches!(upload, Err(BlobError::Invalid(_))), "{upload:?}");
    let download = store.blobs.presign_download("k", longer).await;
    assert!(matches!(download, Err(BlobError::Invalid(_))), "{download:?}");
}

async fn a_presigned_get_serves_the_object_until_it_is_deleted(family: Family) {
    let store = family.backend().await.blobs().await;
    let key = "media/acc_1/01J/640 ü.jpg";
    store.blobs.put(key, "image/jpeg", b"\xff\xd8 a thumbnail".to_vec()).await.unwrap();
    let download = store.blobs.presign_download(key, FIVE_MINUTES).await.unwrap();
    assert_eq!(
        store.download(&download).await,
        (200, Some(("image/jpeg".to_owned(), b"\xff\xd8 a thumbnail".to_vec())))
    );

    store.blobs.delete(key).await.unwrap();
    assert!(store.blobs.head(key).await.unwrap().is_none(), "deleted");
    assert!(matches!(store.blobs.get(key).await, Err(BlobError::NotFound(_))));
    assert_eq!(store.download(&download).await, (404, None), "a deleted object is not served");
    store.blobs.delete(key).await.expect("deleting what is not there succeeds, as on S3");
}

/// The URL's query with `name` set to `value`, everything else as signed.
fn with_param(url: &Url, name: &str, value: &str) -> String {
    let pairs = url.query_pairs().map(|(n, v)| if n == name { (n, value.into()) } else { (n, v) });
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// A PUT of `size` bytes, as the runner's presigned route would hand it over.
fn put<'a>(
    path: &'a str,
    query: &'a str,
    content_type: Option<&'a str>,
    size: usize,
) -> PresignedRequest<'a> {
    PresignedRequest {
        method: "PUT",
        path,
        query,
        content_type,
        if_none_match: Some("*"),
        body: vec![0; size],
    }
}

#[tokio::test]
async fn embedded_uploads_are_refused_unless_they_match_their_signed_url() {
    let store = Family::Embedded.backend().await.blobs().await;
    let folder = store.folder().expect("the embedded family stores blobs in a folder");
    let upload = store.blobs.presign_upload("media/a.png", "image/png", 10, FIVE_MINUTES).await.unwrap();
    let url = Url::parse(&upload.url).unwrap();
    let (path, query) = (url.path(), url.query().unwrap());
    let now = OffsetDateTime::now_utc();
    let verify = |request: PresignedRequest, at| folder.verify(&request, at);
    let png = Some("image/png");

    assert_eq!(verify(put(path, query, png, 10), now), Ok(()), "the genuine upload passes");
    let max = EMBEDDED_MAX_UPLOAD_BYTES as usize;
    let at_the_bound = store.blobs.presign_upload("media/a.png", "image/png", max as u64, FIVE_MINUTES);
    let at_the_bound = Url::parse(&at_the_bound.await.unwrap().url).unwrap();
    assert_eq!(
        verify(put(path, at_the_bound.query().unwrap(), png, max), now),
        Ok(()),
        "the bound is allowed"
    );

    let signature = url.query_pairs().find(|(name, _)| name == "signature").unwrap().1.into_owned();
    let flipped = format!("{}{}", &signature[..63], if signature.ends_with('0') { '1' } else { '0' });
    let tampered = [
        with_param(&url, "signature", &flipped),
        with_param(&url, "signature", "not hex"),
        with_param(&url, "expires", &(upload.expires_at.unix_timestamp() + 3600).to_string()),
        with_param(&url, "content_type", "text/html"),
        with_param(&url, "content_length", "11"),
        with_param(&url, "content_length", "ten"),
        query.replace("&signature=", "&signature=00&signature="),
        String::new(),
    ];
    for query in &tampered {
        assert_eq!(verify(put(path, query, png, 10), now), Err(Refused::BadSignature), "{query}");
    }
    let other_key = path.replace("a.png", "b.png");
    assert_eq!(verify(put(&other_key, query, png, 10), now), Err(Refused::BadSignature));
    // An upload's signature grants no download, and a download's no upload.
    let get = PresignedRequest { method: "GET", ..put(path, query, None, 0) };
    assert_eq!(verify(get, now), Err(Refused::BadSignature));
    let download = store.blobs.presign_download("media/a.png", FIVE_MINUTES).await.unwrap();
    let download = Url::parse(&download.url).unwrap();
    assert_eq!(verify(put(path, download.query().unwrap(), png, 10), now), Err(Refused::BadSignature));

    assert_eq!(verify(put(path, query, png, 10), upload.expires_at), Err(Refused::Expired));
    assert!(matches!(
        verify(put(path, query, Some("text/html"), 10), now),
        Err(Refused::WrongContentType { .. })
    ));
    assert!(matches!(verify(put(path, query, None, 10), now), Err(Refused::WrongContentType { .. })));
    assert_eq!(verify(put(path, query, png, 9), now), Err(Refused::WrongLength { signed: 10, sent: 9 }));
    assert!(matches!(verify(put(path, query, png, max + 1), now), Err(Refused::TooLarge { .. })));
    let delete = PresignedRequest { method: "DELETE", ..put(path, query, png, 10) };
    assert!(matches!(verify(delete, now), Err(Refused::WrongMethod(_))));
    for condition in [None, Some("\"an-etag\"")] {
        let replacing = PresignedRequest { if_none_match: condition, ..put(path, query, png, 10) };
        assert_eq!(verify(replacing, now), Err(Refused::NotCreateOnly), "If-None-Match {condition:?}");
    }
    for bad_path in
        [path.replace("media/a.png", "media/..%2F..%2Fa.png"), "/_blobs/other-bucket/media/a.png".into()]
    {
        assert!(matches!(verify(put(&bad_path, query, png, 10), now), Err(Refused::InvalidKey(_))));
    }

    let refused = folder.receive_upload(put(path, &tampered[0], png, 10)).await;
    assert_eq!(refused.map_err(|e| e.status_code()), Err(403));
    let short = folder.receive_upload(put(path, query, png, 9)).await;
    assert_eq!(short.map_err(|e| e.status_code()), Err(403));
    let too_large = folder.receive_upload(put(path, query, png, max + 1)).await;
    assert_eq!(too_large.map_err(|e| e.status_code()), Err(413));
    assert!(store.blobs.head("media/a.png").await.unwrap().is_none(), "a refused upload stores nothing");
    let stored = folder.receive_upload(put(path, query, png, 10)).await.unwrap();
    assert_eq!(stored, BlobMeta { size: 10, content_type: png.map(str::to_owned) });
    assert_eq!(store.blobs.head("media/a.png").await.unwrap(), Some(stored));
}

#[tokio::test]
async fn embedded_downloads_are_refused_unless_they_match_their_signed_url() {
    let store = Family::Embedded.backend().await.blobs().await;
    let folder = store.folder().expect("the embedded family stores blobs in a folder");
    store.blobs.put("media/a.jpg", "image/jpeg", vec![1, 2, 3]).await.unwrap();
    let download = store.blobs.presign_download("media/a.jpg", FIVE_MINUTES).await.unwrap();
    let url = Url::parse(&download.url).unwrap();
    let (path, query) = (url.path(), url.query().unwrap());
    let get = |path, query| PresignedRequest {
        method: "GET",
        path,
        query,
        content_type: None,
        if_none_match: None,
        body: Vec::new(),
    };
    let now = OffsetDateTime::now_utc();

    assert_eq!(folder.verify(&get(path, query), now), Ok(()));
    assert_eq!(folder.verify(&get(path, query), download.expires_at), Err(Refused::Expired));
    let later = with_param(&url, "expires", &(download.expires_at.unix_timestamp() + 3600).to_string());
    assert_eq!(folder.verify(&get(path, &later), now), Err(Refused::BadSignature));
    let other = path.replace("a.jpg", "b.jpg");
    assert_eq!(folder.verify(&get(&other, query), now), Err(Refused::BadSignature));
    let served = folder.serve_download(get(path, query)).await.unwrap();
    assert_eq!(served, ("image/jpeg".to_owned(), vec![1, 2, 3]));
    let refused = folder.serve_download(get(path, &later)).await;
    assert_eq!(refused.map_err(|e| e.status_code()), Err(403));
}

async fn objects_created_under_a_notified_prefix_are_announced_on_its_queue(family: Family) {
    let backend = family.backend().await;
    let store = backend.blobs().await;
    let queue = backend.queue(None).await;
    store.notify("uploads/", queue.clone()).await;

    let key = "uploads/acc_1/01J ü";
    let upload = store.blobs.presign_upload(key, "image/png", 3, FIVE_MINUTES).await.unwrap();
    assert_eq!(store.upload(&upload, vec![1, 2, 3]).await, 200);
    store.blobs.put("uploads/acc_1/second", "image/png", vec![0; 5]).await.unwrap();
    // Outside the prefix: no announcement (the processor's outputs never trigger it).
    store.blobs.put("media/acc_1/01J/640.jpg", "image/jpeg", vec![0; 9]).await.unwrap();

    let mut announced = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while announced.len() < 2 && std::time::Instant::now() < deadline {
        for message in queue.receive(10, Duration::from_secs(30), Duration::from_secs(1)).await.unwrap() {
            announced.extend(huddle_ports::objects_created(&message.body).unwrap());
            queue.delete(&message.receipt_handle).await.unwrap();
        }
    }
    announced.sort_by(|a, b| a.key.cmp(&b.key));
    let expected = [(key, 3), ("uploads/acc_1/second", 5)]
        .map(|(key, size)| huddle_ports::ObjectCreated { key: key.into(), size });
    assert_eq!(announced, expected);
    let more = queue.receive(10, Duration::from_secs(30), Duration::from_millis(200)).await.unwrap();
    assert!(more.is_empty(), "nothing else was announced: {more:?}");
}
