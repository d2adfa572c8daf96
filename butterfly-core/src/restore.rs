//! Restore: a plan first (the dry run), then exactly that plan, with a ledger.
//!
//! The engine is provider-agnostic. It reads the target through the [`Provider`] trait (a
//! backup of the kinds involved), matches resources by id and natural key, orders steps by
//! kind dependencies, resolves every reference through an old-id → new-id map, and writes
//! only through the provider's [`Restorer`].
//!
//! ```text
//! plan(snapshot, target, options)  -> RestorePlan   (reads only; zero writes)
//! execute(&plan, snapshot, target) -> RestoreReport (refuses a stale plan; ledger; verify)
//! ```
//!
//! Environment sync is the same two calls with a target provider for another tenant.
//!
//! A resource that is re-created comes back under a new id, so existing resources that named
//! it would be left dangling. The plan lists them: by default it repairs them
//! ([`StepAction::Repair`]: the target's own body with only those references set to the new
//! id, nothing else it was not asked to change); with [`RestoreOptions::repair_references`]
//! off they are [`DanglingReference`]s. After execution every reference of every resource of
//! the plan, written or left alone, is checked against the target, and the ones that resolve
//! to nothing are the report's unverified references.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backup::{self, BackupOptions};
use crate::diff::{self, FieldChange};
use crate::error::{Error, ErrorKind, Result};
use crate::kind::{KindRef, ResourceKind};
use crate::provider::Provider;
use crate::redact::{self, SecretPlaceholder};
use crate::resource::Resource;
use crate::snapshot::{KindOutcome, Snapshot, SnapshotId};

/// Why one resource cannot be restored (a system app, a directory-sourced user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannotRestore(pub String);

/// How bad a lockout finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardLevel {
    /// Worth reading; does not block.
    Warning,
    /// Blocks execution unless explicitly overridden.
    Critical,
}

/// Something the provider's lockout guard found in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardFinding {
    /// Severity.
    pub level: GuardLevel,
    /// Step concerned, when there is one.
    pub step: Option<usize>,
    /// What would happen.
    pub message: String,
}

/// The write half of a provider, used by the restore engine.
#[async_trait]
pub trait Restorer: Send + Sync {
    /// Whether this particular resource can be restored; the default accepts every resource
    /// of a kind whose [`restore_support`](ResourceKind::restore_support) allows it.
    fn check(
        &self,
        kind: &dyn ResourceKind,
        resource: &Resource,
    ) -> std::result::Result<(), CannotRestore> {
        let _ = resource;
        match kind.restore_support() {
            crate::kind::RestoreSupport::None { reason } => Err(CannotRestore(reason.to_string())),
            _ => Ok(()),
        }
    }

    /// What cannot come back for a kind, said up front in every plan that creates it
    /// (for example "users are created STAGED, without password or MFA factors").
    fn restore_notes(&self, kind: &dyn ResourceKind) -> Vec<String> {
        let _ = kind;
        Vec::new()
    }

    /// Kinds the guard needs to read in the target whatever is being restored (for example
    /// admin role assignments).
    fn guard_kinds(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// The provider's lockout guard: findings about what the plan would do to admin access
    /// (a policy that denies all admins, no active super admin left, MFA for admins removed).
    fn guard(&self, plan: &RestorePlan, source: &Snapshot, target: &Snapshot) -> Vec<GuardFinding> {
        let _ = (plan, source, target);
        Vec::new()
    }

    /// Creates `resource` (references already rewritten to target ids, secret placeholders
    /// removed, `parent_id` the target parent) and returns its id in the target.
    async fn create(&self, kind: &dyn ResourceKind, resource: &Resource) -> Result<String>;

    /// Updates target resource `target_id` to match `resource` (prepared as for `create`).
    async fn update(
        &self,
        kind: &dyn ResourceKind,
        target_id: &str,
        resource: &Resource,
    ) -> Result<()>;
}

/// What to restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreOptions {
    /// Kind ids to restore; `None` means every kind of the snapshot the provider knows.
    pub kinds: Option<Vec<String>>,
    /// Source resource ids to restore; `None` means all of the selected kinds.
    pub ids: Option<Vec<String>>,
    /// Update resources that exist but differ (default: skip them).
    pub update_existing: bool,
    /// Do not create missing resources (default: create them).
    pub skip_missing: bool,
    /// Repair existing resources whose references point at a resource the plan re-creates
    /// (default: on). Without it a group rule that named a deleted group keeps the old id
    /// after the group comes back under a new one; with it the plan adds a
    /// [`StepAction::Repair`] step that writes the new id into those references and nothing
    /// else. Off, such references are listed as [`DanglingReference`]s and reported as
    /// unverified after execution.
    #[serde(default = "on")]
    pub repair_references: bool,
}

fn on() -> bool {
    true
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions {
            kinds: None,
            ids: None,
            update_existing: false,
            skip_missing: false,
            repair_references: true,
        }
    }
}

/// What a step will do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum StepAction {
    /// Create the resource in the target.
    Create,
    /// Update the matched target resource; the changes are target → source.
    Update {
        /// Field-level changes the update applies.
        changes: Vec<FieldChange>,
    },
    /// Write only the references of an existing resource that point at resources this plan
    /// re-creates: the target's current body with those reference values replaced by the new
    /// ids (known at execution). Other differences are left as they are, because updating
    /// existing resources was not asked for.
    Repair {
        /// The references written.
        repairs: Vec<ReferenceRepair>,
    },
    /// Nothing to do.
    Skip {
        /// Why.
        reason: String,
    },
    /// Cannot be restored.
    CannotRestore {
        /// Why.
        reason: String,
    },
    /// Several target resources match; nothing is done rather than guessing.
    Ambiguous {
        /// Target ids that match.
        candidates: Vec<String>,
    },
}

impl StepAction {
    /// A one-word label.
    pub fn label(&self) -> &'static str {
        match self {
            StepAction::Create => "create",
            StepAction::Update { .. } => "update",
            StepAction::Repair { .. } => "repair refs",
            StepAction::Skip { .. } => "skip",
            StepAction::CannotRestore { .. } => "cannot restore",
            StepAction::Ambiguous { .. } => "ambiguous",
        }
    }

    /// Whether the step writes.
    pub fn writes(&self) -> bool {
        matches!(
            self,
            StepAction::Create | StepAction::Update { .. } | StepAction::Repair { .. }
        )
    }
}

/// One reference of an existing target resource that a [`StepAction::Repair`] step rewrites to
/// the new id of a resource the plan re-creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceRepair {
    /// Pointer in the target's body that receives the new id.
    pub pointer: String,
    /// Kind of the re-created resource.
    pub kind: String,
    /// Its id in the source snapshot.
    pub source_id: String,
    /// Its label (natural key or id).
    pub label: String,
    /// The step that re-creates it; its new id is written here.
    pub created_by: usize,
    /// What the target holds at `pointer` now: the old, dangling id, or `None` when the target
    /// no longer names anything there (the id is then added).
    pub current: Option<String>,
}

