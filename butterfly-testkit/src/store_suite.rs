//! The store conformance suite: every [`SnapshotStore`] must pass it.
//!
//! ```no_run
//! # async fn demo() {
//! use butterfly_core::store::MemoryStore;
//! butterfly_testkit::store_suite::run_all(|| MemoryStore::new()).await;
//! // A store that tests can damage behind its back also runs the damage checks.
//! butterfly_testkit::store_suite::run_damage(|| MemoryStore::new()).await;
//! # }
//! ```

use std::path::PathBuf;
use std::time::Duration;

use butterfly_core::snapshot::{BlobId, KindOutcome, SnapshotId};
use butterfly_core::store::{BlobProblem, FsStore, MemoryStore, SnapshotStore, StoreExt};
use butterfly_core::{ErrorKind, ResourceKind, SnapshotStatus};

use crate::synthetic;

/// Runs every check, each on a fresh store from `make`; panics naming the failed check.
pub async fn run_all<S: SnapshotStore>(make: impl Fn() -> S) {
    round_trip(&make()).await;
    dedup(&make()).await;
    listing(&make()).await;
    latest_skips_failed(&make()).await;
    delete_collects_garbage(&make()).await;
    errors(&make()).await;
    missing_blob_is_integrity(&make()).await;
    records(&make()).await;
}

/// Damages stored objects behind a store's back, for [`run_damage`].
pub trait Tamper {
    /// Flips one bit of a stored blob.
    fn flip_blob_byte(&self, id: &BlobId);
    /// Flips one bit of a stored manifest.
    fn flip_manifest_byte(&self, id: &SnapshotId);
}

fn flip_middle(bytes: &mut [u8]) {
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
}

impl Tamper for MemoryStore {
    fn flip_blob_byte(&self, id: &BlobId) {
        assert!(self.tamper_blob(id, |b| flip_middle(b)), "no blob {id}");
    }
    fn flip_manifest_byte(&self, id: &SnapshotId) {
        assert!(
            self.tamper_manifest(id, |b| flip_middle(b)),
            "no snapshot {id}"
        );
    }
}

fn flip_file(path: PathBuf) {
    let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    flip_middle(&mut bytes);
    std::fs::write(&path, bytes).expect("write back");
}

impl Tamper for FsStore {
    fn flip_blob_byte(&self, id: &BlobId) {
        let hex = id.as_str();
        flip_file(self.root().join("blobs").join(&hex[..2]).join(&hex[2..]));
    }
    fn flip_manifest_byte(&self, id: &SnapshotId) {
        flip_file(self.root().join("snapshots").join(format!("{id}.json")));
    }
}

/// Runs the damage checks, each on a fresh store from `make`: a corrupt blob is repaired by the
/// next backup, a damaged manifest hides only its snapshot, a damaged blob spoils only its
/// kinds, and `verify_all` reports every damaged object.
pub async fn run_damage<S: SnapshotStore + Tamper>(make: impl Fn() -> S) {
    repair_on_reuse(&make()).await;
    damaged_manifest_is_contained(&make()).await;
    salvage_intact_kinds(&make()).await;
    verify_all_reports_everything(&make()).await;
}

/// The same content as `snap` under a new id, `hours` later.
fn later(snap: &butterfly_core::Snapshot, hours: i64) -> butterfly_core::Snapshot {
    let mut copy = snap.clone();
    copy.meta.started_at += chrono::TimeDelta::hours(hours);
    copy.meta.finished_at = copy.meta.started_at;
    copy.meta.id = SnapshotId::generate("synthetic", copy.meta.started_at);
    copy
}

/// The first blob of a kind of a stored snapshot.
async fn first_blob<S: SnapshotStore>(store: &S, id: &SnapshotId, kind: &str) -> BlobId {
    store.get_manifest(id).await.expect("manifest").kinds[kind].chunks[0]
        .blob
        .clone()
}

/// A backup that needs a stored blob which is corrupt writes a good copy instead of reusing it.
pub async fn repair_on_reuse<S: SnapshotStore + Tamper>(store: &S) {
    let first = synthetic::snapshot(500, 21);
    let saved = store.save(&first).await.expect("save first");
    let blob = first_blob(store, &first.meta.id, synthetic::GROUP.id()).await;
    store.flip_blob_byte(&blob);
    let second = later(&first, 24);
    let report = store.save(&second).await.expect("save second");
    assert_eq!(
        report.repaired_blobs, 1,
        "the corrupt blob is repaired: {report:?}"
    );
    assert_eq!(report.reused_blobs, saved.new_blobs - 1);
    assert_eq!(
        store
            .load(&second.meta.id)
            .await
            .expect("new snapshot loads"),
        second
    );
    assert_eq!(
        store
            .load(&first.meta.id)
            .await
            .expect("old snapshot whole again"),
        first
    );
}

