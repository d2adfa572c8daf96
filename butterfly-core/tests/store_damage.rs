//! A damaged filesystem store: a corrupt blob is repaired by the next backup instead of being
//! reused, a damaged manifest hides only its own snapshot, a damaged blob spoils only the kinds
//! that use it, and `verify_all` reports every damaged object. Also: the store's files are
//! private, and temporary files of dead writers are removed.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use butterfly_core::kind::{Category, KindSpec};
use butterfly_core::snapshot::{BlobId, KindOutcome, Snapshot, SnapshotId, SnapshotMeta};
use butterfly_core::store::{BlobProblem, FsStore, SnapshotStore, StoreExt};
use butterfly_core::{ErrorKind, Resource, SnapshotStatus};
use serde_json::json;

const USER: KindSpec = KindSpec {
    natural_key: &["/profile/login"],
    ..KindSpec::new("t.user", "Users", Category::Directory)
};
const GROUP: KindSpec = KindSpec {
    natural_key: &["/profile/name"],
    ..KindSpec::new("t.group", "Groups", Category::Directory)
};
const POLICY: KindSpec = KindSpec {
    natural_key: &["/name"],
    ..KindSpec::new("t.policy", "Policies", Category::Policy)
};

/// A snapshot of 400 users (several chunks), 20 groups and 5 policies, started `hours` after a
/// fixed moment. Equal `hours` give equal content under different ids.
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
    let users = (0..400)
        .map(|i| {
            let id = format!("u{i:05}");
            Resource::new(
                &USER,
                id.clone(),
                None,
                json!({"id": id, "profile": {"login": format!("user{i}@example.com")}}),
            )
        })
        .collect();
    let groups = (0..20)
        .map(|i| {
            let id = format!("g{i:03}");
            Resource::new(
                &GROUP,
                id.clone(),
                None,
                json!({"id": id, "profile": {"name": format!("group {i}")}}),
            )
        })
        .collect();
    let policies = (0..5)
        .map(|i| {
            let id = format!("p{i}");
            Resource::new(
                &POLICY,
                id.clone(),
                None,
                json!({"id": id, "name": format!("policy {i}")}),
            )
        })
        .collect();
    s.insert_kind("t.user", KindOutcome::Complete, users);
    s.insert_kind("t.group", KindOutcome::Complete, groups);
    s.insert_kind("t.policy", KindOutcome::Complete, policies);
    s
}

/// A copy of `s` as another snapshot (same content, new id and time).
fn again(s: &Snapshot, hours: i64) -> Snapshot {
    let mut copy = s.clone();
    copy.meta.started_at += chrono::TimeDelta::hours(hours);
    copy.meta.finished_at = copy.meta.started_at;
    copy.meta.id = SnapshotId::generate("t", copy.meta.started_at);
    copy
}

fn blob_path(root: &Path, id: &BlobId) -> PathBuf {
    let hex = id.as_str();
    root.join("blobs").join(&hex[..2]).join(&hex[2..])
}

fn manifest_path(root: &Path, id: &SnapshotId) -> PathBuf {
    root.join("snapshots").join(format!("{id}.json"))
}

/// Flips one bit of the byte in the middle of a file.
fn flip_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// The first blob of a kind of a stored snapshot.
async fn first_blob(store: &FsStore, id: &SnapshotId, kind: &str) -> BlobId {
    store.get_manifest(id).await.unwrap().kinds[kind].chunks[0]
        .blob
        .clone()
}

#[tokio::test]
async fn a_corrupt_blob_is_repaired_by_the_next_backup_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let first = snapshot(0);
    let saved = store.save(&first).await.unwrap();
    let blobs = saved.new_blobs;
    let group_blob = first_blob(&store, &first.meta.id, "t.group").await;
    flip_byte(&blob_path(dir.path(), &group_blob));

    let second = again(&first, 24);
    let report = store.save(&second).await.unwrap();
    // Before the fix, the corrupt blob was "reused" and the new snapshot was born broken.
    assert_eq!(
        store
            .load(&second.meta.id)
            .await
            .expect("the new snapshot loads"),
        second
    );
    store.verify(&second.meta.id).await.expect("and verifies");
    assert_eq!(report.repaired_blobs, 1, "{report:?}");
    assert_eq!(report.reused_blobs, blobs - 1);
    assert_eq!(report.new_blobs, 0);
    // The older snapshot shares the blob, so it is whole again too.
    assert_eq!(store.load(&first.meta.id).await.unwrap(), first);

    // A truncated blob (a different length) is repaired the same way.
    let policy_blob = first_blob(&store, &first.meta.id, "t.policy").await;
    let path = blob_path(dir.path(), &policy_blob);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let third = again(&first, 48);
    assert_eq!(store.save(&third).await.unwrap().repaired_blobs, 1);
    store.verify(&third.meta.id).await.expect("third verifies");
    // An intact store reuses everything.
    let fourth = again(&first, 72);
    let report = store.save(&fourth).await.unwrap();
    assert_eq!((report.repaired_blobs, report.reused_blobs), (0, blobs));
}

