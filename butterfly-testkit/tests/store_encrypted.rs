//! The encrypted store passes the store conformance and damage suites over the memory and
//! filesystem stores and over the object store (against s3s-fs on 127.0.0.1), and keeps its promises: a flipped byte, a swapped blob and a wrong key
//! are typed errors naming the object; no plaintext reaches the disk; stores with different
//! keys share no object name; rekey keeps snapshot ids and retires the old key; the key never
//! shows in `Debug` or error text.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use butterfly_core::snapshot::{BlobId, Manifest, SnapshotId};
use butterfly_core::store::encrypted::StaticKeys;
use butterfly_core::store::{
    BlobProblem, EncryptedStore, FsStore, MemoryStore, ObjectSnapshotStore, RecordName,
    SnapshotStore, StoreExt, StoreKey,
};
use butterfly_core::{ErrorKind, ResourceKind, Result, Snapshot};
use butterfly_testkit::store_suite::{self, Tamper};
use butterfly_testkit::synthetic;

/// An encrypted store the damage suite can tamper with behind its back.
struct Tampered<S>(EncryptedStore<S>);

/// Flips a byte of an inner store's record.
trait FlipRecord {
    fn flip_record(&self, name: &RecordName);
}

fn flip_middle(bytes: &mut [u8]) {
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
}

/// Runs a future to completion from synchronous code inside a test's runtime: on a
/// multi-threaded runtime (the object store needs its I/O driver) through `block_in_place`.
fn block<T>(fut: impl std::future::Future<Output = T>) -> T {
    let handle = tokio::runtime::Handle::current();
    match handle.runtime_flavor() {
        tokio::runtime::RuntimeFlavor::CurrentThread => futures::executor::block_on(fut),
        _ => tokio::task::block_in_place(|| handle.block_on(fut)),
    }
}

/// Flips a byte of a record through the store's own API.
async fn flip_through_api<S: SnapshotStore>(store: &S, name: &RecordName) {
    let mut bytes = store.get_record(name).await.unwrap().expect("record");
    flip_middle(&mut bytes);
    store.put_record(name, &bytes).await.unwrap();
}

impl FlipRecord for MemoryStore {
    fn flip_record(&self, name: &RecordName) {
        block(flip_through_api(self, name))
    }
}

impl FlipRecord for ObjectSnapshotStore {
    fn flip_record(&self, name: &RecordName) {
        block(flip_through_api(self, name))
    }
}

fn record_path(store: &FsStore, name: &RecordName) -> PathBuf {
    let mut path = store.root().join("records");
    path.extend(name.segments());
    path
}

impl FlipRecord for FsStore {
    fn flip_record(&self, name: &RecordName) {
        let path = record_path(self, name);
        let mut bytes = std::fs::read(&path).unwrap();
        flip_middle(&mut bytes);
        std::fs::write(&path, bytes).unwrap();
    }
}

impl<S: SnapshotStore + FlipRecord> Tamper for Tampered<S> {
    fn flip_blob_byte(&self, id: &BlobId) {
        self.0
            .inner()
            .flip_record(&self.0.blob_location(id).unwrap());
    }
    fn flip_manifest_byte(&self, id: &SnapshotId) {
        let name = block(self.0.manifest_location(id)).unwrap();
        self.0.inner().flip_record(&name);
    }
}

