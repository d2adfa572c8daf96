//! A fake Microsoft Entra ID tenant that behaves like Microsoft Graph v1.0, built from the
//! trimmed OpenAPI description and the `az ad` cassettes in `shared/fixtures/entra`.
//!
//! # Routes
//! Graph lives under `{base}/v1.0/`; the token endpoint is
//! `POST {base}/{tenant_id}/oauth2/v2.0/token`. Every route in [`ROUTES`] answers `GET`:
//! collections (`{"@odata.context", "value", "@odata.nextLink"}`), singletons, relations
//! (`members`, `owners`: directory objects with `@odata.type`) and the `users/delta` and
//! `groups/delta` functions. Items of collections answer `GET`/`PATCH`/`DELETE` on
//! `{collection}/{id}`, collections answer `POST` (new GUIDs, `201` with a `location`), relations
//! answer `POST …/$ref` and `DELETE …/{id}/$ref`, applications and service principals answer
//! `addPassword`/`removePassword`, and `POST /v1.0/$batch` runs up to 20 requests.
//!
//! Behaviour kept from the real API:
//! - `GET /users` without `$select` returns Graph's default property set only (as the
//!   cassettes show: `accountEnabled`, `userType`, … need `$select`).
//! - `$top` defaults to 100, maximum 999 (`400 Request_UnsupportedQuery` above);
//!   `@odata.nextLink` is absolute and carries an opaque `$skiptoken` (a position cursor, so a
//!   page costs the page, not the collection); with [`EntraOptions::page_token_ttl`] an old
//!   skiptoken answers `400 Directory_ExpiredPageToken`.
//! - `$select` keeps the listed properties and `id`; `$filter` supports `prop eq 'v'`,
//!   `startswith(prop,'v')` and `servicePrincipalNames/any(c:c eq 'v')`.
//! - Delta: the last page has `@odata.deltaLink`; following it returns only users/groups changed
//!   since, deleted ones as `{"id", "@removed": {"reason": "changed"}}` (soft-deleted through the
//!   API) or `"deleted"` ([`EntraTenant::delete`], permanent); groups carry `members@delta`
//!   (also without `$select`) and, with `owners` in `$select`, `owners@delta` (only then are
//!   ownership changes tracked): the whole list in a full round, the additions and removals
//!   (`"@removed": {"reason": "deleted"}`) since the delta token otherwise.
//! - `$expand` on the `applications` (`owners`, `federatedIdentityCredentials`) and
//!   `servicePrincipals` (`owners`, `appRoleAssignedTo`) listings, with Graph's limits for
//!   directory objects: at most 20 related objects (the first of the relation's own listing,
//!   no nextLink for the rest), pages of at most 100 (a larger `$top` is lowered), one property
//!   and one level without nested options (otherwise `400 Request_UnsupportedQuery`), a name
//!   that is not a relationship of the type `400 BadRequest`; a real relationship the fake does
//!   not model is an unknown request (`501`). The expanded property comes whatever `$select`
//!   says, and `$expand` costs 1 RU more.
//! - Permissions: the access token's `roles` are every application permission in
//!   [`PERMISSIONS`] minus [`EntraOptions::withheld_permissions`]; reads need the route's read
//!   permission, writes its read and write permissions (as creating a conditional access
//!   policy needs `Policy.Read.All` and `Policy.ReadWrite.ConditionalAccess`); otherwise
//!   `403 Authorization_RequestDenied`.
//! - Deletes cascade as Graph does: memberships, ownerships, role assignments, app role
//!   assignments and permission grants of the deleted principal; an application's service
//!   principal goes with it.
//! - Headers: `request-id`, `client-request-id`, `x-ms-ags-diagnostic`, `x-ms-resource-unit`
//!   (the request's cost), and `x-ms-throttle-limit-percentage` near the budget; over budget
//!   `429 TooManyRequests` with `Retry-After` (omitted on every fourth throttled answer, as
//!   Graph sometimes does). See [`graph_rate_limits`].
//! - `$batch`: each request is permission-checked and answered on its own; throttling
//!   charges the batch the sum of its requests' costs (over budget the whole batch is `429`),
//!   and [`EntraOptions::batch_faults`] injects Graph's per-request `429`s and `5xx`s inside a
//!   `200` batch answer.
//!
//! Fidelity: `tests/entra_openapi.rs` validates every `GET` route against the trimmed spec.
//! `policies/externalIdentitiesPolicy` and B2X user flows are not served: they are not in
//! the v1.0 description; B2B settings live in the cross-tenant access and authorization
//! policies.
//!
//! Secret fields carry `SENTINEL-…` values ([`FakeEntra::sentinels`]): `addPassword` answers'
//! `secretText`, key credentials' `key`, identity providers' `clientSecret`.
//!
//! ```
//! use butterfly_testkit::entra::{EntraOptions, EntraTenantSpec, FakeEntra};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let fake = FakeEntra::start(EntraTenantSpec { users: 50, seed: 1 }, EntraOptions::default())
//!     .await
//!     .unwrap();
//! assert_eq!(fake.items("users").len(), 50);
//! assert_eq!(fake.tenant_id().len(), 36);
//! // An admin deletes a conditional access policy behind the client's back.
//! let id = fake.items("identity/conditionalAccess/policies")[0]["id"].as_str().unwrap().to_string();
//! assert!(fake.with_tenant(|t| t.delete("identity/conditionalAccess/policies", &id)));
//! assert_eq!(fake.write_count(), 0);
//! # });
//! ```