/// A reference of an existing target resource that the plan leaves unresolved: it names a
/// resource missing from the target, or it should name a re-created resource and will not be
/// repaired. Execution reports the dangling ones among its unverified references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DanglingReference {
    /// Pointer in the target's body (for a reference the target no longer holds, the pointer
    /// in the snapshot's body).
    pub pointer: String,
    /// Referenced kind.
    pub kind: String,
    /// The id the target holds there, if any.
    pub current: Option<String>,
    /// The step that re-creates the resource it should name, when there is one.
    pub recreated_by: Option<usize>,
    /// Why it is left as it is.
    pub reason: String,
}

/// How a reference inside a step's body will be resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "resolution", rename_all = "snake_case")]
pub enum Resolution {
    /// The referenced resource exists in the target under this id.
    InTarget {
        /// Target id.
        target_id: String,
    },
    /// The referenced resource is created by an earlier step.
    InPlan {
        /// Step index.
        step: usize,
    },
    /// Neither in the target nor in the plan: the field will be dropped from the write.
    Unresolved,
}

/// One reference of a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedReference {
    /// Pointer in the body (empty for the parent).
    pub pointer: String,
    /// Referenced kind.
    pub kind: String,
    /// Id in the source snapshot.
    pub source_id: String,
    /// How it resolves.
    #[serde(flatten)]
    pub resolution: Resolution,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStep {
    /// Position in the plan.
    pub index: usize,
    /// Kind id.
    pub kind: String,
    /// Id in the source snapshot.
    pub source_id: String,
    /// Label (natural key or id).
    pub label: String,
    /// Matched target id, if any.
    pub target_id: Option<String>,
    /// What to do.
    #[serde(flatten)]
    pub action: StepAction,
    /// References (and the parent, with an empty pointer) and how they resolve.
    pub references: Vec<PlannedReference>,
    /// For an existing resource: references the plan leaves unresolved in the target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dangling: Vec<DanglingReference>,
}

/// A restore plan: the dry run. Serializes to JSON; [`RestorePlan::render_text`] for humans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestorePlan {
    /// Source snapshot.
    pub source: SnapshotId,
    /// Provider name.
    pub provider: String,
    /// Tenant the snapshot came from.
    pub source_tenant: String,
    /// Tenant the plan writes to.
    pub target_tenant: String,
    /// When the plan was made.
    pub planned_at: DateTime<Utc>,
    /// Options used.
    pub options: RestoreOptions,
    /// Steps in execution order (dependencies first).
    pub steps: Vec<PlanStep>,
    /// Source id → target id for resources that already exist in the target, per kind.
    pub id_map: BTreeMap<String, BTreeMap<String, String>>,
    /// Per kind read from the target, the digest of its content at planning time.
    pub target_state: BTreeMap<String, String>,
    /// What cannot come back, said up front.
    pub notes: Vec<String>,
    /// Secrets to rotate or re-enter after the restore.
    pub rotation_checklist: Vec<SecretPlaceholder>,
    /// The lockout guard's findings.
    pub guard: Vec<GuardFinding>,
}

impl RestorePlan {
    /// Whether the guard found something critical (execution then needs an override).
    pub fn is_critical(&self) -> bool {
        self.guard.iter().any(|g| g.level == GuardLevel::Critical)
    }

    /// Steps that write.
    pub fn writes(&self) -> usize {
        self.steps.iter().filter(|s| s.action.writes()).count()
    }

    /// References that resolve to nothing, with their step.
    pub fn unresolved(&self) -> impl Iterator<Item = (&PlanStep, &PlannedReference)> {
        self.steps
            .iter()
            .filter(|s| s.action.writes())
            .flat_map(|s| s.references.iter().map(move |r| (s, r)))
            .filter(|(_, r)| r.resolution == Resolution::Unresolved)
    }

    /// References of existing resources that the plan repairs, with their step.
    pub fn repairs(&self) -> impl Iterator<Item = (&PlanStep, &ReferenceRepair)> {
        self.steps.iter().flat_map(|s| {
            let repairs: &[ReferenceRepair] = match &s.action {
                StepAction::Repair { repairs } => repairs,
                _ => &[],
            };
            repairs.iter().map(move |r| (s, r))
        })
    }

    /// References of existing resources that the plan leaves unresolved, with their step.
    pub fn dangling(&self) -> impl Iterator<Item = (&PlanStep, &DanglingReference)> {
        self.steps
            .iter()
            .flat_map(|s| s.dangling.iter().map(move |d| (s, d)))
    }

    /// Counts per kind and action.
    pub fn counts(&self) -> BTreeMap<(String, &'static str), usize> {
        let mut out = BTreeMap::new();
        for s in &self.steps {
            *out.entry((s.kind.clone(), s.action.label())).or_insert(0) += 1;
        }
        out
    }

