//! Diff between two snapshots: what was added, removed and modified, field by field, ranked
//! by severity.
//!
//! Resources are matched per kind by id. Field changes are JSON Pointers with old and new
//! values; volatile fields are ignored; arrays of objects that a kind keys (policy rules by
//! `id`, claims by `name`) are matched by key, so reordering them is not a change and a
//! changed element is reported as `/rules/[id=0pr1]/actions`, not by position.
//!
//! A kind whose outcome changed (complete → denied) is reported as such: its resources are
//! not "removed" just because the newer backup could not read them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::kind::{Category, KindRef, ResourceKind};
use crate::pointer;
use crate::resource::Resource;
use crate::snapshot::{KindOutcome, Snapshot, SnapshotId};

/// How much a change matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(Error::config(format!(
                "unknown severity {s:?}: use info, low, medium, high or critical"
            ))),
        }
    }
}

/// What happened to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeType {
    /// New in the newer snapshot.
    Added,
    /// Gone from the newer snapshot.
    Removed,
    /// Present in both, with different configuration.
    Modified,
}

/// One changed field: JSON Pointer, old and new value (`None` = absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Where (keyed array elements appear as `[key=value]` tokens).
    pub pointer: String,
    /// Before.
    pub old: Option<Value>,
    /// After.
    pub new: Option<Value>,
}

/// One changed resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// Kind id.
    pub kind: String,
    /// Provider id.
    pub id: String,
    /// Natural key or id.
    pub label: String,
    /// Added, removed or modified.
    pub change: ChangeType,
    /// Severity (the highest of the matching rules).
    pub severity: Severity,
    /// Why, from each matching rule.
    pub reasons: Vec<String>,
    /// Field changes (modified only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

/// A kind whose backup outcome differs between the snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindNote {
    /// Kind id.
    pub kind: String,
    /// Outcome in the older snapshot (`None`: kind absent).
    pub from: Option<String>,
    /// Outcome in the newer snapshot.
    pub to: Option<String>,
    /// What it means.
    pub note: String,
}

/// The difference between two snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    /// Older snapshot.
    pub from: SnapshotId,
    /// Newer snapshot.
    pub to: SnapshotId,
    /// Changed resources, highest severity first.
    pub changes: Vec<ResourceChange>,
    /// Kinds whose outcome changed.
    pub kind_notes: Vec<KindNote>,
}

/// Which change types a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeMatch {
    /// Any change.
    Any,
    /// Additions.
    Added,
    /// Removals.
    Removed,
    /// Modifications.
    Modified,
}

/// A severity rule. Providers add theirs to [`default_rules`].
///
/// ```
/// use butterfly_core::diff::{Severity, SeverityRule};
/// use serde_json::json;
///
/// let rules = vec![
///     SeverityRule::removed("okta.policy*", Severity::Critical, "a policy was deleted"),
///     SeverityRule::field_changed("okta.policy", "/status", Severity::High, "a policy was deactivated")
///         .to(json!("INACTIVE")),
///     SeverityRule::added("okta.role_assignment", Severity::High, "new admin role assignment"),
/// ];
/// assert_eq!(rules.len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityRule {
    /// Kind id glob: exact, `*`, or a prefix ending in `*` (`okta.policy*`).
    pub kind: String,
    /// Only kinds of this category.
    pub category: Option<Category>,
    /// Which change types.
    pub change: ChangeMatch,
    /// For modifications: a changed field must match this pointer pattern (`*` wildcards;
    /// a pattern also matches fields below it). For additions (removals): the resource must
    /// have a value there, equal to `to` (`from`) when that is set.
    pub field: Option<String>,
    /// The field's old value must equal this.
    pub from: Option<Value>,
    /// The field's new value must equal this.
    pub to: Option<Value>,
    /// The severity when the rule matches.
    pub severity: Severity,
    /// Why, shown with the change.
    pub reason: String,
}

impl SeverityRule {
    fn new(kind: &str, change: ChangeMatch, severity: Severity, reason: &str) -> Self {
        SeverityRule {
            kind: kind.to_string(),
            category: None,
            change,
            field: None,
            from: None,
            to: None,
            severity,
            reason: reason.to_string(),
        }
    }

