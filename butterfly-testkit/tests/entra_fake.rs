//! Behaviour of the fake Entra tenant, over HTTP with reqwest: tokens, paging, `$top`,
//! `$select`, delta, permissions, `$batch`, expiring page tokens, throttling and the write log.

mod common;

use std::time::Duration;

use butterfly_testkit::entra::{EntraOptions, EntraTenantSpec, FakeEntra, graph_rate_limits};
use butterfly_testkit::fake::{Fault, FaultRule};
use reqwest::Method;
use serde_json::{Value, json};

async fn start(users: usize, options: EntraOptions) -> FakeEntra {
    FakeEntra::start(EntraTenantSpec { users, seed: 3 }, options)
        .await
        .unwrap()
}

use common::entra_token_url as token_url;

struct Graph {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Graph {
    async fn new(fake: &FakeEntra) -> Graph {
        Graph {
            http: reqwest::Client::new(),
            base: fake.base_url(),
            token: common::entra_token(fake).await,
        }
    }
    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}/v1.0/{path}", self.base)
        }
    }
    async fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        common::request(&self.http, Method::GET, &self.url(path), &self.token, None).await
    }
    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let url = self.url(path);
        let (status, _, body) =
            common::request(&self.http, method, &url, &self.token, Some(&body)).await;
        (status, body)
    }
    /// Follows nextLinks; returns every item and the final body.
    async fn all(&self, path: &str) -> (Vec<Value>, Value) {
        let mut items = Vec::new();
        let mut url = path.to_string();
        loop {
            let (status, _, body) = self.get(&url).await;
            assert_eq!(status, 200, "{url}: {body}");
            items.extend(body["value"].as_array().unwrap().iter().cloned());
            match body["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_string(),
                None => return (items, body),
            }
        }
    }
}

#[tokio::test]
async fn same_seed_same_tenant_with_the_expected_kinds() {
    let a = start(300, EntraOptions::default()).await;
    let b = start(300, EntraOptions::default()).await;
    assert_eq!(a.tenant_id(), b.tenant_id());
    assert_eq!(a.items("users"), b.items("users"));
    assert_eq!(
        a.items("identity/conditionalAccess/policies"),
        b.items("identity/conditionalAccess/policies")
    );
    let users = a.items("users");
    assert_eq!(users.len(), 300);
    assert!(users.iter().any(|u| u["userType"] == "Guest"));
    assert!(users.iter().any(|u| u["accountEnabled"] == false));
    let groups = a.items("groups");
    assert!(groups.iter().any(|g| g["groupTypes"] == json!(["Unified"])));
    assert!(groups.iter().any(|g| g["membershipRule"].is_string()));
    // Skewed sizes.
    let sizes: Vec<usize> = groups
        .iter()
        .map(|g| {
            a.items(&format!("groups/{}/members", g["id"].as_str().unwrap()))
                .len()
        })
        .collect();
    assert!(sizes.iter().max().unwrap() > &(5 * sizes.iter().filter(|s| **s > 0).min().unwrap()));
    let sentinels = a.sentinels();
    assert!(!sentinels.is_empty());
    let idps = serde_json::to_string(&a.items("identity/identityProviders")).unwrap();
    assert!(sentinels.iter().any(|s| idps.contains(s.as_str())));
    let apps = serde_json::to_string(&a.items("applications")).unwrap();
    assert!(
        sentinels.iter().any(|s| apps.contains(s.as_str())),
        "key credentials carry sentinels"
    );
}