    /// A readable summary: counts per kind and action, then the details.
    pub fn render_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Restore plan: snapshot {} ({}) -> {} [{}]",
            self.source, self.source_tenant, self.target_tenant, self.provider
        );
        let _ = write!(t, "{} steps, {} writes", self.steps.len(), self.writes());
        let (repairs, dangling) = (self.repairs().count(), self.dangling().count());
        if repairs > 0 {
            let _ = write!(t, ", {repairs} references of existing resources repaired");
        }
        if dangling > 0 {
            let _ = write!(
                t,
                ", {dangling} references of existing resources UNRESOLVED"
            );
        }
        let _ = writeln!(t);
        for g in &self.guard {
            let level = match g.level {
                GuardLevel::Critical => "CRITICAL",
                GuardLevel::Warning => "warning",
            };
            let _ = writeln!(t, "  !! {level}: {}", g.message);
        }
        if self.is_critical() {
            let _ = writeln!(
                t,
                "  !! execution is refused unless the lockout override is given"
            );
        }
        let _ = writeln!(t, "\nBy kind (skipped resources not listed):");
        for ((kind, action), n) in self.counts() {
            if action != "skip" {
                let _ = writeln!(t, "  {kind:<40} {action:<15} {n}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(t, "\nWhat cannot come back:");
            for n in &self.notes {
                let _ = writeln!(t, "  - {n}");
            }
        }
        let unresolved: Vec<_> = self.unresolved().collect();
        if !unresolved.is_empty() {
            let _ = writeln!(t, "\nUnresolved references (dropped from the write):");
            for (s, r) in unresolved {
                let _ = writeln!(
                    t,
                    "  - step {} {} {}: {} -> {} {}",
                    s.index, s.kind, s.label, r.pointer, r.kind, r.source_id
                );
            }
        }
        let dangling: Vec<_> = self.dangling().collect();
        if !dangling.is_empty() {
            let _ = writeln!(
                t,
                "\nUnresolved references of existing resources (left as they are):"
            );
            for (s, d) in dangling {
                let holds = d
                    .current
                    .as_deref()
                    .map_or("nothing".to_string(), |c| format!("{c:?}"));
                let names = match d.recreated_by {
                    Some(step) => format!("{} re-created by step {step}", d.kind),
                    None => format!("{} missing from the target", d.kind),
                };
                let _ = writeln!(
                    t,
                    "  - step {} {} {}: {} holds {holds}, should name {names}: {}",
                    s.index, s.kind, s.label, d.pointer, d.reason
                );
            }
        }
        let _ = writeln!(t, "\nSteps:");
        for s in self
            .steps
            .iter()
            .filter(|s| !matches!(s.action, StepAction::Skip { .. }))
        {
            let target = s
                .target_id
                .as_deref()
                .map(|t| format!(" (target {t})"))
                .unwrap_or_default();
            let _ = writeln!(
                t,
                "  {:>4}. {:<15} {} {}{target}",
                s.index,
                s.action.label(),
                s.kind,
                s.label
            );
            match &s.action {
                StepAction::Update { changes } => {
                    for c in changes {
                        let _ = writeln!(
                            t,
                            "          ~ {}: {} -> {}",
                            c.pointer,
                            diff::short(&c.old, 60),
                            diff::short(&c.new, 60)
                        );
                    }
                }
                StepAction::Repair { repairs } => {
                    for r in repairs {
                        let (from, how) = match &r.current {
                            Some(old) => (format!("{old:?} (dangling)"), "written"),
                            None => ("nothing".to_string(), "added"),
                        };
                        let _ = writeln!(
                            t,
                            "          ~ ref {}: {from} -> {} '{}', re-created by step {} (its new id is {how} at execution)",
                            r.pointer, r.kind, r.label, r.created_by
                        );
                    }
                    let _ = writeln!(
                        t,
                        "          only these references are written; other fields stay as they are in the target"
                    );
                }
                StepAction::CannotRestore { reason } => {
                    let _ = writeln!(t, "          {reason}");
                }
                StepAction::Ambiguous { candidates } => {
                    let _ = writeln!(
                        t,
                        "          matches {} target resources: {}",
                        candidates.len(),
                        candidates.join(", ")
                    );
                }
                _ => {}
            }
            if matches!(s.action, StepAction::Repair { .. }) {
                // The repair lines above say what its references become.
                continue;
            }
            for r in &s.references {
                let how = match &r.resolution {
                    Resolution::InTarget { target_id } => format!("existing {target_id}"),
                    Resolution::InPlan { step } => format!("created by step {step}"),
                    Resolution::Unresolved => "UNRESOLVED".to_string(),
                };
                let at = if r.pointer.is_empty() {
                    "parent"
                } else {
                    &r.pointer
                };
                let _ = writeln!(t, "          ref {at} -> {} {}: {how}", r.kind, r.source_id);
            }
        }
        let skipped = self
            .steps
            .iter()
            .filter(|s| matches!(s.action, StepAction::Skip { .. }))
            .count();
        if skipped > 0 {
            let _ = writeln!(t, "  ({skipped} resources skipped: already present)");
        }
        if !self.rotation_checklist.is_empty() {
            let _ = writeln!(t, "\nRotate or re-enter after restore:");
            for p in &self.rotation_checklist {
                let _ = writeln!(
                    t,
                    "  [ ] {} {}: {} at {}",
                    p.kind, p.resource, p.secret, p.field
                );
            }
        }
        t
    }
}

/// Options of [`execute`].
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct ExecuteOptions {
    /// Execute even though the lockout guard found something critical.
    pub override_lockout: bool,
}

/// How one step of an execution ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StepOutcome {
    /// Created with this new id.
    Created,
    /// Updated.
    Updated,
    /// Not written (skip, cannot restore, ambiguous in the plan).
    NotWritten,
    /// Not attempted because a step it depends on failed.
    DependencyFailed {
        /// The failed step.
        step: usize,
    },
    /// The provider refused or failed.
    Failed {
        /// The error kind.
        kind: ErrorKind,
        /// The provider's error.
        error: String,
    },
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Step index.
    pub step: usize,
    /// Kind id.
    pub kind: String,
    /// Id in the source snapshot.
    pub old_id: String,
    /// Id in the target after the step, if any.
    pub new_id: Option<String>,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: StepOutcome,
}

/// A reference that did not resolve after execution: one the restore wrote, or one of an
/// existing resource in the plan that the restore left as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnverifiedReference {
    /// Step of the resource that holds it (that wrote it, or that left it alone).
    pub step: usize,
    /// Pointer in the body.
    pub pointer: String,
    /// Kind of the referenced resource.
    pub kind: String,
    /// Target id it holds.
    pub target_id: String,
}

/// What [`execute`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreReport {
    /// One entry per step.
    pub ledger: Vec<LedgerEntry>,
    /// Resources created.
    pub created: usize,
    /// Resources updated (reference repairs included).
    pub updated: usize,
    /// Of the updates, existing resources whose references were repaired.
    #[serde(default)]
    pub repaired: usize,
    /// Steps that failed (including dependency failures).
    pub failed: usize,
    /// References that do not resolve in the target after execution: those written, and
    /// those of existing resources of the plan that were left as they were.
    pub unverified: Vec<UnverifiedReference>,
    /// Secrets to rotate or re-enter.
    pub rotation_checklist: Vec<SecretPlaceholder>,
}

impl RestoreReport {
    /// Failures with their errors.
    pub fn failures(&self) -> impl Iterator<Item = &LedgerEntry> {
        self.ledger.iter().filter(|e| {
            matches!(
                e.outcome,
                StepOutcome::Failed { .. } | StepOutcome::DependencyFailed { .. }
            )
        })
    }

