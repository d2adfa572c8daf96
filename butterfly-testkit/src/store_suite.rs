//! The store conformance suite: every [`SnapshotStore`] must pass it.
//!
//! ```no_run
//! # async fn demo() {
//! use butterfly_core::store::MemoryStore;
//! butterfly_testkit::store_suite::run_all(|| MemoryStore::new()).await;
//! # }
//! ```

use std::time::Duration;

use butterfly_core::ErrorKind;
use butterfly_core::snapshot::{BlobId, SnapshotId};
use butterfly_core::store::{SnapshotStore, StoreExt};

use crate::synthetic;

/// Runs every check, each on a fresh store from `make`; panics naming the failed check.
pub async fn run_all<S: SnapshotStore>(make: impl Fn() -> S) {
    round_trip(&make()).await;
    dedup(&make()).await;
    listing(&make()).await;
    delete_collects_garbage(&make()).await;
    errors(&make()).await;
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
