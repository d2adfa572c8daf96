//! # butterfly-terraform
//!
//! Terraform export of a stored snapshot (never of a live tenant): HCL for the official
//! provider (`okta/okta`, `auth0/auth0`, `hashicorp/azuread`), an import step for every
//! resource, a sensitive variable for every secret placeholder, and a `NOT-EXPORTED.md`
//! naming every kind and resource left out, with why.
//!
//! The engine here is provider-neutral. Each provider crate holds its table, a
//! [`ProviderMapping`] of [`KindMapping`] rows (`butterfly_okta::terraform::MAPPING`): the
//! resource type (or a function choosing it from the body), attributes and blocks by JSON
//! Pointer, references, the import id and the fields it leaves out on purpose.
//!
//! Files written by [`export()`]:
//!
//! | file | what |
//! |---|---|
//! | `main.tf` | the resources (one `<kind>.tf` per kind above [`ExportOptions::split_above`] resources) |
//! | `providers.tf` | `required_providers` pinned to the official provider; a `provider` block reading credentials from the environment |
//! | `variables.tf` | one `sensitive` variable per secret placeholder: `user_password`, `client_secret_<name>`, `api_key_<name>` |
//! | `terraform.tfvars.example` | the variables to fill in |
//! | `imports.tf` or `import.sh` | Terraform 1.5+ `import` blocks ([`ImportStyle::Blocks`]) or `terraform import` commands ([`ImportStyle::Commands`]) |
//! | `NOT-EXPORTED.md` | kinds and resources with no Terraform resource, with why |
//!
//! References between exported resources are Terraform references
//! (`okta_group.engineering.id`); resource names come from natural keys
//! ([`names::identifier`]), deduplicated with `_2`, `_3`… in a stable order. HCL is built with
//! hcl-rs (which escapes `${` as `$${`) and laid out as `terraform fmt` does ([`mod@format`]).
//!
//! ## Example
//!
//! ```
//! use butterfly_core::kind::{Category, KindRef, KindSpec};
//! use butterfly_core::snapshot::{KindOutcome, Snapshot, SnapshotId, SnapshotMeta};
//! use butterfly_core::Resource;
//! use butterfly_terraform::{Attr, ExportOptions, KindMapping, ProviderMapping, To, export};
//! use serde_json::json;
//!
//! static GROUP: KindSpec = KindSpec {
//!     natural_key: &["/profile/name"],
//!     ..KindSpec::new("demo.group", "Groups", Category::Directory)
//! };
//! static RULE: KindSpec = KindSpec {
//!     natural_key: &["/name"],
//!     ..KindSpec::new("demo.rule", "Rules", Category::Directory)
//! };
//! fn kinds() -> &'static [KindRef] {
//!     static KINDS: [KindRef; 2] = [&GROUP, &RULE];
//!     &KINDS
//! }
//! static MAPPING: ProviderMapping = ProviderMapping {
//!     provider: "demo",
//!     local_name: "okta",
//!     source: "okta/okta",
//!     version: "~> 6.12",
//!     env: &[("OKTA_ORG_NAME", "the org")],
//!     reference_attribute: "id",
//!     kinds,
//!     mappings: &[
//!         KindMapping::new("demo.group", "okta_group", &[Attr::value("name", "/profile/name")]),
//!         KindMapping::new("demo.rule", "okta_group_rule", &[
//!             Attr::value("name", "/name"),
//!             Attr::value("expression_value", "/expr"),
//!             Attr::value("group_assignments", "/groups").to(To::Ref("demo.group")),
//!         ]),
//!     ],
//!     not_exported: &[],
//!     ignored: &[],
//! };
//!
//! let now = chrono::Utc::now();
//! let mut snapshot = Snapshot::new(SnapshotMeta {
//!     id: SnapshotId::generate("demo", now),
//!     provider: "demo".into(),
//!     tenant: "acme.example".into(),
//!     started_at: now,
//!     finished_at: now,
//! });
//! let group = Resource::new(&GROUP, "00g1", None, json!({"profile": {"name": "Engineering"}}));
//! let rule = Resource::new(&RULE, "0pr1", None, json!({
//!     "name": "Engineers", "expr": "${user.department} == \"eng\"", "groups": ["00g1"]
//! }));
//! snapshot.insert_kind("demo.group", KindOutcome::Complete, vec![group]);
//! snapshot.insert_kind("demo.rule", KindOutcome::Complete, vec![rule]);
//!
//! let out = export(&snapshot, &MAPPING, &ExportOptions::default())?;
//! let main = &out.files["main.tf"];
//! assert!(main.contains(r#"resource "okta_group" "engineering""#));
//! assert!(main.contains("okta_group.engineering.id")); // a reference, not the id
//! assert!(main.contains("$${user.department}"));       // template markers escaped
//! assert!(out.files["imports.tf"].contains(r#"id = "00g1""#));
//! # Ok::<(), butterfly_core::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod export;
pub mod format;
pub mod mapping;
pub mod names;

pub use export::{
    Export, ExportOptions, ExportedResource, ImportStyle, Omission, SecretVariable, export,
    mapping_for,
};
pub use mapping::{
    Attr, ConstValue, Dropped, ImportId, KindMapping, NotExported, ProviderMapping, ResourceType,
    To,
};
