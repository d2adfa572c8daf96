//! Execution: exactly the plan, after checking it is not stale, with a ledger, the
//! old-id -> new-id map, and a verification of every reference afterwards.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::plan::{prepare, read_target, remove_at, target_digests};
use super::{
    ExecuteOptions, LedgerEntry, ReferenceRepair, Resolution, RestorePlan, RestoreReport,
    StepAction, StepOutcome, UnverifiedReference,
};
use crate::error::{Error, ErrorKind, Result};
use crate::kind::{KindRef, ResourceKind};
use crate::provider::Provider;
use crate::redact;
use crate::resource::Resource;
use crate::snapshot::{KindOutcome, Snapshot};

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
                    .update_or_replace(kind, t, &prepared)
                    .await
                    .map(|id| (Some(id), prepared))
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