mod api;
mod generate;

pub use generate::LONG_RELATIONS_FROM;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

pub(crate) use crate::fake::merge;
use crate::fake::{BucketLimit, FakeServer, FaultRule, RateLimitConfig, ServerOptions, lock};

/// The test-only RSA private key (PEM) of the backup app's certificate (shared with the Okta
/// fake: see `butterfly-testkit/keys`).
pub const TEST_PRIVATE_KEY_PEM: &str = include_str!("../keys/okta-test-private.pem");
/// The `x5t` header a client assertion must carry (a fixed stand-in for the certificate's
/// SHA-1 thumbprint).
pub const TEST_CERT_THUMBPRINT: &str = "Rk-ZWtfVG_FnOWP0mdOSK2wAkYY";

/// Every application permission the fake knows (granted unless withheld).
pub const PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Group.Read.All",
    "GroupMember.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All",
    "Application.Read.All",
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "DelegatedPermissionGrant.Read.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Policy.Read.All",
    "Policy.ReadWrite.ConditionalAccess",
    "Policy.ReadWrite.AuthenticationMethod",
    "Policy.ReadWrite.Authorization",
    "Policy.ReadWrite.ApplicationConfiguration",
    "Policy.ReadWrite.SecurityDefaults",
    "Policy.ReadWrite.CrossTenantAccess",
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "AdministrativeUnit.Read.All",
    "AdministrativeUnit.ReadWrite.All",
    "IdentityProvider.Read.All",
    "IdentityProvider.ReadWrite.All",
    "Domain.Read.All",
    "Domain.ReadWrite.All",
    "Organization.Read.All",
    "Organization.ReadWrite.All",
    "OrganizationalBranding.ReadWrite.All",
];

/// What a route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A collection (`value` + paging); its items answer on `{path}/{id}`.
    Collection,
    /// A single object.
    Singleton,
    /// Directory objects referenced by a parent (`members`, `owners`).
    Relation,
    /// A delta function over a collection.
    Delta,
}

/// A `GET` route of the fake.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// Path under `/v1.0/`; `{}` segments match any id.
    pub path: &'static str,
    /// What it serves.
    pub shape: Shape,
    /// Application permissions that allow reading (any of them).
    pub read: &'static [&'static str],
    /// The application permission writes need (besides a read one).
    pub write: &'static str,
    /// `(default, max)` of `$top`; `None`: the whole collection in one page.
    pub top: Option<(usize, usize)>,
    /// The property that identifies items (`id`; `tenantId` for partners).
    pub key: &'static str,
    /// Where the items are stored, when another route shares them (an alias).
    pub store: Option<&'static str>,
}