    /// A readable summary of the ledger.
    pub fn render_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Restore executed: {} created, {} updated ({} reference repairs), {} failed, {} unverified references",
            self.created,
            self.updated,
            self.repaired,
            self.failed,
            self.unverified.len()
        );
        for e in &self.ledger {
            let line = match &e.outcome {
                StepOutcome::Created => format!(
                    "created {} -> {}",
                    e.old_id,
                    e.new_id.as_deref().unwrap_or("?")
                ),
                StepOutcome::Updated => {
                    format!("updated {}", e.new_id.as_deref().unwrap_or(&e.old_id))
                }
                StepOutcome::NotWritten => continue,
                StepOutcome::DependencyFailed { step } => {
                    format!("not attempted {}: step {step} failed", e.old_id)
                }
                StepOutcome::Failed { error, .. } => format!("FAILED {}: {error}", e.old_id),
            };
            let _ = writeln!(t, "  {:>4}. {} {line}", e.step, e.kind);
        }
        for u in &self.unverified {
            let entry = self.ledger.iter().find(|e| e.step == u.step);
            let of = entry.map_or(String::new(), |e| {
                format!(" {} {}", e.kind, e.new_id.as_deref().unwrap_or(&e.old_id))
            });
            let left = match entry.map(|e| &e.outcome) {
                Some(StepOutcome::Created | StepOutcome::Updated) => "",
                _ => " (left as it was)",
            };
            let _ = writeln!(
                t,
                "  unverified: step {}{of} {} -> {} {} does not exist{left}",
                u.step, u.pointer, u.kind, u.target_id
            );
        }
        if !self.rotation_checklist.is_empty() {
            let _ = writeln!(t, "Rotate or re-enter:");
            for p in &self.rotation_checklist {
                let _ = writeln!(
                    t,
                    "  [ ] {} {}: {} at {}",
                    p.kind, p.resource, p.secret, p.field
                );
            }
        }
        t
    }
}

/// Kinds involved in a restore: the selected ones plus everything they depend on or refer to.
fn involved_kinds(
    provider: &dyn Provider,
    source: &Snapshot,
    options: &RestoreOptions,
) -> Result<(Vec<KindRef>, BTreeSet<String>)> {
    let selected: BTreeSet<String> = match &options.kinds {
        Some(list) => {
            for id in list {
                if provider.kind(id).is_none() {
                    return Err(Error::config(format!(
                        "unknown kind {id:?} for {}",
                        provider.name()
                    )));
                }
            }
            list.iter().cloned().collect()
        }
        None => source
            .kinds
            .keys()
            .filter(|k| provider.kind(k).is_some())
            .cloned()
            .collect(),
    };
    let mut involved = selected.clone();
    if let Some(r) = provider.restorer() {
        involved.extend(
            r.guard_kinds()
                .into_iter()
                .filter(|k| provider.kind(k).is_some())
                .map(str::to_string),
        );
    }
    let mut stack: Vec<String> = selected.iter().cloned().collect();
    while let Some(id) = stack.pop() {
        let Some(kind) = provider.kind(&id) else {
            continue;
        };
        let more = kind
            .depends_on()
            .iter()
            .map(|s| s.to_string())
            .chain(kind.parent().map(str::to_string))
            .chain(kind.reference_fields().iter().map(|r| r.kind.to_string()));
        for dep in more {
            if provider.kind(&dep).is_some() && involved.insert(dep.clone()) {
                stack.push(dep);
            }
        }
    }
    let kinds: Vec<KindRef> = provider
        .kinds()
        .iter()
        .copied()
        .filter(|k| involved.contains(k.id()))
        .collect();
    Ok((crate::kind::topological_order(&kinds)?, selected))
}

async fn read_target(target: &dyn Provider, kinds: &[KindRef]) -> Result<Snapshot> {
    let ids: Vec<String> = kinds.iter().map(|k| k.id().to_string()).collect();
    let snapshot = backup::run(target, &BackupOptions::default().kinds(ids)).await?;
    for (kind, data) in &snapshot.kinds {
        if let KindOutcome::Failed { error, .. } | KindOutcome::Denied { missing: error } =
            &data.outcome
        {
            return Err(Error::new(
                ErrorKind::Transient,
                format!("could not read {kind} from the target: {error}"),
            ));
        }
    }
    Ok(snapshot)
}

/// Per kind, a digest of the target's configuration: ids and bodies without volatile fields,
/// so activity that is not configuration (a user's last login) does not make a plan stale.
fn target_digests(target: &Snapshot, provider: &dyn Provider) -> Result<BTreeMap<String, String>> {
    use sha2::{Digest, Sha256};
    let mut out = BTreeMap::new();
    for (kind_id, data) in &target.kinds {
        let mut hasher = Sha256::new();
        for r in &data.resources {
            let mut body = Value::clone(&r.body);
            if let Some(kind) = provider.kind(kind_id) {
                for v in kind.volatile_fields() {
                    crate::pointer::remove_all(&mut body, v);
                }
            }
            hasher.update(r.id.as_bytes());
            hasher.update(b"\t");
            hasher.update(crate::snapshot::canonical_json(&body)?);
            hasher.update(b"\n");
        }
        out.insert(kind_id.clone(), hex::encode(hasher.finalize()));
    }
    Ok(out)
}

#[derive(Clone)]
enum Mapped {
    Existing(String),
    Planned(usize),
}

/// The key used to match resources of a kind without a natural key: target parent id plus the
/// target ids of every reference, in pointer order, plus the kind's structural fields.
fn structural_key(
    resource: &Resource,
    kind: &dyn ResourceKind,
    resolve: &dyn Fn(&str, &str) -> Option<String>,
) -> Option<String> {
    let mut parts = Vec::new();
    if let (Some(parent_kind), Some(parent_id)) = (kind.parent(), &resource.parent_id) {
        parts.push(resolve(parent_kind, parent_id)?);
    }
    // References are stored sorted by id; the key must not depend on what the ids are.
    let mut refs: Vec<&crate::resource::Reference> = resource.references.iter().collect();
    refs.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    for r in refs {
        parts.push(format!("{}={}", r.pointer, resolve(&r.kind, &r.id)?));
    }
    parts.extend(crate::kind::structural_parts(kind, &resource.body));
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("|"))
    }
}

/// A natural key scoped by the parent's target id: two policies may both have a rule named
/// "Rule 1". `None` when the parent has no target id yet (so it cannot match anything).
fn scoped(
    kind: &dyn ResourceKind,
    resource: &Resource,
    key: &str,
    resolve: &dyn Fn(&str, &str) -> Option<String>,
) -> Option<String> {
    match (kind.parent(), &resource.parent_id) {
        (Some(pk), Some(pid)) => Some(format!("{}\u{1f}{key}", resolve(pk, pid)?)),
        _ => Some(key.to_string()),
    }
}

