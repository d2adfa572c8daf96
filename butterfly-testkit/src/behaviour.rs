//! The shared provider behaviour suite, run by every provider against its fake tenant.
//!
//! A provider crate implements [`Harness`] (how to start its fake tenant in a given setup and
//! build a provider pointed at it) and calls [`run_all`] from one test. The suite checks what
//! every provider must guarantee:
//!
//! 1. a backup of a generated tenant succeeds: every kind complete (or unsupported);
//! 2. a second backup is byte-identical (same content hash, same blobs);
//! 3. a backup under injected faults (5xx, 429 storms, resets, truncated bodies) equals the
//!    clean one;
//! 4. when the fake withholds the scope of a kind, the access probe and the backup report that
//!    kind `denied`, naming the scope, and every other kind is still read;
//! 5. no secret sentinel planted in the fake appears anywhere in an on-disk store;
//! 6. a restore dry run sends zero writes to the tenant.

use std::path::Path;

use async_trait::async_trait;
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::provider::Access;
use butterfly_core::restore::{self, RestoreOptions};
use butterfly_core::snapshot::KindOutcome;
use butterfly_core::store::{FsStore, StoreExt};
use butterfly_core::{Provider, Snapshot};

/// How the fake tenant should behave for one part of the suite.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Setup {
    /// Inject the provider's typical faults (5xx, 429 storms with and without headers,
    /// connection resets, truncated bodies) on its main listing routes.
    pub faults: bool,
    /// Withhold the scope (or role) needed to read this kind id.
    pub withhold: Option<String>,
}

