//! The shared provider behaviour suite, run by every provider against its fake tenant.
//!
//! A provider crate describes how to start its fake tenant in a given setup and build a
//! provider pointed at it — a [`TableHarness`] over its kind table, or its own [`Harness`] —
//! and calls [`run_all`] from one test. The suite checks what
//! every provider must guarantee:
//!
//! 1. a backup of a generated tenant succeeds: every kind complete (or unsupported);
//! 2. a second backup is byte-identical (same content hash, same blobs);
//! 3. a backup under injected faults (5xx, 429 storms, resets, truncated bodies) equals the
//!    clean one;
//! 4. when the fake withholds the scope of a kind, the access probe and the backup report that
//!    kind `denied`, naming the scope, and every other kind is still read;
//! 5. no secret sentinel planted in the fake appears anywhere in an on-disk store;
//! 6. a restore dry run sends zero writes to the tenant;
//! 7. diff: after the incident the fake declares ([`RunningFake::incident`]), a backup diffed
//!    against the one before shows exactly the incident's resources removed (and changed),
//!    with the severities the incident names; whatever else went missing depends on them
//!    (members, rules, grants);
//! 8. restore round trip: a plan of the incident's kinds (updating what the incident changed)
//!    writes nothing (the writes are counted), needs no other write than a plan of the whole
//!    backup, re-creates every removed resource and updates every changed one, each after what
//!    it references, names every secret it cannot bring back and says what the provider
//!    documents; executed, nothing fails and every reference resolves; a backup taken then
//!    differs from the one before the incident exactly in the provider's documented
//!    differences; a second plan writes nothing, and executing it neither.

use std::collections::BTreeSet;
use std::path::Path;

use async_trait::async_trait;
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::diff::{self, ChangeType, Diff, Severity};
use butterfly_core::provider::Access;
use butterfly_core::redact;
use butterfly_core::restore::{self, ExecuteOptions, Resolution, RestoreOptions, StepAction};
use butterfly_core::snapshot::KindOutcome;
use butterfly_core::store::{FsStore, StoreExt};
use butterfly_core::table::TableKind;
use butterfly_core::{Provider, Snapshot};

use crate::tenants::{FakeSpec, Faults, Incident, ProviderFake, RunningFake, Served};

/// How the fake tenant should behave for one part of the suite.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Setup {
    /// Inject the provider's typical faults (5xx, 429 storms with and without headers,
    /// connection resets, truncated bodies) on its main listing routes.
    pub faults: bool,
    /// Withhold the scope (or role) needed to read this kind id.
    pub withhold: Option<String>,
}

impl Setup {
    /// The spec of a fake in this setup: `users` users from `seed`, the fake's
    /// [`Faults::Storm`] when asked for faults, and the withheld kind's scope (`scope_of`
    /// names the provider's scope, role or permission for a kind id) never granted.
    pub fn spec(&self, users: usize, seed: u64, scope_of: impl Fn(&str) -> String) -> FakeSpec {
        let mut spec = FakeSpec::new(users, seed);
        if self.faults {
            spec.faults = Faults::Storm;
        }
        spec.withheld = self.withhold.iter().map(|k| scope_of(k)).collect();
        spec
    }
}

/// A running fake tenant and a provider pointed at it.
pub struct Running {
    /// The provider under test.
    pub provider: Box<dyn Provider>,
    /// The fake (from the [`tenants`](crate::tenants) registry): its writes, unknown requests,
    /// secret sentinels and incident. It serves as long as this value lives.
    pub fake: Box<dyn RunningFake>,
}

/// What a provider crate supplies to run the suite.
#[async_trait]
pub trait Harness: Send + Sync {
    /// Starts a fresh fake tenant, generated from the same seed every time, in `setup`
    /// ([`Setup::spec`] says how).
    async fn start(&self, setup: Setup) -> Running;
    /// The kind whose scope the withholding check removes (a kind every tenant has).
    fn withheld_kind(&self) -> &str;
    /// The scope or role the provider must name when that kind is denied.
    fn withheld_scope(&self) -> &str;
}

