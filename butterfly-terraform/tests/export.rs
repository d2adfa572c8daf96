//! The Terraform export of the fake tenants of Okta, Auth0, Entra and PingOne, checked against the
//! providers' schemas (shared/fixtures/terraform-schemas), parsed back, and searched for
//! planted secrets.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use butterfly_core::pointer;
use butterfly_core::redact::is_placeholder;
use butterfly_terraform::{
    Attr, Export, ExportOptions, ImportStyle, KindMapping, ProviderMapping, To, export,
};
use common::{Case, SchemaAttr, case, cases, resources, schema};
use hcl::{Body, Expression};
use serde_json::{Map, Value};

fn export_of(case: &Case) -> Export {
    export(&case.snapshot, case.mapping, &ExportOptions::default()).unwrap()
}

fn schema_dir(case: &Case) -> &'static str {
    match case.mapping.provider {
        "okta" => "okta",
        "auth0" => "auth0",
        "entra" => "azuread",
        "ping" => "pingone",
        other => panic!("no schema fixture for {other}"),
    }
}

/// Every attribute and block exists in its type's schema, every required attribute is
/// present, no computed-only attribute is set, and sensitive attributes hold only `var.`
/// references. Returns the problems found.
fn schema_problems(case: &Case) -> Vec<String> {
    let schemas = schema(schema_dir(case));
    let out = export_of(case);
    let mut problems = Vec::new();
    let mut seen_types = BTreeSet::new();
    for (file, text) in out.files.iter().filter(|(f, _)| f.ends_with(".tf")) {
        for (rtype, name, body) in resources(text) {
            seen_types.insert(rtype.clone());
            let Some(attrs) = schemas.get(&rtype) else {
                problems.push(format!(
                    "{file}: {rtype}.{name}: no such resource type in the schema"
                ));
                continue;
            };
            check_body(&format!("{rtype}.{name}"), "", attrs, &body, &mut problems);
            let mut keys = BTreeSet::new();
            for attr in body.attributes() {
                if !keys.insert(attr.key()) {
                    problems.push(format!(
                        "{rtype}.{name}: attribute {} set twice",
                        attr.key()
                    ));
                }
            }
            let present: BTreeSet<&str> = body
                .attributes()
                .map(|a| a.key())
                .chain(body.blocks().map(|b| b.identifier()))
                .collect();
            // azuread's docs are hand-written and the fixture flattens nested blocks' required
            // arguments to the top level: there the doc's own top-level list decides.
            let top_required = common::azuread_top_required(&rtype);
            for req in attrs.iter().filter(|a| {
                a.required
                    && !a.path.contains('.')
                    && top_required.as_ref().is_none_or(|t| t.contains(&a.path))
            }) {
                if !present.contains(req.path.as_str()) {
                    problems.push(format!("{rtype}.{name}: required {} missing", req.path));
                }
            }
        }
    }
    assert!(
        !seen_types.is_empty(),
        "{}: nothing exported",
        case.mapping.provider
    );
    problems
}

fn check_body(
    at: &str,
    prefix: &str,
    attrs: &[SchemaAttr],
    body: &Body,
    problems: &mut Vec<String>,
) {
    let find = |name: &str| {
        let path = format!("{prefix}{name}");
        attrs.iter().find(|a| a.path == path).cloned()
    };
    // Nested blocks whose inner attributes the fixture does not list cannot be checked inside.
    let described = |block: &str| {
        let p = format!("{prefix}{block}.");
        attrs.iter().any(|a| a.path.starts_with(&p))
    };
    for attr in body.attributes() {
        let Some(s) = find(attr.key()) else {
            problems.push(format!(
                "{at}: attribute {prefix}{} not in the schema",
                attr.key()
            ));
            continue;
        };
        if s.block == Some(true) {
            problems.push(format!(
                "{at}: {prefix}{} is a block, written as an attribute",
                attr.key()
            ));
        }
        if s.computed && !s.optional && !s.required {
            problems.push(format!(
                "{at}: {prefix}{} is read-only (computed)",
                attr.key()
            ));
        }
        if s.sensitive && !only_var_refs(attr.expr()) {
            problems.push(format!(
                "{at}: sensitive {prefix}{} has a literal value",
                attr.key()
            ));
        }
    }
    for block in body.blocks() {
        let Some(s) = find(block.identifier()) else {
            problems.push(format!(
                "{at}: block {prefix}{} not in the schema",
                block.identifier()
            ));
            continue;
        };
        if s.block == Some(false) {
            problems.push(format!(
                "{at}: {prefix}{} is an attribute, written as a block",
                block.identifier()
            ));
        }
        if described(block.identifier()) {
            check_body(
                at,
                &format!("{prefix}{}.", block.identifier()),
                attrs,
                block.body(),
                problems,
            );
        }
    }
}