/// A running fake tenant and a provider pointed at it.
pub struct Running {
    /// The provider under test.
    pub provider: Box<dyn Provider>,
    /// Every secret value the fake planted.
    pub sentinels: Vec<String>,
    /// Counts writes the fake has received so far.
    pub writes: Box<dyn Fn() -> usize + Send + Sync>,
    /// Requests the fake did not know (must stay empty).
    pub unknown_requests: Box<dyn Fn() -> Vec<String> + Send + Sync>,
    /// Keeps the fake alive as long as this value.
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

/// What a provider crate supplies to run the suite.
#[async_trait]
pub trait Harness: Send + Sync {
    /// Starts a fresh fake tenant, generated from the same seed every time, in `setup`.
    async fn start(&self, setup: Setup) -> Running;
    /// The kind whose scope the withholding check removes (a kind every tenant has).
    fn withheld_kind(&self) -> &str;
    /// The scope or role the provider must name when that kind is denied.
    fn withheld_scope(&self) -> &str;
}

fn assert_complete(snapshot: &Snapshot) {
    for (kind, data) in &snapshot.kinds {
        assert!(
            matches!(
                data.outcome,
                KindOutcome::Complete | KindOutcome::Unsupported { .. }
            ),
            "kind {kind} ended {:?}",
            data.outcome
        );
    }
    assert!(snapshot.resource_count() > 0, "the backup read nothing");
}

/// Runs every check of the suite; panics with a message naming the failed check.
pub async fn run_all(harness: &dyn Harness) {
    let clean = backup_succeeds_and_is_deterministic(harness).await;
    backup_under_faults_equals_clean(harness, &clean).await;
    withheld_scope_is_reported(harness).await;
    no_sentinel_reaches_the_store(harness).await;
    dry_run_writes_nothing(harness, &clean).await;
}

/// Checks 1 and 2; returns the clean snapshot.
pub async fn backup_succeeds_and_is_deterministic(harness: &dyn Harness) -> Snapshot {
    let run = harness.start(Setup::default()).await;
    let first = backup::run(run.provider.as_ref(), &BackupOptions::default())
        .await
        .expect("backup runs");
    assert_complete(&first);
    let second = backup::run(run.provider.as_ref(), &BackupOptions::default())
        .await
        .expect("backup runs");
    let (a, b) = (
        first.encode().expect("encodes"),
        second.encode().expect("encodes"),
    );
    assert_eq!(
        a.manifest.content_sha256, b.manifest.content_sha256,
        "re-backup content hash differs"
    );
    assert_eq!(a.blobs, b.blobs, "re-backup blobs differ");
    assert!(
        (run.unknown_requests)().is_empty(),
        "unknown requests: {:?}",
        (run.unknown_requests)()
    );
    assert_eq!((run.writes)(), 0, "a backup must not write");
    first
}

/// Check 3.
pub async fn backup_under_faults_equals_clean(harness: &dyn Harness, clean: &Snapshot) {
    let run = harness
        .start(Setup {
            faults: true,
            ..Setup::default()
        })
        .await;
    let faulty = backup::run(run.provider.as_ref(), &BackupOptions::default())
        .await
        .expect("backup runs");
    assert_complete(&faulty);
    let (a, b) = (
        clean.encode().expect("encodes"),
        faulty.encode().expect("encodes"),
    );
    if a.manifest.content_sha256 != b.manifest.content_sha256 {
        let differing: Vec<&String> = a
            .manifest
            .kinds
            .iter()
            .filter(|(k, m)| b.manifest.kinds.get(*k).map(|n| &n.sha256) != Some(&m.sha256))
            .map(|(k, _)| k)
            .collect();
        panic!("backup under faults differs from the clean one in {differing:?}");
    }
}

/// Check 4.
pub async fn withheld_scope_is_reported(harness: &dyn Harness) {
    let kind = harness.withheld_kind().to_string();
    let scope = harness.withheld_scope().to_string();
    let run = harness
        .start(Setup {
            withhold: Some(kind.clone()),
            ..Setup::default()
        })
        .await;
    let provider = run.provider.as_ref();
    let report = provider.probe(provider.kinds()).await.expect("probe runs");
    match report.kinds.get(&kind) {
        Some(Access::Denied { missing }) => assert!(
            missing.contains(&scope),
            "probe names {missing:?}, expected {scope}"
        ),
        other => panic!("probe says {other:?} for withheld {kind}"),
    }
    let readable = report.readable().count();
    assert!(
        readable > 1,
        "withholding one scope must leave the other kinds readable"
    );
    let snapshot = backup::run(provider, &BackupOptions::default())
        .await
        .expect("backup runs");
    match &snapshot.kinds[&kind].outcome {
        KindOutcome::Denied { missing } => assert!(
            missing.contains(&scope),
            "backup names {missing:?}, expected {scope}"
        ),
        other => panic!("withheld {kind} ended {other:?}"),
    }
    let complete = snapshot
        .kinds
        .values()
        .filter(|k| k.outcome == KindOutcome::Complete)
        .count();
    assert!(complete > 1, "other kinds are still read");
}

/// Check 5.
pub async fn no_sentinel_reaches_the_store(harness: &dyn Harness) {
    let run = harness.start(Setup::default()).await;
    assert!(
        !run.sentinels.is_empty(),
        "the fake planted no sentinel: the check would prove nothing"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let store = FsStore::open(dir.path()).expect("store opens");
    let (snapshot, _) =
        backup::run_and_save(run.provider.as_ref(), &store, &BackupOptions::default())
            .await
            .expect("backup saves");
    store.load(&snapshot.meta.id).await.expect("snapshot loads");
    let mut bytes = Vec::new();
    read_all(dir.path(), &mut bytes);
    assert!(bytes.len() > 1000, "the store holds the backup");
    let text = String::from_utf8_lossy(&bytes);
    for s in &run.sentinels {
        assert!(
            !text.contains(s.as_str()),
            "secret sentinel {s} reached the store"
        );
    }
}

fn read_all(dir: &Path, out: &mut Vec<u8>) {
    for entry in std::fs::read_dir(dir).expect("readable dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            read_all(&path, out);
        } else {
            out.extend(std::fs::read(&path).expect("readable file"));
        }
    }
}

/// Check 6.
pub async fn dry_run_writes_nothing(harness: &dyn Harness, clean: &Snapshot) {
    let run = harness.start(Setup::default()).await;
    if run.provider.restorer().is_none() {
        return;
    }
    // The clean snapshot came from an identical tenant (same seed): ids match.
    let mut snapshot = clean.clone();
    snapshot.meta.tenant = run.provider.tenant().to_string();
    let plan = restore::plan(
        &snapshot,
        run.provider.as_ref(),
        &RestoreOptions {
            update_existing: true,
            ..RestoreOptions::default()
        },
    )
    .await
    .expect("plan");
    assert!(!plan.steps.is_empty(), "the plan covers the snapshot");
    assert_eq!((run.writes)(), 0, "a dry run must not write");
}
