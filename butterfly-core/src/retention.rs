//! Retention: how long snapshots are kept, compliance holds, and pruning.
//!
//! - A [`RetentionPolicy`] keeps the last N snapshots of a tenant, deletes snapshots older
//!   than D days, or both (a snapshot goes when *either* rule says so). [`RetentionPolicies`]
//!   holds a default and rules per provider and per provider and tenant; the most specific
//!   rule wins. They are stored as the record [`POLICIES_RECORD`].
//! - A [`Hold`] (compliance hold) on a snapshot says why, who set it and when; it is stored as
//!   the record `holds/<snapshot id>`. No policy and no delete removes a held snapshot:
//!   [`StoreExt::delete`] refuses it with a [`Conflict`](ErrorKind::Conflict) error naming the
//!   hold, and pruning keeps it.
//! - Pruning is a pure plan first ([`plan_prune`]: which snapshots go and why, which stay and
//!   why), then [`execute_prune`], which deletes the planned snapshots and collects the blobs
//!   no snapshot uses any more. A plan never deletes a tenant's newest successful snapshot,
//!   nor the snapshot [`StoreExt::latest`] returns (the newest that did not fail).
//!
//! ```
//! use butterfly_core::retention::{self, Hold, RetentionPolicies, RetentionPolicy};
//! use butterfly_core::store::{MemoryStore, StoreExt};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! let policies = RetentionPolicies::default()
//!     .with_default(RetentionPolicy::keep_last(10))
//!     .with_provider("okta", RetentionPolicy::max_age_days(30));
//! retention::save_policies(&store, &policies).await?;
//! assert_eq!(retention::load_policies(&store).await?, policies);
//!
//! let id = "20261205T061200.000Z-okta-1a2b3c4d".parse()?;
//! let now = chrono::Utc::now();
//! retention::set_hold(&store, &Hold::new(&id, "audit 2026-Q4", "alice", now)?).await?;
//! assert_eq!(retention::get_hold(&store, &id).await?.unwrap().reason, "audit 2026-Q4");
//! // A held snapshot cannot be deleted.
//! let refused = store.delete(&id).await.unwrap_err();
//! assert_eq!(refused.kind(), butterfly_core::ErrorKind::Conflict);
//! assert!(retention::release_hold(&store, &id).await?);
//! # Ok::<(), butterfly_core::Error>(())
//! # }).unwrap();
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::snapshot::{SnapshotId, SnapshotStatus};
use crate::store::{
    DamagedSnapshot, DeleteReport, GC_GRACE, RecordName, SnapshotStore, SnapshotSummary, StoreExt,
};

/// The record holding the retention policies.
pub const POLICIES_RECORD: &str = "retention/policies.json";

/// Where holds live: `holds/<snapshot id>`.
pub const HOLDS_PREFIX: &str = "holds/";

/// How long snapshots of a tenant are kept. With both rules set, a snapshot goes when either
/// says so; with neither, nothing goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Keep only the N most recent snapshots of each tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_last: Option<usize>,
    /// Delete snapshots whose backup started more than this many days ago.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<u32>,
}

impl RetentionPolicy {
    /// Keep the last `n` snapshots of each tenant.
    pub fn keep_last(n: usize) -> RetentionPolicy {
        RetentionPolicy {
            keep_last: Some(n),
            max_age_days: None,
        }
    }

    /// Delete snapshots older than `days` days.
    pub fn max_age_days(days: u32) -> RetentionPolicy {
        RetentionPolicy {
            keep_last: None,
            max_age_days: Some(days),
        }
    }

    /// Whether the policy deletes nothing.
    pub fn is_empty(&self) -> bool {
        self.keep_last.is_none() && self.max_age_days.is_none()
    }

    /// A short description (`"keep the last 10, at most 30 days"`).
    pub fn describe(&self) -> String {
        match (self.keep_last, self.max_age_days) {
            (None, None) => "keep everything".to_string(),
            (Some(n), None) => format!("keep the last {n}"),
            (None, Some(d)) => format!("at most {d} days"),
            (Some(n), Some(d)) => format!("keep the last {n}, at most {d} days"),
        }
    }
}

