//! A fake Okta org that behaves like the Management API, built from the OpenAPI spec
//! 2026.06.3 and the recorded cassettes in `shared/fixtures/okta`.
//!
//! # Routes
//! Every collection in [`COLLECTIONS`] answers `GET` (list, `Link` paging where Okta pages),
//! `POST` (create), and on `{collection}/{id}`: `GET`, `PUT` (replace), `POST` (partial
//! update), `DELETE`, and `POST …/lifecycle/activate|deactivate`. Membership-like collections
//! (`/api/v1/groups/{id}/users/{userId}`, `/api/v1/apps/{id}/groups/{groupId}`) are written
//! with `PUT` on the member path, as Okta does. Singletons (`/api/v1/org`, the user and
//! group schemas, app schemas) answer `GET` and `POST`/`PUT`.
//!
//! Behaviour kept from the real API:
//! - `GET /api/v1/users` omits `DEPROVISIONED` users unless `search` or `filter` asks for
//!   that status; `POST /api/v1/users?activate=false` creates a `STAGED` user.
//! - Page sizes as documented: users 200 (max 200), groups up to 10000, group members 1000,
//!   app users max 500, apps max 200, group rules max 200; `after` cursors; `Link` headers
//!   with `rel="self"` and `rel="next"`.
//! - The `Everyone` group (`BUILT_IN`) has every user as member.
//! - Group rules: created `INACTIVE` with a unique name; `PUT` only on an `INACTIVE` rule and
//!   never changing its `actions`; deleting a group turns every rule naming it `INVALID`
//!   (`allGroupsValid: false`), which can then only be read or deleted; lifecycle calls answer
//!   204, a deleted rule 202. Evidence and error bodies in `okta/group_rules.rs`.
//! - Auth: `SSWS <token>`, or `POST /oauth2/v1/token` with a `private_key_jwt` client
//!   assertion (RS256, verified against the test public key) returning a bearer token with
//!   the requested scopes. Each route needs its `okta.*.read` scope (`.manage` for writes);
//!   a missing scope is 403 `E0000006` with `www-authenticate: … error="insufficient_scope"`.
//! - Features not enabled (governance) answer 401 `E0000015`, as the cassettes show.
//! - Errors use Okta's body `{"errorCode","errorSummary","errorLink","errorId","errorCauses"}`.
//! - Buckets: users list, user by id, groups, apps (all `/api/v1/apps*`), authorization
//!   servers, policies, and the rest in `default`; 429 body `E0000047`.
//!
//! Fidelity: `tests/okta_openapi.rs` validates every route's response against the 200 schema
//! of the official spec with the `jsonschema` validator. Four routes are not in the management
//! spec and follow Okta's published docs instead: `/oauth2/v1/clients` (Okta's OAuth spec),
//! `/api/v1/risk/providers`, and the governance paths `/governance/api/v1/campaigns` and
//! `/governance/api/v1/requests` (the Okta Identity Governance spec, not among the fixtures).
//!
//! Secret fields carry `SENTINEL-…` values ([`FakeOkta::sentinels`]) so tests can prove they
//! never reach a store.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Method;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

mod group_rules;

use crate::fake::{
    AssertionError, BucketLimit, FakeApi, FakeRequest, FakeResponse, FakeServer, FaultRule,
    RateLimitConfig, ServerOptions, lock, matches, merge, sentinel, verify_test_assertion,
};

/// The test-only RSA private key (PEM) of the fake's OAuth service app.
pub const TEST_PRIVATE_KEY_PEM: &str = include_str!("../keys/okta-test-private.pem");

/// A collection route: path template, paging, wrapper, scope.
#[derive(Debug, Clone, Copy)]
pub struct Collection {
    /// Path template; `{}` segments match any id.
    pub path: &'static str,
    /// `(default, max)` page size when the API pages with `Link`; `None` returns everything.
    pub paging: Option<(usize, usize)>,
    /// For lists wrapped in an object (`{"roles": [...]}`), the member name.
    pub wrap: Option<&'static str>,
    /// Scope family: `okta.{scope}.read` / `.manage`.
    pub scope: &'static str,
    /// Prefix of generated ids.
    pub id_prefix: &'static str,
    /// Needs a feature the org may not have.
    pub feature: Option<&'static str>,
}

const fn coll(path: &'static str, scope: &'static str, id_prefix: &'static str) -> Collection {
    Collection {
        path,
        paging: None,
        wrap: None,
        scope,
        id_prefix,
        feature: None,
    }
}

/// Every collection the fake serves.
pub const COLLECTIONS: &[Collection] = &[
    Collection {
        paging: Some((200, 200)),
        ..coll("/api/v1/users", "users", "00u")
    },
    Collection {
        paging: Some((10000, 10000)),
        ..coll("/api/v1/groups", "groups", "00g")
    },
    Collection {
        paging: Some((50, 200)),
        ..coll("/api/v1/groups/rules", "groups", "0pr")
    },
    Collection {
        paging: Some((1000, 1000)),
        ..coll("/api/v1/groups/{}/users", "groups", "")
    },
    Collection {
        paging: Some((200, 200)),
        ..coll("/api/v1/groups/{}/owners", "groups", "")
    },
    coll("/api/v1/meta/types/user", "userTypes", "oty"),
    Collection {
        paging: Some((20, 200)),
        ..coll("/api/v1/mappings", "profileMappings", "prm")
    },
    coll(
        "/api/v1/meta/schemas/user/linkedObjects",
        "linkedObjects",
        "",
    ),
    coll("/api/v1/meta/uischemas", "uischemas", "uis"),
    Collection {
        paging: Some((200, 200)),
        ..coll("/api/v1/apps", "apps", "0oa")
    },
    Collection {
        paging: Some((50, 500)),
        ..coll("/api/v1/apps/{}/users", "apps", "")
    },
    Collection {
        paging: Some((20, 200)),
        ..coll("/api/v1/apps/{}/groups", "apps", "")
    },
    coll("/api/v1/apps/{}/features", "apps", ""),
    coll("/oauth2/v1/clients", "clients", "0oa"),
    Collection {
        paging: Some((20, 200)),
        ..coll("/api/v1/policies", "policies", "00p")
    },
    coll("/api/v1/policies/{}/rules", "policies", "0pr"),
    coll("/api/v1/zones", "networkZones", "nzo"),
    coll("/api/v1/api-tokens", "apiTokens", "00T"),
    Collection {
        paging: Some((20, 200)),
        ..coll("/api/v1/trustedOrigins", "trustedOrigins", "tos")
    },
    coll("/api/v1/authenticators", "authenticators", "aut"),
    coll("/api/v1/behaviors", "behaviors", "abr"),
    coll("/api/v1/device-assurances", "deviceAssurance", "dae"),
    coll("/api/v1/risk/providers", "riskProviders", "rkp"),
    coll("/api/v1/captchas", "captchas", "cap"),
    coll("/api/v1/push-providers", "pushProviders", "ppc"),
    Collection {
        paging: Some((200, 200)),
        ..coll(
            "/api/v1/authorizationServers",
            "authorizationServers",
            "aus",
        )
    },
    coll(
        "/api/v1/authorizationServers/{}/claims",
        "authorizationServers",
        "ocl",
    ),
    coll(
        "/api/v1/authorizationServers/{}/scopes",
        "authorizationServers",
        "scp",
    ),
    coll(
        "/api/v1/authorizationServers/{}/policies",
        "authorizationServers",
        "00p",
    ),
    coll(
        "/api/v1/authorizationServers/{}/policies/{}/rules",
        "authorizationServers",
        "0pr",
    ),
    coll("/api/v1/idps", "idps", "0oa"),
    Collection {
        wrap: Some("roles"),
        ..coll("/api/v1/iam/roles", "roles", "cr0")
    },
    Collection {
        wrap: Some("permissions"),
        ..coll("/api/v1/iam/roles/{}/permissions", "roles", "")
    },
    Collection {
        wrap: Some("resource-sets"),
        ..coll("/api/v1/iam/resource-sets", "roles", "iam")
    },
    Collection {
        wrap: Some("value"),
        ..coll("/api/v1/iam/assignees/users", "roles", "")
    },
    coll("/api/v1/users/{}/roles", "roles", "ra1"),
    coll("/api/v1/eventHooks", "eventHooks", "who"),
    coll("/api/v1/inlineHooks", "inlineHooks", "cal"),
    coll("/api/v1/hook-keys", "inlineHooks", "hks"),
    coll("/api/v1/logStreams", "logStreams", "0oa"),
    coll(
        "/api/v1/security-events-providers",
        "securityEventsProviders",
        "sse",
    ),
    coll("/api/v1/ssf/stream", "ssf", "esc"),
    coll("/api/v1/brands", "brands", "bnd"),
    coll("/api/v1/brands/{}/themes", "brands", "thm"),
    coll("/api/v1/brands/{}/templates/email", "templates", ""),
    coll(
        "/api/v1/brands/{}/templates/email/{}/customizations",
        "templates",
        "oel",
    ),
    Collection {
        wrap: Some("domains"),
        ..coll("/api/v1/domains", "domains", "OcD")
    },
    coll("/api/v1/email-domains", "emailDomains", "OeD"),
    coll("/api/v1/templates/sms", "templates", "cst"),
    Collection {
        wrap: Some("email-servers"),
        ..coll("/api/v1/email-servers", "emailServers", "qq0")
    },
    coll(
        "/api/v1/telephony-providers",
        "customTelephonyProvider",
        "tpr",
    ),
    coll("/api/v1/features", "features", "ftr"),
    coll("/api/v1/agentPools", "agentPools", "0oa"),
    Collection {
        paging: Some((200, 200)),
        ..coll("/api/v1/realms", "realms", "guo")
    },
    Collection {
        paging: Some((20, 200)),
        ..coll("/api/v1/realm-assignments", "realmAssignments", "rul")
    },
    Collection {
        feature: Some("governance"),
        ..coll(
            "/governance/api/v1/campaigns",
            "governance.accessCertifications",
            "icl",
        )
    },
    Collection {
        feature: Some("governance"),
        ..coll(
            "/governance/api/v1/requests",
            "governance.accessRequests",
            "req",
        )
    },
    Collection {
        feature: Some("governance"),
        wrap: Some("bundles"),
        ..coll("/api/v1/iam/governance/bundles", "roles", "enb")
    },
];