    /// Matches removals of kinds matching `kind`.
    pub fn removed(kind: &str, severity: Severity, reason: &str) -> Self {
        Self::new(kind, ChangeMatch::Removed, severity, reason)
    }

    /// Matches additions.
    pub fn added(kind: &str, severity: Severity, reason: &str) -> Self {
        Self::new(kind, ChangeMatch::Added, severity, reason)
    }

    /// Matches any modification.
    pub fn modified(kind: &str, severity: Severity, reason: &str) -> Self {
        Self::new(kind, ChangeMatch::Modified, severity, reason)
    }

    /// Matches modifications of a field.
    pub fn field_changed(kind: &str, field: &str, severity: Severity, reason: &str) -> Self {
        SeverityRule {
            field: Some(field.to_string()),
            ..Self::new(kind, ChangeMatch::Modified, severity, reason)
        }
    }

    /// Restricts to a category.
    pub fn in_category(mut self, category: Category) -> Self {
        self.category = Some(category);
        self
    }

    /// Requires the field's old value.
    pub fn from(mut self, value: Value) -> Self {
        self.from = Some(value);
        self
    }

    /// Requires the field's new value.
    pub fn to(mut self, value: Value) -> Self {
        self.to = Some(value);
        self
    }

    fn kind_matches(&self, kind: &str) -> bool {
        match self.kind.strip_suffix('*') {
            Some(prefix) => kind.starts_with(prefix),
            None => self.kind == kind,
        }
    }

    fn matches(
        &self,
        kind: &str,
        category: Option<Category>,
        change: ChangeType,
        fields: &[FieldChange],
        body: &Value,
    ) -> bool {
        if !self.kind_matches(kind) || (self.category.is_some() && self.category != category) {
            return false;
        }
        let type_ok = match self.change {
            ChangeMatch::Any => true,
            ChangeMatch::Added => change == ChangeType::Added,
            ChangeMatch::Removed => change == ChangeType::Removed,
            ChangeMatch::Modified => change == ChangeType::Modified,
        };
        if !type_ok {
            return false;
        }
        match &self.field {
            None => true,
            Some(pattern) if change != ChangeType::Modified => {
                let want = match change {
                    ChangeType::Added => self.to.as_ref(),
                    _ => self.from.as_ref(),
                };
                pointer::select(body, pattern)
                    .iter()
                    .any(|(_, v)| want.is_none_or(|w| *v == w))
            }
            Some(pattern) => fields.iter().any(|f| {
                pointer::is_under(pattern, &f.pointer)
                    && self.from.as_ref().is_none_or(|v| f.old.as_ref() == Some(v))
                    && self.to.as_ref().is_none_or(|v| f.new.as_ref() == Some(v))
            }),
        }
    }
}

/// The provider-agnostic rules, by category and change type.
pub fn default_rules() -> Vec<SeverityRule> {
    use Category::*;
    let mut rules = vec![
        SeverityRule::added("*", Severity::Low, "added"),
        SeverityRule::modified("*", Severity::Low, "modified"),
        SeverityRule::removed("*", Severity::Medium, "removed"),
    ];
    for (cat, removed, modified, added) in [
        (Policy, Severity::High, Severity::Medium, Severity::Medium),
        (Security, Severity::High, Severity::Medium, Severity::Medium),
        (
            Authorization,
            Severity::High,
            Severity::Medium,
            Severity::Medium,
        ),
        (
            Integration,
            Severity::Medium,
            Severity::Medium,
            Severity::Medium,
        ),
        (Settings, Severity::Medium, Severity::Medium, Severity::Low),
        (Branding, Severity::Low, Severity::Info, Severity::Info),
    ] {
        rules.push(
            SeverityRule::removed("*", removed, &format!("{cat} configuration removed"))
                .in_category(cat),
        );
        rules.push(
            SeverityRule::modified("*", modified, &format!("{cat} configuration changed"))
                .in_category(cat),
        );
        rules.push(
            SeverityRule::added("*", added, &format!("{cat} configuration added")).in_category(cat),
        );
    }
    rules
}

/// How many changes per kind and change type [`Diff::render_text`] lists.
pub const RENDER_PER_GROUP: usize = 12;