/// A damaged manifest is reported by `list_checked`, skipped by `list` and `latest`, and stops
/// garbage collection from deleting anything.
pub async fn damaged_manifest_is_contained<S: SnapshotStore + Tamper>(store: &S) {
    let oldest = synthetic::snapshot(200, 22);
    let newest = later(&oldest, 2);
    let mut other = later(&oldest, 1);
    other.meta.provider = "other".into();
    for s in [&oldest, &other, &newest] {
        store.save(s).await.expect("save");
    }
    store.flip_manifest_byte(&oldest.meta.id);
    let listing = store.list_checked(None).await.expect("list_checked");
    assert_eq!(listing.snapshots.len(), 2);
    assert_eq!(
        listing.damaged.iter().map(|d| &d.id).collect::<Vec<_>>(),
        [&oldest.meta.id]
    );
    assert_eq!(listing.damaged[0].error_kind, ErrorKind::Integrity);
    assert_eq!(store.list(Some("synthetic")).await.expect("list").len(), 1);
    assert_eq!(
        store
            .latest("synthetic", &oldest.meta.tenant)
            .await
            .expect("latest")
            .map(|s| s.id),
        Some(newest.meta.id.clone())
    );
    let blobs = store.list_blobs().await.expect("blobs");
    store
        .delete_manifest(&newest.meta.id)
        .await
        .expect("delete newest");
    let err = store
        .collect_garbage(Duration::ZERO)
        .await
        .expect_err("no collection while a manifest is damaged");
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(err.to_string().contains(oldest.meta.id.as_str()), "{err}");
    assert_eq!(
        store.list_blobs().await.expect("blobs"),
        blobs,
        "nothing deleted"
    );
}

/// One corrupt blob spoils only the kind using it: the other kinds load on their own.
pub async fn salvage_intact_kinds<S: SnapshotStore + Tamper>(store: &S) {
    let snap = synthetic::snapshot(500, 23);
    let id = &snap.meta.id;
    store.save(&snap).await.expect("save");
    store.flip_blob_byte(&first_blob(store, id, synthetic::POLICY.id()).await);
    assert_eq!(
        store.load(id).await.map(|_| ()).unwrap_err().kind(),
        ErrorKind::Integrity
    );
    let salvaged = store.load_salvage(id, None).await.expect("salvage");
    let mut intact = snap.clone();
    intact.kinds.remove(synthetic::POLICY.id());
    assert_eq!(salvaged.snapshot, intact);
    assert_eq!(salvaged.damaged.len(), 1);
    assert_eq!(salvaged.damaged[0].kind, synthetic::POLICY.id());
    let users = store
        .load_kinds(id, Some(&[synthetic::USER.id().to_string()]))
        .await
        .expect("an intact kind loads");
    assert_eq!(users.kinds.len(), 1);
    assert_eq!(
        users.resources(synthetic::USER.id()),
        snap.resources(synthetic::USER.id())
    );
}

/// `verify_all` reports every damaged manifest and blob, not the first.
pub async fn verify_all_reports_everything<S: SnapshotStore + Tamper>(store: &S) {
    let a = synthetic::snapshot(300, 24);
    let b = later(&a, 1);
    for s in [&a, &b] {
        store.save(s).await.expect("save");
    }
    assert!(store.verify_all().await.expect("verify_all").is_clean());
    let group = first_blob(store, &a.meta.id, synthetic::GROUP.id()).await;
    let policy = first_blob(store, &a.meta.id, synthetic::POLICY.id()).await;
    store.flip_blob_byte(&group);
    store.flip_blob_byte(&policy);
    store.flip_manifest_byte(&b.meta.id);
    let check = store.verify_all().await.expect("verify_all");
    assert_eq!(check.snapshots, 2);
    assert_eq!(check.damaged_manifests.len(), 1, "{check:?}");
    assert_eq!(check.damaged_manifests[0].id, b.meta.id);
    let mut blobs: Vec<_> = check.damaged_blobs.iter().map(|d| d.blob.clone()).collect();
    let mut expected = vec![group, policy];
    blobs.sort();
    expected.sort();
    assert_eq!(blobs, expected);
    assert!(
        check
            .damaged_blobs
            .iter()
            .all(|d| d.problem == BlobProblem::Corrupt
                && d.used_by.len() == 1
                && d.used_by[0].snapshot == a.meta.id)
    );
    assert_eq!(check.damaged_kinds.len(), 2);
}