/// A [`Harness`] from a provider's kind table and its fake: the withheld scope is the table
/// row's [`access`](butterfly_core::table::ListSpec::access), and the fake is served from the
/// [`tenants`](crate::tenants) machinery, so a provider supplies only how to point itself at
/// the fake.
///
/// ```no_run
/// use butterfly_testkit::behaviour::{self, TableHarness};
/// use butterfly_testkit::okta::FakeOkta;
///
/// # async fn suite(table: &'static [&'static dyn butterfly_core::table::TableKind], provider: fn(&FakeOkta) -> Box<dyn butterfly_core::Provider>) {
/// behaviour::run_all(&TableHarness::<FakeOkta> {
///     table, // butterfly_okta::kinds::TABLE
///     users: 250,
///     withheld_kind: "okta.group",
///     provider, // |fake| Box::new(OktaProvider::new(…fake.base_url()…).unwrap())
/// })
/// .await;
/// # }
/// ```
pub struct TableHarness<F> {
    /// The provider's table rows (its `kinds::TABLE`).
    pub table: &'static [&'static dyn TableKind],
    /// Users of the generated tenant (seed 7).
    pub users: usize,
    /// The kind whose scope the withholding check removes (a kind every tenant has).
    pub withheld_kind: &'static str,
    /// Builds the provider under test, pointed at the fake.
    pub provider: fn(&F) -> Box<dyn Provider>,
}

impl<F> TableHarness<F> {
    fn access_of(&self, kind: &str) -> &'static str {
        self.table
            .iter()
            .find(|r| r.id() == kind)
            .map(|r| r.list_spec().access)
            .unwrap_or_else(|| panic!("{kind} is not a row of the table"))
    }
}

#[async_trait]
impl<F: ProviderFake> Harness for TableHarness<F> {
    async fn start(&self, setup: Setup) -> Running {
        let spec = setup.spec(self.users, 7, |k| self.access_of(k).to_string());
        let served = Served::<F>::start(spec).await.expect("the fake serves");
        Running {
            provider: (self.provider)(served.fake()),
            fake: Box::new(served),
        }
    }
    fn withheld_kind(&self) -> &str {
        self.withheld_kind
    }
    fn withheld_scope(&self) -> &str {
        self.access_of(self.withheld_kind)
    }
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
    let incident = incident_is_diffed_exactly(harness).await;
    restore_round_trip(incident).await;
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
        run.fake.unknown_requests().is_empty(),
        "unknown requests: {:?}",
        run.fake.unknown_requests()
    );
    assert_eq!(run.fake.write_count(), 0, "a backup must not write");
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
        !run.fake.sentinels().is_empty(),
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
    for s in &run.fake.sentinels() {
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
    assert_eq!(run.fake.write_count(), 0, "a dry run must not write");
}

/// A plan of the whole snapshot that also updates existing resources.
async fn plan_updating_everything(
    snapshot: &Snapshot,
    provider: &dyn Provider,
) -> restore::RestorePlan {
    restore::plan(
        snapshot,
        provider,
        &RestoreOptions {
            update_existing: true,
            ..RestoreOptions::default()
        },
    )
    .await
    .expect("plan")
}

/// A tenant after the incident its fake declares, for the restore round trip (check 8).
pub struct AfterIncident {
    /// The fake and the provider pointed at it.
    pub run: Running,
    /// The backup taken before the incident.
    pub before: Snapshot,
    /// What the incident did.
    pub incident: Incident,
    /// The diff from `before` to a backup taken after the incident.
    pub diff: Diff,
}

/// The removed resources the incident accounts for: the ones it deleted and, transitively,
/// those that depend on them in `before` (their parent, a reference, or a part of their id
/// names one: members, rules, grants, assignments).
fn removed_with_dependents(
    before: &Snapshot,
    incident: &Incident,
    diff: &Diff,
) -> BTreeSet<(String, String)> {
    let mut ids: BTreeSet<&str> = incident.removed.iter().map(|a| a.id.as_str()).collect();
    let mut accounted: BTreeSet<(String, String)> = incident
        .removed
        .iter()
        .map(|a| (a.kind.clone(), a.id.clone()))
        .collect();
    loop {
        let mut grew = false;
        for change in diff
            .changes
            .iter()
            .filter(|c| c.change == ChangeType::Removed)
        {
            let key = (change.kind.clone(), change.id.clone());
            if accounted.contains(&key) {
                continue;
            }
            let Some(resource) = before.get(&change.kind, &change.id) else {
                continue;
            };
            let depends = resource
                .parent_id
                .as_deref()
                .is_some_and(|p| ids.contains(p))
                || resource
                    .references
                    .iter()
                    .any(|r| ids.contains(r.id.as_str()))
                || resource.id.split('/').any(|part| ids.contains(part));
            if depends {
                ids.insert(resource.id.as_str());
                accounted.insert(key);
                grew = true;
            }
        }
        if !grew {
            return accounted;
        }
    }
}