#[tokio::test]
async fn a_damaged_manifest_hides_only_its_own_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let oldest = snapshot(0);
    let mut middle = again(&oldest, 1);
    middle.insert_kind("t.policy", KindOutcome::Complete, vec![]);
    let newest = again(&oldest, 2);
    for s in [&oldest, &middle, &newest] {
        store.save(s).await.unwrap();
    }
    flip_byte(&manifest_path(dir.path(), &oldest.meta.id));

    // Before the fix, one bad manifest made every listing fail.
    let listed = store.list(None).await.expect("list still works");
    assert_eq!(
        listed.iter().map(|s| &s.id).collect::<Vec<_>>(),
        [&newest.meta.id, &middle.meta.id]
    );
    let latest = store.latest("t", "acme").await.expect("latest works");
    assert_eq!(latest.map(|s| s.id), Some(newest.meta.id.clone()));
    let listing = store.list_checked(Some("t")).await.unwrap();
    assert_eq!(listing.snapshots.len(), 2);
    assert_eq!(listing.damaged.len(), 1);
    assert_eq!(listing.damaged[0].id, oldest.meta.id);
    assert_eq!(listing.damaged[0].error_kind, ErrorKind::Integrity);

    // Garbage collection cannot know which blobs the damaged snapshot uses: it deletes nothing.
    // (`middle` dropped the policies, so without the damaged manifest nothing would keep them.)
    let before = store.list_blobs().await.unwrap();
    store.delete_manifest(&newest.meta.id).await.unwrap();
    let err = store
        .collect_garbage(Duration::ZERO)
        .await
        .expect_err("no collection with a damaged manifest");
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(err.to_string().contains(oldest.meta.id.as_str()), "{err}");
    assert_eq!(store.list_blobs().await.unwrap(), before, "nothing deleted");

    // The damaged snapshot itself can be deleted; then collection works again.
    let report = store.delete(&oldest.meta.id).await.expect("delete damaged");
    assert!(report.kept_for_damaged.is_empty());
    let report = store.collect_garbage(Duration::ZERO).await.unwrap();
    assert!(report.blobs_removed > 0);
    assert_eq!(store.load(&middle.meta.id).await.unwrap(), middle);
}

#[tokio::test]
async fn latest_skips_a_failed_backup_and_a_damaged_newest() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let good = snapshot(0);
    let mut failed = again(&good, 1);
    for kind in ["t.user", "t.group", "t.policy"] {
        failed.insert_kind(
            kind,
            KindOutcome::Failed {
                kind: ErrorKind::Auth,
                error: "401".into(),
            },
            vec![],
        );
    }
    assert_eq!(failed.status(), SnapshotStatus::Failed);
    store.save(&good).await.unwrap();
    store.save(&failed).await.unwrap();
    // Before the fix, the failed backup became "latest", the baseline of later diffs.
    let latest = store.latest("t", "acme").await.unwrap().unwrap();
    assert_eq!(latest.id, good.meta.id);
    assert_eq!(store.list(None).await.unwrap().len(), 2, "list shows both");

    let newer = again(&good, 2);
    store.save(&newer).await.unwrap();
    assert_eq!(
        store.latest("t", "acme").await.unwrap().unwrap().id,
        newer.meta.id
    );
    std::fs::write(manifest_path(dir.path(), &newer.meta.id), b"{\"form").unwrap();
    assert_eq!(
        store.latest("t", "acme").await.unwrap().unwrap().id,
        good.meta.id
    );
}