/// A failed backup is listed but never becomes `latest`.
pub async fn latest_skips_failed<S: SnapshotStore>(store: &S) {
    let good = synthetic::snapshot(50, 25);
    let mut failed = later(&good, 1);
    for data in failed.kinds.values_mut() {
        data.outcome = KindOutcome::Failed {
            kind: ErrorKind::Auth,
            error: "credentials rejected".into(),
        };
        data.resources.clear();
    }
    assert_eq!(failed.status(), SnapshotStatus::Failed);
    store.save(&good).await.expect("save good");
    store.save(&failed).await.expect("save failed");
    assert_eq!(store.list(None).await.expect("list").len(), 2);
    assert_eq!(
        store
            .latest("synthetic", &good.meta.tenant)
            .await
            .expect("latest")
            .map(|s| s.id),
        Some(good.meta.id)
    );
}

/// A blob missing from a snapshot is an integrity failure of that snapshot, not `NotFound`
/// (which means there is no such snapshot).
pub async fn missing_blob_is_integrity<S: SnapshotStore>(store: &S) {
    let snap = synthetic::snapshot(100, 26);
    store.save(&snap).await.expect("save");
    let blob = first_blob(store, &snap.meta.id, synthetic::GROUP.id()).await;
    assert!(
        store
            .delete_blob(&blob, Duration::ZERO)
            .await
            .expect("delete")
            > 0
    );
    let err = store.load(&snap.meta.id).await.map(|_| ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    assert!(err.to_string().contains(blob.as_str()), "{err}");
    assert_eq!(
        store.verify(&snap.meta.id).await.unwrap_err().kind(),
        ErrorKind::Integrity
    );
}

/// Save then load gives the same snapshot; verify counts every resource.
pub async fn round_trip<S: SnapshotStore>(store: &S) {
    let snap = synthetic::snapshot(3_000, 1);
    let saved = store.save(&snap).await.expect("save");
    assert_eq!(
        store.load(&saved.id).await.expect("load"),
        snap,
        "round trip"
    );
    let report = store.verify(&saved.id).await.expect("verify");
    assert_eq!(report.resources, 3_000);
    assert!(report.blobs > 1);
}

/// An unchanged second snapshot adds under 1% of the first one's bytes; 1% changed adds little.
pub async fn dedup<S: SnapshotStore>(store: &S) {
    let first = synthetic::snapshot(20_000, 2);
    let a = store.save(&first).await.expect("save first");
    let mut unchanged = first.clone();
    unchanged.meta.id = SnapshotId::generate(
        "synthetic",
        first.meta.started_at + chrono::TimeDelta::hours(24),
    );
    let b = store.save(&unchanged).await.expect("save second");
    assert_eq!(b.new_blobs, 0, "an unchanged snapshot adds no blob");
    assert!(
        (b.new_bytes as f64) < 0.01 * a.new_bytes as f64,
        "unchanged snapshot added {} bytes, first was {}",
        b.new_bytes,
        a.new_bytes
    );
    let changed = synthetic::mutate(&first, 1.0, 3);
    let c = store.save(&changed).await.expect("save changed");
    assert!(c.new_bytes > 0);
    assert!(
        // Chunks average 64 resources, so 1% scattered changes touch a bit over half of them.
        (c.new_bytes as f64) < 0.75 * a.new_bytes as f64,
        "1% changed added {} of {} bytes",
        c.new_bytes,
        a.new_bytes
    );
    assert_eq!(
        store.load(&changed.meta.id).await.expect("load changed"),
        changed
    );
}

/// `list` is newest first and filters by provider; `latest` picks per provider and tenant.
pub async fn listing<S: SnapshotStore>(store: &S) {
    let older = synthetic::snapshot(50, 4);
    let mut newer = synthetic::snapshot(60, 4);
    newer.meta.started_at += chrono::TimeDelta::hours(1);
    newer.meta.id = SnapshotId::generate("synthetic", newer.meta.started_at);
    let mut other = synthetic::snapshot(10, 5);
    other.meta.provider = "other".into();
    for s in [&older, &newer, &other] {
        store.save(s).await.expect("save");
    }
    let all = store.list(None).await.expect("list");
    assert_eq!(all.len(), 3);
    assert!(
        all.windows(2).all(|w| w[0].started_at >= w[1].started_at),
        "newest first"
    );
    let synthetic_only = store.list(Some("synthetic")).await.expect("list");
    assert_eq!(synthetic_only.len(), 2);
    let latest = store
        .latest("synthetic", &older.meta.tenant)
        .await
        .expect("latest")
        .expect("some");
    assert_eq!(latest.id, newer.meta.id);
    assert_eq!(latest.resources, 60);
    assert!(
        store
            .latest("nobody", "none")
            .await
            .expect("latest")
            .is_none()
    );
}

/// Deleting a snapshot removes blobs only it used, keeps shared ones.
pub async fn delete_collects_garbage<S: SnapshotStore>(store: &S) {
    let a = synthetic::snapshot(2_000, 6);
    let b = synthetic::mutate(&a, 5.0, 7);
    store.save(&a).await.expect("save a");
    store.save(&b).await.expect("save b");
    let before = store.list_blobs().await.expect("blobs").len();
    store.delete_manifest(&a.meta.id).await.expect("delete");
    let report = store.collect_garbage(Duration::ZERO).await.expect("gc");
    assert!(report.blobs_removed > 0, "blobs only a used are collected");
    assert_eq!(
        store.list_blobs().await.expect("blobs").len(),
        before - report.blobs_removed
    );
    assert_eq!(store.load(&b.meta.id).await.expect("b still loads"), b);
    assert_eq!(
        store.get_manifest(&a.meta.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // The grace period keeps young blobs: nothing is unreferenced now anyway.
    let again = store.delete(&b.meta.id).await.expect("delete b");
    assert_eq!(
        again.blobs_removed, 0,
        "blobs younger than the grace period are kept"
    );
}

/// Conflicts, missing snapshots and blobs, and wrong addresses are typed errors.
pub async fn errors<S: SnapshotStore>(store: &S) {
    let s = synthetic::snapshot(10, 8);
    store.save(&s).await.expect("save");
    assert_eq!(
        store.save(&s).await.unwrap_err().kind(),
        ErrorKind::Conflict,
        "duplicate id"
    );
    let missing: SnapshotId = "20260101T000000Z-none-00000000".parse().expect("id");
    assert_eq!(
        store.load(&missing).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let blob = BlobId::of(b"hello");
    assert_eq!(
        store.get_blob(&blob).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store
            .put_blob(&blob, b"not hello")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Integrity
    );
    assert!(!store.has_blob(&blob).await.expect("has"));
    store.put_blob(&blob, b"hello").await.expect("put");
    assert_eq!(store.get_blob(&blob).await.expect("get"), b"hello");
}

/// Records: put replaces, get of a missing record is `None`, list filters by prefix and is
/// sorted, delete says whether the record existed, and records are not snapshots.
pub async fn records<S: SnapshotStore>(store: &S) {
    use butterfly_core::store::RecordName;
    let name = |s: &str| s.parse::<RecordName>().expect("record name");
    assert_eq!(store.get_record(&name("holds/a")).await.expect("get"), None);
    store
        .put_record(&name("holds/b"), b"one")
        .await
        .expect("put");
    store
        .put_record(&name("holds/a"), b"first")
        .await
        .expect("put");
    store
        .put_record(&name("holds/a"), b"second")
        .await
        .expect("replace");
    store
        .put_record(&name("journal/2026/x.json"), b"{}")
        .await
        .expect("put nested");
    assert_eq!(
        store
            .get_record(&name("holds/a"))
            .await
            .expect("get")
            .as_deref(),
        Some(&b"second"[..]),
        "records: put replaces"
    );
    assert_eq!(
        store.list_records("holds/").await.expect("list"),
        vec![name("holds/a"), name("holds/b")],
        "records: list by prefix, sorted"
    );
    assert_eq!(
        store.list_records("").await.expect("list all").len(),
        3,
        "records: list everything"
    );
    assert!(store.delete_record(&name("holds/a")).await.expect("delete"));
    assert!(
        !store
            .delete_record(&name("holds/a"))
            .await
            .expect("delete again")
    );
    assert_eq!(store.get_record(&name("holds/a")).await.expect("get"), None);
    assert!(
        store.list_snapshot_ids().await.expect("ids").is_empty(),
        "records: a record is not a snapshot"
    );
}
