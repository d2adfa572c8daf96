//! The fake Entra tenant's responses validate against the trimmed Microsoft Graph v1.0 OpenAPI
//! description in shared/fixtures: every `GET` route in `entra::ROUTES` (collections,
//! singletons, relations, delta) and the item route of every collection is fetched and its body
//! checked with the `jsonschema` validator against that operation's `2XX` response schema, as
//! are `$expand` listings of applications and service principals and a group delta round with
//! `owners` selected.
//!
//! Conversions from the OpenAPI 3.0 text to JSON Schema, besides the shared ones (`nullable`):
//! - responses are `$ref`s into `components/responses`, resolved here;
//! - flag enums (`IsFlags="true"` in the CSDL, e.g. `authenticationMethodModes`) take
//!   comma-joined members (`"password,sms"`), as Graph sends them;
//! - a property typed by a bare `$ref` (a complex type or an enum) accepts `null` unless the
//!   CSDL declares it `Nullable="false"`: the trimmed description lost those `nullable`
//!   wrappers, and the cassettes show Graph sending `"certification": null`,
//!   `"optionalClaims": null`, `"samlSingleSignOnSettings": null`;
//! - `/oauth2PermissionGrants` is not in the trimmed description: it is checked against the
//!   same type's route under `/servicePrincipals/{id}/oauth2PermissionGrants`;
//! - collection responses type their extra members as objects (`additionalProperties:
//!   {type: object}`), which the string `@odata.context` Graph always sends would fail: they are
//!   allowed to be any JSON value.

mod common;
#[allow(dead_code)]
mod openapi_common;

use std::collections::HashSet;

use butterfly_testkit::entra::{EntraOptions, EntraTenantSpec, FakeEntra, ROUTES, Shape};
use openapi_common::{errors, nullable_as_null_type, one_of_as_any_of, spec_path};
use serde_json::{Value, json};

fn fixture(rel: &str) -> String {
    butterfly_testkit::fixtures::read_to_string(&format!("entra/{rel}"))
}

/// Names of the CSDL's flag enums.
fn flag_enums() -> Vec<String> {
    let csdl = fixture("spec/csdl/v1.0-cleanMetadata.xml");
    csdl.split("<EnumType Name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, tail) = rest.split_once('"')?;
            let head = tail.split('>').next()?;
            head.contains("IsFlags=\"true\"").then(|| name.to_string())
        })
        .collect()
}

/// `(type, property)` pairs the CSDL declares `Nullable="false"`.
fn non_nullable() -> HashSet<(String, String)> {
    let csdl = fixture("spec/csdl/v1.0-cleanMetadata.xml");
    let mut out = HashSet::new();
    for block in csdl.split("Type Name=\"").skip(1) {
        let Some((ty, body)) = block.split_once('"') else {
            continue;
        };
        let body = body.split("</EntityType>").next().unwrap_or(body);
        let body = body.split("</ComplexType>").next().unwrap_or(body);
        for prop in body.split("<Property Name=\"").skip(1) {
            let (name, rest) = prop.split_once('"').unwrap_or((prop, ""));
            if rest
                .split('>')
                .next()
                .unwrap_or_default()
                .contains("Nullable=\"false\"")
            {
                out.insert((ty.to_string(), name.to_string()));
            }
        }
    }
    out
}

/// Makes the bare-`$ref` properties of every component schema nullable, unless the CSDL
/// says otherwise.
fn nullable_refs(spec: &mut Value, strict: &HashSet<(String, String)>) {
    let Some(schemas) = spec["components"]["schemas"].as_object_mut() else {
        return;
    };
    for (name, schema) in schemas.iter_mut() {
        let ty = name.trim_start_matches("microsoft.graph.").to_string();
        let mut parts: Vec<&mut Value> = Vec::new();
        if schema.get("allOf").is_some_and(Value::is_array) {
            if let Some(all) = schema.get_mut("allOf").and_then(Value::as_array_mut) {
                parts.extend(all.iter_mut());
            }
        } else {
            parts.push(schema);
        }
        for part in parts {
            let Some(props) = part.get_mut("properties").and_then(Value::as_object_mut) else {
                continue;
            };
            for (prop, v) in props.iter_mut() {
                let bare = v.as_object().is_some_and(|o| o.contains_key("$ref"));
                if bare && !strict.contains(&(ty.clone(), prop.clone())) {
                    *v = json!({"anyOf": [v.clone(), {"type": "null"}]});
                }
            }
        }
    }
}

/// OpenAPI 3.0 (Graph flavour) -> JSON Schema.
fn convert(v: &mut Value) {
    nullable_as_null_type(v);
    one_of_as_any_of(v);
    any_extra_members(v);
}

/// `additionalProperties: {type: object}` (the collection envelopes) -> any value.
fn any_extra_members(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.get("additionalProperties") == Some(&json!({"type": "object"})) {
                map.insert("additionalProperties".into(), json!(true));
            }
            map.values_mut().for_each(any_extra_members);
        }
        Value::Array(items) => items.iter_mut().for_each(any_extra_members),
        _ => {}
    }
}

