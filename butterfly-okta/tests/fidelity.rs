//! Fidelity against the real API: every 2xx body recorded from real Okta orgs (the
//! okta-sdk-python cassettes in shared/fixtures) for a kind we back up decodes through the
//! client's own parsing, and every recorded error body maps to the right error kind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use butterfly_core::ErrorKind;
use butterfly_core::table::{self, Items};
use butterfly_okta::kinds::{self, OktaKind};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

fn cassettes() -> Vec<PathBuf> {
    butterfly_testkit::fixtures::files_under("okta/cassettes/okta-sdk-python")
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect()
}

/// The row whose list path (ids as wildcards) matches `path`, with the parent id it implies.
fn row_for(path: &str) -> Option<(&'static OktaKind, Option<String>)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    kinds::ROWS.iter().copied().find_map(|row| {
        let t: Vec<&str> = row.list.path.split('/').collect();
        if t.len() != segs.len() {
            return None;
        }
        let mut parents = Vec::new();
        for (a, b) in t.iter().zip(&segs) {
            if a.starts_with('{') {
                parents.push(b.to_string());
            } else if a != b {
                return None;
            }
        }
        Some((row, (!parents.is_empty()).then(|| parents.join("/"))))
    })
}

struct Interaction {
    method: String,
    path: String,
    status: u16,
    headers: HeaderMap,
    body: String,
}

fn interactions(file: &Path) -> Vec<Interaction> {
    let text = std::fs::read_to_string(file).unwrap();
    let doc: Value =
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut out = Vec::new();
    for i in doc["interactions"].as_array().cloned().unwrap_or_default() {
        let uri = i["request"]["uri"].as_str().unwrap_or_default();
        let path = url::Url::parse(uri)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        let mut headers = HeaderMap::new();
        if let Some(h) = i["response"]["headers"].as_object() {
            for (k, v) in h {
                let value = v
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(Value::as_str)
                    .or(v.as_str())
                    .unwrap_or_default();
                if let (Ok(k), Ok(v)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(value),
                ) {
                    headers.insert(k, v);
                }
            }
        }
        out.push(Interaction {
            method: i["request"]["method"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            path,
            status: i["response"]["status"]["code"].as_u64().unwrap_or(0) as u16,
            headers,
            body: i["response"]["body"]["string"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        });
    }
    out
}

#[test]
fn recorded_bodies_decode_through_the_client() {
    let mut decoded: BTreeMap<&str, usize> = BTreeMap::new();
    let mut resources = 0;
    let mut failures = Vec::new();
    for file in cassettes() {
        for i in interactions(&file) {
            if i.method != "GET" || !(200..300).contains(&i.status) {
                continue;
            }
            let Some((row, parent)) = row_for(&i.path) else {
                continue;
            };
            // A list path answered by one object (a GET of a filtered item) is not a list.
            let Ok(body) = serde_json::from_str::<Value>(&i.body) else {
                failures.push(format!("{}: {} body is not JSON", file.display(), i.path));
                continue;
            };
            if row.list.items == Items::Array && !body.is_array() {
                continue;
            }
            match table::parse_page(row, parent.as_deref(), None, body) {
                Ok(list) => {
                    *decoded.entry(row.spec.id).or_insert(0) += 1;
                    resources += list.len();
                }
                Err(e) => failures.push(format!("{} {}: {e}", file.display(), i.path)),
            }
        }
    }
    println!(
        "decoded {} recorded bodies ({resources} resources) across {} kinds: {decoded:?}",
        decoded.values().sum::<usize>(),
        decoded.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        decoded.len() >= 25,
        "only {} kinds covered: {decoded:?}",
        decoded.len()
    );
    for must in [
        "okta.user",
        "okta.group",
        "okta.app",
        "okta.policy",
        "okta.policy_rule",
        "okta.network_zone",
        "okta.auth_server",
        "okta.idp",
    ] {
        assert!(decoded.contains_key(must), "no recorded body for {must}");
    }
}

#[test]
fn recorded_error_bodies_map_to_the_right_kinds() {
    let mut seen: BTreeMap<(u16, ErrorKind), usize> = BTreeMap::new();
    for file in cassettes() {
        for i in interactions(&file) {
            if !matches!(i.status, 400 | 401 | 403 | 404 | 429) || !i.body.contains("errorCode") {
                continue;
            }
            let err = butterfly_okta::map_error(i.status, &i.headers, i.body.as_bytes());
            let expected = match (i.status, i.body.contains("E0000015")) {
                (401, true) => ErrorKind::Unsupported,
                (401, false) => ErrorKind::Auth,
                (403, _) => ErrorKind::Denied,
                (404, _) => ErrorKind::NotFound,
                (429, _) => ErrorKind::RateLimited,
                _ => ErrorKind::InvalidData,
            };
            assert_eq!(
                err.kind(),
                expected,
                "{} {} {}",
                file.display(),
                i.status,
                i.body
            );
            assert!(
                err.to_string().contains("E0000"),
                "the Okta error code is kept: {err}"
            );
            *seen.entry((i.status, err.kind())).or_insert(0) += 1;
        }
    }
    println!("error bodies mapped: {seen:?}");
    for status in [400, 401, 403, 404, 429] {
        assert!(
            seen.keys().any(|(s, _)| *s == status),
            "no recorded {status}"
        );
    }
}
