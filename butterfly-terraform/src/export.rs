//! The engine: a snapshot and a provider's table in, Terraform files out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use butterfly_core::redact::SecretPlaceholder;
use butterfly_core::{Error, Resource, Result, Snapshot};
use hcl::expr::{FuncCall, Traversal, Variable};
use hcl::{Attribute, Block, Body, Expression, Identifier, Object, ObjectKey};
use serde_json::Value;

use crate::format;
use crate::mapping::{Attr, ConstValue, ImportId, KindMapping, ProviderMapping, ResourceType, To};
use crate::names;

/// How the import step is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportStyle {
    /// Terraform 1.5+ `import { to = …, id = … }` blocks in `imports.tf`.
    #[default]
    Blocks,
    /// `terraform import` commands in `import.sh`, for Terraform 1.0–1.4.
    Commands,
}

/// What to export and how.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Only these kinds (`"okta.group"` or `"group"`); `None` exports every kind.
    pub kinds: Option<Vec<String>>,
    /// Import blocks or import commands.
    pub import: ImportStyle,
    /// Above this many exported resources, one `<kind>.tf` file per kind instead of `main.tf`.
    pub split_above: usize,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            kinds: None,
            import: ImportStyle::Blocks,
            split_above: 500,
        }
    }
}

/// One Terraform resource in the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedResource {
    /// Kind id.
    pub kind: String,
    /// Ids of the snapshot resources it holds (one, or the members of a per-parent row).
    pub ids: Vec<String>,
    /// Terraform resource type.
    pub resource_type: String,
    /// Terraform resource name (unique within its type).
    pub name: String,
    /// Id for `terraform import`.
    pub import_id: String,
    /// For rows with [`KindMapping::each`](crate::KindMapping::each): the member of the body
    /// it is (`costCenter`).
    pub entry: Option<String>,
    /// File it is written in.
    pub file: String,
}

impl ExportedResource {
    /// `type.name`.
    pub fn address(&self) -> String {
        format!("{}.{}", self.resource_type, self.name)
    }
}

/// Something left out of the export, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Omission {
    /// Kind id.
    pub kind: String,
    /// The resource (label), or `None` for the whole kind.
    pub resource: Option<String>,
    /// How many resources of the kind the snapshot holds (whole kinds only).
    pub count: usize,
    /// Why.
    pub reason: String,
}

/// A sensitive input variable standing for a secret placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretVariable {
    /// Variable name (`client_secret_my_app`).
    pub name: String,
    /// What it holds, for the description.
    pub description: String,
}

/// The export: file name to content, and what went where.
#[derive(Debug, Clone)]
pub struct Export {
    /// File name (`main.tf`) to content.
    pub files: BTreeMap<String, String>,
    /// Every Terraform resource, in file order.
    pub resources: Vec<ExportedResource>,
    /// Kinds and resources not exported, with why.
    pub omitted: Vec<Omission>,
    /// One per secret placeholder met.
    pub variables: Vec<SecretVariable>,
}

impl Export {
    /// The exported resource holding a snapshot resource.
    pub fn find(&self, kind: &str, id: &str) -> Option<&ExportedResource> {
        self.resources
            .iter()
            .find(|r| r.kind == kind && r.ids.iter().any(|i| i == id))
    }

    /// Writes every file into `dir` (created if missing); returns the paths written.
    pub fn write_to(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        let mut written = Vec::new();
        for (name, content) in &self.files {
            let path = dir.join(name);
            std::fs::write(&path, content)
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
            written.push(path);
        }
        tracing::info!(dir = %dir.display(), files = written.len(), "terraform export written");
        Ok(written)
    }
}

/// Picks the table of the snapshot's provider from `mappings`; a `Config` error names the
/// providers that have one.
pub fn mapping_for<'m>(
    snapshot: &Snapshot,
    mappings: &[&'m ProviderMapping],
) -> Result<&'m ProviderMapping> {
    mappings
        .iter()
        .copied()
        .find(|m| m.provider == snapshot.meta.provider)
        .ok_or_else(|| {
            let known: Vec<&str> = mappings.iter().map(|m| m.provider).collect();
            Error::config(format!(
                "no Terraform export for provider {:?}; available for: {}",
                snapshot.meta.provider,
                known.join(", ")
            ))
        })
}

