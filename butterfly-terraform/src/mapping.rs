//! The mapping tables' row types: how a provider's kinds become Terraform resources.
//!
//! Each provider crate declares one [`ProviderMapping`] (`butterfly_okta::terraform::MAPPING`):
//! the official Terraform provider (source, version, the environment variables it reads), one
//! [`KindMapping`] row per kind that maps, and a [`NotExported`] row, with the reason, for every
//! kind that does not. The engine ([`crate::export()`]) only reads these tables.

use butterfly_core::KindRef;
use butterfly_core::Resource;
use serde_json::Value;

/// A provider's Terraform table.
#[derive(Debug)]
pub struct ProviderMapping {
    /// butterfly provider name (`"okta"`), matched against the snapshot's provider.
    pub provider: &'static str,
    /// Terraform's local name for the provider (`"okta"`, `"azuread"`).
    pub local_name: &'static str,
    /// Registry source of the official provider (`"okta/okta"`).
    pub source: &'static str,
    /// Version constraint (`"~> 6.12"`).
    pub version: &'static str,
    /// Environment variables the provider block reads credentials from, with what each holds.
    pub env: &'static [(&'static str, &'static str)],
    /// The attribute other resources refer to (`"id"`; `"object_id"` for azuread).
    pub reference_attribute: &'static str,
    /// The provider's kinds (for parents and volatile fields).
    pub kinds: fn() -> &'static [KindRef],
    /// One row per kind that maps.
    pub mappings: &'static [KindMapping],
    /// Kinds with no Terraform resource, and why.
    pub not_exported: &'static [NotExported],
    /// Body fields never exported for any kind (provider-assigned ids, timestamps), with why.
    pub ignored: &'static [Dropped],
}

impl ProviderMapping {
    /// The row of a kind, if it maps.
    pub fn mapping(&self, kind: &str) -> Option<&'static KindMapping> {
        self.mappings.iter().find(|m| m.kind == kind)
    }

    /// Why a kind is not exported, if the table says so.
    pub fn not_exported(&self, kind: &str) -> Option<&'static str> {
        self.not_exported
            .iter()
            .find(|n| n.kind == kind)
            .map(|n| n.reason)
    }
}

/// A kind with no Terraform resource.
#[derive(Debug, Clone, Copy)]
pub struct NotExported {
    /// Kind id.
    pub kind: &'static str,
    /// Why it is not exported.
    pub reason: &'static str,
}

/// A body field the mapping leaves out on purpose.
#[derive(Debug, Clone, Copy)]
pub struct Dropped {
    /// Pointer pattern (`*` matches any key or index); a pointer covers everything below it.
    pub pointer: &'static str,
    /// Why it is left out.
    pub reason: &'static str,
}

/// Chooses the resource type of one resource from its body.
pub type ChooseType = fn(&Value) -> Result<&'static str, &'static str>;

/// Which Terraform resource type a kind maps to.
#[derive(Debug, Clone, Copy)]
pub enum ResourceType {
    /// Always this type.
    Fixed(&'static str),
    /// Chosen per resource (Okta apps by sign-on mode, policies by type); `Err` holds why the
    /// resource cannot be exported (listed in `NOT-EXPORTED.md`).
    ByBody {
        /// Every type the function can choose (for tests and docs).
        types: &'static [&'static str],
        /// The choice.
        choose: ChooseType,
    },
}

impl ResourceType {
    /// Every type this can produce.
    pub fn types(&self) -> Vec<&'static str> {
        match self {
            ResourceType::Fixed(t) => vec![t],
            ResourceType::ByBody { types, .. } => types.to_vec(),
        }
    }
}

