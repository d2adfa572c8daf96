//! A fake Auth0 tenant that behaves like the Management API v2, shaped after the official
//! OpenAPI description (`shared/fixtures/auth0/spec/management-api-oas.json`) and the go-auth0
//! v1.45.0 recordings (`shared/fixtures/auth0/cassettes/go-auth0-v1`).
//!
//! # Routes
//! Every collection in [`COLLECTIONS`] answers `GET /api/v2/{path}` (list) and `POST`
//! (create, with a new Auth0-style id), and on `{path}/{id}`: `GET`, `PATCH` (merge), `PUT`
//! (replace) and `DELETE`. Singletons ([`SINGLETONS`]) answer `GET`, `PATCH` and `PUT`.
//! Special routes: `/oauth/token`; `/users` and `/users/{id}` (ids are `provider|id`,
//! percent-encoded in paths); `/users/{id}/roles`, `/roles/{id}/users` and
//! `/organizations/{id}/members` over membership sets; `/connections/{id}/clients`;
//! `/actions/actions/{id}/deploy`; `PATCH /actions/triggers/{trigger}/bindings`;
//! `/jobs/users-exports` and `/jobs/{id}`; the export download under `/exports/`.
//!
//! Behaviour kept from the real API:
//! - Auth: `POST /oauth/token` with `client_credentials`, by client secret or a
//!   `private_key_jwt` assertion (RS256, checked against the test public key); the answer's
//!   `scope` lists every scope the fake knows but the withheld ones. Each route needs
//!   `read:`/`create:`/`update:`/`delete:` of its scope family; a missing one is 403
//!   `insufficient_scope` ("Insufficient scope, expected any of: …").
//! - Paging: `page`/`per_page` (default 50, max 100) and `include_totals` envelopes
//!   (`{"start","limit","length","total","<key>"}`), actions-style
//!   `{"total","page","per_page","<key>"}`, and `from`/`take` checkpoints
//!   (`{"<key>","next"}`) where the spec has them. `GET /users` pages through the first 1,000
//!   results only (`page * per_page >= 1000` is 400 `invalid_paging`), while `total` counts all;
//!   it filters with a small Lucene subset in `q` (`field:value`, `field:prefix*`,
//!   `field:[a TO b]`, `{a TO b}`, `*` bounds, `AND`) and sorts with `sort=field:1|-1`.
//! - The users-export job: `POST /jobs/users-exports` answers 201 `pending`; `GET /jobs/{id}`
//!   moves to `processing` and then `completed` (after about a second, divided by the rate-limit
//!   time scale) with a `location` whose gzipped NDJSON needs no bearer token. The export is a
//!   job, not a tenant write: it is not in the write log.
//! - Secrets Auth0 never returns (action secrets, hook secret values, rules-config values)
//!   are not returned here either; those it returns (client secrets, resource-server signing
//!   secrets, connection client secrets, email-provider credentials, log-stream tokens, Twilio
//!   tokens, event-stream tokens) carry `SENTINEL-…` values ([`FakeAuth0::sentinels`]).
//! - Deletes cascade: a client takes its grants and its entries in connections'
//!   `enabled_clients`; a resource server its grants; a role its memberships; a user its
//!   memberships; a connection its organization entries; any item its nested collections.
//! - Errors: `{"statusCode","error","message","errorCode"}` (`inexistent_client`, …,
//!   `already_exists`); 429 `too_many_requests` from a token bucket
//!   ([`auth0_rate_limits`]) with `x-ratelimit-limit`/`-remaining`/`-reset`.
//!
//! Fidelity: `tests/auth0_openapi.rs` validates every implemented `GET` route against the
//! spec's 200 response schema.
//!
//! ```
//! use butterfly_testkit::auth0::{Auth0Options, Auth0TenantSpec, FakeAuth0};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let fake = FakeAuth0::start(Auth0TenantSpec { users: 20, seed: 1 }, Auth0Options::default())
//!     .await
//!     .unwrap();
//! assert_eq!(fake.items("users").len(), 20);
//! assert!(fake.sentinels().iter().any(|s| s == fake.client_secret()));
//! assert_eq!(fake.audience(), format!("{}/api/v2/", fake.base_url()));
//! # });
//! ```

mod generate;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::Method;
use serde_json::{Map, Value, json};

use crate::fake::{
    BucketLimit, FakeApi, FakeRequest, FakeResponse, FakeServer, FaultRule, RateLimitConfig,
    RateLimitMode, RawResponse, ServerOptions, lock, matches, merge, verify_test_assertion,
};

/// The test-only RSA private key (PEM) for the `private_key_jwt` client assertion.
pub const TEST_PRIVATE_KEY_PEM: &str = include_str!("../keys/okta-test-private.pem");

/// The tenant's public domain (the Management API audience is `https://{DOMAIN}/api/v2/`).
pub const DOMAIN: &str = "butterfly-fake.eu.auth0.com";
const TENANT: &str = "butterfly-fake";

/// How a collection lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// A bare array of everything.
    None,
    /// `page`/`per_page`/`include_totals`.
    Page,
    /// `page`/`per_page`/`include_totals`, or `from`/`take` checkpoints.
    PageOrCheckpoint,
    /// Always `{"<key>": [...], "next": …}` with `from`/`take`.
    Checkpoint,
    /// A bare array, or a checkpoint envelope when `take` or `from` is given.
    ArrayOrCheckpoint,
    /// Always `{"total","page","per_page","<key>"}` (actions).
    Totals,
    /// No list route (items by id only).
    NoList,
}

/// How new ids look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdStyle {
    /// Prefix and 16 letters and digits (`rol_…`).
    Prefix(&'static str),
    /// Prefix and 22 letters and digits (`est_…`).
    LongPrefix(&'static str),
    /// 32 letters and digits (clients).
    ClientId,
    /// 24 hex digits (resource servers).
    Hex24,
    /// A UUID (actions, network ACLs).
    Uuid,
    /// A ULID (hooks).
    Ulid,
    /// The id is in the body (email templates, guardian factors, rules configs).
    Given,
}

/// A collection route.
#[derive(Debug, Clone, Copy)]
pub struct Collection {
    /// Path under `/api/v2/`; `{}` segments match any id.
    pub path: &'static str,
    /// The list envelope's member (as the spec names it).
    pub key: &'static str,
    /// The id field of an item.
    pub id: &'static str,
    /// How it lists.
    pub paging: Paging,
    /// Scope family: `read:{scope}`, `create:{scope}`, `update:{scope}`, `delete:{scope}`.
    pub scope: &'static str,
    /// How new ids look.
    pub ids: IdStyle,
    /// For membership-like collections, the body member of a bulk add (`POST`) or remove
    /// (`DELETE` on the collection).
    pub bulk: Option<&'static str>,
}

const fn coll(
    path: &'static str,
    key: &'static str,
    id: &'static str,
    paging: Paging,
    scope: &'static str,
    ids: IdStyle,
) -> Collection {
    Collection {
        path,
        key,
        id,
        paging,
        scope,
        ids,
        bulk: None,
    }
}

/// Every collection the fake serves (users, role and organization members are special).
pub const COLLECTIONS: &[Collection] = &[
    coll(
        "clients",
        "clients",
        "client_id",
        Paging::PageOrCheckpoint,
        "clients",
        IdStyle::ClientId,
    ),
    coll(
        "client-grants",
        "client_grants",
        "id",
        Paging::PageOrCheckpoint,
        "client_grants",
        IdStyle::Prefix("cgr_"),
    ),
    coll(
        "resource-servers",
        "resource_servers",
        "id",
        Paging::Page,
        "resource_servers",
        IdStyle::Hex24,
    ),
    coll(
        "connections",
        "connections",
        "id",
        Paging::PageOrCheckpoint,
        "connections",
        IdStyle::Prefix("con_"),
    ),
    coll(
        "roles",
        "roles",
        "id",
        Paging::Page,
        "roles",
        IdStyle::Prefix("rol_"),
    ),
    Collection {
        bulk: Some("permissions"),
        ..coll(
            "roles/{}/permissions",
            "permissions",
            "permission_name",
            Paging::Page,
            "roles",
            IdStyle::Given,
        )
    },
    Collection {
        bulk: Some("permissions"),
        ..coll(
            "users/{}/permissions",
            "permissions",
            "permission_name",
            Paging::Page,
            "users",
            IdStyle::Given,
        )
    },
    coll(
        "organizations",
        "organizations",
        "id",
        Paging::PageOrCheckpoint,
        "organizations",
        IdStyle::Prefix("org_"),
    ),
    coll(
        "organizations/{}/enabled_connections",
        "enabled_connections",
        "connection_id",
        Paging::Page,
        "organization_connections",
        IdStyle::Given,
    ),
    coll(
        "organizations/{}/invitations",
        "invitations",
        "id",
        Paging::Page,
        "organization_invitations",
        IdStyle::Prefix("uinv_"),
    ),
    Collection {
        bulk: Some("roles"),
        ..coll(
            "organizations/{}/members/{}/roles",
            "roles",
            "id",
            Paging::Page,
            "organization_member_roles",
            IdStyle::Given,
        )
    },
    coll(
        "actions/actions",
        "actions",
        "id",
        Paging::Totals,
        "actions",
        IdStyle::Uuid,
    ),
    coll(
        "actions/actions/{}/versions",
        "versions",
        "id",
        Paging::Totals,
        "actions",
        IdStyle::Uuid,
    ),
    coll(
        "actions/triggers/{}/bindings",
        "bindings",
        "id",
        Paging::Totals,
        "actions",
        IdStyle::Uuid,
    ),
    coll(
        "rules",
        "rules",
        "id",
        Paging::Page,
        "rules",
        IdStyle::Prefix("rul_"),
    ),
    coll(
        "rules-configs",
        "rules_configs",
        "key",
        Paging::None,
        "rules_configs",
        IdStyle::Given,
    ),
    coll("hooks", "hooks", "id", Paging::Page, "hooks", IdStyle::Ulid),
    coll(
        "custom-domains",
        "custom_domains",
        "custom_domain_id",
        Paging::ArrayOrCheckpoint,
        "custom_domains",
        IdStyle::Prefix("cd_"),
    ),
    coll(
        "branding/themes",
        "themes",
        "themeId",
        Paging::NoList,
        "branding",
        IdStyle::ClientId,
    ),
    coll(
        "email-templates",
        "email_templates",
        "template",
        Paging::NoList,
        "email_templates",
        IdStyle::Given,
    ),
    coll(
        "log-streams",
        "log_streams",
        "id",
        Paging::None,
        "log_streams",
        IdStyle::Prefix("lst_"),
    ),
    coll(
        "guardian/factors",
        "factors",
        "name",
        Paging::None,
        "guardian_factors",
        IdStyle::Given,
    ),
    coll(
        "keys/signing",
        "keys",
        "kid",
        Paging::None,
        "signing_keys",
        IdStyle::ClientId,
    ),
    coll(
        "network-acls",
        "network_acls",
        "id",
        Paging::Page,
        "network_acls",
        IdStyle::Uuid,
    ),
    coll(
        "forms",
        "forms",
        "id",
        Paging::Page,
        "forms",
        IdStyle::Prefix("ap_"),
    ),
    coll(
        "flows",
        "flows",
        "id",
        Paging::Page,
        "flows",
        IdStyle::Prefix("af_"),
    ),
    coll(
        "self-service-profiles",
        "self_service_profiles",
        "id",
        Paging::Page,
        "self_service_profiles",
        IdStyle::Prefix("ssp_"),
    ),
    coll(
        "event-streams",
        "eventStreams",
        "id",
        Paging::Checkpoint,
        "event_streams",
        IdStyle::LongPrefix("est_"),
    ),
];

/// Singletons: path template under `/api/v2/` and scope family.
pub const SINGLETONS: &[(&str, &str)] = &[
    ("tenants/settings", "tenant_settings"),
    ("branding", "branding"),
    ("branding/templates/universal-login", "branding"),
    ("branding/themes/default", "branding"),
    ("prompts", "prompts"),
    ("prompts/{}/custom-text/{}", "prompts"),
    ("prompts/{}/partials", "prompts"),
    ("emails/provider", "email_provider"),
    (
        "attack-protection/breached-password-detection",
        "attack_protection",
    ),
    (
        "attack-protection/brute-force-protection",
        "attack_protection",
    ),
    (
        "attack-protection/suspicious-ip-throttling",
        "attack_protection",
    ),
    ("guardian/policies", "mfa_policies"),
    ("guardian/factors/sms/providers/twilio", "guardian_factors"),
    ("guardian/factors/sms/templates", "guardian_factors"),
    ("guardian/factors/phone/message-types", "guardian_factors"),
    (
        "guardian/factors/phone/selected-provider",
        "guardian_factors",
    ),
    ("actions/triggers", "actions"),
    ("hooks/{}/secrets", "hooks"),
];

/// Special routes (served from membership sets or computed), with their scope family, for
/// tests that walk every `GET` route.
pub const SPECIAL_ROUTES: &[(&str, &str)] = &[
    ("users", "users"),
    ("users/{}", "users"),
    ("users/{}/roles", "users"),
    ("roles/{}/users", "roles"),
    ("organizations/{}/members", "organization_members"),
    ("connections/{}/clients", "connections"),
];

/// Every scope the fake knows (`read:`, `create:`, `update:`, `delete:` of every family).
pub fn all_scopes() -> Vec<String> {
    let families: BTreeSet<&str> = COLLECTIONS
        .iter()
        .map(|c| c.scope)
        .chain(SINGLETONS.iter().map(|(_, s)| *s))
        .chain(SPECIAL_ROUTES.iter().map(|(_, s)| *s))
        .collect();
    families
        .iter()
        .flat_map(|f| {
            ["read", "create", "update", "delete"]
                .iter()
                .map(move |v| format!("{v}:{f}"))
        })
        .collect()
}

/// What tenant to generate.
#[derive(Debug, Clone)]
pub struct Auth0TenantSpec {
    /// Users.
    pub users: usize,
    /// Seed: the same seed gives the same tenant.
    pub seed: u64,
}

impl Default for Auth0TenantSpec {
    fn default() -> Self {
        Auth0TenantSpec {
            users: 200,
            seed: 1,
        }
    }
}

/// Auth0 subscription tiers, for their Management API rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth0Tier {
    /// Free: 2 requests per second.
    Free,
    /// Enterprise: a burst of 50 refilling at 16 per second.
    Enterprise,
}