/// Makes the dry-run plan: reads the target, matches, orders, resolves. Performs no writes.
pub async fn plan(
    source: &Snapshot,
    target: &dyn Provider,
    options: &RestoreOptions,
) -> Result<RestorePlan> {
    if source.meta.provider != target.name() {
        return Err(Error::config(format!(
            "snapshot {} is of provider {}, the target is {}",
            source.meta.id,
            source.meta.provider,
            target.name()
        )));
    }
    let (kinds, selected) = involved_kinds(target, source, options)?;
    let target_snapshot = read_target(target, &kinds).await?;
    let restorer = target.restorer();
    let wanted_ids: Option<BTreeSet<&str>> = options
        .ids
        .as_ref()
        .map(|ids| ids.iter().map(String::as_str).collect());

    let mut map: HashMap<(String, String), Mapped> = HashMap::new();
    let mut steps: Vec<PlanStep> = Vec::new();
    let mut notes: BTreeSet<String> = BTreeSet::new();
    let mut rotation = Vec::new();

    for kind in &kinds {
        let kid = kind.id();
        let targets = target_snapshot.resources(kid);
        let by_id: HashMap<&str, &Resource> = targets.iter().map(|r| (r.id.as_str(), r)).collect();
        let mut by_key: HashMap<String, Vec<&Resource>> = HashMap::new();
        let resolve_target = |_: &str, id: &str| Some(id.to_string());
        for t in targets {
            let key = match &t.natural_key {
                Some(k) => scoped(*kind, t, k, &resolve_target),
                None if kind.natural_key().is_empty() => structural_key(t, *kind, &resolve_target),
                None => None,
            };
            if let Some(key) = key {
                by_key.entry(key).or_default().push(t);
            }
        }
        if let Some(data) = source.kinds.get(kid)
            && data.outcome != KindOutcome::Complete
            && selected.contains(kid)
        {
            notes.insert(format!(
                "{kid} was not fully backed up in the snapshot ({}); it is not restored",
                data.outcome.label()
            ));
            continue;
        }
        let is_selected = selected.contains(kid);
        for resource in source.resources(kid) {
            let resolve_source = |k: &str, id: &str| match map.get(&(k.to_string(), id.to_string()))
            {
                Some(Mapped::Existing(t)) => Some(t.clone()),
                _ => None,
            };
            // Match: same id first (same tenant), then the natural or structural key.
            let key = match &resource.natural_key {
                Some(k) => scoped(*kind, resource, k, &resolve_source),
                None if kind.natural_key().is_empty() => {
                    structural_key(resource, *kind, &resolve_source)
                }
                None => None,
            };
            // The same id is the same object (a restore into the tenant it came from).
            let matches: Vec<&Resource> = match by_id.get(resource.id.as_str()) {
                Some(t) => vec![*t],
                None => key
                    .as_ref()
                    .and_then(|k| by_key.get(k))
                    .cloned()
                    .unwrap_or_default(),
            };
            if matches.len() == 1 {
                map.insert(
                    (kid.to_string(), resource.id.clone()),
                    Mapped::Existing(matches[0].id.clone()),
                );
            }
            let wanted = is_selected
                && wanted_ids
                    .as_ref()
                    .is_none_or(|ids| ids.contains(resource.id.as_str()));
            if !wanted {
                continue;
            }
            let index = steps.len();
            let mut references = Vec::new();
            let mut push_ref =
                |pointer: String,
                 rkind: &str,
                 rid: &str,
                 map: &HashMap<(String, String), Mapped>| {
                    let resolution = match map.get(&(rkind.to_string(), rid.to_string())) {
                        Some(Mapped::Existing(t)) => Resolution::InTarget {
                            target_id: t.clone(),
                        },
                        Some(Mapped::Planned(s)) => Resolution::InPlan { step: *s },
                        None => Resolution::Unresolved,
                    };
                    references.push(PlannedReference {
                        pointer,
                        kind: rkind.to_string(),
                        source_id: rid.to_string(),
                        resolution,
                    });
                };
            if let (Some(pk), Some(pid)) = (kind.parent(), &resource.parent_id) {
                push_ref(String::new(), pk, pid, &map);
            }
            for r in &resource.references {
                push_ref(r.pointer.clone(), &r.kind, &r.id, &map);
            }
            let parent_unresolved = references
                .iter()
                .any(|r| r.pointer.is_empty() && r.resolution == Resolution::Unresolved);
            let check = match restorer {
                None => Err(CannotRestore(format!(
                    "the {} provider is read-only",
                    target.name()
                ))),
                Some(r) => r.check(*kind, resource),
            };
            let action = if matches.len() > 1 {
                StepAction::Ambiguous {
                    candidates: matches.iter().map(|m| m.id.clone()).collect(),
                }
            } else if let Some(existing) = matches.first() {
                // A reference to a resource the plan creates compares as a marker, so the
                // change reads "old id -> new id from step N" rather than a removal.
                let prepared = prepare(resource, *kind, &|k, id| match map
                    .get(&(k.to_string(), id.to_string()))
                {
                    Some(Mapped::Existing(t)) => Some(t.clone()),
                    Some(Mapped::Planned(s)) => Some(format!("<new id from step {s}>")),
                    None => None,
                });
                let changes = comparable_changes(
                    *kind,
                    &existing.body,
                    &prepared.body,
                    &resource.id,
                    &existing.id,
                );
                if changes.is_empty() {
                    StepAction::Skip {
                        reason: "exists and is equal".into(),
                    }
                } else if !options.update_existing {
                    StepAction::Skip {
                        reason: format!(
                            "exists with {} differing fields; update not requested",
                            changes.len()
                        ),
                    }
                } else if let Err(CannotRestore(reason)) = check {
                    StepAction::CannotRestore { reason }
                } else if !kind.restore_support().can_update() {
                    StepAction::CannotRestore {
                        reason: format!("{kid} cannot be updated through the API"),
                    }
                } else {
                    StepAction::Update { changes }
                }
            } else if let Err(CannotRestore(reason)) = check {
                // Only said when a write would be needed: present resources are just skipped.
                StepAction::CannotRestore { reason }
            } else if parent_unresolved {
                StepAction::CannotRestore {
                    reason: "its parent is neither in the target nor in the plan".into(),
                }
            } else if options.skip_missing {
                StepAction::Skip {
                    reason: "missing; creating was not requested".into(),
                }
            } else if !kind.restore_support().can_create() {
                StepAction::CannotRestore {
                    reason: format!("{kid} cannot be created through the API"),
                }
            } else {
                StepAction::Create
            };
            if action == StepAction::Create {
                map.insert(
                    (kid.to_string(), resource.id.clone()),
                    Mapped::Planned(index),
                );
                if let Some(r) = restorer {
                    notes.extend(r.restore_notes(*kind));
                }
            }
            if action.writes() {
                rotation.extend(redact::placeholders(resource));
            }
            steps.push(PlanStep {
                index,
                kind: kid.to_string(),
                source_id: resource.id.clone(),
                label: resource.label().to_string(),
                target_id: matches
                    .first()
                    .filter(|_| matches.len() == 1)
                    .map(|m| m.id.clone()),
                action,
                references,
                dangling: Vec::new(),
            });
        }
    }
    plan_repairs(
        &mut steps,
        &map,
        source,
        &target_snapshot,
        target,
        restorer,
        options,
    );

    let mut id_map: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for ((kind, sid), m) in &map {
        if let Mapped::Existing(t) = m {
            id_map
                .entry(kind.clone())
                .or_default()
                .insert(sid.clone(), t.clone());
        }
    }
    let mut plan = RestorePlan {
        source: source.meta.id.clone(),
        provider: target.name().to_string(),
        source_tenant: source.meta.tenant.clone(),
        target_tenant: target.tenant().to_string(),
        planned_at: Utc::now(),
        options: options.clone(),
        steps,
        id_map,
        target_state: target_digests(&target_snapshot, target)?,
        notes: notes.into_iter().collect(),
        rotation_checklist: rotation,
        guard: Vec::new(),
    };
    if let Some(r) = restorer {
        plan.guard = r.guard(&plan, source, &target_snapshot);
    }
    Ok(plan)
}