#[async_trait]
impl<S: SnapshotStore> SnapshotStore for Tampered<S> {
    fn describe(&self) -> String {
        self.0.describe()
    }
    async fn has_blob(&self, id: &BlobId) -> Result<bool> {
        self.0.has_blob(id).await
    }
    async fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        self.0.put_blob(id, bytes).await
    }
    async fn replace_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        self.0.replace_blob(id, bytes).await
    }
    async fn read_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        self.0.read_blob(id).await
    }
    async fn list_blobs(&self) -> Result<Vec<BlobId>> {
        self.0.list_blobs().await
    }
    async fn delete_blob(&self, id: &BlobId, min_age: Duration) -> Result<u64> {
        self.0.delete_blob(id, min_age).await
    }
    async fn put_manifest(&self, manifest: &Manifest) -> Result<()> {
        self.0.put_manifest(manifest).await
    }
    async fn get_manifest(&self, id: &SnapshotId) -> Result<Manifest> {
        self.0.get_manifest(id).await
    }
    async fn list_snapshot_ids(&self) -> Result<Vec<SnapshotId>> {
        self.0.list_snapshot_ids().await
    }
    async fn delete_manifest(&self, id: &SnapshotId) -> Result<()> {
        self.0.delete_manifest(id).await
    }
    async fn put_record(&self, name: &RecordName, bytes: &[u8]) -> Result<()> {
        self.0.put_record(name, bytes).await
    }
    async fn get_record(&self, name: &RecordName) -> Result<Option<Vec<u8>>> {
        self.0.get_record(name).await
    }
    async fn list_records(&self, prefix: &str) -> Result<Vec<RecordName>> {
        self.0.list_records(prefix).await
    }
    async fn delete_record(&self, name: &RecordName) -> Result<bool> {
        self.0.delete_record(name).await
    }
}

/// Fresh filesystem stores whose directories live as long as the factory.
#[derive(Default)]
struct Dirs(Mutex<Vec<tempfile::TempDir>>);

impl Dirs {
    fn fs(&self) -> FsStore {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::open(dir.path()).unwrap();
        self.0.lock().unwrap().push(dir);
        store
    }
}

#[tokio::test]
async fn encrypted_memory_store_conforms() {
    store_suite::run_all(|| EncryptedStore::new(MemoryStore::new(), StoreKey::generate())).await;
}

#[tokio::test]
async fn encrypted_fs_store_conforms() {
    let dirs = Dirs::default();
    store_suite::run_all(|| EncryptedStore::new(dirs.fs(), StoreKey::generate())).await;
}

#[tokio::test]
async fn encrypted_memory_store_contains_damage() {
    store_suite::run_damage(|| {
        Tampered(EncryptedStore::new(
            MemoryStore::new(),
            StoreKey::generate(),
        ))
    })
    .await;
}

#[tokio::test]
async fn encrypted_fs_store_contains_damage() {
    let dirs = Dirs::default();
    store_suite::run_damage(|| Tampered(EncryptedStore::new(dirs.fs(), StoreKey::generate())))
        .await;
}

/// Every file under `dir`, recursively (none if there is no such directory).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The files under `dir` whose bytes or path contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
                || p.to_string_lossy()
                    .as_bytes()
                    .windows(needle.len())
                    .any(|w| w == needle)
        })
        .collect()
}

/// The first blob of a kind of a stored snapshot.
async fn first_blob<S: SnapshotStore>(store: &S, id: &SnapshotId, kind: &str) -> BlobId {
    store.get_manifest(id).await.unwrap().kinds[kind].chunks[0]
        .blob
        .clone()
}

#[tokio::test]
async fn a_flipped_byte_is_an_integrity_error_naming_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let store = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), StoreKey::generate());
    let snap = synthetic::snapshot(500, 31);
    let sid = &snap.meta.id;
    store.save(&snap).await.unwrap();
    let record: RecordName = "holds/x".parse().unwrap();
    store.put_record(&record, b"on hold").await.unwrap();

    let blob = first_blob(&store, sid, synthetic::USER.id()).await;
    store
        .inner()
        .flip_record(&store.blob_location(&blob).unwrap());
    let err = store.load(sid).await.map(|_| ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(blob.as_str()) && text.contains(sid.as_str()),
        "{text}"
    );
    let check = store.verify_all().await.unwrap();
    assert_eq!(check.damaged_blobs.len(), 1, "{check:?}");
    assert_eq!(check.damaged_blobs[0].blob, blob);
    assert_eq!(check.damaged_blobs[0].problem, BlobProblem::Corrupt);

    store
        .inner()
        .flip_record(&store.manifest_location(sid).await.unwrap());
    let err = store.get_manifest(sid).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    assert!(err.to_string().contains(sid.as_str()), "{err}");

    let location = store.record_location(&record).unwrap();
    store.inner().flip_record(&location);
    let err = store.get_record(&record).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    assert!(err.to_string().contains("record holds/x"), "{err}");

    // A truncated object is an error too, not a panic.
    std::fs::write(record_path(store.inner(), &location), b"BFYE").unwrap();
    assert_eq!(
        store.get_record(&record).await.unwrap_err().kind(),
        ErrorKind::Integrity
    );
}

