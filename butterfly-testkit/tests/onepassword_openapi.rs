//! The fake 1Password Connect server's answers validate against the Connect API spec with the
//! PR #88 corrections (`shared/fixtures/onepassword/spec/connect-api-pr88-unmerged.yaml`:
//! 26-character ids, `OTP`, `SSHKEY`): every `GET` answer the client uses (the vault list,
//! each vault, each vault's item list, each item in full, each item's files and each file)
//! against the operation's 200 schema, `/health` against its schema, and the 401, 403 and 404
//! bodies against `ErrorResponse`, with the `jsonschema` validator (draft 4, `$ref`s resolved
//! into the spec's `components`).

#[allow(dead_code)]
mod openapi_common;

use butterfly_testkit::onepassword::{FakeOnePassword, OnePasswordOptions, OnePasswordOrgSpec};
use openapi_common::{errors, spec_path};
use serde_json::{Value, json};

fn spec() -> Value {
    let text = butterfly_testkit::fixtures::read_to_string(
        "onepassword/spec/connect-api-pr88-unmerged.yaml",
    );
    serde_norway::from_str(&text).unwrap()
}

/// The schema at `pointer` below the operation of `path`, as a root carrying the components.
fn schema(spec: &Value, path: &str, pointer: &str) -> Value {
    let paths = spec["paths"].as_object().unwrap();
    let p = spec_path(paths, path).unwrap_or_else(|| panic!("{path} is not in the spec"));
    let mut root = spec["paths"][p]
        .pointer(pointer)
        .cloned()
        .unwrap_or_else(|| panic!("{p} has no {pointer}"));
    root.as_object_mut()
        .unwrap()
        .insert("components".into(), spec["components"].clone());
    root
}

const OK: &str = "/get/responses/200/content/application~1json/schema";

