//! Resource kinds: what a provider can back up, described as data.
//!
//! A provider crate reads like a table: each row is a [`KindSpec`] (a `const`), and the core
//! engines (backup, redaction, diff, restore planning) work from the [`ResourceKind`] trait it
//! implements. Adding a kind is adding a row, not a code path.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::pointer;
use crate::resource::{Reference, Resource};

/// What area of the identity platform a kind belongs to (for grouping in reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Users, groups, memberships, schemas.
    Directory,
    /// Applications, OAuth clients and their assignments.
    Application,
    /// Sign-on, password, MFA, access policies and their rules.
    Policy,
    /// Authenticators, network zones, device assurance, risk, attack protection.
    Security,
    /// Authorization servers, roles, permissions, resource sets.
    Authorization,
    /// Hooks, log streams, identity providers, event streams.
    Integration,
    /// Brands, themes, email and SMS templates, custom domains.
    Branding,
    /// Org-wide settings and features.
    Settings,
    /// Access certifications, requests, entitlements.
    Governance,
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        f.write_str(&name)
    }
}

/// A secret field of a kind: it is replaced by a placeholder before anything is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SecretField {
    /// Pointer pattern of the field (`*` matches any key or index).
    pub pointer: &'static str,
    /// What the secret is, in words (`"OAuth client secret"`).
    pub secret: &'static str,
}

/// A field holding the id of another resource; restore rewrites it through the id map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReferenceField {
    /// Pointer pattern of the field (`*` matches any key or index). The value is a string id
    /// or an array of string ids.
    pub pointer: &'static str,
    /// The kind the id belongs to.
    pub kind: &'static str,
}

/// An array of objects that diff matches by a key field rather than by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ArrayKey {
    /// Pointer pattern of the array.
    pub pointer: &'static str,
    /// The member of each element that identifies it (`"id"`, `"name"`).
    pub key: &'static str,
}

/// Whether and how a kind can be restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum RestoreSupport {
    /// Missing resources can be created and existing ones updated.
    CreateAndUpdate,
    /// Only existing resources can be updated (singletons such as org settings).
    UpdateOnly,
    /// Can be created (memberships, assignments) but has nothing to update.
    CreateOnly,
    /// Cannot be restored through the API.
    None {
        /// Why not.
        reason: &'static str,
    },
}

impl RestoreSupport {
    /// Whether missing resources of this kind can be created.
    pub fn can_create(self) -> bool {
        matches!(
            self,
            RestoreSupport::CreateAndUpdate | RestoreSupport::CreateOnly
        )
    }

    /// Whether existing resources of this kind can be updated.
    pub fn can_update(self) -> bool {
        matches!(
            self,
            RestoreSupport::CreateAndUpdate | RestoreSupport::UpdateOnly
        )
    }
}

/// A kind of resource: the descriptor every engine works from.
///
/// Most providers describe kinds with the [`KindSpec`] table row; the trait exists so a
/// provider can compute descriptors at run time (for example from a tenant's custom schema).
pub trait ResourceKind: Send + Sync + fmt::Debug {
    /// Stable id, `provider.kind` (`"okta.group_rule"`). Never changes once released.
    fn id(&self) -> &str;
    /// Human name (`"Group rules"`).
    fn display_name(&self) -> &str;
    /// Area of the platform.
    fn category(&self) -> Category;
    /// Kinds whose resources this kind refers to; restore creates those first.
    fn depends_on(&self) -> &[&str];
    /// For sub-resources (group members): the kind of the parent; fetched per parent.
    fn parent(&self) -> Option<&str>;
    /// Pointers whose values together identify a resource across tenants (`["/profile/name"]`).
    /// Empty means the provider id is the only key (singletons use a constant id).
    fn natural_key(&self) -> &[&str];
    /// Secret fields, replaced by placeholders before storage.
    fn secret_fields(&self) -> &[SecretField];
    /// Fields that change without a configuration change (`/lastLogin`, `/_links`); kept in the
    /// backup but ignored by diff.
    fn volatile_fields(&self) -> &[&str];
    /// Fields that hold ids of other resources.
    fn reference_fields(&self) -> &[ReferenceField];
    /// Arrays of objects matched by key in diffs.
    fn array_keys(&self) -> &[ArrayKey];
    /// Whether the kind can be restored.
    fn restore_support(&self) -> RestoreSupport;
    /// What a restore cannot bring back for this kind, said up front in every plan that
    /// creates it ("users are created STAGED, without password or MFA factors"); `None` when
    /// a re-created resource is whole.
    fn restore_note(&self) -> Option<&str> {
        None
    }
    /// For kinds without a natural key: fields that are not references but, with the parent
    /// and the references, tell two resources apart (an app role assignment names the same
    /// principal and resource as its sibling, and differs only in `/appRoleId`). Restore
    /// matching and the after-restore diff add their values to the structural key.
    fn structural_fields(&self) -> &[&str] {
        &[]
    }