/// How the fake server behaves.
#[derive(Debug, Clone, Default)]
pub struct Auth0Options {
    /// Rate limits (`None`: unlimited). See [`auth0_rate_limits`].
    pub rate_limits: Option<RateLimitConfig>,
    /// Faults to inject.
    pub faults: Vec<FaultRule>,
    /// Management API scopes never granted (e.g. `read:client_grants`).
    pub withheld_scopes: Vec<String>,
    /// Port (0: any).
    pub port: u16,
}

/// The Management API token bucket of a tier, time running `time_scale` times faster. All of
/// `/api/v2` shares the bucket `management`; the token endpoint is not limited.
pub fn auth0_rate_limits(tier: Auth0Tier, time_scale: f64) -> RateLimitConfig {
    // Token-bucket mode: `limit` is the burst; the bucket refills `limit` tokens per window.
    let (burst, per_second) = match tier {
        Auth0Tier::Free => (2u32, 2.0),
        Auth0Tier::Enterprise => (50u32, 16.0),
    };
    RateLimitConfig {
        buckets: vec![BucketLimit {
            name: "management".to_string(),
            limit: burst,
        }],
        window: Duration::from_secs_f64(f64::from(burst) / per_second),
        headers: [
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        ],
        concurrency: 1000,
        time_scale,
    }
}

/// The in-memory tenant. Collections are keyed by their concrete path under `/api/v2/`
/// (`"users"`, `"clients"`, `"roles/rol_…/permissions"`), singletons likewise.
#[derive(Debug, Default)]
pub struct Auth0Tenant {
    /// Collections by concrete path.
    pub collections: BTreeMap<String, Vec<Value>>,
    /// Singletons by concrete path.
    pub singletons: BTreeMap<String, Value>,
    /// Role id -> user ids.
    pub role_members: BTreeMap<String, BTreeSet<String>>,
    /// Organization id -> member user ids.
    pub org_members: BTreeMap<String, BTreeSet<String>>,
    sentinels: Vec<String>,
    hidden_secrets: Vec<String>,
    backup_client: (String, String),
    user_index: HashMap<String, usize>,
    /// `connection\0email` of every user, for the uniqueness check on create.
    email_index: HashSet<String>,
    tokens: HashMap<String, BTreeSet<String>>,
    jobs: BTreeMap<String, Job>,
    counter: u64,
}

#[derive(Debug)]
struct Job {
    body: Value,
    created: Instant,
    file: Arc<Mutex<Option<Bytes>>>,
}

impl Auth0Tenant {
    fn reindex_users(&mut self) {
        let users = self
            .collections
            .get("users")
            .map(Vec::as_slice)
            .unwrap_or_default();
        self.user_index = users
            .iter()
            .enumerate()
            .map(|(i, u)| (str_of(u, "user_id"), i))
            .collect();
        self.email_index = users.iter().filter_map(email_key).collect();
    }
    fn user(&self, id: &str) -> Option<&Value> {
        let i = *self.user_index.get(id)?;
        self.collections.get("users")?.get(i)
    }
    fn new_id(&mut self, style: IdStyle) -> String {
        self.counter += 1;
        let mut ids = generate::Ids::new(0x5eed_0000 ^ self.counter);
        match style {
            IdStyle::Prefix(p) => ids.prefixed(p),
            IdStyle::LongPrefix(p) => ids.prefixed_long(p),
            IdStyle::ClientId => ids.client_id(),
            IdStyle::Hex24 => ids.hex24(),
            IdStyle::Uuid => ids.uuid(),
            IdStyle::Ulid => ids.ulid(),
            IdStyle::Given => format!("id{}", self.counter),
        }
    }
}

/// `connection\0email` of a user with an email.
fn email_key(u: &Value) -> Option<String> {
    let email = u.get("email")?.as_str()?;
    let conn = u.pointer("/identities/0/connection")?.as_str()?;
    Some(format!("{conn}\0{email}"))
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn default_theme(id: &str) -> Value {
    json!({"themeId": id, "displayName": "Acme theme",
        "borders": {"button_border_radius": 3, "button_border_weight": 1, "buttons_style": "rounded", "input_border_radius": 3, "input_border_weight": 1, "inputs_style": "rounded", "show_widget_shadow": true, "widget_border_weight": 0, "widget_corner_radius": 5},
        "colors": {"body_text": "#1e212a", "error": "#d03c38", "header": "#1e212a", "icons": "#65676e", "input_background": "#ffffff", "input_border": "#c9cace", "input_filled_text": "#000000",
            "input_labels_placeholders": "#65676e", "links_focused_components": "#635dff", "primary_button": "#635dff", "primary_button_label": "#ffffff", "secondary_button_border": "#c9cace",
            "secondary_button_label": "#1e212a", "success": "#13a688", "widget_background": "#ffffff", "widget_border": "#c9cace"},
        "fonts": {"body_text": {"bold": false, "size": 87.5}, "buttons_text": {"bold": false, "size": 100}, "font_url": "", "input_labels": {"bold": false, "size": 100}, "links": {"bold": true, "size": 87.5},
            "links_style": "normal", "reference_text_size": 16, "subtitle": {"bold": false, "size": 87.5}, "title": {"bold": false, "size": 150}},
        "page_background": {"background_color": "#000000", "background_image_url": "", "page_layout": "center"},
        "widget": {"header_text_alignment": "center", "logo_height": 52, "logo_position": "center", "logo_url": "", "social_buttons_layout": "bottom"}})
}

fn error(status: u16, code: &str, message: &str) -> FakeResponse {
    let error = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        _ => "Error",
    };
    FakeResponse::status(
        status,
        json!({"statusCode": status, "error": error, "message": message, "errorCode": code}),
    )
}

/// An error body without `errorCode` (several routes answer so, as recorded).
/// Auth0's `400 invalid_body` for a request body without the required property `name`.
fn missing_property(name: &str) -> FakeResponse {
    error(
        400,
        "invalid_body",
        &format!("Payload validation error: Missing required property: {name}"),
    )
}

fn error_without_code(status: u16, message: &str) -> FakeResponse {
    let mut r = error(status, "", message);
    if let Some(o) = r.body.as_mut().and_then(Value::as_object_mut) {
        o.remove("errorCode");
    }
    r
}