const fn route(
    path: &'static str,
    shape: Shape,
    read: &'static [&'static str],
    write: &'static str,
) -> Route {
    Route {
        path,
        shape,
        read,
        write,
        top: None,
        key: "id",
        store: None,
    }
}

const PAGED: Option<(usize, usize)> = Some((100, 999));

/// `route` paged with `$top` (default 100, at most 999) and a skiptoken.
const fn paged(route: Route) -> Route {
    Route {
        top: PAGED,
        ..route
    }
}
const USER_R: &[&str] = &["User.Read.All"];
const GROUP_R: &[&str] = &["Group.Read.All"];
const MEMBER_R: &[&str] = &["GroupMember.Read.All", "Group.Read.All"];
const APP_R: &[&str] = &["Application.Read.All"];
const GRANT_R: &[&str] = &["DelegatedPermissionGrant.Read.All"];
const POLICY_R: &[&str] = &["Policy.Read.All"];
const ROLE_R: &[&str] = &["RoleManagement.Read.Directory"];
const AU_R: &[&str] = &["AdministrativeUnit.Read.All"];
const CA_W: &str = "Policy.ReadWrite.ConditionalAccess";

/// Every `GET` route the fake serves.
pub const ROUTES: &[Route] = &[
    paged(route(
        "users/delta",
        Shape::Delta,
        USER_R,
        "User.ReadWrite.All",
    )),
    paged(route(
        "groups/delta",
        Shape::Delta,
        GROUP_R,
        "Group.ReadWrite.All",
    )),
    paged(route(
        "users",
        Shape::Collection,
        USER_R,
        "User.ReadWrite.All",
    )),
    paged(route(
        "groups",
        Shape::Collection,
        GROUP_R,
        "Group.ReadWrite.All",
    )),
    paged(route(
        "groups/{}/members",
        Shape::Relation,
        MEMBER_R,
        "GroupMember.ReadWrite.All",
    )),
    paged(route(
        "groups/{}/owners",
        Shape::Relation,
        MEMBER_R,
        "GroupMember.ReadWrite.All",
    )),
    paged(route(
        "applications",
        Shape::Collection,
        APP_R,
        "Application.ReadWrite.All",
    )),
    paged(route(
        "applications/{}/owners",
        Shape::Relation,
        APP_R,
        "Application.ReadWrite.All",
    )),
    route(
        "applications/{}/federatedIdentityCredentials",
        Shape::Collection,
        APP_R,
        "Application.ReadWrite.All",
    ),
    paged(route(
        "servicePrincipals",
        Shape::Collection,
        APP_R,
        "Application.ReadWrite.All",
    )),
    paged(route(
        "servicePrincipals/{}/owners",
        Shape::Relation,
        APP_R,
        "Application.ReadWrite.All",
    )),
    paged(route(
        "servicePrincipals/{}/appRoleAssignedTo",
        Shape::Collection,
        APP_R,
        "AppRoleAssignment.ReadWrite.All",
    )),
    Route {
        store: Some("oauth2PermissionGrants"),
        ..paged(route(
            "servicePrincipals/{}/oauth2PermissionGrants",
            Shape::Collection,
            APP_R,
            "DelegatedPermissionGrant.ReadWrite.All",
        ))
    },
    paged(route(
        "oauth2PermissionGrants",
        Shape::Collection,
        GRANT_R,
        "DelegatedPermissionGrant.ReadWrite.All",
    )),
    route(
        "identity/conditionalAccess/policies",
        Shape::Collection,
        POLICY_R,
        CA_W,
    ),
    route(
        "identity/conditionalAccess/namedLocations",
        Shape::Collection,
        POLICY_R,
        CA_W,
    ),
    route(
        "policies/authenticationStrengthPolicies",
        Shape::Collection,
        POLICY_R,
        CA_W,
    ),
    Route {
        store: Some("policies/authenticationStrengthPolicies"),
        ..route(
            "identity/conditionalAccess/authenticationStrength/policies",
            Shape::Collection,
            POLICY_R,
            CA_W,
        )
    },
    route(
        "policies/authenticationMethodsPolicy",
        Shape::Singleton,
        POLICY_R,
        "Policy.ReadWrite.AuthenticationMethod",
    ),
    route(
        "policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
        Shape::Collection,
        POLICY_R,
        "Policy.ReadWrite.AuthenticationMethod",
    ),
    route(
        "policies/authorizationPolicy",
        Shape::Singleton,
        POLICY_R,
        "Policy.ReadWrite.Authorization",
    ),
    route(
        "policies/tokenLifetimePolicies",
        Shape::Collection,
        POLICY_R,
        "Policy.ReadWrite.ApplicationConfiguration",
    ),
    route(
        "policies/tokenIssuancePolicies",
        Shape::Collection,
        POLICY_R,
        "Policy.ReadWrite.ApplicationConfiguration",
    ),
    route(
        "policies/identitySecurityDefaultsEnforcementPolicy",
        Shape::Singleton,
        POLICY_R,
        "Policy.ReadWrite.SecurityDefaults",
    ),
    route(
        "policies/crossTenantAccessPolicy",
        Shape::Singleton,
        POLICY_R,
        "Policy.ReadWrite.CrossTenantAccess",
    ),
    route(
        "policies/crossTenantAccessPolicy/default",
        Shape::Singleton,
        POLICY_R,
        "Policy.ReadWrite.CrossTenantAccess",
    ),
    Route {
        key: "tenantId",
        ..route(
            "policies/crossTenantAccessPolicy/partners",
            Shape::Collection,
            POLICY_R,
            "Policy.ReadWrite.CrossTenantAccess",
        )
    },
    route(
        "directoryRoles",
        Shape::Collection,
        ROLE_R,
        "RoleManagement.ReadWrite.Directory",
    ),
    route(
        "directoryRoles/{}/members",
        Shape::Relation,
        ROLE_R,
        "RoleManagement.ReadWrite.Directory",
    ),
    route(
        "roleManagement/directory/roleDefinitions",
        Shape::Collection,
        ROLE_R,
        "RoleManagement.ReadWrite.Directory",
    ),
    paged(route(
        "roleManagement/directory/roleAssignments",
        Shape::Collection,
        ROLE_R,
        "RoleManagement.ReadWrite.Directory",
    )),
    paged(route(
        "roleManagement/directory/roleEligibilitySchedules",
        Shape::Collection,
        ROLE_R,
        "RoleManagement.ReadWrite.Directory",
    )),
    paged(route(
        "directory/administrativeUnits",
        Shape::Collection,
        AU_R,
        "AdministrativeUnit.ReadWrite.All",
    )),
    paged(route(
        "directory/administrativeUnits/{}/members",
        Shape::Relation,
        AU_R,
        "AdministrativeUnit.ReadWrite.All",
    )),
    route(
        "identity/identityProviders",
        Shape::Collection,
        &["IdentityProvider.Read.All"],
        "IdentityProvider.ReadWrite.All",
    ),
    route(
        "domains",
        Shape::Collection,
        &["Domain.Read.All"],
        "Domain.ReadWrite.All",
    ),
    route(
        "organization",
        Shape::Collection,
        &["Organization.Read.All"],
        "Organization.ReadWrite.All",
    ),
    route(
        "organization/{}/branding",
        Shape::Singleton,
        &["Organization.Read.All"],
        "OrganizationalBranding.ReadWrite.All",
    ),
];