/// Parses a maximum age as days: `30d`, `30` (days), `4w` (weeks). Zero is refused (it
/// would delete every snapshot but the protected ones).
///
/// ```
/// use butterfly_core::retention::parse_max_age_days;
/// assert_eq!(parse_max_age_days("30d")?, 30);
/// assert_eq!(parse_max_age_days("2w")?, 14);
/// assert!(parse_max_age_days("0d").is_err());
/// assert!(parse_max_age_days("30m").is_err());
/// # Ok::<(), butterfly_core::Error>(())
/// ```
pub fn parse_max_age_days(text: &str) -> Result<u32> {
    let t = text.trim();
    let (digits, factor) = if let Some(d) = t.strip_suffix('d') {
        (d, 1)
    } else if let Some(w) = t.strip_suffix('w') {
        (w, 7)
    } else {
        (t, 1)
    };
    let n: u32 = digits.parse().map_err(|_| {
        Error::config(format!(
            "invalid maximum age {text:?}: use a number of days such as 30d (or weeks, 4w)"
        ))
    })?;
    let days = n
        .checked_mul(factor)
        .filter(|d| *d > 0)
        .ok_or_else(|| Error::config(format!("invalid maximum age {text:?}: use 1d or more")))?;
    Ok(days)
}

/// A policy for one provider, or one provider's tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    /// Provider name.
    pub provider: String,
    /// Tenant, or `None` for every tenant of the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The policy.
    pub policy: RetentionPolicy,
}

/// Every retention policy of a store: a default, and rules per provider and per provider and
/// tenant. [`policy_for`](Self::policy_for) picks the most specific.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicies {
    /// For tenants no rule names (`None`: keep everything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<RetentionPolicy>,
    /// Rules per provider or provider and tenant.
    #[serde(default)]
    pub rules: Vec<PolicyRule>,
}

impl RetentionPolicies {
    /// Sets the default policy.
    #[must_use]
    pub fn with_default(mut self, policy: RetentionPolicy) -> Self {
        self.default = Some(policy);
        self
    }

    /// Sets the policy of every tenant of a provider (replacing its provider-wide rule).
    #[must_use]
    pub fn with_provider(mut self, provider: &str, policy: RetentionPolicy) -> Self {
        self.set(provider, None, policy);
        self
    }

    /// Sets the policy of one tenant of a provider (replacing its rule).
    #[must_use]
    pub fn with_tenant(mut self, provider: &str, tenant: &str, policy: RetentionPolicy) -> Self {
        self.set(provider, Some(tenant), policy);
        self
    }

    /// Sets (or replaces) the rule for a provider, or a provider's tenant.
    pub fn set(&mut self, provider: &str, tenant: Option<&str>, policy: RetentionPolicy) {
        self.rules
            .retain(|r| !(r.provider == provider && r.tenant.as_deref() == tenant));
        self.rules.push(PolicyRule {
            provider: provider.to_string(),
            tenant: tenant.map(str::to_string),
            policy,
        });
    }

    /// The policy of a tenant: its own rule, else its provider's, else the default, else an
    /// empty policy (keep everything).
    pub fn policy_for(&self, provider: &str, tenant: &str) -> RetentionPolicy {
        let tenant_rule = self
            .rules
            .iter()
            .find(|r| r.provider == provider && r.tenant.as_deref() == Some(tenant));
        let provider_rule = self
            .rules
            .iter()
            .find(|r| r.provider == provider && r.tenant.is_none());
        tenant_rule
            .or(provider_rule)
            .map(|r| r.policy)
            .or(self.default)
            .unwrap_or_default()
    }
}

/// Reads the stored policies (none stored: the empty set, which keeps everything).
pub async fn load_policies<S: SnapshotStore + ?Sized>(store: &S) -> Result<RetentionPolicies> {
    match store.get_record(&policies_name()?).await? {
        None => Ok(RetentionPolicies::default()),
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::invalid_data(format!("record {POLICIES_RECORD} is not valid: {e}"))
        }),
    }
}

/// Stores the policies, replacing the stored ones.
pub async fn save_policies<S: SnapshotStore + ?Sized>(
    store: &S,
    policies: &RetentionPolicies,
) -> Result<()> {
    store
        .put_record(&policies_name()?, &to_json(policies)?)
        .await
}

fn policies_name() -> Result<RecordName> {
    POLICIES_RECORD.parse()
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value)
        .map_err(|e| Error::invalid_data("cannot encode a record as JSON").with_source(e))
}

