//! A fake PingOne environment that behaves like the PingOne Platform API (SSO and Base, MFA,
//! Protect/risk and Authorize), built from the API descriptions in `shared/fixtures/pingone`
//! (the `pingone-go-sdk-v2` OpenAPI specs the Terraform provider is generated from).
//!
//! # Routes
//! The fake's [`FakePing::base_url`] plays the role of both hosts of a PingOne region:
//! - the auth host (`https://auth.pingone.<region>`): `POST /{environmentId}/as/token` with
//!   `grant_type=client_credentials` and the worker app's client id and secret, by HTTP Basic
//!   or as form fields, answers `{"access_token","token_type":"Bearer","expires_in":3600}`; a
//!   wrong client is 401 `{"error":"invalid_client","error_description"}`;
//! - the API host (`https://api.pingone.<region>`): everything under `/v1`
//!   ([`FakePing::api_url`]), with `Authorization: Bearer <token>`; a missing or unknown
//!   token is 401 with code `INVALID_TOKEN`.
//!
//! Every collection in [`COLLECTIONS`] (paths relative to `/v1`, `{}` for an id) answers
//! `GET` as a HAL page `{"_links":{"self","next"?},"_embedded":{"<name>":[...]},"count","size"}`
//! (`count` the total, `size` the page), paged with `limit` and a `cursor` that
//! `_links.next.href` carries while more remain. Writable collections take `POST` (create, 201,
//! a new id; group memberships take the group's `id` instead), and their items `GET`, `PUT`
//! (replace) and `DELETE` (204; what depends on the item goes with it: sub-collections,
//! memberships naming a deleted group, sign-on policy assignments naming a deleted policy).
//! Writes check the schema's required fields: 400 `INVALID_DATA` with one
//! `{"code":"REQUIRED_VALUE","target","message"}` detail per missing field. [`SINGLETONS`]
//! (the environment, `brandingSettings`, `mfaSettings`, and an OIDC application's `secret`)
//! answer `GET` (and `PUT`, but the secret).
//!
//! Notification templates (`/environments/{id}/templates`, `_embedded.templates`) are
//! built in and read-only; as in PingOne, a template's `id` is its name
//! (`email_verification_user`, `general`, …, the spec's `EnumTemplateName`), which addresses
//! it: `templates/{templateName}` and its contents `templates/{templateName}/contents`
//! (`_embedded.contents`, items by their generated `id`). A content write needs
//! `deliveryMethod` and `locale`, and the fields of its delivery method's schema (`Email`:
//! `body`; `Push`: `body`, `title`; `SMS`, `Voice`: `content`); the method must be one of the
//! template's `deliveryMethods`, and a `PUT` cannot change `deliveryMethod` or `locale` (400
//! `INVALID_DATA`, detail `INVALID_VALUE`). Created contents are custom (`default: false`) and
//! carry `template.id`. Authorize application resources (created under a resource,
//! `/environments/{id}/resources/{resourceId}/applicationResources`, `_embedded.resources`,
//! and listed all together, read-only, at `/environments/{id}/applicationResources`)
//! and their permissions (`/environments/{id}/applicationResources/{id}/permissions`,
//! `_embedded.permissions`, each an `action`) and application roles
//! (`/environments/{id}/applicationRoles`, `_embedded.roles`) take writes. A role's
//! `permissions` (`_embedded.permissions`) take `POST {"id"}` naming a resource permission,
//! listed as `{"id","key":"<resource>:<action>","action","description","resource"}`, and
//! `DELETE` (the spec has no item `GET`: 405); deleting a resource permission, or its resource,
//! takes it out of every role.
//!
//! The environment's bill of materials (`/environments/{id}/billOfMaterials`) lists the
//! services it has: the base platform, MFA, Protect (risk) and Authorize unless
//! [`PingOptions::missing_products`] leaves one out. A route of a missing service answers
//! 403 `ACCESS_FAILED`, like a missing role; this is an assumption (PingOne does not document
//! the answer), and it means a client tells a missing service from a missing role by the bill
//! of materials only.
//!
//! Errors use PingOne's body `{"id","code","message","details"?}`: unknown id 404
//! `NOT_FOUND`; a collection whose admin role the worker app lacks
//! ([`PingOptions::withheld`]) 403 `ACCESS_FAILED` with a detail naming the role; writes to a
//! read-only collection 405 `METHOD_NOT_ALLOWED`.
//!
//! # Rate limits
//! PingOne documents (<https://developer.pingidentity.com/pingone-api/platform/rate-limiting.html>)
//! that requests over the limits are rejected with 429 `REQUEST_LIMITED` and a `Retry-After`
//! header giving the delay in seconds, and no other rate-limit header. The base limits
//! (<https://developer.pingidentity.com/pingone-api/platform/rate-limiting/base-rate-limits.html>)
//! put configuration endpoints in the "Configuration" group (`rlgConfigRpm`, 600 per minute);
//! the platform limits (<https://docs.pingidentity.com/pingone/getting_started_with_pingone/p1_platform_limits.html>)
//! allow 100 requests per second per source IP. [`ping_rate_limits`] emulates both: the
//! `config` bucket at 600 a minute, the `directory` (users, groups, populations) and `auth`
//! buckets at 6,000 a minute (100 a second); a refused request carries `Retry-After`.
//!
//! # Secrets
//! An OIDC application's secret is only at `applications/{id}/secret`, a gateway's credentials
//! only at `gateways/{id}/credentials`; the OIDC identity provider's `clientSecret` is in the
//! item, as the spec's `IdentityProviderOIDC` requires. Each is a `SENTINEL-…` value listed by
//! [`FakePing::sentinels`]. Users never carry a password. Certificates and keys are metadata
//! only.
//!
//! Fidelity: `tests/ping_openapi.rs` validates every `GET` route's answer against the 200
//! schema of the spec path, and every write answer (`POST` of every writable collection, `PUT`
//! of every item and singleton that takes one) against the spec's 201 / 200 schema, with the
//! `jsonschema` validator. Creates answer 201, or 200 where the spec says so
//! ([`CREATED_200`]); collections whose spec has no item `PUT` refuse it (405).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Method;
use butterfly_core::diff::Severity;
use butterfly_core::{Error, ErrorKind, Result};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::fake::{
    BucketLimit, FakeApi, FakeRequest, FakeResponse, FakeServer, FaultRule, RateLimitConfig,
    ServerOptions, lock, matches, sentinel,
};
use crate::tenants::{Affected, Differences, Incident};

/// The admin role reading users, groups, populations, schemas and role assignments.
pub const IDENTITY_DATA_ADMIN: &str = "Identity Data Admin";
/// The admin role reading applications and resources.
pub const CLIENT_APPLICATION_DEVELOPER: &str = "Client Application Developer";
/// The admin role reading the rest of the environment's configuration.
pub const ENVIRONMENT_ADMIN: &str = "Environment Admin";

/// How a collection takes writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// Read-only (built-in or generated by PingOne).
    ReadOnly,
    /// `POST` creates an item with a new id; items take `PUT` and `DELETE`.
    Items,
    /// `POST` creates an item with a new id; items take `DELETE` only (the spec has no `PUT`:
    /// role assignments, custom and email domains).
    CreateDelete,
    /// A membership: `POST {"id"}` adds the group of that id; items take `DELETE`.
    Membership,
}

/// A collection route.
#[derive(Debug, Clone, Copy)]
pub struct Collection {
    /// Path template under `/v1`; `{}` segments match any id (the first is the environment).
    pub path: &'static str,
    /// The member of `_embedded` holding the items.
    pub embedded: &'static str,
    /// The admin role the worker app needs to read it (empty: any valid token).
    pub role: &'static str,
    /// The spec describing it: `management`, `mfa`, `risk` or `authorize`.
    pub spec: &'static str,
    /// The page size without `limit` (`None`: everything).
    pub default_limit: Option<usize>,
    /// How it takes writes.
    pub writes: Writes,
    /// The fields a write must carry (template contents add those of their delivery method,
    /// see the module docs).
    pub required: &'static [&'static str],
    /// Whether an item answers `GET` (`false` where the spec has no item `GET`: 405).
    pub item_get: bool,
}

const fn coll(
    path: &'static str,
    embedded: &'static str,
    role: &'static str,
    required: &'static [&'static str],
) -> Collection {
    Collection {
        path,
        embedded,
        role,
        spec: "management",
        default_limit: None,
        writes: Writes::Items,
        required,
        item_get: true,
    }
}

const IDA: &str = IDENTITY_DATA_ADMIN;
const CAD: &str = CLIENT_APPLICATION_DEVELOPER;
const EA: &str = ENVIRONMENT_ADMIN;

