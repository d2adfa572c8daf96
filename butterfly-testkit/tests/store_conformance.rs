//! Both stores pass the conformance suite; the filesystem store also survives tampering,
//! path tricks and a writer killed mid-snapshot.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use butterfly_core::ErrorKind;
use butterfly_core::snapshot::SnapshotId;
use butterfly_core::store::{FsStore, MemoryStore, SnapshotStore, StoreExt};
use butterfly_testkit::{store_suite, synthetic};

#[tokio::test]
async fn memory_store_conforms() {
    store_suite::run_all(MemoryStore::new).await;
}

#[tokio::test]
async fn memory_store_contains_damage() {
    store_suite::run_damage(MemoryStore::new).await;
}

#[tokio::test]
async fn fs_store_conforms() {
    let dirs: std::sync::Mutex<Vec<tempfile::TempDir>> = Default::default();
    store_suite::run_all(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::open(dir.path()).unwrap();
        dirs.lock().unwrap().push(dir);
        store
    })
    .await;
}

#[tokio::test]
async fn fs_store_contains_damage() {
    let dirs: std::sync::Mutex<Vec<tempfile::TempDir>> = Default::default();
    store_suite::run_damage(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::open(dir.path()).unwrap();
        dirs.lock().unwrap().push(dir);
        store
    })
    .await;
}

fn disk_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let m = e.metadata().unwrap();
        total += if m.is_dir() {
            disk_bytes(&e.path())
        } else {
            m.len()
        };
    }
    total
}

#[tokio::test]
async fn fs_dedup_measured_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let first = synthetic::snapshot(20_000, 11);
    store.save(&first).await.unwrap();
    let after_first = disk_bytes(dir.path());
    let mut second = first.clone();
    second.meta.id = SnapshotId::generate(
        "synthetic",
        first.meta.started_at + chrono::TimeDelta::days(1),
    );
    store.save(&second).await.unwrap();
    let added = disk_bytes(dir.path()) - after_first;
    assert!(
        (added as f64) < 0.01 * after_first as f64,
        "second snapshot added {added} of {after_first} bytes on disk"
    );
}

#[tokio::test]
async fn flipped_byte_on_disk_is_an_integrity_error_naming_the_resource() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let snap = synthetic::snapshot(500, 12);
    store.save(&snap).await.unwrap();
    // Flip one byte inside the JSON of a user in the first chunk of users.
    let manifest = store.get_manifest(&snap.meta.id).await.unwrap();
    let chunk = &manifest.kinds["synthetic.user"].chunks[0];
    let hex = chunk.blob.as_str();
    let path = dir.path().join("blobs").join(&hex[..2]).join(&hex[2..]);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(6).position(|w| w == b"First0").unwrap() + 5;
    bytes[at] = b'9';
    std::fs::write(&path, &bytes).unwrap();
    let err = store
        .load(&snap.meta.id)
        .await
        .map(|_| ())
        .expect_err("a flipped byte must not load");
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(
        err.to_string().contains("synthetic.user")
            && err.to_string().contains("00u00000000000000000"),
        "{err}"
    );
    assert_eq!(
        store.verify(&snap.meta.id).await.err().map(|e| e.kind()),
        Some(ErrorKind::Integrity)
    );
}

#[tokio::test]
async fn corrupt_or_edited_manifest_is_an_integrity_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let snap = synthetic::snapshot(100, 13);
    store.save(&snap).await.unwrap();
    let path = dir
        .path()
        .join("snapshots")
        .join(format!("{}.json", snap.meta.id));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut edited: serde_json::Value = serde_json::from_str(&text).unwrap();
    edited["tenant"] = serde_json::json!("someone-else");
    std::fs::write(&path, edited.to_string()).unwrap();
    let err = store
        .load(&snap.meta.id)
        .await
        .map(|_| ())
        .expect_err("an edited manifest must not load");
    assert_eq!(err.kind(), ErrorKind::Integrity, "edited field: {err}");
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let err = store
        .load(&snap.meta.id)
        .await
        .map(|_| ())
        .expect_err("a truncated manifest must not load");
    assert_eq!(err.kind(), ErrorKind::Integrity, "truncated");
    assert!(err.to_string().contains(snap.meta.id.as_str()), "{err}");
}