/// A compliance hold: while it exists, the snapshot cannot be deleted by hand or by a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The held snapshot.
    pub snapshot: SnapshotId,
    /// Why it is held (an audit, a legal matter).
    pub reason: String,
    /// Who set it.
    pub by: String,
    /// When it was set.
    pub at: DateTime<Utc>,
}

impl Hold {
    /// A new hold; an empty reason or name is a [`Config`](ErrorKind::Config) error (a hold
    /// must say why and by whom).
    pub fn new(snapshot: &SnapshotId, reason: &str, by: &str, at: DateTime<Utc>) -> Result<Hold> {
        if reason.trim().is_empty() {
            return Err(Error::config("a compliance hold needs a reason"));
        }
        if by.trim().is_empty() {
            return Err(Error::config(
                "a compliance hold needs the name of who sets it",
            ));
        }
        Ok(Hold {
            snapshot: snapshot.clone(),
            reason: reason.trim().to_string(),
            by: by.trim().to_string(),
            at,
        })
    }

    /// `"held since 2026-12-05 by alice: audit 2026-Q4"`.
    pub fn describe(&self) -> String {
        format!(
            "held since {} by {}: {}",
            self.at.format("%Y-%m-%d %H:%M UTC"),
            self.by,
            self.reason
        )
    }
}

fn hold_name(id: &SnapshotId) -> Result<RecordName> {
    // A snapshot id is a valid record segment: same characters, never a leading dot.
    format!("{HOLDS_PREFIX}{id}").parse()
}

/// Sets (or replaces) the hold on a snapshot. The snapshot need not be readable: a damaged
/// snapshot can be held too, so nobody deletes the evidence.
pub async fn set_hold<S: SnapshotStore + ?Sized>(store: &S, hold: &Hold) -> Result<()> {
    store
        .put_record(&hold_name(&hold.snapshot)?, &to_json(hold)?)
        .await
}

/// The hold on a snapshot, if any.
pub async fn get_hold<S: SnapshotStore + ?Sized>(
    store: &S,
    id: &SnapshotId,
) -> Result<Option<Hold>> {
    let name = hold_name(id)?;
    match store.get_record(&name).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            // A hold that cannot be read still holds: refuse rather than delete.
            .map_err(|e| Error::integrity(format!("the hold record {name} is not valid: {e}"))),
    }
}

/// Removes the hold on a snapshot; returns whether there was one.
pub async fn release_hold<S: SnapshotStore + ?Sized>(store: &S, id: &SnapshotId) -> Result<bool> {
    store.delete_record(&hold_name(id)?).await
}

/// Every hold, by snapshot id. A hold record that cannot be read is an error (pruning must not
/// go on without knowing what is held).
pub async fn list_holds<S: SnapshotStore + ?Sized>(
    store: &S,
) -> Result<BTreeMap<SnapshotId, Hold>> {
    let mut holds = BTreeMap::new();
    for name in store.list_records(HOLDS_PREFIX).await? {
        let Some(id) = name.as_str().strip_prefix(HOLDS_PREFIX) else {
            continue;
        };
        let id: SnapshotId = id.parse().map_err(|_| {
            Error::integrity(format!("hold record {name} does not name a snapshot"))
        })?;
        if let Some(hold) = get_hold(store, &id).await? {
            holds.insert(id, hold);
        }
    }
    Ok(holds)
}

/// The error of a delete that a hold refuses.
pub(crate) fn held_error(hold: &Hold) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!(
            "snapshot {} is under compliance hold ({}); release the hold first",
            hold.snapshot,
            hold.describe()
        ),
    )
}

/// Why a plan keeps a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeepReason {
    /// It is under compliance hold.
    Held {
        /// The hold.
        hold: Hold,
    },
    /// It is the tenant's newest successful snapshot, or the newest that did not fail (the
    /// baseline of diffs and incremental backups): never pruned.
    Newest,
    /// It is among the `keep` most recent of its tenant, and not too old.
    WithinPolicy {
        /// Its rank among the tenant's snapshots, newest first (1 = newest).
        rank: usize,
    },
}

/// Why a plan deletes a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeleteReason {
    /// More recent snapshots of the tenant fill the `keep_last` quota.
    BeyondKeepLast {
        /// Its rank among the tenant's snapshots, newest first (1 = newest).
        rank: usize,
        /// The quota.
        keep_last: usize,
    },
    /// Its backup started longer ago than the maximum age.
    TooOld {
        /// Its age in whole days.
        age_days: i64,
        /// The maximum age.
        max_age_days: u32,
    },
}