/// Singleton resources: path template and scope.
pub const SINGLETONS: &[(&str, &str)] = &[
    ("/api/v1/org", "orgs"),
    ("/api/v1/threats/configuration", "threatInsights"),
    ("/api/v1/meta/schemas/user/default", "schemas"),
    ("/api/v1/meta/schemas/group/default", "schemas"),
    ("/api/v1/meta/schemas/apps/{}/default", "schemas"),
];

/// What org to generate.
#[derive(Debug, Clone)]
pub struct OktaOrgSpec {
    /// Users (including deprovisioned ones).
    pub users: usize,
    /// Seed: the same seed gives the same org.
    pub seed: u64,
    /// Whether Okta Identity Governance is enabled.
    pub governance: bool,
}

impl Default for OktaOrgSpec {
    fn default() -> Self {
        OktaOrgSpec {
            users: 200,
            seed: 1,
            governance: false,
        }
    }
}

/// How the fake server behaves.
#[derive(Debug, Clone, Default)]
pub struct OktaOptions {
    /// Rate limits (`None`: unlimited). See [`okta_rate_limits`].
    pub rate_limits: Option<RateLimitConfig>,
    /// Faults to inject.
    pub faults: Vec<FaultRule>,
    /// Scopes never granted (to SSWS tokens as well).
    pub withheld_scopes: Vec<String>,
    /// Port (0: any).
    pub port: u16,
}

/// Okta's documented per-minute limits for the buckets the fake emulates (the defaults of a
/// Workforce org as seen in the cassettes' `x-rate-limit-limit` headers and Okta's docs).
pub fn okta_rate_limits(time_scale: f64) -> RateLimitConfig {
    let b = |name: &str, limit| BucketLimit {
        name: name.to_string(),
        limit,
    };
    RateLimitConfig {
        buckets: vec![
            b("users", 600),
            b("user", 2000),
            b("groups", 500),
            b("apps", 100),
            b("authorizationServers", 100),
            b("policies", 100),
            b("default", 1200),
        ],
        window: Duration::from_secs(60),
        headers: [
            "x-rate-limit-limit",
            "x-rate-limit-remaining",
            "x-rate-limit-reset",
        ],
        concurrency: 75,
        time_scale,
    }
}

/// The rate-limit bucket Okta puts a request in.
pub fn okta_bucket(method: &Method, path: &str) -> String {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["api", "v1", "users"] if method == Method::GET => "users".into(),
        ["api", "v1", "users", _] => "user".into(),
        ["api", "v1", "groups", ..] => "groups".into(),
        ["api", "v1", "apps", ..] => "apps".into(),
        ["api", "v1", "authorizationServers", ..] => "authorizationServers".into(),
        ["api", "v1", "policies", ..] => "policies".into(),
        _ => "default".into(),
    }
}

#[derive(Debug, Default)]
struct Org {
    collections: BTreeMap<String, Vec<Value>>,
    singletons: BTreeMap<String, Value>,
    members: BTreeMap<String, BTreeSet<String>>,
    /// User id -> position in the users collection.
    user_index: std::collections::HashMap<String, usize>,
    everyone: String,
    sentinels: Vec<String>,
    tokens: BTreeMap<String, BTreeSet<String>>,
    next_id: u64,
    governance: bool,
}

fn okta_error(status: u16, code: &str, summary: &str) -> FakeResponse {
    FakeResponse::status(
        status,
        json!({"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oaeFakeTenant0000000000", "errorCauses": []}),
    )
}

fn ts(day: u32) -> String {
    format!("2025-{:02}-{:02}T10:00:00.000Z", 1 + day % 12, 1 + day % 28)
}

struct Gen {
    rng: ChaCha8Rng,
    counter: u64,
    org: Org,
}

impl Gen {
    fn id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let tail: String = (0..(17 - prefix.len().min(3)))
            .map(|_| ALPHA[self.rng.random_range(0..ALPHA.len())] as char)
            .collect();
        format!("{prefix}{tail}{}", self.counter % 10)
    }
    fn sentinel(&mut self, what: &str) -> String {
        let s = sentinel(&mut self.rng, what);
        self.org.sentinels.push(s.clone());
        s
    }
    fn push(&mut self, path: &str, item: Value) {
        self.org
            .collections
            .entry(path.to_string())
            .or_default()
            .push(item);
    }
}

fn links(base: &str, path: &str, id: &str) -> Value {
    json!({"self": {"href": format!("{base}{path}/{id}")}})
}