    /// The natural key of a body: the values at [`natural_key`](Self::natural_key) joined by `|`
    /// (strings as is, other values as JSON). `None` when the kind has no natural key or a
    /// key field is missing.
    fn natural_key_of(&self, body: &Value) -> Option<String> {
        let fields = self.natural_key();
        let part = |value: &Value| match value {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        };
        match fields {
            [] => return None,
            // The common case: one field, no joining.
            [field] => return part(body.pointer(field)?),
            _ => {}
        }
        let mut parts = Vec::with_capacity(fields.len());
        for field in fields {
            parts.push(part(body.pointer(field)?)?);
        }
        Some(parts.join("|"))
    }

    /// The references a body holds, from [`reference_fields`](Self::reference_fields).
    fn references_of(&self, body: &Value) -> Vec<Reference> {
        let mut out = Vec::new();
        for field in self.reference_fields() {
            for (at, value) in pointer::select(body, field.pointer) {
                match value {
                    Value::String(id) => out.push(Reference {
                        pointer: at,
                        kind: field.kind.to_string(),
                        id: id.clone(),
                    }),
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if let Value::String(id) = item {
                                out.push(Reference {
                                    pointer: format!("{at}/{i}"),
                                    kind: field.kind.to_string(),
                                    id: id.clone(),
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Builds a [`Resource`] of this kind, computing its natural key and references.
    fn resource(&self, id: impl Into<String>, parent_id: Option<String>, body: Value) -> Resource
    where
        Self: Sized,
    {
        Resource::new(self, id, parent_id, body)
    }
}

// Building a resource needs its kind's descriptor, so the constructor lives with the kind:
// resource.rs stays plain data and does not import this module.
impl Resource {
    /// Builds a resource of `kind`, computing the natural key and references from the body.
    pub fn new(
        kind: &dyn ResourceKind,
        id: impl Into<String>,
        parent_id: Option<String>,
        body: Value,
    ) -> Self {
        Resource {
            kind: kind.id().to_string(),
            id: id.into(),
            parent_id,
            natural_key: kind.natural_key_of(&body),
            references: kind.references_of(&body),
            body: Arc::new(body),
        }
    }

    /// Recomputes natural key and references after the body changed.
    pub fn refresh(&mut self, kind: &dyn ResourceKind) {
        self.natural_key = kind.natural_key_of(&self.body);
        self.references = kind.references_of(&self.body);
    }
}

/// The values of a kind's [`structural_fields`](ResourceKind::structural_fields) in a body, as
/// `pointer=value` parts (JSON text for non-strings; absent fields are `null`).
pub fn structural_parts(kind: &dyn ResourceKind, body: &Value) -> Vec<String> {
    kind.structural_fields()
        .iter()
        .map(|p| {
            let value = match body.pointer(p) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => "null".to_string(),
            };
            format!("{p}={value}")
        })
        .collect()
}

/// A kind described as a `const` table row.
///
/// ```
/// use butterfly_core::kind::{Category, KindSpec, ResourceKind, RestoreSupport, SecretField};
///
/// const APP: KindSpec = KindSpec {
///     secret_fields: &[SecretField { pointer: "/credentials/oauthClient/client_secret", secret: "OAuth client secret" }],
///     natural_key: &["/label"],
///     ..KindSpec::new("demo.app", "Applications", Category::Application)
/// };
/// assert_eq!(APP.id(), "demo.app");
/// assert!(APP.restore_support().can_create());
/// ```
#[derive(Debug, Clone, Copy, Serialize)]
pub struct KindSpec {
    /// See [`ResourceKind::id`].
    pub id: &'static str,
    /// See [`ResourceKind::display_name`].
    pub display_name: &'static str,
    /// See [`ResourceKind::category`].
    pub category: Category,
    /// See [`ResourceKind::depends_on`].
    pub depends_on: &'static [&'static str],
    /// See [`ResourceKind::parent`].
    pub parent: Option<&'static str>,
    /// See [`ResourceKind::natural_key`].
    pub natural_key: &'static [&'static str],
    /// See [`ResourceKind::secret_fields`].
    pub secret_fields: &'static [SecretField],
    /// See [`ResourceKind::volatile_fields`].
    pub volatile_fields: &'static [&'static str],
    /// See [`ResourceKind::reference_fields`].
    pub reference_fields: &'static [ReferenceField],
    /// See [`ResourceKind::array_keys`].
    pub array_keys: &'static [ArrayKey],
    /// See [`ResourceKind::restore_support`].
    pub restore: RestoreSupport,
    /// See [`ResourceKind::structural_fields`].
    pub structural_fields: &'static [&'static str],
    /// See [`ResourceKind::restore_note`].
    pub restore_note: Option<&'static str>,
}

impl KindSpec {
    /// A row with the given id, name and category, no fields, and create+update restore.
    pub const fn new(id: &'static str, display_name: &'static str, category: Category) -> Self {
        KindSpec {
            id,
            display_name,
            category,
            depends_on: &[],
            parent: None,
            natural_key: &[],
            secret_fields: &[],
            volatile_fields: &[],
            reference_fields: &[],
            array_keys: &[],
            restore: RestoreSupport::CreateAndUpdate,
            structural_fields: &[],
            restore_note: None,
        }
    }
}

/// A type that carries a [`KindSpec`] (a provider's table row with extra columns): it is a
/// [`ResourceKind`] through the spec, with no delegation to write.
pub trait HasKindSpec: Send + Sync + fmt::Debug {
    /// The descriptor.
    fn spec(&self) -> &KindSpec;
    /// Whether and how the kind can be restored ([`ResourceKind::restore_support`]); by
    /// default the spec's column. A provider row with a write column derives it from that
    /// column with [`restorability`], so whether a kind is restorable is declared once.
    fn restorability(&self) -> RestoreSupport {
        self.spec().restore
    }
}

/// Restore support derived from a row's write column: a row that cannot be written is not
/// restorable (with the spec's reason when it gives one, else `read_only`); a row that can is
/// restorable in the mode its spec declares (create and update unless narrowed). A writable row
/// whose spec says `None` keeps `None`, so the contradiction shows in the table check.
pub const fn restorability(
    writes: bool,
    declared: RestoreSupport,
    read_only: &'static str,
) -> RestoreSupport {
    match (writes, declared) {
        (false, RestoreSupport::None { reason }) => RestoreSupport::None { reason },
        (false, _) => RestoreSupport::None { reason: read_only },
        (true, mode) => mode,
    }
}

impl HasKindSpec for KindSpec {
    fn spec(&self) -> &KindSpec {
        self
    }
}

impl<T: HasKindSpec> ResourceKind for T {
    fn id(&self) -> &str {
        self.spec().id
    }
    fn display_name(&self) -> &str {
        self.spec().display_name
    }
    fn category(&self) -> Category {
        self.spec().category
    }
    fn depends_on(&self) -> &[&str] {
        self.spec().depends_on
    }
    fn parent(&self) -> Option<&str> {
        self.spec().parent
    }
    fn natural_key(&self) -> &[&str] {
        self.spec().natural_key
    }
    fn secret_fields(&self) -> &[SecretField] {
        self.spec().secret_fields
    }
    fn volatile_fields(&self) -> &[&str] {
        self.spec().volatile_fields
    }
    fn reference_fields(&self) -> &[ReferenceField] {
        self.spec().reference_fields
    }
    fn array_keys(&self) -> &[ArrayKey] {
        self.spec().array_keys
    }
    fn restore_support(&self) -> RestoreSupport {
        self.restorability()
    }
    fn restore_note(&self) -> Option<&str> {
        self.spec().restore_note
    }
    fn structural_fields(&self) -> &[&str] {
        self.spec().structural_fields
    }
}

/// A reference to a kind descriptor that lives as long as the program (a table row).
pub type KindRef = &'static dyn ResourceKind;

/// Finds a kind by id in a list.
pub fn find<'k>(kinds: &[&'k dyn ResourceKind], id: &str) -> Option<&'k dyn ResourceKind> {
    kinds.iter().copied().find(|k| k.id() == id)
}

