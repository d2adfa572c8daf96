//! One backed-up object: a [`Resource`] of some kind, with its body as JSON.
//!
//! Plain data, below [`kind`](crate::kind): building a resource from its kind's descriptor
//! ([`Resource::new`], [`Resource::refresh`]) is implemented there, so the two modules do not
//! import each other.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A pointer inside a resource body that names another resource by id.
///
/// Fields are declared in alphabetical order: that is their canonical JSON order, which lets
/// [`crate::snapshot::resource_hash`] take its fast path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reference {
    /// Provider id of the referenced resource.
    pub id: String,
    /// Kind of the referenced resource.
    pub kind: String,
    /// Concrete JSON Pointer of the id inside the body.
    pub pointer: String,
}

/// One resource as backed up: provider id, optional parent (for sub-resources), the natural
/// key used to match it across tenants, its references and its body.
///
/// Fields are declared in alphabetical order (their canonical JSON order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The object as the provider returned it, secrets replaced by placeholders.
    ///
    /// Shared, not copied, when a resource is carried over unchanged from one snapshot into the
    /// next (an incremental backup); [`Arc::make_mut`] gives a body of its own to change.
    /// Reading works as with a plain [`Value`] (`resource.body["id"]`, `&*resource.body`).
    pub body: Arc<Value>,
    /// The provider's id. For sub-resources without their own id the provider builds one
    /// from the parent and child ids (`"00g1:00u2"`).
    pub id: String,
    /// Kind id (`"okta.group"`).
    pub kind: String,
    /// Key that identifies the resource across tenants, from the kind's natural key fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub natural_key: Option<String>,
    /// For sub-resources, the id of the parent resource (of the kind's parent kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Ids of other resources named in the body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
}

impl Resource {
    /// A short label for reports: natural key if any, else the id.
    pub fn label(&self) -> &str {
        self.natural_key.as_deref().unwrap_or(&self.id)
    }
}

#[cfg(test)]
mod tests {
    /// `kind` builds resources, so this module must not import it back.
    #[test]
    fn resource_does_not_import_kind() {
        assert!(
            !include_str!("resource.rs")
                .lines()
                .any(|l| l.starts_with("use crate::kind")),
        );
    }
}