/// The 404 of a missing item, as the cassettes record each route's.
fn not_found(c: &Collection, id: &str, method: &Method) -> FakeResponse {
    match c.path {
        "hooks" => error(404, "HookDoesNotExist", "Error: Hook does not exist"),
        "branding/themes" => error(
            404,
            "theme_not_found",
            &format!(
                "There was an error {} branding settings: invalid theme ID",
                if *method == Method::DELETE {
                    "deleting"
                } else {
                    "retrieving"
                }
            ),
        ),
        "client-grants" => error(404, "inexistent_client_grant", "The grant does not exist."),
        "connections" => error(
            404,
            "inexistent_connection",
            "The connection does not exist",
        ),
        "custom-domains" => error(
            404,
            "inexistent_custom_domain",
            &format!("The custom domain {id} does not exist"),
        ),
        "rules" => error(404, "inexistent_rule", "The rule does not exist"),
        "organizations/{}/invitations" => error(
            404,
            "inexistent_invitation",
            "The invitation does not exist.",
        ),
        "actions/actions" => error_without_code(404, "That action does not exist."),
        "flows" => error_without_code(404, "Flow not found"),
        "forms" => error_without_code(404, "Form not found"),
        "network-acls" => error_without_code(404, "NetworkACL with this ID was not found"),
        "organizations" => error_without_code(404, "No organization found by that id or name"),
        "roles" => error_without_code(404, "The role does not exist."),
        "event-streams" => error_without_code(404, "The requested stream does not exist."),
        "log-streams" => error_without_code(404, "The log stream does not exist."),
        "organizations/{}/enabled_connections" => {
            error_without_code(404, "No connection found by that id")
        }
        "self-service-profiles" => {
            error_without_code(404, &format!("Profile with ID: {id} not found"))
        }
        _ => error(
            404,
            &format!("inexistent_{}", singular(c)),
            &format!("The {} does not exist.", singular(c).replace('_', " ")),
        ),
    }
}

fn empty(status: u16) -> FakeResponse {
    FakeResponse {
        status,
        headers: Vec::new(),
        body: None,
    }
}

/// Decodes `%XX` escapes.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len() + 1
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `fields`/`include_fields` projection.
fn project(req: &FakeRequest, item: Value) -> Value {
    let Some(fields) = req.param("fields").filter(|f| !f.is_empty()) else {
        return item;
    };
    let include = req.param("include_fields") != Some("false");
    let wanted: BTreeSet<&str> = fields.split(',').map(str::trim).collect();
    match item {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| wanted.contains(k.as_str()) == include)
                .collect(),
        ),
        other => other,
    }
}

fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Checkpoint tokens: opaque to clients; here, the position to resume at.
fn encode_from(pos: usize) -> String {
    format!("cp{:x}", pos.wrapping_mul(7919).wrapping_add(17))
}

fn decode_from(token: &str) -> Option<usize> {
    let n = usize::from_str_radix(token.strip_prefix("cp")?, 16).ok()?;
    let n = n.checked_sub(17)?;
    (n % 7919 == 0).then_some(n / 7919)
}

fn parse_usize(req: &FakeRequest, name: &str) -> Result<Option<usize>, FakeResponse> {
    match req.param(name) {
        None => Ok(None),
        Some(v) => v.parse::<usize>().map(Some).map_err(|_| {
            error(
                400,
                "invalid_query_string",
                &format!("Query validation error: '{name}' must be an integer"),
            )
        }),
    }
}

/// A list answer in the collection's paging style. `items` is everything (already filtered).
fn list(req: &FakeRequest, key: &str, paging: Paging, items: &[&Value]) -> FakeResponse {
    match list_inner(req, key, paging, items) {
        Ok(r) | Err(r) => r,
    }
}

fn list_inner(
    req: &FakeRequest,
    key: &str,
    paging: Paging,
    items: &[&Value],
) -> Result<FakeResponse, FakeResponse> {
    let take_page = |start: usize, n: usize| -> Vec<Value> {
        items
            .iter()
            .skip(start)
            .take(n)
            .map(|v| project(req, (*v).clone()))
            .collect()
    };
    let checkpoint = match paging {
        Paging::Checkpoint => true,
        Paging::PageOrCheckpoint | Paging::ArrayOrCheckpoint => {
            req.param("from").is_some() || req.param("take").is_some()
        }
        _ => false,
    };
    if checkpoint {
        let take = parse_usize(req, "take")?.unwrap_or(50);
        if take == 0 || take > 100 {
            return Err(error(
                400,
                "invalid_query_string",
                "Query validation error: 'take' must be between 1 and 100",
            ));
        }
        let start = match req.param("from") {
            None | Some("") => 0,
            Some(token) => decode_from(token).ok_or_else(|| {
                error(
                    400,
                    "invalid_query_string",
                    "Query validation error: invalid 'from' checkpoint",
                )
            })?,
        };
        let mut body = json!({key: take_page(start, take)});
        if start + take < items.len() {
            body["next"] = json!(encode_from(start + take));
        }
        return Ok(FakeResponse::ok(body));
    }
    if matches!(paging, Paging::None | Paging::ArrayOrCheckpoint) {
        return Ok(FakeResponse::ok(Value::Array(take_page(0, items.len()))));
    }
    let per_page = parse_usize(req, "per_page")?.unwrap_or(50);
    if per_page == 0 || per_page > 100 {
        return Err(error(
            400,
            "invalid_query_string",
            "Query validation error: 'per_page' must be between 1 and 100",
        ));
    }
    let page = parse_usize(req, "page")?.unwrap_or(0);
    let start = page.saturating_mul(per_page);
    let rows = take_page(start, per_page);
    if paging == Paging::Totals {
        // As recorded: `page` only when the request names one.
        let mut body = json!({"total": items.len(), "per_page": per_page, key: rows});
        if req.param("page").is_some() {
            body["page"] = json!(page);
        }
        return Ok(FakeResponse::ok(body));
    }
    if req.param("include_totals") == Some("true") {
        // Invitations say where the page starts but not how many there are.
        if key == "invitations" {
            return Ok(FakeResponse::ok(
                json!({"start": start, "limit": per_page, key: rows}),
            ));
        }
        return Ok(FakeResponse::ok(
            json!({"start": start, "limit": per_page, "total": items.len(), key: rows}),
        ));
    }
    Ok(FakeResponse::ok(Value::Array(rows)))
}

/// A parsed `q` term.
enum Term {
    Eq(Vec<String>, String),
    Prefix(Vec<String>, String),
    Range(Vec<String>, Option<String>, bool, Option<String>, bool),
}

fn parse_q(q: &str) -> Option<Vec<Term>> {
    let mut terms = Vec::new();
    let mut rest = q.trim();
    while !rest.is_empty() {
        let (field, after) = rest.split_once(':')?;
        let path: Vec<String> = field
            .trim()
            .trim_start_matches('(')
            .split('.')
            .map(str::to_string)
            .collect();
        let after = after.trim_start();
        let (term, remaining) =
            if let Some(open) = after.chars().next().filter(|c| "[{".contains(*c)) {
                let close_at = after.find([']', '}'])?;
                let inner = &after[1..close_at];
                let closer = &after[close_at..=close_at];
                let (lo, hi) = inner.split_once(" TO ")?;
                let bound = |s: &str| {
                    let s = s.trim().trim_matches('"');
                    (s != "*").then(|| s.to_string())
                };
                (
                    Term::Range(path, bound(lo), open == '[', bound(hi), closer == "]"),
                    &after[close_at + 1..],
                )
            } else {
                let (value, remaining) = if let Some(stripped) = after.strip_prefix('"') {
                    let end = stripped.find('"')?;
                    (stripped[..end].to_string(), &stripped[end + 1..])
                } else {
                    let end = after.find(' ').unwrap_or(after.len());
                    (
                        after[..end].trim_end_matches(')').to_string(),
                        &after[end..],
                    )
                };
                match value.strip_suffix('*') {
                    Some(prefix) => (Term::Prefix(path, prefix.to_string()), remaining),
                    None => (Term::Eq(path, value), remaining),
                }
            };
        terms.push(term);
        rest = remaining.trim_start();
        if let Some(r) = rest
            .strip_prefix("AND ")
            .or_else(|| rest.strip_prefix("and "))
        {
            rest = r.trim_start();
        } else if !rest.is_empty() && !rest.starts_with(|c: char| c.is_alphanumeric() || c == '(') {
            return None;
        }
    }
    Some(terms)
}

fn values_at(v: &Value, path: &[String], out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| values_at(i, path, out)),
        _ if path.is_empty() => match v {
            Value::String(s) => out.push(s.clone()),
            Value::Null => {}
            other => out.push(other.to_string()),
        },
        Value::Object(map) => {
            if let Some(child) = map.get(&path[0]) {
                values_at(child, &path[1..], out);
            }
        }
        _ => {}
    }
}

fn term_matches(term: &Term, user: &Value) -> bool {
    let mut vals = Vec::new();
    let path = match term {
        Term::Eq(p, _) | Term::Prefix(p, _) | Term::Range(p, ..) => p,
    };
    values_at(user, path, &mut vals);
    if vals.is_empty() && path.len() == 1 && path[0] == "blocked" {
        vals.push("false".into());
    }
    vals.iter().any(|v| match term {
        Term::Eq(_, want) => v == want,
        Term::Prefix(_, p) => v.starts_with(p.as_str()),
        Term::Range(_, lo, lo_inc, hi, hi_inc) => {
            let lo_ok = lo.as_ref().is_none_or(|lo| {
                if *lo_inc {
                    v.as_str() >= lo.as_str()
                } else {
                    v.as_str() > lo.as_str()
                }
            });
            let hi_ok = hi.as_ref().is_none_or(|hi| {
                if *hi_inc {
                    v.as_str() <= hi.as_str()
                } else {
                    v.as_str() < hi.as_str()
                }
            });
            lo_ok && hi_ok
        }
    })
}

struct Auth0Api {
    tenant: Arc<Mutex<Auth0Tenant>>,
    withheld: BTreeSet<String>,
    time_scale: f64,
}

fn verb(method: &Method) -> &'static str {
    match *method {
        Method::GET => "read",
        Method::POST => "create",
        Method::DELETE => "delete",
        _ => "update",
    }
}