/// What tenant to generate.
#[derive(Debug, Clone)]
pub struct EntraTenantSpec {
    /// Users (members, guests and disabled accounts). From [`LONG_RELATIONS_FROM`] users on,
    /// one application has 25 owners and 25 federated credentials and one service principal
    /// 30 app role assignments (more than Graph's `$expand` returns).
    pub users: usize,
    /// Seed: the same seed gives the same tenant.
    pub seed: u64,
}

impl Default for EntraTenantSpec {
    fn default() -> Self {
        EntraTenantSpec {
            users: 200,
            seed: 1,
        }
    }
}

/// How the fake server behaves.
#[derive(Debug, Clone, Default)]
pub struct EntraOptions {
    /// Throttling (`None`: unlimited). See [`graph_rate_limits`].
    pub rate_limits: Option<RateLimitConfig>,
    /// Faults to inject.
    pub faults: Vec<FaultRule>,
    /// Application permissions never granted (e.g. `Policy.Read.All`).
    pub withheld_permissions: Vec<String>,
    /// Skiptokens older than this answer `400 Directory_ExpiredPageToken` (`None`: never).
    pub page_token_ttl: Option<Duration>,
    /// Faults for the requests inside a `$batch` (matched on their `/v1.0/...` path, counted
    /// apart from [`EntraOptions::faults`]): `Status` answers that status in the batch,
    /// `RateLimited` an inner `429` with `Retry-After`, `RateLimitedNoHeaders` one without, as
    /// Graph throttles batched requests one by one; `Slow`, `Reset` and `Truncate` do not apply.
    pub batch_faults: Vec<FaultRule>,
    /// Port (0: any).
    pub port: u16,
}