impl KeepReason {
    /// A short description.
    pub fn describe(&self) -> String {
        match self {
            KeepReason::Held { hold } => hold.describe(),
            KeepReason::Newest => "newest successful snapshot of its tenant".to_string(),
            KeepReason::WithinPolicy { rank } => format!("within the policy (#{rank})"),
        }
    }
}

impl DeleteReason {
    /// A short description.
    pub fn describe(&self) -> String {
        match self {
            DeleteReason::BeyondKeepLast { rank, keep_last } => {
                format!("#{rank}, beyond the last {keep_last} kept")
            }
            DeleteReason::TooOld {
                age_days,
                max_age_days,
            } => format!("{age_days} days old, older than {max_age_days} days"),
        }
    }
}

/// A snapshot the plan keeps, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedKeep {
    /// The snapshot.
    pub snapshot: SnapshotSummary,
    /// Why it stays.
    pub why: KeepReason,
}

/// A snapshot the plan deletes, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedDelete {
    /// The snapshot.
    pub snapshot: SnapshotSummary,
    /// Why it goes (the first rule that says so: keep-last before age).
    pub why: DeleteReason,
}

/// What pruning would do: per tenant, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunePlan {
    /// When the plan was made (ages are measured from here).
    pub now: DateTime<Utc>,
    /// Snapshots that would be deleted.
    pub delete: Vec<PlannedDelete>,
    /// Snapshots that stay.
    pub keep: Vec<PlannedKeep>,
    /// Snapshots whose manifest cannot be read: never deleted by pruning (their tenant is
    /// unknown), and while there is any, no blob is collected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub damaged: Vec<DamagedSnapshot>,
}

impl PrunePlan {
    /// A readable rendering: the deletions, then what stays, with reasons.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut t = String::new();
        for d in &self.delete {
            let _ = writeln!(
                t,
                "delete {}  {} {}  {}",
                d.snapshot.id,
                d.snapshot.provider,
                d.snapshot.tenant,
                d.why.describe()
            );
        }
        for k in &self.keep {
            let _ = writeln!(
                t,
                "keep   {}  {} {}  {}",
                k.snapshot.id,
                k.snapshot.provider,
                k.snapshot.tenant,
                k.why.describe()
            );
        }
        for d in &self.damaged {
            let _ = writeln!(t, "skip   {}  damaged: {}", d.id, d.error);
        }
        let _ = writeln!(
            t,
            "{} to delete, {} kept",
            self.delete.len(),
            self.keep.len()
        );
        t
    }
}

/// Plans pruning: pure, from a listing (any order), the holds, the policies and the time.
///
/// Per provider and tenant, newest first (by start time, then id), a snapshot is kept when
/// it is held, when it is the tenant's newest successful snapshot or newest snapshot that did
/// not fail, or when its tenant's policy keeps it; otherwise it is deleted, with the first
/// rule that says so (rank beyond `keep_last`, then age beyond `max_age_days`). Held and
/// protected snapshots count in the `keep_last` ranking like any other.
pub fn plan_prune(
    snapshots: &[SnapshotSummary],
    holds: &BTreeMap<SnapshotId, Hold>,
    policies: &RetentionPolicies,
    now: DateTime<Utc>,
) -> PrunePlan {
    let mut by_tenant: BTreeMap<(&str, &str), Vec<&SnapshotSummary>> = BTreeMap::new();
    for s in snapshots {
        by_tenant
            .entry((s.provider.as_str(), s.tenant.as_str()))
            .or_default()
            .push(s);
    }
    let mut plan = PrunePlan {
        now,
        ..PrunePlan::default()
    };
    for ((provider, tenant), mut list) in by_tenant {
        list.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        let policy = policies.policy_for(provider, tenant);
        let mut protected = BTreeSet::new();
        if let Some(s) = list.iter().find(|s| s.status == SnapshotStatus::Success) {
            protected.insert(&s.id);
        }
        if let Some(s) = list.iter().find(|s| s.status != SnapshotStatus::Failed) {
            protected.insert(&s.id);
        }
        for (i, s) in list.into_iter().enumerate() {
            let rank = i + 1;
            let keep = |why| PlannedKeep {
                snapshot: s.clone(),
                why,
            };
            if let Some(hold) = holds.get(&s.id) {
                plan.keep
                    .push(keep(KeepReason::Held { hold: hold.clone() }));
                continue;
            }
            if protected.contains(&s.id) {
                plan.keep.push(keep(KeepReason::Newest));
                continue;
            }
            let beyond = policy
                .keep_last
                .filter(|n| rank > *n)
                .map(|keep_last| DeleteReason::BeyondKeepLast { rank, keep_last });
            let age_days = (now - s.started_at).num_days();
            let too_old = policy
                .max_age_days
                .filter(|max| now - s.started_at > chrono::TimeDelta::days(i64::from(*max)))
                .map(|max_age_days| DeleteReason::TooOld {
                    age_days,
                    max_age_days,
                });
            match beyond.or(too_old) {
                Some(why) => plan.delete.push(PlannedDelete {
                    snapshot: s.clone(),
                    why,
                }),
                None => plan.keep.push(keep(KeepReason::WithinPolicy { rank })),
            }
        }
    }
    plan
}