/// Diffs two snapshots. `kinds` supplies volatile fields, array keys and categories (kinds not
/// in it are compared plainly); `rules` are the provider's, added to [`default_rules`].
pub fn diff(from: &Snapshot, to: &Snapshot, kinds: &[KindRef], rules: &[SeverityRule]) -> Diff {
    let mut all_rules = default_rules();
    all_rules.extend_from_slice(rules);
    let lookup: BTreeMap<&str, KindRef> = kinds.iter().map(|k| (k.id(), *k)).collect();
    let mut changes = Vec::new();
    let mut kind_notes = Vec::new();
    let kind_ids: BTreeSet<&String> = from.kinds.keys().chain(to.kinds.keys()).collect();
    for kind_id in kind_ids {
        let kind = lookup.get(kind_id.as_str()).copied();
        let (a, b) = (from.kinds.get(kind_id), to.kinds.get(kind_id));
        let (oa, ob) = (a.map(|d| &d.outcome), b.map(|d| &d.outcome));
        if oa != ob {
            kind_notes.push(KindNote {
                kind: kind_id.clone(),
                from: oa.map(|o| o.label().to_string()),
                to: ob.map(|o| o.label().to_string()),
                note: match ob {
                    Some(KindOutcome::Complete) => "now read completely".into(),
                    Some(KindOutcome::Denied { missing }) => {
                        format!("no longer readable: missing {missing}")
                    }
                    Some(KindOutcome::Unsupported { reason }) => {
                        format!("no longer supported: {reason}")
                    }
                    Some(KindOutcome::Failed { error, .. }) => {
                        format!("could not be read: {error}")
                    }
                    None => "not part of the newer backup".into(),
                },
            });
        }
        // Only compare resources where both sides were read completely (or the kind is new).
        let comparable = |o: Option<&KindOutcome>| o.is_none_or(|o| *o == KindOutcome::Complete);
        if !comparable(oa) || !comparable(ob) || (a.is_none() && b.is_none()) {
            continue;
        }
        let empty: &[Resource] = &[];
        let (ra, rb) = (
            a.map_or(empty, |d| &d.resources),
            b.map_or(empty, |d| &d.resources),
        );
        let category = kind.map(|k| k.category());
        let mut push = |r: &Resource, change: ChangeType, fields: Vec<FieldChange>| {
            let matching: Vec<&SeverityRule> = all_rules
                .iter()
                .filter(|rule| rule.matches(kind_id, category, change, &fields, &r.body))
                .collect();
            let severity = matching
                .iter()
                .map(|r| r.severity)
                .max()
                .unwrap_or(Severity::Info);
            let mut reasons: Vec<String> = matching
                .iter()
                .filter(|r| r.severity == severity)
                .map(|r| r.reason.clone())
                .collect();
            reasons.dedup();
            changes.push(ResourceChange {
                kind: kind_id.clone(),
                id: r.id.clone(),
                label: r.label().to_string(),
                change,
                severity,
                reasons,
                fields,
            });
        };
        // Both sides are sorted by id: merge.
        let (mut i, mut j) = (0, 0);
        while i < ra.len() || j < rb.len() {
            match (ra.get(i), rb.get(j)) {
                (Some(x), Some(y)) if x.id == y.id => {
                    if x.body != y.body {
                        let fields = match kind {
                            Some(k) => field_changes(k, &x.body, &y.body),
                            None => field_changes(&PLAIN, &x.body, &y.body),
                        };
                        if !fields.is_empty() {
                            push(y, ChangeType::Modified, fields);
                        }
                    }
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x.id < y.id => {
                    push(x, ChangeType::Removed, Vec::new());
                    i += 1;
                }
                (Some(x), None) => {
                    push(x, ChangeType::Removed, Vec::new());
                    i += 1;
                }
                (_, Some(y)) => {
                    push(y, ChangeType::Added, Vec::new());
                    j += 1;
                }
                (None, None) => break,
            }
        }
    }
    changes.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.id.cmp(&b.id))
    });
    Diff {
        from: from.meta.id.clone(),
        to: to.meta.id.clone(),
        changes,
        kind_notes,
    }
}

/// A kind with no volatile fields and no keyed arrays, for kinds the caller did not describe.
const PLAIN: crate::kind::KindSpec = crate::kind::KindSpec::new("", "", Category::Settings);