/// Orders kinds so that every kind comes after the kinds it depends on (and after its parent).
///
/// Dependencies on kinds not in the list are ignored. A cycle is a
/// [`Config`](crate::ErrorKind::Config) error naming the kinds on it.
pub fn topological_order<'k>(
    kinds: &[&'k dyn ResourceKind],
) -> crate::Result<Vec<&'k dyn ResourceKind>> {
    use std::collections::BTreeMap;
    let index: BTreeMap<&str, usize> = kinds.iter().enumerate().map(|(i, k)| (k.id(), i)).collect();
    let deps = |k: &dyn ResourceKind| -> Vec<usize> {
        let mut d: Vec<usize> = k
            .depends_on()
            .iter()
            .chain(k.parent().as_slice())
            .filter_map(|id| index.get(id).copied())
            .collect();
        d.sort_unstable();
        d.dedup();
        d
    };
    // 0 = unvisited, 1 = on stack, 2 = done
    let mut state = vec![0u8; kinds.len()];
    let mut order = Vec::with_capacity(kinds.len());
    fn visit<'k>(
        i: usize,
        kinds: &[&'k dyn ResourceKind],
        deps: &dyn Fn(&dyn ResourceKind) -> Vec<usize>,
        state: &mut [u8],
        stack: &mut Vec<usize>,
        order: &mut Vec<&'k dyn ResourceKind>,
    ) -> crate::Result<()> {
        match state[i] {
            2 => return Ok(()),
            1 => {
                let start = stack.iter().position(|&s| s == i).unwrap_or(0);
                let mut cycle: Vec<&str> = stack[start..].iter().map(|&s| kinds[s].id()).collect();
                cycle.push(kinds[i].id());
                return Err(crate::Error::config(format!(
                    "dependency cycle between kinds: {}",
                    cycle.join(" -> ")
                )));
            }
            _ => {}
        }
        state[i] = 1;
        stack.push(i);
        for d in deps(kinds[i]) {
            visit(d, kinds, deps, state, stack, order)?;
        }
        stack.pop();
        state[i] = 2;
        order.push(kinds[i]);
        Ok(())
    }
    let mut stack = Vec::new();
    for i in 0..kinds.len() {
        visit(i, kinds, &deps, &mut state, &mut stack, &mut order)?;
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GROUP: KindSpec = KindSpec {
        natural_key: &["/profile/name"],
        ..KindSpec::new("t.group", "Groups", Category::Directory)
    };
    const RULE: KindSpec = KindSpec {
        depends_on: &["t.group"],
        reference_fields: &[ReferenceField {
            pointer: "/actions/assignUserToGroups/groupIds",
            kind: "t.group",
        }],
        ..KindSpec::new("t.rule", "Group rules", Category::Directory)
    };
    const MEMBER: KindSpec = KindSpec {
        parent: Some("t.group"),
        ..KindSpec::new("t.member", "Members", Category::Directory)
    };

    #[test]
    fn natural_key_and_references() {
        let body = json!({"profile": {"name": "Admins"}});
        assert_eq!(GROUP.natural_key_of(&body).as_deref(), Some("Admins"));
        assert_eq!(GROUP.natural_key_of(&json!({})), None);
        let rule = json!({"actions": {"assignUserToGroups": {"groupIds": ["g1", "g2"]}}});
        let refs = RULE.references_of(&rule);
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].pointer, "/actions/assignUserToGroups/groupIds/0");
        assert_eq!(refs[1].id, "g2");
    }

    #[test]
    fn restorability_follows_the_write_column() {
        let none = RestoreSupport::None { reason: "no API" };
        assert_eq!(
            restorability(false, RestoreSupport::CreateAndUpdate, "read-only"),
            RestoreSupport::None {
                reason: "read-only"
            }
        );
        assert_eq!(restorability(false, none, "read-only"), none);
        assert_eq!(
            restorability(true, RestoreSupport::UpdateOnly, "read-only"),
            RestoreSupport::UpdateOnly
        );
        // A contradiction stays visible for the table check.
        assert_eq!(restorability(true, none, "read-only"), none);
    }

    #[test]
    fn topological_order_puts_dependencies_first() {
        let kinds: Vec<&dyn ResourceKind> = vec![&RULE, &MEMBER, &GROUP];
        let order: Vec<&str> = topological_order(&kinds)
            .unwrap()
            .iter()
            .map(|k| k.id())
            .collect();
        let pos = |id| order.iter().position(|k| *k == id).unwrap();
        assert!(pos("t.group") < pos("t.rule"));
        assert!(pos("t.group") < pos("t.member"));
    }

    #[test]
    fn cycles_are_errors_naming_the_kinds() {
        const A: KindSpec = KindSpec {
            depends_on: &["t.b"],
            ..KindSpec::new("t.a", "A", Category::Settings)
        };
        const B: KindSpec = KindSpec {
            depends_on: &["t.a"],
            ..KindSpec::new("t.b", "B", Category::Settings)
        };
        let kinds: Vec<&dyn ResourceKind> = vec![&A, &B];
        let err = topological_order(&kinds).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Config);
        assert!(
            err.to_string().contains("t.a") && err.to_string().contains("t.b"),
            "{err}"
        );
    }
}