#[tokio::test]
async fn token_endpoint_secret_assertion_and_errors() {
    let fake = start(20, EntraOptions::default()).await;
    let http = reqwest::Client::new();
    let post = |form: Vec<(&'static str, String)>| {
        let req = http.post(token_url(&fake)).form(&form);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let base = |extra: Vec<(&'static str, String)>| {
        let mut f = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", fake.client_id().to_string()),
            ("scope", "https://graph.microsoft.com/.default".to_string()),
        ];
        f.extend(extra);
        f
    };
    let (status, body) = post(base(vec![("client_secret", "wrong".into())])).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000215]));
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215")
    );
    // A JWT client assertion signed with the test key.
    let now = chrono::Utc::now().timestamp();
    let sign = |aud: String, x5t: &str| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.x5t = Some(x5t.to_string());
        let claims = json!({"aud": aud, "iss": fake.client_id(), "sub": fake.client_id(), "jti": "1", "nbf": now, "exp": now + 300});
        let key =
            jsonwebtoken::EncodingKey::from_rsa_pem(fake.certificate_private_key_pem().as_bytes())
                .unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };
    let assertion = |a: String| {
        base(vec![
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ),
            ("client_assertion", a),
        ])
    };
    let (status, body) = post(assertion(sign(
        token_url(&fake),
        fake.certificate_thumbprint(),
    )))
    .await;
    assert_eq!(status, 200, "{body}");
    let payload = body["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_string();
    assert!(!payload.is_empty());
    let (status, body) = post(assertion(sign(token_url(&fake), "another-thumbprint"))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // Tampered signature.
    let mut forged = sign(token_url(&fake), fake.certificate_thumbprint());
    // Change a signature character well before the padding bits.
    let at = forged.len() - 10;
    let c = if &forged[at..=at] == "A" { "Q" } else { "A" };
    forged.replace_range(at..=at, c);
    let (status, _) = post(assertion(forged)).await;
    assert_eq!(status, 401);
    // Unknown client, unknown tenant.
    let mut f = base(vec![("client_secret", fake.client_secret().to_string())]);
    f[1].1 = "00000000-0000-0000-0000-000000000001".into();
    let (status, body) = post(f).await;
    assert_eq!(
        (status, body["error_codes"][0].as_u64()),
        (400, Some(700016))
    );
    let resp = http
        .post(format!(
            "{}/not-a-tenant/oauth2/v2.0/token",
            fake.base_url()
        ))
        .form(&base(vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // Token requests are not writes; Graph without a token is 401.
    assert_eq!(fake.write_count(), 0);
    let resp = http
        .get(format!("{}/v1.0/users", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer ")
    );
}

#[tokio::test]
async fn paging_top_limits_select_and_default_properties() {
    let fake = start(250, EntraOptions::default()).await;
    let g = Graph::new(&fake).await;
    let (status, headers, body) = g.get("users").await;
    assert_eq!(status, 200);
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#users")
    );
    assert_eq!(body["value"].as_array().unwrap().len(), 100);
    assert!(headers.contains_key("request-id"));
    assert_eq!(headers["x-ms-resource-unit"], "2");
    // Default user properties only, as Graph does without $select.
    assert!(body["value"][0].get("accountEnabled").is_none());
    assert!(body["value"][0].get("userPrincipalName").is_some());
    let next = body["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{}/v1.0/users?", fake.base_url()))
            && next.contains("$skiptoken=")
    );
    let (all, last) = g
        .all("users?$top=60&$select=id,accountEnabled,userType")
        .await;
    assert_eq!(all.len(), 250);
    assert!(last.get("@odata.nextLink").is_none());
    let ids: std::collections::HashSet<&str> =
        all.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 250, "no duplicates across pages");
    assert!(
        all.iter()
            .all(|u| u.as_object().unwrap().len() == 3 && u.get("accountEnabled").is_some())
    );
    for bad in ["users?$top=1000", "users?$top=0", "users?$top=x"] {
        let (status, _, body) = g.get(bad).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
    }
    let (status, _, _) = g.get("users?$top=999").await;
    assert_eq!(status, 200);
    // Members carry @odata.type; a missing parent is 404 Request_ResourceNotFound.
    let gid = fake.items("groups")[4]["id"].as_str().unwrap().to_string();
    let (status, _, body) = g.get(&format!("groups/{gid}/members?$top=5")).await;
    assert_eq!(status, 200);
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#directoryObjects")
    );
    assert!(
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["@odata.type"].as_str().is_some())
    );
    let (status, _, body) = g
        .get("groups/00000000-0000-0000-0000-00000000dead/members")
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("Request_ResourceNotFound"))
    );
    // An item and a filter.
    let app = &fake.items("applications")[0];
    let (status, _, body) = g
        .get(&format!("applications/{}", app["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200);
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#applications/$entity")
    );
    let (_, _, body) = g
        .get(&format!(
            "servicePrincipals?$filter=appId eq '{}'",
            app["appId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    // userPrincipalName ranges partition the users (the client lists them in parallel).
    let (low, _) = g
        .all("users?$top=50&$select=id,userPrincipalName&$filter=userPrincipalName le 'user2'")
        .await;
    let (high, _) = g
        .all("users?$top=50&$select=id,userPrincipalName&$filter=userPrincipalName ge 'user2'")
        .await;
    assert_eq!(low.len() + high.len(), 250);
    assert!(low.iter().all(|u| {
        u["userPrincipalName"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .as_str()
            <= "user2"
    }));
    let (status, _, _) = g.get("users?$filter=accountEnabled has true").await;
    assert_eq!(status, 400);
    // $expand=principal on role assignments.
    let (_, _, body) = g
        .get("roleManagement/directory/roleAssignments?$expand=principal($select=id)")
        .await;
    let first = &body["value"][0];
    assert_eq!(first["principal"]["id"], first["principalId"]);
    assert!(
        first["principal"]["@odata.type"]
            .as_str()
            .unwrap()
            .starts_with("#microsoft.graph.")
    );
    // Segments are case-insensitive, as in Graph (the cassettes say `oAuth2PermissionGrants`).
    let grant = fake.items("oauth2PermissionGrants")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        g.get(&format!("oAuth2PermissionGrants/{grant}")).await.0,
        200
    );
    assert_eq!(g.get("Users?$top=1").await.0, 200);
    // Unknown routes reach the framework's catch-all.
    let (status, _, _) = g.get("notARoute").await;
    assert_eq!(status, 501);
    assert_eq!(fake.server().unknown_requests().len(), 1);
}

#[tokio::test]
async fn withheld_permissions_answer_403() {
    let fake = start(
        20,
        EntraOptions {
            withheld_permissions: vec!["Policy.Read.All".into()],
            ..EntraOptions::default()
        },
    )
    .await;
    let g = Graph::new(&fake).await;
    for path in [
        "identity/conditionalAccess/policies",
        "identity/conditionalAccess/namedLocations",
        "policies/authorizationPolicy",
    ] {
        let (status, _, body) = g.get(path).await;
        assert_eq!(status, 403, "{path}");
        assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
        assert_eq!(
            body["error"]["message"],
            "Insufficient privileges to complete the operation."
        );
    }
    let (status, body) = g
        .send(
            reqwest::Method::POST,
            "identity/conditionalAccess/policies",
            json!({"displayName": "x", "conditions": {}}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _, _) = g.get("users").await;
    assert_eq!(status, 200);
    let (status, _, _) = g
        .get("policies/identitySecurityDefaultsEnforcementPolicy")
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn delta_returns_only_changes_and_removed_objects() {
    let fake = start(120, EntraOptions::default()).await;
    let g = Graph::new(&fake).await;
    let (all, last) = g
        .all("users/delta?$select=displayName,accountEnabled")
        .await;
    assert_eq!(all.len(), 120);
    let delta = last["@odata.deltaLink"].as_str().unwrap().to_string();
    assert!(delta.contains("$deltatoken="));
    // Nothing changed: nothing returned.
    let (none, last2) = g.all(&delta).await;
    assert!(none.is_empty(), "{none:?}");
    let users = fake.items("users");
    let (a, b, c) = (
        users[5]["id"].as_str().unwrap().to_string(),
        users[6]["id"].as_str().unwrap().to_string(),
        users[7]["id"].as_str().unwrap().to_string(),
    );
    fake.with_tenant(|t| {
        assert!(t.update("users", &a, &json!({"displayName": "Renamed"})));
        assert!(t.delete("users", &b));
    });
    let (status, _) = g
        .send(reqwest::Method::DELETE, &format!("users/{c}"), Value::Null)
        .await;
    assert_eq!(status, 204);
    let (changes, last3) = g.all(last2["@odata.deltaLink"].as_str().unwrap()).await;
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(
        changes
            .iter()
            .any(|u| u["id"] == a.as_str() && u["displayName"] == "Renamed")
    );
    assert!(
        changes
            .iter()
            .any(|u| u["id"] == b.as_str() && u["@removed"]["reason"] == "deleted")
    );
    assert!(
        changes
            .iter()
            .any(|u| u["id"] == c.as_str() && u["@removed"]["reason"] == "changed")
    );
    // The older delta link still sees the same changes; the newest sees none.
    let (again, _) = g.all(&delta).await;
    assert_eq!(again.len(), 3);
    let (none, _) = g.all(last3["@odata.deltaLink"].as_str().unwrap()).await;
    assert!(none.is_empty());
    // Group delta: members@delta, and the deleted user removed from its groups.
    let (groups, glast) = g.all("groups/delta").await;
    assert_eq!(groups.len(), fake.items("groups").len());
    assert!(groups.iter().any(|gr| {
        gr["members@delta"]
            .as_array()
            .is_some_and(|m| !m.is_empty())
    }));
    let gid = fake.items("groups")[3]["id"].as_str().unwrap().to_string();
    let (status, _) = g
        .send(
            reqwest::Method::POST,
            &format!("groups/{gid}/members/$ref"),
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{a}")}),
        )
        .await;
    assert!(status == 204 || status == 400);
    let (status, _) = g
        .send(
            reqwest::Method::DELETE,
            &format!("groups/{gid}/members/{a}/$ref"),
            Value::Null,
        )
        .await;
    assert_eq!(status, 204);
    let (changed, _) = g.all(glast["@odata.deltaLink"].as_str().unwrap()).await;
    let grp = changed.iter().find(|x| x["id"] == gid.as_str()).unwrap();
    assert!(
        grp["members@delta"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == a.as_str() && m["@removed"].is_object())
    );
}

#[tokio::test]
async fn batch_runs_up_to_twenty_requests_each_permission_checked() {
    let fake = start(
        30,
        EntraOptions {
            withheld_permissions: vec!["Policy.Read.All".into()],
            ..EntraOptions::default()
        },
    )
    .await;
    let g = Graph::new(&fake).await;
    let uid = fake.items("users")[0]["id"].as_str().unwrap().to_string();
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": format!("/users/{uid}")},
        {"id": "2", "method": "GET", "url": "/identity/conditionalAccess/policies"},
        {"id": "3", "method": "PATCH", "url": format!("/users/{uid}"), "body": {"jobTitle": "Batch"}, "headers": {"Content-Type": "application/json"}},
        {"id": "4", "method": "GET", "url": "/users/00000000-0000-0000-0000-000000000000"}
    ]});
    let (status, resp) = g.send(reqwest::Method::POST, "$batch", body).await;
    assert_eq!(status, 200);
    let by_id = |id: &str| {
        resp["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("1")["status"], 200);
    assert_eq!(by_id("1")["body"]["id"], uid.as_str());
    assert_eq!(by_id("2")["status"], 403);
    assert_eq!(by_id("3")["status"], 204);
    assert_eq!(by_id("4")["status"], 404);
    assert_eq!(fake.items("users")[0]["jobTitle"], "Batch");
    assert_eq!(
        fake.write_count(),
        1,
        "the PATCH inside the batch is a write; the batch itself is not"
    );
    // Batched requests are throttled (and fail) one by one inside a 200.
    let fake2 = start(
        10,
        EntraOptions {
            batch_faults: vec![
                FaultRule::get("/v1.0/users", Fault::RateLimited, 2, 1),
                FaultRule::get("/v1.0/groups", Fault::Status(503), 1, 1),
            ],
            ..EntraOptions::default()
        },
    )
    .await;
    let g2 = Graph::new(&fake2).await;
    let reqs = json!({"requests": [
        {"id": "a", "method": "GET", "url": "/users?$top=1"},
        {"id": "b", "method": "GET", "url": "/users?$top=1"},
        {"id": "c", "method": "GET", "url": "/groups?$top=1"},
        {"id": "d", "method": "GET", "url": "/groups?$top=1"}
    ]});
    let (status, resp) = g2.send(reqwest::Method::POST, "$batch", reqs).await;
    assert_eq!(status, 200);
    let statuses: Vec<u64> = resp["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![200, 429, 503, 200]);
    assert_eq!(resp["responses"][1]["headers"]["Retry-After"], "1");
    assert_eq!(
        resp["responses"][2]["body"]["error"]["code"],
        "serviceNotAvailable"
    );
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users"}))
        .collect();
    let (status, resp) = g
        .send(reqwest::Method::POST, "$batch", json!({"requests": many}))
        .await;
    assert_eq!(status, 400, "{resp}");
}

#[tokio::test]
async fn expired_page_tokens_answer_400() {
    let fake = start(
        30,
        EntraOptions {
            page_token_ttl: Some(Duration::from_millis(50)),
            ..EntraOptions::default()
        },
    )
    .await;
    let g = Graph::new(&fake).await;
    let (_, _, body) = g.get("users?$top=10").await;
    let next = body["@odata.nextLink"].as_str().unwrap().to_string();
    let (status, _, _) = g.get(&next).await;
    assert_eq!(status, 200, "a fresh token works");
    tokio::time::sleep(Duration::from_millis(120)).await;
    let (status, _, body) = g.get(&next).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "Directory_ExpiredPageToken");
}

#[tokio::test]
async fn throttling_counts_resource_units_and_answers_429() {
    // A window of 10 s at time scale 1: the budget does not refill during the test.
    let mut limits = graph_rate_limits(1.0);
    limits.buckets[0].limit = 10;
    let fake = start(
        30,
        EntraOptions {
            rate_limits: Some(limits),
            ..EntraOptions::default()
        },
    )
    .await;
    let g = Graph::new(&fake).await;
    // Lists cost 2 RU: five fit in 10 RU, the sixth is throttled.
    for _ in 0..5 {
        let (status, _, _) = g.get("groups").await;
        assert_eq!(status, 200);
    }
    let mut retry_after_seen = 0;
    let mut missing = 0;
    for _ in 0..4 {
        let (status, headers, body) = g.get("groups").await;
        assert_eq!(status, 429);
        assert_eq!(body["error"]["code"], "TooManyRequests");
        match headers.get("retry-after") {
            Some(v) => {
                assert!(v.to_str().unwrap().parse::<u64>().unwrap() >= 1);
                retry_after_seen += 1;
            }
            None => missing += 1,
        }
    }
    assert_eq!(
        (retry_after_seen, missing),
        (3, 1),
        "Retry-After is sometimes absent"
    );
    // Injected faults from the framework still apply.
    let fake = start(
        10,
        EntraOptions {
            faults: vec![FaultRule::get("/v1.0/users", Fault::Status(503), 1, 1)],
            ..EntraOptions::default()
        },
    )
    .await;
    let g = Graph::new(&fake).await;
    let (status, _, body) = g.get("users").await;
    assert_eq!(status, 503);
    assert_eq!(
        body["error"]["code"], "serviceNotAvailable",
        "injected faults answer Graph's error body"
    );
    assert_eq!(g.get("users").await.0, 200);
}

#[tokio::test]
async fn writes_create_guids_cascade_and_are_logged() {
    let fake = start(40, EntraOptions::default()).await;
    let g = Graph::new(&fake).await;
    let (status, user) = g
        .send(reqwest::Method::POST, "users", json!({"displayName": "New", "userPrincipalName": "new@contoso3.onmicrosoft.com", "mailNickname": "new", "accountEnabled": true, "passwordProfile": {"password": "x"}}))
        .await;
    assert_eq!(status, 201, "{user}");
    let uid = user["id"].as_str().unwrap().to_string();
    assert_eq!(uid.len(), 36);
    assert!(user.get("passwordProfile").is_none());
    let (status, body) = g
        .send(reqwest::Method::POST, "users", json!({"displayName": "New", "userPrincipalName": "NEW@contoso3.onmicrosoft.com", "mailNickname": "new", "accountEnabled": true}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("Request_BadRequest"))
    );
    let (status, group) = g
        .send(reqwest::Method::POST, "groups", json!({"displayName": "G", "mailEnabled": false, "mailNickname": "g", "securityEnabled": true}))
        .await;
    assert_eq!(status, 201);
    let gid = group["id"].as_str().unwrap().to_string();
    let reference =
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{uid}")});
    assert_eq!(
        g.send(
            reqwest::Method::POST,
            &format!("groups/{gid}/members/$ref"),
            reference.clone()
        )
        .await
        .0,
        204
    );
    assert_eq!(
        g.send(
            reqwest::Method::POST,
            &format!("groups/{gid}/members/$ref"),
            reference.clone()
        )
        .await
        .0,
        400
    );
    assert_eq!(
        g.send(
            reqwest::Method::POST,
            &format!("groups/{gid}/owners/$ref"),
            reference
        )
        .await
        .0,
        204
    );
    let (status, app) = g
        .send(
            reqwest::Method::POST,
            "applications",
            json!({"displayName": "A"}),
        )
        .await;
    assert_eq!(status, 201);
    let app_id = app["appId"].as_str().unwrap().to_string();
    let (status, sp) = g
        .send(
            reqwest::Method::POST,
            "servicePrincipals",
            json!({"appId": app_id}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        g.send(
            reqwest::Method::POST,
            "servicePrincipals",
            json!({"appId": app_id})
        )
        .await
        .0,
        409
    );
    let (status, pw) = g
        .send(
            reqwest::Method::POST,
            &format!("applications/{}/addPassword", app["id"].as_str().unwrap()),
            json!({"passwordCredential": {"displayName": "k"}}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        fake.sentinels()
            .contains(&pw["secretText"].as_str().unwrap().to_string())
    );
    let (_, _, stored) = g
        .get(&format!("applications/{}", app["id"].as_str().unwrap()))
        .await;
    assert!(stored["passwordCredentials"][0]["secretText"].is_null());
    let role = fake.items("roleManagement/directory/roleDefinitions")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let assignment = json!({"principalId": uid, "roleDefinitionId": role, "directoryScopeId": "/"});
    assert_eq!(
        g.send(
            reqwest::Method::POST,
            "roleManagement/directory/roleAssignments",
            assignment.clone()
        )
        .await
        .0,
        201
    );
    assert_eq!(
        g.send(
            reqwest::Method::POST,
            "roleManagement/directory/roleAssignments",
            assignment
        )
        .await
        .0,
        409
    );
    let (status, loc) = g
        .send(reqwest::Method::POST, "identity/conditionalAccess/namedLocations", json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "L", "isTrusted": false, "ipRanges": []}))
        .await;
    assert_eq!(status, 201);
    let lid = loc["id"].as_str().unwrap().to_string();
    assert_eq!(
        g.send(
            reqwest::Method::PATCH,
            &format!("identity/conditionalAccess/namedLocations/{lid}"),
            json!({"displayName": "L2"})
        )
        .await
        .0,
        204
    );
    assert_eq!(
        g.send(
            reqwest::Method::DELETE,
            &format!("identity/conditionalAccess/namedLocations/{lid}"),
            Value::Null
        )
        .await
        .0,
        204
    );
    assert_eq!(
        g.get(&format!("identity/conditionalAccess/namedLocations/{lid}"))
            .await
            .0,
        404
    );
    // App role assignments: Graph fills in the principal's type and names; no duplicates.
    let resource = fake
        .items("servicePrincipals")
        .into_iter()
        .find(|s| s["appRoles"].as_array().is_some_and(|r| !r.is_empty()))
        .unwrap();
    let rid = resource["id"].as_str().unwrap().to_string();
    let grant =
        json!({"principalId": uid, "resourceId": rid, "appRoleId": resource["appRoles"][0]["id"]});
    let (status, a) = g
        .send(
            reqwest::Method::POST,
            &format!("servicePrincipals/{rid}/appRoleAssignedTo"),
            grant.clone(),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(
        (
            a["principalType"].as_str(),
            a["principalDisplayName"].as_str()
        ),
        (Some("User"), Some("New"))
    );
    assert_eq!(
        g.send(
            reqwest::Method::POST,
            &format!("servicePrincipals/{rid}/appRoleAssignedTo"),
            grant
        )
        .await
        .0,
        400
    );
    // Deleting the user cascades: memberships, ownerships, role and app role assignments.
    assert_eq!(
        g.send(
            reqwest::Method::DELETE,
            &format!("users/{uid}"),
            Value::Null
        )
        .await
        .0,
        204
    );
    assert!(fake.with_tenant(|t| t.references(&format!("groups/{gid}/members")).is_empty()));
    assert!(fake.with_tenant(|t| t.references(&format!("groups/{gid}/owners")).is_empty()));
    assert!(
        !fake
            .items("roleManagement/directory/roleAssignments")
            .iter()
            .any(|a| a["principalId"] == uid.as_str())
    );
    assert!(
        !fake
            .items(&format!("servicePrincipals/{rid}/appRoleAssignedTo"))
            .iter()
            .any(|a| a["principalId"] == uid.as_str())
    );
    // Deleting the application takes its service principal along.
    assert_eq!(
        g.send(
            reqwest::Method::DELETE,
            &format!("applications/{}", app["id"].as_str().unwrap()),
            Value::Null
        )
        .await
        .0,
        204
    );
    assert_eq!(
        g.get(&format!("servicePrincipals/{}", sp["id"].as_str().unwrap()))
            .await
            .0,
        404
    );
    let writes = fake.server().writes();
    assert_eq!(writes.len(), fake.write_count());
    assert_eq!(writes[0].method, "POST");
    assert!(writes[0].path.ends_with("/v1.0/users"));
    assert!(writes.iter().all(|w| !w.path.contains("oauth2")));
}

/// The kinds of a Graph body and their property names: an entity
/// (`applications`, `microsoft.graph.passwordCredential`, with `@odata.context`) or the entries
/// of a collection (`applications[]`, `directoryObjects[]#microsoft.graph.user`).
fn shapes(body: &Value) -> Vec<(String, std::collections::BTreeSet<String>)> {
    let Some(context) = body["@odata.context"].as_str() else {
        return Vec::new();
    };
    let mut kind = context.rsplit('#').next().unwrap_or_default().to_string();
    while let Some(open) = kind.find("('") {
        let close = kind[open..].find("')").map_or(kind.len(), |c| open + c + 2);
        kind.replace_range(open..close, "");
    }
    let keys = |v: &Value| {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    match body["value"].as_array() {
        Some(items) => items
            .iter()
            .map(|v| {
                (
                    format!("{kind}[]{}", v["@odata.type"].as_str().unwrap_or_default()),
                    keys(v),
                )
            })
            .collect(),
        None => vec![(kind.trim_end_matches("/$entity").to_string(), keys(body))],
    }
}

#[tokio::test]
async fn bodies_and_headers_carry_what_the_cassettes_recorded() {
    use std::collections::{BTreeMap, BTreeSet};
    // What the az CLI recordings saw.
    let dir = butterfly_testkit::fixtures::dir("entra/cassettes/azure-cli-role");
    let mut recorded: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut headers: BTreeSet<String> = BTreeSet::new();
    let mut error_keys = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let cassette: Value = serde_norway::from_str(&text).unwrap();
        for i in cassette["interactions"].as_array().unwrap() {
            if !i["request"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("https://graph.microsoft.com/")
            {
                continue;
            }
            headers.extend(
                i["response"]["headers"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned(),
            );
            let Ok(body) = serde_json::from_str::<Value>(
                i["response"]["body"]["string"].as_str().unwrap_or_default(),
            ) else {
                continue;
            };
            if i["response"]["status"]["code"] == 404 {
                error_keys.push((
                    keys_of(&body["error"]),
                    keys_of(&body["error"]["innerError"]),
                ));
            }
            for (kind, keys) in shapes(&body) {
                recorded.entry(kind).or_default().extend(keys);
            }
        }
    }
    assert!(recorded.len() >= 12, "{:?}", recorded.keys());
    // The same requests against the fake.
    let fake = start(40, EntraOptions::default()).await;
    let g = Graph::new(&fake).await;
    let first = |coll: &str| fake.items(coll)[0]["id"].as_str().unwrap().to_string();
    let app = fake
        .items("applications")
        .into_iter()
        .find(|a| {
            !fake
                .items(&format!(
                    "applications/{}/federatedIdentityCredentials",
                    a["id"].as_str().unwrap()
                ))
                .is_empty()
        })
        .unwrap();
    let app_id = app["id"].as_str().unwrap().to_string();
    let gid = fake.items("groups")[4]["id"].as_str().unwrap().to_string();
    // Group 4 has users and (generated) group 5 as members; a service principal joins.
    let r = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", first("servicePrincipals"))});
    assert_eq!(
        g.send(
            reqwest::Method::POST,
            &format!("groups/{gid}/members/$ref"),
            r
        )
        .await
        .0,
        204
    );
    let mut bodies = Vec::new();
    let mut fake_headers = BTreeSet::new();
    for path in [
        format!("applications/{app_id}"),
        "applications?$top=5".into(),
        format!("servicePrincipals/{}", first("servicePrincipals")),
        "servicePrincipals?$top=5".into(),
        format!("groups/{gid}"),
        "groups?$top=5".into(),
        format!("users/{}", first("users")),
        "users?$top=5".into(),
        format!("groups/{gid}/members?$top=999"),
        format!("applications/{app_id}/owners"),
        format!("applications/{app_id}/federatedIdentityCredentials"),
        "oauth2PermissionGrants".into(),
    ] {
        let (status, h, body) = g.get(&path).await;
        assert_eq!(status, 200, "{path}");
        fake_headers.extend(h.keys().map(|k| k.to_string()));
        bodies.push(body);
    }
    let fic = fake.items(&format!(
        "applications/{app_id}/federatedIdentityCredentials"
    ))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    bodies.push(
        g.get(&format!(
            "applications/{app_id}/federatedIdentityCredentials/{fic}"
        ))
        .await
        .2,
    );
    bodies.push(
        g.send(
            reqwest::Method::POST,
            &format!("applications/{app_id}/addPassword"),
            json!({"passwordCredential": {"displayName": "key1"}}),
        )
        .await
        .1,
    );
    let mut created = Vec::new();
    created.push(
        g.send(
            reqwest::Method::POST,
            "applications",
            json!({"displayName": "app000001"}),
        )
        .await
        .1,
    );
    let new_app = created[0]["appId"].as_str().unwrap().to_string();
    created.push(
        g.send(
            reqwest::Method::POST,
            "servicePrincipals",
            json!({"appId": new_app}),
        )
        .await
        .1,
    );
    created.push(g.send(reqwest::Method::POST, "groups", json!({"displayName": "testgroup000001", "mailNickname": "deleteme11", "mailEnabled": false, "securityEnabled": true})).await.1);
    created.push(g.send(reqwest::Method::POST, "users", json!({"userPrincipalName": "u000004@contoso3.onmicrosoft.com", "displayName": "u", "mailNickname": "u", "accountEnabled": true, "passwordProfile": {"password": "x"}})).await.1);
    created.push(g.send(reqwest::Method::POST, "oauth2PermissionGrants", json!({"clientId": created[1]["id"], "consentType": "AllPrincipals", "principalId": null, "resourceId": first("servicePrincipals"), "scope": "Directory.Read.All"})).await.1);
    created.push(g.send(reqwest::Method::POST, &format!("applications/{app_id}/federatedIdentityCredentials"), json!({"name": "Testing", "issuer": "https://token.actions.githubusercontent.com/", "subject": "repo:octo-org/octo-repo:environment:Production", "description": "Testing", "audiences": ["api://AzureADTokenExchange"]})).await.1);
    let mut served: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for body in bodies.iter().chain(&created) {
        for (kind, keys) in shapes(body) {
            served.entry(kind).or_default().extend(keys);
        }
    }
    // Each create answers with at least what Graph answered the recorded creates with.
    for body in &created {
        let (kind, keys) = shapes(body).remove(0);
        let missing: Vec<&String> = recorded[&kind].difference(&keys).collect();
        assert!(missing.is_empty(), "POST {kind} answer lacks {missing:?}");
    }
    let mut gaps = Vec::new();
    for (kind, keys) in &recorded {
        let Some(ours) = served.get(kind) else {
            gaps.push(format!("{kind}: not served"));
            continue;
        };
        let missing: Vec<&String> = keys.difference(ours).collect();
        if !missing.is_empty() {
            gaps.push(format!("{kind}: lacks {missing:?}"));
        }
    }
    // getMemberGroups / checkMemberGroups (string lists) are actions the fake does not serve.
    let unserved_ok = ["Collection(Edm.String)[]"];
    gaps.retain(|g| {
        !unserved_ok
            .iter()
            .any(|k| g.starts_with(&format!("{k}: not served")))
    });
    assert!(gaps.is_empty(), "{gaps:#?}");
    // Users without $select: exactly Graph's default set.
    assert_eq!(served["users[]"], recorded["users[]"]);
    // Headers Graph sends (transport and per-response ones aside).
    for h in &headers {
        if [
            "date",
            "content-length",
            "transfer-encoding",
            "vary",
            "strict-transport-security",
            "connection",
            "location",
            "content-type",
        ]
        .contains(&h.as_str())
        {
            continue;
        }
        assert!(fake_headers.contains(h), "header {h} not sent");
    }
    // Error bodies: the same members.
    let (_, _, body) = g.get("users/00000000-0000-0000-0000-00000000beef").await;
    assert!(!error_keys.is_empty());
    for (outer, inner) in &error_keys {
        assert_eq!(&keys_of(&body["error"]), outer);
        assert_eq!(&keys_of(&body["error"]["innerError"]), inner);
    }
}

fn keys_of(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

/// `{"@odata.type", "id"}` of each object, as delta names related objects.
fn refs(fake: &FakeEntra, ids: &[String]) -> Vec<Value> {
    ids.iter()
        .map(|id| {
            let ty = if fake.items("users").iter().any(|u| u["id"] == id.as_str()) {
                "#microsoft.graph.user"
            } else {
                "#microsoft.graph.group"
            };
            json!({"@odata.type": ty, "id": id})
        })
        .collect()
}

#[tokio::test]
async fn group_delta_tracks_owners_when_selected() {
    let fake = start(60, EntraOptions::default()).await;
    let g = Graph::new(&fake).await;
    // Initial rounds: with owners selected every group lists its owners; without, none does.
    let (groups, owners_last) = g.all("groups/delta?$select=displayName,owners").await;
    assert_eq!(groups.len(), fake.items("groups").len());
    for gr in &groups {
        let gid = gr["id"].as_str().unwrap();
        let owners = fake.with_tenant(|t| t.references(&format!("groups/{gid}/owners")));
        assert_eq!(gr["owners@delta"], json!(refs(&fake, &owners)), "{gr}");
        assert!(gr.get("members@delta").is_none(), "members not selected");
    }
    assert!(
        groups
            .iter()
            .any(|gr| !gr["owners@delta"].as_array().unwrap().is_empty())
    );
    let (plain, plain_last) = g.all("groups/delta").await;
    assert!(plain.iter().all(|gr| gr.get("owners@delta").is_none()));
    assert!(plain.iter().all(|gr| gr["members@delta"].is_array()));
    let (_, members_last) = g.all("groups/delta?$select=displayName,members").await;
    let link = |body: &Value| body["@odata.deltaLink"].as_str().unwrap().to_string();

    // One owner added and one removed through the API.
    let gid = fake.items("groups")[4]["id"].as_str().unwrap().to_string();
    let owners = fake.with_tenant(|t| t.references(&format!("groups/{gid}/owners")));
    let old_owner = owners[0].clone();
    let new_owner = fake
        .items("users")
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .find(|u| !owners.contains(u))
        .unwrap();
    let reference = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{new_owner}")});
    let (status, body) = g
        .send(
            Method::POST,
            &format!("groups/{gid}/owners/$ref"),
            reference,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = g
        .send(
            Method::DELETE,
            &format!("groups/{gid}/owners/{old_owner}/$ref"),
            Value::Null,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (changes, owners_last) = g.all(&link(&owners_last)).await;
    assert_eq!(
        changes.len(),
        1,
        "only the group whose owners changed: {changes:?}"
    );
    assert_eq!(changes[0]["id"], gid.as_str());
    assert_eq!(
        changes[0]["owners@delta"],
        json!([
            {"@odata.type": "#microsoft.graph.user", "id": new_owner},
            {"@odata.type": "#microsoft.graph.user", "id": old_owner, "@removed": {"reason": "deleted"}}
        ])
    );
    assert!(changes[0].get("members@delta").is_none());
    // Without owners in $select ownership is not tracked.
    let (plain_changes, _) = g.all(&link(&plain_last)).await;
    assert!(plain_changes.is_empty(), "{plain_changes:?}");

    // A membership change: members@delta names it alone, owners@delta stays out.
    let member = fake
        .items("users")
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .find(|u| !fake.with_tenant(|t| t.references(&format!("groups/{gid}/members")).contains(u)))
        .unwrap();
    let reference =
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{member}")});
    let (status, _) = g
        .send(
            Method::POST,
            &format!("groups/{gid}/members/$ref"),
            reference,
        )
        .await;
    assert_eq!(status, 204);
    let (changes, owners_last) = g.all(&link(&owners_last)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(
        changes[0].get("owners@delta").is_none(),
        "no owner entries for a membership change: {}",
        changes[0]
    );
    let (member_changes, _) = g.all(&link(&members_last)).await;
    let grp = member_changes
        .iter()
        .find(|x| x["id"] == gid.as_str())
        .unwrap();
    assert_eq!(
        grp["members@delta"],
        json!([{"@odata.type": "#microsoft.graph.user", "id": member}]),
        "owner changes are not reported as members"
    );
    assert!(grp.get("owners@delta").is_none());

    // Deleting an owner removes it from the group's owners, as delta reports.
    let (status, _) = g
        .send(Method::DELETE, &format!("users/{new_owner}"), Value::Null)
        .await;
    assert_eq!(status, 204);
    let (changes, _) = g.all(&link(&owners_last)).await;
    let grp = changes.iter().find(|x| x["id"] == gid.as_str()).unwrap();
    let owner_delta = grp["owners@delta"].as_array().unwrap();
    assert_eq!(owner_delta.len(), 1, "{grp}");
    assert_eq!(owner_delta[0]["id"], new_owner.as_str());
    assert_eq!(owner_delta[0]["@removed"], json!({"reason": "deleted"}));
}

#[tokio::test]
async fn expand_on_applications_and_service_principals_follows_graph_limits() {
    use std::collections::HashSet;
    let fake = start(
        butterfly_testkit::entra::LONG_RELATIONS_FROM,
        EntraOptions::default(),
    )
    .await;
    let g = Graph::new(&fake).await;
    let id_of = |v: &Value| v["id"].as_str().unwrap().to_string();
    let long_app = fake
        .items("applications")
        .into_iter()
        .find(|a| {
            fake.items(&format!("applications/{}/owners", id_of(a)))
                .len()
                > 20
        })
        .map(|a| id_of(&a))
        .expect("an application with more than 20 owners");
    assert!(
        fake.items(&format!(
            "applications/{long_app}/federatedIdentityCredentials"
        ))
        .len()
            > 20
    );
    let long_sp = fake
        .items("servicePrincipals")
        .into_iter()
        .find(|s| {
            fake.items(&format!("servicePrincipals/{}/appRoleAssignedTo", id_of(s)))
                .len()
                > 20
        })
        .map(|s| id_of(&s))
        .expect("a service principal with more than 20 app role assignments");
    // Smaller tenants keep their shape.
    let small = start(
        butterfly_testkit::entra::LONG_RELATIONS_FROM - 1,
        EntraOptions::default(),
    )
    .await;
    assert!(small.items("applications").iter().all(|a| {
        small
            .items(&format!("applications/{}/owners", id_of(a)))
            .len()
            == 1
    }));

    // Each expanded list is the first 20 of the relation's own listing.
    for (coll, relation) in [
        ("applications", "owners"),
        ("applications", "federatedIdentityCredentials"),
        ("servicePrincipals", "owners"),
        ("servicePrincipals", "appRoleAssignedTo"),
    ] {
        let (items, _) = g.all(&format!("{coll}?$expand={relation}")).await;
        assert_eq!(items.len(), fake.items(coll).len());
        for item in &items {
            let (listed, _) = g.all(&format!("{coll}/{}/{relation}", id_of(item))).await;
            let first: Vec<Value> = listed.into_iter().take(20).collect();
            assert_eq!(
                item[relation],
                json!(first),
                "{coll}/{}/{relation}",
                id_of(item)
            );
            assert!(item.get("@odata.nextLink").is_none());
            assert!(
                item.get(format!("{relation}@odata.nextLink").as_str())
                    .is_none()
            );
        }
        let long = if coll == "applications" {
            &long_app
        } else {
            &long_sp
        };
        let expanded = items.iter().find(|i| id_of(i) == *long).unwrap();
        if relation != "owners" || coll == "applications" {
            assert_eq!(
                expanded[relation].as_array().unwrap().len(),
                20,
                "{coll} $expand={relation} is capped at 20"
            );
        }
    }
    // $select applies to the parent; the expanded property comes anyway.
    let (apps, _) = g
        .all("applications?$select=displayName&$expand=owners")
        .await;
    for a in &apps {
        let keys: HashSet<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, HashSet::from(["id", "displayName", "owners"]), "{a}");
        assert!(
            a["owners"]
                .as_array()
                .unwrap()
                .iter()
                .all(|o| o["@odata.type"] == "#microsoft.graph.user")
        );
    }

    // Pages of at most 100 with $expand ($top lowered, not refused).
    fake.with_tenant(|t| {
        for k in 0..250 {
            let app_id = t.new_guid();
            t.insert(
                "servicePrincipals",
                json!({"appId": app_id, "displayName": format!("extra {k}")}),
            );
        }
    });
    let total = fake.items("servicePrincipals").len();
    assert!(total > 200);
    let (_, _, one) = g.get("servicePrincipals?$top=999&$select=id").await;
    assert_eq!(
        one["value"].as_array().unwrap().len(),
        total,
        "without $expand"
    );
    let mut url = "servicePrincipals?$top=999&$expand=owners&$select=id".to_string();
    let mut pages = Vec::new();
    let mut ids = Vec::new();
    loop {
        let (status, _, body) = g.get(&url).await;
        assert_eq!(status, 200, "{body}");
        let value = body["value"].as_array().unwrap();
        pages.push(value.len());
        ids.extend(value.iter().map(id_of));
        assert!(value.iter().all(|s| s["owners"].is_array()));
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, vec![100, 100, total - 200]);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no object twice");
    let all: HashSet<String> = fake.items("servicePrincipals").iter().map(id_of).collect();
    assert_eq!(unique.len(), all.len());
    assert!(ids.iter().all(|i| all.contains(i)));
    let (status, _, body) = g.get("servicePrincipals?$top=5000&$expand=owners").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"].as_array().unwrap().len(), 100);
    assert_eq!(g.get("servicePrincipals?$top=5000").await.0, 400);
    assert_eq!(
        g.get("servicePrincipals?$top=0&$expand=owners").await.0,
        400
    );

    // What Graph refuses: 400 with its error body.
    for (path, code) in [
        (
            "applications?$expand=owners,federatedIdentityCredentials",
            "Request_UnsupportedQuery",
        ),
        (
            "applications?$expand=owners($select=id)",
            "Request_UnsupportedQuery",
        ),
        (
            "applications?$expand=owners/manager",
            "Request_UnsupportedQuery",
        ),
        ("applications?$expand=appRoleAssignedTo", "BadRequest"),
        ("applications?$expand=displayName", "BadRequest"),
        ("servicePrincipals?$expand=notARelationship", "BadRequest"),
    ] {
        let (status, _, body) = g.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert!(body["error"]["innerError"]["request-id"].is_string());
    }
    // A relationship of the type the fake does not model is an unknown request, not data.
    let unknown = fake.server().unknown_requests().len();
    assert_eq!(
        g.get("applications?$expand=extensionProperties").await.0,
        501
    );
    assert_eq!(fake.server().unknown_requests().len(), unknown + 1);

    // $expand costs one resource unit more.
    let ru = |h: &reqwest::header::HeaderMap| -> u32 {
        h["x-ms-resource-unit"].to_str().unwrap().parse().unwrap()
    };
    for (plain, expanded) in [
        ("applications", "applications?$expand=owners"),
        (
            "applications?$select=id",
            "applications?$select=id&$expand=federatedIdentityCredentials",
        ),
        (
            "servicePrincipals?$top=5",
            "servicePrincipals?$top=5&$expand=appRoleAssignedTo",
        ),
    ] {
        let (s1, h1, _) = g.get(plain).await;
        let (s2, h2, _) = g.get(expanded).await;
        assert_eq!((s1, s2), (200, 200));
        assert_eq!(ru(&h2), ru(&h1) + 1, "{expanded}");
    }

    // The same URLs inside $batch.
    let batch = |expand: bool| {
        let q = if expand { "&$expand=owners" } else { "" };
        json!({"requests": [
            {"id": "1", "method": "GET", "url": format!("/applications?$top=999{q}")},
            {"id": "2", "method": "GET", "url": format!("/servicePrincipals?$top=999{q}")},
            {"id": "3", "method": "GET", "url": "/applications?$expand=owners,federatedIdentityCredentials"}
        ]})
    };
    let url = g.url("$batch");
    let (status, h_exp, resp) =
        common::request(&g.http, Method::POST, &url, &g.token, Some(&batch(true))).await;
    assert_eq!(status, 200);
    let by_id = |id: &str| {
        resp["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("1")["status"], 200);
    let app = by_id("1")["body"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| id_of(a) == long_app)
        .unwrap()
        .clone();
    assert_eq!(app["owners"].as_array().unwrap().len(), 20);
    assert_eq!(by_id("2")["status"], 200);
    assert_eq!(by_id("2")["body"]["value"].as_array().unwrap().len(), 100);
    assert!(by_id("2")["body"]["@odata.nextLink"].is_string());
    assert_eq!(by_id("3")["status"], 400);
    assert_eq!(
        by_id("3")["body"]["error"]["code"],
        "Request_UnsupportedQuery"
    );
    let (_, h_plain, _) =
        common::request(&g.http, Method::POST, &url, &g.token, Some(&batch(false))).await;
    assert_eq!(ru(&h_exp), ru(&h_plain) + 2, "two more $expand requests");
}