/// Field-level changes from `old` to `new` for a resource of `kind`: volatile fields ignored,
/// keyed arrays matched by key.
pub fn field_changes(kind: &dyn ResourceKind, old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(kind, "", "", Some(old), Some(new), &mut out);
    out
}

/// `at` is the concrete pointer (positions, for matching kind patterns); `shown` is what is
/// reported (keyed elements as `[key=value]`).
fn walk(
    kind: &dyn ResourceKind,
    at: &str,
    shown: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Vec<FieldChange>,
) {
    if old == new {
        return;
    }
    if !at.is_empty()
        && kind
            .volatile_fields()
            .iter()
            .any(|v| pointer::is_under(v, at))
    {
        return;
    }
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                walk(
                    kind,
                    &pointer::push(at, k),
                    &pointer::push(shown, k),
                    a.get(k),
                    b.get(k),
                    out,
                );
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            let key = kind
                .array_keys()
                .iter()
                .find(|k| pointer::matches(k.pointer, at))
                .map(|k| k.key);
            match key {
                Some(key) if keyed(a, key) && keyed(b, key) => {
                    let index = |items: &Vec<Value>| -> BTreeMap<String, (usize, Value)> {
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (key_text(&v[key]), (i, v.clone())))
                            .collect()
                    };
                    let (ia, ib) = (index(a), index(b));
                    let keys: BTreeSet<&String> = ia.keys().chain(ib.keys()).collect();
                    for k in keys {
                        let (pa, pb) = (ia.get(k), ib.get(k));
                        let pos = pb.or(pa).map(|(i, _)| *i).unwrap_or(0);
                        walk(
                            kind,
                            &format!("{at}/{pos}"),
                            &format!("{shown}/[{key}={}]", pointer::escape(k)),
                            pa.map(|(_, v)| v),
                            pb.map(|(_, v)| v),
                            out,
                        );
                    }
                }
                _ => {
                    for i in 0..a.len().max(b.len()) {
                        walk(
                            kind,
                            &format!("{at}/{i}"),
                            &format!("{shown}/{i}"),
                            a.get(i),
                            b.get(i),
                            out,
                        );
                    }
                }
            }
        }
        (a, b) => out.push(FieldChange {
            pointer: shown.to_string(),
            old: a.cloned(),
            new: b.cloned(),
        }),
    }
}

fn keyed(items: &[Value], key: &str) -> bool {
    let mut seen = BTreeSet::new();
    items.iter().all(|v| {
        v.get(key)
            .is_some_and(|k| !k.is_null() && seen.insert(key_text(k)))
    })
}

fn key_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Diff {
    /// Whether nothing changed (no resource change and no kind note).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.kind_notes.is_empty()
    }

    /// The highest severity of any change.
    pub fn max_severity(&self) -> Option<Severity> {
        self.changes.iter().map(|c| c.severity).max()
    }

    /// Only the changes at or above `min`.
    pub fn filter(&self, min: Severity) -> Diff {
        Diff {
            changes: self
                .changes
                .iter()
                .filter(|c| c.severity >= min)
                .cloned()
                .collect(),
            ..self.clone()
        }
    }

    /// Counts per severity.
    pub fn counts(&self) -> BTreeMap<Severity, usize> {
        let mut out = BTreeMap::new();
        for c in &self.changes {
            *out.entry(c.severity).or_insert(0) += 1;
        }
        out
    }
}

/// Rewrites the `resource` of every secret placeholder in `value` from `old` to `new`.
fn rename_placeholders(value: &mut Value, old: &str, new: &str) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(inner)) = map.get_mut(crate::redact::PLACEHOLDER_TAG) {
                if inner.get("resource").and_then(Value::as_str) == Some(old) {
                    inner.insert("resource".into(), Value::String(new.to_string()));
                }
                return;
            }
            for v in map.values_mut() {
                rename_placeholders(v, old, new);
            }
        }
        Value::Array(items) => {
            for v in items {
                rename_placeholders(v, old, new);
            }
        }
        _ => {}
    }
}