/// Every collection the fake serves.
pub const COLLECTIONS: &[Collection] = &[
    coll(
        "/environments/{}/populations",
        "populations",
        IDA,
        &["name"],
    ),
    Collection {
        default_limit: Some(100),
        ..coll(
            "/environments/{}/users",
            "users",
            IDA,
            &["email", "username"],
        )
    },
    Collection {
        writes: Writes::Membership,
        ..coll(
            "/environments/{}/users/{}/memberOfGroups",
            "groupMemberships",
            IDA,
            &["id"],
        )
    },
    Collection {
        writes: Writes::CreateDelete,
        ..coll(
            "/environments/{}/users/{}/roleAssignments",
            "roleAssignments",
            IDA,
            &["role", "scope"],
        )
    },
    Collection {
        default_limit: Some(100),
        ..coll("/environments/{}/groups", "groups", IDA, &["name"])
    },
    Collection {
        writes: Writes::Membership,
        ..coll(
            "/environments/{}/groups/{}/memberOfGroups",
            "groupMemberships",
            IDA,
            &["id"],
        )
    },
    coll(
        "/environments/{}/applications",
        "applications",
        CAD,
        &["name", "enabled", "protocol", "type"],
    ),
    coll(
        "/environments/{}/applications/{}/signOnPolicyAssignments",
        "signOnPolicyAssignments",
        CAD,
        &["priority", "signOnPolicy"],
    ),
    Collection {
        writes: Writes::CreateDelete,
        ..coll(
            "/environments/{}/applications/{}/roleAssignments",
            "roleAssignments",
            CAD,
            &["role", "scope"],
        )
    },
    coll(
        "/environments/{}/applications/{}/attributes",
        "attributes",
        CAD,
        &["name", "required", "value"],
    ),
    coll(
        "/environments/{}/applications/{}/grants",
        "grants",
        CAD,
        &["resource", "scopes"],
    ),
    coll("/environments/{}/resources", "resources", CAD, &["name"]),
    coll(
        "/environments/{}/resources/{}/scopes",
        "scopes",
        CAD,
        &["name"],
    ),
    coll(
        "/environments/{}/resources/{}/attributes",
        "attributes",
        CAD,
        &["name", "value"],
    ),
    coll(
        "/environments/{}/signOnPolicies",
        "signOnPolicies",
        EA,
        &["name"],
    ),
    coll(
        "/environments/{}/signOnPolicies/{}/actions",
        "actions",
        EA,
        &["priority", "type"],
    ),
    coll(
        "/environments/{}/passwordPolicies",
        "passwordPolicies",
        EA,
        &[
            "name",
            "excludesCommonlyUsed",
            "excludesProfileData",
            "notSimilarToCurrent",
        ],
    ),
    coll(
        "/environments/{}/identityProviders",
        "identityProviders",
        EA,
        &["name", "enabled", "type"],
    ),
    coll(
        "/environments/{}/identityProviders/{}/attributes",
        "attributes",
        EA,
        &["name", "value", "update"],
    ),
    Collection {
        writes: Writes::ReadOnly,
        ..coll("/environments/{}/schemas", "schemas", IDA, &[])
    },
    coll(
        "/environments/{}/schemas/{}/attributes",
        "attributes",
        IDA,
        &["name", "enabled", "type"],
    ),
    coll(
        "/environments/{}/themes",
        "themes",
        EA,
        &["configuration", "default", "template"],
    ),
    coll(
        "/environments/{}/notificationsPolicies",
        "notificationsPolicies",
        EA,
        &["name", "quotas"],
    ),
    Collection {
        writes: Writes::CreateDelete,
        ..coll(
            "/environments/{}/customDomains",
            "customDomains",
            EA,
            &["domainName"],
        )
    },
    Collection {
        writes: Writes::CreateDelete,
        ..coll(
            "/environments/{}/emailDomains",
            "emailDomains",
            EA,
            &["domainName"],
        )
    },
    Collection {
        // Created by uploading a PEM or PKCS#12 file, which the fake does not take.
        writes: Writes::ReadOnly,
        ..coll("/environments/{}/certificates", "certificates", EA, &[])
    },
    coll(
        "/environments/{}/keys",
        "keys",
        EA,
        &[
            "name",
            "algorithm",
            "keyLength",
            "signatureAlgorithm",
            "subjectDN",
            "usageType",
            "validityPeriod",
        ],
    ),
    coll(
        "/environments/{}/gateways",
        "gateways",
        EA,
        &["name", "type", "enabled"],
    ),
    Collection {
        writes: Writes::ReadOnly,
        ..coll(
            "/environments/{}/gateways/{}/credentials",
            "credentials",
            EA,
            &[],
        )
    },
    coll(
        "/environments/{}/agreements",
        "agreements",
        EA,
        &["name", "enabled"],
    ),
    coll(
        "/environments/{}/agreements/{}/languages",
        "languages",
        EA,
        &["displayName", "enabled", "locale"],
    ),
    coll(
        "/environments/{}/languages",
        "languages",
        EA,
        &["locale", "enabled", "default"],
    ),
    Collection {
        writes: Writes::ReadOnly,
        ..coll("/roles", "roles", "", &[])
    },
    Collection {
        spec: "mfa",
        ..coll(
            "/environments/{}/deviceAuthenticationPolicies",
            "deviceAuthenticationPolicies",
            EA,
            &["name", "sms", "voice", "email", "mobile", "totp"],
        )
    },
    Collection {
        spec: "mfa",
        ..coll(
            "/environments/{}/fido2Policies",
            "fido2Policies",
            EA,
            &["name", "deviceDisplayName", "relyingPartyId"],
        )
    },
    Collection {
        spec: "risk",
        ..coll(
            "/environments/{}/riskPolicySets",
            "riskPolicySets",
            EA,
            &["name"],
        )
    },
    Collection {
        spec: "risk",
        ..coll(
            "/environments/{}/riskPredictors",
            "riskPredictors",
            EA,
            &["name", "compactName", "type"],
        )
    },
    Collection {
        spec: "authorize",
        ..coll(
            "/environments/{}/apiServers",
            "apiServers",
            EA,
            &["name", "baseUrls", "authorizationServer"],
        )
    },
    Collection {
        // Built in: PingOne lets clients read them only. Items are addressed by name.
        writes: Writes::ReadOnly,
        ..coll("/environments/{}/templates", "templates", EA, &[])
    },
    coll(
        "/environments/{}/templates/{}/contents",
        "contents",
        EA,
        &["deliveryMethod", "locale"],
    ),
    Collection {
        spec: "authorize",
        ..coll("/environments/{}/applicationRoles", "roles", EA, &["name"])
    },
    Collection {
        // Every resource's application resources in one listing (read-only: they are
        // created under their resource).
        spec: "authorize",
        writes: Writes::ReadOnly,
        ..coll(
            "/environments/{}/applicationResources",
            "resources",
            EA,
            &[],
        )
    },
    coll(
        "/environments/{}/resources/{}/applicationResources",
        "resources",
        EA,
        &["name"],
    ),
    Collection {
        spec: "authorize",
        ..coll(
            "/environments/{}/applicationResources/{}/permissions",
            "permissions",
            EA,
            &["action"],
        )
    },
    Collection {
        // `POST {"id"}` adds an application resource permission to the role; no item `GET`.
        spec: "authorize",
        writes: Writes::Membership,
        item_get: false,
        ..coll(
            "/environments/{}/applicationRoles/{}/permissions",
            "permissions",
            EA,
            &["id"],
        )
    },
];

/// A single resource: path template under `/v1`, role, spec.
#[derive(Debug, Clone, Copy)]
pub struct Singleton {
    /// Path template; `{}` segments match any id.
    pub path: &'static str,
    /// The admin role the worker app needs to read it.
    pub role: &'static str,
    /// The spec describing it.
    pub spec: &'static str,
    /// Whether it takes `PUT`.
    pub writable: bool,
}

/// Every singleton the fake serves.
pub const SINGLETONS: &[Singleton] = &[
    Singleton {
        path: "/environments/{}",
        role: EA,
        spec: "management",
        writable: true,
    },
    Singleton {
        path: "/environments/{}/brandingSettings",
        role: EA,
        spec: "management",
        writable: true,
    },
    Singleton {
        path: "/environments/{}/mfaSettings",
        role: EA,
        spec: "mfa",
        writable: true,
    },
    Singleton {
        path: "/environments/{}/applications/{}/secret",
        role: CAD,
        spec: "management",
        writable: false,
    },
];

/// What environment to generate.
#[derive(Debug, Clone)]
pub struct PingEnvSpec {
    /// Users.
    pub users: usize,
    /// Seed: the same seed gives the same environment.
    pub seed: u64,
}

impl Default for PingEnvSpec {
    fn default() -> Self {
        PingEnvSpec {
            users: 200,
            seed: 1,
        }
    }
}

/// How the fake server behaves.
#[derive(Debug, Clone, Default)]
pub struct PingOptions {
    /// Rate limits (`None`: unlimited). See [`ping_rate_limits`].
    pub rate_limits: Option<RateLimitConfig>,
    /// Faults to inject.
    pub faults: Vec<FaultRule>,
    /// Access the worker app was not given: admin role names ([`ENVIRONMENT_ADMIN`], …),
    /// denying every collection that role reads, or collection path templates
    /// (`"/environments/{}/gateways"`), denying that collection (and its items) only.
    pub withheld: Vec<String>,
    /// Services the environment does not have (`PING_ONE_MFA`, `PING_ONE_RISK`,
    /// `PING_ONE_AUTHORIZE`): its bill of materials leaves them out, and their collections
    /// and singletons answer 403 `ACCESS_FAILED` (see the module docs).
    pub missing_products: Vec<String>,
    /// Port (0: any).
    pub port: u16,
}

/// The PingOne product (bill-of-materials type) a spec's routes belong to.
pub fn product_of_spec(spec: &str) -> &'static str {
    match spec {
        "mfa" => "PING_ONE_MFA",
        "risk" => "PING_ONE_RISK",
        "authorize" => "PING_ONE_AUTHORIZE",
        _ => "PING_ONE_BASE",
    }
}

/// PingOne's documented limits as fixed one-minute windows (see the module docs): `config`
/// 600, `directory` and `auth` 6,000 (100 a second).
pub fn ping_rate_limits(time_scale: f64) -> RateLimitConfig {
    let b = |name: &str, limit| BucketLimit {
        name: name.to_string(),
        limit,
    };
    RateLimitConfig {
        buckets: vec![b("config", 600), b("directory", 6000), b("auth", 6000)],
        window: Duration::from_secs(60),
        // PingOne sends none of these; `FakeApi::limit_headers` replaces them with
        // `Retry-After` on a 429 and nothing otherwise.
        headers: [
            "x-rate-limit-limit",
            "x-rate-limit-remaining",
            "x-rate-limit-reset",
        ],
        concurrency: 100,
        time_scale,
    }
}

/// The rate-limit bucket of a request: `auth` (the token endpoint), `directory` (users,
/// groups, populations) or `config`.
pub fn ping_bucket(method: &Method, path: &str) -> String {
    let _ = method;
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        [_, "as", "token"] => "auth".into(),
        [
            "v1",
            "environments",
            _,
            "users" | "groups" | "populations",
            ..,
        ] => "directory".into(),
        _ => "config".into(),
    }
}

/// A PingOne error body.
fn ping_error(status: u16, code: &str, message: &str) -> FakeResponse {
    FakeResponse::status(
        status,
        json!({"id": error_id(), "code": code, "message": message}),
    )
}

fn error_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("e0000000-0000-4000-8000-{n:012x}")
}

