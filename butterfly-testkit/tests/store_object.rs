//! The object store (`butterfly_core::store::object`) against a real S3-compatible server:
//! s3s-fs, served over HTTP on 127.0.0.1 by each test, with SigV4 authentication on. It passes
//! the conformance suite and the damage checks, keeps many writers apart, publishes a manifest
//! exactly once, pages through listings, and keeps its typed errors and secrets.
//!
//! The server (`butterfly_testkit::s3`) makes a conditional write's check and write one step
//! per key, as S3 does (s3s-fs alone does not), so that the concurrency tests measure the
//! store, not a race of the test server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use butterfly_core::snapshot::{BlobId, Manifest, SnapshotId};
use butterfly_core::store::{GC_GRACE, ObjectSnapshotStore, RecordName, SnapshotStore, StoreExt};
use butterfly_core::{ErrorKind, Result};
use butterfly_testkit::store_suite::{self, Tamper};
use butterfly_testkit::synthetic;
use futures::StreamExt;
use secrecy::SecretString;

use butterfly_testkit::s3::{ACCESS_KEY, BUCKET, S3Server as Server, SECRET_KEY};

/// A store whose objects tests can damage behind its back, through the server's directory.
struct Tampered {
    store: ObjectSnapshotStore,
    bucket_dir: PathBuf,
}

impl Tampered {
    fn flip(&self, key: impl AsRef<str>) {
        let path = self.bucket_dir.join(key.as_ref());
        let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
    }
}

impl Tamper for Tampered {
    fn flip_blob_byte(&self, id: &BlobId) {
        self.flip(self.store.blob_key(id));
    }
    fn flip_manifest_byte(&self, id: &SnapshotId) {
        self.flip(self.store.manifest_key(id));
    }
}

#[async_trait]
impl SnapshotStore for Tampered {
    fn describe(&self) -> String {
        self.store.describe()
    }
    async fn has_blob(&self, id: &BlobId) -> Result<bool> {
        self.store.has_blob(id).await
    }
    async fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        self.store.put_blob(id, bytes).await
    }
    async fn replace_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        self.store.replace_blob(id, bytes).await
    }
    async fn read_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        self.store.read_blob(id).await
    }
    async fn get_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        self.store.get_blob(id).await
    }
    async fn list_blobs(&self) -> Result<Vec<BlobId>> {
        self.store.list_blobs().await
    }
    async fn delete_blob(&self, id: &BlobId, min_age: Duration) -> Result<u64> {
        self.store.delete_blob(id, min_age).await
    }
    async fn put_manifest(&self, manifest: &Manifest) -> Result<()> {
        self.store.put_manifest(manifest).await
    }
    async fn get_manifest(&self, id: &SnapshotId) -> Result<Manifest> {
        self.store.get_manifest(id).await
    }
    async fn list_snapshot_ids(&self) -> Result<Vec<SnapshotId>> {
        self.store.list_snapshot_ids().await
    }
    async fn delete_manifest(&self, id: &SnapshotId) -> Result<()> {
        self.store.delete_manifest(id).await
    }
    async fn put_record(&self, name: &RecordName, bytes: &[u8]) -> Result<()> {
        self.store.put_record(name, bytes).await
    }
    async fn get_record(&self, name: &RecordName) -> Result<Option<Vec<u8>>> {
        self.store.get_record(name).await
    }
    async fn list_records(&self, prefix: &str) -> Result<Vec<RecordName>> {
        self.store.list_records(prefix).await
    }
    async fn delete_record(&self, name: &RecordName) -> Result<bool> {
        self.store.delete_record(name).await
    }
}