/// The spec's `2XX` JSON schema of `GET path`, as a root carrying the components.
fn response_schema(spec: &Value, path: &str) -> Option<Value> {
    let resp = spec["paths"][path].pointer("/get/responses/2XX")?;
    let resp = match resp.get("$ref").and_then(Value::as_str) {
        Some(r) => spec.pointer(r.trim_start_matches('#'))?,
        None => resp,
    };
    let mut root = resp.pointer("/content/application~1json/schema")?.clone();
    root.as_object_mut()?
        .insert("components".into(), spec["components"].clone());
    Some(root)
}

#[tokio::test]
async fn fake_responses_validate_against_the_graph_openapi_description() {
    let mut spec: Value =
        serde_norway::from_str(&fixture("spec/graph-v1.0-identity-trimmed.yaml")).unwrap();
    for name in flag_enums() {
        let key = format!("microsoft.graph.{name}");
        if let Some(schema) = spec["components"]["schemas"].get_mut(&key)
            && let Some(members) = schema["enum"].as_array()
        {
            let alt: Vec<String> = members
                .iter()
                .filter_map(|m| m.as_str().map(str::to_string))
                .collect();
            let one = format!("({})", alt.join("|"));
            *schema = json!({"type": "string", "pattern": format!("^{one}(,{one})*$")});
        }
    }
    nullable_refs(&mut spec, &non_nullable());
    convert(&mut spec);
    let paths = spec["paths"].as_object().unwrap().clone();
    let fake = FakeEntra::start(
        EntraTenantSpec {
            users: 60,
            seed: 11,
        },
        EntraOptions::default(),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let token = common::entra_token(&fake).await;
    let get = |path: String| {
        let req = http
            .get(format!("{}/v1.0/{path}", fake.base_url()))
            .bearer_auth(&token);
        async move {
            let resp = req.send().await.unwrap();
            assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
            resp.json::<Value>().await.unwrap()
        }
    };
    // A concrete path for a template: for `{}` pick a parent whose child list is not empty.
    let concrete = |template: &str| -> Option<String> {
        let Some((parent, child)) = template.split_once("/{}") else {
            return Some(template.to_string());
        };
        let parents = fake.items(parent);
        let id_of = |p: &Value| p["id"].as_str().unwrap_or_default().to_string();
        let best = parents
            .iter()
            .find(|p| {
                let path = format!("{parent}/{}{child}", id_of(p));
                !fake.items(&path).is_empty()
            })
            .or(parents.first())?;
        Some(format!("{parent}/{}{child}", id_of(best)))
    };
    let spec_for = |template: &str| -> Option<String> {
        let t = match template {
            "users/delta" => "users/microsoft.graph.delta()".to_string(),
            "groups/delta" => "groups/microsoft.graph.delta()".to_string(),
            "oauth2PermissionGrants" => "servicePrincipals/{}/oauth2PermissionGrants".to_string(),
            "oauth2PermissionGrants/{}" => {
                "servicePrincipals/{}/oauth2PermissionGrants/{}".to_string()
            }
            t => t.to_string(),
        };
        spec_path(&paths, &format!("/{t}")).map(str::to_string)
    };
    let mut validated = Vec::new();
    let mut not_in_spec = Vec::new();
    let mut failures = Vec::new();
    let mut check = async |template: String, path: String| {
        let Some(sp) = spec_for(&template) else {
            not_in_spec.push(template);
            return;
        };
        let Some(schema) = response_schema(&spec, &sp) else {
            not_in_spec.push(template);
            return;
        };
        let validator = match jsonschema::draft4::new(&schema) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{template}: schema does not compile: {e}"));
                return;
            }
        };
        let body = get(path).await;
        let errs = errors(&validator, &body);
        if errs.is_empty() {
            validated.push(template);
        } else {
            failures.push(format!("{template} ({sp}): {errs:?}"));
        }
    };
    for route in ROUTES {
        let Some(path) = concrete(route.path) else {
            continue;
        };
        let query = match route.shape {
            Shape::Collection | Shape::Relation if route.top.is_some() => "?$top=3",
            _ => "",
        };
        check(route.path.to_string(), format!("{path}{query}")).await;
        if route.shape == Shape::Collection {
            let items = fake.items(&path);
            let Some(first) = items.first() else {
                continue;
            };
            let id = first[route.key].as_str().unwrap_or_default().to_string();
            check(format!("{}/{{}}", route.path), format!("{path}/{id}")).await;
        }
    }
    // Expanded listings (Graph's `$expand` on directory objects) and owners in group delta.
    for (template, path) in [
        ("applications", "applications?$top=3&$expand=owners"),
        (
            "applications",
            "applications?$expand=federatedIdentityCredentials&$select=id,displayName",
        ),
        (
            "servicePrincipals",
            "servicePrincipals?$top=3&$expand=owners",
        ),
        (
            "servicePrincipals",
            "servicePrincipals?$expand=appRoleAssignedTo",
        ),
        (
            "groups/delta",
            "groups/delta?$select=displayName,owners,members",
        ),
    ] {
        check(template.to_string(), path.to_string()).await;
    }
    println!(
        "validated {} routes against the spec: {validated:?}",
        validated.len()
    );
    println!("routes not in the trimmed spec: {not_in_spec:?}");
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        validated.len() >= 60,
        "only {} routes validated",
        validated.len()
    );
}