#[tokio::test]
async fn a_swapped_blob_fails_to_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let store = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), StoreKey::generate());
    let snap = synthetic::snapshot(500, 32);
    let sid = &snap.meta.id;
    store.save(&snap).await.unwrap();
    let users = first_blob(&store, sid, synthetic::USER.id()).await;
    let groups = first_blob(&store, sid, synthetic::GROUP.id()).await;
    let (a, b) = (
        record_path(store.inner(), &store.blob_location(&users).unwrap()),
        record_path(store.inner(), &store.blob_location(&groups).unwrap()),
    );
    let (bytes_a, bytes_b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    std::fs::write(&a, &bytes_b).unwrap();
    std::fs::write(&b, &bytes_a).unwrap();

    let err = store.read_blob(&users).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    assert!(err.to_string().contains(users.as_str()), "{err}");
    let err = store.load(sid).await.map(|_| ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    let check = store.verify_all().await.unwrap();
    let damaged: BTreeSet<_> = check.damaged_blobs.iter().map(|d| d.blob.clone()).collect();
    assert_eq!(damaged, BTreeSet::from([users, groups]));
    // A manifest's content moved to another snapshot's place fails as well.
    let other = synthetic::snapshot(50, 33);
    store.save(&other).await.unwrap();
    let (m1, m2) = (
        record_path(store.inner(), &store.manifest_location(sid).await.unwrap()),
        record_path(
            store.inner(),
            &store.manifest_location(&other.meta.id).await.unwrap(),
        ),
    );
    std::fs::copy(&m1, &m2).unwrap();
    let err = store.get_manifest(&other.meta.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    assert!(err.to_string().contains(other.meta.id.as_str()), "{err}");
}

#[tokio::test]
async fn a_wrong_key_is_a_typed_error_naming_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let right = StoreKey::from_bytes([0x5a; 32]);
    let wrong = StoreKey::from_bytes([0xc3; 32]);
    // The keys as hex, as base64 and as byte arrays.
    let secrets = [
        "5a".repeat(32),
        "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=".to_string(),
        "90, 90, 90".to_string(),
        "c3".repeat(32),
        "w8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8M=".to_string(),
        "195, 195, 195".to_string(),
    ];
    let store = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), right.clone());
    let snap = synthetic::snapshot(300, 34);
    let sid = &snap.meta.id;
    store.save(&snap).await.unwrap();
    let record: RecordName = "journal/run-1".parse().unwrap();
    store.put_record(&record, b"{}").await.unwrap();
    let blob = first_blob(&store, sid, synthetic::USER.id()).await;
    let blob_file = record_path(store.inner(), &store.blob_location(&blob).unwrap());

    let other = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), wrong.clone());
    let mut texts = vec![format!("{right:?}"), format!("{store:?}"), store.describe()];
    for err in [
        other.get_manifest(sid).await.unwrap_err(),
        other.load(sid).await.map(|_| ()).unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        let text = err.to_string();
        assert!(text.contains(sid.as_str()), "{text}");
        assert!(
            text.contains(&right.id().to_string()) && text.contains(&wrong.id().to_string()),
            "{text}"
        );
        texts.push(text);
        texts.push(format!("{err:?}"));
    }
    let err = other.get_record(&record).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("record journal/run-1"), "{err}");
    texts.push(err.to_string());
    // A blob encrypted with the right key where the wrong key looks for it.
    let wrong_place = record_path(other.inner(), &other.blob_location(&blob).unwrap());
    std::fs::create_dir_all(wrong_place.parent().unwrap()).unwrap();
    std::fs::copy(&blob_file, &wrong_place).unwrap();
    let err = other.read_blob(&blob).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains(blob.as_str()), "{err}");
    texts.push(err.to_string());
    std::fs::remove_file(&wrong_place).unwrap();
    // The wrong key sees the snapshot as damaged, so garbage collection deletes nothing.
    let listing = other.list_checked(None).await.unwrap();
    assert!(listing.snapshots.is_empty());
    assert_eq!(listing.damaged[0].error_kind, ErrorKind::Config);
    let before = files(dir.path()).len();
    assert!(other.collect_garbage(Duration::ZERO).await.is_err());
    assert_eq!(files(dir.path()).len(), before, "nothing deleted");
    // The right key still reads everything.
    assert_eq!(store.load(sid).await.unwrap(), snap);
    for text in &texts {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "key in {text}");
        }
    }
}