#[tokio::test]
async fn fake_answers_validate_against_the_connect_spec_with_the_pr88_corrections() {
    let spec = spec();
    let fake = FakeOnePassword::start(
        OnePasswordOrgSpec { items: 60, seed: 2 },
        OnePasswordOptions {
            out_of_scope: vec!["Finance".into()],
            ..OnePasswordOptions::default()
        },
    )
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let get = |path: String, token: Option<String>| {
        let mut req = client.get(format!("{}{path}", fake.host()));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let token = Some(fake.token().to_string());
    let mut failures = Vec::new();
    let mut validated = 0;
    let mut check = |route: &str, root: &Value, body: &Value| {
        let validator = jsonschema::draft4::new(root).unwrap();
        let errs = errors(&validator, body);
        if errs.is_empty() {
            validated += 1;
        } else {
            failures.push(format!("{route}: {errs:?}"));
        }
    };

    let vault_list = schema(&spec, "/vaults", OK);
    let (status, vaults) = get("/v1/vaults".into(), token.clone()).await;
    assert_eq!(status, 200);
    check("GET /vaults", &vault_list, &vaults);
    let vaults = vaults.as_array().unwrap().clone();
    assert_eq!(
        vaults.len(),
        fake.vaults().len() - 1,
        "Finance is out of scope"
    );
    let (_, one) = get(
        "/v1/vaults?filter=name%20eq%20%22Engineering%22".into(),
        token.clone(),
    )
    .await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    check("GET /vaults?filter", &vault_list, &one);

    let vault = schema(&spec, "/vaults/{}", OK);
    let items = schema(&spec, "/vaults/{}/items", OK);
    let item = schema(&spec, "/vaults/{}/items/{}", OK);
    let files = schema(&spec, "/vaults/{}/items/{}/files", OK);
    let file = schema(&spec, "/vaults/{}/items/{}/files/{}", OK);
    // The schemas are strict enough to fail: a UUID id, an unknown type, the 1.7.1 `TOTP`.
    for (root, bad) in [
        (
            &vault,
            json!({"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "type": "USER_CREATED"}),
        ),
        (
            &vault,
            json!({"id": "abcdefghijklmnopqrstuvwxyz", "type": "PRIVATE"}),
        ),
        (
            &item,
            json!({"vault": {"id": "abcdefghijklmnopqrstuvwxyz"}, "category": "LOGIN", "fields": [{"id": "t", "type": "TOTP"}]}),
        ),
    ] {
        let validator = jsonschema::draft4::new(root).unwrap();
        assert!(!errors(&validator, &bad).is_empty(), "{bad} passes");
    }
    let mut field_types = std::collections::BTreeSet::new();
    let mut files_seen = 0;
    for v in &vaults {
        let v = v["id"].as_str().unwrap();
        let (_, body) = get(format!("/v1/vaults/{v}"), token.clone()).await;
        check("GET /vaults/{id}", &vault, &body);
        let (_, list) = get(format!("/v1/vaults/{v}/items"), token.clone()).await;
        check("GET /vaults/{id}/items", &items, &list);
        for summary in list.as_array().unwrap() {
            assert!(summary.get("fields").is_none(), "a summary has no fields");
            let i = summary["id"].as_str().unwrap();
            let (_, full) = get(format!("/v1/vaults/{v}/items/{i}"), token.clone()).await;
            check("GET /vaults/{id}/items/{id}", &item, &full);
            for f in full["fields"].as_array().into_iter().flatten() {
                field_types.insert(f["type"].as_str().unwrap_or_default().to_string());
            }
            if full.get("files").is_none() {
                continue;
            }
            for inline in ["", "?inline_files=true"] {
                let (_, list) = get(
                    format!("/v1/vaults/{v}/items/{i}/files{inline}"),
                    token.clone(),
                )
                .await;
                check("GET …/files", &files, &list);
                for f in list.as_array().unwrap() {
                    assert_eq!(f.get("content").is_some(), !inline.is_empty());
                    let id = f["id"].as_str().unwrap();
                    let (_, one) = get(
                        format!("/v1/vaults/{v}/items/{i}/files/{id}{inline}"),
                        token.clone(),
                    )
                    .await;
                    check("GET …/files/{id}", &file, &one);
                    files_seen += 1;
                }
            }
        }
    }
    assert!(files_seen > 0);
    for t in [
        "CONCEALED",
        "OTP",
        "SSHKEY",
        "STRING",
        "MENU",
        "DATE",
        "MONTH_YEAR",
        "URL",
        "EMAIL",
    ] {
        assert!(
            field_types.contains(t),
            "no {t} field generated: {field_types:?}"
        );
    }

    let health = schema(&spec, "/health", OK);
    let (status, body) = get("/health".into(), None).await;
    assert_eq!(status, 200);
    check("GET /health", &health, &body);
    let heartbeat = client
        .get(format!("{}/heartbeat", fake.host()))
        .send()
        .await
        .unwrap();
    assert_eq!(heartbeat.status().as_u16(), 200);
    assert_eq!(heartbeat.text().await.unwrap(), ".");

    // Errors: Connect's {status, message}.
    let error = {
        let mut root = spec["components"]["schemas"]["ErrorResponse"].clone();
        root["required"] = json!(["status", "message"]);
        root
    };
    let hidden = fake
        .vaults()
        .iter()
        .find(|v| v["name"] == "Finance")
        .map(|v| v["id"].as_str().unwrap().to_string())
        .unwrap();
    for (path, auth, want) in [
        ("/v1/vaults".to_string(), None, 401),
        ("/v1/vaults".to_string(), Some("wrong".to_string()), 401),
        (format!("/v1/vaults/{hidden}"), token.clone(), 403),
        (
            "/v1/vaults/aaaaaaaaaaaaaaaaaaaaaaaaaa".to_string(),
            token.clone(),
            404,
        ),
        (
            format!(
                "/v1/vaults/{}/items/aaaaaaaaaaaaaaaaaaaaaaaaaa",
                vaults[0]["id"].as_str().unwrap()
            ),
            token.clone(),
            404,
        ),
    ] {
        let (status, body) = get(path.clone(), auth).await;
        assert_eq!(status, want, "{path}: {body}");
        assert_eq!(body["status"], want);
        check(&format!("{want} {path}"), &error, &body);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(validated > 60, "{validated}");
    assert!(fake.server().unknown_requests().is_empty());
}