/// Reads what a plan needs from a store (the snapshots, optionally of one provider, the holds
/// and the stored policies, unless `policies` overrides them) and plans.
pub async fn plan_from_store<S: SnapshotStore + ?Sized>(
    store: &S,
    provider: Option<&str>,
    policies: Option<&RetentionPolicies>,
    now: DateTime<Utc>,
) -> Result<PrunePlan> {
    let listing = store.list_checked(provider).await?;
    let holds = list_holds(store).await?;
    let stored;
    let policies = match policies {
        Some(p) => p,
        None => {
            stored = load_policies(store).await?;
            &stored
        }
    };
    let mut plan = plan_prune(&listing.snapshots, &holds, policies, now);
    plan.damaged = listing.damaged;
    Ok(plan)
}

/// What [`execute_prune`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    /// Snapshots deleted.
    pub deleted: Vec<SnapshotId>,
    /// Planned deletions refused because a hold appeared since the plan was made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_since_plan: Vec<SnapshotId>,
    /// Planned deletions already gone (deleted by someone else).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub already_gone: Vec<SnapshotId>,
    /// Blobs collected afterwards and the bytes freed.
    pub collected: DeleteReport,
    /// Why no blob was collected, if none could be (a damaged manifest in the store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_skipped: Option<String>,
}

/// How [`execute_prune`] collects blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneOptions {
    /// Only unreferenced blobs older than this are collected (default [`GC_GRACE`], so a
    /// backup writing right now is safe).
    pub gc_min_age: Duration,
}

impl Default for PruneOptions {
    fn default() -> Self {
        PruneOptions {
            gc_min_age: GC_GRACE,
        }
    }
}