/// Generates an org. Same spec, same org.
fn generate(spec: &OktaOrgSpec) -> Org {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(spec.seed),
        counter: 0,
        org: Org {
            governance: spec.governance,
            ..Org::default()
        },
    };
    let base = "https://fake.okta.example";
    let depts = [
        "Engineering",
        "Sales",
        "Finance",
        "Support",
        "Legal",
        "Marketing",
        "IT",
    ];
    let statuses = [
        ("ACTIVE", 80),
        ("STAGED", 4),
        ("PROVISIONED", 4),
        ("SUSPENDED", 4),
        ("DEPROVISIONED", 4),
        ("LOCKED_OUT", 2),
        ("PASSWORD_EXPIRED", 2),
    ];
    let mut user_ids = Vec::new();
    for i in 0..spec.users {
        let id = g.id("00u");
        let roll = g.rng.random_range(0..100);
        let mut acc = 0;
        let status = statuses
            .iter()
            .find(|(_, p)| {
                acc += p;
                roll < acc
            })
            .map_or("ACTIVE", |(s, _)| *s);
        let dept = depts[g.rng.random_range(0..depts.len())];
        let user = json!({
            "id": id, "status": status, "created": ts(i as u32), "activated": ts(i as u32 + 1), "statusChanged": ts(i as u32 + 2),
            "lastLogin": ts(i as u32 + 3), "lastUpdated": ts(i as u32 + 4), "passwordChanged": ts(i as u32 + 5),
            "type": {"id": "oty1defaultusertype0"},
            "profile": {"firstName": format!("First{i}"), "lastName": format!("Last{i}"), "mobilePhone": null, "secondEmail": null,
                "login": format!("user{i}@example.com"), "email": format!("user{i}@example.com"), "department": dept},
            "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
            "_links": links(base, "/api/v1/users", &id)
        });
        user_ids.push((id, status));
        g.push("/api/v1/users", user);
    }
    // Groups: about 2% of users, skewed sizes; Everyone is built in.
    let everyone = g.id("00g");
    g.org.everyone = everyone.clone();
    g.push("/api/v1/groups", json!({"id": everyone, "created": ts(0), "lastUpdated": ts(1), "lastMembershipUpdated": ts(2), "objectClass": ["okta:user_group"], "type": "BUILT_IN", "profile": {"name": "Everyone", "description": "All users in your organization"}, "_links": links(base, "/api/v1/groups", &everyone)}));
    let n_groups = (spec.users / 50).max(3);
    let mut group_ids = Vec::new();
    for i in 0..n_groups {
        let id = g.id("00g");
        let app_group = i % 17 == 16;
        g.push("/api/v1/groups", json!({"id": id, "created": ts(i as u32), "lastUpdated": ts(i as u32 + 1), "lastMembershipUpdated": ts(i as u32 + 2), "objectClass": ["okta:user_group"],
            "type": if app_group { "APP_GROUP" } else { "OKTA_GROUP" },
            "profile": {"name": if i == 0 { "Admins".to_string() } else { format!("{} team {i}", depts[i % depts.len()]) }, "description": format!("Group {i}")},
            "_links": links(base, "/api/v1/groups", &id)}));
        // Power-law sizes: a few big groups, many small ones.
        let size = ((spec.users as f64) / ((i + 2) as f64).powf(1.2)).ceil() as usize;
        let mut members = BTreeSet::new();
        for _ in 0..size.min(spec.users) {
            let (uid, status) = &user_ids[g.rng.random_range(0..user_ids.len())];
            if *status != "DEPROVISIONED" {
                members.insert(uid.clone());
            }
        }
        g.org.members.insert(id.clone(), members);
        group_ids.push(id);
    }
    let admins = group_ids[0].clone();
    // Group owners (GroupOwner): every third group is owned by an active user.
    let active: Vec<String> = user_ids
        .iter()
        .filter(|(_, s)| *s == "ACTIVE")
        .map(|(u, _)| u.clone())
        .collect();
    for (i, gid) in group_ids.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        if active.is_empty() {
            break;
        }
        let owner = &active[i % active.len()];
        g.push(&format!("/api/v1/groups/{gid}/owners"), json!({"id": owner, "type": "USER", "displayName": format!("Owner of group {i}"), "originType": "OKTA_DIRECTORY", "resolved": true, "lastUpdated": ts(3)}));
    }
    for i in 0..(n_groups / 4).max(2) {
        let id = g.id("0pr");
        let target = group_ids[(i + 1) % group_ids.len()].clone();
        g.push("/api/v1/groups/rules", json!({"id": id, "type": "group_rule", "status": if i % 5 == 4 { "INACTIVE" } else { "ACTIVE" }, "name": format!("Rule {i}"),
            "created": ts(i as u32), "lastUpdated": ts(i as u32 + 1),
            "conditions": {"people": {"users": {"exclude": []}, "groups": {"exclude": []}}, "expression": {"value": format!("user.department==\"{}\"", depts[i % depts.len()]), "type": "urn:okta:expression:1.0"}},
            "actions": {"assignUserToGroups": {"groupIds": [target]}}}));
    }
    // Network zones, authenticators.
    let mut zones = Vec::new();
    for (i, name) in ["LegacyIpZone", "BlockedIpZone", "Office", "VPN"]
        .iter()
        .enumerate()
    {
        let id = g.id("nzo");
        zones.push(id.clone());
        let dynamic = i == 1;
        g.push("/api/v1/zones", json!({"id": id, "type": if dynamic { "DYNAMIC" } else { "IP" }, "name": name, "status": "ACTIVE", "usage": if dynamic { "BLOCKLIST" } else { "POLICY" },
            "system": i < 2, "created": ts(i as u32), "lastUpdated": ts(i as u32),
            "gateways": [{"type": "CIDR", "value": format!("203.0.113.{}/32", i + 1)}], "proxies": null, "_links": links(base, "/api/v1/zones", &id)}));
    }
    let mut authenticators = Vec::new();
    for (key, name) in [
        ("okta_password", "Password"),
        ("okta_email", "Email"),
        ("okta_verify", "Okta Verify"),
        ("webauthn", "Security Key or Biometric"),
        ("phone_number", "Phone"),
    ] {
        let id = g.id("aut");
        authenticators.push(id.clone());
        g.push("/api/v1/authenticators", json!({"id": id, "key": key, "name": name, "type": if key == "okta_password" { "password" } else { "app" }, "status": "ACTIVE", "created": ts(1), "lastUpdated": ts(2), "settings": {}, "_links": links(base, "/api/v1/authenticators", &id)}));
    }
    // Apps: one per ~100 users, plus system apps.
    let n_apps = (spec.users / 100).max(2);
    let mut app_ids = Vec::new();
    for (name, label) in [
        ("okta_enduser", "Okta Dashboard"),
        ("saasure", "Okta Admin Console"),
    ] {
        let id = g.id("0oa");
        g.push("/api/v1/apps", json!({"id": id, "name": name, "label": label, "status": "ACTIVE", "signOnMode": "OPENID_CONNECT", "created": ts(0), "lastUpdated": ts(0), "features": [], "visibility": {"hide": {"iOS": true, "web": true}}, "settings": {}, "credentials": {"userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"}}, "_links": links(base, "/api/v1/apps", &id)}));
    }
    for i in 0..n_apps {
        let id = g.id("0oa");
        let kind = i % 3;
        let app = match kind {
            0 => {
                let secret = g.sentinel("oidc-client-secret");
                json!({"id": id, "name": "oidc_client", "label": format!("OIDC App {i}"), "status": "ACTIVE", "signOnMode": "OPENID_CONNECT", "created": ts(i as u32), "lastUpdated": ts(i as u32),
                    "credentials": {"userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"}, "oauthClient": {"client_id": id, "client_secret": secret, "token_endpoint_auth_method": "client_secret_basic", "autoKeyRotation": true}},
                    "settings": {"oauthClient": {"redirect_uris": [format!("https://app{i}.example.com/callback")], "grant_types": ["authorization_code"], "response_types": ["code"], "application_type": "web"}},
                    "visibility": {"autoSubmitToolbar": false, "hide": {"iOS": false, "web": false}}, "features": [], "_links": links(base, "/api/v1/apps", &id)})
            }
            1 => {
                let key = g.sentinel("saml-signing-key");
                json!({"id": id, "name": format!("saml_app_{i}"), "label": format!("SAML App {i}"), "status": "ACTIVE", "signOnMode": "SAML_2_0", "created": ts(i as u32), "lastUpdated": ts(i as u32),
                    "credentials": {"signing": {"kid": format!("kid{i}"), "privateKey": key}, "userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"}},
                    "settings": {"signOn": {"ssoAcsUrl": format!("https://saml{i}.example.com/acs"), "audience": format!("https://saml{i}.example.com"), "attributeStatements": [{"type": "EXPRESSION", "name": "email", "values": ["user.email"]}]}},
                    "features": if i % 2 == 1 { json!(["PUSH_NEW_USERS", "PUSH_PROFILE_UPDATES"]) } else { json!([]) },
                    "_links": links(base, "/api/v1/apps", &id)})
            }
            _ => {
                json!({"id": id, "name": "bookmark", "label": format!("Bookmark {i}"), "status": if i % 7 == 6 { "INACTIVE" } else { "ACTIVE" }, "signOnMode": "BOOKMARK", "created": ts(i as u32), "lastUpdated": ts(i as u32),
                "settings": {"app": {"url": format!("https://intranet{i}.example.com"), "requestIntegration": false}}, "features": [], "_links": links(base, "/api/v1/apps", &id)})
            }
        };
        g.push("/api/v1/apps", app.clone());
        if app["features"].as_array().is_some_and(|f| !f.is_empty()) {
            g.push(&format!("/api/v1/apps/{id}/features"), json!({"name": "USER_PROVISIONING", "status": "ENABLED", "description": "User provisioning settings", "capabilities": {"create": {"lifecycleCreate": {"status": "ENABLED"}}}}));
        }
        g.org.singletons.insert(format!("/api/v1/meta/schemas/apps/{id}/default"), json!({"id": format!("https://fake.okta.example/meta/schemas/apps/{id}/default"), "name": format!("app{i}"), "title": "App user", "type": "object",
            "definitions": {"base": {"id": "#base", "type": "object", "properties": {"userName": {"title": "Username", "type": "string"}}}, "custom": {"id": "#custom", "type": "object", "properties": {}}}}));
        for _ in 0..(spec.users / 50).clamp(2, 600) {
            let (uid, status) = user_ids[g.rng.random_range(0..user_ids.len())].clone();
            if status == "DEPROVISIONED"
                || g.org
                    .collections
                    .get(&format!("/api/v1/apps/{id}/users"))
                    .is_some_and(|v| v.iter().any(|u| u["id"] == uid.as_str()))
            {
                continue;
            }
            g.push(&format!("/api/v1/apps/{id}/users"), json!({"id": uid, "scope": "USER", "status": "ACTIVE", "created": ts(3), "lastUpdated": ts(4), "statusChanged": ts(4), "syncState": "DISABLED", "credentials": {"userName": format!("{uid}@example.com")}, "profile": {}, "_links": {}}));
        }
        for k in 0..2 {
            let gid = group_ids[(i + k) % group_ids.len()].clone();
            if k == 1 && group_ids.len() < 2 {
                break;
            }
            g.push(&format!("/api/v1/apps/{id}/groups"), json!({"id": gid, "priority": k, "lastUpdated": ts(5), "profile": {}, "_links": {}}));
        }
        app_ids.push(id);
    }
    // Policies of every type with rules naming groups, users, zones and authenticators.
    let admin_user = user_ids
        .iter()
        .find(|(_, s)| *s == "ACTIVE")
        .map(|(u, _)| u.clone())
        .unwrap_or_default();
    for (ti, ptype) in [
        "OKTA_SIGN_ON",
        "PASSWORD",
        "MFA_ENROLL",
        "ACCESS_POLICY",
        "IDP_DISCOVERY",
        "PROFILE_ENROLLMENT",
    ]
    .iter()
    .enumerate()
    {
        for j in 0..2 {
            let id = g.id("00p");
            let system = j == 0;
            let mut policy = json!({"id": id, "type": ptype, "status": "ACTIVE", "name": if system { format!("Default {ptype} Policy") } else { format!("{ptype} for admins") },
                "priority": j + 1, "system": system, "created": ts(ti as u32), "lastUpdated": ts(ti as u32 + 1),
                "settings": if *ptype == "PASSWORD" { json!({"password": {"complexity": {"minLength": 12}}}) } else { json!({}) },
                "_links": links(base, "/api/v1/policies", &id)});
            // Only policies scoped to people carry conditions (no nulls: the spec's types are not nullable).
            if !(system || *ptype == "ACCESS_POLICY" || *ptype == "PROFILE_ENROLLMENT") {
                policy["conditions"] = json!({"people": {"groups": {"include": [admins]}}});
            }
            g.push("/api/v1/policies", policy);
            for r in 0..2 {
                let rid = g.id("0pr");
                let zone = zones[2 + r % 2].clone();
                let rule = json!({"id": rid, "status": "ACTIVE", "name": format!("Rule {r}"), "priority": r + 1, "system": false, "type": if *ptype == "ACCESS_POLICY" { "ACCESS_POLICY" } else if *ptype == "OKTA_SIGN_ON" { "SIGN_ON" } else { ptype },
                    "created": ts(r as u32), "lastUpdated": ts(r as u32 + 1),
                    "conditions": {"people": {"groups": {"include": [admins.clone()], "exclude": []}, "users": {"include": if r == 0 { json!([admin_user.clone()]) } else { json!([]) }, "exclude": []}},
                        "network": {"connection": "ZONE", "include": [zone], "exclude": []}},
                    "actions": if *ptype == "OKTA_SIGN_ON" { json!({"signon": {"access": "ALLOW", "requireFactor": true, "factorPromptMode": "ALWAYS", "session": {"maxSessionIdleMinutes": 120}}}) }
                        else if *ptype == "ACCESS_POLICY" { json!({"appSignOn": {"access": "ALLOW", "verificationMethod": {"type": "AUTH_METHOD_CHAIN", "chains": [{"authenticationMethods": [{"key": "okta_verify", "method": "push", "id": authenticators[2].clone()}]}]}}}) }
                        else { json!({}) }});
                g.push(&format!("/api/v1/policies/{id}/rules"), rule);
            }
        }
    }
    for (i, (name, origin)) in [
        ("Corp portal", "https://portal.example.com"),
        ("Docs", "https://docs.example.com"),
    ]
    .iter()
    .enumerate()
    {
        let id = g.id("tos");
        g.push("/api/v1/trustedOrigins", json!({"id": id, "name": name, "origin": origin, "scopes": [{"type": "CORS"}, {"type": "REDIRECT"}], "status": "ACTIVE", "created": ts(i as u32), "lastUpdated": ts(i as u32), "_links": links(base, "/api/v1/trustedOrigins", &id)}));
    }
    for (i, name) in ["New City", "New Device"].iter().enumerate() {
        let id = g.id("abr");
        g.push("/api/v1/behaviors", json!({"id": id, "name": name, "type": if i == 0 { "ANOMALOUS_LOCATION" } else { "ANOMALOUS_DEVICE" }, "status": "ACTIVE", "settings": {"maxEventsUsedForEvaluation": 20}, "_links": {}}));
    }
    let id = g.id("dae");
    g.push("/api/v1/device-assurances", json!({"id": id, "name": "Managed macOS", "platform": "MACOS", "osVersion": {"minimum": "14.0.0"}, "diskEncryptionType": {"include": ["ALL_INTERNAL_VOLUMES"]}, "screenLockType": {"include": ["PASSCODE"]}, "createdDate": ts(1), "lastUpdate": ts(2), "_links": {}}));
    let id = g.id("rkp");
    g.push("/api/v1/risk/providers", json!({"id": id, "name": "Risk provider", "action": "log_only", "clientId": "0oaRiskProviderClient1", "created": ts(1), "lastUpdated": ts(1), "_links": {}}));
    let (id, secret) = (g.id("cap"), g.sentinel("captcha-secret"));
    g.push("/api/v1/captchas", json!({"id": id, "name": "hCaptcha", "type": "HCAPTCHA", "siteKey": "10000000-ffff-ffff-ffff-000000000001", "secretKey": secret, "_links": {}}));
    let (id, key) = (g.id("ppc"), g.sentinel("apns-key"));
    g.push("/api/v1/push-providers", json!({"id": id, "name": "APNs", "providerType": "APNS", "lastUpdatedDate": ts(3), "configuration": {"keyId": "ABC123DEFG", "teamId": "DEF123GHIJ", "tokenSigningKey": key, "fileName": "AuthKey.p8"}, "_links": {}}));
    // Authorization servers with claims, scopes, policies and rules.
    for (i, name) in ["default", "Partner API"].iter().enumerate() {
        let id = g.id("aus");
        g.push("/api/v1/authorizationServers", json!({"id": id, "name": name, "description": format!("{name} authorization server"), "audiences": [format!("api://{i}")], "issuer": format!("{base}/oauth2/{id}"), "issuerMode": "ORG_URL", "status": "ACTIVE", "created": ts(1), "lastUpdated": ts(2), "credentials": {"signing": {"rotationMode": "AUTO", "kid": format!("kid-as-{i}")}}, "_links": links(base, "/api/v1/authorizationServers", &id)}));
        let base_path = format!("/api/v1/authorizationServers/{id}");
        for claim in ["email", "groups"] {
            let cid = g.id("ocl");
            g.push(&format!("{base_path}/claims"), json!({"id": cid, "name": claim, "status": "ACTIVE", "claimType": "IDENTITY", "valueType": "EXPRESSION", "value": format!("user.{claim}"), "alwaysIncludeInToken": true, "system": false, "conditions": {"scopes": []}, "_links": {}}));
        }
        for scope in ["read:reports", "write:reports"] {
            let sid = g.id("scp");
            g.push(&format!("{base_path}/scopes"), json!({"id": sid, "name": scope, "description": scope, "system": false, "metadataPublish": "ALL_CLIENTS", "consent": "IMPLICIT", "default": false, "_links": {}}));
        }
        let pid = g.id("00p");
        let client = app_ids.first().cloned().unwrap_or_default();
        g.push(&format!("{base_path}/policies"), json!({"id": pid, "type": "OAUTH_AUTHORIZATION_POLICY", "status": "ACTIVE", "name": "Default Policy", "description": "Default", "priority": 1, "system": false, "conditions": {"clients": {"include": [client]}}, "created": ts(1), "lastUpdated": ts(1), "_links": {}}));
        let rid = g.id("0pr");
        g.push(&format!("{base_path}/policies/{pid}/rules"), json!({"id": rid, "type": "RESOURCE_ACCESS", "status": "ACTIVE", "name": "Allow all", "priority": 1, "system": false,
            "conditions": {"people": {"groups": {"include": [everyone.clone()]}}, "grantTypes": {"include": ["client_credentials", "authorization_code"]}, "scopes": {"include": ["*"]}},
            "actions": {"token": {"accessTokenLifetimeMinutes": 60, "refreshTokenLifetimeMinutes": 0, "refreshTokenWindowMinutes": 10080}}, "created": ts(1), "lastUpdated": ts(1), "_links": {}}));
    }
    // Identity providers, roles, hooks, streams.
    let (id, secret) = (g.id("0oa"), g.sentinel("idp-client-secret"));
    g.push("/api/v1/idps", json!({"id": id, "type": "GOOGLE", "name": "Google", "status": "ACTIVE", "created": ts(1), "lastUpdated": ts(1), "issuerMode": "ORG_URL",
        "protocol": {"type": "OIDC", "scopes": ["openid", "email", "profile"], "credentials": {"client": {"client_id": "google-client-id", "client_secret": secret}}},
        "policy": {"provisioning": {"action": "AUTO", "groups": {"action": "NONE"}}, "subject": {"userNameTemplate": {"template": "idpuser.email"}, "matchType": "USERNAME"}, "maxClockSkew": 0}, "_links": {}}));
    let role = g.id("cr0");
    g.push("/api/v1/iam/roles", json!({"id": role, "label": "Help desk", "description": "Reset passwords", "created": ts(1), "lastUpdated": ts(1), "_links": {}}));
    for permission in ["okta.users.read", "okta.users.credentials.resetPassword"] {
        g.push(&format!("/api/v1/iam/roles/{role}/permissions"), json!({"label": permission, "created": ts(1), "lastUpdated": ts(1),
            "_links": {"self": {"href": format!("{base}/api/v1/iam/roles/{role}/permissions/{permission}")}, "role": {"href": format!("{base}/api/v1/iam/roles/{role}")}}}));
    }
    let rs = g.id("iam");
    g.push("/api/v1/iam/resource-sets", json!({"id": rs, "label": "Engineering groups", "description": "Groups of engineering", "created": ts(1), "lastUpdated": ts(1), "_links": {}}));
    for (uid, role_type) in user_ids
        .iter()
        .filter(|(_, s)| *s == "ACTIVE")
        .take(3)
        .map(|(u, _)| u.clone())
        .zip(["SUPER_ADMIN", "ORG_ADMIN", "HELP_DESK_ADMIN"])
    {
        g.push(
            "/api/v1/iam/assignees/users",
            json!({"id": uid, "orn": format!("orn:okta:directory:fake:users:{uid}"), "_links": {}}),
        );
        let ra = g.id("ra1");
        g.push(&format!("/api/v1/users/{uid}/roles"), json!({"id": ra, "label": role_type, "type": role_type, "status": "ACTIVE", "created": ts(1), "lastUpdated": ts(1), "assignmentType": "USER", "_links": {}}));
    }
    for (path, prefix, name) in [
        ("/api/v1/eventHooks", "who", "SIEM forwarder"),
        ("/api/v1/inlineHooks", "cal", "Token enrichment"),
    ] {
        let (id, secret) = (g.id(prefix), g.sentinel("hook-auth"));
        let header = g.sentinel("hook-header");
        let mut hook = json!({"id": id, "name": name, "status": "ACTIVE", "verificationStatus": "VERIFIED", "created": ts(1), "lastUpdated": ts(1),
            "channel": {"type": "HTTP", "version": "1.0.0", "config": {"uri": "https://hooks.example.com/okta", "headers": [{"key": "X-Api-Key", "value": header}], "authScheme": {"type": "HEADER", "key": "Authorization", "value": secret}}}, "_links": {}});
        if prefix == "who" {
            hook["events"] = json!({"type": "EVENT_TYPE", "items": ["user.lifecycle.create", "user.lifecycle.deactivate"]});
        } else {
            hook["type"] = json!("com.okta.oauth2.tokens.transform");
        }
        g.push(path, hook);
    }
    let id = g.id("hks");
    g.push("/api/v1/hook-keys", json!({"id": id, "keyId": "7fbc27fd-e3df-4522-86bf-1930110256ad", "name": "hook key", "isUsed": "true", "created": ts(1), "lastUpdated": ts(1)}));
    let id = g.id("0oa");
    // The HEC token has a UUID format; the sentinel keeps it (Okta never returns it anyway).
    let token = format!(
        "5e571e10-{:04x}-4000-8000-{:012x}",
        g.rng.random_range(0..0xffffu32),
        g.rng.random_range(0..0xffff_ffff_ffffu64)
    );
    g.org.sentinels.push(token.clone());
    g.push("/api/v1/logStreams", json!({"id": id, "type": "splunk_cloud_logstreaming", "name": "Splunk", "status": "ACTIVE", "created": ts(1), "lastUpdated": ts(1), "settings": {"host": "acme.splunkcloud.com", "edition": "aws", "token": token},
        "_links": {"self": {"href": format!("{base}/api/v1/logStreams/{id}"), "method": "GET"}, "deactivate": {"href": format!("{base}/api/v1/logStreams/{id}/lifecycle/deactivate"), "method": "POST"}}}));
    let id = g.id("sse");
    g.push("/api/v1/security-events-providers", json!({"id": id, "name": "Security vendor", "type": "generic", "status": "ACTIVE", "settings": {"issuer": "https://vendor.example.com", "well_known_url": "https://vendor.example.com/.well-known/ssf-configuration"}, "_links": {}}));
    let id = g.id("esc");
    g.push("/api/v1/ssf/stream", json!({"stream_id": id, "aud": "https://receiver.example.com", "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": "https://receiver.example.com/events"}, "events_requested": ["https://schemas.openid.net/secevent/caep/event-type/session-revoked"], "events_delivered": [], "iss": base, "min_verification_interval": 0}));
    // Branding.
    let brand = g.id("bnd");
    g.push("/api/v1/brands", json!({"id": brand, "name": "Acme", "isDefault": true, "removePoweredByOkta": false, "agreeToCustomPrivacyPolicy": false, "locale": "en", "defaultApp": {}, "_links": {}}));
    let theme = g.id("thm");
    g.push(&format!("/api/v1/brands/{brand}/themes"), json!({"id": theme, "primaryColorHex": "#1662dd", "secondaryColorHex": "#ebebed", "signInPageTouchPointVariant": "OKTA_DEFAULT", "endUserDashboardTouchPointVariant": "OKTA_DEFAULT", "errorPageTouchPointVariant": "OKTA_DEFAULT", "emailTemplateTouchPointVariant": "OKTA_DEFAULT", "loadingPageTouchPointVariant": "OKTA_DEFAULT", "_links": {}}));
    for template in ["UserActivation", "ForgotPassword"] {
        g.push(
            &format!("/api/v1/brands/{brand}/templates/email"),
            json!({"name": template, "_links": {}}),
        );
        let cid = g.id("oel");
        g.push(&format!("/api/v1/brands/{brand}/templates/email/{template}/customizations"), json!({"id": cid, "language": "en", "isDefault": true, "subject": format!("{template} for ${{user.profile.firstName}}"), "body": "<html><body>${activationLink}</body></html>", "created": ts(1), "lastUpdated": ts(1), "_links": {}}));
    }
    let id = g.id("OcD");
    g.push("/api/v1/domains", json!({"id": id, "domain": "login.acme.example", "certificateSourceType": "OKTA_MANAGED", "validationStatus": "VERIFIED", "brandId": brand, "dnsRecords": [{"recordType": "CNAME", "fqdn": "login.acme.example", "values": ["acme.customdomains.okta.com"]}], "_links": {}}));
    let id = g.id("OeD");
    g.push("/api/v1/email-domains", json!({"id": id, "domain": "mail.acme.example", "displayName": "Acme", "userName": "noreply", "validationStatus": "VERIFIED", "validationSubdomain": "mail", "dnsValidationRecords": []}));
    let id = g.id("cst");
    g.push("/api/v1/templates/sms", json!({"id": id, "name": "Custom SMS", "type": "SMS_VERIFY_CODE", "template": "${org.name}: your code is ${code}", "translations": {"fr": "${org.name}: votre code est ${code}"}, "created": ts(1), "lastUpdated": ts(1)}));
    let (id, pw) = (g.id("qq0"), g.sentinel("smtp-password"));
    g.push("/api/v1/email-servers", json!({"id": id, "alias": "Corporate SMTP", "host": "smtp.acme.example", "port": 587, "username": "okta-relay", "password": pw, "authType": "BASIC_SMTP_AUTH"}));
    let (id, token) = (g.id("tpr"), g.sentinel("twilio-token"));
    g.push("/api/v1/telephony-providers", json!({"id": id, "name": "Twilio", "provider": "TWILIO", "settings": {"accountSid": "AC00000000000000000000000000000000", "authToken": token}}));
    for (name, status) in [
        ("Okta Identity Engine", "ENABLED"),
        ("Early access feature", "DISABLED"),
    ] {
        let id = g.id("ftr");
        g.push("/api/v1/features", json!({"id": id, "name": name, "type": "self-service", "stage": {"value": "EA"}, "status": status, "description": name, "_links": {}}));
    }
    let id = g.id("0oa");
    g.push("/api/v1/agentPools", json!({"id": id, "name": "AD agents", "type": "AD", "operationalStatus": "OPERATIONAL", "disruptedAgents": 0, "inactiveAgents": 0, "agents": []}));
    let realm = g.id("guo");
    g.push("/api/v1/realms", json!({"id": realm, "isDefault": false, "profile": {"name": "Contractors", "realmType": "PARTNER"}, "created": ts(1), "lastUpdated": ts(1), "_links": {}}));
    let id = g.id("rul");
    g.push("/api/v1/realm-assignments", json!({"id": id, "name": "Contractors by domain", "status": "ACTIVE", "isDefault": false, "priority": 1, "actions": {"assignUserToRealm": {"realmId": realm}},
        "conditions": {"profileSourceId": "0oaFakeProfileSource", "expression": {"value": "user.profile.login.substringAfter('@') == 'contractor.example.com'"}}, "created": ts(1), "lastUpdated": ts(1), "_links": {}}));
    for (path, prefix, name) in [
        ("/api/v1/meta/types/user", "oty", "Contractor"),
        ("/api/v1/meta/uischemas", "uis", "Signup form"),
    ] {
        let id = g.id(prefix);
        let mut item = json!({"id": id, "name": name, "displayName": name, "description": name, "default": false, "created": ts(1), "lastUpdated": ts(1), "_links": {}});
        if prefix == "uis" {
            item["uiSchema"] = json!({"type": "Group", "buttonLabel": "Submit", "label": "Sign up", "elements": [{"type": "Control", "scope": "#/properties/firstName", "label": "First name"}]});
        }
        g.push(path, item);
    }
    let id = g.id("prm");
    g.push("/api/v1/mappings", json!({"id": id, "source": {"id": app_ids[0], "name": "oidc_client", "type": "appuser"}, "target": {"id": "oty1defaultusertype0", "name": "user", "type": "user"}, "properties": {"department": {"expression": "appuser.department", "pushStatus": "PUSH"}}, "_links": {}}));
    g.push("/api/v1/meta/schemas/user/linkedObjects", json!({"primary": {"name": "manager", "title": "Manager", "description": "Manager", "type": "USER"}, "associated": {"name": "subordinate", "title": "Subordinate", "description": "Subordinate", "type": "USER"}, "_links": {}}));
    let id = g.id("0oa");
    let secret = g.sentinel("dcr-client-secret");
    g.push("/oauth2/v1/clients", json!({"client_id": id, "client_name": "Dynamic client", "client_secret": secret, "client_id_issued_at": 1700000000, "redirect_uris": ["https://dcr.example.com/cb"], "grant_types": ["authorization_code"], "response_types": ["code"], "token_endpoint_auth_method": "client_secret_basic", "application_type": "web"}));
    if spec.governance {
        for (path, prefix, name) in [
            (
                "/governance/api/v1/campaigns",
                "icl",
                "Quarterly access review",
            ),
            ("/governance/api/v1/requests", "req", "Access to Salesforce"),
            ("/api/v1/iam/governance/bundles", "enb", "Finance bundle"),
        ] {
            let id = g.id(prefix);
            g.push(path, json!({"id": id, "name": name, "status": "ACTIVE", "created": ts(1), "lastUpdated": ts(1), "_links": {}}));
        }
    }
    // ThreatInsight audits, leaving the first (system) zone alone; two API tokens of the admin,
    // shaped as recorded (`_links`, though the spec says `_link`).
    let trusted_zone = g.org.collections["/api/v1/zones"][0]["id"].clone();
    g.org.singletons.insert("/api/v1/threats/configuration".into(), json!({"action": "audit", "excludeZones": [trusted_zone], "created": ts(0), "lastUpdated": ts(1), "_links": {"self": {"href": format!("{base}/api/v1/threats/configuration"), "hints": {"allow": ["GET", "POST"]}}}}));
    for (i, (name, client)) in [("terraform", "Okta API"), ("scim-bridge", "Okta API")]
        .into_iter()
        .enumerate()
    {
        let id = g.id("00T");
        g.push("/api/v1/api-tokens", json!({"id": id, "name": name, "userId": admin_user, "clientName": client, "created": ts(i as u32), "lastUpdated": ts(i as u32 + 1), "expiresAt": ts(i as u32 + 30), "tokenWindow": "P30D", "network": {"connection": "ANYWHERE"}, "_links": {"self": {"href": format!("{base}/api/v1/api-tokens/{id}"), "hints": {"allow": ["GET", "DELETE"]}}, "user": {"href": format!("{base}/api/v1/users/{admin_user}"), "hints": {"allow": ["GET"]}}}}));
    }
    g.org.singletons.insert("/api/v1/org".into(), json!({"id": "00ofakeorg0000000000", "companyName": "Acme", "subdomain": "acme", "status": "ACTIVE", "website": "https://acme.example", "phoneNumber": "+1-555-0100", "address1": "1 Main St", "city": "Springfield", "country": "United States", "postalCode": "00000", "supportPhoneNumber": "+1-555-0199", "created": ts(0), "lastUpdated": ts(1), "_links": {}}));
    g.org.singletons.insert("/api/v1/meta/schemas/user/default".into(), json!({"id": format!("{base}/meta/schemas/user/default"), "$schema": "http://json-schema.org/draft-04/schema#", "name": "user", "title": "User", "type": "object", "created": ts(0), "lastUpdated": ts(1),
        "definitions": {"base": {"id": "#base", "type": "object", "properties": {"login": {"title": "Username", "type": "string", "required": true}}, "required": ["login"]}, "custom": {"id": "#custom", "type": "object", "properties": {"costCenter": {"title": "Cost center", "type": "string"}}, "required": []}}}));
    g.org.singletons.insert("/api/v1/meta/schemas/group/default".into(), json!({"id": format!("{base}/meta/schemas/group/default"), "$schema": "http://json-schema.org/draft-04/schema#", "name": "group", "title": "Okta group", "type": "object", "created": ts(0), "lastUpdated": ts(1),
        "definitions": {"base": {"id": "#base", "type": "object", "properties": {"name": {"title": "Name", "type": "string"}}}, "custom": {"id": "#custom", "type": "object", "properties": {}}}}));
    g.org.next_id = g.counter;
    g.org.reindex_users();
    g.org
}