/// The same content as `snap` under a new id, `minutes` later.
fn later(snap: &butterfly_core::Snapshot, minutes: i64) -> butterfly_core::Snapshot {
    let mut copy = snap.clone();
    copy.meta.started_at += chrono::TimeDelta::minutes(minutes);
    copy.meta.finished_at = copy.meta.started_at;
    copy.meta.id = SnapshotId::generate("synthetic", copy.meta.started_at);
    copy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_conforms() {
    let server = Server::start().await.unwrap();
    store_suite::run_all(|| server.fresh()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_contains_damage() {
    let server = Server::start().await.unwrap();
    store_suite::run_damage(|| Tampered {
        store: server.fresh(),
        bucket_dir: server.dir().join(BUCKET),
    })
    .await;
}

/// Two tenants under two prefixes of one bucket never see each other's snapshots or records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefixes_keep_tenants_apart() {
    let server = Server::start().await.unwrap();
    let (a, b) = (server.store_at("okta/acme"), server.store_at("okta/acme-2"));
    let snap = synthetic::snapshot(100, 31);
    a.save(&snap).await.unwrap();
    a.put_record(&"holds/x".parse().unwrap(), b"held")
        .await
        .unwrap();
    assert!(b.list_snapshot_ids().await.unwrap().is_empty());
    assert!(b.list_blobs().await.unwrap().is_empty());
    assert!(b.list_records("").await.unwrap().is_empty());
    assert_eq!(
        b.collect_garbage(Duration::ZERO)
            .await
            .unwrap()
            .blobs_removed,
        0
    );
    assert_eq!(a.load(&snap.meta.id).await.unwrap(), snap);
    assert!(
        server
            .file_of(a.manifest_key(&snap.meta.id))
            .starts_with(server.dir().join(BUCKET).join("okta/acme/snapshots")),
        "objects live under the store's prefix"
    );
}

/// Two workers (two clients) save snapshots with the same blobs at the same moment, several
/// times over: every manifest is readable and the store verifies clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_of_the_same_blobs_corrupt_nothing() {
    let server = Server::start().await.unwrap();
    let (one, two) = (server.store_at("shared"), server.store_at("shared"));
    let base = synthetic::snapshot(4_000, 32);
    let mut saved = Vec::new();
    for round in 0..3 {
        // The same content under two ids: every blob is written by both workers at once.
        let (a, b) = (later(&base, round * 10), later(&base, round * 10 + 1));
        let (ra, rb) = tokio::join!(one.save(&a), two.save(&b));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(
            ra.new_blobs + ra.reused_blobs,
            rb.new_blobs + rb.reused_blobs,
            "both saw every blob"
        );
        saved.extend([a, b]);
    }
    for snap in &saved {
        assert_eq!(&one.load(&snap.meta.id).await.unwrap(), snap);
        assert_eq!(&two.load(&snap.meta.id).await.unwrap(), snap);
    }
    let check = one.verify_all().await.unwrap();
    assert!(check.is_clean(), "{check:?}");
    assert_eq!(check.snapshots, 6);
}

/// Two backups of one tenant at once, from two workers, with different content: both
/// snapshots are whole, `latest` is the newer one, and garbage collection running at the same
/// time (with the grace period) takes nothing either needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_backups_of_one_tenant_at_once() {
    let server = Server::start().await.unwrap();
    let (one, two, gc) = (
        server.store_at("okta/acme"),
        server.store_at("okta/acme"),
        server.store_at("okta/acme"),
    );
    let first = synthetic::snapshot(3_000, 33);
    one.save(&first).await.unwrap();
    let older = later(&synthetic::mutate(&first, 5.0, 34), 60);
    let newer = later(&synthetic::mutate(&first, 5.0, 35), 120);
    let (ra, rb, collected) = tokio::join!(
        one.save(&older),
        two.save(&newer),
        gc.collect_garbage(GC_GRACE)
    );
    ra.unwrap();
    rb.unwrap();
    assert_eq!(collected.unwrap().blobs_removed, 0);
    for snap in [&first, &older, &newer] {
        assert_eq!(&two.load(&snap.meta.id).await.unwrap(), snap);
    }
    let latest = one
        .latest("synthetic", &first.meta.tenant)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, newer.meta.id);
    let check = gc.verify_all().await.unwrap();
    assert!(check.is_clean(), "{check:?}");
    assert_eq!(check.snapshots, 3);
}