fn not_found(path: &str) -> FakeResponse {
    ping_error(
        404,
        "NOT_FOUND",
        &format!("Unable to find resource with path {path}"),
    )
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let a = rng.random_range(0..u64::MAX);
    let b = rng.random_range(0..u64::MAX);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

fn ts(day: u64) -> String {
    format!(
        "2025-{:02}-{:02}T10:{:02}:00.000Z",
        1 + day % 12,
        1 + day % 28,
        day % 60
    )
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[derive(Debug, Default)]
struct Env {
    id: String,
    /// Concrete collection path (`/environments/{id}/users`, no `/v1`) -> items, without
    /// `_links`.
    collections: BTreeMap<String, Vec<Value>>,
    /// Concrete singleton path -> body.
    singletons: BTreeMap<String, Value>,
    sentinels: Vec<String>,
    tokens: BTreeSet<String>,
    next_token: u64,
    default_population: String,
    /// Bumped by every request that may write; [`Env::find`]'s index is rebuilt after one.
    generation: u64,
    /// Per collection: the generation and length it was built at, and id -> position.
    index: std::cell::RefCell<HashMap<String, IdIndex>>,
}

/// An id index of one collection: the generation and length it was built at, and id ->
/// position.
type IdIndex = (u64, usize, HashMap<String, usize>);

impl Env {
    fn root(&self) -> String {
        format!("/environments/{}", self.id)
    }

    /// The item `id` of `coll`, through an index (a backup of a large environment asks for
    /// every user's sub-collections; a scan per request made the fake the bottleneck).
    fn find(&self, coll: &str, id: &str) -> Option<&Value> {
        let items = self.collections.get(coll)?;
        let pos = {
            let mut index = self.index.borrow_mut();
            let entry = index
                .entry(coll.to_string())
                .or_insert_with(|| (u64::MAX, usize::MAX, HashMap::new()));
            if entry.0 != self.generation || entry.1 != items.len() {
                entry.2 = items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| Some((item["id"].as_str()?.to_string(), i)))
                    .collect();
                entry.0 = self.generation;
                entry.1 = items.len();
            }
            *entry.2.get(id)?
        };
        items.get(pos).filter(|i| i["id"] == id)
    }

    /// Removes what depends on the deleted item `id` of `coll`.
    /// An application resource (kept under its resource, `resources/{id}/applicationResources`)
    /// by its id.
    fn application_resource(&self, id: &str) -> Option<&Value> {
        let resources = format!("{}/resources/", self.root());
        self.collections
            .iter()
            .filter(|(k, _)| k.starts_with(&resources) && k.ends_with("/applicationResources"))
            .find_map(|(_, items)| items.iter().find(|i| i["id"] == id))
    }

    /// Every application resource of every resource.
    fn application_resources(&self) -> Vec<Value> {
        let resources = format!("{}/resources/", self.root());
        self.collections
            .iter()
            .filter(|(k, _)| k.starts_with(&resources) && k.ends_with("/applicationResources"))
            .flat_map(|(_, items)| items.iter().cloned())
            .collect()
    }

    /// An application resource permission as a role lists it: its id, `key`
    /// (`<resource name>:<action>`), action, description and resource.
    fn resource_permission(&self, id: &str) -> Option<Value> {
        let resources = format!("{}/applicationResources", self.root());
        for (path, items) in &self.collections {
            let Some(resource_id) = path
                .strip_prefix(&format!("{resources}/"))
                .and_then(|r| r.strip_suffix("/permissions"))
            else {
                continue;
            };
            if let Some(p) = items.iter().find(|i| i["id"] == id) {
                let name = self.application_resource(resource_id)?["name"].clone();
                let action = p["action"].as_str().unwrap_or_default();
                return Some(json!({
                    "id": id,
                    "key": format!("{}:{action}", name.as_str().unwrap_or_default()),
                    "action": action,
                    "description": p.get("description").cloned().unwrap_or(Value::Null),
                    "resource": {"id": resource_id, "name": name},
                    "environment": {"id": self.id},
                }));
            }
        }
        None
    }

    fn cascade(&mut self, coll: &str, id: &str) {
        // An application resource's permissions live at the environment's root; a resource
        // takes its application resources with it, and they take their permissions.
        let mut app_resources: Vec<String> = self
            .collections
            .get(&format!("{coll}/{id}/applicationResources"))
            .map(|items| ids(items))
            .unwrap_or_default();
        if coll.ends_with("/applicationResources") {
            app_resources.push(id.to_string());
        }
        for app_resource in app_resources {
            let prefix = format!("{}/applicationResources/{app_resource}/", self.root());
            self.collections.retain(|k, _| !k.starts_with(&prefix));
            for (k, items) in self.collections.iter_mut() {
                if k.contains("/applicationRoles/") {
                    items.retain(|i| {
                        i.pointer("/resource/id").and_then(Value::as_str) != Some(&app_resource)
                    });
                }
            }
        }
        let prefix = format!("{coll}/{id}/");
        self.collections.retain(|k, _| !k.starts_with(&prefix));
        self.singletons.retain(|k, _| !k.starts_with(&prefix));
        for (k, items) in self.collections.iter_mut() {
            let membership = k.ends_with("/memberOfGroups") || k.contains("/applicationRoles/");
            items.retain(|i| {
                !(membership && i["id"] == id)
                    && i.pointer("/signOnPolicy/id").and_then(Value::as_str) != Some(id)
            });
        }
    }
}

struct Gen {
    rng: ChaCha8Rng,
    env: Env,
    day: u64,
}

const GIVEN: &[&str] = &[
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "John",
    "Radia", "Tim", "Hedy", "Linus", "Sophie", "Donald",
];
const FAMILY: &[&str] = &[
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Ritchie",
    "Allen", "Backus", "Perlman", "Lee", "Lamarr", "Torvalds", "Wilson", "Knuth",
];
const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Finance",
    "Support",
    "Marketing",
    "Legal",
    "Operations",
    "Research",
];

impl Gen {
    fn id(&mut self) -> String {
        uuid(&mut self.rng)
    }

    fn sentinel(&mut self, what: &str) -> String {
        let s = sentinel(&mut self.rng, what);
        self.env.sentinels.push(s.clone());
        s
    }

    fn stamp(&mut self) -> String {
        self.day += 1;
        ts(self.day)
    }

    /// Adds `item` to the collection `rel` (relative to the environment, `users`), with an id
    /// (unless it has one), the environment and timestamps; returns the id.
    fn push(&mut self, rel: &str, mut item: Value) -> String {
        if item.get("id").is_none() {
            item["id"] = json!(self.id());
        }
        item["environment"] = json!({"id": self.env.id});
        if item.get("createdAt").is_none() {
            let t = self.stamp();
            item["createdAt"] = json!(t);
            item["updatedAt"] = json!(t);
        }
        let id = item["id"].as_str().unwrap_or_default().to_string();
        let key = format!("{}/{rel}", self.env.root());
        self.env.collections.entry(key).or_default().push(item);
        id
    }

    fn touch(&mut self, rel: &str) {
        let key = format!("{}/{rel}", self.env.root());
        self.env.collections.entry(key).or_default();
    }
}

/// The generated ids the fake hands out.
struct Generated {
    env: Env,
    client_id: String,
    client_secret: String,
}