const SENTINEL: &str = "SENTINEL-plaintext-8c1f3e";

/// A synthetic snapshot with the sentinel in a user's profile and in the tenant's name.
fn with_sentinel(seed: u64) -> Snapshot {
    let mut snap = synthetic::snapshot(300, seed);
    snap.meta.tenant = format!("{SENTINEL}.example.com");
    let users = snap.kinds.get_mut(synthetic::USER.id()).unwrap();
    let user = &mut users.resources[7];
    Arc::make_mut(&mut user.body)["profile"]["nickName"] = serde_json::json!(SENTINEL);
    user.refresh(&synthetic::USER);
    snap
}

#[tokio::test]
async fn no_plaintext_reaches_the_disk() {
    let snap = with_sentinel(35);
    let record: RecordName = "holds/sentinel".parse().unwrap();
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = FsStore::open(plain_dir.path()).unwrap();
    plain.save(&snap).await.unwrap();
    plain
        .put_record(&record, SENTINEL.as_bytes())
        .await
        .unwrap();
    // The control: a plain store does hold the sentinel, so the scan below can fail.
    assert!(files_containing(plain_dir.path(), SENTINEL.as_bytes()).len() >= 3);

    let dir = tempfile::tempdir().unwrap();
    let store = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), StoreKey::generate());
    let saved = store.save(&snap).await.unwrap();
    store
        .put_record(&record, SENTINEL.as_bytes())
        .await
        .unwrap();
    assert!(saved.new_blobs > 1);
    assert_eq!(store.load(&snap.meta.id).await.unwrap(), snap);
    let leaks = files_containing(dir.path(), SENTINEL.as_bytes());
    assert!(leaks.is_empty(), "plaintext in {leaks:?}");
    // Neither do the plain content addresses (they would reveal equal chunks).
    let manifest = store.get_manifest(&snap.meta.id).await.unwrap();
    for blob in manifest.blobs() {
        let leaks = files_containing(dir.path(), blob.as_str().as_bytes());
        assert!(leaks.is_empty(), "blob id {blob} in {leaks:?}");
    }
    for word in ["synthetic.user", "First7", "00u00000000000000007"] {
        assert!(
            files_containing(dir.path(), word.as_bytes()).is_empty(),
            "{word} at rest"
        );
        assert!(!files_containing(plain_dir.path(), word.as_bytes()).is_empty());
    }
}

/// The names of the blob objects of an encrypted filesystem store, without the key id part.
fn blob_object_names(root: &Path) -> BTreeSet<String> {
    files(&root.join("records/enc/blobs"))
        .iter()
        .map(|p| {
            let parent = p.parent().unwrap().file_name().unwrap().to_string_lossy();
            format!("{parent}{}", p.file_name().unwrap().to_string_lossy())
        })
        .collect()
}

