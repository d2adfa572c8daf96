//! Restore: a plan first (the dry run), then exactly that plan, with a ledger.
//!
//! The engine is provider-agnostic. It reads the target through the
//! [`Provider`](crate::Provider) trait (a backup of the kinds involved), matches resources by
//! id and natural key, orders steps by kind dependencies, resolves every reference through an
//! old-id → new-id map, and writes only through the provider's [`Restorer`].
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
//!
//! The contract and the engines are separate files so that imports run one way: `provider`
//! names the [`Restorer`] contract, `backup` drives providers, and only the engines (which read
//! the target through a backup) sit above `backup`. The contract imports neither.
//!
//! | file | what it holds |
//! |---|---|
//! | `restore/mod.rs` | the contract: [`Restorer`], the options, and the plan and report data that hosts store and read back |
//! | `restore/plan.rs` | [`plan()`]: reading the target, matching, ordering, reference remapping and repair planning |
//! | `restore/execute.rs` | [`execute()`]: the stale-plan check, writes, ledger, old-id → new-id map, verification |
//!
//! The text renderers ([`RestorePlan::render_text`], [`RestoreReport::render_text`]) live with
//! the diff's in the crate's one report module.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::diff::FieldChange;
use crate::error::{ErrorKind, Result};
use crate::kind::ResourceKind;
use crate::redact::SecretPlaceholder;
use crate::resource::Resource;
use crate::snapshot::{Snapshot, SnapshotId};

mod execute;
mod plan;

pub use execute::{execute, execute_observed};
pub use plan::plan;

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
    /// (for example "users are created STAGED, without password or MFA factors"). The default
    /// is the kind's own [`restore_note`](ResourceKind::restore_note), a column of its table
    /// row; override only for notes that depend on more than the kind.
    fn restore_notes(&self, kind: &dyn ResourceKind) -> Vec<String> {
        kind.restore_note()
            .map(str::to_string)
            .into_iter()
            .collect()
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

    /// Like [`update`](Self::update), for a provider that must sometimes replace a resource
    /// to change it (create a new one, delete the old: the API refuses the change in place);
    /// returns the id the resource has in the target afterwards, which the execution's id map
    /// and ledger record. The default updates in place and returns `target_id`.
    async fn update_or_replace(
        &self,
        kind: &dyn ResourceKind,
        target_id: &str,
        resource: &Resource,
    ) -> Result<String> {
        self.update(kind, target_id, resource).await?;
        Ok(target_id.to_string())
    }
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
}

#[cfg(test)]
mod tests {
    /// The contract is what `provider` imports: it must not import what imports providers,
    /// or the modules import each other in a circle again (provider -> restore -> backup ->
    /// provider).
    #[test]
    fn the_contract_imports_nothing_that_drives_providers() {
        let imports: Vec<&str> = include_str!("mod.rs")
            .lines()
            .filter(|l| l.starts_with("use crate::"))
            .collect();
        assert!(!imports.is_empty());
        for above in ["backup", "provider", "report", "store", "http", "registry"] {
            let path = format!("use crate::{above}");
            assert!(
                imports.iter().all(|l| !l.starts_with(&path)),
                "restore/mod.rs imports crate::{above}"
            );
        }
    }
}