fn generate(spec: &PingEnvSpec) -> Generated {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(spec.seed ^ 0x5049_4e47),
        env: Env::default(),
        day: 0,
    };
    g.env.id = g.id();
    let env_id = g.env.id.clone();
    let org = g.id();
    let license = g.id();
    g.env.singletons.insert(
        g.env.root(),
        json!({
            "id": env_id, "name": "Butterfly Fake", "description": "A fake PingOne environment",
            "type": "SANDBOX", "region": "NA", "status": "ACTIVE",
            "license": {"id": license}, "organization": {"id": org},
            "createdAt": ts(0), "updatedAt": ts(1),
        }),
    );
    for rel in [
        "populations",
        "users",
        "groups",
        "applications",
        "resources",
        "signOnPolicies",
        "passwordPolicies",
        "identityProviders",
        "schemas",
        "themes",
        "notificationsPolicies",
        "customDomains",
        "emailDomains",
        "certificates",
        "keys",
        "gateways",
        "agreements",
        "languages",
        "deviceAuthenticationPolicies",
        "fido2Policies",
        "riskPolicySets",
        "riskPredictors",
        "apiServers",
    ] {
        g.touch(rel);
    }

    // Password policies.
    let mut password_policies = Vec::new();
    for (name, default, min) in [("Standard", true, 10), ("Basic", false, 8)] {
        password_policies.push(g.push(
            "passwordPolicies",
            json!({
                "name": name, "default": default, "description": format!("{name} password policy"),
                "excludesCommonlyUsed": true, "excludesProfileData": true,
                "notSimilarToCurrent": true, "history": {"count": 6, "retentionDays": 365},
                "length": {"min": min, "max": 255}, "maxAgeDays": 182, "minAgeDays": 1,
                "maxRepeatedCharacters": 2, "minUniqueCharacters": 5,
                "lockout": {"failureCount": 5, "durationSeconds": 900},
            }),
        ));
    }

    // Populations: users spread over them, the first the largest.
    let populations = (spec.users / 250).clamp(2, 8);
    let mut pops = Vec::new();
    for k in 0..populations {
        let name = if k == 0 {
            "Default".to_string()
        } else {
            format!("{} Population", DEPARTMENTS[k % DEPARTMENTS.len()])
        };
        pops.push(g.push(
            "populations",
            json!({
                "name": name, "default": k == 0, "description": format!("{name} users"),
                "passwordPolicy": {"id": password_policies[k % 2]},
            }),
        ));
    }
    g.env.default_population = pops[0].clone();

    // Users (no password field, ever).
    let mut users = Vec::new();
    for i in 0..spec.users {
        let given = GIVEN[g.rng.random_range(0..GIVEN.len())];
        let family = FAMILY[g.rng.random_range(0..FAMILY.len())];
        // Half in the first population, the rest spread.
        let pop = if g.rng.random_range(0..2) == 0 {
            pops[0].clone()
        } else {
            pops[g.rng.random_range(0..pops.len())].clone()
        };
        let username = format!("{}.{}{i}", given.to_lowercase(), family.to_lowercase());
        let id = g.push(
            "users",
            json!({
                "username": username, "email": format!("{username}@example.com"),
                "name": {"given": given, "family": family, "formatted": format!("{given} {family}")},
                "population": {"id": pop}, "enabled": i % 17 != 5,
                "account": {"canAuthenticate": true, "status": "OK"},
                "emailVerified": true, "mfaEnabled": i % 3 == 0,
                "title": DEPARTMENTS[i % DEPARTMENTS.len()],
                "lifecycle": {"status": "ACCOUNT_OK"},
            }),
        );
        g.touch(&format!("users/{id}/memberOfGroups"));
        g.touch(&format!("users/{id}/roleAssignments"));
        users.push((id, username));
    }

    // Built-in roles (ids as fixed as PingOne's).
    let role_names = [
        ENVIRONMENT_ADMIN,
        IDENTITY_DATA_ADMIN,
        "Identity Data Read Only",
        CLIENT_APPLICATION_DEVELOPER,
        "Configuration Read Only",
        "Organization Admin",
        "Application Owner",
        "Help Desk Admin",
    ];
    let mut roles = BTreeMap::new();
    for (k, name) in role_names.iter().enumerate() {
        let id = format!(
            "{:08x}-0000-4000-8000-{:012x}",
            0xb0e5_0000u32 + k as u32,
            k
        );
        roles.insert(*name, id.clone());
        let scopes: &[&str] = if *name == "Organization Admin" {
            &["ORGANIZATION"]
        } else {
            &["ORGANIZATION", "ENVIRONMENT", "POPULATION"]
        };
        g.env
            .collections
            .entry("/roles".to_string())
            .or_default()
            .push(json!({
                "id": id, "name": name, "description": format!("The built-in {name} role"),
                "applicableTo": scopes,
                "permissions": [{"id": format!("{}:read", name.to_lowercase().replace(' ', "-")), "classifier": "read", "description": format!("Read as {name}")}],
            }));
    }
    for (id, _) in users.iter().take(2) {
        let role = roles[ENVIRONMENT_ADMIN].clone();
        g.push(
            &format!("users/{id}/roleAssignments"),
            json!({"role": {"id": role}, "scope": {"id": env_id, "type": "ENVIRONMENT"}, "readOnly": false}),
        );
    }

    // Groups: power-law sizes, some nesting.
    let group_count = (spec.users / 10).clamp(3, 200);
    let mut groups = Vec::new();
    for k in 0..group_count {
        let name = format!("{} {k}", DEPARTMENTS[k % DEPARTMENTS.len()]);
        let mut item = json!({"name": name, "description": format!("The {name} team")});
        if k % 4 == 3 {
            item["population"] = json!({"id": pops[k % pops.len()]});
        }
        let id = g.push("groups", item);
        g.touch(&format!("groups/{id}/memberOfGroups"));
        groups.push((id, name));
    }
    let n = users.len();
    for (k, (gid, gname)) in groups.iter().enumerate() {
        if n == 0 {
            break;
        }
        let size = (n as f64 * 0.5 / (k + 1) as f64).ceil() as usize;
        let start = g.rng.random_range(0..n);
        let mut chosen = BTreeSet::new();
        for j in 0..size.min(n) {
            chosen.insert((start + j * 7919) % n);
        }
        for u in chosen {
            let uid = users[u].0.clone();
            g.push(
                &format!("users/{uid}/memberOfGroups"),
                json!({"id": gid, "name": gname, "type": "DIRECT"}),
            );
        }
    }
    // Every third group from the fourth on is nested in the group before it.
    for k in (3..groups.len()).step_by(3) {
        let (child, _) = groups[k].clone();
        let (parent, pname) = groups[k - 1].clone();
        g.push(
            &format!("groups/{child}/memberOfGroups"),
            json!({"id": parent, "name": pname, "type": "DIRECT"}),
        );
    }

    // Sign-on policies and their actions.
    let mut policies = Vec::new();
    for (name, default) in [("Single_Factor", true), ("Multi_Factor", false)] {
        let id = g.push(
            "signOnPolicies",
            json!({"name": name, "default": default, "description": format!("{name} sign-on")}),
        );
        policies.push(id);
    }
    let device_policy = g.id();
    for (k, pid) in policies.iter().enumerate() {
        let rel = format!("signOnPolicies/{pid}/actions");
        g.push(
            &rel,
            json!({"priority": 1, "type": "LOGIN", "signOnPolicy": {"id": pid}, "recovery": {"enabled": true}}),
        );
        if k == 1 {
            g.push(
                &rel,
                json!({"priority": 2, "type": "MULTI_FACTOR_AUTHENTICATION", "signOnPolicy": {"id": pid}, "deviceAuthenticationPolicy": {"id": device_policy}, "noDevicesMode": "BLOCK"}),
            );
        }
    }

    // Resources and scopes.
    let openid = g.push(
        "resources",
        json!({"name": "openid", "type": "OPENID_CONNECT", "description": "OpenID Connect", "accessTokenValiditySeconds": 3600}),
    );
    let mut openid_scopes = Vec::new();
    for s in ["openid", "profile", "email"] {
        openid_scopes.push(g.push(
            &format!("resources/{openid}/scopes"),
            json!({"name": s, "description": format!("The {s} scope"), "resource": {"id": openid}}),
        ));
    }
    g.touch(&format!("resources/{openid}/attributes"));
    let api = g.push(
        "resources",
        json!({"name": "PingOne API", "type": "PINGONE_API", "audience": "https://api.pingone.com", "accessTokenValiditySeconds": 3600}),
    );
    g.touch(&format!("resources/{api}/scopes"));
    g.touch(&format!("resources/{api}/attributes"));
    let mut customs = Vec::new();
    for k in 0..(1 + spec.users / 200).min(10) {
        let name = format!("Orders API {k}");
        let id = g.push(
            "resources",
            json!({"name": name, "type": "CUSTOM", "audience": format!("https://orders{k}.example.com"), "accessTokenValiditySeconds": 3600, "introspectEndpointAuthMethod": "CLIENT_SECRET_BASIC"}),
        );
        let mut scopes = Vec::new();
        for s in ["orders:read", "orders:write"] {
            scopes.push(g.push(
                &format!("resources/{id}/scopes"),
                json!({"name": s, "description": format!("{s} on {name}"), "resource": {"id": id}}),
            ));
        }
        g.push(
            &format!("resources/{id}/attributes"),
            json!({"name": "sub", "value": "${user.id}", "type": "CORE", "resource": {"id": id}}),
        );
        g.push(
            &format!("resources/{id}/attributes"),
            json!({"name": "department", "value": "${user.title}", "type": "CUSTOM", "resource": {"id": id}, "idToken": false, "userInfo": true}),
        );
        customs.push((id, scopes));
    }

    // Applications: the worker app the fake's client is, then OIDC and SAML alternating.
    let client_secret = g.sentinel("ping-worker-secret");
    let client_id = g.push(
        "applications",
        json!({
            "name": "Butterfly Backup Worker", "description": "Reads the environment for backups",
            "enabled": true, "protocol": "OPENID_CONNECT", "type": "WORKER",
            "grantTypes": ["CLIENT_CREDENTIALS"], "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC",
        }),
    );
    let mut apps = vec![(client_id.clone(), true)];
    let app_count = (4 + spec.users / 100).min(40);
    for k in 0..app_count {
        let oidc = k % 2 == 0;
        let name = format!("{} App {k}", DEPARTMENTS[k % DEPARTMENTS.len()]);
        let item = if oidc {
            json!({
                "name": name, "description": format!("{name} (OIDC)"), "enabled": k % 5 != 4,
                "protocol": "OPENID_CONNECT", "type": "WEB_APP",
                "grantTypes": ["AUTHORIZATION_CODE", "REFRESH_TOKEN"], "responseTypes": ["CODE"],
                "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC", "pkceEnforcement": "S256_REQUIRED",
                "redirectUris": [format!("https://app{k}.example.com/callback")],
                "postLogoutRedirectUris": [format!("https://app{k}.example.com/")],
                "homePageUrl": format!("https://app{k}.example.com/"),
                "refreshTokenDuration": 2_592_000, "refreshTokenRollingDuration": 15_552_000,
            })
        } else {
            json!({
                "name": name, "description": format!("{name} (SAML)"), "enabled": true,
                "protocol": "SAML", "type": "WEB_APP",
                "acsUrls": [format!("https://app{k}.example.com/saml/acs")],
                "assertionDuration": 60, "assertionSigned": true, "responseSigned": false,
                "spEntityId": format!("urn:example:app{k}"), "sloBinding": "HTTP_POST",
                "nameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            })
        };
        let id = g.push("applications", item);
        apps.push((id, oidc));
    }
    for (k, (id, oidc)) in apps.clone().into_iter().enumerate() {
        if oidc {
            let secret = if id == client_id {
                client_secret.clone()
            } else {
                g.sentinel("ping-app-secret")
            };
            let key = format!("{}/applications/{id}/secret", g.env.root());
            g.env.singletons.insert(
                key,
                json!({"secret": secret, "environment": {"id": env_id}}),
            );
        }
        let rel = |s: &str| format!("applications/{id}/{s}");
        for s in [
            "signOnPolicyAssignments",
            "roleAssignments",
            "attributes",
            "grants",
        ] {
            g.touch(&rel(s));
        }
        if id == client_id {
            for role in [
                ENVIRONMENT_ADMIN,
                IDENTITY_DATA_ADMIN,
                CLIENT_APPLICATION_DEVELOPER,
            ] {
                g.push(
                    &rel("roleAssignments"),
                    json!({"role": {"id": roles[role]}, "scope": {"id": env_id, "type": "ENVIRONMENT"}, "readOnly": false}),
                );
            }
            continue;
        }
        g.push(
            &rel("signOnPolicyAssignments"),
            json!({"priority": 1, "signOnPolicy": {"id": policies[0]}, "application": {"id": id}}),
        );
        if k % 3 == 1 {
            g.push(
                &rel("signOnPolicyAssignments"),
                json!({"priority": 2, "signOnPolicy": {"id": policies[1]}, "application": {"id": id}}),
            );
        }
        let (name, value) = if oidc {
            ("email", "${user.email}")
        } else {
            ("saml_subject", "${user.id}")
        };
        g.push(
            &rel("attributes"),
            json!({"name": name, "value": value, "required": true, "mappingType": "CORE", "application": {"id": id}}),
        );
        g.push(
            &rel("attributes"),
            json!({"name": "department", "value": "${user.title}", "required": false, "mappingType": "CUSTOM", "application": {"id": id}}),
        );
        if oidc {
            let scopes: Vec<Value> = openid_scopes.iter().map(|s| json!({"id": s})).collect();
            g.push(
                &rel("grants"),
                json!({"resource": {"id": openid}, "scopes": scopes, "application": {"id": id}}),
            );
            if let Some((res, scopes)) = customs.get(k % customs.len().max(1)) {
                let scopes: Vec<Value> = scopes.iter().map(|s| json!({"id": s})).collect();
                g.push(
                    &rel("grants"),
                    json!({"resource": {"id": res}, "scopes": scopes, "application": {"id": id}}),
                );
            }
        }
    }

    // Certificates and keys (metadata only).
    let cert = g.push(
        "certificates",
        json!({
            "name": "Partner IdP signing", "algorithm": "RSA", "keyLength": 2048,
            "signatureAlgorithm": "SHA256withRSA", "subjectDN": "CN=idp.partner.example, O=Partner",
            "issuerDN": "CN=idp.partner.example, O=Partner", "serialNumber": 1_234_567_890_123u64,
            "usageType": "SIGNING", "validityPeriod": 365, "default": false, "status": "VALID",
            "startsAt": ts(2), "expiresAt": "2027-01-01T00:00:00.000Z",
        }),
    );
    for (name, usage, default) in [
        ("Default signing", "SIGNING", true),
        ("SAML encryption", "ENCRYPTION", false),
    ] {
        g.push(
            "keys",
            json!({
                "name": name, "algorithm": "RSA", "keyLength": 2048,
                "signatureAlgorithm": "SHA256withRSA", "subjectDN": format!("CN={name}, O=Butterfly"),
                "issuerDN": format!("CN={name}, O=Butterfly"), "serialNumber": 987_654_321u64,
                "usageType": usage, "validityPeriod": 365, "default": default, "status": "VALID",
                "startsAt": ts(3), "expiresAt": "2027-01-01T00:00:00.000Z",
            }),
        );
    }

    // Identity providers.
    let saml_idp = g.push(
        "identityProviders",
        json!({
            "name": "Partner SAML", "description": "A partner's SAML IdP", "enabled": true, "type": "SAML",
            "idpEntityId": "https://idp.partner.example/saml", "spEntityId": "urn:butterfly:fake",
            "idpVerification": {"certificates": [{"id": cert}]}, "ssoBinding": "HTTP_POST",
            "ssoEndpoint": "https://idp.partner.example/sso", "authnRequestSigned": false,
            "registration": {"population": {"id": pops[0]}},
        }),
    );
    let idp_secret = g.sentinel("ping-idp-secret");
    let oidc_idp = g.push(
        "identityProviders",
        json!({
            "name": "Contractors OIDC", "enabled": true, "type": "OPENID_CONNECT",
            "clientId": "contractors-client", "clientSecret": idp_secret,
            "authorizationEndpoint": "https://login.contractors.example/authorize",
            "tokenEndpoint": "https://login.contractors.example/token",
            "jwksEndpoint": "https://login.contractors.example/jwks",
            "issuer": "https://login.contractors.example", "scopes": ["openid", "email"],
            "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC",
        }),
    );
    for (idp, value) in [
        (saml_idp, "${samlAssertion.subject}"),
        (oidc_idp, "${providerAttributes.email}"),
    ] {
        g.push(
            &format!("identityProviders/{idp}/attributes"),
            json!({"name": "username", "value": value, "update": "EMPTY_ONLY", "mappingType": "CORE", "identityProvider": {"id": idp}}),
        );
    }

    // The user schema and its attributes.
    let schema = g.push(
        "schemas",
        json!({"name": "User", "description": "The user schema", "allowsContainsOperator": true}),
    );
    for (name, kind, required, unique) in [
        ("username", "CORE", true, true),
        ("email", "CORE", false, false),
        ("title", "STANDARD", false, false),
        ("costCenter", "CUSTOM", false, false),
    ] {
        g.push(
            &format!("schemas/{schema}/attributes"),
            json!({
                "name": name, "displayName": name, "enabled": true, "type": "STRING",
                "schemaType": kind, "required": required, "unique": unique, "multiValued": false,
                "schema": {"id": schema},
            }),
        );
    }

    // Branding.
    let branding = g.id();
    g.env.singletons.insert(
        format!("{}/brandingSettings", g.env.root()),
        json!({"id": branding, "companyName": "Butterfly Fake Inc.", "environment": {"id": env_id}}),
    );
    for (name, template, default) in [("Ping Default", "default", true), ("Slate", "slate", false)]
    {
        g.push(
            "themes",
            json!({
                "template": template, "default": default,
                "configuration": {
                    "name": name, "backgroundType": "DEFAULT", "bodyTextColor": "#263956",
                    "buttonColor": "#263956", "buttonTextColor": "#FFFFFF", "cardColor": "#FFFFFF",
                    "headingTextColor": "#686F77", "linkTextColor": "#263956", "logoType": "NONE",
                },
            }),
        );
    }

    // Notifications, domains, gateways, agreements, languages.
    g.push(
        "notificationsPolicies",
        json!({
            "name": "Default Notification Policy", "default": true,
            "quotas": [{"type": "USER", "deliveryMethods": ["SMS", "Voice"], "total": 30}],
            "countryLimit": {"type": "NONE", "countries": []},
        }),
    );
    g.push(
        "customDomains",
        json!({"domainName": "login.butterfly.example", "status": "VERIFICATION_REQUIRED", "canonicalName": format!("{env_id}.edge.pingone.com")}),
    );
    g.push(
        "emailDomains",
        json!({"domainName": "mail.butterfly.example"}),
    );
    for (name, kind) in [
        ("Datacenter LDAP", "LDAP"),
        ("PingFederate", "PING_FEDERATE"),
    ] {
        let id = g.push(
            "gateways",
            json!({"name": name, "type": kind, "enabled": true, "description": format!("{name} gateway")}),
        );
        let credential = g.sentinel("ping-gateway-credential");
        let t = g.stamp();
        g.push(
            &format!("gateways/{id}/credentials"),
            json!({"credential": credential, "createdAt": t, "lastUsedAt": t}),
        );
    }
    let agreement = g.push(
        "agreements",
        json!({"name": "Terms of Service", "description": "Accept before signing on", "enabled": true, "reconsentPeriodDays": 180.0}),
    );
    for (locale, name) in [("en", "English"), ("fr", "French")] {
        g.push(
            &format!("agreements/{agreement}/languages"),
            json!({"displayName": name, "locale": locale, "enabled": true, "agreement": {"id": agreement}}),
        );
        g.push(
            "languages",
            json!({"locale": locale, "name": name, "default": locale == "en", "enabled": true, "customerAdded": false}),
        );
    }

    // MFA.
    let offline = json!({
        "enabled": true,
        "otp": {
            "lifeTime": {"duration": 30, "timeUnit": "MINUTES"},
            "failure": {"count": 3, "coolDown": {"duration": 0, "timeUnit": "MINUTES"}},
        },
    });
    let failure =
        json!({"failure": {"count": 3, "coolDown": {"duration": 2, "timeUnit": "MINUTES"}}});
    g.push(
        "deviceAuthenticationPolicies",
        json!({
            "id": device_policy, "name": "Default MFA Policy", "default": true, "forSignOnPolicy": false,
            "sms": offline, "voice": offline, "email": offline,
            "mobile": {"enabled": true, "otp": failure}, "totp": {"enabled": true, "otp": failure},
            "newDeviceNotification": "NONE",
        }),
    );
    g.push(
        "fido2Policies",
        json!({
            "name": "Passkeys", "description": "Discoverable credentials", "default": true,
            "attestationRequirements": "NONE", "authenticatorAttachment": "BOTH",
            "backupEligibility": {"allow": true, "enforceDuringAuthentication": false},
            "deviceDisplayName": "fidoDeviceFullName", "discoverableCredentials": "REQUIRED",
            "mdsAuthenticatorsRequirements": {"enforceDuringAuthentication": false, "option": "NONE"},
            "relyingPartyId": "butterfly.example",
            "userDisplayNameAttributes": {"attributes": [{"name": "username"}]},
            "userVerification": {"enforceDuringAuthentication": true, "option": "REQUIRED"},
        }),
    );
    g.env.singletons.insert(
        format!("{}/mfaSettings", g.env.root()),
        json!({
            "environment": {"id": env_id},
            "pairing": {"maxAllowedDevices": 5, "pairingKeyFormat": "ALPHANUMERIC"},
            "lockout": {"failureCount": 5, "durationSeconds": 600},
            "authentication": {"deviceSelection": "DEFAULT_TO_FIRST"},
            "updatedAt": ts(4),
        }),
    );

    // Risk and authorize.
    g.push(
        "riskPolicySets",
        json!({"name": "Default Risk Policy", "description": "Medium and high risk", "default": true, "defaultResult": {"level": "LOW"}}),
    );
    for (name, compact, kind) in [
        (
            "Anonymous Network Detection",
            "anonymousNetwork",
            "ANONYMOUS_NETWORK",
        ),
        ("Geovelocity Anomaly", "geoVelocity", "GEO_VELOCITY"),
        ("IP Reputation", "ipRisk", "IP_REPUTATION"),
    ] {
        g.push(
            "riskPredictors",
            json!({"name": name, "compactName": compact, "type": kind, "licensed": true, "deletable": false}),
        );
    }
    g.push(
        "apiServers",
        json!({
            "name": "Orders API", "baseUrls": ["https://orders0.example.com"],
            "authorizationServer": {"type": "PINGONE_SSO", "resource": {"id": customs.first().map(|c| c.0.clone()).unwrap_or(openid)}},
        }),
    );

    // Generated after everything else, so that the ids above stay what a seed always gave.
    generate_templates(&mut g);
    generate_application_roles(&mut g);
    Generated {
        env: g.env,
        client_id,
        client_secret,
    }
}

/// Built-in notification templates (their `id` is their name, as in PingOne) and custom email
/// contents for two of them.
fn generate_templates(g: &mut Gen) {
    g.touch("templates");
    let templates: [(&str, &str, &str, &[&str], Value); 4] = [
        (
            "email_verification_user",
            "Email Verification (User)",
            "Users receive this email to verify their email address.",
            &["Email"],
            json!({"user.username": {"required": false}, "code": {"required": true}}),
        ),
        (
            "general",
            "General",
            "Use this multi-purpose template to create custom notifications.",
            &["SMS", "Email", "Voice"],
            json!({}),
        ),
        (
            "recovery_code_template",
            "Recovery Code",
            "Users receive this message with a code to recover their account.",
            &["Email", "SMS", "Voice"],
            json!({"user.username": {"required": false}, "otp": {"required": true}}),
        ),
        (
            "strong_authentication",
            "Strong Authentication",
            "Users receive this message with a one-time passcode to sign on.",
            &["SMS", "Email", "Voice", "Push"],
            json!({"otp": {"required": true, "requiredForDeliveryMethods": ["SMS", "Email", "Voice"]}}),
        ),
    ];
    for (name, display, description, methods, variables) in templates {
        g.push(
            "templates",
            json!({
                "id": name, "displayName": display, "description": description,
                "deliveryMethods": methods, "variables": variables, "allowDynamicVariables": true,
                "createdAt": ts(0), "updatedAt": ts(0),
            }),
        );
        g.touch(&format!("templates/{name}/contents"));
    }
    let contents = [
        (
            "email_verification_user",
            "en",
            "Verify your email",
            "<p>Hello ${user.username}, your verification code is ${code}.</p>",
        ),
        (
            "recovery_code_template",
            "en",
            "Your recovery code",
            "<p>Hello ${user.username}, use ${otp} to recover your account.</p>",
        ),
        (
            "recovery_code_template",
            "fr",
            "Votre code de récupération",
            "<p>Bonjour ${user.username}, utilisez ${otp} pour récupérer votre compte.</p>",
        ),
    ];
    for (name, locale, subject, body) in contents {
        g.push(
            &format!("templates/{name}/contents"),
            json!({
                "deliveryMethod": "Email", "locale": locale, "default": false,
                "subject": subject, "body": body,
                "from": {"name": "Butterfly Fake", "address": "noreply@mail.butterfly.example"},
                "replyTo": {"name": "Butterfly Support", "address": "support@mail.butterfly.example"},
                "charset": "UTF-8", "emailContentType": "text/html", "template": {"id": name},
            }),
        );
    }
}

/// Authorize application resources with their permissions, and application roles, the
/// first two holding some of those permissions.
fn generate_application_roles(g: &mut Gen) {
    let resources = format!("{}/resources", g.env.root());
    let Some(parent) = g.env.collections.get(&resources).and_then(|items| {
        items
            .iter()
            .find(|r| r["type"] == "CUSTOM")
            .and_then(|r| r["id"].as_str())
            .map(str::to_string)
    }) else {
        return;
    };
    let resource = g.push(
        &format!("resources/{parent}/applicationResources"),
        json!({"name": "orders", "description": "The order service", "parent": {"type": "PING_ONE_RESOURCE", "id": parent}}),
    );
    let rel = format!("applicationResources/{resource}/permissions");
    g.touch(&rel);
    let mut permissions = BTreeMap::new();
    for action in ["read", "write", "approve"] {
        let pid = g.push(
            &rel,
            json!({
                "action": action,
                "description": format!("The {action} permission on orders"),
                "resource": {"id": resource, "name": "orders"},
            }),
        );
        permissions.insert(action, pid);
    }
    g.touch("applicationRoles");
    let roles: [(&str, &str, &[&str]); 3] = [
        ("Orders Viewer", "Reads orders", &["read"]),
        (
            "Orders Editor",
            "Reads and changes orders",
            &["read", "write"],
        ),
        ("Auditor", "Reviews the audit trail", &[]),
    ];
    for (name, description, actions) in roles {
        let id = g.push(
            "applicationRoles",
            json!({"name": name, "description": description}),
        );
        let rel = format!("applicationRoles/{id}/permissions");
        g.touch(&rel);
        for action in actions {
            if let Some(item) = g.env.resource_permission(&permissions[action]) {
                let path = format!("{}/{rel}", g.env.root());
                g.env.collections.entry(path).or_default().push(item);
            }
        }
    }
}

struct PingApi {
    env: Arc<Mutex<Env>>,
    client_id: String,
    client_secret: String,
    withheld: BTreeSet<String>,
    missing_products: BTreeSet<String>,
    rng: Mutex<ChaCha8Rng>,
}

/// Decodes standard base64 (for HTTP Basic); `None` if malformed.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim().bytes().filter(|c| *c != b'=') {
        let v = ALPHA.iter().position(|a| *a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn decorate(base: &str, coll_path: &str, item: &Value) -> Value {
    let mut v = item.clone();
    if let Some(id) = item["id"].as_str() {
        v["_links"] = json!({"self": {"href": format!("{base}/v1{coll_path}/{id}")}});
    }
    v
}

/// The fields a write to `c` must carry: the collection's, and for a template content those
/// of its delivery method's schema (`TemplateContentEmail`: `body`; `Push`: `body`, `title`;
/// `SMS`, `Voice`: `content`).
fn required_fields(c: &Collection, body: &Value) -> Vec<&'static str> {
    let mut fields = c.required.to_vec();
    if c.embedded == "contents" {
        fields.extend_from_slice(match body["deliveryMethod"].as_str() {
            Some("Email") => &["body"][..],
            Some("Push") => &["body", "title"],
            Some("SMS" | "Voice") => &["content"],
            _ => &[],
        });
    }
    fields
}

/// A 400 `INVALID_DATA` with one `INVALID_VALUE` detail.
fn invalid_value(target: &str, message: &str) -> FakeResponse {
    FakeResponse::status(
        400,
        json!({"id": error_id(), "code": "INVALID_DATA", "message": "The request could not be completed. One or more validation errors were in the request.", "details": [{"code": "INVALID_VALUE", "target": target, "message": message}]}),
    )
}

/// Checks a template content written to `contents` (the concrete contents path): its
/// `deliveryMethod` is one its template supports, and a replace (`old`) keeps the
/// `deliveryMethod` and `locale` PingOne fixes at creation.
fn content_error(
    env: &Env,
    contents: &str,
    body: &Value,
    old: Option<&Value>,
) -> Option<FakeResponse> {
    let (template, _) = contents.rsplit_once('/')?;
    let (coll, name) = template.rsplit_once('/')?;
    let methods = &env.find(coll, name)?["deliveryMethods"];
    let method = &body["deliveryMethod"];
    if !methods.as_array().is_some_and(|m| m.contains(method)) {
        return Some(invalid_value(
            "deliveryMethod",
            &format!("The {name} template supports the delivery methods {methods}"),
        ));
    }
    let old = old?;
    ["deliveryMethod", "locale"]
        .into_iter()
        .find(|f| body[*f] != old[*f])
        .map(|f| {
            invalid_value(
                f,
                &format!("{f} cannot be changed after the content is created"),
            )
        })
}

fn missing_fields(body: &Value, required: &[&str]) -> Option<FakeResponse> {
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|f| body.get(*f).is_none_or(Value::is_null))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let details: Vec<Value> = missing
        .iter()
        .map(|f| json!({"code": "REQUIRED_VALUE", "target": f, "message": format!("{f} is required")}))
        .collect();
    Some(FakeResponse::status(
        400,
        json!({"id": error_id(), "code": "INVALID_DATA", "message": "The request could not be completed. One or more validation errors were in the request.", "details": details}),
    ))
}