#[tokio::test]
async fn stores_with_different_keys_share_no_object_name() {
    let snap = synthetic::snapshot(2_000, 36);
    let key = StoreKey::generate();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let keys = [key.clone(), StoreKey::generate(), key];
    for (dir, key) in dirs.iter().zip(keys) {
        let store = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), key);
        store.save(&snap).await.unwrap();
    }
    let names: Vec<_> = dirs.iter().map(|d| blob_object_names(d.path())).collect();
    assert!(names[0].len() > 10);
    assert!(
        names[0].is_disjoint(&names[1]),
        "two keys, one shared object name"
    );
    // The same key gives the same names: deduplication inside a store depends on it.
    assert_eq!(names[0], names[2]);
    let plain: BTreeSet<String> = snap
        .encode()
        .unwrap()
        .blobs
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    assert!(names[0].is_disjoint(&plain));
}

/// Every encrypted object's key id (bytes 6..14 of its header) under `root`.
fn key_ids_at_rest(root: &Path) -> BTreeSet<String> {
    ["blobs", "manifests", "records"]
        .iter()
        .flat_map(|area| files(&root.join("records/enc").join(area)))
        .map(|p| {
            std::fs::read(p).unwrap()[6..14]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn rekey_keeps_snapshot_ids_and_retires_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (StoreKey::generate(), StoreKey::generate());
    let store = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), old.clone());
    let first = synthetic::snapshot(1_000, 37);
    let second = synthetic::mutate(&first, 5.0, 38);
    for s in [&first, &second] {
        store.save(s).await.unwrap();
    }
    let record: RecordName = "holds/first".parse().unwrap();
    store.put_record(&record, b"reason").await.unwrap();
    let ids = store.list_snapshot_ids().await.unwrap();
    let blobs = store.list_blobs().await.unwrap();

    let report = store.rekey(new.clone()).await.unwrap();
    assert_eq!(report.snapshots, 2);
    assert_eq!(report.blobs, blobs.len());
    assert_eq!(report.old_objects_removed, blobs.len());
    assert_eq!(report.records, 1);
    assert_eq!(report.old_keys, vec![old.id()]);
    assert_eq!(report.new_key, new.id());
    assert_eq!(store.key_id(), new.id());
    assert_eq!(
        key_ids_at_rest(dir.path()),
        BTreeSet::from([new.id().to_string()])
    );

    let reopened = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), new.clone());
    assert_eq!(reopened.list_snapshot_ids().await.unwrap(), ids);
    assert_eq!(reopened.list_blobs().await.unwrap(), blobs);
    assert_eq!(reopened.load(&first.meta.id).await.unwrap(), first);
    assert_eq!(reopened.load(&second.meta.id).await.unwrap(), second);
    assert_eq!(
        reopened.get_record(&record).await.unwrap().as_deref(),
        Some(&b"reason"[..])
    );
    assert!(reopened.verify_all().await.unwrap().is_clean());
    // Deduplication goes on under the new names.
    let again = synthetic::mutate(&first, 0.0, 39);
    assert_eq!(reopened.save(&again).await.unwrap().new_blobs, 0);

    let with_old = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), old.clone());
    let err = with_old.load(&first.meta.id).await.map(|_| ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(with_old.list_blobs().await.unwrap().is_empty());
    // A second rekey to the same key has nothing left to do.
    let report = reopened.rekey(new).await.unwrap();
    assert_eq!(
        (report.snapshots, report.blobs, report.records),
        (0, 0, 0),
        "{report:?}"
    );
}