impl Auth0Api {
    fn token(&self, req: &FakeRequest, tenant: &mut Auth0Tenant) -> FakeResponse {
        let form: BTreeMap<String, String> = match req.json() {
            Value::Object(map) => map
                .into_iter()
                .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect(),
            _ => url::form_urlencoded::parse(&req.body)
                .into_owned()
                .collect(),
        };
        let denied = |d: &str| {
            FakeResponse::status(
                401,
                json!({"error": "access_denied", "error_description": d}),
            )
        };
        match form.get("grant_type").map(String::as_str) {
            Some("client_credentials") => {}
            None => {
                return FakeResponse::status(
                    400,
                    json!({"error": "invalid_request", "error_description": "Missing required parameter: grant_type"}),
                );
            }
            Some(other) => {
                return FakeResponse::status(
                    403,
                    json!({"error": "unauthorized_client", "error_description": format!("Grant type '{other}' not allowed for the client."), "error_uri": "https://auth0.com/docs/clients/client-grant-types"}),
                );
            }
        }
        let (client_id, secret) = tenant.backup_client.clone();
        if form.get("client_id").is_some_and(|c| *c != client_id) {
            return denied("Unauthorized");
        }
        if let Some(assertion) = form.get("client_assertion") {
            if form.get("client_assertion_type").map(String::as_str)
                != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            {
                return denied("Unauthorized");
            }
            let Ok(claims) = verify_test_assertion(assertion) else {
                return denied("Unauthorized");
            };
            if claims["iss"] != client_id.as_str() || claims["sub"] != client_id.as_str() {
                return denied("Unauthorized");
            }
        } else if form.get("client_id") != Some(&client_id)
            || form.get("client_secret") != Some(&secret)
        {
            return denied("Unauthorized");
        }
        let audience = form.get("audience").cloned().unwrap_or_default();
        if !(audience.starts_with("http") && audience.trim_end_matches('/').ends_with("/api/v2")) {
            return FakeResponse::status(
                403,
                json!({"error": "access_denied", "error_description": format!("Service not enabled within domain: {audience}")}),
            );
        }
        let granted: BTreeSet<String> = all_scopes()
            .into_iter()
            .filter(|s| !self.withheld.contains(s))
            .collect();
        tenant.counter += 1;
        let token = format!(
            "fake-auth0-token-{}-{}",
            tenant.counter,
            tenant.tokens.len()
        );
        let scope = granted.iter().cloned().collect::<Vec<_>>().join(" ");
        tenant.tokens.insert(token.clone(), granted);
        FakeResponse::ok(
            json!({"access_token": token, "scope": scope, "expires_in": 86400, "token_type": "Bearer"}),
        )
    }

    fn check(
        &self,
        granted: &BTreeSet<String>,
        method: &Method,
        family: &str,
    ) -> Result<(), FakeResponse> {
        let needed = format!("{}:{family}", verb(method));
        if granted.contains(&needed) {
            Ok(())
        } else {
            Err(error(
                403,
                "insufficient_scope",
                &format!("Insufficient scope, expected any of: {needed}"),
            ))
        }
    }

    fn answer(&self, req: &FakeRequest, base: &str, t: &mut Auth0Tenant) -> Option<FakeResponse> {
        let raw_path = req.path.trim_end_matches('/');
        if raw_path == "/oauth/token" && req.method == Method::POST {
            return Some(self.token(req, t));
        }
        let rest = raw_path.strip_prefix("/api/v2/")?;
        let path = rest
            .split('/')
            .map(percent_decode)
            .collect::<Vec<_>>()
            .join("/");
        let granted = match req.header("authorization").map(str::trim) {
            None => {
                return Some(error(
                    401,
                    "missing_authentication",
                    "Missing authentication",
                ));
            }
            Some(auth) => match auth
                .strip_prefix("Bearer ")
                .and_then(|tok| t.tokens.get(tok.trim()))
            {
                Some(g) => g.clone(),
                None => return Some(error(401, "invalid_token", "Invalid token")),
            },
        };
        let segs: Vec<&str> = path.split('/').collect();
        let m = req.method.clone();
        // Jobs.
        if path == "jobs/users-exports" && m == Method::POST {
            if let Err(e) = self.check(&granted, &Method::GET, "users") {
                return Some(e);
            }
            return Some(self.start_export(req, t));
        }
        if segs.len() == 2 && segs[0] == "jobs" && m == Method::GET {
            if let Err(e) = self.check(&granted, &Method::GET, "users") {
                return Some(e);
            }
            return Some(self.job_status(segs[1], base, t));
        }
        // Special routes.
        if let Some(r) = self.special(req, &path, &segs, &granted, t) {
            return Some(r);
        }
        // Singletons.
        if let Some((_, family)) = SINGLETONS.iter().find(|(tpl, _)| matches(tpl, &path)) {
            if let Err(e) = self.check(&granted, &m, family) {
                return Some(e);
            }
            return self.singleton(req, &path, t);
        }
        // Collections.
        let (c, item) = match COLLECTIONS.iter().find(|c| matches(c.path, &path)) {
            Some(c) => (*c, None),
            None => {
                let (parent, id) = path.rsplit_once('/')?;
                let c = COLLECTIONS.iter().find(|c| matches(c.path, parent))?;
                (*c, Some((parent.to_string(), id.to_string())))
            }
        };
        if let Err(e) = self.check(&granted, &m, c.scope) {
            return Some(e);
        }
        match item {
            None => self.collection(req, &path, &c, t),
            Some((parent, id)) => self.item(req, &parent, &id, &c, t),
        }
    }