impl PingApi {
    fn token(&self, req: &FakeRequest, env: &mut Env, env_segment: &str) -> FakeResponse {
        let form: BTreeMap<String, String> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return FakeResponse::status(
                400,
                json!({"error": "unsupported_grant_type", "error_description": "The grant type must be client_credentials."}),
            );
        }
        let basic = req
            .header("authorization")
            .and_then(|a| a.strip_prefix("Basic "))
            .and_then(base64_decode)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.split_once(':')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            });
        let (id, secret) = basic.unwrap_or_else(|| {
            (
                form.get("client_id").cloned().unwrap_or_default(),
                form.get("client_secret").cloned().unwrap_or_default(),
            )
        });
        if env_segment != env.id || id != self.client_id || secret != self.client_secret {
            return FakeResponse::status(
                401,
                json!({"error": "invalid_client", "error_description": "Request denied: Unsupported authentication method or invalid client credentials"}),
            );
        }
        env.next_token += 1;
        let token = format!("fake-ping-token-{}-{}", env.next_token, env.id);
        env.tokens.insert(token.clone());
        FakeResponse::ok(json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}))
    }

    /// The answer to a route of a service the environment does not have: the same 403
    /// `ACCESS_FAILED` as a missing role (an assumption: PingOne's documentation does not
    /// show this answer), so a client can tell the two apart only from the bill of materials.
    fn not_in_environment(&self, spec: &str, template: &str) -> Option<FakeResponse> {
        let product = product_of_spec(spec);
        if !self.missing_products.contains(product) {
            return None;
        }
        Some(FakeResponse::status(
            403,
            json!({
                "id": error_id(), "code": "ACCESS_FAILED",
                "message": "The request could not be completed. You do not have access to this resource.",
                "details": [{
                    "code": "INSUFFICIENT_PERMISSIONS", "target": template,
                    "message": "The actor attempting to perform the request is not authorized.",
                }],
            }),
        ))
    }

    /// `GET /environments/{id}/billOfMaterials`: the base platform and every service the
    /// environment has ([`PingOptions::missing_products`] left out), with the spec's
    /// `BillOfMaterials` shape.
    fn bill_of_materials(&self, req: &FakeRequest, base: &str, p: &str) -> FakeResponse {
        if let Some(resp) = self.denied(EA, "/environments/{}/billOfMaterials") {
            return resp;
        }
        if req.method != Method::GET {
            return ping_error(405, "METHOD_NOT_ALLOWED", "Method not allowed");
        }
        let products: Vec<Value> = [
            ("PING_ONE_BASE", "PingOne Base"),
            ("PING_ONE_MFA", "PingOne MFA"),
            ("PING_ONE_RISK", "PingOne Protect"),
            ("PING_ONE_AUTHORIZE", "PingOne Authorize"),
        ]
        .iter()
        .enumerate()
        .filter(|(_, (ty, _))| !self.missing_products.contains(*ty))
        .map(|(i, (ty, description))| {
            json!({
                "id": format!("6b1c0f2e-0d4a-4f3e-9a51-00000000000{i}"),
                "type": ty,
                "description": description,
            })
        })
        .collect();
        FakeResponse::ok(json!({
            "products": products,
            "solutionType": "CUSTOMER",
            "createdAt": "2026-01-05T09:00:00.000Z",
            "updatedAt": "2026-01-05T09:00:00.000Z",
            "_links": {"self": {"href": format!("{base}/v1{p}")}},
        }))
    }

    fn denied(&self, role: &str, template: &str) -> Option<FakeResponse> {
        if !(self.withheld.contains(template) || (!role.is_empty() && self.withheld.contains(role)))
        {
            return None;
        }
        let role = if role.is_empty() {
            ENVIRONMENT_ADMIN
        } else {
            role
        };
        Some(FakeResponse::status(
            403,
            json!({
                "id": error_id(), "code": "ACCESS_FAILED",
                "message": "The request could not be completed. You do not have access to this resource.",
                "details": [{
                    "code": "INSUFFICIENT_PERMISSIONS", "target": template,
                    "message": format!("The actor attempting to perform the request is not authorized: it needs the {role} role."),
                }],
            }),
        ))
    }

    fn new_id(&self) -> String {
        uuid(&mut lock(&self.rng))
    }

    fn answer(&self, req: &FakeRequest, base: &str, env: &mut Env) -> Option<FakeResponse> {
        if req.method != Method::GET {
            env.generation += 1;
        }
        let path = req.path.trim_end_matches('/');
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        if let [env_segment, "as", "token"] = segs.as_slice() {
            return Some(if req.method == Method::POST {
                self.token(req, env, env_segment)
            } else {
                ping_error(405, "METHOD_NOT_ALLOWED", "Use POST")
            });
        }
        let p = path.strip_prefix("/v1")?;
        let token = req
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "));
        if !token.is_some_and(|t| env.tokens.contains(t)) {
            let mut resp = ping_error(
                401,
                "INVALID_TOKEN",
                "The request could not be completed. The access token is missing, expired or invalid.",
            );
            if let Some(body) = resp.body.as_mut() {
                body["details"] = json!([{"code": "INVALID_VALUE", "target": "Authorization", "message": "Bearer token required"}]);
            }
            return Some(resp);
        }
        if let Some(rest) = p.strip_prefix("/environments/")
            && rest.split('/').next() != Some(env.id.as_str())
        {
            return Some(not_found(p));
        }
        if matches("/environments/{}/billOfMaterials", p) {
            return Some(self.bill_of_materials(req, base, p));
        }
        if let Some(s) = SINGLETONS.iter().find(|s| matches(s.path, p)) {
            if let Some(resp) = self
                .denied(s.role, s.path)
                .or_else(|| self.not_in_environment(s.spec, s.path))
            {
                return Some(resp);
            }
            return Some(self.singleton(req, base, env, s, p));
        }
        if let Some(c) = COLLECTIONS.iter().find(|c| matches(c.path, p)) {
            if let Some(resp) = self
                .denied(c.role, c.path)
                .or_else(|| self.not_in_environment(c.spec, c.path))
            {
                return Some(resp);
            }
            if !parent_exists(env, c, p) {
                return Some(not_found(p));
            }
            if req.method == Method::GET && p == format!("{}/applicationResources", env.root()) {
                return Some(list(req, base, c, p, Some(&env.application_resources())));
            }
            return Some(match req.method {
                Method::GET => list(req, base, c, p, env.collections.get(p)),
                Method::POST => self.create(req, base, env, c, p),
                _ => ping_error(405, "METHOD_NOT_ALLOWED", "Method not allowed"),
            });
        }
        let (parent, id) = p.rsplit_once('/')?;
        let c = COLLECTIONS.iter().find(|c| matches(c.path, parent))?;
        if parent == format!("{}/applicationResources", env.root()) {
            return Some(match (&req.method, env.application_resource(id)) {
                (&Method::GET, Some(item)) => FakeResponse::ok(decorate(base, parent, item)),
                (&Method::GET, None) => not_found(p),
                _ => ping_error(405, "METHOD_NOT_ALLOWED", "Method not allowed"),
            });
        }
        if let Some(resp) = self
            .denied(c.role, c.path)
            .or_else(|| self.not_in_environment(c.spec, c.path))
        {
            return Some(resp);
        }
        let Some(pos) = env
            .collections
            .get(parent)
            .and_then(|items| items.iter().position(|i| i["id"] == id))
        else {
            return Some(not_found(p));
        };
        Some(match (req.method.clone(), c.writes) {
            (Method::GET, _) if c.item_get => {
                FakeResponse::ok(decorate(base, parent, &env.collections[parent][pos]))
            }
            (Method::PUT, Writes::Items) => {
                let body = req.json();
                if !body.is_object() {
                    return Some(invalid_body());
                }
                if let Some(resp) = missing_fields(&body, &required_fields(c, &body)) {
                    return Some(resp);
                }
                let old = env.collections[parent][pos].clone();
                if c.embedded == "contents"
                    && let Some(resp) = content_error(env, parent, &body, Some(&old))
                {
                    return Some(resp);
                }
                let items = env.collections.get_mut(parent)?;
                let mut item = body;
                if let Some(obj) = item.as_object_mut() {
                    obj.remove("password");
                    obj.remove("_links");
                    obj.remove("clientSecret");
                    let fixed: &[&str] = if c.embedded == "contents" {
                        &["id", "environment", "createdAt", "template", "default"]
                    } else {
                        &["id", "environment", "createdAt", "parent"]
                    };
                    for keep in fixed {
                        if let Some(v) = old.get(keep) {
                            obj.insert(keep.to_string(), v.clone());
                        }
                    }
                    obj.insert("updatedAt".into(), json!(now()));
                }
                items[pos] = item.clone();
                FakeResponse::ok(decorate(base, parent, &item))
            }
            (Method::DELETE, Writes::Items | Writes::CreateDelete | Writes::Membership) => {
                env.collections.get_mut(parent)?.remove(pos);
                env.cascade(parent, id);
                FakeResponse::no_content()
            }
            _ => ping_error(405, "METHOD_NOT_ALLOWED", "Method not allowed"),
        })
    }

    fn singleton(
        &self,
        req: &FakeRequest,
        base: &str,
        env: &mut Env,
        s: &Singleton,
        p: &str,
    ) -> FakeResponse {
        let with_links = |v: &Value| {
            let mut v = v.clone();
            v["_links"] = json!({"self": {"href": format!("{base}/v1{p}")}});
            v
        };
        if s.path.ends_with("/secret") {
            let app = p.trim_end_matches("/secret");
            let (coll, id) = app.rsplit_once('/').unwrap_or_default();
            if env.find(coll, id).is_none() {
                return not_found(p);
            }
        }
        match req.method {
            Method::GET => match env.singletons.get(p) {
                Some(v) => FakeResponse::ok(with_links(v)),
                None => not_found(p),
            },
            Method::PUT if s.writable => {
                let body = req.json();
                let Some(src) = body.as_object() else {
                    return invalid_body();
                };
                let Some(entry) = env.singletons.get_mut(p) else {
                    return not_found(p);
                };
                if let Some(target) = entry.as_object_mut() {
                    for (k, v) in src {
                        if !matches!(k.as_str(), "id" | "environment" | "_links" | "createdAt") {
                            target.insert(k.clone(), v.clone());
                        }
                    }
                }
                FakeResponse::ok(with_links(entry))
            }
            _ => ping_error(405, "METHOD_NOT_ALLOWED", "Method not allowed"),
        }
    }

    fn create(
        &self,
        req: &FakeRequest,
        base: &str,
        env: &mut Env,
        c: &Collection,
        p: &str,
    ) -> FakeResponse {
        if c.writes == Writes::ReadOnly {
            return ping_error(405, "METHOD_NOT_ALLOWED", "Method not allowed");
        }
        let body = req.json();
        if !body.is_object() {
            return invalid_body();
        }
        if let Some(resp) = missing_fields(&body, &required_fields(c, &body)) {
            return resp;
        }
        if c.embedded == "contents"
            && let Some(resp) = content_error(env, p, &body, None)
        {
            return resp;
        }
        let env_ref = json!({"id": env.id});
        let item = if c.writes == Writes::Membership && c.embedded == "permissions" {
            let pid = body["id"].as_str().unwrap_or_default();
            let Some(permission) = env.resource_permission(pid) else {
                return not_found(&format!(
                    "{}/applicationResources/{{}}/permissions/{pid}",
                    env.root()
                ));
            };
            if env
                .collections
                .get(p)
                .is_some_and(|items| items.iter().any(|i| i["id"] == pid))
            {
                return ping_error(400, "INVALID_DATA", "The role already has the permission");
            }
            permission
        } else if c.writes == Writes::Membership {
            let gid = body["id"].as_str().unwrap_or_default();
            let groups = format!("{}/groups", env.root());
            let Some(group) = env.find(&groups, gid) else {
                return not_found(&format!("{groups}/{gid}"));
            };
            if env
                .collections
                .get(p)
                .is_some_and(|items| items.iter().any(|i| i["id"] == gid))
            {
                return ping_error(
                    400,
                    "INVALID_DATA",
                    "The user or group is already a member of the group",
                );
            }
            json!({"id": gid, "name": group["name"], "type": "DIRECT", "environment": env_ref})
        } else {
            let mut item = body;
            let t = now();
            if let Some(obj) = item.as_object_mut() {
                obj.remove("password");
                obj.remove("_links");
                obj.remove("clientSecret");
                obj.insert("id".into(), json!(self.new_id()));
                obj.insert("environment".into(), env_ref);
                obj.insert("createdAt".into(), json!(t));
                obj.insert("updatedAt".into(), json!(t));
            }
            if c.embedded == "users" {
                if item.get("population").is_none() {
                    item["population"] = json!({"id": env.default_population});
                }
                item["enabled"] = json!(true);
                item["account"] = json!({"canAuthenticate": true, "status": "OK"});
            }
            if c.path.ends_with("/resources/{}/applicationResources") {
                let resource = p.rsplit('/').nth(1).unwrap_or_default();
                item["parent"] = json!({"type": "PING_ONE_RESOURCE", "id": resource});
            }
            if c.embedded == "contents" {
                // A created content is a custom one, of the template in its path.
                let name = p.rsplit('/').nth(1).unwrap_or_default();
                item["default"] = json!(false);
                item["template"] = json!({"id": name});
            }
            item
        };
        let id = item["id"].as_str().unwrap_or_default().to_string();
        if c.embedded == "applications" && item["protocol"] == "OPENID_CONNECT" {
            let secret = sentinel(&mut lock(&self.rng), "ping-app-secret");
            env.sentinels.push(secret.clone());
            env.singletons.insert(
                format!("{p}/{id}/secret"),
                json!({"secret": secret, "environment": {"id": env.id}}),
            );
        }
        env.collections
            .entry(p.to_string())
            .or_default()
            .push(item.clone());
        // The spec documents 200, not 201, for these creates.
        let status = if CREATED_200.iter().any(|t| matches(t, p)) {
            200
        } else {
            201
        };
        FakeResponse::status(status, decorate(base, p, &item))
    }
}

