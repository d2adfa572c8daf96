//! A backup that repairs a corrupt blob says so in the log, naming the blob. Alone in its test
//! binary: tracing caches per callsite whether anyone listens, and a thread-scoped subscriber
//! races with other tests registering the same callsites on other threads.

use butterfly_core::Resource;
use butterfly_core::kind::{Category, KindSpec};
use butterfly_core::snapshot::{KindOutcome, Snapshot, SnapshotId, SnapshotMeta};
use butterfly_core::store::{FsStore, SnapshotStore, StoreExt};
use serde_json::json;

mod log_capture;
use log_capture::LogCapture;

const GROUP: KindSpec = KindSpec {
    natural_key: &["/profile/name"],
    ..KindSpec::new("t.group", "Groups", Category::Directory)
};

fn snapshot(hours: i64) -> Snapshot {
    let at = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap()
        + chrono::TimeDelta::hours(hours);
    let mut s = Snapshot::new(SnapshotMeta {
        id: SnapshotId::generate("t", at),
        provider: "t".into(),
        tenant: "acme".into(),
        started_at: at,
        finished_at: at,
    });
    let groups = (0..3)
        .map(|i| {
            let id = format!("g{i}");
            Resource::new(
                &GROUP,
                id.clone(),
                None,
                json!({"id": id, "profile": {"name": format!("group {i}")}}),
            )
        })
        .collect();
    s.insert_kind("t.group", KindOutcome::Complete, groups);
    s
}

#[tokio::test]
async fn a_repaired_blob_is_named_in_a_warning() {
    let log = LogCapture::default();
    let _guard = log.install(tracing::Level::WARN);

    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let first = snapshot(0);
    store.save(&first).await.unwrap();
    let blob = store.get_manifest(&first.meta.id).await.unwrap().kinds["t.group"].chunks[0]
        .blob
        .clone();
    let hex = blob.as_str();
    let path = dir.path().join("blobs").join(&hex[..2]).join(&hex[2..]);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[70] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();

    let report = store.save(&snapshot(1)).await.unwrap();
    assert_eq!(report.repaired_blobs, 1);
    let text = log.text();
    assert!(text.contains("WARN") && text.contains(hex), "{text}");
}
