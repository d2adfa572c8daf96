//! Helpers shared by the OpenAPI validation tests of the fake tenants.

use serde_json::{Map, Value};

/// The spec path template for a fake's route template (`{}` segments vs `{param}`): a literal
/// path first (`/groups/rules`), else one whose parameter takes a literal segment
/// (`/meta/schemas/user/{schemaId}` for `/meta/schemas/user/default`).
pub fn spec_path<'a>(paths: &'a Map<String, Value>, template: &str) -> Option<&'a str> {
    let want: Vec<&str> = template.split('/').collect();
    let fits = |p: &str, loose: bool| {
        let segs: Vec<&str> = p.split('/').collect();
        segs.len() == want.len()
            && segs.iter().zip(&want).all(|(s, w)| {
                (*w == "{}" && s.starts_with('{')) || s == w || (loose && s.starts_with('{'))
            })
    };
    paths
        .keys()
        .map(String::as_str)
        .find(|p| fits(p, false))
        .or_else(|| paths.keys().map(String::as_str).find(|p| fits(p, true)))
}

/// The `GET` 200 JSON schema of a spec path, as a standalone root carrying the spec's
/// `components` so that `#/components/...` references resolve.
pub fn get_schema(spec: &Value, spec_path: &str) -> Option<Value> {
    let mut root = spec["paths"][spec_path]
        .pointer("/get/responses/200/content/application~1json/schema")
        .cloned()?;
    root.as_object_mut()?
        .insert("components".into(), spec["components"].clone());
    Some(root)
}

/// Up to three validation errors of `body` against `validator`, with their locations.
pub fn errors(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .take(3)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Turns every `oneOf` into `anyOf`. A response must still match one of the alternatives, but
/// alternatives that overlap are not an error: the spec's paging envelopes (`{"next","users"}`
/// and `{"start","limit","total","users"}`) both accept `{"users": []}`, and string formats the
/// validator does not know (`cidr` next to `ipv4`) make both branches pass.
pub fn one_of_as_any_of(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(one_of) = map.remove("oneOf") {
                map.insert("anyOf".into(), one_of);
            }
            map.remove("discriminator");
            map.values_mut().for_each(one_of_as_any_of);
        }
        Value::Array(items) => items.iter_mut().for_each(one_of_as_any_of),
        _ => {}
    }
}

/// Compiles a JSON Schema 2020-12 root (OpenAPI 3.1), allowing the spec's very long URL
/// patterns (fancy-regex with raised size limits).
pub fn compile_2020_12(root: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_pattern_options(
            jsonschema::PatternOptions::fancy_regex()
                .size_limit(64 << 20)
                .dfa_size_limit(64 << 20),
        )
        .build(root)
        .map_err(|e| {
            let text = e.to_string();
            let tail: String = text.chars().rev().take(300).collect();
            tail.chars().rev().collect()
        })
}

/// Removes `pattern`s the validator's regex engine cannot compile (ECMA-262 patterns Rust's
/// engines reject, such as a class range that starts at `\w`) and returns them, so that the
/// rest of the schema still validates.
pub fn drop_uncompilable_patterns(v: &mut Value) -> Vec<String> {
    fn walk(
        v: &mut Value,
        seen: &mut std::collections::BTreeMap<String, bool>,
        dropped: &mut Vec<String>,
    ) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(p)) = map.get("pattern") {
                    let p = p.clone();
                    let ok = *seen.entry(p.clone()).or_insert_with(|| {
                        compile_2020_12(&serde_json::json!({"type": "string", "pattern": p}))
                            .is_ok()
                    });
                    if !ok {
                        map.remove("pattern");
                        if !dropped.contains(&p) {
                            dropped.push(p);
                        }
                    }
                }
                for child in map.values_mut() {
                    walk(child, seen, dropped);
                }
            }
            Value::Array(items) => {
                for child in items {
                    walk(child, seen, dropped);
                }
            }
            _ => {}
        }
    }
    let mut dropped = Vec::new();
    walk(v, &mut Default::default(), &mut dropped);
    dropped
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema: `null` joins the declared `type`, or, without
/// a single type (a `$ref`, an `allOf`), the schema becomes `anyOf: [schema, {type: null}]`.
/// (OpenAPI 3.0 specs only: the Auth0 test, on 3.1, does not use it.)
#[allow(dead_code)]
pub fn nullable_as_null_type(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true)) {
                match map.get("type").cloned() {
                    Some(Value::String(t)) => {
                        map.insert("type".into(), serde_json::json!([t, "null"]));
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(map));
                        map.insert("anyOf".into(), serde_json::json!([inner, {"type": "null"}]));
                    }
                }
            }
            map.values_mut().for_each(nullable_as_null_type);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_as_null_type),
        _ => {}
    }
}