impl Org {
    fn reindex_users(&mut self) {
        self.user_index = self
            .collections
            .get("/api/v1/users")
            .map(|users| {
                users
                    .iter()
                    .enumerate()
                    .map(|(i, u)| (item_id(u), i))
                    .collect()
            })
            .unwrap_or_default();
    }
}

struct OktaApi {
    org: Arc<Mutex<Org>>,
    api_token: String,
    client_id: String,
    withheld: BTreeSet<String>,
}

fn item_id(item: &Value) -> String {
    ["id", "client_id", "stream_id", "name", "label"]
        .iter()
        .find_map(|k| item.get(*k).and_then(Value::as_str))
        .or_else(|| item.pointer("/primary/name").and_then(Value::as_str))
        .unwrap_or_default()
        .to_string()
}

impl OktaApi {
    fn granted(&self, req: &FakeRequest, org: &Org) -> Result<BTreeSet<String>, FakeResponse> {
        let auth = req.header("authorization").unwrap_or_default();
        // okta-sdk-python 3.4 sends `SSWS<token>` without the space its own recorded cassettes
        // show; accept both so the SDK can be benchmarked against the fake.
        if let Some(token) = auth.strip_prefix("SSWS").map(str::trim_start) {
            if token == self.api_token {
                return Ok(BTreeSet::from(["*".to_string()]));
            }
        } else if let Some(token) = auth.strip_prefix("Bearer ")
            && let Some(scopes) = org.tokens.get(token)
        {
            return Ok(scopes.clone());
        }
        Err(okta_error(401, "E0000011", "Invalid token provided"))
    }