#[tokio::test]
async fn ids_and_links_cannot_escape_the_store() {
    for bad in ["../x", "a/b", "..", "/etc/passwd", ".hidden"] {
        assert_eq!(
            bad.parse::<SnapshotId>().unwrap_err().kind(),
            ErrorKind::Config,
            "{bad}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let snap = synthetic::snapshot(20, 14);
    store.save(&snap).await.unwrap();
    // A manifest planted as a symlink to a file outside the store is not followed.
    let target = outside.path().join("evil.json");
    std::fs::copy(
        dir.path()
            .join("snapshots")
            .join(format!("{}.json", snap.meta.id)),
        &target,
    )
    .unwrap();
    let linked: SnapshotId = "20260101T000000Z-evil-00000000".parse().unwrap();
    std::os::unix::fs::symlink(
        &target,
        dir.path().join("snapshots").join(format!("{linked}.json")),
    )
    .unwrap();
    assert!(
        !store.list_snapshot_ids().await.unwrap().contains(&linked),
        "symlinks are not listed"
    );
    assert_eq!(
        store.get_manifest(&linked).await.unwrap_err().kind(),
        ErrorKind::Integrity
    );
    // Stray files with invalid names are skipped, not errors.
    std::fs::write(dir.path().join("snapshots").join("..weird.json"), b"{}").unwrap();
    assert_eq!(store.list(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn writer_killed_mid_snapshot_leaves_no_partial_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut killed_during_save = 0;
    for kill_after in 1..=6 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_store-writer"))
            .args([dir.path().to_str().unwrap(), "50", "4000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        let mut last = String::new();
        for line in lines.by_ref() {
            last = line.unwrap();
            seen += 1;
            if seen == kill_after * 2 - 1 {
                break; // just printed "saving k": it is writing blobs or the manifest now
            }
        }
        // Vary the moment: sometimes immediately, sometimes a little into the save.
        std::thread::sleep(std::time::Duration::from_millis(
            (kill_after as u64 % 3) * 15,
        ));
        child.kill().unwrap();
        child.wait().unwrap();
        if last.starts_with("saving") {
            killed_during_save += 1;
        }
        let store = FsStore::open(dir.path()).unwrap();
        for id in store.list_snapshot_ids().await.unwrap() {
            store
                .verify(&id)
                .await
                .unwrap_or_else(|e| panic!("visible snapshot {id} is broken: {e}"));
        }
    }
    assert!(
        killed_during_save > 0,
        "the writer was killed while saving at least once"
    );
    let store = FsStore::open(dir.path()).unwrap();
    assert!(
        !store.list_snapshot_ids().await.unwrap().is_empty(),
        "completed saves are visible"
    );
}

#[tokio::test]
async fn a_reused_old_blob_survives_garbage_collection() {
    use butterfly_core::snapshot::BlobId;
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let (kept, dropped) = (BlobId::of(b"reused"), BlobId::of(b"orphan"));
    store.put_blob(&kept, b"reused").await.unwrap();
    store.put_blob(&dropped, b"orphan").await.unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for id in [&kept, &dropped] {
        let hex = id.as_str();
        let f = std::fs::File::options()
            .append(true)
            .open(dir.path().join("blobs").join(&hex[..2]).join(&hex[2..]))
            .unwrap();
        f.set_modified(two_hours_ago).unwrap();
    }
    // A backup finds `kept` already stored and will reference it from its manifest.
    assert!(store.has_blob(&kept).await.unwrap());
    let report = store
        .collect_garbage(std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(report.blobs_removed, 1, "only the old orphan is collected");
    assert!(store.has_blob(&kept).await.unwrap());
    assert!(!store.has_blob(&dropped).await.unwrap());
}