fn only_var_refs(expr: &Expression) -> bool {
    match expr {
        Expression::Traversal(t) => {
            matches!(&t.expr, Expression::Variable(v) if v.as_str() == "var")
        }
        Expression::Null => true,
        _ => false,
    }
}

#[test]
fn okta_export_matches_the_okta_schema() {
    let problems = schema_problems(case("okta"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn auth0_export_matches_the_auth0_schema() {
    let problems = schema_problems(case("auth0"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn entra_export_matches_the_azuread_schema() {
    let problems = schema_problems(case("entra"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn pingone_export_matches_the_pingone_schema() {
    let problems = schema_problems(case("ping"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_mapped_type_exists_in_the_schema() {
    for case in cases() {
        let schemas = schema(schema_dir(case));
        for row in case.mapping.mappings {
            for t in row.resource_type.types() {
                assert!(
                    schemas.contains_key(t),
                    "{}: {t} is not in the schema",
                    row.kind
                );
            }
        }
    }
}

#[test]
fn planted_secrets_appear_in_no_exported_file() {
    for case in cases() {
        assert!(
            !case.sentinels.is_empty(),
            "{}: the fake planted nothing",
            case.mapping.provider
        );
        for style in [ImportStyle::Blocks, ImportStyle::Commands] {
            let options = ExportOptions {
                import: style,
                ..ExportOptions::default()
            };
            let out = export(&case.snapshot, case.mapping, &options).unwrap();
            for (file, text) in &out.files {
                for secret in &case.sentinels {
                    assert!(
                        !text.contains(secret.as_str()),
                        "{}: {file} holds a planted secret",
                        case.mapping.provider
                    );
                }
            }
        }
    }
}

#[test]
fn secret_placeholders_become_sensitive_variables() {
    let out = export_of(case("okta"));
    assert!(!out.variables.is_empty());
    let vars = &out.files["variables.tf"];
    let example = &out.files["terraform.tfvars.example"];
    for v in &out.variables {
        assert!(
            v.name.starts_with("client_secret_")
                || v.name.starts_with("api_key_")
                || v.name == "user_password",
            "{}",
            v.name
        );
        assert!(vars.contains(&format!("variable \"{}\"", v.name)));
        assert!(example.contains(&v.name));
        let used = out
            .files
            .iter()
            .filter(|(f, _)| f.ends_with(".tf"))
            .any(|(_, t)| t.contains(&format!("var.{}", v.name)));
        assert!(used, "{} is never used", v.name);
    }
    assert_eq!(
        vars.matches("sensitive   = true").count(),
        out.variables.len(),
        "{vars}"
    );
    // The OIDC app's client secret is a client_secret_ variable.
    assert!(
        out.variables
            .iter()
            .any(|v| v.name.starts_with("client_secret_"))
    );
}

#[test]
fn every_kind_is_exported_or_listed_with_a_reason() {
    for case in cases() {
        let out = export_of(case);
        let md = &out.files["NOT-EXPORTED.md"];
        for (kind, data) in &case.snapshot.kinds {
            let exported = out.resources.iter().any(|r| &r.kind == kind);
            let listed = out.omitted.iter().any(|o| &o.kind == kind);
            assert!(
                exported
                    || listed
                    || data.resources.is_empty() && case.mapping.mapping(kind).is_some(),
                "{kind} silently dropped"
            );
            if !exported && case.mapping.mapping(kind).is_none() {
                assert!(
                    md.contains(&format!("`{kind}`")),
                    "{kind} not in NOT-EXPORTED.md"
                );
            }
            for resource in &data.resources {
                let ok = out.find(kind, &resource.id).is_some()
                    || out.omitted.iter().any(|o| &o.kind == kind);
                assert!(ok, "{kind} {} dropped without a reason", resource.id);
            }
        }
        for o in &out.omitted {
            assert!(!o.reason.is_empty());
        }
    }
}

#[test]
fn not_exported_md_lists_the_fields_rows_leave_out() {
    let out = export_of(case("okta"));
    let md = &out.files["NOT-EXPORTED.md"];
    assert!(md.contains("## Fields left out of exported kinds"), "{md}");
    // The SAML app's signing key pair is documented as left out, with its reason.
    assert!(
        md.contains("| `okta.app` | `/credentials/signing` | the signing key pair"),
        "{md}"
    );
    assert!(
        md.contains("| `okta.app` | saasure\\|Okta Admin Console | Okta system app"),
        "{md}"
    );
}

#[test]
fn names_are_unique_valid_identifiers_and_imports_cover_every_resource() {
    for case in cases() {
        let out = export_of(case);
        let mut seen = BTreeSet::new();
        for r in &out.resources {
            assert!(hcl::Identifier::new(r.name.as_str()).is_ok(), "{}", r.name);
            assert!(seen.insert(r.address()), "duplicate {}", r.address());
            assert!(!r.import_id.is_empty(), "{} has no import id", r.address());
        }
        let imports = &out.files["imports.tf"];
        let parsed = hcl::parse(imports).unwrap();
        assert_eq!(
            parsed
                .blocks()
                .filter(|b| b.identifier() == "import")
                .count(),
            out.resources.len()
        );
        let commands = export(
            &case.snapshot,
            case.mapping,
            &ExportOptions {
                import: ImportStyle::Commands,
                ..ExportOptions::default()
            },
        )
        .unwrap();
        let script = &commands.files["import.sh"];
        assert_eq!(
            script
                .lines()
                .filter(|l| l.starts_with("terraform import "))
                .count(),
            out.resources.len()
        );
        assert!(!commands.files.contains_key("imports.tf"));
        // Stable: a second export is byte-identical.
        assert_eq!(export_of(case).files, out.files);
    }
}

#[test]
fn providers_tf_pins_the_official_provider_and_reads_the_environment() {
    for case in cases() {
        let out = export_of(case);
        let text = &out.files["providers.tf"];
        let body = hcl::parse(text).unwrap();
        let terraform = body
            .blocks()
            .find(|b| b.identifier() == "terraform")
            .unwrap();
        let required = terraform
            .body()
            .blocks()
            .find(|b| b.identifier() == "required_providers")
            .unwrap();
        let entry = required
            .body()
            .attributes()
            .find(|a| a.key() == case.mapping.local_name)
            .unwrap();
        let Expression::Object(o) = entry.expr() else {
            panic!("not an object")
        };
        let values: Vec<String> = o.values().map(|v| format!("{v:?}")).collect();
        assert!(
            values.iter().any(|v| v.contains(case.mapping.source)),
            "{values:?}"
        );
        let provider = body
            .blocks()
            .find(|b| b.identifier() == "provider")
            .unwrap();
        assert_eq!(provider.labels()[0].as_str(), case.mapping.local_name);
        assert_eq!(
            provider.body().attributes().count(),
            0,
            "no literal credentials"
        );
        for (var, _) in case.mapping.env {
            assert!(text.contains(var));
        }
    }
}

#[test]
fn references_point_at_exported_resources() {
    let out = export_of(case("okta"));
    let main = &out.files["main.tf"];
    assert!(main.contains("okta_group."), "no group reference");
    // Every `<type>.<name>.id` reference names an exported resource.
    let addresses: BTreeSet<String> = out.resources.iter().map(|r| r.address()).collect();
    for (_, _, body) in resources(main) {
        for attr in body.attributes() {
            walk_refs(attr.expr(), &mut |t, n| {
                assert!(
                    addresses.contains(&format!("{t}.{n}")),
                    "dangling reference {t}.{n}"
                );
            });
        }
    }
    // The group rule refers to its groups, not their ids.
    let rule = case("okta").snapshot.resources("okta.group_rule")[0].clone();
    let gid = rule
        .body
        .pointer("/actions/assignUserToGroups/groupIds/0")
        .unwrap()
        .as_str()
        .unwrap();
    let group = out.find("okta.group", gid).unwrap();
    assert!(main.contains(&format!("{}.id", group.address())));
}

fn walk_refs(expr: &Expression, f: &mut dyn FnMut(&str, &str)) {
    match expr {
        Expression::Traversal(t) => {
            if let (Expression::Variable(v), Some(hcl::TraversalOperator::GetAttr(n))) =
                (&t.expr, t.operators.first())
                && v.as_str() != "var"
            {
                f(v.as_str(), n.as_str());
            }
        }
        Expression::Array(items) => items.iter().for_each(|e| walk_refs(e, f)),
        Expression::Object(o) => o.values().for_each(|e| walk_refs(e, f)),
        Expression::FuncCall(c) => c.args.iter().for_each(|e| walk_refs(e, f)),
        _ => {}
    }
}

#[test]
fn kinds_filter_exports_only_those_kinds() {
    let c = case("okta");
    let options = ExportOptions {
        kinds: Some(vec!["group".into(), "okta.group_rule".into()]),
        ..ExportOptions::default()
    };
    let out = export(&c.snapshot, c.mapping, &options).unwrap();
    let kinds: BTreeSet<&str> = out.resources.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["okta.group", "okta.group_rule"]));
    let bad = ExportOptions {
        kinds: Some(vec!["nope".into()]),
        ..ExportOptions::default()
    };
    let err = export(&c.snapshot, c.mapping, &bad).unwrap_err();
    assert_eq!(err.kind(), butterfly_core::ErrorKind::Config);
    // A table for another provider is refused.
    let err = export(
        &c.snapshot,
        case("auth0").mapping,
        &ExportOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), butterfly_core::ErrorKind::Config);
}

#[test]
fn large_exports_split_into_one_file_per_kind() {
    let c = case("okta");
    let options = ExportOptions {
        split_above: 3,
        ..ExportOptions::default()
    };
    let out = export(&c.snapshot, c.mapping, &options).unwrap();
    assert!(out.files.contains_key("group.tf"));
    assert!(out.files.contains_key("user.tf"));
    assert!(resources(&out.files["main.tf"]).is_empty());
    let whole = export_of(c);
    let split_count: usize = out
        .files
        .iter()
        .filter(|(f, _)| f.ends_with(".tf"))
        .map(|(_, t)| resources(t).len())
        .sum();
    assert_eq!(split_count, whole.resources.len());
}

// ---- Okta round trip ------------------------------------------------------------------

/// The HCL value back as JSON, references resolved to ids, `var.` to a marker.
fn to_json(expr: &Expression, ids: &BTreeMap<String, String>) -> Value {
    match expr {
        Expression::Null => Value::Null,
        Expression::Bool(b) => Value::Bool(*b),
        Expression::Number(n) => serde_json::to_value(n).unwrap(),
        Expression::String(s) => Value::String(s.clone()),
        Expression::TemplateExpr(t) => {
            let template = hcl::Template::from_expr(t).unwrap();
            let mut s = String::new();
            for e in template.elements() {
                match e {
                    hcl::template::Element::Literal(l) => s.push_str(l),
                    other => panic!("interpolation in exported HCL: {other:?}"),
                }
            }
            Value::String(s)
        }
        Expression::Array(items) => Value::Array(items.iter().map(|e| to_json(e, ids)).collect()),
        Expression::Object(o) => {
            let mut m = Map::new();
            for (k, v) in o {
                let key = match k {
                    hcl::ObjectKey::Identifier(i) => i.to_string(),
                    hcl::ObjectKey::Expression(e) => to_json(e, ids).as_str().unwrap().to_string(),
                    other => panic!("{other:?}"),
                };
                m.insert(key, to_json(v, ids));
            }
            Value::Object(m)
        }
        Expression::FuncCall(c) if c.name.name.as_str() == "jsonencode" => to_json(&c.args[0], ids),
        Expression::Traversal(t) => {
            let Expression::Variable(v) = &t.expr else {
                panic!("{t:?}")
            };
            let Some(hcl::TraversalOperator::GetAttr(n)) = t.operators.first() else {
                panic!("{t:?}")
            };
            if v.as_str() == "var" {
                return Value::String(format!("var.{n}"));
            }
            Value::String(ids[&format!("{}.{}", v.as_str(), n.as_str())].clone())
        }
        other => panic!("unexpected expression {other:?}"),
    }
}

fn set(target: &mut Value, ptr: &str, value: Value) {
    if ptr.is_empty() {
        *target = value;
        return;
    }
    let mut cur = target;
    let parts: Vec<String> = ptr[1..].split('/').map(pointer::unescape).collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let map = cur.as_object_mut().unwrap();
        if i == parts.len() - 1 {
            map.insert(part.clone(), value);
            return;
        }
        cur = map.entry(part.clone()).or_insert(Value::Object(Map::new()));
    }
}

/// Rebuilds what the row's attributes carry from the parsed body.
fn rebuild(attrs: &[Attr], rtype: &str, body: &Body, ids: &BTreeMap<String, String>) -> Value {
    let mut out = Value::Object(Map::new());
    for attr in attrs.iter().filter(|a| a.applies(rtype)) {
        let expr = body
            .attributes()
            .find(|a| a.key() == attr.name)
            .map(|a| a.expr());
        let blocks: Vec<&hcl::Block> = body
            .blocks()
            .filter(|b| b.identifier() == attr.name)
            .collect();
        match attr.to {
            To::Value | To::ValueOr(_) | To::Json | To::Ref(_) | To::RefAny(_) => {
                if let Some(e) = expr {
                    set(&mut out, attr.pointer, to_json(e, ids));
                }
            }
            To::Rename(table) => {
                if let Some(e) = expr {
                    let v = to_json(e, ids);
                    let back = table
                        .iter()
                        .find(|(_, to)| Some(*to) == v.as_str())
                        .map(|(from, _)| Value::String(from.to_string()));
                    set(&mut out, attr.pointer, back.unwrap_or(v));
                }
            }
            To::Pluck(member) => {
                if let Some(Value::Array(items)) = expr.map(|e| to_json(e, ids)) {
                    let objs = items
                        .into_iter()
                        .map(|v| Value::Object(Map::from_iter([(member.to_string(), v)])))
                        .collect();
                    set(&mut out, attr.pointer, Value::Array(objs));
                }
            }
            To::Equals(expected) => {
                if expr.map(|e| to_json(e, ids)) == Some(Value::Bool(true)) {
                    set(&mut out, attr.pointer, Value::String(expected.to_string()));
                }
            }
            To::Object(inner) => {
                if let Some(Expression::Object(o)) = expr {
                    let mut b = Body::builder();
                    for (k, v) in o {
                        if let hcl::ObjectKey::Identifier(i) = k {
                            b = b.add_attribute(hcl::Attribute::new(i.clone(), v.clone()));
                        }
                    }
                    let sub = rebuild(inner, rtype, &b.build(), ids);
                    merge(&mut out, attr.pointer, sub);
                }
            }
            To::Block(inner) => {
                if let Some(b) = blocks.first() {
                    set(&mut out, attr.pointer, rebuild(inner, rtype, b.body(), ids));
                }
            }
            To::Blocks(inner) => {
                if !blocks.is_empty() {
                    let items = blocks
                        .iter()
                        .map(|b| rebuild(inner, rtype, b.body(), ids))
                        .collect();
                    set(&mut out, attr.pointer, Value::Array(items));
                }
            }
            To::MapBlocks(key, inner) => {
                let mut m = Map::new();
                for b in &blocks {
                    let k = b
                        .body()
                        .attributes()
                        .find(|a| a.key() == key)
                        .map(|a| to_json(a.expr(), ids))
                        .unwrap();
                    m.insert(
                        k.as_str().unwrap().to_string(),
                        rebuild(inner, rtype, b.body(), ids),
                    );
                }
                if !m.is_empty() {
                    set(&mut out, attr.pointer, Value::Object(m));
                }
            }
            To::ParentRef(_)
            | To::Const(_)
            | To::Collect(_)
            | To::CollectBlocks(_)
            | To::IdPart(_)
            | To::IdPartRef(..)
            | To::Children(_)
            | To::Tenant
            | To::Entry => {}
        }
    }
    out
}

fn merge(out: &mut Value, ptr: &str, sub: Value) {
    if let Value::Object(m) = sub {
        for (k, v) in m {
            let p = format!("{ptr}/{}", pointer::escape(&k));
            match v {
                Value::Object(_) => merge(out, &p, v),
                other => set(out, &p, other),
            }
        }
    }
}

fn leaves(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match v {
        _ if is_placeholder(v) => out.push((at, v.clone())),
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                leaves(x, format!("{at}/{}", pointer::escape(k)), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, x) in items.iter().enumerate() {
                leaves(x, format!("{at}/{i}"), out);
            }
        }
        // Empty objects and arrays and nulls carry no setting.
        Value::Null | Value::Object(_) | Value::Array(_) => {}
        other => out.push((at, other.clone())),
    }
}

fn documented(mapping: &ProviderMapping, row: &KindMapping, volatile: &[&str], ptr: &str) -> bool {
    mapping
        .ignored
        .iter()
        .chain(row.dropped)
        .any(|d| pointer::is_under(d.pointer, ptr))
        || volatile.iter().any(|v| pointer::is_under(v, ptr))
}

#[test]
fn okta_round_trip_loses_no_managed_attribute() {
    let c = case("okta");
    let out = export_of(c);
    let ids: BTreeMap<String, String> = out
        .resources
        .iter()
        .map(|r| (r.address(), r.ids[0].clone()))
        .collect();
    let parsed: BTreeMap<String, Body> = out
        .files
        .iter()
        .filter(|(f, _)| f.ends_with(".tf"))
        .flat_map(|(_, t)| resources(t))
        .map(|(t, n, b)| (format!("{t}.{n}"), b))
        .collect();
    let kinds = (c.mapping.kinds)();
    let mut lost = Vec::new();
    let mut checked = 0;
    let mut rebuilt: BTreeMap<(String, String), (Value, String)> = BTreeMap::new();
    for r in &out.resources {
        let row = c.mapping.mapping(&r.kind).unwrap();
        if row.per_parent {
            // Memberships, admin roles: every member's value is in the collected list (or
            // its block is there).
            let body = &parsed[&r.address()];
            for attr in row.attributes {
                match attr.to {
                    To::Collect(_) => {
                        let list = body
                            .attributes()
                            .find(|a| a.key() == attr.name)
                            .map(|a| to_json(a.expr(), &ids))
                            .unwrap();
                        for id in &r.ids {
                            let member = c.snapshot.get(&r.kind, id).unwrap();
                            let value = member.body.pointer(attr.pointer).unwrap();
                            assert!(
                                list.as_array().unwrap().contains(value),
                                "{} lost {value}",
                                r.address()
                            );
                            checked += 1;
                        }
                    }
                    To::CollectBlocks(_) => {
                        let blocks = body
                            .blocks()
                            .filter(|b| b.identifier() == attr.name)
                            .count();
                        assert_eq!(blocks, r.ids.len(), "{}", r.address());
                    }
                    _ => {}
                }
            }
            continue;
        }
        let back = rebuild(
            row.attributes,
            &r.resource_type,
            &parsed[&r.address()],
            &ids,
        );
        // Rows with `each` write one resource per member: gather them into one body.
        let full = rebuilt
            .entry((r.kind.clone(), r.ids[0].clone()))
            .or_insert_with(|| (Value::Object(Map::new()), r.address()));
        match (row.each, &r.entry) {
            (Some(each), Some(entry)) => set(
                &mut full.0,
                &format!("{each}/{}", pointer::escape(entry)),
                back,
            ),
            _ => full.0 = back,
        }
    }
    for ((kind, id), (back, address)) in &rebuilt {
        let row = c.mapping.mapping(kind).unwrap();
        let resource = c.snapshot.get(kind, id).unwrap();
        let volatile = kinds
            .iter()
            .find(|k| k.id() == kind)
            .map(|k| k.volatile_fields())
            .unwrap_or(&[]);
        let mut original = Vec::new();
        leaves(&resource.body, String::new(), &mut original);
        for (ptr, value) in original {
            if documented(c.mapping, row, volatile, &ptr) {
                continue;
            }
            checked += 1;
            let restored = back.pointer(&ptr);
            let same = match restored {
                Some(Value::String(s)) if is_placeholder(&value) => s.starts_with("var."),
                Some(v) => *v == value,
                None => false,
            };
            if !same {
                lost.push(format!("{kind} ({address}) {ptr} = {value} → {restored:?}"));
            }
        }
    }
    assert!(checked > 100, "only {checked} fields checked");
    assert!(
        lost.is_empty(),
        "{} fields lost by the mapping and not documented:\n{}",
        lost.len(),
        lost.join("\n")
    );
}

#[test]
fn template_strings_are_escaped() {
    let out = export_of(case("okta"));
    let main = &out.files["main.tf"];
    assert!(
        main.contains("$${source.login}"),
        "no escaped template in main.tf"
    );
    assert!(
        !main.replace("$${", "").contains("${"),
        "an unescaped template marker"
    );
}

/// Writes the exports to `$BUTTERFLY_TF_EXPORT_DIR/<provider>` (import blocks) and
/// `…/<provider>-commands` for `.ci/hcl-check`; does nothing without the variable.
#[test]
fn write_export_dirs_for_hcl_check() {
    let Some(dir) = std::env::var_os("BUTTERFLY_TF_EXPORT_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    for case in cases() {
        export_of(case)
            .write_to(&dir.join(case.mapping.provider))
            .unwrap();
        let commands = ExportOptions {
            import: ImportStyle::Commands,
            ..ExportOptions::default()
        };
        export(&case.snapshot, case.mapping, &commands)
            .unwrap()
            .write_to(&dir.join(format!("{}-commands", case.mapping.provider)))
            .unwrap();
    }
}

#[test]
fn members_of_a_group_left_out_are_left_out_too() {
    let c = case("okta");
    let mut snapshot = c.snapshot.clone();
    let everyone = snapshot
        .resources("okta.group")
        .iter()
        .find(|g| g.body["type"] == "BUILT_IN")
        .expect("the fake org has the Everyone group")
        .clone();
    let user = snapshot.resources("okta.user")[0].clone();
    let member = butterfly_core::Resource {
        body: std::sync::Arc::new(serde_json::json!({"id": user.id})),
        id: format!("{}/{}", everyone.id, user.id),
        kind: "okta.group_member".into(),
        natural_key: None,
        parent_id: Some(everyone.id.clone()),
        references: Vec::new(),
    };
    let members = &mut snapshot
        .kinds
        .get_mut("okta.group_member")
        .unwrap()
        .resources;
    members.push(member.clone());
    members.sort_by(|a, b| a.id.cmp(&b.id));
    let out = export(&snapshot, c.mapping, &ExportOptions::default()).unwrap();
    assert!(out.find("okta.group_member", &member.id).is_none());
    let omission = out
        .omitted
        .iter()
        .find(|o| o.kind == "okta.group_member")
        .expect("the member is listed as not exported");
    assert!(
        omission.reason.contains("parent is not exported"),
        "{}",
        omission.reason
    );
    assert!(out.files["NOT-EXPORTED.md"].contains("Everyone"));
    // The other groups' memberships are still there.
    assert_eq!(
        out.resources
            .iter()
            .filter(|r| r.kind == "okta.group_member")
            .count(),
        export_of(c)
            .resources
            .iter()
            .filter(|r| r.kind == "okta.group_member")
            .count()
    );
}

#[test]
fn custom_schema_properties_become_one_resource_each() {
    let out = export_of(case("okta"));
    let property = out
        .resources
        .iter()
        .find(|r| r.kind == "okta.user_schema")
        .expect("the fake org's custom user property is exported");
    assert_eq!(property.resource_type, "okta_user_schema_property");
    assert_eq!(property.entry.as_deref(), Some("costCenter"));
    assert_eq!(property.import_id, "costCenter");
    let main = &out.files["main.tf"];
    let (_, _, body) = resources(main)
        .into_iter()
        .find(|(t, n, _)| *t == property.resource_type && *n == property.name)
        .unwrap();
    let index = body.attributes().find(|a| a.key() == "index").unwrap();
    assert_eq!(index.expr(), &Expression::String("costCenter".into()));
    // A schema without custom properties is listed, not dropped silently.
    assert!(
        out.omitted
            .iter()
            .any(|o| o.kind == "okta.group_schema" && o.reason.contains("nothing at"))
    );
}