/// Collections whose `POST` answers 200 in the spec (the others answer 201).
pub const CREATED_200: &[&str] = &[
    "/environments/{}/identityProviders",
    "/environments/{}/notificationsPolicies",
    "/environments/{}/languages",
];

fn invalid_body() -> FakeResponse {
    FakeResponse::status(
        400,
        json!({"id": error_id(), "code": "INVALID_DATA", "message": "The request body is not a JSON object.", "details": [{"code": "INVALID_VALUE", "target": "body", "message": "A JSON object is required"}]}),
    )
}

/// Whether the item a sub-collection hangs from exists (top-level collections always do).
fn parent_exists(env: &Env, c: &Collection, p: &str) -> bool {
    if c.path.matches("{}").count() < 2 {
        return true;
    }
    let Some((item, _)) = p.rsplit_once('/') else {
        return false;
    };
    let Some((coll, id)) = item.rsplit_once('/') else {
        return false;
    };
    if coll == format!("{}/applicationResources", env.root()) {
        return env.application_resource(id).is_some();
    }
    env.find(coll, id).is_some()
}

fn list(
    req: &FakeRequest,
    base: &str,
    c: &Collection,
    p: &str,
    items: Option<&Vec<Value>>,
) -> FakeResponse {
    let empty = Vec::new();
    let items = items.unwrap_or(&empty);
    let limit = match req.param("limit") {
        Some(l) => match l.parse::<usize>() {
            Ok(n) if n > 0 => n.min(1000),
            _ => {
                return ping_error(400, "INVALID_REQUEST", "limit must be a positive integer");
            }
        },
        None => c.default_limit.unwrap_or(usize::MAX),
    };
    // The cursor is opaque to clients: here the position to resume at.
    let start = match req.param("cursor") {
        Some(cursor) => match cursor
            .strip_prefix("c")
            .and_then(|n| usize::from_str_radix(n, 16).ok())
        {
            Some(n) => n.min(items.len()),
            None => return ping_error(400, "INVALID_REQUEST", "The cursor is not valid"),
        },
        None => 0,
    };
    let page: Vec<Value> = items
        .iter()
        .skip(start)
        .take(limit)
        .map(|i| decorate(base, p, i))
        .collect();
    let mut keep: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| k != "cursor" && k != "limit")
        .cloned()
        .collect();
    if limit != usize::MAX {
        keep.push(("limit".into(), limit.to_string()));
    }
    let href = |pairs: &[(String, String)]| {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        if q.is_empty() {
            format!("{base}/v1{p}")
        } else {
            format!("{base}/v1{p}?{q}")
        }
    };
    let mut self_pairs = keep.clone();
    if start > 0 {
        self_pairs.insert(0, ("cursor".into(), format!("c{start:x}")));
    }
    let mut links = json!({"self": {"href": href(&self_pairs)}});
    let end = start.saturating_add(page.len());
    if end < items.len() {
        let mut next = keep;
        next.insert(0, ("cursor".into(), format!("c{end:x}")));
        links["next"] = json!({"href": href(&next)});
    }
    FakeResponse::ok(json!({
        "_links": links,
        "_embedded": {c.embedded: page},
        "count": items.len(),
        "size": page.len(),
    }))
}