/// Graph's identity-and-access budgets per app per tenant, in resource units per 10 s window
/// (Graph documents 3,500 RU for a small tenant, 5,000 for a medium and 8,000 for a large one;
/// the fake uses the smallest, as the contract note says), with writes in a smaller bucket of
/// their own. A list costs 2 RU, a
/// relation list 3, a `GET` by id 1, a write 3; `$select` and `$top` under 20 take 1 off (never
/// below 1), `$expand` adds 1; a `$batch` costs the sum of its requests.
pub fn graph_rate_limits(time_scale: f64) -> RateLimitConfig {
    RateLimitConfig {
        buckets: vec![
            BucketLimit {
                name: "identity".into(),
                limit: 3500,
            },
            BucketLimit {
                name: "identity-write".into(),
                limit: 1500,
            },
        ],
        window: Duration::from_secs(10),
        headers: [
            "x-ms-throttle-limit",
            "x-ms-throttle-remaining",
            "x-ms-throttle-reset",
        ],
        concurrency: 256,
        time_scale,
    }
}

/// What a change-log entry records.
#[derive(Debug, Clone)]
pub(crate) enum ChangeKind {
    /// Created or updated.
    Changed,
    /// Soft-deleted (Graph's `reason: changed`) or permanently deleted (`deleted`).
    Removed(&'static str),
    /// A directory object added to (`true`) or removed from (`false`) a group's relation
    /// (`"members"` or `"owners"`).
    Reference(&'static str, String, bool),
}

#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) clock: u64,
    pub(crate) coll: &'static str,
    pub(crate) id: String,
    pub(crate) kind: ChangeKind,
}

/// A collection: items in order and an index by key.
#[derive(Debug, Default, Clone)]
pub(crate) struct Coll {
    pub(crate) items: Vec<Value>,
    pub(crate) index: HashMap<String, usize>,
    pub(crate) key: &'static str,
}

impl Coll {
    pub(crate) fn new(key: &'static str) -> Coll {
        Coll {
            key,
            ..Coll::default()
        }
    }
    pub(crate) fn push(&mut self, item: Value) {
        let k = item[self.key].as_str().unwrap_or_default().to_string();
        self.index.insert(k, self.items.len());
        self.items.push(item);
    }
    pub(crate) fn get(&self, id: &str) -> Option<&Value> {
        self.index.get(id).and_then(|&i| self.items.get(i))
    }
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Value> {
        let i = *self.index.get(id)?;
        self.items.get_mut(i)
    }
    pub(crate) fn remove(&mut self, id: &str) -> Option<Value> {
        let i = self.index.remove(id)?;
        let item = self.items.remove(i);
        for (pos, it) in self.items.iter().enumerate().skip(i) {
            let k = it[self.key].as_str().unwrap_or_default().to_string();
            self.index.insert(k, pos);
        }
        Some(item)
    }
}

/// The tenant's state, for tests that act as an admin would ([`FakeEntra::with_tenant`]).
/// Every change through these methods is seen by delta queries.
#[derive(Debug, Default)]
pub struct EntraTenant {
    pub(crate) colls: HashMap<String, Coll>,
    pub(crate) singletons: BTreeMap<String, Value>,
    /// `"{parent path}/{id}/{relation}"` -> directory object ids, in order.
    pub(crate) rels: HashMap<String, Vec<String>>,
    /// Directory object id -> the collection it lives in.
    pub(crate) types: HashMap<String, &'static str>,
    pub(crate) clock: u64,
    pub(crate) log: Vec<Change>,
    pub(crate) sentinels: Vec<String>,
    pub(crate) tokens: HashMap<String, BTreeSet<String>>,
    pub(crate) tenant_id: String,
    pub(crate) domain: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) id_counter: u64,
    pub(crate) seed: u64,
    pub(crate) batch_writes: usize,
}

