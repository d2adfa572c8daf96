//! Diff between two snapshots (being written; this stub holds what restore needs).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::kind::ResourceKind;

/// A severity rule a provider adds to the defaults (being written).
#[derive(Debug, Clone)]
pub struct SeverityRule;

/// One changed field: JSON Pointer, old and new value (`None` = absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Where.
    pub pointer: String,
    /// Before.
    pub old: Option<Value>,
    /// After.
    pub new: Option<Value>,
}

/// Field-level changes from `old` to `new`, ignoring the kind's volatile fields.
pub fn field_changes(kind: &dyn ResourceKind, old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(kind, "", Some(old), Some(new), &mut out);
    out
}

fn walk(
    kind: &dyn ResourceKind,
    at: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Vec<FieldChange>,
) {
    if kind
        .volatile_fields()
        .iter()
        .any(|v| crate::pointer::is_under(v, at))
        && !at.is_empty()
    {
        return;
    }
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                walk(kind, &crate::pointer::push(at, k), a.get(k), b.get(k), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(FieldChange {
            pointer: at.to_string(),
            old: a.cloned(),
            new: b.cloned(),
        }),
    }
}
