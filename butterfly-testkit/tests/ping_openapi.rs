//! The fake PingOne environment's responses validate against the PingOne OpenAPI specs in
//! shared/fixtures/pingone (the `pingone-go-sdk-v2` management, MFA, risk and authorize
//! specs): every collection, a first item of each, and every singleton route the fake serves
//! is fetched and its body checked with the `jsonschema` validator against that operation's
//! 200 response schema (a first item only where the spec has an item `GET`), and so is every
//! write it answers: a `POST` to every writable collection (a copy of an item with its name
//! made unique, or a member not yet there) against its 201 schema (200 where the spec says
//! so), a `PUT` of an item of every collection that takes one and of every writable singleton
//! against its 200 schema, and a `PUT` where the spec has none is refused (405). The bill of
//! materials is validated too. Nested routes are fetched under a parent that has items there
//! (a notification template with contents, addressed by its name; an application role with
//! permissions).
//!
//! OpenAPI 3.0 schemas are not JSON Schema as-is: `nullable: true` becomes a `null` type,
//! discriminated `oneOf` becomes `anyOf` (an application matches `ApplicationOIDC` and, where
//! the fields overlap, other subtypes too), and `$ref`s resolve into the spec's own
//! `components`.

#[allow(dead_code)]
mod openapi_common;

use std::collections::BTreeMap;

use butterfly_testkit::ping::{
    COLLECTIONS, CREATED_200, FakePing, PingEnvSpec, PingOptions, SINGLETONS, Writes,
};
use openapi_common::{
    drop_uncompilable_patterns, errors, nullable_as_null_type, one_of_as_any_of, spec_path,
};
use serde_json::{Value, json};

fn spec(name: &str) -> Value {
    let text = butterfly_testkit::fixtures::read_to_string(&format!(
        "pingone/spec/pingone-go-sdk-v2-{name}-openapi.yaml"
    ));
    // `info.version: 2023-06-29` is unquoted: a YAML 1.2 loader reads it as a string, and
    // nothing here reads it.
    let mut spec: Value = serde_norway::from_str(&text).unwrap();
    nullable_as_null_type(&mut spec);
    one_of_as_any_of(&mut spec);
    // The specs' `\p{L}`-style patterns are ECMA/Go classes; drop any the validator's engine
    // cannot compile (none so far) rather than skip the whole schema.
    let dropped = drop_uncompilable_patterns(&mut spec);
    assert!(
        dropped.is_empty(),
        "{name}: patterns the validator cannot compile (check the workaround): {dropped:?}"
    );
    spec
}

/// The schema at `pointer` of the operation on `spec_p`, as a root carrying the components.
fn schema(spec: &Value, spec_p: &str, pointer: &str) -> Option<Value> {
    let mut root = spec["paths"][spec_p].pointer(pointer).cloned()?;
    root.as_object_mut()?
        .insert("components".into(), spec["components"].clone());
    Some(root)
}