/// `"groups/{id}/members"` or `"groups/{id}/owners"`: the group id and the relation (the
/// relations group delta tracks).
fn group_relation(path: &str) -> Option<(&str, &'static str)> {
    let rest = path.strip_prefix("groups/")?;
    [("/members", "members"), ("/owners", "owners")]
        .into_iter()
        .find_map(|(suffix, relation)| {
            rest.strip_suffix(suffix)
                .filter(|gid| !gid.contains('/'))
                .map(|gid| (gid, relation))
        })
}

/// The directory-object collections (`@odata.type` names).
pub(crate) const DIRECTORY: &[(&str, &str)] = &[
    ("users", "#microsoft.graph.user"),
    ("groups", "#microsoft.graph.group"),
    ("servicePrincipals", "#microsoft.graph.servicePrincipal"),
    ("applications", "#microsoft.graph.application"),
    (
        "directory/administrativeUnits",
        "#microsoft.graph.administrativeUnit",
    ),
    ("directoryRoles", "#microsoft.graph.directoryRole"),
];

impl EntraTenant {
    /// A fresh GUID (deterministic per tenant).
    pub fn new_guid(&mut self) -> String {
        self.id_counter += 1;
        let x = generate::mix(self.seed ^ 0x5eed_0000_0000_0000, self.id_counter);
        let y = generate::mix(self.seed ^ 0x00ff_0000_0000_0000, self.id_counter);
        generate::guid_from(x, y)
    }

    pub(crate) fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    pub(crate) fn record(&mut self, coll: &str, id: &str, kind: ChangeKind) {
        let coll = match coll {
            "users" => "users",
            "groups" => "groups",
            _ => return,
        };
        let clock = self.tick();
        self.log.push(Change {
            clock,
            coll,
            id: id.to_string(),
            kind,
        });
    }

    /// The items of a collection (`"users"`, `"identity/conditionalAccess/policies"`,
    /// `"applications/{id}/federatedIdentityCredentials"`), a relation
    /// (`"groups/{id}/members"`: the member objects) or a singleton (one item).
    pub fn items(&self, path: &str) -> Vec<Value> {
        let path = path.trim_matches('/');
        if let Some(c) = self.colls.get(path) {
            return c.items.clone();
        }
        if let Some(sp) = path
            .strip_prefix("servicePrincipals/")
            .and_then(|p| p.strip_suffix("/oauth2PermissionGrants"))
        {
            return self
                .items("oauth2PermissionGrants")
                .into_iter()
                .filter(|g| g["clientId"] == sp)
                .collect();
        }
        if let Some(ids) = self.rels.get(path) {
            return ids
                .iter()
                .filter_map(|id| self.object(id).map(|(_, v)| v.clone()))
                .collect();
        }
        self.singletons.get(path).cloned().into_iter().collect()
    }

    /// A directory object by id and its collection.
    pub(crate) fn object(&self, id: &str) -> Option<(&'static str, &Value)> {
        let coll = *self.types.get(id)?;
        Some((coll, self.colls.get(coll)?.get(id)?))
    }

    /// Creates an item in a collection (an `id` GUID is added if missing); returns its key.
    pub fn insert(&mut self, coll: &str, mut item: Value) -> String {
        let key = self.colls.get(coll).map_or("id", |c| c.key);
        if item.get(key).and_then(Value::as_str).is_none() {
            let id = self.new_guid();
            item[key] = json!(id);
        }
        let id = item[key].as_str().unwrap_or_default().to_string();
        if let Some((name, _)) = DIRECTORY.iter().find(|(c, _)| *c == coll) {
            self.types.insert(id.clone(), name);
        }
        self.colls
            .entry(coll.to_string())
            .or_insert_with(|| Coll::new(key))
            .push(item);
        self.record(coll, &id, ChangeKind::Changed);
        id
    }