/// Deletes the plan's snapshots (checking each hold again just before), then collects the
/// blobs no remaining snapshot uses. A damaged manifest stops the collection, not the
/// deletions ([`PruneReport::collection_skipped`]).
pub async fn execute_prune<S: SnapshotStore + ?Sized>(
    store: &S,
    plan: &PrunePlan,
    options: PruneOptions,
) -> Result<PruneReport> {
    let mut report = PruneReport::default();
    for d in &plan.delete {
        let id = &d.snapshot.id;
        if get_hold(store, id).await?.is_some() {
            tracing::warn!(snapshot = %id, "not pruning {id}: it was put on hold after the plan");
            report.held_since_plan.push(id.clone());
            continue;
        }
        match store.delete_manifest(id).await {
            Ok(()) => {
                tracing::info!(snapshot = %id, "pruned {id}: {}", d.why.describe());
                report.deleted.push(id.clone());
            }
            Err(e) if e.kind() == ErrorKind::NotFound => report.already_gone.push(id.clone()),
            Err(e) => return Err(e.context(format!("pruning snapshot {id}"))),
        }
    }
    match store.collect_garbage(options.gc_min_age).await {
        Ok(collected) => report.collected = collected,
        Err(e) if e.kind() == ErrorKind::Integrity => {
            tracing::warn!("pruning collected no blob: {e}");
            report.collection_skipped = Some(e.message().to_string());
        }
        Err(e) => return Err(e.context("collecting blobs after pruning")),
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::{Category, KindSpec};
    use crate::resource::Resource;
    use crate::snapshot::{KindOutcome, Snapshot, SnapshotMeta};
    use crate::store::MemoryStore;
    use chrono::TimeZone;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 31, 12, 0, 0).unwrap()
    }

    /// A summary `days` days before `now()`, with a readable id.
    fn snap(tenant: &str, days: i64, status: SnapshotStatus) -> SnapshotSummary {
        let started = now() - chrono::TimeDelta::days(days);
        SnapshotSummary {
            id: format!("{}-okta-{tenant}", started.format("%Y%m%dT%H%M%S"))
                .parse()
                .unwrap(),
            provider: "okta".into(),
            tenant: tenant.into(),
            started_at: started,
            finished_at: started,
            status,
            resources: 1,
            kinds: 1,
            content_sha256: String::new(),
        }
    }

    fn hold(s: &SnapshotSummary) -> (SnapshotId, Hold) {
        (
            s.id.clone(),
            Hold::new(&s.id, "audit", "alice", now()).unwrap(),
        )
    }

    use SnapshotStatus::{CompletedWithWarnings as Warn, Failed, Success as Ok_};

    #[test]
    fn plans_table() {
        struct Case {
            name: &'static str,
            /// (tenant, age in days, status, held)
            snaps: Vec<(&'static str, i64, SnapshotStatus, bool)>,
            policy: RetentionPolicy,
            /// Indexes into `snaps` that are deleted.
            deleted: Vec<usize>,
        }
        let cases = vec![
            Case {
                name: "empty policy keeps everything",
                snaps: vec![("a", 1, Ok_, false), ("a", 400, Ok_, false)],
                policy: RetentionPolicy::default(),
                deleted: vec![],
            },
            Case {
                name: "keep last 2",
                snaps: vec![
                    ("a", 1, Ok_, false),
                    ("a", 2, Ok_, false),
                    ("a", 3, Ok_, false),
                    ("a", 4, Ok_, false),
                ],
                policy: RetentionPolicy::keep_last(2),
                deleted: vec![2, 3],
            },
            Case {
                name: "keep last counts per tenant",
                snaps: vec![
                    ("a", 1, Ok_, false),
                    ("a", 2, Ok_, false),
                    ("b", 3, Ok_, false),
                    ("b", 4, Ok_, false),
                ],
                policy: RetentionPolicy::keep_last(1),
                deleted: vec![1, 3],
            },
            Case {
                name: "max age 30 days: exactly 30 days stays, 31 goes",
                snaps: vec![
                    ("a", 1, Ok_, false),
                    ("a", 30, Ok_, false),
                    ("a", 31, Ok_, false),
                ],
                policy: RetentionPolicy::max_age_days(30),
                deleted: vec![2],
            },
            Case {
                name: "the newest successful snapshot survives any age",
                snaps: vec![("a", 100, Ok_, false), ("a", 200, Ok_, false)],
                policy: RetentionPolicy::max_age_days(30),
                deleted: vec![1],
            },
            Case {
                name: "keep 0 still keeps the newest successful",
                snaps: vec![("a", 1, Ok_, false), ("a", 2, Ok_, false)],
                policy: RetentionPolicy::keep_last(0),
                deleted: vec![1],
            },
            Case {
                name: "failed newest: the newest successful one is kept, failed ones go",
                snaps: vec![
                    ("a", 1, Failed, false),
                    ("a", 2, Failed, false),
                    ("a", 3, Ok_, false),
                    ("a", 4, Ok_, false),
                ],
                policy: RetentionPolicy::keep_last(1),
                deleted: vec![1, 3],
            },
            Case {
                name: "newest with warnings and newest success are both kept",
                snaps: vec![
                    ("a", 1, Warn, false),
                    ("a", 2, Ok_, false),
                    ("a", 3, Ok_, false),
                ],
                policy: RetentionPolicy::keep_last(1),
                deleted: vec![2],
            },
            Case {
                name: "a held snapshot is never deleted, and still counts in the ranking",
                snaps: vec![
                    ("a", 1, Ok_, false),
                    ("a", 2, Ok_, true),
                    ("a", 3, Ok_, false),
                    ("a", 400, Ok_, true),
                ],
                policy: RetentionPolicy {
                    keep_last: Some(2),
                    max_age_days: Some(30),
                },
                deleted: vec![2],
            },
            Case {
                name: "both rules: either deletes",
                snaps: vec![
                    ("a", 1, Ok_, false),
                    ("a", 2, Ok_, false),
                    ("a", 40, Ok_, false),
                    ("a", 50, Ok_, false),
                ],
                policy: RetentionPolicy {
                    keep_last: Some(3),
                    max_age_days: Some(30),
                },
                deleted: vec![2, 3],
            },
        ];
        for case in cases {
            let snaps: Vec<SnapshotSummary> = case
                .snaps
                .iter()
                .map(|(t, d, s, _)| snap(t, *d, *s))
                .collect();
            let holds: BTreeMap<_, _> = case
                .snaps
                .iter()
                .zip(&snaps)
                .filter(|((_, _, _, held), _)| *held)
                .map(|(_, s)| hold(s))
                .collect();
            let policies = RetentionPolicies::default().with_default(case.policy);
            // Input order must not matter.
            let mut shuffled = snaps.clone();
            shuffled.reverse();
            let plan = plan_prune(&shuffled, &holds, &policies, now());
            let mut got: Vec<&SnapshotId> = plan.delete.iter().map(|d| &d.snapshot.id).collect();
            got.sort();
            let mut want: Vec<&SnapshotId> = case.deleted.iter().map(|i| &snaps[*i].id).collect();
            want.sort();
            assert_eq!(got, want, "{}", case.name);
            assert_eq!(
                plan.delete.len() + plan.keep.len(),
                snaps.len(),
                "{}: every snapshot is accounted for",
                case.name
            );
            for k in &plan.keep {
                if holds.contains_key(&k.snapshot.id) {
                    assert!(matches!(k.why, KeepReason::Held { .. }), "{}", case.name);
                }
            }
        }
    }

    #[test]
    fn reasons_are_the_first_rule_that_applies() {
        let snaps = vec![snap("a", 1, Ok_), snap("a", 2, Ok_), snap("a", 90, Ok_)];
        let policies = RetentionPolicies::default().with_default(RetentionPolicy {
            keep_last: Some(1),
            max_age_days: Some(30),
        });
        let plan = plan_prune(&snaps, &BTreeMap::new(), &policies, now());
        let why: BTreeMap<&SnapshotId, &DeleteReason> = plan
            .delete
            .iter()
            .map(|d| (&d.snapshot.id, &d.why))
            .collect();
        assert_eq!(
            why[&snaps[1].id],
            &DeleteReason::BeyondKeepLast {
                rank: 2,
                keep_last: 1
            }
        );
        assert_eq!(
            why[&snaps[2].id],
            &DeleteReason::BeyondKeepLast {
                rank: 3,
                keep_last: 1
            }
        );
        let only_age = RetentionPolicies::default().with_default(RetentionPolicy::max_age_days(30));
        let plan = plan_prune(&snaps, &BTreeMap::new(), &only_age, now());
        assert_eq!(
            plan.delete[0].why,
            DeleteReason::TooOld {
                age_days: 90,
                max_age_days: 30
            }
        );
        assert!(
            plan.render_text()
                .contains("90 days old, older than 30 days")
        );
    }

    #[test]
    fn the_most_specific_policy_wins() {
        let p = RetentionPolicies::default()
            .with_default(RetentionPolicy::keep_last(10))
            .with_provider("okta", RetentionPolicy::keep_last(5))
            .with_tenant("okta", "acme", RetentionPolicy::max_age_days(90))
            // Replacing a rule keeps one rule per scope.
            .with_provider("okta", RetentionPolicy::keep_last(4));
        assert_eq!(
            p.policy_for("okta", "acme"),
            RetentionPolicy::max_age_days(90)
        );
        assert_eq!(p.policy_for("okta", "other"), RetentionPolicy::keep_last(4));
        assert_eq!(p.policy_for("entra", "x"), RetentionPolicy::keep_last(10));
        assert_eq!(p.rules.len(), 2);
        assert!(
            RetentionPolicies::default()
                .policy_for("okta", "a")
                .is_empty()
        );
    }

    #[test]
    fn max_age_parsing() {
        for (text, want) in [
            ("30d", Some(30)),
            ("30", Some(30)),
            ("4w", Some(28)),
            (" 7d ", Some(7)),
        ] {
            assert_eq!(parse_max_age_days(text).ok(), want, "{text}");
        }
        for bad in ["", "d", "0", "-3d", "30m", "1.5d", "99999999999w"] {
            let err = parse_max_age_days(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
        }
    }

    const GROUP: KindSpec = KindSpec {
        natural_key: &["/profile/name"],
        ..KindSpec::new("demo.group", "Groups", Category::Directory)
    };

    async fn save(store: &MemoryStore, tenant: &str, days: i64, name: &str) -> SnapshotId {
        let at = now() - chrono::TimeDelta::days(days);
        let mut s = Snapshot::new(SnapshotMeta {
            id: SnapshotId::generate("demo", at),
            provider: "demo".into(),
            tenant: tenant.into(),
            started_at: at,
            finished_at: at,
        });
        let r = Resource::new(&GROUP, name, None, json!({"profile": {"name": name}}));
        s.insert_kind("demo.group", KindOutcome::Complete, vec![r]);
        store.save(&s).await.unwrap().id
    }

    #[tokio::test]
    async fn hold_blocks_delete_and_prune_then_execute_deletes_the_plan() {
        let store = MemoryStore::new();
        let newest = save(&store, "acme", 1, "g1").await;
        let held = save(&store, "acme", 2, "g2").await;
        let old = save(&store, "acme", 3, "g3").await;
        let older = save(&store, "acme", 4, "g4").await;
        set_hold(&store, &Hold::new(&held, "audit", "alice", now()).unwrap())
            .await
            .unwrap();

        let err = store.delete(&held).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(err.to_string().contains("audit"), "{err}");
        assert!(store.get_manifest(&held).await.is_ok());

        let policies = RetentionPolicies::default().with_default(RetentionPolicy::keep_last(1));
        let plan = plan_from_store(&store, None, Some(&policies), now())
            .await
            .unwrap();
        let planned: BTreeSet<&SnapshotId> = plan.delete.iter().map(|d| &d.snapshot.id).collect();
        assert_eq!(planned, BTreeSet::from([&old, &older]));
        // Planning deletes nothing.
        assert_eq!(store.list(None).await.unwrap().len(), 4);
        let blobs_before = store.list_blobs().await.unwrap().len();

        let report = execute_prune(
            &store,
            &plan,
            PruneOptions {
                gc_min_age: Duration::ZERO,
            },
        )
        .await
        .unwrap();
        assert_eq!(report.deleted.len(), 2);
        let left: BTreeSet<SnapshotId> = store
            .list(None)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(left, BTreeSet::from([newest.clone(), held.clone()]));
        assert_eq!(report.collected.blobs_removed, 2, "{report:?}");
        assert_eq!(store.list_blobs().await.unwrap().len(), blobs_before - 2);
        // Every remaining snapshot still loads.
        for id in &left {
            store.load(id).await.unwrap();
        }

        // Releasing the hold makes it deletable.
        assert!(release_hold(&store, &held).await.unwrap());
        assert!(!release_hold(&store, &held).await.unwrap());
        store.delete(&held).await.unwrap();
        assert!(list_holds(&store).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_hold_set_after_the_plan_still_blocks() {
        let store = MemoryStore::new();
        save(&store, "acme", 1, "g1").await;
        let old = save(&store, "acme", 5, "g2").await;
        let policies = RetentionPolicies::default().with_default(RetentionPolicy::keep_last(1));
        let plan = plan_from_store(&store, Some("demo"), Some(&policies), now())
            .await
            .unwrap();
        assert_eq!(plan.delete.len(), 1);
        set_hold(&store, &Hold::new(&old, "legal", "bob", now()).unwrap())
            .await
            .unwrap();
        let report = execute_prune(&store, &plan, PruneOptions::default())
            .await
            .unwrap();
        assert!(report.deleted.is_empty());
        assert_eq!(report.held_since_plan, vec![old.clone()]);
        assert!(store.get_manifest(&old).await.is_ok());
    }

    #[tokio::test]
    async fn stored_policies_round_trip_and_are_used() {
        let store = MemoryStore::new();
        assert_eq!(
            load_policies(&store).await.unwrap(),
            RetentionPolicies::default()
        );
        save(&store, "acme", 1, "g1").await;
        save(&store, "acme", 50, "g2").await;
        let p =
            RetentionPolicies::default().with_provider("demo", RetentionPolicy::max_age_days(30));
        save_policies(&store, &p).await.unwrap();
        assert_eq!(load_policies(&store).await.unwrap(), p);
        let plan = plan_from_store(&store, None, None, now()).await.unwrap();
        assert_eq!(plan.delete.len(), 1);
        assert!(Hold::new(&plan.delete[0].snapshot.id, " ", "a", now()).is_err());
        assert!(Hold::new(&plan.delete[0].snapshot.id, "x", "", now()).is_err());
    }
}