/// Check 7: the incident, and a diff that shows exactly it.
pub async fn incident_is_diffed_exactly(harness: &dyn Harness) -> AfterIncident {
    let run = harness.start(Setup::default()).await;
    let provider = run.provider.as_ref();
    let before = backup::run(provider, &BackupOptions::default())
        .await
        .expect("backup runs");
    let incident = run.fake.incident().await.expect("the incident happens");
    let after = backup::run(provider, &BackupOptions::default())
        .await
        .expect("backup runs");
    let diff = diff::diff(
        &before,
        &after,
        provider.kinds(),
        &provider.severity_rules(),
    );
    let text = diff.render_text(Severity::Info);
    let declared = incident
        .removed
        .iter()
        .map(|a| (a, ChangeType::Removed))
        .chain(incident.changed.iter().map(|a| (a, ChangeType::Modified)));
    for (affected, expected) in declared {
        let Some(change) = diff
            .changes
            .iter()
            .find(|c| c.kind == affected.kind && c.id == affected.id)
        else {
            panic!(
                "diff: the incident's {} {} is not in the diff:\n{text}",
                affected.kind, affected.id
            );
        };
        assert_eq!(
            change.change, expected,
            "diff: {} {}:\n{text}",
            affected.kind, affected.id
        );
        assert_eq!(
            change.severity, affected.severity,
            "diff: the severity of {} {} ({:?})",
            affected.kind, affected.id, change.reasons
        );
    }
    let accounted = removed_with_dependents(&before, &incident, &diff);
    for change in &diff.changes {
        let ours = match change.change {
            ChangeType::Removed => accounted.contains(&(change.kind.clone(), change.id.clone())),
            ChangeType::Modified => incident
                .changed
                .iter()
                .any(|a| a.kind == change.kind && a.id == change.id),
            _ => false,
        };
        assert!(
            ours,
            "diff: {:?} {} {} is not the incident's:\n{text}",
            change.change, change.kind, change.id
        );
        assert!(
            incident.kinds.contains(&change.kind),
            "diff: the incident's restore does not cover {}",
            change.kind
        );
    }
    AfterIncident {
        run,
        before,
        incident,
        diff,
    }
}