    /// Merges `patch` into an item; `false` if there is no such item.
    pub fn update(&mut self, coll: &str, id: &str, patch: &Value) -> bool {
        let Some(item) = self.colls.get_mut(coll).and_then(|c| c.get_mut(id)) else {
            return false;
        };
        merge(item, patch);
        self.record(coll, id, ChangeKind::Changed);
        true
    }

    /// Deletes an item permanently (delta reports `reason: deleted`), with Graph's cascades.
    pub fn delete(&mut self, coll: &str, id: &str) -> bool {
        self.remove(coll, id, "deleted")
    }

    pub(crate) fn remove(&mut self, coll: &str, id: &str, reason: &'static str) -> bool {
        let Some(item) = self.colls.get_mut(coll).and_then(|c| c.remove(id)) else {
            return false;
        };
        self.types.remove(id);
        self.record(coll, id, ChangeKind::Removed(reason));
        // Nested collections and relations of the object.
        let prefix = format!("{coll}/{id}/");
        self.colls.retain(|k, _| !k.starts_with(&prefix));
        self.rels.retain(|k, _| !k.starts_with(&prefix));
        // Memberships and ownerships that name it.
        let mut left: Vec<String> = Vec::new();
        for (k, ids) in self.rels.iter_mut() {
            if let Some(pos) = ids.iter().position(|m| m == id) {
                ids.remove(pos);
                left.push(k.clone());
            }
        }
        for k in left {
            if let Some((gid, relation)) = group_relation(&k) {
                let gid = gid.to_string();
                self.record(
                    "groups",
                    &gid,
                    ChangeKind::Reference(relation, id.to_string(), false),
                );
            }
        }
        // References by principal.
        for path in [
            "roleManagement/directory/roleAssignments",
            "roleManagement/directory/roleEligibilitySchedules",
        ] {
            self.retain(path, |v| v["principalId"] != id);
        }
        self.retain("oauth2PermissionGrants", |v| {
            v["clientId"] != id && v["principalId"] != id && v["resourceId"] != id
        });
        let sp_keys: Vec<String> = self
            .colls
            .keys()
            .filter(|k| k.starts_with("servicePrincipals/") && k.ends_with("/appRoleAssignedTo"))
            .cloned()
            .collect();
        for k in sp_keys {
            self.retain(&k, |v| v["principalId"] != id);
        }
        if coll == "applications"
            && let Some(app_id) = item["appId"].as_str()
        {
            let sps: Vec<String> = self
                .colls
                .get("servicePrincipals")
                .map(|c| {
                    c.items
                        .iter()
                        .filter(|s| s["appId"] == app_id)
                        .filter_map(|s| s["id"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for sp in sps {
                self.remove("servicePrincipals", &sp, reason);
            }
        }
        true
    }

    fn retain(&mut self, coll: &str, keep: impl Fn(&Value) -> bool) {
        if let Some(c) = self.colls.get_mut(coll)
            && c.items.iter().any(|v| !keep(v))
        {
            let items = std::mem::take(&mut c.items);
            let key = c.key;
            *c = Coll::new(key);
            for it in items.into_iter().filter(|v| keep(v)) {
                c.push(it);
            }
        }
    }

    /// Adds a member to a group (`relation` = `"members"`/`"owners"`, parent e.g.
    /// `"groups/{id}"`); `false` if already there or unknown.
    pub fn add_reference(&mut self, parent: &str, relation: &str, member: &str) -> bool {
        if !self.types.contains_key(member) {
            return false;
        }
        let list = self.rels.entry(format!("{parent}/{relation}")).or_default();
        if list.iter().any(|m| m == member) {
            return false;
        }
        list.push(member.to_string());
        if let Some((gid, relation)) = group_relation(&format!("{parent}/{relation}")) {
            let gid = gid.to_string();
            self.record(
                "groups",
                &gid,
                ChangeKind::Reference(relation, member.to_string(), true),
            );
        }
        true
    }

    /// Removes a member or owner; `false` if it was not there.
    pub fn remove_reference(&mut self, parent: &str, relation: &str, member: &str) -> bool {
        let Some(list) = self.rels.get_mut(&format!("{parent}/{relation}")) else {
            return false;
        };
        let Some(pos) = list.iter().position(|m| m == member) else {
            return false;
        };
        list.remove(pos);
        if let Some((gid, relation)) = group_relation(&format!("{parent}/{relation}")) {
            let gid = gid.to_string();
            self.record(
                "groups",
                &gid,
                ChangeKind::Reference(relation, member.to_string(), false),
            );
        }
        true
    }

    /// Ids of a relation (`"groups/{id}/members"`).
    pub fn references(&self, path: &str) -> Vec<String> {
        self.rels
            .get(path.trim_matches('/'))
            .cloned()
            .unwrap_or_default()
    }

    /// Replaces a singleton (e.g. `"policies/authorizationPolicy"`) with a merge of `patch`.
    pub fn update_singleton(&mut self, path: &str, patch: &Value) -> bool {
        match self.singletons.get_mut(path) {
            Some(v) => {
                merge(v, patch);
                true
            }
            None => false,
        }
    }
}

/// A running fake Entra tenant.
pub struct FakeEntra {
    server: FakeServer,
    tenant: Arc<Mutex<EntraTenant>>,
    tenant_id: String,
    client_id: String,
    client_secret: String,
}

impl FakeEntra {
    /// Generates a tenant from `spec` and serves it.
    pub async fn start(spec: EntraTenantSpec, options: EntraOptions) -> std::io::Result<FakeEntra> {
        let mut tenant = generate::generate(&spec);
        // Round 0 means "a full delta round": the generated state is round 1, so a delta
        // token taken before any change (`$deltatoken=latest`) still continues from it.
        tenant.clock = tenant.clock.max(1);
        let (tenant_id, client_id, client_secret) = (
            tenant.tenant_id.clone(),
            tenant.client_id.clone(),
            tenant.client_secret.clone(),
        );
        let tenant = Arc::new(Mutex::new(tenant));
        let api = api::GraphApi::new(tenant.clone(), &options);
        let server = FakeServer::start(
            api,
            ServerOptions {
                rate_limits: options.rate_limits,
                faults: options.faults,
                port: options.port,
            },
        )
        .await?;
        Ok(FakeEntra {
            server,
            tenant,
            tenant_id,
            client_id,
            client_secret,
        })
    }

    /// `http://127.0.0.1:PORT`: Graph at `{base}/v1.0/…`, the token endpoint at
    /// `{base}/{tenant_id}/oauth2/v2.0/token`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }
    /// The tenant id (a GUID derived from the seed).
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }
    /// The backup app's application (client) id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The client secret the token endpoint accepts.
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }
    /// The certificate's private key (PEM, test only) for `client_assertion`.
    pub fn certificate_private_key_pem(&self) -> &'static str {
        TEST_PRIVATE_KEY_PEM
    }
    /// The `x5t` the assertion header must carry.
    pub fn certificate_thumbprint(&self) -> &str {
        TEST_CERT_THUMBPRINT
    }
    /// The framework server (writes, unknown requests, bucket counters).
    pub fn server(&self) -> &FakeServer {
        &self.server
    }
    /// Writes received (including the writes inside `$batch` requests).
    pub fn write_count(&self) -> usize {
        let batch = self.lock().batch_writes;
        self.server.write_count() + batch
    }
    /// Every secret value planted in (or handed out by) the tenant.
    pub fn sentinels(&self) -> Vec<String> {
        self.lock().sentinels.clone()
    }
    /// Items of a collection, relation or singleton path under `/v1.0` (see [`EntraTenant::items`]).
    pub fn items(&self, collection: &str) -> Vec<Value> {
        self.lock().items(collection)
    }
    /// Changes the tenant directly, as an admin would outside the API.
    pub fn with_tenant<T>(&self, f: impl FnOnce(&mut EntraTenant) -> T) -> T {
        f(&mut self.lock())
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, EntraTenant> {
        lock(&self.tenant)
    }
}