    fn token(&self, req: &FakeRequest, org: &mut Org) -> FakeResponse {
        let form: BTreeMap<String, String> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        let bad = |d: &str| {
            FakeResponse::status(
                400,
                json!({"error": "invalid_client", "error_description": d}),
            )
        };
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return FakeResponse::status(
                400,
                json!({"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}),
            );
        }
        if form.get("client_assertion_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return bad("client_assertion_type must be jwt-bearer");
        }
        let Some(assertion) = form.get("client_assertion") else {
            return bad("missing client_assertion");
        };
        // The audience is checked below by suffix: the fake does not know its public name.
        let claims = match verify_test_assertion(assertion) {
            Ok(claims) => claims,
            Err(AssertionError::Key) => return bad("server key"),
            Err(AssertionError::Invalid(e)) => {
                return bad(&format!("The client_assertion signature is invalid: {e}"));
            }
        };
        if claims["iss"] != self.client_id.as_str() || claims["sub"] != self.client_id.as_str() {
            return bad("The client_assertion token has an invalid issuer or subject");
        }
        if !claims["aud"]
            .as_str()
            .is_some_and(|a| a.ends_with("/oauth2/v1/token"))
        {
            return bad("The audience claim for client_assertion must be the endpoint invoked");
        }
        let requested: BTreeSet<String> = form
            .get("scope")
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let granted: BTreeSet<String> = requested
            .iter()
            .filter(|s| !self.withheld.contains(*s))
            .cloned()
            .collect();
        org.next_id += 1;
        let token = format!("fake-access-token-{}", org.next_id);
        org.tokens.insert(token.clone(), granted.clone());
        FakeResponse::ok(
            json!({"token_type": "Bearer", "expires_in": 3600, "access_token": token, "scope": granted.into_iter().collect::<Vec<_>>().join(" ")}),
        )
    }

    fn allowed(&self, granted: &BTreeSet<String>, scope: &str, write: bool) -> bool {
        let (read, manage) = scope_names(scope);
        if self.withheld.contains(&read) || (write && self.withheld.contains(&manage)) {
            return false;
        }
        granted.contains("*") || granted.contains(&manage) || (!write && granted.contains(&read))
    }
}

/// Read and manage scope names of a scope family (the Shared Signals API has no `okta.`).
fn scope_names(family: &str) -> (String, String) {
    let prefix = if family == "ssf" {
        String::new()
    } else {
        "okta.".to_string()
    };
    (
        format!("{prefix}{family}.read"),
        format!("{prefix}{family}.manage"),
    )
}

fn list_page(base: &str, req: &FakeRequest, coll: &Collection, items: Vec<&Value>) -> FakeResponse {
    let Some((default, max)) = coll.paging else {
        let items: Vec<Value> = items.into_iter().cloned().collect();
        return match coll.wrap {
            Some(w) => FakeResponse::ok(
                json!({w: items, "_links": {"self": {"href": format!("{base}{}", req.path)}}}),
            ),
            None => FakeResponse::ok(Value::Array(items)),
        };
    };
    let limit = req
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, max);
    // `after` is an opaque cursor (as Okta documents it): here, the position to resume at.
    let start = match req.param("after") {
        Some(after) => match after
            .strip_prefix("pos")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => n.min(items.len()),
            None => return okta_error(400, "E0000031", "Invalid search criteria."),
        },
        None => 0,
    };
    let page: Vec<Value> = items
        .iter()
        .skip(start)
        .take(limit)
        .map(|v| (*v).clone())
        .collect();
    let mut extra: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| k != "after" && k != "limit")
        .cloned()
        .collect();
    extra.push(("limit".into(), limit.to_string()));
    let q = |pairs: &[(String, String)]| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    let mut resp = FakeResponse::ok(Value::Array(page.clone())).with_header(
        "link",
        format!("<{base}{}?{}>; rel=\"self\"", req.path, q(&extra)),
    );
    if start + limit < items.len() {
        let mut next = extra.clone();
        next.insert(0, ("after".into(), format!("pos{}", start + limit)));
        resp = resp.with_header(
            "link",
            format!("<{base}{}?{}>; rel=\"next\"", req.path, q(&next)),
        );
    }
    resp
}

