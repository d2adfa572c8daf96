//! The fake PingOne environment behaves like the Platform API: the worker app's token flow,
//! HAL paging, withheld roles, PingOne's error bodies, rate limits with `Retry-After`, fault
//! injection, the write log, the incident, and where secrets are.

use std::collections::BTreeSet;

use butterfly_testkit::fake::{BucketLimit, Fault, FaultRule, RateLimitConfig};
use butterfly_testkit::ping::{
    COLLECTIONS, FakePing, IDENTITY_DATA_ADMIN, PingEnvSpec, PingOptions, ids,
};
use serde_json::{Value, json};

async fn start(users: usize, options: PingOptions) -> FakePing {
    FakePing::start(PingEnvSpec { users, seed: 3 }, options)
        .await
        .unwrap()
}

/// A GET under the API root with `token`: status, `Retry-After`, body.
async fn get(fake: &FakePing, token: &str, path: &str) -> (u16, Option<String>, Value) {
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{}{path}", fake.api_url())
    };
    let resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, resp.json().await.unwrap_or(Value::Null))
}

async fn send(
    fake: &FakePing,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", fake.api_url()))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn env_path(fake: &FakePing, rel: &str) -> String {
    format!("/environments/{}/{rel}", fake.environment_id())
}

fn assert_ping_error(body: &Value, code: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert!(body["id"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
    assert!(
        body["message"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn the_token_flow_takes_basic_or_form_credentials_and_refuses_others() {
    let fake = start(20, PingOptions::default()).await;
    let client = reqwest::Client::new();
    // HTTP Basic.
    let resp = client
        .post(fake.token_url())
        .basic_auth(fake.client_id(), Some(fake.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap().to_string();
    let (status, _, env) = get(
        &fake,
        &token,
        &format!("/environments/{}", fake.environment_id()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(env["id"], fake.environment_id());
    // Form fields.
    let resp = client
        .post(fake.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", fake.client_id()),
            ("client_secret", fake.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // A wrong secret, and another environment's token endpoint.
    for (url, secret) in [
        (fake.token_url(), "wrong"),
        (
            format!(
                "{}/00000000-0000-4000-8000-000000000000/as/token",
                fake.base_url()
            ),
            fake.client_secret(),
        ),
    ] {
        let resp = client
            .post(url)
            .basic_auth(fake.client_id(), Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        assert!(body["error_description"].is_string());
    }
    // Missing and unknown tokens.
    for token in ["", "not-a-token"] {
        let (status, _, body) = get(&fake, token, &env_path(&fake, "users")).await;
        assert_eq!(status, 401);
        assert_ping_error(&body, "INVALID_TOKEN");
    }
    // The token endpoint is not a write.
    assert_eq!(fake.write_count(), 0);
}

#[tokio::test]
async fn following_next_links_returns_every_item_exactly_once() {
    let fake = start(500, PingOptions::default()).await;
    let token = fake.access_token().await.unwrap();
    for rel in ["users", "groups"] {
        let mut url = format!("{}?limit=100", env_path(&fake, rel));
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let (status, _, body) = get(&fake, &token, &url).await;
            assert_eq!(status, 200, "{url}");
            let page = body["_embedded"][rel].as_array().unwrap();
            assert_eq!(body["size"], page.len());
            assert_eq!(body["count"], fake.items(rel).len());
            assert!(body["_links"]["self"]["href"].is_string());
            assert!(page.len() <= 100);
            seen.extend(ids(page));
            pages += 1;
            match body["_links"]["next"]["href"].as_str() {
                Some(next) => url = next.to_string(),
                None => break,
            }
        }
        let all = ids(&fake.items(rel));
        assert_eq!(seen, all, "{rel}");
        assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), seen.len());
        if rel == "users" {
            assert_eq!(seen.len(), 500);
            assert_eq!(pages, 5);
        }
    }
    // The same seed gives the same environment.
    let again = start(500, PingOptions::default()).await;
    assert_eq!(again.items("users"), fake.items("users"));
    assert_eq!(again.environment_id(), fake.environment_id());
}

#[tokio::test]
async fn the_generated_environment_has_the_expected_shape() {
    let fake = start(500, PingOptions::default()).await;
    let pops = ids(&fake.items("populations"));
    assert!(pops.len() >= 2);
    let users = fake.items("users");
    let used: BTreeSet<&str> = users
        .iter()
        .filter_map(|u| u["population"]["id"].as_str())
        .collect();
    assert!(used.len() >= 2, "users spread over populations");
    assert!(users.iter().all(|u| u.get("password").is_none()));
    // Power-law group sizes.
    let groups = ids(&fake.items("groups"));
    let size = |gid: &str| {
        users
            .iter()
            .filter(|u| {
                let uid = u["id"].as_str().unwrap();
                fake.items(&format!("users/{uid}/memberOfGroups"))
                    .iter()
                    .any(|m| m["id"] == gid)
            })
            .count()
    };
    assert!(size(&groups[0]) > 4 * size(&groups[groups.len() - 1]));
    assert!(
        groups
            .iter()
            .any(|g| !fake.items(&format!("groups/{g}/memberOfGroups")).is_empty())
    );
    // The default sign-on policy is assigned to the apps.
    let default = fake
        .items("signOnPolicies")
        .into_iter()
        .find(|p| p["default"] == true)
        .unwrap();
    let assigned = ids(&fake.items("applications"))
        .iter()
        .filter(|a| {
            fake.items(&format!("applications/{a}/signOnPolicyAssignments"))
                .iter()
                .any(|s| s["signOnPolicy"]["id"] == default["id"])
        })
        .count();
    assert!(assigned >= 4);
}

#[tokio::test]
async fn a_withheld_role_is_403_naming_the_role() {
    let fake = start(
        20,
        PingOptions {
            withheld: vec![
                IDENTITY_DATA_ADMIN.to_string(),
                "/environments/{}/gateways".to_string(),
            ],
            ..PingOptions::default()
        },
    )
    .await;
    let token = fake.access_token().await.unwrap();
    for rel in ["users", "groups", "populations", "gateways"] {
        let (status, _, body) = get(&fake, &token, &env_path(&fake, rel)).await;
        assert_eq!(status, 403, "{rel}");
        assert_ping_error(&body, "ACCESS_FAILED");
        let details = body["details"].as_array().unwrap();
        assert!(!details.is_empty());
        let role = if rel == "gateways" {
            "Environment Admin"
        } else {
            IDENTITY_DATA_ADMIN
        };
        assert!(
            details[0]["message"].as_str().unwrap().contains(role),
            "{body}"
        );
    }
    for rel in ["applications", "signOnPolicies", "themes"] {
        let (status, _, _) = get(&fake, &token, &env_path(&fake, rel)).await;
        assert_eq!(status, 200, "{rel}");
    }
    let (status, _, _) = get(&fake, &token, "/roles").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unknown_ids_are_404_not_found() {
    let fake = start(20, PingOptions::default()).await;
    let token = fake.access_token().await.unwrap();
    let missing = "11111111-2222-4333-8444-555555555555";
    for path in [
        env_path(&fake, &format!("users/{missing}")),
        env_path(&fake, &format!("groups/{missing}/memberOfGroups")),
        env_path(&fake, &format!("applications/{missing}/secret")),
        format!("/environments/{missing}/users"),
    ] {
        let (status, _, body) = get(&fake, &token, &path).await;
        assert_eq!(status, 404, "{path}");
        assert_ping_error(&body, "NOT_FOUND");
    }
}

#[tokio::test]
async fn a_tight_rate_limit_answers_429_with_retry_after() {
    let fake = start(
        20,
        PingOptions {
            rate_limits: Some(RateLimitConfig {
                buckets: vec![BucketLimit {
                    name: "config".into(),
                    limit: 3,
                }],
                ..butterfly_testkit::ping::ping_rate_limits(1.0)
            }),
            ..PingOptions::default()
        },
    )
    .await;
    let token = fake.access_token().await.unwrap();
    let path = env_path(&fake, "applications");
    for _ in 0..3 {
        let (status, retry, _) = get(&fake, &token, &path).await;
        assert_eq!(status, 200);
        assert_eq!(retry, None);
    }
    let (status, retry, body) = get(&fake, &token, &path).await;
    assert_eq!(status, 429);
    assert_ping_error(&body, "REQUEST_LIMITED");
    let secs: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    // Users are in another bucket.
    let (status, _, _) = get(&fake, &token, &env_path(&fake, "users")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn injected_faults_use_pingone_error_bodies() {
    let fake = start(
        20,
        PingOptions {
            faults: vec![FaultRule::get("/v1/environments", Fault::Status(503), 1, 1)],
            ..PingOptions::default()
        },
    )
    .await;
    let token = fake.access_token().await.unwrap();
    let path = env_path(&fake, "groups");
    let (status, _, body) = get(&fake, &token, &path).await;
    assert_eq!(status, 503);
    assert_ping_error(&body, "SERVICE_UNAVAILABLE");
    let (status, _, _) = get(&fake, &token, &path).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn writes_validate_required_fields_and_are_logged() {
    use reqwest::Method;
    let fake = start(20, PingOptions::default()).await;
    let token = fake.access_token().await.unwrap();
    let (status, population) = send(
        &fake,
        &token,
        Method::POST,
        &env_path(&fake, "populations"),
        Some(json!({"name": "Partners"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, group) = send(
        &fake,
        &token,
        Method::POST,
        &env_path(&fake, "groups"),
        Some(json!({"name": "Auditors"})),
    )
    .await;
    assert_eq!(status, 201);
    let gid = group["id"].as_str().unwrap().to_string();
    assert_eq!(group["environment"]["id"], fake.environment_id());
    assert!(
        group["_links"]["self"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&gid)
    );
    // A user without a username: 400 naming the field.
    let (status, body) = send(
        &fake,
        &token,
        Method::POST,
        &env_path(&fake, "users"),
        Some(json!({"email": "x@example.com"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_ping_error(&body, "INVALID_DATA");
    let details = body["details"].as_array().unwrap();
    assert_eq!(details.len(), 1);
    assert_eq!(details[0]["target"], "username");
    assert!(details[0]["code"].is_string() && details[0]["message"].is_string());
    // A user with a password: stored without it.
    let (status, user) = send(
        &fake,
        &token,
        Method::POST,
        &env_path(&fake, "users"),
        Some(json!({"username": "pat", "email": "pat@example.com", "population": {"id": population["id"]}, "password": {"value": "hunter2"}})),
    )
    .await;
    assert_eq!(status, 201);
    assert!(user.get("password").is_none());
    let uid = user["id"].as_str().unwrap().to_string();
    // Membership, replace, delete.
    let (status, _) = send(
        &fake,
        &token,
        Method::POST,
        &env_path(&fake, &format!("users/{uid}/memberOfGroups")),
        Some(json!({"id": gid})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, replaced) = send(
        &fake,
        &token,
        Method::PUT,
        &env_path(&fake, &format!("groups/{gid}")),
        Some(json!({"name": "Auditors", "description": "Read-only"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(replaced["description"], "Read-only");
    assert_eq!(replaced["createdAt"], group["createdAt"]);
    let (status, _) = send(
        &fake,
        &token,
        Method::PUT,
        &env_path(&fake, &format!("groups/{gid}")),
        Some(json!({"description": "no name"})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = send(
        &fake,
        &token,
        Method::DELETE,
        &env_path(&fake, &format!("groups/{gid}")),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(
        fake.items(&format!("users/{uid}/memberOfGroups"))
            .is_empty(),
        "the membership went with the group"
    );
    let (status, _, _) = get(&fake, &token, &env_path(&fake, &format!("groups/{gid}"))).await;
    assert_eq!(status, 404);
    // Built-in roles are read-only.
    let (status, body) = send(
        &fake,
        &token,
        Method::POST,
        "/roles",
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!(status, 405);
    assert_ping_error(&body, "METHOD_NOT_ALLOWED");
    // Every non-GET request but the token's is in the log, refused ones included.
    let writes = fake.server().writes();
    assert_eq!(fake.write_count(), 9, "{writes:#?}");
    assert_eq!(writes[0].method, "POST");
    assert!(writes[0].path.ends_with("/populations"));
    assert_eq!(writes[0].body["name"], "Partners");
    assert!(fake.server().unknown_requests().is_empty());
}

#[tokio::test]
async fn the_incident_removes_what_it_says() {
    let fake = start(200, PingOptions::default()).await;
    let before_policies = ids(&fake.items("signOnPolicies"));
    let before_groups = ids(&fake.items("groups"));
    let incident = fake.incident().await.unwrap();
    assert_eq!(incident.summary.len(), 2);
    let removed = |kind: &str| -> Vec<String> {
        incident
            .removed
            .iter()
            .filter(|a| a.kind == kind)
            .map(|a| a.id.clone())
            .collect()
    };
    let policy = removed("ping.sign_on_policy");
    let group = removed("ping.group");
    let assignments = removed("ping.application_sign_on_policy_assignment");
    assert_eq!((policy.len(), group.len()), (1, 1));
    assert!(!assignments.is_empty());
    assert!(before_policies.contains(&policy[0]) && before_groups.contains(&group[0]));
    assert!(!ids(&fake.items("signOnPolicies")).contains(&policy[0]));
    assert!(!ids(&fake.items("groups")).contains(&group[0]));
    assert_eq!(
        ids(&fake.items("signOnPolicies")).len(),
        before_policies.len() - 1
    );
    assert_eq!(ids(&fake.items("groups")).len(), before_groups.len() - 1);
    assert!(
        fake.items(&format!("signOnPolicies/{}/actions", policy[0]))
            .is_empty()
    );
    for app in ids(&fake.items("applications")) {
        let assigned = fake.items(&format!("applications/{app}/signOnPolicyAssignments"));
        assert!(
            assigned
                .iter()
                .all(|s| s["signOnPolicy"]["id"] != policy[0].as_str())
        );
        assert!(
            assigned
                .iter()
                .all(|s| !assignments.contains(&format!("{app}/{}", s["id"].as_str().unwrap())))
        );
    }
    for user in ids(&fake.items("users")) {
        assert!(
            fake.items(&format!("users/{user}/memberOfGroups"))
                .iter()
                .all(|m| m["id"] != group[0].as_str())
        );
    }
    for g in ids(&fake.items("groups")) {
        assert!(
            fake.items(&format!("groups/{g}/memberOfGroups"))
                .iter()
                .all(|m| m["id"] != group[0].as_str())
        );
    }
    // One DELETE per removed object, through the API.
    assert_eq!(fake.write_count(), incident.removed.len());
    assert!(fake.server().writes().iter().all(|w| w.method == "DELETE"));
}

#[tokio::test]
async fn secrets_are_only_at_the_secret_endpoints() {
    let fake = start(60, PingOptions::default()).await;
    let token = fake.access_token().await.unwrap();
    let sentinels = fake.sentinels();
    assert!(sentinels.contains(&fake.client_secret().to_string()));
    // Every OIDC application's secret is a sentinel, at its secret endpoint.
    let apps = fake.items("applications");
    let mut app_secrets = Vec::new();
    for app in &apps {
        let id = app["id"].as_str().unwrap();
        assert!(app.get("clientSecret").is_none());
        let (status, _, body) = get(
            &fake,
            &token,
            &env_path(&fake, &format!("applications/{id}/secret")),
        )
        .await;
        if app["protocol"] == "OPENID_CONNECT" {
            assert_eq!(status, 200);
            let secret = body["secret"].as_str().unwrap().to_string();
            assert!(sentinels.contains(&secret), "{secret}");
            app_secrets.push(secret);
        } else {
            assert_eq!(status, 404);
        }
    }
    assert!(app_secrets.len() >= 3);
    // Gateway credentials: sentinels in the credentials listing only.
    let mut credentials = Vec::new();
    for gw in ids(&fake.items("gateways")) {
        let (status, _, body) = get(
            &fake,
            &token,
            &env_path(&fake, &format!("gateways/{gw}/credentials")),
        )
        .await;
        assert_eq!(status, 200);
        for c in body["_embedded"]["credentials"].as_array().unwrap() {
            let value = c["credential"].as_str().unwrap().to_string();
            assert!(sentinels.contains(&value));
            credentials.push(value);
        }
    }
    assert!(!credentials.is_empty());
    // No other answer carries them: every collection (for every parent) and its first item.
    let mut answers = String::new();
    for c in COLLECTIONS {
        if c.path.ends_with("/credentials") {
            continue;
        }
        let mut paths = vec![String::new()];
        for (k, seg) in c.path.split('/').skip(1).enumerate() {
            let mut next = Vec::new();
            for p in &paths {
                if seg != "{}" {
                    next.push(format!("{p}/{seg}"));
                } else if k == 1 {
                    next.push(format!("{p}/{}", fake.environment_id()));
                } else {
                    next.extend(ids(&fake.items(p)).iter().map(|id| format!("{p}/{id}")));
                }
            }
            paths = next;
        }
        for p in paths {
            let (status, _, body) = get(&fake, &token, &format!("{p}?limit=1000")).await;
            assert_eq!(status, 200, "{p}");
            answers.push_str(&body.to_string());
        }
    }
    for s in SINGLETON_READS {
        let (_, _, body) = get(&fake, &token, &env_path(&fake, s)).await;
        answers.push_str(&body.to_string());
    }
    for secret in app_secrets.iter().chain(&credentials) {
        assert!(
            !answers.contains(secret.as_str()),
            "{secret} outside its endpoint"
        );
    }
    assert!(!answers.contains("\"password\""));
    // The identity provider's client secret is an in-item secret field, a sentinel too.
    let idp = fake
        .items("identityProviders")
        .into_iter()
        .find(|i| i["type"] == "OPENID_CONNECT")
        .unwrap();
    assert!(sentinels.contains(&idp["clientSecret"].as_str().unwrap().to_string()));
    // A created OIDC application gets a new secret, planted as a sentinel.
    let (status, app) = send(
        &fake,
        &token,
        reqwest::Method::POST,
        &env_path(&fake, "applications"),
        Some(json!({"name": "New", "enabled": true, "protocol": "OPENID_CONNECT", "type": "WEB_APP", "grantTypes": ["AUTHORIZATION_CODE"], "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC"})),
    )
    .await;
    assert_eq!(status, 201);
    let (_, _, body) = get(
        &fake,
        &token,
        &env_path(
            &fake,
            &format!("applications/{}/secret", app["id"].as_str().unwrap()),
        ),
    )
    .await;
    assert!(
        fake.sentinels()
            .contains(&body["secret"].as_str().unwrap().to_string())
    );
}

const SINGLETON_READS: &[&str] = &["brandingSettings", "mfaSettings"];

#[tokio::test]
async fn notification_templates_are_read_by_name_and_their_contents_take_writes() {
    use reqwest::Method;
    let fake = start(20, PingOptions::default()).await;
    let token = fake.access_token().await.unwrap();
    // The built-in templates: their id is the name that addresses them.
    let (status, _, body) = get(&fake, &token, &env_path(&fake, "templates")).await;
    assert_eq!(status, 200);
    let templates = body["_embedded"]["templates"].as_array().unwrap();
    assert_eq!(body["count"], fake.items("templates").len());
    let names = ids(templates);
    assert!(
        names.contains(&"email_verification_user".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"recovery_code_template".to_string()),
        "{names:?}"
    );
    let (status, _, template) = get(
        &fake,
        &token,
        &env_path(&fake, "templates/email_verification_user"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(template["id"], "email_verification_user");
    assert!(template["displayName"].is_string() && template["variables"].is_object());
    assert!(
        template["_links"]["self"]["href"]
            .as_str()
            .unwrap()
            .ends_with("/templates/email_verification_user")
    );
    let (status, _, body) = get(
        &fake,
        &token,
        &env_path(&fake, "templates/no_such_template"),
    )
    .await;
    assert_eq!(status, 404);
    assert_ping_error(&body, "NOT_FOUND");
    // A template's custom contents.
    let (status, _, body) = get(
        &fake,
        &token,
        &env_path(&fake, "templates/recovery_code_template/contents"),
    )
    .await;
    assert_eq!(status, 200);
    let contents = body["_embedded"]["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 2);
    for c in contents {
        assert_eq!(c["deliveryMethod"], "Email");
        assert_eq!(c["template"]["id"], "recovery_code_template");
        assert!(c["subject"].is_string() && c["body"].is_string() && c["locale"].is_string());
        assert!(c["from"]["address"].is_string());
    }
    // Templates are read-only; a content needs its delivery method's fields, a method the
    // template supports, and keeps its delivery method and locale.
    let contents_path = env_path(&fake, "templates/email_verification_user/contents");
    let (status, body) = send(
        &fake,
        &token,
        Method::POST,
        &env_path(&fake, "templates"),
        Some(json!({"displayName": "Mine"})),
    )
    .await;
    assert_eq!(status, 405);
    assert_ping_error(&body, "METHOD_NOT_ALLOWED");
    let (status, body) = send(
        &fake,
        &token,
        Method::POST,
        &contents_path,
        Some(json!({"deliveryMethod": "Email", "locale": "de", "subject": "Hallo"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_ping_error(&body, "INVALID_DATA");
    assert_eq!(body["details"][0]["target"], "body");
    let (status, body) = send(
        &fake,
        &token,
        Method::POST,
        &contents_path,
        Some(json!({"deliveryMethod": "SMS", "locale": "de", "content": "${code}"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["details"][0]["target"], "deliveryMethod", "{body}");
    let content = json!({
        "deliveryMethod": "Email", "locale": "de", "subject": "Bitte bestätigen",
        "body": "<p>Ihr Code: ${code}</p>",
        "from": {"name": "Butterfly", "address": "noreply@mail.butterfly.example"},
    });
    let (status, created) = send(
        &fake,
        &token,
        Method::POST,
        &contents_path,
        Some(content.clone()),
    )
    .await;
    assert_eq!(status, 201);
    let cid = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["template"]["id"], "email_verification_user");
    assert_eq!(created["default"], false);
    assert_eq!(created["subject"], "Bitte bestätigen");
    let item = format!("{contents_path}/{cid}");
    let (status, _, read) = get(&fake, &token, &item).await;
    assert_eq!(status, 200);
    assert_eq!(read["body"], content["body"]);
    let mut changed = content.clone();
    changed["subject"] = json!("Bitte E-Mail bestätigen");
    let (status, replaced) = send(&fake, &token, Method::PUT, &item, Some(changed.clone())).await;
    assert_eq!(status, 200);
    assert_eq!(replaced["subject"], "Bitte E-Mail bestätigen");
    assert_eq!(replaced["createdAt"], created["createdAt"]);
    assert_eq!(replaced["template"]["id"], "email_verification_user");
    changed["locale"] = json!("fr");
    let (status, body) = send(&fake, &token, Method::PUT, &item, Some(changed)).await;
    assert_eq!(status, 400);
    assert_eq!(body["details"][0]["target"], "locale", "{body}");
    let stored = fake.items("templates/email_verification_user/contents");
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1]["subject"], "Bitte E-Mail bestätigen");
    assert_eq!(stored[1]["locale"], "de");
    // The write log, refused writes included.
    let writes = fake.server().writes();
    let log: Vec<(&str, bool)> = writes
        .iter()
        .map(|w| (w.method.as_str(), w.path.ends_with(&cid)))
        .collect();
    assert_eq!(
        log,
        [
            ("POST", false),
            ("POST", false),
            ("POST", false),
            ("POST", false),
            ("PUT", true),
            ("PUT", true),
        ],
        "{writes:#?}"
    );
    assert!(
        writes[3]
            .path
            .ends_with("/templates/email_verification_user/contents")
    );
    assert_eq!(writes[3].body["subject"], "Bitte bestätigen");
    assert_eq!(writes[4].body["subject"], "Bitte E-Mail bestätigen");
    assert!(fake.server().unknown_requests().is_empty());
}

#[tokio::test]
async fn application_roles_list_their_permissions() {
    let fake = start(20, PingOptions::default()).await;
    let token = fake.access_token().await.unwrap();
    let (status, _, body) = get(&fake, &token, &env_path(&fake, "applicationRoles")).await;
    assert_eq!(status, 200);
    let roles = ids(body["_embedded"]["roles"].as_array().unwrap());
    assert_eq!(roles, ids(&fake.items("applicationRoles")));
    assert!(roles.len() >= 2);
    let (status, _, body) = get(
        &fake,
        &token,
        &env_path(&fake, &format!("applicationRoles/{}/permissions", roles[0])),
    )
    .await;
    assert_eq!(status, 200);
    let permissions = body["_embedded"]["permissions"].as_array().unwrap();
    assert!(!permissions.is_empty());
    assert!(
        permissions
            .iter()
            .all(|p| p["action"].is_string() && p["resource"]["id"].is_string())
    );
    // No item GET in the spec, none in the fake.
    let (status, _, _) = get(
        &fake,
        &token,
        &env_path(
            &fake,
            &format!(
                "applicationRoles/{}/permissions/{}",
                roles[0],
                ids(permissions)[0]
            ),
        ),
    )
    .await;
    assert_eq!(status, 405);
}

/// A token for the fake's worker app.
async fn worker_token(fake: &FakePing) -> String {
    let body: Value = reqwest::Client::new()
        .post(fake.token_url())
        .basic_auth(fake.client_id(), Some(fake.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_bill_of_materials_lists_the_services_and_a_missing_one_answers_403() {
    let full = start(5, PingOptions::default()).await;
    let token = worker_token(&full).await;
    let types = |bom: &Value| -> BTreeSet<String> {
        bom["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["type"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, _, bom) = get(&full, &token, &env_path(&full, "billOfMaterials")).await;
    assert_eq!(status, 200);
    assert_eq!(
        types(&bom),
        BTreeSet::from(
            [
                "PING_ONE_BASE",
                "PING_ONE_MFA",
                "PING_ONE_RISK",
                "PING_ONE_AUTHORIZE"
            ]
            .map(String::from)
        )
    );
    let (status, _, _) = get(
        &full,
        &token,
        &env_path(&full, "deviceAuthenticationPolicies"),
    )
    .await;
    assert_eq!(status, 200);

    let lacking = start(
        5,
        PingOptions {
            missing_products: vec!["PING_ONE_MFA".into()],
            ..PingOptions::default()
        },
    )
    .await;
    let token = worker_token(&lacking).await;
    let (_, _, bom) = get(&lacking, &token, &env_path(&lacking, "billOfMaterials")).await;
    assert!(!types(&bom).contains("PING_ONE_MFA"));
    assert!(types(&bom).contains("PING_ONE_RISK"));
    for rel in [
        "deviceAuthenticationPolicies",
        "fido2Policies",
        "mfaSettings",
    ] {
        let (status, _, body) = get(&lacking, &token, &env_path(&lacking, rel)).await;
        assert_eq!(status, 403, "{rel}");
        assert_eq!(body["code"], "ACCESS_FAILED", "{rel}");
    }
    let (status, _, _) = get(&lacking, &token, &env_path(&lacking, "riskPredictors")).await;
    assert_eq!(status, 200, "the services it has answer");
}