/// Existing resources whose references the plan leaves pointing at nothing.
///
/// For every step of a resource that exists in the target and is not written (skipped, or
/// cannot be restored): each reference of the snapshot's resource to a resource the plan
/// re-creates is placed in the target's body (over the dangling id it holds, else added), and
/// the target's other dangling references are noted. With
/// [`RestoreOptions::repair_references`] and a writable kind, the step becomes a
/// [`StepAction::Repair`] (or, when a re-created resource comes later in the plan, a repair
/// step is appended after it); otherwise everything is recorded as [`DanglingReference`]s.
fn plan_repairs(
    steps: &mut Vec<PlanStep>,
    map: &HashMap<(String, String), Mapped>,
    source: &Snapshot,
    target_snapshot: &Snapshot,
    target: &dyn Provider,
    restorer: Option<&dyn Restorer>,
    options: &RestoreOptions,
) {
    let readable = |k: &str| {
        target_snapshot
            .kinds
            .get(k)
            .is_some_and(|d| d.outcome == KindOutcome::Complete)
    };
    for i in 0..steps.len() {
        let step = &steps[i];
        if !matches!(
            step.action,
            StepAction::Skip { .. } | StepAction::CannotRestore { .. }
        ) {
            continue;
        }
        let (Some(target_id), Some(kind)) = (&step.target_id, target.kind(&step.kind)) else {
            continue;
        };
        let (Some(resource), Some(current)) = (
            source.get(&step.kind, &step.source_id),
            target_snapshot.get(&step.kind, target_id),
        ) else {
            continue;
        };
        let mut missing: Vec<&crate::resource::Reference> = current
            .references
            .iter()
            .filter(|r| readable(&r.kind) && target_snapshot.get(&r.kind, &r.id).is_none())
            .collect();
        let mut repairs = Vec::new();
        let mut dangling = Vec::new();
        let mut appended: HashMap<String, usize> = HashMap::new();
        for r in &resource.references {
            let Some(Mapped::Planned(created_by)) = map.get(&(r.kind.clone(), r.id.clone())) else {
                continue;
            };
            let created_by = *created_by;
            // Over the dangling id at the same place, else the same dangling id elsewhere (a
            // restore into the same tenant), else into a free place.
            let at = missing
                .iter()
                .position(|m| m.pointer == r.pointer && m.kind == r.kind)
                .or_else(|| {
                    missing
                        .iter()
                        .position(|m| m.kind == r.kind && m.id == r.id)
                });
            let slot = match at {
                Some(at) => {
                    let m = missing.remove(at);
                    Ok((m.pointer.clone(), Some(m.id.clone())))
                }
                None => free_slot(&current.body, &r.pointer, &mut appended).map(|p| (p, None)),
            };
            match slot {
                Ok((pointer, held)) => repairs.push(ReferenceRepair {
                    pointer,
                    kind: r.kind.clone(),
                    source_id: r.id.clone(),
                    label: steps[created_by].label.clone(),
                    created_by,
                    current: held,
                }),
                Err((held, reason)) => dangling.push(DanglingReference {
                    pointer: r.pointer.clone(),
                    kind: r.kind.clone(),
                    current: held,
                    recreated_by: Some(created_by),
                    reason,
                }),
            }
        }
        let refusal = if repairs.is_empty() {
            None
        } else if !options.repair_references {
            Some("not repaired: reference repair is turned off".to_string())
        } else if let StepAction::CannotRestore { reason } = &step.action {
            Some(format!("not repaired: {reason}"))
        } else if !kind.restore_support().can_update() {
            Some(format!(
                "not repaired: {} cannot be updated through the API",
                step.kind
            ))
        } else if let Some(r) = redact::placeholders(current).first() {
            Some(format!(
                "not repaired: writing it back would clear its {} (update it with the new id by hand)",
                r.secret
            ))
        } else {
            match restorer.map(|r| r.check(kind, resource)) {
                None => Some(format!(
                    "not repaired: the {} provider is read-only",
                    target.name()
                )),
                Some(Err(CannotRestore(reason))) => Some(format!("not repaired: {reason}")),
                Some(Ok(())) => None,
            }
        };
        if let Some(reason) = refusal {
            dangling.extend(repairs.drain(..).map(|r| DanglingReference {
                pointer: r.pointer,
                kind: r.kind,
                current: r.current,
                recreated_by: Some(r.created_by),
                reason: reason.clone(),
            }));
        }
        dangling.extend(missing.into_iter().map(|m| DanglingReference {
            pointer: m.pointer.clone(),
            kind: m.kind.clone(),
            current: Some(m.id.clone()),
            recreated_by: None,
            reason:
                "names a resource missing from the target that this plan does not restore".into(),
        }));
        let step = &mut steps[i];
        step.dangling = dangling;
        if repairs.is_empty() {
            continue;
        }
        if repairs.iter().all(|r| r.created_by < i) {
            step.action = StepAction::Repair { repairs };
        } else {
            // A re-created resource comes later (a reference without a declared dependency):
            // repair after it.
            let index = steps.len();
            let step = &mut steps[i];
            step.action = StepAction::Skip {
                reason: format!("exists; its references are repaired by step {index}"),
            };
            let repair = PlanStep {
                index,
                action: StepAction::Repair { repairs },
                dangling: Vec::new(),
                ..step.clone()
            };
            steps.push(repair);
        }
    }
}

/// Where a reference missing from a target body can be added: an array element is appended to
/// its array, a field is set when absent. `Err` holds what the target has there instead.
fn free_slot(
    body: &Value,
    pointer: &str,
    appended: &mut HashMap<String, usize>,
) -> std::result::Result<String, (Option<String>, String)> {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return Err((None, "not repaired: no place for it in the target".into()));
    };
    if last.parse::<usize>().is_ok() {
        let len = match body.pointer(parent) {
            Some(Value::Array(items)) => items.len(),
            None | Some(Value::Null) => 0,
            Some(other) => {
                return Err((
                    None,
                    format!(
                        "not repaired: the target holds {} where the list of references was",
                        diff::short(&Some(other.clone()), 40)
                    ),
                ));
            }
        };
        let next = appended.entry(parent.to_string()).or_insert(len);
        let at = format!("{parent}/{next}");
        *next += 1;
        return Ok(at);
    }
    match body.pointer(pointer) {
        None | Some(Value::Null) => Ok(pointer.to_string()),
        Some(Value::String(other)) => Err((
            Some(other.clone()),
            "not repaired: the target names another resource there (--update-existing restores the snapshot's value)".into(),
        )),
        Some(other) => Err((
            None,
            format!(
                "not repaired: the target holds {} there",
                diff::short(&Some(other.clone()), 40)
            ),
        )),
    }
}