impl FakeApi for OktaApi {
    fn bucket(&self, method: &Method, path: &str) -> String {
        okta_bucket(method, path)
    }

    fn is_write(&self, method: &Method, path: &str) -> bool {
        *method != Method::GET && path != "/oauth2/v1/token"
    }

    fn rate_limited_body(&self) -> Value {
        json!({"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests.", "errorLink": "E0000047", "errorId": "oaeFakeRateLimit000000", "errorCauses": []})
    }

    fn handle(&self, req: &FakeRequest, base: &str) -> Option<FakeResponse> {
        let mut org = lock(&self.org);
        let response = self.answer(req, base, &mut org);
        if req.method != Method::GET && req.path.starts_with("/api/v1/users") {
            org.reindex_users();
        }
        response
    }
}

impl OktaApi {
    fn answer(&self, req: &FakeRequest, base: &str, org: &mut Org) -> Option<FakeResponse> {
        let path = req.path.trim_end_matches('/').to_string();
        if path == "/oauth2/v1/token" && req.method == Method::POST {
            return Some(self.token(req, org));
        }
        let write = req.method != Method::GET;
        let granted = match self.granted(req, org) {
            Ok(g) => g,
            Err(resp) => return Some(resp),
        };
        let deny = |scope: &str| {
            let (read, manage) = scope_names(scope);
            let needed = if write { manage } else { read };
            okta_error(403, "E0000006", "You do not have permission to perform the requested action").with_header(
                "www-authenticate",
                format!("Bearer authorization_uri=\"{base}/oauth2/v1/authorize\", realm=\"IdpError\", scope=\"{needed}\", error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", resource=\"{path}\""),
            )
        };
        // Singletons.
        if let Some((_, scope)) = SINGLETONS.iter().find(|(t, _)| matches(t, &path)) {
            if !self.allowed(&granted, scope, write) {
                return Some(deny(scope));
            }
            return Some(match req.method {
                Method::GET => match org.singletons.get(&path) {
                    Some(v) => FakeResponse::ok(v.clone()),
                    None => okta_error(
                        404,
                        "E0000007",
                        &format!("Not found: Resource not found: {path}"),
                    ),
                },
                Method::PUT | Method::POST => {
                    let body = req.json();
                    let entry = org.singletons.entry(path.clone()).or_insert(json!({}));
                    if let (Some(target), Some(src)) = (entry.as_object_mut(), body.as_object()) {
                        for (k, v) in src {
                            target.insert(k.clone(), v.clone());
                        }
                    }
                    FakeResponse::ok(entry.clone())
                }
                _ => return None,
            });
        }
        // Group members: virtual collection over the membership sets.
        if matches("/api/v1/groups/{}/users", &path) || matches("/api/v1/groups/{}/users/{}", &path)
        {
            if !self.allowed(&granted, "groups", write) {
                return Some(deny("groups"));
            }
            let segs: Vec<&str> = path.split('/').collect();
            let gid = segs[4].to_string();
            if !org
                .collections
                .get("/api/v1/groups")
                .is_some_and(|g| g.iter().any(|x| x["id"] == gid.as_str()))
            {
                return Some(okta_error(
                    404,
                    "E0000007",
                    &format!("Not found: Resource not found: {gid} (UserGroup)"),
                ));
            }
            let empty = Vec::new();
            let users = org.collections.get("/api/v1/users").unwrap_or(&empty);
            // segs: ["", "api", "v1", "groups", gid, "users", uid?]
            if segs.len() == 6 && req.method == Method::GET {
                let members: Vec<&Value> = if gid == org.everyone {
                    users
                        .iter()
                        .filter(|u| u["status"] != "DEPROVISIONED")
                        .collect()
                } else {
                    // Members in user order, looked up through the index (no full scan).
                    let mut found: Vec<(usize, &Value)> = org
                        .members
                        .get(&gid)
                        .into_iter()
                        .flatten()
                        .filter_map(|uid| {
                            org.user_index
                                .get(uid)
                                .and_then(|&i| users.get(i).map(|u| (i, u)))
                        })
                        .collect();
                    found.sort_by_key(|(i, _)| *i);
                    found.into_iter().map(|(_, u)| u).collect()
                };
                let coll = COLLECTIONS
                    .iter()
                    .find(|c| c.path == "/api/v1/groups/{}/users")
                    .copied()?;
                return Some(list_page(base, req, &coll, members));
            }
            if segs.len() == 7 {
                let uid = segs[6].to_string();
                if !org.user_index.contains_key(&uid) {
                    return Some(okta_error(
                        404,
                        "E0000007",
                        &format!("Not found: Resource not found: {uid} (User)"),
                    ));
                }
                match req.method {
                    Method::PUT => {
                        org.members.entry(gid).or_default().insert(uid);
                        return Some(FakeResponse::no_content());
                    }
                    Method::DELETE => {
                        org.members.entry(gid).or_default().remove(&uid);
                        return Some(FakeResponse::no_content());
                    }
                    _ => return None,
                }
            }
            return None;
        }
        // Collections and their items.
        let (coll, item) = match COLLECTIONS.iter().find(|c| matches(c.path, &path)) {
            Some(c) => (*c, None),
            None => {
                let (parent, last) = path.rsplit_once('/')?;
                let (lifecycle, parent, id) = if parent.ends_with("/lifecycle") {
                    let (p2, id) = parent.trim_end_matches("/lifecycle").rsplit_once('/')?;
                    (Some(last.to_string()), p2.to_string(), id.to_string())
                } else {
                    (None, parent.to_string(), last.to_string())
                };
                let c = COLLECTIONS.iter().find(|c| matches(c.path, &parent))?;
                (*c, Some((parent, id, lifecycle)))
            }
        };
        if let Some(feature) = coll.feature
            && feature == "governance"
            && !org.governance
        {
            return Some(okta_error(
                401,
                "E0000015",
                "You do not have permission to access the feature you are requesting",
            ));
        }
        if !self.allowed(&granted, coll.scope, write) {
            return Some(deny(coll.scope));
        }
        let coll_path = item
            .as_ref()
            .map(|(p, _, _)| p.clone())
            .unwrap_or(path.clone());
        // Parents must exist for nested collections.
        let empty = Vec::new();
        match (req.method.clone(), item) {
            (Method::GET, None) => {
                let mut items: Vec<&Value> = org
                    .collections
                    .get(&coll_path)
                    .unwrap_or(&empty)
                    .iter()
                    .collect();
                if coll_path == "/api/v1/users" {
                    let q = format!(
                        "{} {}",
                        req.param("search").unwrap_or(""),
                        req.param("filter").unwrap_or("")
                    );
                    let deprovisioned = q.contains("DEPROVISIONED");
                    items.retain(|u| (u["status"] == "DEPROVISIONED") == deprovisioned);
                }
                if coll_path == "/api/v1/policies" {
                    let Some(t) = req.param("type") else {
                        return Some(okta_error(400, "E0000001", "Api validation failed: type"));
                    };
                    items.retain(|p| p["type"] == t);
                }
                Some(list_page(base, req, &coll, items))
            }
            (Method::POST, None) => {
                let mut body = req.json();
                if !body.is_object() {
                    return Some(okta_error(
                        400,
                        "E0000003",
                        "The request body was not well-formed.",
                    ));
                }
                org.next_id += 1;
                let id = if coll.id_prefix.is_empty() {
                    item_id(&body)
                } else {
                    format!("{}{:017}", coll.id_prefix, org.next_id)
                };
                if !coll.id_prefix.is_empty() {
                    body["id"] = json!(id);
                }
                if coll_path == "/api/v1/users" {
                    body["status"] = json!(if req.param("activate") == Some("false") {
                        "STAGED"
                    } else {
                        "ACTIVE"
                    });
                } else if coll_path == group_rules::PATH {
                    let rules = org
                        .collections
                        .get(&coll_path)
                        .map_or(&[][..], Vec::as_slice);
                    if let Some(refused) = group_rules::refuse_create(rules, &body) {
                        return Some(refused);
                    }
                    group_rules::created(&mut body);
                } else if coll_path == "/api/v1/groups" {
                    body["type"] = json!("OKTA_GROUP");
                } else if body.get("status").is_none() && !coll.id_prefix.is_empty() {
                    body["status"] = json!("ACTIVE");
                }
                // Okta marks what it created itself; whatever the API creates is not system.
                if [
                    "/api/v1/policies",
                    "/api/v1/zones",
                    "/api/v1/policies/{}/rules",
                    "/api/v1/authorizationServers/{}/claims",
                    "/api/v1/authorizationServers/{}/scopes",
                    "/api/v1/authorizationServers/{}/policies",
                    "/api/v1/authorizationServers/{}/policies/{}/rules",
                ]
                .iter()
                .any(|t| matches(t, &coll_path))
                {
                    body["system"] = json!(false);
                }
                body["created"] = json!("2026-11-24T00:00:00.000Z");
                body["lastUpdated"] = json!("2026-11-24T00:00:00.000Z");
                if let Some(existing) = org.collections.get(&coll_path)
                    && coll.id_prefix.is_empty()
                    && existing.iter().any(|e| item_id(e) == id)
                {
                    return Some(okta_error(
                        400,
                        "E0000001",
                        "Api validation failed: already assigned",
                    ));
                }
                org.collections
                    .entry(coll_path)
                    .or_default()
                    .push(body.clone());
                Some(FakeResponse::ok(body))
            }
            (method, Some((_, id, lifecycle))) => {
                let list = org.collections.entry(coll_path.clone()).or_default();
                let pos = list.iter().position(|i| item_id(i) == id);
                if let Some(action) = lifecycle {
                    let Some(pos) = pos else {
                        return Some(okta_error(
                            404,
                            "E0000007",
                            &format!("Not found: Resource not found: {id}"),
                        ));
                    };
                    if coll_path == group_rules::PATH {
                        return group_rules::lifecycle(&mut list[pos], &action);
                    }
                    let status = match action.as_str() {
                        "activate" => "ACTIVE",
                        "deactivate" => "INACTIVE",
                        _ => return None,
                    };
                    list[pos]["status"] = json!(status);
                    return Some(FakeResponse::ok(list[pos].clone()));
                }
                match (method, pos) {
                    (Method::GET, Some(p)) => Some(FakeResponse::ok(list[p].clone())),
                    (Method::DELETE, Some(p)) => {
                        list.remove(p);
                        // Cascade as Okta does: nested collections, memberships, assignments.
                        let prefix = format!("{coll_path}/{id}/");
                        org.collections.retain(|k, _| !k.starts_with(&prefix));
                        if coll_path == "/api/v1/groups" {
                            org.members.remove(&id);
                            for (k, items) in org.collections.iter_mut() {
                                if matches("/api/v1/apps/{}/groups", k) {
                                    items.retain(|i| i["id"] != id.as_str());
                                }
                            }
                            // Rules naming the group keep its id and turn INVALID.
                            if let Some(rules) = org.collections.get_mut(group_rules::PATH) {
                                group_rules::group_deleted(rules, &id);
                            }
                        }
                        Some(if coll_path == group_rules::PATH {
                            group_rules::deleted()
                        } else {
                            FakeResponse::no_content()
                        })
                    }
                    (Method::PUT, Some(p)) if coll_path == group_rules::PATH => {
                        Some(group_rules::replace(list, p, req.json()))
                    }
                    (Method::PUT, Some(p)) => {
                        let mut body = req.json();
                        if let Some(obj) = body.as_object_mut() {
                            for keep in ["id", "created", "status", "type", "system"] {
                                if let Some(v) = list[p].get(keep) {
                                    obj.entry(keep.to_string()).or_insert(v.clone());
                                }
                            }
                            obj.insert("lastUpdated".into(), json!("2026-11-24T00:00:00.000Z"));
                        }
                        list[p] = body.clone();
                        Some(FakeResponse::ok(body))
                    }
                    (Method::POST, Some(p)) => {
                        merge(&mut list[p], &req.json());
                        Some(FakeResponse::ok(list[p].clone()))
                    }
                    (Method::PUT, None) if coll.id_prefix.is_empty() => {
                        // Assignment by PUT on the member path (app groups).
                        let mut body = req.json();
                        if !body.is_object() {
                            body = json!({});
                        }
                        body["id"] = json!(id);
                        list.push(body.clone());
                        Some(FakeResponse::ok(body))
                    }
                    (_, None) => Some(okta_error(
                        404,
                        "E0000007",
                        &format!("Not found: Resource not found: {id}"),
                    )),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// A running fake Okta org.
pub struct FakeOkta {
    server: FakeServer,
    org: Arc<Mutex<Org>>,
    api_token: String,
    client_id: String,
}

impl FakeOkta {
    /// Generates an org from `spec` and serves it.
    pub async fn start(spec: OktaOrgSpec, options: OktaOptions) -> std::io::Result<FakeOkta> {
        let org = Arc::new(Mutex::new(generate(&spec)));
        let api_token = format!("00fake-ssws-token-{}", spec.seed);
        let client_id = format!("0oafakeserviceapp{:03}", spec.seed % 1000);
        let api = OktaApi {
            org: org.clone(),
            api_token: api_token.clone(),
            client_id: client_id.clone(),
            withheld: options.withheld_scopes.iter().cloned().collect(),
        };
        let server = FakeServer::start(
            api,
            ServerOptions {
                rate_limits: options.rate_limits,
                faults: options.faults,
                port: options.port,
            },
        )
        .await?;
        Ok(FakeOkta {
            server,
            org,
            api_token,
            client_id,
        })
    }

    /// The org URL (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }
    /// The SSWS API token the fake accepts.
    pub fn api_token(&self) -> &str {
        &self.api_token
    }
    /// The OAuth service app's client id.
    pub fn oauth_client_id(&self) -> &str {
        &self.client_id
    }
    /// The service app's private key (PEM, test only).
    pub fn private_key_pem(&self) -> &'static str {
        TEST_PRIVATE_KEY_PEM
    }
    /// The service app's key id.
    pub fn key_id(&self) -> &'static str {
        "fake-test-key-1"
    }
    /// The framework server (writes, unknown requests, bucket counters).
    pub fn server(&self) -> &FakeServer {
        &self.server
    }
    /// Number of writes received.
    pub fn write_count(&self) -> usize {
        self.server.write_count()
    }
    /// Every secret value planted in the org.
    pub fn sentinels(&self) -> Vec<String> {
        lock(&self.org).sentinels.clone()
    }
    /// Items of a collection path (for assertions).
    pub fn items(&self, path: &str) -> Vec<Value> {
        lock(&self.org)
            .collections
            .get(path)
            .cloned()
            .unwrap_or_default()
    }
    /// Members of a group.
    pub fn members(&self, group_id: &str) -> BTreeSet<String> {
        lock(&self.org)
            .members
            .get(group_id)
            .cloned()
            .unwrap_or_default()
    }
    /// Changes the org directly (simulating an admin's action without going through HTTP).
    pub fn with_org<T>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, Vec<Value>>, &mut BTreeMap<String, BTreeSet<String>>) -> T,
    ) -> T {
        let mut org = lock(&self.org);
        let org = &mut *org;
        f(&mut org.collections, &mut org.members)
    }
}

/// The user ids of a generated org's collection (helper for tests).
pub fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(item_id).collect()
}