/// Diffs `from` against `to` where `to` may hold re-created copies of `from`'s resources
/// under new ids (after a restore or in another tenant): resources only on one side are
/// paired by natural key (or, for kinds without one, by parent and references), parents
/// first; `from` is rewritten through the resulting id map (ids, parent ids and references)
/// and then diffed normally. What remains are real differences.
///
/// Returns the diff and the number of resources paired under a new id.
pub fn diff_after_restore(
    from: &Snapshot,
    to: &Snapshot,
    kinds: &[KindRef],
    rules: &[SeverityRule],
) -> (Diff, usize) {
    let ordered = crate::kind::topological_order(kinds).unwrap_or_else(|_| kinds.to_vec());
    let mut map: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut paired = 0;
    for kind in &ordered {
        let kid = kind.id();
        let (a, b) = (from.resources(kid), to.resources(kid));
        let key = |r: &Resource, side_from: bool| -> Option<String> {
            let resolve = |k: &str, id: &str| -> String {
                if side_from {
                    map.get(&(k.to_string(), id.to_string()))
                        .cloned()
                        .unwrap_or_else(|| id.to_string())
                } else {
                    id.to_string()
                }
            };
            let parent = match (kind.parent(), &r.parent_id) {
                (Some(pk), Some(pid)) => resolve(pk, pid),
                _ => String::new(),
            };
            let own = match &r.natural_key {
                Some(k) => k.clone(),
                None => {
                    // In pointer order: references are stored sorted by id, and the ids
                    // of a restored resource differ.
                    let mut refs: Vec<String> = r
                        .references
                        .iter()
                        .map(|x| format!("{}={}", x.pointer, resolve(&x.kind, &x.id)))
                        .collect();
                    refs.sort();
                    refs.extend(crate::kind::structural_parts(*kind, &r.body));
                    if refs.is_empty() {
                        return None;
                    }
                    refs.join("|")
                }
            };
            Some(format!("{parent}\u{1f}{own}"))
        };
        let b_ids: BTreeSet<&str> = b.iter().map(|r| r.id.as_str()).collect();
        let a_ids: BTreeSet<&str> = a.iter().map(|r| r.id.as_str()).collect();
        let mut b_by_key: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for r in b.iter().filter(|r| !a_ids.contains(r.id.as_str())) {
            if let Some(k) = key(r, false) {
                b_by_key.entry(k).or_default().push(&r.id);
            }
        }
        let mut found = Vec::new();
        for r in a.iter().filter(|r| !b_ids.contains(r.id.as_str())) {
            if let Some(k) = key(r, true)
                && let Some(ids) = b_by_key.get(&k)
                && ids.len() == 1
            {
                found.push((r.id.clone(), ids[0].to_string()));
            }
        }
        paired += found.len();
        for (old, new) in found {
            map.insert((kid.to_string(), old), new);
        }
    }
    let mut rewritten = from.clone();
    for (kid, data) in rewritten.kinds.iter_mut() {
        let kind = kinds.iter().find(|k| k.id() == kid);
        for r in data.resources.iter_mut() {
            if let Some(new) = map.get(&(kid.clone(), r.id.clone())) {
                if r.body.get("id").and_then(Value::as_str)
                    == Some(r.id.rsplit('/').next().unwrap_or(&r.id))
                {
                    std::sync::Arc::make_mut(&mut r.body)["id"] =
                        Value::String(new.rsplit('/').next().unwrap_or(new).to_string());
                }
                // Secret placeholders name the resource they stand in: follow it to its new id.
                rename_placeholders(std::sync::Arc::make_mut(&mut r.body), &r.id, new);
                r.id = new.clone();
            }
            if let (Some(k), Some(pid)) = (kind.and_then(|k| k.parent()), r.parent_id.clone())
                && let Some(new) = map.get(&(k.to_string(), pid))
            {
                r.parent_id = Some(new.clone());
            }
            let refs = r.references.clone();
            for x in &refs {
                if let Some(new) = map.get(&(x.kind.clone(), x.id.clone()))
                    && let Some(slot) =
                        std::sync::Arc::make_mut(&mut r.body).pointer_mut(&x.pointer)
                {
                    *slot = Value::String(new.clone());
                }
            }
            if let Some(k) = kind {
                r.refresh(*k);
            }
        }
        data.resources.sort_by(|x, y| x.id.cmp(&y.id));
    }
    (diff(&rewritten, to, kinds, rules), paired)
}