/// A resource (or a per-parent group) on its way into the export.
struct Planned<'s> {
    mapping: &'static KindMapping,
    resource_type: &'static str,
    base: String,
    members: Vec<&'s Resource>,
    /// For rows with [`KindMapping::each`]: the member of the body this resource is.
    entry: Option<String>,
    name: String,
}

/// Exports `snapshot` with `mapping` (the snapshot's provider's table).
///
/// Never reads a live tenant. Every kind of the snapshot is either exported or listed in
/// `NOT-EXPORTED.md` (and [`Export::omitted`]) with why.
pub fn export(
    snapshot: &Snapshot,
    mapping: &ProviderMapping,
    options: &ExportOptions,
) -> Result<Export> {
    if mapping.provider != snapshot.meta.provider {
        return Err(Error::config(format!(
            "the snapshot is from provider {:?}, the Terraform table is for {:?}",
            snapshot.meta.provider, mapping.provider
        )));
    }
    let wanted = selected_kinds(snapshot, mapping, options)?;
    let kinds = (mapping.kinds)();
    let parent_kind = |kind: &str| {
        kinds
            .iter()
            .find(|k| k.id() == kind)
            .and_then(|k| k.parent())
            .map(str::to_string)
    };

    let mut omitted = Vec::new();
    let mut planned: Vec<Planned<'_>> = Vec::new();
    for (kind, data) in &snapshot.kinds {
        if !wanted.contains(kind.as_str()) {
            continue;
        }
        let Some(row) = mapping.mapping(kind) else {
            let reason = mapping
                .not_exported(kind)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "no Terraform mapping for this kind in butterfly's {} table yet",
                        mapping.provider
                    )
                });
            omitted.push(Omission {
                kind: kind.clone(),
                resource: None,
                count: data.resources.len(),
                reason,
            });
            continue;
        };
        let parent = parent_kind(kind);
        // A resource without a natural key (an assignment) is named after what it refers
        // to, else after the last part of its id.
        let own_label = |r: &Resource| -> String {
            if let Some(key) = &r.natural_key {
                return key.clone();
            }
            r.references
                .iter()
                .find_map(|reference| snapshot.get(&reference.kind, &reference.id))
                .map(|target| target.label().to_string())
                .unwrap_or_else(|| r.id.rsplit('/').next().unwrap_or(&r.id).to_string())
        };
        let label_of = |r: &Resource| -> String {
            match (&parent, &r.parent_id) {
                (Some(pk), Some(pid)) => {
                    // The parent's natural key, else that of the resource the row refers to
                    // by the parent's id (an Okta admin assignee is a user).
                    let keyed =
                        |kind: &str| snapshot.get(kind, pid).and_then(|p| p.natural_key.clone());
                    let p = keyed(pk)
                        .or_else(|| {
                            row.attributes.iter().find_map(|a| match a.to {
                                To::ParentRef(k) => keyed(k),
                                _ => None,
                            })
                        })
                        .unwrap_or_else(|| pid.clone());
                    if row.per_parent {
                        p
                    } else {
                        format!("{p} {}", own_label(r))
                    }
                }
                _ => own_label(r),
            }
        };
        let mut groups: BTreeMap<String, Planned<'_>> = BTreeMap::new();
        for resource in &data.resources {
            let parent_resource = match (&parent, &resource.parent_id) {
                (Some(pk), Some(pid)) => snapshot.get(pk, pid),
                _ => None,
            };
            let parent_left_out = row.requires_parent
                && parent_resource.is_some_and(|p| left_out(mapping, p).is_some());
            let skipped = if parent_left_out {
                Some("its parent is not exported (built in or not manageable), so neither is this")
            } else {
                row.skip.and_then(|skip| skip(resource, parent_resource))
            };
            if let Some(reason) = skipped {
                omitted.push(Omission {
                    kind: kind.clone(),
                    resource: Some(label_of(resource)),
                    count: 1,
                    reason: reason.to_string(),
                });
                continue;
            }
            let resource_type = match row.resource_type {
                ResourceType::Fixed(t) => t,
                ResourceType::ByBody { choose, .. } => match choose(&resource.body) {
                    Ok(t) => t,
                    Err(reason) => {
                        omitted.push(Omission {
                            kind: kind.clone(),
                            resource: Some(resource.label().to_string()),
                            count: 1,
                            reason: reason.to_string(),
                        });
                        continue;
                    }
                },
            };
            if let Some(each) = row.each {
                let entries = resource.body.pointer(each).and_then(Value::as_object);
                let Some(entries) = entries.filter(|e| !e.is_empty()) else {
                    omitted.push(Omission {
                        kind: kind.clone(),
                        resource: Some(label_of(resource)),
                        count: 1,
                        reason: format!("nothing at {each} to export"),
                    });
                    continue;
                };
                for key in entries.keys() {
                    planned.push(Planned {
                        mapping: row,
                        resource_type,
                        base: names::identifier(&format!("{} {key}", label_of(resource))),
                        members: vec![resource],
                        entry: Some(key.clone()),
                        name: String::new(),
                    });
                }
                continue;
            }
            let key = if row.per_parent {
                resource.parent_id.clone().unwrap_or_default()
            } else {
                resource.id.clone()
            };
            groups
                .entry(key)
                .or_insert_with(|| Planned {
                    mapping: row,
                    resource_type,
                    base: names::identifier(&label_of(resource)),
                    members: Vec::new(),
                    entry: None,
                    name: String::new(),
                })
                .members
                .push(resource);
        }
        planned.extend(groups.into_values());
    }

    // Names: unique per type, in a deterministic order (base name, then first id).
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (&planned[a], &planned[b]);
        (pa.resource_type, &pa.base, &pa.members[0].id, &pa.entry).cmp(&(
            pb.resource_type,
            &pb.base,
            &pb.members[0].id,
            &pb.entry,
        ))
    });
    let mut taken: BTreeSet<(String, String)> = BTreeSet::new();
    for i in order {
        let p = &mut planned[i];
        p.name = names::unique(&p.base, |n| {
            taken.contains(&(p.resource_type.to_string(), n.to_string()))
        });
        taken.insert((p.resource_type.to_string(), p.name.clone()));
    }

    let mut addresses: HashMap<(String, String), (String, String)> = HashMap::new();
    for p in &planned {
        if !p.mapping.per_parent && p.entry.is_none() {
            for m in &p.members {
                addresses.insert(
                    (m.kind.clone(), m.id.clone()),
                    (p.resource_type.to_string(), p.name.clone()),
                );
            }
        }
    }

    let split = planned.len() > options.split_above;
    let mut ctx = Context {
        snapshot,
        entry: None,
        mapping,
        addresses: &addresses,
        variables: BTreeMap::new(),
    };
    let mut files: BTreeMap<String, Vec<Block>> = BTreeMap::new();
    let mut resources = Vec::new();
    for p in &planned {
        let file = if split {
            format!(
                "{}.tf",
                p.mapping.kind.rsplit('.').next().unwrap_or(p.mapping.kind)
            )
        } else {
            "main.tf".to_string()
        };
        let block = ctx.resource_block(p)?;
        files.entry(file.clone()).or_default().push(block);
        resources.push(ExportedResource {
            kind: p.mapping.kind.to_string(),
            ids: p.members.iter().map(|m| m.id.clone()).collect(),
            resource_type: p.resource_type.to_string(),
            name: p.name.clone(),
            import_id: import_id(p, p.mapping.import_id, &snapshot.meta.tenant),
            entry: p.entry.clone(),
            file,
        });
    }

    let variables: Vec<SecretVariable> = ctx
        .variables
        .into_iter()
        .map(|(name, description)| SecretVariable { name, description })
        .collect();
    let mut out = BTreeMap::new();
    for (file, blocks) in files {
        out.insert(file, format::blocks(&blocks)?);
    }
    if !out.contains_key("main.tf") {
        out.insert(
            "main.tf".to_string(),
            "# Resources are in one file per kind beside this one.\n".to_string(),
        );
    }
    out.insert(
        "providers.tf".to_string(),
        providers_tf(mapping, options.import)?,
    );
    out.insert("variables.tf".to_string(), variables_tf(&variables)?);
    out.insert(
        "terraform.tfvars.example".to_string(),
        tfvars_example(&variables)?,
    );
    match options.import {
        ImportStyle::Blocks => {
            out.insert("imports.tf".to_string(), imports_tf(&resources)?);
        }
        ImportStyle::Commands => {
            out.insert("import.sh".to_string(), import_sh(&resources));
        }
    }
    out.insert(
        "NOT-EXPORTED.md".to_string(),
        not_exported_md(snapshot, mapping, &resources, &omitted),
    );
    tracing::debug!(
        resources = resources.len(),
        omitted = omitted.len(),
        "terraform export built"
    );
    Ok(Export {
        files: out,
        resources,
        omitted,
        variables,
    })
}