#[tokio::test]
async fn one_corrupt_blob_spoils_only_the_kind_that_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let snap = snapshot(0);
    let id = snap.meta.id.clone();
    store.save(&snap).await.unwrap();
    flip_byte(&blob_path(
        dir.path(),
        &first_blob(&store, &id, "t.group").await,
    ));

    let err = store.load(&id).await.expect_err("a strict load fails");
    assert_eq!(err.kind(), ErrorKind::Integrity);
    // Before the fix, no kind of the snapshot could be read.
    let users = store
        .load_kinds(&id, Some(&["t.user".to_string()]))
        .await
        .expect("an intact kind loads on its own");
    assert_eq!(users.kinds.keys().collect::<Vec<_>>(), ["t.user"]);
    assert_eq!(users.kinds["t.user"], snap.kinds["t.user"]);
    assert_eq!(
        store
            .load_kinds(&id, Some(&["t.group".to_string()]))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Integrity
    );

    let salvaged = store.load_salvage(&id, None).await.unwrap();
    assert_eq!(
        salvaged.snapshot.kinds.keys().collect::<Vec<_>>(),
        ["t.policy", "t.user"]
    );
    assert_eq!(salvaged.snapshot.kinds["t.user"], snap.kinds["t.user"]);
    assert_eq!(salvaged.snapshot.kinds["t.policy"], snap.kinds["t.policy"]);
    assert_eq!(salvaged.damaged.len(), 1);
    assert_eq!(salvaged.damaged[0].kind, "t.group");
    assert_eq!(salvaged.damaged[0].error_kind, ErrorKind::Integrity);
    let only = store
        .load_salvage(&id, Some(&["t.group".to_string(), "t.policy".to_string()]))
        .await
        .unwrap();
    assert_eq!(only.snapshot.kinds.keys().collect::<Vec<_>>(), ["t.policy"]);
    assert_eq!(only.damaged.len(), 1);

    let report = store.verify_report(&id).await.unwrap();
    assert_eq!(report.damaged.len(), 1);
    assert_eq!(report.resources, 405, "users and policies verified");
    assert_eq!(
        store.verify(&id).await.unwrap_err().kind(),
        ErrorKind::Integrity
    );
    // A damaged manifest is still an error for salvage: nothing can be checked without it.
    flip_byte(&manifest_path(dir.path(), &id));
    assert_eq!(
        store.load_salvage(&id, None).await.unwrap_err().kind(),
        ErrorKind::Integrity
    );
}

#[tokio::test]
async fn a_missing_blob_is_an_integrity_error_not_a_missing_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let snap = snapshot(0);
    let id = snap.meta.id.clone();
    store.save(&snap).await.unwrap();
    let blob = first_blob(&store, &id, "t.policy").await;
    std::fs::remove_file(blob_path(dir.path(), &blob)).unwrap();

    // Before the fix this was NotFound, which the CLI reports as "no such snapshot".
    let err = store.load(&id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(blob.as_str()) && text.contains("t.policy") && text.contains("missing"),
        "{text}"
    );
    assert_eq!(
        store.verify(&id).await.unwrap_err().kind(),
        ErrorKind::Integrity
    );
    let salvaged = store.load_salvage(&id, None).await.unwrap();
    assert_eq!(salvaged.damaged.len(), 1);
    assert_eq!(salvaged.damaged[0].error_kind, ErrorKind::Integrity);
    // And the next backup of the same content puts it back.
    let report = store.save(&again(&snap, 1)).await.unwrap();
    assert_eq!(report.new_blobs, 1);
    assert_eq!(store.load(&id).await.unwrap(), snap);
}