#[tokio::test]
async fn a_provider_reads_objects_of_an_older_key_until_rekey() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (StoreKey::generate(), StoreKey::generate());
    let before = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), old.clone());
    let first = synthetic::snapshot(1_000, 40);
    before.save(&first).await.unwrap();

    // The KMS rotated: the current key is new, the old one is still available by id.
    let provider = Arc::new(StaticKeys::new(new.clone()).with_previous(old.clone()));
    let store = EncryptedStore::with_provider(FsStore::open(dir.path()).unwrap(), provider)
        .await
        .unwrap();
    assert_eq!(store.key_id(), new.id());
    assert_eq!(store.load(&first.meta.id).await.unwrap(), first);
    let second = synthetic::mutate(&first, 1.0, 41);
    store.save(&second).await.unwrap();
    assert_eq!(store.load(&second.meta.id).await.unwrap(), second);
    assert!(store.verify_all().await.unwrap().is_clean());
    // Garbage collection sees the blobs of both keys and keeps what either snapshot uses.
    store.collect_garbage(Duration::ZERO).await.unwrap();
    assert_eq!(store.load(&first.meta.id).await.unwrap(), first);
    assert_eq!(
        key_ids_at_rest(dir.path()),
        BTreeSet::from([old.id().to_string(), new.id().to_string()])
    );

    let report = store.rekey(new.clone()).await.unwrap();
    assert_eq!(report.old_keys, vec![old.id()]);
    assert_eq!(report.snapshots, 1, "only the old snapshot needed it");
    let only_new = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), new.clone());
    assert_eq!(only_new.load(&first.meta.id).await.unwrap(), first);
    assert_eq!(only_new.load(&second.meta.id).await.unwrap(), second);
    assert_eq!(
        key_ids_at_rest(dir.path()),
        BTreeSet::from([new.id().to_string()])
    );
}

#[tokio::test]
async fn rekey_refuses_a_damaged_store_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let old = StoreKey::generate();
    let store = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), old.clone());
    let snap = synthetic::snapshot(300, 42);
    store.save(&snap).await.unwrap();
    store
        .inner()
        .flip_record(&store.manifest_location(&snap.meta.id).await.unwrap());
    let files_before = files(dir.path());
    let err = store.rekey(StoreKey::generate()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    assert!(err.to_string().contains(snap.meta.id.as_str()), "{err}");
    assert_eq!(files(dir.path()), files_before);
    assert_eq!(store.key_id(), old.id());
}

#[tokio::test]
async fn an_interrupted_rekey_goes_on_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (StoreKey::generate(), StoreKey::generate());
    let store = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), old.clone());
    let first = synthetic::snapshot(1_000, 43);
    store.save(&first).await.unwrap();
    let blobs = store.list_blobs().await.unwrap().len();
    let damaged = first_blob(&store, &first.meta.id, synthetic::GROUP.id()).await;
    store
        .inner()
        .flip_record(&store.blob_location(&damaged).unwrap());

    // A damaged blob a snapshot uses stops rekey before any manifest changes key.
    let err = store.rekey(new.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(damaged.as_str()) && text.contains(first.meta.id.as_str()),
        "{text}"
    );
    assert_eq!(store.key_id(), old.id());
    assert_eq!(
        key_ids_at_rest(dir.path()),
        BTreeSet::from([old.id().to_string(), new.id().to_string()]),
        "new copies beside the old ones"
    );
    // Still a store of the old key: a new backup repairs the damaged blob.
    let later = synthetic::mutate(&first, 0.0, 44);
    assert_eq!(store.save(&later).await.unwrap().repaired_blobs, 1);

    let report = store.rekey(new.clone()).await.unwrap();
    assert_eq!(
        report.blobs, 1,
        "only the repaired blob was left: {report:?}"
    );
    assert_eq!(report.snapshots, 2);
    assert_eq!(report.old_objects_removed, blobs);
    let only_new = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), new.clone());
    assert_eq!(only_new.load(&first.meta.id).await.unwrap(), first);
    assert_eq!(only_new.load(&later.meta.id).await.unwrap(), later);
    assert_eq!(
        key_ids_at_rest(dir.path()),
        BTreeSet::from([new.id().to_string()])
    );
}

/// Sets the `touched` field of every encrypted blob under `root` to `secs_ago` seconds ago.
fn age_blobs(root: &Path, secs_ago: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for path in files(&root.join("records/enc/blobs")) {
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[14..22].copy_from_slice(&(now - secs_ago).to_be_bytes());
        std::fs::write(&path, bytes).unwrap();
    }
}

/// Sets the reuse marker of every blob under `root` to `secs_ago` seconds ago.
fn age_markers(root: &Path, secs_ago: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for path in files(&root.join("records/enc/reused")) {
        std::fs::write(&path, (now - secs_ago).to_be_bytes()).unwrap();
    }
}