impl FakeApi for PingApi {
    fn handle(&self, req: &FakeRequest, base: &str) -> Option<FakeResponse> {
        let mut env = lock(&self.env);
        self.answer(req, base, &mut env)
    }

    fn bucket(&self, method: &Method, path: &str) -> String {
        ping_bucket(method, path)
    }

    fn rate_limited_body(&self) -> Value {
        json!({"id": error_id(), "code": "REQUEST_LIMITED", "message": "The request was rate limited. Retry after the delay in the Retry-After header."})
    }

    fn is_write(&self, method: &Method, path: &str) -> bool {
        *method != Method::GET && !path.ends_with("/as/token")
    }

    fn fault_body(&self, status: u16) -> Value {
        let code = if status == 503 {
            "SERVICE_UNAVAILABLE"
        } else {
            "UNEXPECTED_ERROR"
        };
        json!({"id": error_id(), "code": code, "message": "An unexpected error occurred (injected fault)."})
    }

    fn limit_headers(
        &self,
        _limit: u32,
        _used: u32,
        reset_in: Duration,
        refused: bool,
    ) -> Option<Vec<(String, String)>> {
        crate::fake::retry_after_only(reset_in, refused)
    }
}

/// A running fake PingOne environment. Dropping it stops the server.
pub struct FakePing {
    server: FakeServer,
    env: Arc<Mutex<Env>>,
    environment_id: String,
    client_id: String,
    client_secret: String,
}