#[tokio::test]
async fn verify_all_reports_every_damaged_object() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let a = snapshot(0);
    let b = again(&a, 1);
    let c = again(&a, 2);
    for s in [&a, &b, &c] {
        store.save(s).await.unwrap();
    }
    let clean = store.verify_all().await.unwrap();
    assert!(clean.is_clean(), "{clean:?}");
    let distinct = store.list_blobs().await.unwrap().len();
    assert_eq!(
        (clean.snapshots, clean.kinds, clean.blobs, clean.resources),
        (3, 9, distinct, 3 * 425)
    );

    // Two corrupt blobs (two kinds), one missing blob, one damaged manifest, one corrupt blob
    // nothing refers to.
    let group_blob = first_blob(&store, &a.meta.id, "t.group").await;
    let policy_blob = first_blob(&store, &a.meta.id, "t.policy").await;
    let user_blob = first_blob(&store, &a.meta.id, "t.user").await;
    flip_byte(&blob_path(dir.path(), &group_blob));
    flip_byte(&blob_path(dir.path(), &policy_blob));
    std::fs::remove_file(blob_path(dir.path(), &user_blob)).unwrap();
    flip_byte(&manifest_path(dir.path(), &c.meta.id));
    let orphan = BlobId::of(b"nobody uses me");
    store.put_blob(&orphan, b"nobody uses me").await.unwrap();
    flip_byte(&blob_path(dir.path(), &orphan));

    let check = store.verify_all().await.unwrap();
    assert!(!check.is_clean());
    assert_eq!(check.snapshots, 3);
    assert_eq!(check.damaged_manifests.len(), 1);
    assert_eq!(check.damaged_manifests[0].id, c.meta.id);
    let problem = |blob: &BlobId| {
        check
            .damaged_blobs
            .iter()
            .find(|d| &d.blob == blob)
            .unwrap_or_else(|| panic!("{blob} not reported: {check:?}"))
    };
    assert_eq!(problem(&group_blob).problem, BlobProblem::Corrupt);
    assert_eq!(problem(&policy_blob).problem, BlobProblem::Corrupt);
    assert_eq!(problem(&user_blob).problem, BlobProblem::Missing);
    assert_eq!(problem(&orphan).problem, BlobProblem::Corrupt);
    assert!(problem(&orphan).used_by.is_empty());
    assert_eq!(check.damaged_blobs.len(), 4);
    // Each damaged blob names every (readable) snapshot and kind using it.
    let users: Vec<_> = problem(&group_blob)
        .used_by
        .iter()
        .map(|u| (u.snapshot.clone(), u.kind.as_str()))
        .collect();
    assert_eq!(
        users,
        [
            (a.meta.id.clone(), "t.group"),
            (b.meta.id.clone(), "t.group")
        ]
    );
    // Every kind of the two readable snapshots is damaged now.
    assert_eq!(check.damaged_kinds.len(), 6, "{:?}", check.damaged_kinds);
    assert!(
        check
            .damaged_kinds
            .iter()
            .all(|d| d.error_kind == ErrorKind::Integrity)
    );
}

#[cfg(unix)]
#[tokio::test]
async fn store_directories_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = FsStore::open(&root).unwrap();
    let snap = snapshot(0);
    store.save(&snap).await.unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let blob = blob_path(&root, &first_blob(&store, &snap.meta.id, "t.user").await);
    for d in [
        root.clone(),
        root.join("blobs"),
        root.join("snapshots"),
        root.join("tmp"),
        blob.parent().unwrap().to_path_buf(),
    ] {
        assert_eq!(mode(&d), 0o700, "{}", d.display());
    }
    for f in [blob, manifest_path(&root, &snap.meta.id)] {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

#[cfg(target_os = "linux")]
#[test]
fn temporary_files_of_dead_writers_are_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    FsStore::open(dir.path()).unwrap();
    let tmp = dir.path().join("tmp");
    // A process that has exited: its pid names no process now.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let mut sleeper = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let alive = sleeper.id();
    let ours = std::process::id();
    let make = |name: String, age: Duration| {
        let path = tmp.join(name);
        std::fs::write(&path, b"half a blob").unwrap();
        std::fs::File::options()
            .append(true)
            .open(&path)
            .unwrap()
            .set_modified(SystemTime::now() - age)
            .unwrap();
        path
    };
    let minutes = |m: u64| Duration::from_secs(60 * m);
    let killed = make(format!("{dead}.00000000000000aa"), minutes(5));
    let just_killed = make(format!("{dead}.00000000000000bb"), Duration::from_secs(5));
    let running = make(format!("{alive}.00000000000000cc"), minutes(5));
    let mine = make(format!("{ours}.00000000000000dd"), minutes(120));
    let odd_old = make("leftover".to_string(), minutes(120));
    let odd_new = make("leftover-new".to_string(), minutes(5));

    FsStore::open(dir.path()).unwrap();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    // Before the fix, only files older than an hour were removed.
    assert!(!killed.exists(), "a dead writer's file is removed");
    assert!(
        just_killed.exists(),
        "a very young file is left (its writer may live in another PID namespace)"
    );
    assert!(running.exists(), "a live writer's file is kept");
    assert!(mine.exists(), "our own files are never removed");
    assert!(!odd_old.exists(), "any file older than an hour is removed");
    assert!(odd_new.exists());
}