    fn singleton(
        &self,
        req: &FakeRequest,
        path: &str,
        t: &mut Auth0Tenant,
    ) -> Option<FakeResponse> {
        if path == "branding/themes/default" {
            let theme = t.collections.get("branding/themes").and_then(|v| v.first());
            return Some(match theme {
                Some(th) if req.method == Method::GET => FakeResponse::ok(th.clone()),
                _ => error(
                    404,
                    "theme_not_found",
                    "There was an error retrieving branding settings: invalid theme ID",
                ),
            });
        }
        let defaults_to_empty =
            matches("prompts/{}/custom-text/{}", path) || matches("prompts/{}/partials", path);
        match req.method {
            Method::GET => Some(match t.singletons.get(path) {
                Some(v) if matches("hooks/{}/secrets", path) => FakeResponse::ok(Value::Object(
                    v.as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, _)| (k.clone(), json!("_VALUE_NOT_SHOWN_")))
                        .collect(),
                )),
                Some(v) => FakeResponse::ok(project(req, v.clone())),
                None if defaults_to_empty => FakeResponse::ok(json!({})),
                None if path == "emails/provider" => error(
                    404,
                    "inexistent_email_provider",
                    "There is not a configured email provider",
                ),
                None if matches("hooks/{}/secrets", path) => {
                    error(404, "HookDoesNotExist", "Error: Hook does not exist")
                }
                None => error(
                    404,
                    "inexistent_resource",
                    &format!("{path} does not exist"),
                ),
            }),
            Method::PATCH | Method::POST => {
                if path == "actions/triggers" {
                    return None;
                }
                let body = req.json();
                if !body.is_object() {
                    return Some(error(
                        400,
                        "invalid_body",
                        "Payload validation error: 'Expected type object but found type null'.",
                    ));
                }
                if req.method == Method::POST
                    && path == "emails/provider"
                    && t.singletons.contains_key(path)
                {
                    return Some(error(
                        409,
                        "already_exists",
                        "An email provider is already configured",
                    ));
                }
                let mut body = body;
                strip_write_only(path, &mut body);
                let entry = t.singletons.entry(path.to_string()).or_insert(json!({}));
                merge(entry, &body);
                let out = entry.clone();
                Some(if req.method == Method::POST {
                    FakeResponse::status(201, out)
                } else {
                    FakeResponse::ok(out)
                })
            }
            Method::PUT => {
                let mut body = req.json();
                strip_write_only(path, &mut body);
                t.singletons.insert(path.to_string(), body.clone());
                Some(FakeResponse::ok(body))
            }
            Method::DELETE => {
                t.singletons.remove(path);
                Some(FakeResponse::no_content())
            }
            _ => None,
        }
    }

    fn collection(
        &self,
        req: &FakeRequest,
        path: &str,
        c: &Collection,
        t: &mut Auth0Tenant,
    ) -> Option<FakeResponse> {
        // Parents of nested collections must exist.
        let parent_missing = c.path.contains("{}") && {
            let (parent, _) = path.rsplit_once('/').unwrap_or((path, ""));
            let (grand, id) = parent.rsplit_once('/').unwrap_or(("", parent));
            let grand = if grand.ends_with("/members") {
                grand.rsplit_once('/').map(|(g, _)| g).unwrap_or(grand)
            } else {
                grand
            };
            match grand {
                "users" => t.user(id).is_none(),
                "actions/triggers" => !t.collections.contains_key(path),
                _ => {
                    !t.collections.get(grand).is_some_and(|items| {
                        let idf = COLLECTIONS
                            .iter()
                            .find(|x| x.path == grand)
                            .map_or("id", |x| x.id);
                        items.iter().any(|i| i[idf] == id)
                    }) && !grand.starts_with("organizations/")
                }
            }
        };
        if parent_missing {
            return Some(error(
                404,
                &format!("inexistent_{}", singular(c)),
                "The parent resource does not exist",
            ));
        }
        match req.method {
            Method::GET => {
                if c.paging == Paging::NoList {
                    return None;
                }
                let empty_vec = Vec::new();
                let items: Vec<&Value> = t
                    .collections
                    .get(path)
                    .unwrap_or(&empty_vec)
                    .iter()
                    .collect();
                if path == "rules-configs" {
                    let keys: Vec<Value> = items.iter().map(|i| json!({"key": i["key"]})).collect();
                    return Some(FakeResponse::ok(Value::Array(keys)));
                }
                let filtered: Vec<&Value> = items
                    .into_iter()
                    .filter(|i| {
                        req.query.iter().all(|(k, v)| match k.as_str() {
                            "client_id" | "audience" | "strategy" | "name" | "trigger_id"
                            | "actionName" => {
                                let field = if k == "actionName" {
                                    "name"
                                } else {
                                    k.as_str()
                                };
                                match i.get(field) {
                                    Some(Value::String(s)) => s == v,
                                    Some(Value::Array(a)) => a.iter().any(|x| x == v.as_str()),
                                    _ => true,
                                }
                            }
                            _ => true,
                        })
                    })
                    .collect();
                // Forms and flows list summaries; their items carry the rest.
                let summary: Option<&[&str]> = match path {
                    "forms" => Some(&[
                        "id",
                        "name",
                        "created_at",
                        "updated_at",
                        "embedded_at",
                        "submitted_at",
                    ]),
                    "flows" => Some(&["id", "name", "created_at", "updated_at", "executed_at"]),
                    _ => None,
                };
                // Connections list without the deprecated `enabled_clients` (items keep it).
                if path == "connections" {
                    let rows: Vec<Value> = filtered
                        .iter()
                        .map(|i| {
                            let mut i = (*i).clone();
                            if let Some(o) = i.as_object_mut() {
                                o.remove("enabled_clients");
                            }
                            i
                        })
                        .collect();
                    let refs: Vec<&Value> = rows.iter().collect();
                    return Some(list(req, c.key, c.paging, &refs));
                }
                if let Some(keep) = summary {
                    let rows: Vec<Value> = filtered
                        .iter()
                        .map(|i| {
                            Value::Object(
                                i.as_object()
                                    .into_iter()
                                    .flatten()
                                    .filter(|(k, _)| keep.contains(&k.as_str()))
                                    .map(|(k, v)| (k.clone(), v.clone()))
                                    .collect(),
                            )
                        })
                        .collect();
                    let refs: Vec<&Value> = rows.iter().collect();
                    return Some(list(req, c.key, c.paging, &refs));
                }
                Some(list(req, c.key, c.paging, &filtered))
            }
            Method::POST => {
                if !has_create(c) {
                    return None;
                }
                let body = req.json();
                if let Some(member) = c.bulk {
                    let Some(adds) = body.get(member).and_then(Value::as_array).cloned() else {
                        return Some(missing_property(member));
                    };
                    let mut expanded = Vec::new();
                    for a in adds {
                        if let Some(rid) = a.as_str() {
                            let Some(role) = t
                                .collections
                                .get("roles")
                                .and_then(|r| r.iter().find(|x| x["id"] == rid))
                            else {
                                return Some(error(
                                    404,
                                    "inexistent_role",
                                    "One or more of the roles do not exist",
                                ));
                            };
                            expanded.push(json!({"id": role["id"], "name": role["name"], "description": role["description"]}));
                        } else {
                            expanded.push(a);
                        }
                    }
                    let list = t.collections.entry(path.to_string()).or_default();
                    for a in expanded {
                        if !list.iter().any(|x| same_member(x, &a, c.id)) {
                            list.push(a);
                        }
                    }
                    return Some(if c.bulk == Some("roles") {
                        FakeResponse::no_content()
                    } else {
                        empty(201)
                    });
                }
                let Value::Object(mut obj) = body else {
                    return Some(error(
                        400,
                        "invalid_body",
                        "Payload validation error: 'Expected type object but found type null'.",
                    ));
                };
                if let Some(conflict) = self.conflict(path, &obj, t) {
                    return Some(conflict);
                }
                let id = match c.ids {
                    IdStyle::Given => match obj.get(c.id).and_then(Value::as_str) {
                        Some(id) => id.to_string(),
                        None => {
                            return Some(missing_property(c.id));
                        }
                    },
                    style => t.new_id(style),
                };
                if t.collections
                    .get(path)
                    .is_some_and(|l| l.iter().any(|x| x[c.id] == id.as_str()))
                {
                    return Some(if path == "email-templates" {
                        // As recorded.
                        error_without_code(409, &format!("Template {id} already exists."))
                    } else {
                        error(
                            409,
                            "already_exists",
                            &format!("{} {id} already exists", singular(c)),
                        )
                    });
                }
                obj.insert(c.id.to_string(), json!(id));
                self.decorate_new(path, &mut obj, t);
                let mut item = Value::Object(obj);
                strip_write_only(path, &mut item);
                t.collections
                    .entry(path.to_string())
                    .or_default()
                    .push(item.clone());
                // Most creations answer 201; these answer 200, as the spec and the recordings
                // have it (invitations answer 201 in the recordings, 200 in the spec).
                let status = match c.path {
                    "roles" | "email-templates" | "log-streams" | "branding/themes" => 200,
                    _ => 201,
                };
                Some(FakeResponse::status(status, write_answer(path, &item)))
            }
            Method::DELETE if c.bulk.is_some() => {
                let body = req.json();
                let removes = body
                    .get(c.bulk.unwrap_or_default())
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if let Some(list) = t.collections.get_mut(path) {
                    list.retain(|x| {
                        !removes.iter().any(|r| {
                            same_member(x, r, c.id) || r.as_str().is_some_and(|rid| x["id"] == rid)
                        })
                    });
                }
                Some(FakeResponse::no_content())
            }
            Method::PATCH if path.starts_with("actions/triggers/") => {
                let body = req.json();
                let Some(refs) = body.get("bindings").and_then(Value::as_array) else {
                    return Some(missing_property("bindings"));
                };
                let trigger = path.split('/').nth(2).unwrap_or_default().to_string();
                let mut out = Vec::new();
                for r in refs {
                    let value = r
                        .pointer("/ref/value")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let by_name =
                        r.pointer("/ref/type").and_then(Value::as_str) == Some("action_name");
                    let Some(action) = t.collections.get("actions/actions").and_then(|a| {
                        a.iter().find(|x| {
                            if by_name {
                                x["name"] == value
                            } else {
                                x["id"] == value
                            }
                        })
                    }) else {
                        return Some(error(
                            404,
                            "inexistent_action",
                            &format!("The action {value} does not exist"),
                        ));
                    };
                    let action = json!({"id": action["id"], "name": action["name"], "supported_triggers": action["supported_triggers"],
                        "all_changes_deployed": action["all_changes_deployed"], "created_at": action["created_at"], "updated_at": action["updated_at"]});
                    let id = t.new_id(IdStyle::Uuid);
                    let display = r
                        .get("display_name")
                        .cloned()
                        .unwrap_or_else(|| action["name"].clone());
                    out.push(json!({"id": id, "trigger_id": trigger, "display_name": display, "action": action, "created_at": now_iso(), "updated_at": now_iso()}));
                }
                t.collections.insert(path.to_string(), out.clone());
                Some(FakeResponse::ok(json!({"bindings": out})))
            }
            _ => None,
        }
    }

    fn conflict(
        &self,
        path: &str,
        obj: &Map<String, Value>,
        t: &Auth0Tenant,
    ) -> Option<FakeResponse> {
        let existing = t.collections.get(path)?;
        let same = |field: &str| {
            obj.get(field)
                .and_then(Value::as_str)
                .is_some_and(|v| existing.iter().any(|e| e[field] == v))
        };
        let dup = match path {
            "connections" | "roles" | "organizations" => same("name"),
            "resource-servers" => same("identifier"),
            "client-grants" => existing.iter().any(|e| {
                Some(&e["client_id"]) == obj.get("client_id")
                    && Some(&e["audience"]) == obj.get("audience")
            }),
            _ => false,
        };
        dup.then(|| {
            error(
                409,
                "already_exists",
                &format!(
                    "A resource with the same {} already exists",
                    if path == "client-grants" {
                        "client_id and audience"
                    } else if path == "resource-servers" {
                        "identifier"
                    } else {
                        "name"
                    }
                ),
            )
        })
    }

    fn decorate_new(&self, path: &str, obj: &mut Map<String, Value>, t: &mut Auth0Tenant) {
        let now = now_iso();
        match path {
            "clients" => {
                let secret = t.new_id(IdStyle::ClientId);
                obj.entry("client_secret")
                    .or_insert(json!(format!("{secret}{secret}")));
                obj.insert("tenant".into(), json!(TENANT));
                obj.entry("global").or_insert(json!(false));
                obj.entry("is_first_party").or_insert(json!(true));
            }
            "connections" => {
                obj.entry("enabled_clients").or_insert(json!([]));
                let name = obj.get("name").cloned().unwrap_or_default();
                obj.entry("realms").or_insert_with(|| json!([name]));
                obj.entry("is_domain_connection").or_insert(json!(false));
                obj.entry("options").or_insert(json!({}));
            }
            "resource-servers" => {
                obj.insert("is_system".into(), json!(false));
                obj.entry("signing_alg").or_insert(json!("RS256"));
                obj.entry("scopes").or_insert(json!([]));
                obj.entry("token_lifetime").or_insert(json!(86400));
            }
            "client-grants" => {
                obj.entry("scope").or_insert(json!([]));
            }
            "actions/actions" => {
                obj.insert("all_changes_deployed".into(), json!(false));
                obj.insert("status".into(), json!("built"));
                obj.insert("created_at".into(), json!(now));
                obj.insert("updated_at".into(), json!(now));
                obj.entry("runtime").or_insert(json!("node18"));
                obj.entry("dependencies").or_insert(json!([]));
                // Secrets come back without their values, as Auth0 does.
                if let Some(secrets) = obj.get_mut("secrets").and_then(Value::as_array_mut) {
                    for s in secrets.iter_mut() {
                        if let Some(o) = s.as_object_mut() {
                            o.remove("value");
                            o.insert("updated_at".into(), json!(now));
                        }
                    }
                }
            }
            "hooks" => {
                obj.entry("enabled").or_insert(json!(false));
                obj.entry("dependencies").or_insert(json!({}));
            }
            "rules" => {
                obj.entry("enabled").or_insert(json!(true));
                obj.entry("stage").or_insert(json!("login_success"));
                let order = t.collections.get("rules").map_or(1, |r| r.len() + 1);
                obj.entry("order").or_insert(json!(order));
            }
            "log-streams" => {
                obj.entry("status").or_insert(json!("active"));
            }
            "custom-domains" => {
                obj.insert("status".into(), json!("pending_verification"));
                obj.insert("primary".into(), json!(false));
            }
            p if p.ends_with("/invitations") => {
                obj.insert("created_at".into(), json!(now));
                obj.insert(
                    "organization_id".into(),
                    json!(p.split('/').nth(1).unwrap_or_default()),
                );
            }
            p if p.ends_with("/enabled_connections") => {
                let cid = obj
                    .get("connection_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if let Some(conn) = t
                    .collections
                    .get("connections")
                    .and_then(|c| c.iter().find(|x| x["id"] == cid.as_str()))
                {
                    obj.insert(
                        "connection".into(),
                        json!({"name": conn["name"], "strategy": conn["strategy"]}),
                    );
                }
                obj.entry("assign_membership_on_login")
                    .or_insert(json!(false));
            }
            "network-acls" | "forms" | "flows" | "self-service-profiles" | "event-streams" => {
                obj.insert("created_at".into(), json!(now));
                obj.insert("updated_at".into(), json!(now));
            }
            _ => {}
        }
    }

    fn item(
        &self,
        req: &FakeRequest,
        parent: &str,
        id: &str,
        c: &Collection,
        t: &mut Auth0Tenant,
    ) -> Option<FakeResponse> {
        let not_found = || not_found(c, id, &req.method);
        // Auth0 has no GET for one permission, member role, binding, factor or rules config.
        if req.method == Method::GET && !has_item_get(c) {
            return None;
        }
        let pos = t
            .collections
            .get(parent)
            .and_then(|l| l.iter().position(|x| x[c.id] == id));
        match (req.method.clone(), pos) {
            (Method::GET, Some(p)) => Some(FakeResponse::ok(project(
                req,
                t.collections[parent][p].clone(),
            ))),
            (Method::PATCH, Some(p)) => {
                let mut body = req.json();
                strip_write_only(parent, &mut body);
                if !body.is_object() {
                    return Some(error(
                        400,
                        "invalid_body",
                        "Payload validation error: 'Expected type object but found type null'.",
                    ));
                }
                if let Some(list) = t.collections.get_mut(parent) {
                    let item = &mut list[p];
                    merge(item, &body);
                    if let Some(o) = item.as_object_mut() {
                        o.insert(c.id.to_string(), json!(id));
                        if o.contains_key("updated_at") {
                            o.insert("updated_at".into(), json!(now_iso()));
                        }
                        if parent == "actions/actions" {
                            o.insert("all_changes_deployed".into(), json!(false));
                        }
                    }
                    return Some(FakeResponse::ok(write_answer(parent, item)));
                }
                None
            }
            (Method::PUT, pos) if pos.is_some() || c.ids == IdStyle::Given => {
                let mut body = req.json();
                if !body.is_object() {
                    return Some(error(
                        400,
                        "invalid_body",
                        "Payload validation error: 'Expected type object but found type null'.",
                    ));
                }
                body[c.id] = json!(id);
                let list = t.collections.entry(parent.to_string()).or_default();
                match pos {
                    // A factor's PUT sets what it names and keeps the rest.
                    Some(p) if parent == "guardian/factors" => {
                        merge(&mut list[p], &body);
                        body = list[p].clone();
                    }
                    Some(p) => list[p] = body.clone(),
                    None => list.push(body.clone()),
                }
                Some(FakeResponse::ok(write_answer(parent, &body)))
            }
            (Method::DELETE, Some(p)) => {
                if let Some(list) = t.collections.get_mut(parent) {
                    list.remove(p);
                }
                cascade(t, parent, id);
                Some(FakeResponse::no_content())
            }
            (Method::POST, None) if c.path == "actions/actions" => {
                // POST actions/actions/{id}/deploy lands here as parent "actions/actions/{id}".
                None
            }
            (_, None) => Some(not_found()),
            _ => None,
        }
    }

    fn special(
        &self,
        req: &FakeRequest,
        path: &str,
        segs: &[&str],
        granted: &BTreeSet<String>,
        t: &mut Auth0Tenant,
    ) -> Option<FakeResponse> {
        let m = req.method.clone();
        let check = |family: &str| self.check(granted, &m, family);
        match segs {
            ["users"] => Some(check("users").err().unwrap_or_else(|| self.users(req, t))),
            ["users", uid] => {
                if let Err(e) = check("users") {
                    return Some(e);
                }
                let uid = uid.to_string();
                let Some(&i) = t.user_index.get(&uid) else {
                    return Some(error(404, "inexistent_user", "The user does not exist."));
                };
                match m {
                    Method::GET => Some(FakeResponse::ok(project(
                        req,
                        t.collections["users"][i].clone(),
                    ))),
                    Method::PATCH => {
                        let body = req.json();
                        let Value::Object(patch) = body else {
                            return Some(error(
                                400,
                                "invalid_body",
                                "Payload validation error: 'Expected type object but found type null'.",
                            ));
                        };
                        let users = t.collections.get_mut("users")?;
                        let user = &mut users[i];
                        let old_key = email_key(user);
                        for (k, v) in patch {
                            if (k == "app_metadata" || k == "user_metadata") && v.is_object() {
                                let target = user.as_object_mut()?.entry(k).or_insert(json!({}));
                                for (mk, mv) in v.as_object().into_iter().flatten() {
                                    if mv.is_null() {
                                        target.as_object_mut().map(|o| o.remove(mk));
                                    } else {
                                        target[mk] = mv.clone();
                                    }
                                }
                            } else if k != "user_id" && k != "password" {
                                user[k] = v;
                            }
                        }
                        user["updated_at"] = json!(now_iso());
                        let user = user.clone();
                        if let Some(k) = old_key {
                            t.email_index.remove(&k);
                        }
                        if let Some(k) = email_key(&user) {
                            t.email_index.insert(k);
                        }
                        Some(FakeResponse::ok(user))
                    }
                    Method::DELETE => {
                        let gone = t.collections.get_mut("users")?.remove(i);
                        // Shift the index instead of rebuilding it: deletes stay cheap in a
                        // big tenant.
                        t.user_index.remove(&uid);
                        for pos in t.user_index.values_mut() {
                            if *pos > i {
                                *pos -= 1;
                            }
                        }
                        if let Some(key) = email_key(&gone) {
                            t.email_index.remove(&key);
                        }
                        for members in t
                            .role_members
                            .values_mut()
                            .chain(t.org_members.values_mut())
                        {
                            members.remove(&uid);
                        }
                        let prefix = format!("users/{uid}/");
                        t.collections.retain(|k, _| !k.starts_with(&prefix));
                        Some(FakeResponse::no_content())
                    }
                    _ => None,
                }
            }
            ["users", uid, "roles"] => {
                if let Err(e) = check("users") {
                    return Some(e);
                }
                let uid = uid.to_string();
                if t.user(&uid).is_none() {
                    return Some(error(404, "inexistent_user", "The user does not exist."));
                }
                match m {
                    Method::GET => {
                        let roles: Vec<&Value> = t
                            .collections
                            .get("roles")
                            .into_iter()
                            .flatten()
                            .filter(|r| {
                                t.role_members
                                    .get(r["id"].as_str().unwrap_or_default())
                                    .is_some_and(|s| s.contains(&uid))
                            })
                            .collect();
                        Some(list(req, "roles", Paging::Page, &roles))
                    }
                    Method::POST | Method::DELETE => {
                        let body = req.json();
                        let Some(ids) = body.get("roles").and_then(Value::as_array) else {
                            return Some(missing_property("roles"));
                        };
                        for rid in ids.iter().filter_map(Value::as_str) {
                            if !role_exists(t, rid) {
                                return Some(error(
                                    404,
                                    "inexistent_role",
                                    "One or more of the roles do not exist",
                                ));
                            }
                            let set = t.role_members.entry(rid.to_string()).or_default();
                            if m == Method::POST {
                                set.insert(uid.clone());
                            } else {
                                set.remove(&uid);
                            }
                        }
                        Some(FakeResponse::no_content())
                    }
                    _ => None,
                }
            }
            ["roles", rid, "users"] => {
                if let Err(e) = check("roles") {
                    return Some(e);
                }
                let rid = rid.to_string();
                // A role exists when it is in the roles collection (created roles have no
                // member set until their first member).
                if !role_exists(t, &rid) {
                    return Some(error(404, "inexistent_role", "The role does not exist."));
                }
                match m {
                    Method::GET => {
                        let none = BTreeSet::new();
                        let members = t.role_members.get(&rid).unwrap_or(&none);
                        Some(self.member_list(req, "users", members, t))
                    }
                    Method::POST => {
                        let body = req.json();
                        let Some(ids) = body.get("users").and_then(Value::as_array) else {
                            return Some(missing_property("users"));
                        };
                        let ids: Vec<String> = ids
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect();
                        if let Some(missing) = ids.iter().find(|u| t.user(u).is_none()) {
                            return Some(error(
                                404,
                                "inexistent_user",
                                &format!("The user {missing} does not exist."),
                            ));
                        }
                        t.role_members.entry(rid).or_default().extend(ids);
                        Some(empty(200))
                    }
                    _ => None,
                }
            }
            ["organizations", oid, "members"] => {
                if let Err(e) = check("organization_members") {
                    return Some(e);
                }
                let oid = oid.to_string();
                let exists = t
                    .collections
                    .get("organizations")
                    .is_some_and(|orgs| orgs.iter().any(|o| o["id"] == oid.as_str()));
                if !exists {
                    return Some(error(
                        404,
                        "inexistent_organization",
                        "No organization found by that id or name",
                    ));
                }
                match m {
                    Method::GET => {
                        let none = BTreeSet::new();
                        let members = t.org_members.get(&oid).unwrap_or(&none);
                        Some(self.member_list(req, "members", members, t))
                    }
                    Method::POST | Method::DELETE => {
                        let body = req.json();
                        let Some(ids) = body.get("members").and_then(Value::as_array) else {
                            return Some(missing_property("members"));
                        };
                        let ids: Vec<String> = ids
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect();
                        if m == Method::POST
                            && let Some(missing) = ids.iter().find(|u| t.user(u).is_none())
                        {
                            return Some(error(
                                404,
                                "inexistent_user",
                                &format!("The user {missing} does not exist."),
                            ));
                        }
                        let set = t.org_members.entry(oid.clone()).or_default();
                        for u in ids {
                            if m == Method::POST {
                                set.insert(u);
                            } else {
                                set.remove(&u);
                                t.collections
                                    .remove(&format!("organizations/{oid}/members/{u}/roles"));
                            }
                        }
                        Some(FakeResponse::no_content())
                    }
                    _ => None,
                }
            }
            ["connections", cid, "clients"] => {
                if let Err(e) = check("connections") {
                    return Some(e);
                }
                let conns = t.collections.get_mut("connections")?;
                let Some(conn) = conns.iter_mut().find(|c| c["id"] == *cid) else {
                    return Some(error(
                        404,
                        "inexistent_connection",
                        "The connection does not exist",
                    ));
                };
                match m {
                    Method::GET => {
                        let ids: Vec<Value> = conn["enabled_clients"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|c| json!({"client_id": c}))
                            .collect();
                        let refs: Vec<&Value> = ids.iter().collect();
                        Some(list(req, "clients", Paging::Checkpoint, &refs))
                    }
                    Method::PATCH => {
                        let body = req.json();
                        let Some(changes) = body.as_array() else {
                            return Some(error(
                                400,
                                "invalid_body",
                                "Payload validation error: 'Expected type array'.",
                            ));
                        };
                        let mut enabled: Vec<Value> = conn["enabled_clients"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        for ch in changes {
                            let id = ch["client_id"].clone();
                            enabled.retain(|e| *e != id);
                            if ch["status"] == true {
                                enabled.push(id);
                            }
                        }
                        conn["enabled_clients"] = Value::Array(enabled);
                        Some(FakeResponse::no_content())
                    }
                    _ => None,
                }
            }
            ["actions", "actions", aid, "deploy"] if m == Method::POST => {
                if let Err(e) = check("actions") {
                    return Some(e);
                }
                let aid = aid.to_string();
                let action = t
                    .collections
                    .get("actions/actions")?
                    .iter()
                    .find(|a| a["id"] == aid.as_str())?
                    .clone();
                let vpath = format!("actions/actions/{aid}/versions");
                let number = t.collections.get(&vpath).map_or(0, Vec::len) + 1;
                let vid = t.new_id(IdStyle::Uuid);
                let now = now_iso();
                let version = json!({"id": vid, "action_id": aid, "code": action["code"], "dependencies": action["dependencies"], "deployed": true, "runtime": action["runtime"],
                    "secrets": action["secrets"], "status": "built", "number": number as f64, "created_at": now, "updated_at": now, "supported_triggers": action["supported_triggers"]});
                let versions = t.collections.entry(vpath).or_default();
                for v in versions.iter_mut() {
                    v["deployed"] = json!(false);
                }
                versions.push(version.clone());
                if let Some(a) = t
                    .collections
                    .get_mut("actions/actions")
                    .and_then(|l| l.iter_mut().find(|a| a["id"] == aid.as_str()))
                {
                    a["deployed_version"] = version.clone();
                    a["all_changes_deployed"] = json!(true);
                }
                Some(FakeResponse::ok(version))
            }
            _ => {
                let _ = path;
                None
            }
        }
    }

    /// Members of a role or organization (user summaries), paged either way.
    fn member_list(
        &self,
        req: &FakeRequest,
        key: &str,
        members: &BTreeSet<String>,
        t: &Auth0Tenant,
    ) -> FakeResponse {
        let summaries: Vec<Value> = members
            .iter()
            .filter_map(|u| t.user(u))
            .map(|u| json!({"user_id": u["user_id"], "email": u["email"], "picture": u["picture"], "name": u["name"]}))
            .collect();
        let refs: Vec<&Value> = summaries.iter().collect();
        list(req, key, Paging::PageOrCheckpoint, &refs)
    }

    fn users(&self, req: &FakeRequest, t: &mut Auth0Tenant) -> FakeResponse {
        match req.method {
            Method::GET => {}
            Method::POST => return self.create_user(req, t),
            _ => return error(405, "method_not_allowed", "Method not allowed"),
        }
        let empty_vec = Vec::new();
        let all = t.collections.get("users").unwrap_or(&empty_vec);
        let mut items: Vec<&Value> = match req.param("q").filter(|q| !q.trim().is_empty()) {
            None => all.iter().collect(),
            Some(q) => match parse_q(q) {
                Some(terms) => all
                    .iter()
                    .filter(|u| terms.iter().all(|term| term_matches(term, u)))
                    .collect(),
                None => {
                    return error(
                        400,
                        "invalid_query_string",
                        &format!("Invalid query string: {q}"),
                    );
                }
            },
        };
        if let Some(sort) = req.param("sort") {
            let (field, dir) = sort.split_once(':').unwrap_or((sort, "1"));
            let path: Vec<String> = field.split('.').map(str::to_string).collect();
            let key = |u: &Value| {
                let mut v = Vec::new();
                values_at(u, &path, &mut v);
                v.into_iter().next().unwrap_or_default()
            };
            items.sort_by_cached_key(|u| key(u));
            if dir == "-1" {
                items.reverse();
            }
        }
        let per_page = match parse_usize(req, "per_page") {
            Ok(p) => p.unwrap_or(50),
            Err(e) => return e,
        };
        let page = match parse_usize(req, "page") {
            Ok(p) => p.unwrap_or(0),
            Err(e) => return e,
        };
        if page.saturating_mul(per_page) >= 1000 {
            return error(
                400,
                "invalid_paging",
                "You can only page through the first 1000 records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation",
            );
        }
        // The first 1,000 results are reachable; a page straddling the cap is cut at it.
        let reachable = items.len().min(1000);
        let total = items.len();
        let mut resp = list(req, "users", Paging::Page, &items[..reachable]);
        // GET /users (alone among the page-paged lists) also says how many rows it holds.
        if let Some(body) = resp.body.as_mut()
            && body.get("total").is_some()
        {
            body["total"] = json!(total);
            body["length"] = json!(body["users"].as_array().map_or(0, Vec::len));
        }
        resp
    }

    fn create_user(&self, req: &FakeRequest, t: &mut Auth0Tenant) -> FakeResponse {
        let Value::Object(mut obj) = req.json() else {
            return error(
                400,
                "invalid_body",
                "Payload validation error: 'Expected type object but found type null'.",
            );
        };
        let Some(conn) = obj
            .get("connection")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return error(
                400,
                "invalid_body",
                "Payload validation error: 'Missing required property: connection'.",
            );
        };
        let Some(strategy) = t
            .collections
            .get("connections")
            .and_then(|c| c.iter().find(|x| x["name"] == conn.as_str()))
            .map(|c| str_of(c, "strategy"))
        else {
            return error(
                400,
                "invalid_body",
                &format!("The connection does not exist: {conn}"),
            );
        };
        if let Some(email) = obj.get("email").and_then(Value::as_str)
            && t.email_index.contains(&format!("{conn}\0{email}"))
        {
            return error(409, "auth0_idp_error", "The user already exists.");
        }
        let local = match obj
            .remove("user_id")
            .and_then(|v| v.as_str().map(str::to_string))
        {
            Some(given) => given,
            None => t.new_id(IdStyle::Hex24),
        };
        let provider = if strategy == "auth0" {
            "auth0".to_string()
        } else {
            strategy.clone()
        };
        let user_id = format!("{provider}|{local}");
        if t.user(&user_id).is_some() {
            return error(409, "auth0_idp_error", "The user already exists.");
        }
        obj.remove("connection");
        obj.remove("password");
        obj.remove("verify_email");
        let now = now_iso();
        obj.insert("user_id".into(), json!(user_id));
        obj.insert("identities".into(), json!([{"connection": conn, "user_id": local, "provider": provider, "isSocial": false}]));
        obj.insert("created_at".into(), json!(now));
        obj.insert("updated_at".into(), json!(now));
        obj.entry("email_verified").or_insert(json!(false));
        obj.entry("app_metadata").or_insert(json!({}));
        obj.entry("user_metadata").or_insert(json!({}));
        let user = Value::Object(obj);
        if let Some(key) = email_key(&user) {
            t.email_index.insert(key);
        }
        let users = t.collections.entry("users".into()).or_default();
        users.push(user.clone());
        let n = users.len() - 1;
        t.user_index.insert(user_id, n);
        FakeResponse::status(201, user)
    }

    fn start_export(&self, req: &FakeRequest, t: &mut Auth0Tenant) -> FakeResponse {
        let body = req.json();
        let format = body
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("csv")
            .to_string();
        if format != "json" && format != "csv" {
            return error(
                400,
                "invalid_body",
                "Payload validation error: 'format' must be json or csv",
            );
        }
        let connection = match body.get("connection_id").and_then(Value::as_str) {
            None => None,
            Some(cid) => match t
                .collections
                .get("connections")
                .and_then(|c| c.iter().find(|x| x["id"] == cid))
            {
                Some(c) => Some((cid.to_string(), str_of(c, "name"))),
                None => return error(400, "invalid_body", "The connection does not exist"),
            },
        };
        let fields: Vec<(String, String)> = body
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let name = f.get("name")?.as_str()?.to_string();
                let as_ = f
                    .get("export_as")
                    .and_then(Value::as_str)
                    .map_or_else(|| name.clone(), str::to_string);
                Some((name, as_))
            })
            .collect();
        let limit = body
            .get("limit")
            .and_then(Value::as_u64)
            .map(|l| l as usize);
        let id = t.new_id(IdStyle::Prefix("job_"));
        let mut job = json!({"type": "users_export", "status": "pending", "format": format, "created_at": now_iso(), "id": id});
        if let Some((cid, name)) = &connection {
            job["connection_id"] = json!(cid);
            job["connection"] = json!(name);
        }
        if let Some(l) = limit {
            job["limit"] = json!(l);
        }
        if !fields.is_empty() {
            job["fields"] = json!(
                fields
                    .iter()
                    .map(|(n, a)| if n == a {
                        json!({"name": n})
                    } else {
                        json!({"name": n, "export_as": a})
                    })
                    .collect::<Vec<_>>()
            );
        }
        let file = Arc::new(Mutex::new(None));
        // Build the file in the background, as Auth0 does: serialise under the tenant lock
        // (once this request has released it), compress outside it.
        let slot = file.clone();
        let tenant = self.tenant.clone();
        let connection_name = connection.map(|(_, n)| n);
        std::thread::spawn(move || {
            let text = export_text(
                &lock(&tenant),
                connection_name.as_deref(),
                &fields,
                limit,
                &format,
            );
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let bytes = enc
                .write_all(text.as_bytes())
                .and_then(|_| enc.finish())
                .unwrap_or_default();
            *lock(&slot) = Some(Bytes::from(bytes));
        });
        t.jobs.insert(
            id,
            Job {
                body: job.clone(),
                created: Instant::now(),
                file,
            },
        );
        // 200 as the spec and the recordings have it.
        FakeResponse::ok(job)
    }

    fn job_status(&self, id: &str, base: &str, t: &mut Auth0Tenant) -> FakeResponse {
        let Some(job) = t.jobs.get(id) else {
            return error(404, "inexistent_job", "The job does not exist.");
        };
        let elapsed = job.created.elapsed().as_secs_f64() * self.time_scale;
        let ready = lock(&job.file).is_some();
        let mut body = job.body.clone();
        if elapsed < 0.2 {
            return FakeResponse::ok(body);
        }
        if elapsed < 1.0 || !ready {
            body["status"] = json!("processing");
            body["percentage_done"] = json!(((elapsed * 100.0) as u64).min(99));
            body["time_left_seconds"] = json!(1);
            return FakeResponse::ok(body);
        }
        body["status"] = json!("completed");
        let ext = if body["format"] == "csv" {
            "csv"
        } else {
            "json"
        };
        body["location"] = json!(format!("{base}/exports/{id}.{ext}.gz"));
        FakeResponse::ok(body)
    }
}