/// Sets `pointer` in `value` to `new`, creating missing objects and arrays on the way; an
/// array index one past the end appends.
fn set_at(value: &mut Value, pointer: &str, new: Value) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return false;
    };
    if value.pointer(parent).is_none_or(Value::is_null) {
        let empty = if last.parse::<usize>().is_ok() {
            Value::Array(Vec::new())
        } else {
            Value::Object(Default::default())
        };
        if parent.is_empty() || !set_at(value, parent, empty) {
            return false;
        }
    }
    let last = crate::pointer::unescape(last);
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, new);
            true
        }
        Some(Value::Array(items)) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items[i] = new;
                true
            }
            Ok(i) if i == items.len() => {
                items.push(new);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// The source resource as it will be written: references rewritten to target ids (unresolved
/// ones removed), secret placeholders removed, parent mapped.
fn prepare(
    resource: &Resource,
    kind: &dyn ResourceKind,
    resolve: &dyn Fn(&str, &str) -> Option<String>,
) -> Resource {
    let mut out = resource.clone();
    let mut drop: Vec<String> = Vec::new();
    for r in &resource.references {
        match resolve(&r.kind, &r.id) {
            Some(target) => {
                if let Some(slot) = Arc::make_mut(&mut out.body).pointer_mut(&r.pointer) {
                    *slot = Value::String(target);
                }
            }
            None => drop.push(r.pointer.clone()),
        }
    }
    // Remove unresolved ids, highest array index first so earlier positions stay valid.
    drop.sort_by_key(|p| std::cmp::Reverse(pointer_sort_key(p)));
    for p in drop {
        remove_at(Arc::make_mut(&mut out.body), &p);
    }
    for p in redact::placeholders(resource) {
        remove_at(Arc::make_mut(&mut out.body), &p.field);
    }
    if let (Some(pk), Some(pid)) = (kind.parent(), &resource.parent_id) {
        out.parent_id = resolve(pk, pid).or(Some(pid.clone()));
    }
    out.refresh(kind);
    out
}

/// The target's current body with each repaired reference set to the new id of the resource
/// re-created for it (secret placeholders removed, so they never reach the provider).
fn repaired_body(
    now: &Snapshot,
    kind: &dyn ResourceKind,
    target_id: &str,
    repairs: &[ReferenceRepair],
    map: &HashMap<(String, String), String>,
) -> Result<Resource> {
    let current = now.get(kind.id(), target_id).ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!("{} {target_id} is gone from the target", kind.id()),
        )
    })?;
    let mut out = current.clone();
    let body = Arc::make_mut(&mut out.body);
    for r in repairs {
        let new_id = map
            .get(&(r.kind.clone(), r.source_id.clone()))
            .ok_or_else(|| {
                Error::invalid_data(format!(
                    "no new id for {} {} (step {})",
                    r.kind, r.source_id, r.created_by
                ))
            })?;
        if !set_at(body, &r.pointer, Value::String(new_id.clone())) {
            return Err(Error::invalid_data(format!(
                "cannot write {} into {} {target_id}",
                r.pointer,
                kind.id()
            )));
        }
    }
    for p in redact::placeholders(current) {
        remove_at(body, &p.field);
    }
    out.refresh(kind);
    Ok(out)
}

/// Orders pointers token by token, numbers numerically (`/a/9` before `/a/10`).
fn pointer_sort_key(pointer: &str) -> Vec<(u64, String)> {
    pointer
        .split('/')
        .map(|t| match t.parse::<u64>() {
            Ok(n) => (n, String::new()),
            Err(_) => (u64::MAX, t.to_string()),
        })
        .collect()
}

fn remove_at(value: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let last = crate::pointer::unescape(last);
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&last);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}

/// Field changes from the target body to the prepared source body that a restore can act on:
/// volatile fields, the resource's own id and fields whose source value was a secret are
/// ignored.
fn comparable_changes(
    kind: &dyn ResourceKind,
    target: &Value,
    prepared: &Value,
    source_id: &str,
    target_id: &str,
) -> Vec<FieldChange> {
    let mut target = target.clone();
    for p in redact_fields_of(prepared, &target) {
        remove_at(&mut target, &p);
    }
    let mut prepared = prepared.clone();
    for body in [&mut target, &mut prepared] {
        if let Some(Value::String(id)) = body.get("id")
            && (id == source_id || id == target_id)
            && let Some(map) = body.as_object_mut()
        {
            map.remove("id");
        }
    }
    diff::field_changes(kind, &target, &prepared)
}

/// Pointers present in the target but removed from the prepared body because they were
/// secrets in the snapshot: the target's real secret must not count as a difference.
fn redact_fields_of(_prepared: &Value, target: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_secret_names(target, String::new(), &mut out);
    out
}