/// Check 8: the restore of the incident's kinds, planned, executed and backed up again.
pub async fn restore_round_trip(after: AfterIncident) {
    let AfterIncident {
        run,
        before,
        incident,
        diff,
    } = after;
    let provider = run.provider.as_ref();
    if provider.restorer().is_none() {
        return;
    }
    let options = RestoreOptions {
        kinds: Some(incident.kinds.clone()),
        update_existing: true,
        ..RestoreOptions::default()
    };
    let writes = run.fake.write_count();
    let plan = restore::plan(&before, provider, &options)
        .await
        .expect("plan");
    // The whole backup needs the same writes: nothing outside the incident's kinds differs.
    let whole = plan_updating_everything(&before, provider).await;
    assert_eq!(
        run.fake.write_count(),
        writes,
        "restore round trip: the dry run sent writes"
    );
    assert_eq!(
        whole.writes(),
        plan.writes(),
        "restore round trip: a plan of the whole backup writes more than the incident's kinds: {}",
        whole.render_text()
    );
    let text = plan.render_text();
    for change in &diff.changes {
        let step = plan
            .steps
            .iter()
            .find(|s| s.kind == change.kind && s.source_id == change.id);
        let brought_back = matches!(
            (change.change, step.map(|s| &s.action)),
            (ChangeType::Removed, Some(StepAction::Create))
                | (ChangeType::Modified, Some(StepAction::Update { .. }))
        );
        assert!(
            brought_back,
            "restore round trip: the plan does not bring back {} {}: {text}",
            change.kind, change.id
        );
    }
    for step in &plan.steps {
        for reference in &step.references {
            if let Resolution::InPlan { step: earlier } = reference.resolution {
                assert!(
                    earlier < step.index,
                    "restore round trip: step {} ({} {}) comes before step {earlier}, which it references",
                    step.index,
                    step.kind,
                    step.label
                );
            }
        }
        // Every secret of a re-created resource is on the rotation checklist.
        if step.action == StepAction::Create
            && let Some(resource) = before.get(&step.kind, &step.source_id)
        {
            for secret in redact::placeholders(resource) {
                assert!(
                    plan.rotation_checklist.iter().any(|p| p.kind == secret.kind
                        && p.resource == secret.resource
                        && p.field == secret.field),
                    "restore round trip: the rotation checklist lacks {} {} {}",
                    secret.kind,
                    secret.resource,
                    secret.field
                );
            }
        }
    }
    assert_eq!(
        plan.unresolved().count(),
        0,
        "restore round trip: unresolved references: {text}"
    );
    assert!(
        !plan.is_critical(),
        "restore round trip: the guard stops the plan: {:?}",
        plan.guard
    );
    for note in &incident.differences.plan_notes {
        assert!(
            plan.notes.iter().any(|n| n.contains(note.as_str())),
            "restore round trip: the plan does not say {note:?}: {:?}",
            plan.notes
        );
    }

    let report = restore::execute(&plan, &before, provider, ExecuteOptions::default())
        .await
        .expect("execute");
    assert_eq!(
        report.failed,
        0,
        "restore round trip: {}",
        report.render_text()
    );
    assert!(
        report.unverified.is_empty(),
        "restore round trip: unverified references {:?}",
        report.unverified
    );

    let restored = backup::run(provider, &BackupOptions::default())
        .await
        .expect("backup runs");
    let (remaining, _) = diff::diff_after_restore(
        &before,
        &restored,
        provider.kinds(),
        &provider.severity_rules(),
    );
    let differences = &incident.differences;
    assert!(
        remaining.changes.iter().all(|c| differences.explains(c)),
        "restore round trip: the restored tenant differs beyond the documented differences ({:?}):\n{}",
        differences.fields,
        remaining.render_text(Severity::Info)
    );
    for (kind, pointer) in &differences.fields {
        assert!(
            remaining
                .changes
                .iter()
                .any(|c| c.kind == *kind && c.fields.iter().any(|f| f.pointer == *pointer)),
            "restore round trip: the documented difference {kind} {pointer} did not happen:\n{}",
            remaining.render_text(Severity::Info)
        );
    }

    // Idempotent: a second plan of the whole backup writes nothing, and executing it neither.
    let again = restore::plan(&before, provider, &RestoreOptions::default())
        .await
        .expect("plan");
    assert_eq!(
        again.writes(),
        0,
        "restore round trip: a second plan still writes: {}",
        again.render_text()
    );
    // Asked to update existing resources too, it would change only the documented differences
    // (a re-created sub-resource's new own id is no difference).
    let updates = plan_updating_everything(&before, provider).await;
    for step in updates.steps.iter().filter(|s| s.action.writes()) {
        let documented = match &step.action {
            StepAction::Update { changes } => changes.iter().all(|c| {
                differences
                    .fields
                    .iter()
                    .any(|(kind, pointer)| *kind == step.kind && *pointer == c.pointer)
            }),
            _ => false,
        };
        assert!(
            documented,
            "restore round trip: a second plan updating existing resources still writes \
             {} {}: {}",
            step.kind,
            step.label,
            updates.render_text()
        );
    }
    let writes = run.fake.write_count();
    let second = restore::execute(&again, &before, provider, ExecuteOptions::default())
        .await
        .expect("execute");
    assert_eq!(second.failed, 0, "{}", second.render_text());
    assert_eq!(
        run.fake.write_count(),
        writes,
        "restore round trip: a second execute wrote"
    );
}