#[tokio::test]
async fn garbage_collection_keeps_young_and_reused_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let store = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), StoreKey::generate());
    let (kept, dropped) = (BlobId::of(b"reused"), BlobId::of(b"orphan"));
    store.put_blob(&kept, b"reused").await.unwrap();
    store.put_blob(&dropped, b"orphan").await.unwrap();
    let hour = Duration::from_secs(3600);
    // Young: nothing is collected.
    assert_eq!(store.collect_garbage(hour).await.unwrap().blobs_removed, 0);
    age_blobs(dir.path(), 7200);
    let kept_file = record_path(store.inner(), &store.blob_location(&kept).unwrap());
    let stored = std::fs::read(&kept_file).unwrap();
    // A backup finds `kept` stored and will refer to it: its age restarts, through a reuse
    // marker, without rewriting the blob.
    assert!(store.has_blob(&kept).await.unwrap());
    assert_eq!(std::fs::read(&kept_file).unwrap(), stored);
    assert_eq!(files(&dir.path().join("records/enc/reused")).len(), 1);
    let report = store.collect_garbage(hour).await.unwrap();
    assert_eq!(report.blobs_removed, 1, "only the old orphan is collected");
    assert!(report.bytes_freed > 0);
    assert_eq!(store.list_blobs().await.unwrap(), vec![kept.clone()]);
    assert_eq!(store.get_blob(&kept).await.unwrap(), b"reused");
    // Once the reuse is old too, the unreferenced blob and its marker go.
    age_markers(dir.path(), 7200);
    assert_eq!(store.collect_garbage(hour).await.unwrap().blobs_removed, 1);
    assert!(store.list_blobs().await.unwrap().is_empty());
    assert!(files(&dir.path().join("records/enc/reused")).is_empty());
}

#[tokio::test]
async fn two_writers_with_one_key_share_blobs_without_harm() {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::generate();
    let a = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), key.clone());
    let b = EncryptedStore::new(FsStore::open(dir.path()).unwrap(), key);
    let first = synthetic::snapshot(2_000, 45);
    let second = synthetic::mutate(&first, 1.0, 46);
    // Both write most of the same blobs at once, each with its own nonces.
    let (ra, rb) = tokio::join!(a.save(&first), b.save(&second));
    ra.unwrap();
    rb.unwrap();
    for store in [&a, &b] {
        assert_eq!(store.load(&first.meta.id).await.unwrap(), first);
        assert_eq!(store.load(&second.meta.id).await.unwrap(), second);
        assert!(store.verify_all().await.unwrap().is_clean());
    }
}

use butterfly_testkit::s3::S3Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_object_store_conforms() {
    let server = S3Server::start().await.unwrap();
    store_suite::run_all(|| EncryptedStore::new(server.fresh(), StoreKey::generate())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_object_store_contains_damage() {
    let server = S3Server::start().await.unwrap();
    store_suite::run_damage(|| Tampered(EncryptedStore::new(server.fresh(), StoreKey::generate())))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_reaches_the_bucket() {
    let server = S3Server::start().await.unwrap();
    let snap = with_sentinel(47);
    let plain = server.fresh();
    plain.save(&snap).await.unwrap();
    let bucket = server.dir().join(butterfly_testkit::s3::BUCKET);
    // The control: the plain object store's objects hold the sentinel.
    let in_plain = files_containing(&bucket, SENTINEL.as_bytes());
    assert!(!in_plain.is_empty());
    let store = EncryptedStore::new(server.fresh(), StoreKey::generate());
    store.save(&snap).await.unwrap();
    assert_eq!(store.load(&snap.meta.id).await.unwrap(), snap);
    let rekeyed = store.rekey(StoreKey::generate()).await.unwrap();
    assert!(rekeyed.blobs > 1);
    assert_eq!(store.load(&snap.meta.id).await.unwrap(), snap);
    assert_eq!(
        files_containing(&bucket, SENTINEL.as_bytes()),
        in_plain,
        "only the plain store's objects hold the sentinel"
    );
}