/// The NDJSON (or CSV) text of an export.
fn export_text(
    t: &Auth0Tenant,
    connection: Option<&str>,
    fields: &[(String, String)],
    limit: Option<usize>,
    format: &str,
) -> String {
    let mut out = String::new();
    let users = t
        .collections
        .get("users")
        .map(Vec::as_slice)
        .unwrap_or_default();
    let selected = users
        .iter()
        .filter(|u| {
            connection.is_none_or(|c| {
                u.pointer("/identities/0/connection")
                    .and_then(Value::as_str)
                    == Some(c)
            })
        })
        .take(limit.unwrap_or(usize::MAX));
    if format == "csv" {
        out.push_str(
            &fields
                .iter()
                .map(|(_, a)| a.as_str())
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    for u in selected {
        let line = if fields.is_empty() {
            u.clone()
        } else {
            let mut obj = Map::new();
            for (name, export_as) in fields {
                if let Some(v) = field_at(u, name) {
                    obj.insert(export_as.clone(), v);
                }
            }
            Value::Object(obj)
        };
        if format == "csv" {
            let cells: Vec<String> = fields
                .iter()
                .map(|(_, a)| {
                    let cell = match line.get(a) {
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                        None => String::new(),
                    };
                    // RFC 4180 quoting.
                    if cell.contains([',', '"', '\n']) {
                        format!("\"{}\"", cell.replace('"', "\"\""))
                    } else {
                        cell
                    }
                })
                .collect();
            out.push_str(&cells.join(","));
        } else {
            out.push_str(&line.to_string());
        }
        out.push('\n');
    }
    out
}

/// A value at an export field path such as `identities[0].connection`.
fn field_at(v: &Value, path: &str) -> Option<Value> {
    let mut cur = v;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        cur = cur.get(name)?;
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(cur.clone())
}

/// Whether Auth0 creates items of the collection with `POST` on it.
pub fn has_create(c: &Collection) -> bool {
    !matches!(
        c.path,
        "actions/actions/{}/versions"
            | "actions/triggers/{}/bindings"
            | "rules-configs"
            | "guardian/factors"
            | "keys/signing"
    )
}

/// The answer to a write of an item, as Auth0 shapes it: custom domains leave out their
/// origin name, guardian factors answer their `enabled` alone.
fn write_answer(path: &str, item: &Value) -> Value {
    let mut out = item.clone();
    if path == "custom-domains"
        && let Some(o) = out.as_object_mut()
    {
        o.remove("origin_domain_name");
    }
    if path == "guardian/factors" {
        out = json!({"enabled": item.get("enabled").cloned().unwrap_or(json!(false))});
    }
    out
}

/// Whether Auth0 answers `GET` on one item of the collection.
pub fn has_item_get(c: &Collection) -> bool {
    c.bulk.is_none()
        && !matches!(
            c.path,
            "rules-configs" | "guardian/factors" | "actions/triggers/{}/bindings"
        )
}

/// Drops what Auth0 accepts on writes but never returns: email-provider passwords and API
/// keys, event-stream webhook tokens and passwords, action secret values.
fn strip_write_only(path: &str, v: &mut Value) {
    let drop = |v: &mut Value, pointer: &str, keys: &[&str]| {
        if let Some(obj) = v.pointer_mut(pointer).and_then(Value::as_object_mut) {
            for k in keys {
                obj.remove(*k);
            }
        }
    };
    match path {
        "emails/provider" => drop(
            v,
            "/credentials",
            &[
                "api_key",
                "smtp_pass",
                "accessKeyId",
                "secretAccessKey",
                "clientSecret",
            ],
        ),
        "event-streams" => drop(
            v,
            "/destination/configuration/webhook_authorization",
            &["token", "password", "header_value"],
        ),
        "actions/actions" => {
            for s in v
                .get_mut("secrets")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(o) = s.as_object_mut() {
                    o.remove("value");
                }
            }
        }
        _ => {}
    }
}

fn same_member(a: &Value, b: &Value, id: &str) -> bool {
    a[id] == b[id] && a.get("resource_server_identifier") == b.get("resource_server_identifier")
}

fn singular(c: &Collection) -> String {
    let key = c.path.rsplit('/').next().unwrap_or(c.path);
    let s = key.trim_end_matches('s').replace('-', "_");
    match s.as_str() {
        "client_grant" => "client_grant".into(),
        "resource_server" => "resource_server".into(),
        other => other.to_string(),
    }
}

/// Removes what a deleted item takes with it.
/// Whether a role of that id is in the tenant.
fn role_exists(t: &Auth0Tenant, id: &str) -> bool {
    t.collections
        .get("roles")
        .is_some_and(|roles| roles.iter().any(|r| r["id"] == id))
}

fn cascade(t: &mut Auth0Tenant, parent: &str, id: &str) {
    let prefix = format!("{parent}/{id}/");
    t.collections.retain(|k, _| !k.starts_with(&prefix));
    t.singletons.retain(|k, _| !k.starts_with(&prefix));
    match parent {
        "clients" => {
            if let Some(grants) = t.collections.get_mut("client-grants") {
                grants.retain(|g| g["client_id"] != id);
            }
            for conn in t.collections.get_mut("connections").into_iter().flatten() {
                if let Some(e) = conn
                    .get_mut("enabled_clients")
                    .and_then(Value::as_array_mut)
                {
                    e.retain(|c| c != id);
                }
            }
        }
        "resource-servers" => {
            // Grants name the API by its identifier; the id is gone, so match what is left.
            let identifiers: BTreeSet<String> = t
                .collections
                .get("resource-servers")
                .into_iter()
                .flatten()
                .map(|r| str_of(r, "identifier"))
                .collect();
            let mgmt = format!("https://{DOMAIN}/api/v2/");
            if let Some(grants) = t.collections.get_mut("client-grants") {
                grants.retain(|g| {
                    let aud = g["audience"].as_str().unwrap_or_default();
                    identifiers.contains(aud) || aud == mgmt
                });
            }
        }
        "roles" => {
            t.role_members.remove(id);
            for (k, items) in t.collections.iter_mut() {
                if matches("organizations/{}/members/{}/roles", k) {
                    items.retain(|r| r["id"] != id);
                }
            }
        }
        "organizations" => {
            t.org_members.remove(id);
        }
        "connections" => {
            for (k, items) in t.collections.iter_mut() {
                if matches("organizations/{}/enabled_connections", k) {
                    items.retain(|c| c["connection_id"] != id);
                }
            }
        }
        "hooks" => {
            t.singletons.remove(&format!("hooks/{id}/secrets"));
        }
        _ => {}
    }
}

impl FakeApi for Auth0Api {
    fn handle(&self, req: &FakeRequest, base: &str) -> Option<FakeResponse> {
        let mut t = lock(&self.tenant);
        self.answer(req, base, &mut t)
    }

    fn bucket(&self, _method: &Method, path: &str) -> String {
        if path.starts_with("/api/v2/") {
            "management".into()
        } else if path.starts_with("/oauth/") {
            "authentication".into()
        } else {
            "exports".into()
        }
    }

    fn rate_limited_body(&self) -> Value {
        json!({"statusCode": 429, "error": "Too Many Requests", "message": "Global limit has been reached", "errorCode": "too_many_requests"})
    }

    fn is_write(&self, method: &Method, path: &str) -> bool {
        *method != Method::GET && path != "/oauth/token" && path != "/api/v2/jobs/users-exports"
    }

    fn rate_limit_mode(&self) -> RateLimitMode {
        RateLimitMode::TokenBucket
    }

    fn fault_body(&self, status: u16) -> Value {
        let (error, code) = match status {
            502 => ("Bad Gateway", "bad_gateway"),
            503 => ("Service Unavailable", "service_unavailable"),
            504 => ("Gateway Timeout", "gateway_timeout"),
            _ => ("Internal Server Error", "internal_error"),
        };
        json!({"statusCode": status, "error": error, "message": "Injected fault", "errorCode": code})
    }

    fn fault_rate_limit_headers(&self) -> [&'static str; 3] {
        [
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        ]
    }

    fn raw(&self, req: &FakeRequest, _base: &str) -> Option<RawResponse> {
        let file = req.path.strip_prefix("/exports/")?;
        if req.method != Method::GET {
            return None;
        }
        let id = file.split('.').next().unwrap_or_default();
        let t = lock(&self.tenant);
        let bytes = t.jobs.get(id).and_then(|j| lock(&j.file).clone());
        Some(match bytes {
            Some(body) => RawResponse { status: 200, content_type: "application/gzip".into(), body },
            None => RawResponse {
                status: 404,
                content_type: "application/xml".into(),
                body: Bytes::from_static(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"),
            },
        })
    }
}

/// A running fake Auth0 tenant.
pub struct FakeAuth0 {
    server: FakeServer,
    tenant: Arc<Mutex<Auth0Tenant>>,
    client_id: String,
    client_secret: String,
}

impl FakeAuth0 {
    /// Generates a tenant from `spec` and serves it.
    pub async fn start(spec: Auth0TenantSpec, options: Auth0Options) -> std::io::Result<FakeAuth0> {
        let tenant = generate::generate(&spec);
        let (client_id, client_secret) = tenant.backup_client.clone();
        let tenant = Arc::new(Mutex::new(tenant));
        let time_scale = options
            .rate_limits
            .as_ref()
            .map_or(1.0, |r| r.time_scale.max(0.001));
        let api = Auth0Api {
            tenant: tenant.clone(),
            withheld: options.withheld_scopes.iter().cloned().collect(),
            time_scale,
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
        Ok(FakeAuth0 {
            server,
            tenant,
            client_id,
            client_secret,
        })
    }

    /// `http://127.0.0.1:PORT`; the API is under `/api/v2/`, the token endpoint `/oauth/token`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }
    /// The M2M application the token endpoint accepts.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// Its client secret (a sentinel: it is also in `GET /clients`).
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }
    /// The Management API audience, `{base}/api/v2/` (`https://{domain}/api/v2/` works too).
    pub fn audience(&self) -> String {
        format!("{}/api/v2/", self.base_url())
    }
    /// The private key (PEM, test only) for `private_key_jwt`.
    pub fn private_key_pem(&self) -> &'static str {
        TEST_PRIVATE_KEY_PEM
    }
    /// The framework server (writes, unknown requests, bucket counters).
    pub fn server(&self) -> &FakeServer {
        &self.server
    }
    /// Number of writes received.
    pub fn write_count(&self) -> usize {
        self.server.write_count()
    }
    /// Every secret value planted in the tenant.
    pub fn sentinels(&self) -> Vec<String> {
        lock(&self.tenant).sentinels.clone()
    }
    /// The planted secrets Auth0 accepts but never returns (action secret values, hook secret
    /// values, rules-config values, the SMTP password, event-stream tokens): no answer of the
    /// fake contains them.
    pub fn write_only_sentinels(&self) -> Vec<String> {
        lock(&self.tenant).hidden_secrets.clone()
    }
    /// Items of a collection by its path under `/api/v2/` (`"users"`, `"clients"`,
    /// `"client-grants"`, `"actions/actions"`, `"roles/{id}/permissions"`, …).
    pub fn items(&self, collection: &str) -> Vec<Value> {
        lock(&self.tenant)
            .collections
            .get(collection)
            .cloned()
            .unwrap_or_default()
    }
    /// A singleton by its path under `/api/v2/` (`"tenants/settings"`, …).
    pub fn singleton(&self, path: &str) -> Option<Value> {
        lock(&self.tenant).singletons.get(path).cloned()
    }
    /// Changes the tenant directly (an admin's action outside the API).
    pub fn with_tenant<T>(&self, f: impl FnOnce(&mut Auth0Tenant) -> T) -> T {
        let mut t = lock(&self.tenant);
        let out = f(&mut t);
        t.reindex_users();
        out
    }
}