/// Two writers publish a manifest under the same id at once: exactly one wins, the other gets
/// `Conflict`, and the stored manifest is the winner's, never a mix or the loser's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_id_is_published_exactly_once() {
    let server = Server::start().await.unwrap();
    let (one, two) = (server.store_at("race"), server.store_at("race"));
    one.check_conditional_writes()
        .await
        .expect("the server refuses to overwrite on If-None-Match");
    for round in 0..20 {
        let a = synthetic::snapshot(20, 40 + round);
        let mut b = synthetic::snapshot(30, 140 + round);
        b.meta = a.meta.clone(); // same id, different content
        let (ea, eb) = (a.encode().unwrap(), b.encode().unwrap());
        for (id, bytes) in ea.blobs.iter().chain(&eb.blobs) {
            one.put_blob(id, bytes).await.unwrap();
        }
        let (ra, rb) = tokio::join!(
            one.put_manifest(&ea.manifest),
            two.put_manifest(&eb.manifest)
        );
        let winner = match (&ra, &rb) {
            (Ok(()), Err(e)) if e.kind() == ErrorKind::Conflict => &a,
            (Err(e), Ok(())) if e.kind() == ErrorKind::Conflict => &b,
            other => panic!("round {round}: not exactly one winner: {other:?}"),
        };
        assert_eq!(&one.load(&a.meta.id).await.unwrap(), winner);
        // A third, later writer cannot replace it either.
        assert_eq!(
            two.put_manifest(&ea.manifest).await.unwrap_err().kind(),
            ErrorKind::Conflict
        );
    }
    assert_eq!(one.list_snapshot_ids().await.unwrap().len(), 20);
}