/// Why a resource is left out by its row (skipped or no resource type), if it is; `None`
/// also for kinds without a row.
fn left_out(mapping: &ProviderMapping, resource: &Resource) -> Option<&'static str> {
    let row = mapping.mapping(&resource.kind)?;
    if let Some(reason) = row.skip.and_then(|skip| skip(resource, None)) {
        return Some(reason);
    }
    match row.resource_type {
        ResourceType::Fixed(_) => None,
        ResourceType::ByBody { choose, .. } => choose(&resource.body).err(),
    }
}

fn selected_kinds(
    snapshot: &Snapshot,
    mapping: &ProviderMapping,
    options: &ExportOptions,
) -> Result<BTreeSet<String>> {
    let all: BTreeSet<String> = snapshot.kinds.keys().cloned().collect();
    let Some(requested) = &options.kinds else {
        return Ok(all);
    };
    let mut out = BTreeSet::new();
    for name in requested {
        let full = if name.contains('.') {
            name.clone()
        } else {
            format!("{}.{name}", mapping.provider)
        };
        if !all.contains(&full) {
            return Err(Error::config(format!(
                "the snapshot has no kind {name:?}; it has: {}",
                all.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        out.insert(full);
    }
    Ok(out)
}

fn import_id(p: &Planned<'_>, how: ImportId, tenant: &str) -> String {
    let r = p.members[0];
    match how {
        ImportId::Id => r.id.clone(),
        ImportId::Template(t) => {
            let parent = r.parent_id.clone().unwrap_or_default();
            let mut out = String::new();
            let mut rest = t;
            while let Some(start) = rest.find('{') {
                out.push_str(&rest[..start]);
                let Some(end) = rest[start..].find('}') else {
                    break;
                };
                let token = &rest[start + 1..start + end];
                let value = match token {
                    "id" => r.id.clone(),
                    "parent" => parent.clone(),
                    "tenant" => tenant.to_string(),
                    "entry" => p.entry.clone().unwrap_or_default(),
                    "leaf" => r.id.rsplit('/').next().unwrap_or_default().to_string(),
                    "parent_leaf" => parent.rsplit('/').next().unwrap_or_default().to_string(),
                    pointer => match r.body.pointer(pointer) {
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                        None => String::new(),
                    },
                };
                out.push_str(&value);
                rest = &rest[start + end + 1..];
            }
            out.push_str(rest);
            out
        }
    }
}

struct Context<'a> {
    snapshot: &'a Snapshot,
    /// The member being written, for rows with `each`.
    entry: Option<String>,
    mapping: &'a ProviderMapping,
    addresses: &'a HashMap<(String, String), (String, String)>,
    /// Variable name to description.
    variables: BTreeMap<String, String>,
}

impl Context<'_> {
    fn resource_block(&mut self, p: &Planned<'_>) -> Result<Block> {
        let first = p.members[0];
        self.entry = p.entry.clone();
        let scope: &Value = match (p.mapping.each, &p.entry) {
            (Some(each), Some(entry)) => first
                .body
                .pointer(each)
                .and_then(|e| e.get(entry))
                .unwrap_or(&Value::Null),
            _ => &first.body,
        };
        let mut body = Body::builder();
        for attr in p
            .mapping
            .attributes
            .iter()
            .filter(|a| a.applies(p.resource_type))
        {
            match attr.to {
                To::Collect(kind) => {
                    let items: Vec<Expression> = p
                        .members
                        .iter()
                        .filter_map(|m| m.body.pointer(attr.pointer).and_then(Value::as_str))
                        .map(|id| self.reference(kind, id))
                        .collect();
                    body = body
                        .add_attribute(Attribute::new(ident(attr.name)?, Expression::Array(items)));
                }
                To::CollectBlocks(inner) => {
                    for m in &p.members {
                        if let Some(b) = self.nested(attr.name, inner, m, &m.body, &p.name)? {
                            body = body.add_block(b);
                        }
                    }
                }
                _ => {
                    for structure in self.convert(attr, first, scope, &p.name)? {
                        body = match structure {
                            Item::Attr(a) => body.add_attribute(a),
                            Item::Block(b) => body.add_block(b),
                        };
                    }
                }
            }
        }
        let body = body.build();
        Ok(Block::builder("resource")
            .add_label(p.resource_type)
            .add_label(p.name.as_str())
            .add_structures(body)
            .build())
    }

    /// One attribute or block(s) from the value `attr` selects in `scope`.
    fn convert(
        &mut self,
        attr: &Attr,
        resource: &Resource,
        scope: &Value,
        name: &str,
    ) -> Result<Vec<Item>> {
        if attr.when.is_some_and(|when| !when(scope)) {
            return Ok(Vec::new());
        }
        let key = ident(attr.name)?;
        let value = scope.pointer(attr.pointer);
        let expr = match attr.to {
            To::ParentRef(kind) => match &resource.parent_id {
                Some(pid) => self.reference(kind, pid),
                None => return Ok(Vec::new()),
            },
            To::Const(ConstValue::Str(s)) => Expression::String(s.to_string()),
            To::Const(ConstValue::Bool(b)) => Expression::Bool(b),
            To::Tenant => Expression::String(self.snapshot.meta.tenant.clone()),
            To::Entry => match &self.entry {
                Some(entry) => Expression::String(entry.clone()),
                None => return Ok(Vec::new()),
            },
            To::ValueOr(default) => match value {
                Some(v) if !v.is_null() => self.literal(v, resource, name),
                _ => Expression::String(default.to_string()),
            },
            _ if !matches!(
                attr.to,
                To::IdPart(_) | To::IdPartRef(..) | To::Children(_) | To::Tenant | To::Entry
            ) && value.is_none_or(Value::is_null) =>
            {
                return Ok(Vec::new());
            }
            To::Value => self.literal(value.unwrap_or(&Value::Null), resource, name),
            To::Json => {
                let inner = self.literal(value.unwrap_or(&Value::Null), resource, name);
                Expression::FuncCall(Box::new(
                    FuncCall::builder(ident("jsonencode")?).arg(inner).build(),
                ))
            }
            To::Rename(table) => {
                let v = value.unwrap_or(&Value::Null);
                match v
                    .as_str()
                    .and_then(|s| table.iter().find(|(from, _)| *from == s))
                {
                    Some((_, to)) => Expression::String(to.to_string()),
                    None => self.literal(v, resource, name),
                }
            }
            To::Ref(kind) => match value.unwrap_or(&Value::Null) {
                Value::String(id) => self.reference(kind, id),
                Value::Array(ids) => Expression::Array(
                    ids.iter()
                        .map(|v| match v.as_str() {
                            Some(id) => self.reference(kind, id),
                            None => self.literal(v, resource, name),
                        })
                        .collect(),
                ),
                other => self.literal(other, resource, name),
            },
            To::Block(inner) => {
                let Some(obj) = value.filter(|v| v.is_object()) else {
                    return Ok(Vec::new());
                };
                return Ok(self
                    .nested(attr.name, inner, resource, obj, name)?
                    .map(Item::Block)
                    .into_iter()
                    .collect());
            }
            To::Blocks(inner) => {
                let Some(items) = value.and_then(Value::as_array) else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::new();
                for item in items.iter().filter(|v| v.is_object()) {
                    if let Some(b) = self.nested(attr.name, inner, resource, item, name)? {
                        out.push(Item::Block(b));
                    }
                }
                return Ok(out);
            }
            To::Collect(_) | To::CollectBlocks(_) => return Ok(Vec::new()),
            To::RefAny(kinds) => {
                let v = value.unwrap_or(&Value::Null);
                match v.as_str() {
                    Some(id) => {
                        let kind = kinds.iter().find(|k| {
                            self.addresses
                                .contains_key(&(k.to_string(), id.to_string()))
                        });
                        match kind {
                            Some(k) => self.reference(k, id),
                            None => Expression::String(id.to_string()),
                        }
                    }
                    None => self.literal(v, resource, name),
                }
            }
            To::Pluck(member) => match value.unwrap_or(&Value::Null) {
                Value::Array(items) => Expression::Array(
                    items
                        .iter()
                        .filter_map(|i| i.get(member))
                        .map(|v| self.literal(v, resource, name))
                        .collect(),
                ),
                other => self.literal(other, resource, name),
            },
            To::Equals(expected) => {
                Expression::Bool(value.and_then(Value::as_str) == Some(expected))
            }
            To::Object(inner) => {
                let Some(scope) = value.filter(|v| v.is_object()) else {
                    return Ok(Vec::new());
                };
                let mut object = Object::new();
                let mut filled = false;
                for a in inner {
                    for item in self.convert(a, resource, scope, name)? {
                        if let Item::Attr(attr) = item {
                            filled |= !matches!(a.to, To::Const(_));
                            object.insert(ObjectKey::Identifier(attr.key), attr.expr);
                        }
                    }
                }
                if !filled {
                    return Ok(Vec::new());
                }
                Expression::Object(object)
            }
            To::MapBlocks(key_attr, inner) => {
                let Some(map) = value.and_then(Value::as_object) else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::new();
                for (member, v) in map {
                    let mut builder = Block::builder(ident(attr.name)?).add_attribute(
                        Attribute::new(ident(key_attr)?, Expression::String(member.clone())),
                    );
                    for a in inner {
                        for item in self.convert(a, resource, v, name)? {
                            builder = match item {
                                Item::Attr(a) => builder.add_attribute(a),
                                Item::Block(b) => builder.add_block(b),
                            };
                        }
                    }
                    out.push(Item::Block(builder.build()));
                }
                return Ok(out);
            }
            To::IdPart(n) => match resource.id.split('/').nth(n) {
                Some(part) => Expression::String(part.to_string()),
                None => return Ok(Vec::new()),
            },
            To::IdPartRef(n, kind) => {
                let parts: Vec<&str> = resource.id.split('/').collect();
                if n >= parts.len() {
                    return Ok(Vec::new());
                }
                self.reference(kind, &parts[..=n].join("/"))
            }
            To::Children(kind) => {
                let items = self
                    .snapshot
                    .resources(kind)
                    .iter()
                    .filter(|c| c.parent_id.as_deref() == Some(resource.id.as_str()))
                    .map(|c| {
                        Expression::String(c.id.rsplit('/').next().unwrap_or_default().to_string())
                    })
                    .collect();
                Expression::Array(items)
            }
        };
        Ok(vec![Item::Attr(Attribute::new(key, expr))])
    }

    /// A nested block, or `None` when nothing but constants would go in it.
    fn nested(
        &mut self,
        block: &str,
        attrs: &[Attr],
        resource: &Resource,
        scope: &Value,
        name: &str,
    ) -> Result<Option<Block>> {
        let mut builder = Block::builder(ident(block)?);
        let mut filled = false;
        for attr in attrs {
            let items = self.convert(attr, resource, scope, name)?;
            filled |= !items.is_empty() && !matches!(attr.to, To::Const(_));
            for item in items {
                builder = match item {
                    Item::Attr(a) => builder.add_attribute(a),
                    Item::Block(b) => builder.add_block(b),
                };
            }
        }
        Ok(filled.then(|| builder.build()))
    }

    /// A reference to `(kind, id)` when it is exported, else the literal id.
    fn reference(&self, kind: &str, id: &str) -> Expression {
        match self.addresses.get(&(kind.to_string(), id.to_string())) {
            Some((t, n)) => Expression::from(
                Traversal::builder(Variable::unchecked(t.as_str()))
                    .attr(Identifier::unchecked(n.as_str()))
                    .attr(Identifier::unchecked(self.mapping.reference_attribute))
                    .build(),
            ),
            None => Expression::String(id.to_string()),
        }
    }

    /// A JSON value as an HCL literal; secret placeholders become `var.` references.
    fn literal(&mut self, value: &Value, resource: &Resource, name: &str) -> Expression {
        if let Some(placeholder) = SecretPlaceholder::from_value(value) {
            let var = self.variable(&placeholder, resource, name);
            return Expression::from(
                Traversal::builder(Variable::unchecked("var"))
                    .attr(Identifier::unchecked(var))
                    .build(),
            );
        }
        match value {
            Value::Null => Expression::Null,
            Value::Bool(b) => Expression::Bool(*b),
            Value::Number(n) => Expression::Number(number(n)),
            Value::String(s) => Expression::String(s.clone()),
            Value::Array(items) => Expression::Array(
                items
                    .iter()
                    .map(|v| self.literal(v, resource, name))
                    .collect(),
            ),
            Value::Object(map) => {
                let mut object = Object::new();
                for (k, v) in map {
                    object.insert(
                        ObjectKey::Expression(Expression::String(k.clone())),
                        self.literal(v, resource, name),
                    );
                }
                Expression::Object(object)
            }
        }
    }

    /// The variable standing for a placeholder: `user_password`, `client_secret_<name>` or
    /// `api_key_<name>` (suffixed by the field when one resource has several).
    fn variable(
        &mut self,
        placeholder: &SecretPlaceholder,
        resource: &Resource,
        name: &str,
    ) -> String {
        let what = format!("{} {}", placeholder.secret, placeholder.field).to_ascii_lowercase();
        let base = if what.contains("password") && resource.kind.ends_with(".user") {
            "user_password".to_string()
        } else if what.contains("client secret")
            || what.contains("client_secret")
            || what.contains("clientsecret")
        {
            format!("client_secret_{name}")
        } else {
            format!("api_key_{name}")
        };
        let description = format!(
            "{} of {} {} ({})",
            placeholder.secret,
            placeholder.kind,
            resource.label(),
            placeholder.field
        );
        if base == "user_password" {
            self.variables
                .entry(base.clone())
                .or_insert_with(|| "initial password for exported users".to_string());
            return base;
        }
        let leaf = names::identifier(placeholder.field.rsplit('/').next().unwrap_or_default());
        let mut candidate = base.clone();
        let mut n = 1;
        while let Some(existing) = self.variables.get(&candidate) {
            if *existing == description {
                return candidate;
            }
            n += 1;
            candidate = if n == 2 {
                format!("{base}_{leaf}")
            } else {
                format!("{base}_{leaf}_{n}")
            };
        }
        self.variables.insert(candidate.clone(), description);
        candidate
    }
}

enum Item {
    Attr(Attribute),
    Block(Block),
}

fn ident(name: &str) -> Result<Identifier> {
    Identifier::new(name)
        .map_err(|e| Error::invalid_data(format!("invalid Terraform identifier {name:?}: {e}")))
}

fn number(n: &serde_json::Number) -> hcl::Number {
    if let Some(i) = n.as_i64() {
        hcl::Number::from(i)
    } else if let Some(u) = n.as_u64() {
        hcl::Number::from(u)
    } else {
        n.as_f64()
            .and_then(hcl::Number::from_f64)
            .unwrap_or_else(|| hcl::Number::from(0))
    }
}

fn providers_tf(mapping: &ProviderMapping, import: ImportStyle) -> Result<String> {
    let mut source = Object::new();
    source.insert(
        ObjectKey::Identifier(ident("source")?),
        Expression::String(mapping.source.to_string()),
    );
    source.insert(
        ObjectKey::Identifier(ident("version")?),
        Expression::String(mapping.version.to_string()),
    );
    let required_version = match import {
        ImportStyle::Blocks => ">= 1.5.0",
        ImportStyle::Commands => ">= 1.0.0",
    };
    let terraform = Block::builder("terraform")
        .add_attribute(("required_version", required_version))
        .add_block(
            Block::builder("required_providers")
                .add_attribute(Attribute::new(
                    ident(mapping.local_name)?,
                    Expression::Object(source),
                ))
                .build(),
        )
        .build();
    let provider = Block::builder("provider")
        .add_label(mapping.local_name)
        .build();
    let mut comment =
        String::from("\n# Credentials are read from the environment, never written here:\n");
    for (var, what) in mapping.env {
        comment.push_str(&format!("#   {var}: {what}\n"));
    }
    Ok(format!(
        "{}{}{}",
        format::blocks(&[terraform])?,
        comment,
        format::blocks(&[provider])?
    ))
}

fn variables_tf(variables: &[SecretVariable]) -> Result<String> {
    if variables.is_empty() {
        return Ok(
            "# The snapshot holds no secret placeholders: no variables needed.\n".to_string(),
        );
    }
    let blocks: Vec<Block> = variables
        .iter()
        .map(|v| {
            Block::builder("variable")
                .add_label(v.name.as_str())
                .add_attribute(("description", v.description.as_str()))
                .add_attribute(("type", Expression::Variable(Variable::unchecked("string"))))
                .add_attribute(("sensitive", true))
                .build()
        })
        .collect();
    format::blocks(&blocks)
}

fn tfvars_example(variables: &[SecretVariable]) -> Result<String> {
    let mut body = Body::builder();
    for v in variables {
        body = body.add_attribute(Attribute::new(
            ident(&v.name)?,
            Expression::String(String::new()),
        ));
    }
    Ok(format!(
        "# Copy to terraform.tfvars, fill in the secrets and never commit it.\n{}",
        format::body(&body.build())?
    ))
}

fn imports_tf(resources: &[ExportedResource]) -> Result<String> {
    let blocks: Vec<Block> = resources
        .iter()
        .map(|r| {
            Block::builder("import")
                .add_attribute((
                    "to",
                    Expression::from(
                        Traversal::builder(Variable::unchecked(r.resource_type.as_str()))
                            .attr(Identifier::unchecked(r.name.as_str()))
                            .build(),
                    ),
                ))
                .add_attribute(("id", r.import_id.as_str()))
                .build()
        })
        .collect();
    if blocks.is_empty() {
        return Ok("# Nothing to import.\n".to_string());
    }
    format::blocks(&blocks)
}

fn import_sh(resources: &[ExportedResource]) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut out = String::from(
        "#!/bin/sh\n# Imports every exported resource into the Terraform state (Terraform 1.0-1.4;\n# with 1.5+ prefer the import blocks: --import-blocks).\nset -e\n",
    );
    for r in resources {
        out.push_str(&format!(
            "terraform import {} {}\n",
            quote(&r.address()),
            quote(&r.import_id)
        ));
    }
    out
}

fn not_exported_md(
    snapshot: &Snapshot,
    mapping: &ProviderMapping,
    resources: &[ExportedResource],
    omitted: &[Omission],
) -> String {
    let mut out = format!(
        "# Not exported\n\nSnapshot `{}` of `{}`: what the Terraform export leaves out, and why.\n\n",
        snapshot.meta.id.as_str(),
        snapshot.meta.tenant
    );
    let kinds: Vec<&Omission> = omitted.iter().filter(|o| o.resource.is_none()).collect();
    let single: Vec<&Omission> = omitted.iter().filter(|o| o.resource.is_some()).collect();
    if kinds.is_empty() && single.is_empty() {
        out.push_str("Every resource of the snapshot is exported.\n\n");
    }
    if !kinds.is_empty() {
        out.push_str("## Kinds\n\n| kind | resources in the snapshot | reason |\n|---|---|---|\n");
        for o in kinds {
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                o.kind,
                o.count,
                o.reason.replace('|', "\\|")
            ));
        }
        out.push('\n');
    }
    if !single.is_empty() {
        out.push_str("## Resources\n\n| kind | resource | reason |\n|---|---|---|\n");
        for o in single {
            let label = o
                .resource
                .as_deref()
                .unwrap_or_default()
                .replace('|', "\\|");
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                o.kind,
                label,
                o.reason.replace('|', "\\|")
            ));
        }
        out.push('\n');
    }
    // Fields of exported kinds that the mapping leaves out on purpose.
    let exported: BTreeSet<&str> = resources.iter().map(|r| r.kind.as_str()).collect();
    let rows: Vec<&KindMapping> = mapping
        .mappings
        .iter()
        .filter(|m| exported.contains(m.kind) && !m.dropped.is_empty())
        .collect();
    if !rows.is_empty() {
        out.push_str(
            "## Fields left out of exported kinds\n\n| kind | field | reason |\n|---|---|---|\n",
        );
        for row in rows {
            for d in row.dropped {
                out.push_str(&format!(
                    "| `{}` | `{}` | {} |\n",
                    row.kind,
                    d.pointer,
                    d.reason.replace('|', "\\|")
                ));
            }
        }
    }
    out
}