fn collect_secret_names(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let here = crate::pointer::push(&at, k);
                // The target was read through a backup, so its secrets are placeholders.
                if SecretPlaceholder::from_value(v).is_some() {
                    out.push(here);
                } else {
                    collect_secret_names(v, here, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_secret_names(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Executes exactly `plan`: refuses a stale plan or an unconfirmed critical one, writes in
/// order, records a ledger, continues independent branches after a failure, and verifies that
/// every reference it wrote resolves in the target afterwards.
pub async fn execute(
    plan: &RestorePlan,
    source: &Snapshot,
    target: &dyn Provider,
    options: ExecuteOptions,
) -> Result<RestoreReport> {
    execute_observed(plan, source, target, options, &|_| {}).await
}

/// [`execute`], calling `on_step` with each ledger entry as it is written (for progress).
pub async fn execute_observed(
    plan: &RestorePlan,
    source: &Snapshot,
    target: &dyn Provider,
    options: ExecuteOptions,
    on_step: &(dyn Fn(&LedgerEntry) + Send + Sync),
) -> Result<RestoreReport> {
    if plan.source != source.meta.id {
        return Err(Error::config(format!(
            "the plan was made for snapshot {}, not {}",
            plan.source, source.meta.id
        )));
    }
    if target.tenant() != plan.target_tenant || target.name() != plan.provider {
        return Err(Error::config(format!(
            "the plan targets {} {}, not {} {}",
            plan.provider,
            plan.target_tenant,
            target.name(),
            target.tenant()
        )));
    }
    if plan.is_critical() && !options.override_lockout {
        return Err(Error::new(
            ErrorKind::Conflict,
            "the plan has critical lockout findings; review them and pass the lockout override to execute",
        ));
    }
    let restorer = target
        .restorer()
        .ok_or_else(|| Error::config(format!("the {} provider is read-only", target.name())))?;
    let kinds: Vec<KindRef> = plan
        .target_state
        .keys()
        .filter_map(|k| target.kind(k))
        .collect();
    let now = read_target(target, &kinds).await?;
    let digests = target_digests(&now, target)?;
    for (kind, digest) in &plan.target_state {
        if digests.get(kind) != Some(digest) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("the target changed since planning ({kind} differs); make a new plan"),
            ));
        }
    }

    let mut map: HashMap<(String, String), String> = HashMap::new();
    for (kind, ids) in &plan.id_map {
        for (s, t) in ids {
            map.insert((kind.clone(), s.clone()), t.clone());
        }
    }
    let mut failed_steps: BTreeSet<usize> = BTreeSet::new();
    let mut ledger = Vec::with_capacity(plan.steps.len());
    let mut written: Vec<(usize, Resource)> = Vec::new();
    let (mut created, mut updated, mut repaired) = (0, 0, 0);
    let push = |ledger: &mut Vec<LedgerEntry>, e: LedgerEntry| {
        on_step(&e);
        ledger.push(e);
    };
    for step in &plan.steps {
        let entry = |outcome: StepOutcome, new_id: Option<String>| LedgerEntry {
            step: step.index,
            kind: step.kind.clone(),
            old_id: step.source_id.clone(),
            new_id,
            outcome,
        };
        if !step.action.writes() {
            push(
                &mut ledger,
                entry(StepOutcome::NotWritten, step.target_id.clone()),
            );
            continue;
        }
        let repairs: &[ReferenceRepair] = match &step.action {
            StepAction::Repair { repairs } => repairs,
            _ => &[],
        };
        let depends = step
            .references
            .iter()
            .filter_map(|r| match r.resolution {
                Resolution::InPlan { step } => Some(step),
                _ => None,
            })
            .chain(repairs.iter().map(|r| r.created_by));
        if let Some(dep) = depends.into_iter().find(|step| failed_steps.contains(step)) {
            failed_steps.insert(step.index);
            push(
                &mut ledger,
                entry(StepOutcome::DependencyFailed { step: dep }, None),
            );
            continue;
        }
        let (Some(kind), Some(resource)) = (
            target.kind(&step.kind),
            source.get(&step.kind, &step.source_id),
        ) else {
            failed_steps.insert(step.index);
            push(
                &mut ledger,
                entry(
                    StepOutcome::Failed {
                        kind: ErrorKind::InvalidData,
                        error: "step names a resource missing from the snapshot".into(),
                    },
                    None,
                ),
            );
            continue;
        };
        let prepared = match (&step.action, &step.target_id) {
            (StepAction::Repair { repairs }, Some(t)) => {
                repaired_body(&now, kind, t, repairs, &map)
            }
            _ => Ok(prepare(resource, kind, &|k, id| {
                map.get(&(k.to_string(), id.to_string())).cloned()
            })),
        };
        let result = match (&step.action, &step.target_id, prepared) {
            (_, _, Err(e)) => Err(e),
            (StepAction::Create, _, Ok(prepared)) => restorer
                .create(kind, &prepared)
                .await
                .map(|id| (Some(id), prepared)),
            (StepAction::Update { .. } | StepAction::Repair { .. }, Some(t), Ok(prepared)) => {
                restorer
                    .update(kind, t, &prepared)
                    .await
                    .map(|_| (Some(t.clone()), prepared))
            }
            _ => Err(Error::invalid_data("update step without a target id")),
        };
        match result {
            Ok((new_id, prepared)) => {
                let new_id = new_id.unwrap_or_default();
                map.insert((step.kind.clone(), step.source_id.clone()), new_id.clone());
                if step.action == StepAction::Create {
                    created += 1;
                    push(&mut ledger, entry(StepOutcome::Created, Some(new_id)));
                } else {
                    updated += 1;
                    if !repairs.is_empty() {
                        repaired += 1;
                    }
                    push(&mut ledger, entry(StepOutcome::Updated, Some(new_id)));
                }
                written.push((step.index, prepared));
            }
            Err(err) => {
                tracing::warn!(step = step.index, kind = %step.kind, error = %err, "restore step failed");
                failed_steps.insert(step.index);
                push(
                    &mut ledger,
                    entry(
                        StepOutcome::Failed {
                            kind: err.kind(),
                            error: err.to_string(),
                        },
                        None,
                    ),
                );
            }
        }
    }

    // Verify: every reference written resolves in the target now, and so does every reference
    // of the plan's existing resources that were left as they were (or whose write failed).
    let after = if written.is_empty() {
        now
    } else {
        read_target(target, &kinds).await?
    };
    let dangles = |r: &crate::resource::Reference| {
        after.get(&r.kind, &r.id).is_none()
            && target.kind(&r.kind).is_some()
            && plan.target_state.contains_key(&r.kind)
    };
    let mut unverified = Vec::new();
    for (step, resource) in &written {
        for r in resource.references.iter().filter(|r| dangles(r)) {
            unverified.push(UnverifiedReference {
                step: *step,
                pointer: r.pointer.clone(),
                kind: r.kind.clone(),
                target_id: r.id.clone(),
            });
        }
    }
    // Only where the target's listing of the referenced kind is complete, as in the plan.
    let complete = |k: &str| {
        after
            .kinds
            .get(k)
            .is_some_and(|d| d.outcome == KindOutcome::Complete)
    };
    let written: BTreeSet<usize> = written.iter().map(|(step, _)| *step).collect();
    for step in plan.steps.iter().filter(|s| !written.contains(&s.index)) {
        let Some(resource) = step
            .target_id
            .as_ref()
            .and_then(|t| after.get(&step.kind, t))
        else {
            continue;
        };
        for r in resource
            .references
            .iter()
            .filter(|r| dangles(r) && complete(&r.kind))
        {
            unverified.push(UnverifiedReference {
                step: step.index,
                pointer: r.pointer.clone(),
                kind: r.kind.clone(),
                target_id: r.id.clone(),
            });
        }
    }
    unverified.sort_by(|a, b| (a.step, &a.pointer).cmp(&(b.step, &b.pointer)));
    Ok(RestoreReport {
        failed: failed_steps.len(),
        ledger,
        created,
        updated,
        repaired,
        unverified,
        rotation_checklist: plan.rotation_checklist.clone(),
    })
}