#[tokio::test]
async fn fake_responses_validate_against_the_pingone_openapi_specs() {
    let specs: BTreeMap<&str, Value> = ["management", "mfa", "risk", "authorize"]
        .into_iter()
        .map(|n| (n, spec(n)))
        .collect();
    let fake = FakePing::start(
        PingEnvSpec {
            users: 120,
            seed: 9,
        },
        PingOptions::default(),
    )
    .await
    .unwrap();
    let token = fake.access_token().await.unwrap();
    let client = reqwest::Client::new();
    let get = |path: String| {
        let req = client
            .get(format!("{}{path}", fake.api_url()))
            .bearer_auth(&token);
        async move {
            let resp = req.send().await.unwrap();
            assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
            resp.json::<Value>().await.unwrap()
        }
    };
    let env = fake.environment_id().to_string();
    // Concrete ids: the environment first, then of the parent's items the first whose own
    // sub-collection has items (so nested routes validate non-empty answers), else the first.
    let concrete = |template: &str| -> Option<String> {
        let segs: Vec<&str> = template.split('/').skip(1).collect();
        let mut out = String::new();
        for (k, seg) in segs.iter().enumerate() {
            out.push('/');
            if *seg != "{}" {
                out.push_str(seg);
                continue;
            }
            if k == 1 {
                out.push_str(&env);
                continue;
            }
            let ids = butterfly_testkit::ping::ids(&fake.items(out.trim_end_matches('/')));
            let rest: Vec<&str> = segs[k + 1..]
                .iter()
                .take_while(|s| **s != "{}")
                .copied()
                .collect();
            let base = out.trim_end_matches('/').to_string();
            let child = |id: &str| format!("{base}/{id}/{}", rest.join("/"));
            let id = ids
                .iter()
                .find(|id| {
                    !rest.is_empty()
                        && (!fake.items(&child(id)).is_empty()
                            || fake.singleton(&child(id)).is_some())
                })
                .or_else(|| ids.first())?;
            out.push_str(id);
        }
        Some(out)
    };

    let mut validated = Vec::new();
    let mut not_in_spec = Vec::new();
    let mut failures = Vec::new();
    let mut outcomes: Vec<Result<String, String>> = Vec::new();
    // Items in each validated list answer, by collection template.
    let mut listed: BTreeMap<&str, usize> = BTreeMap::new();
    let check = |route: String, spec_name: &str, spec_p: &str, root: Value, body: &Value| {
        match jsonschema::draft4::new(&root) {
            Ok(v) => {
                let errs = errors(&v, body);
                if errs.is_empty() {
                    Ok(route)
                } else {
                    Err(format!("{route} ({spec_name} {spec_p}): {errs:?}"))
                }
            }
            Err(e) => Err(format!("{route}: schema does not compile: {e}")),
        }
    };
    // Collections and a first item of each.
    for c in COLLECTIONS {
        let spec = &specs[c.spec];
        let paths = spec["paths"].as_object().unwrap();
        let Some(path) = concrete(c.path) else {
            failures.push(format!("{}: no concrete path", c.path));
            continue;
        };
        let list_route = format!("GET {}", c.path);
        match spec_path(paths, c.path).and_then(|p| {
            Some((
                p,
                schema(
                    spec,
                    p,
                    "/get/responses/200/content/application~1json/schema",
                )?,
            ))
        }) {
            Some((spec_p, root)) => {
                let body = get(format!("{path}?limit=5")).await;
                let embedded = body["_embedded"][c.embedded].as_array().map(Vec::len);
                assert!(
                    embedded.is_some(),
                    "{list_route}: no _embedded.{}",
                    c.embedded
                );
                listed.insert(c.path, embedded.unwrap_or_default());
                outcomes.push(check(list_route, c.spec, spec_p, root, &body));
            }
            None => not_in_spec.push(list_route),
        }
        let item_template = format!("{}/{{}}", c.path);
        if !c.item_get {
            // The spec has no item `GET` there (nor does the fake).
            continue;
        }
        let Some(first) = butterfly_testkit::ping::ids(&fake.items(&path))
            .first()
            .cloned()
        else {
            continue;
        };
        let item_route = format!("GET {item_template}");
        match spec_path(paths, &item_template).and_then(|p| {
            Some((
                p,
                schema(
                    spec,
                    p,
                    "/get/responses/200/content/application~1json/schema",
                )?,
            ))
        }) {
            Some((spec_p, root)) => {
                let body = get(format!("{path}/{first}")).await;
                outcomes.push(check(item_route, c.spec, spec_p, root, &body));
            }
            None => not_in_spec.push(item_route),
        }
    }
    for s in SINGLETONS {
        let spec = &specs[s.spec];
        let paths = spec["paths"].as_object().unwrap();
        let route = format!("GET {}", s.path);
        let Some(path) = concrete(s.path) else {
            failures.push(format!("{}: no concrete path", s.path));
            continue;
        };
        match spec_path(paths, s.path).and_then(|p| {
            Some((
                p,
                schema(
                    spec,
                    p,
                    "/get/responses/200/content/application~1json/schema",
                )?,
            ))
        }) {
            Some((spec_p, root)) => {
                let body = get(path).await;
                outcomes.push(check(route, s.spec, spec_p, root, &body));
            }
            None => not_in_spec.push(route),
        }
    }
    // Creates: the 201 answers.
    let population = fake.items("populations")[0]["id"].clone();
    let creates = [
        (
            "management",
            "/environments/{}/populations",
            json!({"name": "Contractors", "description": "Temporary staff"}),
        ),
        (
            "management",
            "/environments/{}/groups",
            json!({"name": "Auditors", "description": "Read-only reviewers"}),
        ),
        (
            "management",
            "/environments/{}/users",
            json!({"username": "new.user", "email": "new.user@example.com", "population": {"id": population}, "name": {"given": "New", "family": "User"}}),
        ),
        (
            "management",
            "/environments/{}/templates/{}/contents",
            json!({"deliveryMethod": "Email", "locale": "de", "subject": "Bitte bestätigen", "body": "<p>${code}</p>", "from": {"name": "Butterfly", "address": "noreply@mail.butterfly.example"}}),
        ),
        (
            "authorize",
            "/environments/{}/applicationRoles",
            json!({"name": "Orders Approver", "description": "Approves orders"}),
        ),
    ];
    for (spec_name, template, body) in creates.clone() {
        let spec = &specs[spec_name];
        let route = format!("POST {template}");
        let spec_p = spec_path(spec["paths"].as_object().unwrap(), template).unwrap();
        let root = schema(
            spec,
            spec_p,
            "/post/responses/201/content/application~1json/schema",
        )
        .unwrap();
        let path = concrete(template).unwrap();
        let resp = client
            .post(format!("{}{path}", fake.api_url()))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{route}");
        let answer: Value = resp.json().await.unwrap();
        outcomes.push(check(route, spec_name, spec_p, root, &answer));
    }
    // Every other write the client sends: a `POST` of a copy of an item of each writable
    // collection (its name made unique) and a `PUT` of an item as listed, each validated
    // against the operation's 201 / 200 schema; memberships add a member not yet there.
    let validated_creates: Vec<&str> = creates.iter().map(|(_, t, _)| *t).collect();
    let server_fields = ["id", "_links", "environment", "createdAt", "updatedAt"];
    for c in COLLECTIONS.iter().filter(|c| c.writes != Writes::ReadOnly) {
        let spec = &specs[c.spec];
        let paths = spec["paths"].as_object().unwrap();
        let path = concrete(c.path).unwrap();
        let items = fake.items(&path);
        let spec_p = spec_path(paths, c.path).unwrap();
        let post_body = match c.writes {
            Writes::Membership => {
                let (pool, label) = if c.embedded == "permissions" {
                    let resource = fake.items("applicationResources")[0]["id"].clone();
                    (
                        fake.items(&format!(
                            "applicationResources/{}/permissions",
                            resource.as_str().unwrap()
                        )),
                        "resource permission",
                    )
                } else {
                    (fake.items("groups"), "group")
                };
                let own = path.rsplit('/').nth(1).unwrap_or_default();
                let member = pool
                    .iter()
                    .map(|i| i["id"].clone())
                    .find(|id| id != own && !items.iter().any(|i| i["id"] == *id))
                    .unwrap_or_else(|| panic!("{}: no {label} to add", c.path));
                Some(json!({ "id": member }))
            }
            _ if validated_creates.contains(&c.path) => None,
            _ => items.first().map(|item| {
                let mut body = item.clone();
                let obj = body.as_object_mut().unwrap();
                for f in server_fields {
                    obj.remove(f);
                }
                for key in ["name", "username", "label"] {
                    if let Some(Value::String(v)) = obj.get_mut(key) {
                        v.push_str("-copy");
                    }
                }
                if let Some(Value::String(v)) = obj.get_mut("email") {
                    *v = format!("copy.{v}");
                }
                if let Some(Value::String(v)) = obj.get_mut("locale") {
                    *v = "pt".to_string();
                }
                body
            }),
        };
        if let Some(body) = post_body {
            let route = format!("POST {}", c.path);
            let resp = client
                .post(format!("{}{path}", fake.api_url()))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let answer: Value = resp.json().await.unwrap_or(Value::Null);
            // The status the spec documents for this create: 201, or 200 for a few.
            let documented = if CREATED_200.contains(&c.path) {
                200
            } else {
                201
            };
            match schema(
                spec,
                spec_p,
                &format!("/post/responses/{documented}/content/application~1json/schema"),
            ) {
                Some(root) if status == documented => {
                    outcomes.push(check(route, c.spec, spec_p, root, &answer));
                }
                Some(_) => failures.push(format!("{route}: {status} {answer}")),
                None => not_in_spec.push(route),
            }
        }
        if c.writes != Writes::Items {
            // No `PUT` in the spec, and none in the fake.
            if c.writes == Writes::CreateDelete
                && let Some(item) = items.first()
            {
                let resp = client
                    .put(format!(
                        "{}{path}/{}",
                        fake.api_url(),
                        item["id"].as_str().unwrap()
                    ))
                    .bearer_auth(&token)
                    .json(item)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 405, "PUT {}/{{}}", c.path);
            }
            continue;
        }
        let Some(item) = items.first() else {
            failures.push(format!("{}: no item to PUT", c.path));
            continue;
        };
        let id = item["id"].as_str().unwrap();
        let item_template = format!("{}/{{}}", c.path);
        let route = format!("PUT {item_template}");
        let Some(item_p) = spec_path(paths, &item_template) else {
            not_in_spec.push(route);
            continue;
        };
        let resp = client
            .put(format!("{}{path}/{id}", fake.api_url()))
            .bearer_auth(&token)
            .json(item)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let answer: Value = resp.json().await.unwrap_or(Value::Null);
        match schema(
            spec,
            item_p,
            "/put/responses/200/content/application~1json/schema",
        ) {
            Some(root) if status == 200 => {
                outcomes.push(check(route, c.spec, item_p, root, &answer));
            }
            Some(_) => failures.push(format!("{route}: {status} {answer}")),
            None => not_in_spec.push(route),
        }
    }
    // Singletons that take `PUT`: their own answer put back.
    for s in SINGLETONS.iter().filter(|s| s.writable) {
        let spec = &specs[s.spec];
        let route = format!("PUT {}", s.path);
        let path = concrete(s.path).unwrap();
        let spec_p = spec_path(spec["paths"].as_object().unwrap(), s.path).unwrap();
        let body = get(path.clone()).await;
        let resp = client
            .put(format!("{}{path}", fake.api_url()))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let answer: Value = resp.json().await.unwrap_or(Value::Null);
        match schema(
            spec,
            spec_p,
            "/put/responses/200/content/application~1json/schema",
        ) {
            Some(root) if status == 200 => {
                outcomes.push(check(route, s.spec, spec_p, root, &answer));
            }
            Some(_) => failures.push(format!("{route}: {status} {answer}")),
            None => not_in_spec.push(route),
        }
    }
    // The bill of materials the client reads to tell a missing service from a missing role.
    {
        let spec = &specs["management"];
        let template = "/environments/{}/billOfMaterials";
        let spec_p = spec_path(spec["paths"].as_object().unwrap(), template).unwrap();
        let root = schema(
            spec,
            spec_p,
            "/get/responses/200/content/application~1json/schema",
        )
        .unwrap();
        let body = get(concrete(template).unwrap()).await;
        outcomes.push(check(
            format!("GET {template}"),
            "management",
            spec_p,
            root,
            &body,
        ));
    }
    // The nested routes validated non-empty answers.
    for template in [
        "/environments/{}/templates",
        "/environments/{}/templates/{}/contents",
        "/environments/{}/applicationRoles",
        "/environments/{}/applicationRoles/{}/permissions",
    ] {
        assert!(
            listed.get(template).is_some_and(|n| *n > 0),
            "{template}: validated an empty list ({listed:?})"
        );
    }

    for outcome in outcomes {
        match outcome {
            Ok(route) => validated.push(route),
            Err(e) => failures.push(e),
        }
    }
    println!(
        "validated {} routes against the specs: {validated:#?}",
        validated.len()
    );
    // Every route the fake serves is in the specs; the token endpoint (`POST
    // /{environmentId}/as/token`) is PingOne's auth API, which none of these specs describe, and
    // is checked by tests/ping_fake.rs instead.
    println!("routes not in the specs: {not_in_spec:?}");
    assert!(
        not_in_spec.is_empty(),
        "routes not in the specs: {not_in_spec:?}"
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        validated.len() >= 150,
        "only {} routes validated",
        validated.len()
    );
}