/// How the import id of a resource is built.
#[derive(Debug, Clone, Copy)]
pub enum ImportId {
    /// The resource's id.
    Id,
    /// A template: `{id}` the resource id, `{parent}` the parent id, `{leaf}` the last
    /// `/`-separated part of the id, `{parent_leaf}` the last part of the parent id, `{tenant}` the
    /// snapshot's tenant, `{entry}` the member of an `each` row, and
    /// `{/pointer}` a body value.
    Template(&'static str),
}

/// Where the value of an attribute comes from and how it is written.
#[derive(Debug, Clone, Copy)]
pub enum To {
    /// The JSON value as an HCL literal (strings, numbers, booleans, lists, maps).
    Value,
    /// The JSON value, or this string when the body has none (an argument Terraform requires
    /// and the API does not).
    ValueOr(&'static str),
    /// `jsonencode(value)`, for attributes that take a JSON string.
    Json,
    /// An id, or a list of ids, of a resource of this kind: a Terraform reference when that
    /// resource is exported, the literal id otherwise.
    Ref(&'static str),
    /// The resource's parent (of this kind), as a reference.
    ParentRef(&'static str),
    /// A constant.
    Const(ConstValue),
    /// An object written as one nested block (left out when nothing but constants would go
    /// in it).
    Block(&'static [Attr]),
    /// An array of objects written as repeated nested blocks.
    Blocks(&'static [Attr]),
    /// The value looked up in a table of (JSON string, HCL string) pairs; unknown values are
    /// written as they are.
    Rename(&'static [(&'static str, &'static str)]),
    /// For rows that aggregate by parent: the value at the pointer of every member, as a list
    /// of references to this kind.
    Collect(&'static str),
    /// For rows that aggregate by parent: one nested block per member, from these attributes
    /// of the member's body (Auth0 role permissions).
    CollectBlocks(&'static [Attr]),
    /// An id of a resource of any of these kinds (the first that holds it), as a reference.
    RefAny(&'static [&'static str]),
    /// An array of objects as the list of one member of each (`[{"value": "a"}]` → `["a"]`).
    Pluck(&'static str),
    /// `true` when the value equals this string (`status` `"ACTIVE"` → `active = true`).
    Equals(&'static str),
    /// The tenant of the snapshot (PingOne's `environment_id`).
    Tenant,
    /// For rows with [`KindMapping::each`]: the member's name (a schema property's index).
    Entry,
    /// An object expression (a `Map of String` attribute, or a plugin-framework nested
    /// attribute) built from these attributes; left out when nothing but constants would go
    /// in it.
    Object(&'static [Attr]),
    /// Nested blocks, one per member of an object: the member name in the attribute named
    /// here, the member value read by the inner attributes (pointer `""` is the value itself).
    MapBlocks(&'static str, &'static [Attr]),
    /// The n-th `/`-separated part of the resource id, as a string.
    IdPart(usize),
    /// The n-th `/`-separated part of the resource id, as a reference to this kind (whose id
    /// is the id up to that part).
    IdPartRef(usize, &'static str),
    /// The child resources of this kind (whose parent is this resource), as the list of the
    /// last `/`-separated part of their ids (Okta custom role permissions).
    Children(&'static str),
}

/// A constant attribute value.
#[derive(Debug, Clone, Copy)]
pub enum ConstValue {
    /// A string.
    Str(&'static str),
    /// A boolean.
    Bool(bool),
}

/// One attribute (or nested block) of a Terraform resource.
#[derive(Debug, Clone, Copy)]
pub struct Attr {
    /// Terraform attribute or block name.
    pub name: &'static str,
    /// JSON Pointer in the body (ignored by [`To::ParentRef`] and [`To::Const`]).
    pub pointer: &'static str,
    /// How the value is written.
    pub to: To,
    /// The resource types it applies to (empty: all of the row's types).
    pub only: &'static [&'static str],
    /// Applies only when this holds for the value it is read from (the resource body, or the
    /// enclosing object for nested attributes): PingOne's `oidc_options` for OIDC apps only.
    pub when: Option<fn(&Value) -> bool>,
}

impl Attr {
    /// `name = <the value at pointer>`.
    pub const fn value(name: &'static str, pointer: &'static str) -> Attr {
        Attr {
            name,
            pointer,
            to: To::Value,
            only: &[],
            when: None,
        }
    }

    /// The same attribute, only when `when` holds for the value it is read from.
    pub const fn when(self, when: fn(&Value) -> bool) -> Attr {
        Attr {
            when: Some(when),
            ..self
        }
    }

    /// The same attribute with another conversion.
    pub const fn to(self, to: To) -> Attr {
        Attr { to, ..self }
    }

    /// The same attribute, for these resource types only.
    pub const fn only(self, only: &'static [&'static str]) -> Attr {
        Attr { only, ..self }
    }

    /// Whether the attribute applies to `resource_type`.
    pub fn applies(&self, resource_type: &str) -> bool {
        self.only.is_empty() || self.only.contains(&resource_type)
    }
}

/// Excludes one resource (a system object the provider cannot manage), with why; gets the
/// resource and, for sub-resources, its parent.
pub type Skip = fn(&Resource, Option<&Resource>) -> Option<&'static str>;

/// One kind's row.
#[derive(Debug, Clone, Copy)]
pub struct KindMapping {
    /// Kind id (`"okta.group"`).
    pub kind: &'static str,
    /// The resource type.
    pub resource_type: ResourceType,
    /// Attributes and blocks.
    pub attributes: &'static [Attr],
    /// The import id.
    pub import_id: ImportId,
    /// One Terraform resource per parent, gathering the kind's resources (Okta group
    /// memberships become one `okta_group_memberships` per group).
    pub per_parent: bool,
    /// Resources the provider cannot manage.
    pub skip: Option<Skip>,
    /// One Terraform resource per member of the object at this pointer (Okta's custom
    /// schema properties: `/definitions/custom/properties`); attribute pointers then read the
    /// member's value, [`To::Entry`] its name.
    pub each: Option<&'static str>,
    /// Sub-resources are left out with their parent when the parent's row leaves it out
    /// (members of the built-in Everyone group, assignments of Okta's system apps).
    pub requires_parent: bool,
    /// Body fields left out, each with why (the round-trip test holds the table to them).
    pub dropped: &'static [Dropped],
}

impl KindMapping {
    /// A row mapping `kind` to one type, importing by id, with these attributes.
    pub const fn new(
        kind: &'static str,
        resource_type: &'static str,
        attributes: &'static [Attr],
    ) -> KindMapping {
        KindMapping {
            kind,
            resource_type: ResourceType::Fixed(resource_type),
            attributes,
            import_id: ImportId::Id,
            per_parent: false,
            skip: None,
            each: None,
            requires_parent: false,
            dropped: &[],
        }
    }

    /// The same row with these fields documented as left out.
    pub const fn with_dropped(self, dropped: &'static [Dropped]) -> KindMapping {
        KindMapping { dropped, ..self }
    }
}