/// S3 cannot touch an object, so reuse writes a marker: a blob a backup reuses is young again
/// for garbage collection, while an equally old orphan is collected (with its marker).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_old_blob_survives_garbage_collection() {
    let server = Server::start().await.unwrap();
    let store = server.fresh();
    let (kept, dropped) = (BlobId::of(b"reused"), BlobId::of(b"orphan"));
    store.put_blob(&kept, b"reused").await.unwrap();
    store.put_blob(&dropped, b"orphan").await.unwrap();
    // Age both blobs by two hours: s3s-fs reports a file's mtime as Last-Modified.
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    for id in [&kept, &dropped] {
        std::fs::File::options()
            .append(true)
            .open(server.file_of(store.blob_key(id)))
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }
    assert!(store.has_blob(&kept).await.unwrap(), "a backup reuses it");
    let report = store
        .collect_garbage(Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(report.blobs_removed, 1, "only the old orphan is collected");
    assert_eq!(report.bytes_freed, 6);
    assert!(store.has_blob(&kept).await.unwrap());
    assert!(!store.has_blob(&dropped).await.unwrap());
    // Collected for good, marker and all.
    assert_eq!(store.delete_blob(&kept, Duration::ZERO).await.unwrap(), 6);
    let reuse_dir = server.file_of(store.prefix()).join("reuse");
    let leftovers: Vec<PathBuf> = walk(&reuse_dir);
    assert!(leftovers.is_empty(), "markers left: {leftovers:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

/// More blobs and records than one S3 listing page (1,000 keys): listing and garbage
/// collection page through all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_page_past_a_thousand_keys() {
    let server = Server::start().await.unwrap();
    let store = server.fresh();
    let n = 1_100;
    futures::stream::iter(0..n)
        .map(|i| {
            let store = &store;
            async move {
                let bytes = format!("blob {i}").into_bytes();
                store.put_blob(&BlobId::of(&bytes), &bytes).await.unwrap();
                let name: RecordName = format!("journal/r{i:05}").parse().unwrap();
                store.put_record(&name, b"{}").await.unwrap();
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    assert_eq!(store.list_blobs().await.unwrap().len(), n);
    let records = store.list_records("journal/").await.unwrap();
    assert_eq!(records.len(), n);
    assert!(records.windows(2).all(|w| w[0] < w[1]), "sorted");
    assert_eq!(store.list_records("journal/r0105").await.unwrap().len(), 10);
    let report = store.collect_garbage(Duration::ZERO).await.unwrap();
    assert_eq!(
        report.blobs_removed, n,
        "every unreferenced blob, on every page"
    );
    assert!(store.list_blobs().await.unwrap().is_empty());
}

/// Bad credentials are `Auth` errors that never show the secret; a missing bucket is a
/// configuration error; a server that does not answer is `Transient`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_typed_and_keep_secrets() {
    let server = Server::start().await.unwrap();
    let wrong_secret = "wrong-secret-sentinel-51d2";
    let bad = ObjectSnapshotStore::builder(BUCKET)
        .endpoint(server.endpoint())
        .credentials(ACCESS_KEY, SecretString::from(wrong_secret))
        .max_retries(0)
        .build()
        .unwrap();
    let err = bad.list_snapshot_ids().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    let shown = format!("{err} {err:?} {bad:?} {}", bad.describe());
    assert!(shown.contains("AWS_SECRET_ACCESS_KEY"), "{shown}");
    for secret in [wrong_secret, SECRET_KEY] {
        assert!(!shown.contains(secret), "secret shown: {shown}");
    }
    let unknown = ObjectSnapshotStore::builder(BUCKET)
        .endpoint(server.endpoint())
        .credentials("AKIDNOBODY", SecretString::from(SECRET_KEY))
        .max_retries(0)
        .build()
        .unwrap();
    let err = unknown.has_blob(&BlobId::of(b"x")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");

    let no_bucket = ObjectSnapshotStore::builder("no-such-bucket")
        .endpoint(server.endpoint())
        .credentials(ACCESS_KEY, SecretString::from(SECRET_KEY))
        .build()
        .unwrap();
    let err = no_bucket.list(None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("bucket does not exist"), "{err}");

    // A port nothing listens on any more.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let down = ObjectSnapshotStore::builder(BUCKET)
        .endpoint(format!("http://{closed}"))
        .credentials(ACCESS_KEY, SecretString::from(SECRET_KEY))
        .max_retries(0)
        .build()
        .unwrap();
    let err = down
        .get_manifest(&"20260101T000000Z-okta-00000000".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(!err.is_retryable(), "object_store already retried");
}

/// Bytes changed on the server are never handed out as good, and a blob put under the wrong
/// address is refused before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_bytes_are_integrity_errors() {
    let server = Server::start().await.unwrap();
    let store = server.fresh();
    let blob = BlobId::of(b"payload");
    store.put_blob(&blob, b"payload").await.unwrap();
    std::fs::write(server.file_of(store.blob_key(&blob)), b"pAyload").unwrap();
    let err = store.get_blob(&blob).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(err.to_string().contains(blob.as_str()), "{err}");
    store.replace_blob(&blob, b"payload").await.unwrap();
    assert_eq!(store.get_blob(&blob).await.unwrap(), b"payload");
    assert_eq!(
        store
            .replace_blob(&blob, b"other")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Integrity
    );
}

/// `from_url` (what the CLI's `--store s3://bucket/prefix` calls) reads the endpoint and the
/// credentials from the environment. The environment is set for a child process running
/// [`from_url_child`], never changed in this one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_url_reads_the_environment() {
    let server = Server::start().await.unwrap();
    let prefix = "cli/okta/acme";
    let seeded = server.store_at(prefix);
    let snap = synthetic::snapshot(50, 36);
    seeded.save(&snap).await.unwrap();
    let run = |endpoint_var: &str, secret: &str| {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "from_url_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("BUTTERFLY_TEST_FROM_URL", format!("s3://{BUCKET}/{prefix}"))
            .env("BUTTERFLY_TEST_EXPECT", snap.meta.id.as_str())
            .env_remove("BUTTERFLY_S3_ENDPOINT")
            .env_remove("AWS_ENDPOINT_URL")
            .env(endpoint_var, server.endpoint())
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_REGION", "eu-central-1")
            .output()
            .unwrap()
    };
    for var in ["BUTTERFLY_S3_ENDPOINT", "AWS_ENDPOINT_URL"] {
        let out = run(var, SECRET_KEY);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{var}: {text}");
        assert!(
            text.contains("from_url: found"),
            "{var}: the child ran: {text}"
        );
    }
    let out = run("BUTTERFLY_S3_ENDPOINT", "not-the-secret-3e1f");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "wrong secret must fail: {text}");
    assert!(text.contains("from_url: auth error"), "{text}");
    assert!(!text.contains("not-the-secret-3e1f"), "{text}");
}

/// Runs only as the child of [`from_url_reads_the_environment`].
#[tokio::test]
async fn from_url_child() {
    let Ok(url) = std::env::var("BUTTERFLY_TEST_FROM_URL") else {
        return;
    };
    let expect: SnapshotId = std::env::var("BUTTERFLY_TEST_EXPECT")
        .unwrap()
        .parse()
        .unwrap();
    let store = ObjectSnapshotStore::from_url(&url).unwrap();
    println!("from_url: {}", store.describe());
    match store.list(None).await {
        Ok(list) => {
            assert_eq!(list.len(), 1);
            assert_eq!(list[0].id, expect);
            store.verify(&expect).await.unwrap();
            println!("from_url: found {}", list[0].id);
        }
        Err(e) => {
            println!("from_url: {} error: {e}", e.kind());
            panic!("listing failed");
        }
    }
}
