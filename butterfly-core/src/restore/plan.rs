//! Planning: read the target, match source resources to target ones (same id, then natural or
//! structural key), order steps by kind dependencies, resolve every reference through the
//! id map, and plan the repair of existing resources that name re-created ones. Reads only.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;

use super::{
    CannotRestore, DanglingReference, PlanStep, PlannedReference, ReferenceRepair, Resolution,
    RestoreOptions, RestorePlan, Restorer, StepAction,
};
use crate::backup::{self, BackupOptions};
use crate::diff::{self, FieldChange};
use crate::error::{Error, ErrorKind, Result};
use crate::kind::{KindRef, ResourceKind};
use crate::provider::Provider;
use crate::redact::{self, SecretPlaceholder};
use crate::report::short;
use crate::resource::Resource;
use crate::snapshot::{KindOutcome, Snapshot};

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

pub(super) async fn read_target(target: &dyn Provider, kinds: &[KindRef]) -> Result<Snapshot> {
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
pub(super) fn target_digests(
    target: &Snapshot,
    provider: &dyn Provider,
) -> Result<BTreeMap<String, String>> {
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
                        short(&Some(other.clone()), 40)
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
                short(&Some(other.clone()), 40)
            ),
        )),
    }
}

/// The source resource as it will be written: references rewritten to target ids (unresolved
/// ones removed), secret placeholders removed, parent mapped.
pub(super) fn prepare(
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

pub(super) fn remove_at(value: &mut Value, pointer: &str) {
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
    // A body's own id is no difference: the resource's id, or for a sub-resource (an id
    // `parent/own`) its own part, which a re-created one gets anew.
    let own = |id: &str| id.rsplit('/').next().unwrap_or(id).to_string();
    let ids = [
        source_id.to_string(),
        target_id.to_string(),
        own(source_id),
        own(target_id),
    ];
    for body in [&mut target, &mut prepared] {
        if let Some(Value::String(id)) = body.get("id")
            && ids.contains(id)
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
