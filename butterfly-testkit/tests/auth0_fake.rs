//! Behaviour of the fake Auth0 tenant: token errors, scope 403s, paging (the 1,000-result cap,
//! include_totals envelopes, checkpoints), the users-export job, the token bucket and the write
//! log.

mod common;

use butterfly_testkit::auth0::{
    Auth0Options, Auth0TenantSpec, Auth0Tier, FakeAuth0, auth0_rate_limits,
};
use reqwest::Method;
use serde_json::{Value, json};

async fn start(users: usize, options: Auth0Options) -> FakeAuth0 {
    FakeAuth0::start(Auth0TenantSpec { users, seed: 3 }, options)
        .await
        .unwrap()
}

async fn token(fake: &FakeAuth0) -> String {
    common::auth0_token(fake).await
}

async fn get(fake: &FakeAuth0, token: &str, path: &str) -> (u16, Value) {
    let url = format!("{}/api/v2/{path}", fake.base_url());
    let (status, _, body) =
        common::request(&reqwest::Client::new(), Method::GET, &url, token, None).await;
    (status, body)
}

async fn send(
    fake: &FakeAuth0,
    token: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let url = format!("{}/api/v2/{path}", fake.base_url());
    let (status, _, body) =
        common::request(&reqwest::Client::new(), method, &url, token, Some(&body)).await;
    (status, body)
}

#[tokio::test]
async fn same_seed_same_tenant() {
    let a = start(30, Auth0Options::default()).await;
    let b = start(30, Auth0Options::default()).await;
    assert_eq!(a.items("users"), b.items("users"));
    assert_eq!(a.items("clients"), b.items("clients"));
    assert_eq!(a.sentinels(), b.sentinels());
    assert_eq!(a.items("users").len(), 30);
}