impl FakePing {
    /// Generates an environment from `spec` and serves it on 127.0.0.1.
    pub async fn start(spec: PingEnvSpec, options: PingOptions) -> std::io::Result<FakePing> {
        let generated = generate(&spec);
        let environment_id = generated.env.id.clone();
        let env = Arc::new(Mutex::new(generated.env));
        let api = PingApi {
            env: env.clone(),
            client_id: generated.client_id.clone(),
            client_secret: generated.client_secret.clone(),
            withheld: options.withheld.into_iter().collect(),
            missing_products: options.missing_products.into_iter().collect(),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(spec.seed.wrapping_add(77))),
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
        Ok(FakePing {
            server,
            env,
            environment_id,
            client_id: generated.client_id,
            client_secret: generated.client_secret,
        })
    }

    /// `http://127.0.0.1:PORT`: the host of both the token endpoint and the API.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The API root, `{base_url}/v1` (`https://api.pingone.<region>/v1` for the real API).
    pub fn api_url(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// The token endpoint, `{base_url}/{environmentId}/as/token`.
    pub fn token_url(&self) -> String {
        format!("{}/{}/as/token", self.base_url(), self.environment_id)
    }

    /// The environment's id.
    pub fn environment_id(&self) -> &str {
        &self.environment_id
    }

    /// The worker app's client id (its application id).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The worker app's client secret (a sentinel).
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// The framework server (writes, unknown requests).
    pub fn server(&self) -> &FakeServer {
        &self.server
    }

    /// Writes received so far.
    pub fn write_count(&self) -> usize {
        self.server.write_count()
    }

    /// Every secret value planted in the environment (created OIDC applications add theirs).
    pub fn sentinels(&self) -> Vec<String> {
        lock(&self.env).sentinels.clone()
    }

    /// The items of a collection as stored (without `_links`), by concrete path with or
    /// without `/v1` (`/environments/{id}/users`), or relative to the environment (`users`,
    /// `groups/{id}/memberOfGroups`). Unknown: empty.
    pub fn items(&self, path: &str) -> Vec<Value> {
        let env = lock(&self.env);
        let key = resolve(&env, path);
        if key == format!("{}/applicationResources", env.root()) {
            return env.application_resources();
        }
        env.collections.get(&key).cloned().unwrap_or_default()
    }

    /// A singleton as stored (`brandingSettings`, `applications/{id}/secret`, or the
    /// environment itself with `""`), by the same paths as [`FakePing::items`].
    pub fn singleton(&self, path: &str) -> Option<Value> {
        let env = lock(&self.env);
        let key = resolve(&env, path);
        env.singletons.get(key.trim_end_matches('/')).cloned()
    }

    /// Gets a token for the worker app through the token endpoint.
    pub async fn access_token(&self) -> Result<String> {
        let resp = reqwest::Client::new()
            .post(self.token_url())
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .map_err(|e| Error::new(ErrorKind::Transient, format!("token request: {e}")))?;
        let body: Value = resp
            .json()
            .await
            .map_err(|e| Error::new(ErrorKind::InvalidData, format!("token answer: {e}")))?;
        body["access_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::new(ErrorKind::InvalidData, format!("no token in {body}")))
    }

    async fn admin_delete(&self, token: &str, rel: &str) -> Result<()> {
        let url = format!(
            "{}/environments/{}/{rel}",
            self.api_url(),
            self.environment_id
        );
        let resp = reqwest::Client::new()
            .delete(&url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| Error::new(ErrorKind::Transient, format!("DELETE {url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!("DELETE {url} answered {}", resp.status()),
            ));
        }
        Ok(())
    }

    /// An admin's incident, through the API (each deletion in the write log): the
    /// non-default sign-on policy assigned to the most applications loses its assignments and
    /// is deleted, and a group with members (not the largest) is deleted, taking its user
    /// memberships and nestings with it. Returns what was removed.
    pub async fn incident(&self) -> Result<Incident> {
        let policies = self.items("signOnPolicies");
        let apps = self.items("applications");
        let assignments_of = |pid: &Value| -> Vec<(String, String)> {
            apps.iter()
                .filter_map(|a| a["id"].as_str())
                .flat_map(|app| {
                    self.items(&format!("applications/{app}/signOnPolicyAssignments"))
                        .into_iter()
                        .filter(|s| s["signOnPolicy"]["id"] == *pid)
                        .filter_map(|s| Some((app.to_string(), s["id"].as_str()?.to_string())))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let policy = policies
            .iter()
            .filter(|p| p["default"] != true)
            .max_by_key(|p| assignments_of(&p["id"]).len())
            .cloned()
            .ok_or_else(|| {
                Error::not_found("the environment lacks a non-default sign-on policy")
            })?;
        let assignments = assignments_of(&policy["id"]);
        let groups = self.items("groups");
        let members = |gid: &str| {
            self.items("users")
                .iter()
                .filter_map(|u| u["id"].as_str())
                .filter(|u| {
                    self.items(&format!("users/{u}/memberOfGroups"))
                        .iter()
                        .any(|m| m["id"] == gid)
                })
                .count()
        };
        let group = groups
            .iter()
            .skip(1)
            .find(|g| g["id"].as_str().is_some_and(|id| members(id) > 0))
            .cloned()
            .ok_or_else(|| Error::not_found("the environment lacks a group with members"))?;
        let policy_id = policy["id"].as_str().unwrap_or_default().to_string();
        let group_id = group["id"].as_str().unwrap_or_default().to_string();
        let summary = vec![
            format!(
                "sign-on policy {:?} and its {} application assignments",
                policy["name"].as_str().unwrap_or_default(),
                assignments.len()
            ),
            format!(
                "group {:?} with {} members",
                group["name"].as_str().unwrap_or_default(),
                members(&group_id)
            ),
        ];
        let token = self.access_token().await?;
        let mut removed = Vec::new();
        for (app, sid) in &assignments {
            self.admin_delete(
                &token,
                &format!("applications/{app}/signOnPolicyAssignments/{sid}"),
            )
            .await?;
            removed.push(Affected::new(
                "ping.application_sign_on_policy_assignment",
                format!("{app}/{sid}"),
                Severity::High,
            ));
        }
        self.admin_delete(&token, &format!("signOnPolicies/{policy_id}"))
            .await?;
        removed.push(Affected::new(
            "ping.sign_on_policy",
            policy_id,
            Severity::Critical,
        ));
        self.admin_delete(&token, &format!("groups/{group_id}"))
            .await?;
        removed.push(Affected::new("ping.group", group_id, Severity::High));
        Ok(Incident {
            summary,
            removed,
            changed: Vec::new(),
            kinds: [
                "ping.sign_on_policy",
                "ping.sign_on_policy_action",
                "ping.application_sign_on_policy_assignment",
                "ping.group",
                "ping.group_membership",
                "ping.group_nesting",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            differences: Differences {
                text: "new object ids: PingOne assigns ids on create, so the re-created policy, its actions and assignments, and the group get new ones".into(),
                plan_notes: Vec::new(),
                fields: Vec::new(),
            },
        })
    }
}

/// A collection or singleton key of the store for `path` (see [`FakePing::items`]).
fn resolve(env: &Env, path: &str) -> String {
    let path = path.strip_prefix("/v1").unwrap_or(path);
    if path.starts_with("/environments/") || path.starts_with("/roles") {
        path.to_string()
    } else if path.is_empty() {
        env.root()
    } else {
        format!("{}/{}", env.root(), path.trim_start_matches('/'))
    }
}

/// The ids of `items`.
pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}