#[tokio::test]
async fn token_endpoint_checks_secrets_assertions_and_audience() {
    let fake = start(5, Auth0Options::default()).await;
    let client = reqwest::Client::new();
    let url = format!("{}/oauth/token", fake.base_url());
    // Wrong secret.
    let resp = client
        .post(&url)
        .json(&json!({"grant_type": "client_credentials", "client_id": fake.client_id(), "client_secret": "nope", "audience": fake.audience()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "access_denied", "error_description": "Unauthorized"})
    );
    // No grant type; a grant type the app may not use.
    let resp = client
        .post(&url)
        .json(&json!({"client_id": fake.client_id(), "client_secret": fake.client_secret()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = client
        .post(&url)
        .json(&json!({"grant_type": "password", "client_id": fake.client_id(), "client_secret": fake.client_secret(), "username": "u", "password": "p"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client");
    // Unknown audience.
    let resp = client
        .post(&url)
        .json(&json!({"grant_type": "client_credentials", "client_id": fake.client_id(), "client_secret": fake.client_secret(), "audience": "https://other.example/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // private_key_jwt, as a form.
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": fake.client_id(), "sub": fake.client_id(), "aud": format!("https://{}/", butterfly_testkit::auth0::DOMAIN), "iat": now, "exp": now + 60, "jti": "j1"});
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(fake.private_key_pem().as_bytes()).unwrap();
    let jwt = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .unwrap();
    let form = |assertion: &str| {
        vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            ("client_id".to_string(), fake.client_id().to_string()),
            (
                "client_assertion_type".to_string(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
            ),
            ("client_assertion".to_string(), assertion.to_string()),
            (
                "audience".to_string(),
                format!("https://{}/api/v2/", butterfly_testkit::auth0::DOMAIN),
            ),
        ]
    };
    let resp = client.post(&url).form(&form(&jwt)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let scope = body["scope"].as_str().unwrap();
    assert!(scope.split(' ').any(|s| s == "read:users"), "{scope}");
    assert!(scope.split(' ').any(|s| s == "read:client_grants"));
    assert_eq!(body["token_type"], "Bearer");
    // A tampered signature is refused.
    let mut bad = jwt.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == 'A' { 'B' } else { 'A' });
    let resp = client.post(&url).form(&form(&bad)).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    // No token, bad token.
    let (status, _) = get(&fake, "garbage", "clients").await;
    assert_eq!(status, 401);
    assert_eq!(fake.write_count(), 0, "token requests are not writes");
}

#[tokio::test]
async fn withheld_scope_answers_auth0s_403() {
    let fake = start(
        5,
        Auth0Options {
            withheld_scopes: vec!["read:client_grants".into()],
            ..Auth0Options::default()
        },
    )
    .await;
    let tok = token(&fake).await;
    let (status, body) = get(&fake, &tok, "client-grants").await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"statusCode": 403, "error": "Forbidden", "message": "Insufficient scope, expected any of: read:client_grants", "errorCode": "insufficient_scope"})
    );
    let (status, _) = get(&fake, &tok, "clients").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn paging_envelopes_the_user_cap_and_checkpoints() {
    let fake = start(1200, Auth0Options::default()).await;
    let tok = token(&fake).await;
    // include_totals envelope and bare arrays.
    let (_, body) = get(&fake, &tok, "clients?page=0&per_page=3&include_totals=true").await;
    assert_eq!(body["start"], 0);
    assert_eq!(body["limit"], 3);
    assert_eq!(body["clients"].as_array().unwrap().len(), 3);
    assert_eq!(body["total"], fake.items("clients").len());
    let (_, body) = get(&fake, &tok, "roles?per_page=2").await;
    assert_eq!(body.as_array().unwrap().len(), 2);
    let (status, body) = get(&fake, &tok, "users?per_page=101").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("invalid_query_string"))
    );
    // Users: the first 1,000 only; total counts all.
    let (status, body) = get(&fake, &tok, "users?page=9&per_page=100&include_totals=true").await;
    assert_eq!(status, 200);
    assert_eq!(body["users"].as_array().unwrap().len(), 100);
    assert_eq!(body["total"], 1200);
    assert_eq!(body["length"], 100);
    let (status, body) = get(&fake, &tok, "users?page=10&per_page=100").await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"statusCode": 400, "error": "Bad Request", "message": "You can only page through the first 1000 records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation", "errorCode": "invalid_paging"})
    );
    // q ranges reach the rest.
    let users = fake.items("users");
    let mut created: Vec<&str> = users
        .iter()
        .map(|u| u["created_at"].as_str().unwrap())
        .collect();
    created.sort();
    let cut = created[1100];
    let (_, body) = get(
        &fake,
        &tok,
        &format!(
            "users?q=created_at:[{cut} TO *]&include_totals=true&per_page=100&sort=created_at:1"
        ),
    )
    .await;
    assert_eq!(body["total"], 100);
    assert_eq!(body["users"][0]["created_at"], cut);
    // User ids are percent-encoded in paths.
    let uid = users[0]["user_id"].as_str().unwrap().replace('|', "%7C");
    let (status, body) = get(&fake, &tok, &format!("users/{uid}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["user_id"], users[0]["user_id"]);
    // Checkpoints: organizations and role members walk to the end; the last page has no next.
    let mut seen = Vec::new();
    let mut from = String::new();
    loop {
        let (status, body) = get(&fake, &tok, &format!("organizations?take=1{from}")).await;
        assert_eq!(status, 200);
        seen.extend(
            body["organizations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].clone()),
        );
        match body["next"].as_str() {
            Some(next) => from = format!("&from={next}"),
            None => break,
        }
    }
    let orgs: Vec<Value> = fake
        .items("organizations")
        .iter()
        .map(|o| o["id"].clone())
        .collect();
    assert_eq!(seen, orgs);
    let role = fake.items("roles")[0]["id"].as_str().unwrap().to_string();
    let (_, first) = get(&fake, &tok, &format!("roles/{role}/users?take=10")).await;
    let next = first["next"]
        .as_str()
        .expect("more than 10 admins")
        .to_string();
    let (_, second) = get(
        &fake,
        &tok,
        &format!("roles/{role}/users?take=10&from={next}"),
    )
    .await;
    assert_ne!(first["users"][0], second["users"][0]);
    // Actions use their own envelope.
    let (_, body) = get(&fake, &tok, "actions/actions?per_page=2").await;
    assert_eq!(body["per_page"], 2);
    assert_eq!(body["total"], fake.items("actions/actions").len());
}

#[tokio::test]
async fn users_export_job_end_to_end() {
    let fake = start(250, Auth0Options::default()).await;
    let tok = token(&fake).await;
    let (status, job) = send(&fake, &tok, "POST", "jobs/users-exports", json!({"format": "json", "fields": [{"name": "user_id"}, {"name": "email"}, {"name": "identities[0].connection", "export_as": "connection"}]})).await;
    assert_eq!(status, 200, "as the spec and the recordings have it");
    assert_eq!(job["status"], "pending");
    assert_eq!(job["type"], "users_export");
    let id = job["id"].as_str().unwrap();
    assert!(id.starts_with("job_"));
    let mut statuses = Vec::new();
    let location = loop {
        let (_, job) = get(&fake, &tok, &format!("jobs/{id}")).await;
        statuses.push(job["status"].as_str().unwrap().to_string());
        if job["status"] == "completed" {
            break job["location"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(statuses.contains(&"processing".to_string()), "{statuses:?}");
    // The location needs no bearer token.
    let text = common::gunzipped(&location).await;
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), fake.items("users").len());
    assert_eq!(lines[0]["user_id"], fake.items("users")[0]["user_id"]);
    assert!(lines[0]["connection"].is_string());
    assert!(lines[0].get("name").is_none());
    // CSV, for one connection: a header, then quoted cells where needed.
    let conn = fake.items("connections")[1].clone();
    let (_, job) = send(&fake, &tok, "POST", "jobs/users-exports", json!({"format": "csv", "connection_id": conn["id"], "fields": [{"name": "user_id"}, {"name": "app_metadata"}]})).await;
    let id = job["id"].as_str().unwrap().to_string();
    let location = loop {
        let (_, job) = get(&fake, &tok, &format!("jobs/{id}")).await;
        if job["status"] == "completed" {
            break job["location"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(location.ends_with(".csv.gz"));
    let text = common::gunzipped(&location).await;
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "user_id,app_metadata");
    let in_conn = fake
        .items("users")
        .iter()
        .filter(|u| u["identities"][0]["connection"] == conn["name"])
        .count();
    assert_eq!(rows.len() - 1, in_conn);
    assert!(rows[1].contains(",\"{\"\""), "{}", rows[1]);
    assert_eq!(fake.write_count(), 0, "an export job is not a write");
}

#[tokio::test]
async fn token_bucket_answers_429_with_auth0_headers() {
    let fake = start(
        5,
        Auth0Options {
            rate_limits: Some(auth0_rate_limits(Auth0Tier::Free, 1.0)),
            ..Auth0Options::default()
        },
    )
    .await;
    let tok = token(&fake).await;
    let client = reqwest::Client::new();
    let mut seen = Vec::new();
    for _ in 0..4 {
        let resp = client
            .get(format!("{}/api/v2/roles", fake.base_url()))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap();
        let h = |n: &str| {
            resp.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(h("x-ratelimit-limit").as_deref(), Some("2"));
        assert!(h("x-ratelimit-reset").unwrap().parse::<u64>().unwrap() > 1_700_000_000);
        let remaining = h("x-ratelimit-remaining").unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        seen.push((status, remaining, body));
    }
    assert_eq!(seen[0].0, 200);
    let limited = seen
        .iter()
        .find(|(s, _, _)| *s == 429)
        .expect("a burst of 2 is exhausted by 4 quick requests");
    assert_eq!(limited.1, "0");
    assert_eq!(
        limited.2,
        json!({"statusCode": 429, "error": "Too Many Requests", "message": "Global limit has been reached", "errorCode": "too_many_requests"})
    );
}

#[tokio::test]
async fn writes_are_logged_and_deletes_cascade() {
    let fake = start(20, Auth0Options::default()).await;
    let tok = token(&fake).await;
    let (status, role) = send(
        &fake,
        &tok,
        "POST",
        "roles",
        json!({"name": "Restored", "description": "from backup"}),
    )
    .await;
    assert_eq!(status, 200, "roles answer 200, as recorded");
    assert!(role["id"].as_str().unwrap().starts_with("rol_"));
    let (status, body) = send(&fake, &tok, "POST", "roles", json!({"name": "Restored"})).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (409, Some("already_exists"))
    );
    let (status, client) = send(
        &fake,
        &tok,
        "POST",
        "clients",
        json!({"name": "Restored app", "app_type": "non_interactive"}),
    )
    .await;
    assert_eq!(status, 201);
    let cid = client["client_id"].as_str().unwrap().to_string();
    assert_eq!(cid.len(), 32);
    let conn = fake.items("connections")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = send(
        &fake,
        &tok,
        "PATCH",
        &format!("connections/{conn}/clients"),
        json!([{"client_id": cid, "status": true}]),
    )
    .await;
    assert_eq!(status, 204);
    let (status, grant) = send(&fake, &tok, "POST", "client-grants", json!({"client_id": cid, "audience": "https://api0.acme.example/", "scope": ["read:reports"]})).await;
    assert_eq!(status, 201);
    assert!(grant["id"].as_str().unwrap().starts_with("cgr_"));
    assert!(
        fake.items("connections")[0]["enabled_clients"]
            .as_array()
            .unwrap()
            .contains(&json!(cid))
    );
    let (status, _) = send(
        &fake,
        &tok,
        "DELETE",
        &format!("clients/{cid}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    assert!(
        !fake
            .items("client-grants")
            .iter()
            .any(|g| g["client_id"] == cid.as_str())
    );
    assert!(
        !fake.items("connections")[0]["enabled_clients"]
            .as_array()
            .unwrap()
            .contains(&json!(cid))
    );
    let (status, body) = get(&fake, &tok, &format!("clients/{cid}")).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("inexistent_client"))
    );
    let (_, _) = send(
        &fake,
        &tok,
        "POST",
        "jobs/users-exports",
        json!({"format": "json"}),
    )
    .await;
    let writes = fake.server().writes();
    let methods: Vec<(&str, &str)> = writes
        .iter()
        .map(|w| (w.method.as_str(), w.path.as_str()))
        .collect();
    assert_eq!(methods.len(), 6, "{methods:?}");
    assert!(
        methods
            .iter()
            .all(|(_, p)| !p.contains("users-exports") && !p.contains("oauth"))
    );
    assert!(fake.server().unknown_requests().is_empty());
}

#[tokio::test]
async fn faults_speak_auth0_and_unknown_routes_are_caught() {
    use butterfly_testkit::fake::{Fault, FaultRule};
    let fake = start(
        5,
        Auth0Options {
            faults: vec![
                FaultRule::get("/api/v2/roles", Fault::Status(503), 1, 1),
                FaultRule::get("/api/v2/clients", Fault::RateLimited, 1, 1),
            ],
            ..Auth0Options::default()
        },
    )
    .await;
    let tok = token(&fake).await;
    let (status, body) = get(&fake, &tok, "roles").await;
    assert_eq!((status, body["statusCode"].as_u64()), (503, Some(503)));
    assert_eq!(body["errorCode"], "service_unavailable");
    let (status, _) = get(&fake, &tok, "roles").await;
    assert_eq!(status, 200, "the fault fires once");
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v2/clients", fake.base_url()))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    assert!(resp.headers().get("retry-after").is_some());
    let (status, _) = get(&fake, &tok, "anomaly/blocks/ips/1.1.1.1").await;
    assert_eq!(status, 501);
    assert_eq!(
        fake.server().unknown_requests(),
        vec!["GET /api/v2/anomaly/blocks/ips/1.1.1.1".to_string()]
    );
}

#[tokio::test]
async fn user_writes_merge_metadata_and_keep_emails_unique() {
    let fake = start(10, Auth0Options::default()).await;
    let tok = token(&fake).await;
    let body = json!({"connection": "Username-Password-Authentication", "email": "new@acme.example", "password": "x", "app_metadata": {"plan": "pro", "tier": 1}});
    let (status, user) = send(&fake, &tok, "POST", "users", body.clone()).await;
    assert_eq!(status, 201);
    let uid = user["user_id"].as_str().unwrap().to_string();
    assert!(uid.starts_with("auth0|"));
    assert_eq!(
        user["identities"][0]["connection"],
        "Username-Password-Authentication"
    );
    assert!(user.get("password").is_none());
    let (status, err) = send(&fake, &tok, "POST", "users", body).await;
    assert_eq!((status, err["statusCode"].as_u64()), (409, Some(409)));
    let path = format!("users/{}", uid.replace('|', "%7C"));
    let (status, patched) = send(
        &fake,
        &tok,
        "PATCH",
        &path,
        json!({"app_metadata": {"plan": "enterprise", "tier": null}, "blocked": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(patched["app_metadata"], json!({"plan": "enterprise"}));
    assert_eq!(patched["blocked"], true);
    let role = fake.items("roles")[1]["id"].as_str().unwrap().to_string();
    let (status, _) = send(
        &fake,
        &tok,
        "POST",
        &format!("roles/{role}/users"),
        json!({"users": [uid]}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, roles) = get(&fake, &tok, &format!("{path}/roles")).await;
    assert_eq!(roles[0]["id"], role.as_str());
    let (status, _) = send(&fake, &tok, "DELETE", &path, Value::Null).await;
    assert_eq!(status, 204);
    let (status, body) = get(&fake, &tok, &path).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("inexistent_user"))
    );
    assert!(!fake.with_tenant(|t| t.role_members[&role].contains(&uid)));
    // Others are still found through the index after the delete.
    let last = fake.items("users").last().unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = get(&fake, &tok, &format!("users/{}", last.replace('|', "%7C"))).await;
    assert_eq!(
        (status, body["user_id"].as_str()),
        (200, Some(last.as_str()))
    );
}
