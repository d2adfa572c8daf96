//! # butterfly-okta
//!
//! The Okta Management API provider for butterfly: backs up every kind in the
//! [kinds table](kinds) (users including DEPROVISIONED ones, groups, rules, memberships,
//! apps and assignments, every policy type and its rules, zones, authenticators,
//! authorization servers, IdPs, roles, hooks, branding, org settings, governance…), answers
//! the access probe, and restores through the core engine.
//!
//! Credentials are OAuth 2.0 client credentials with `private_key_jwt` (recommended: the
//! token carries only the scopes the kinds need) or an SSWS API token. Requests are spread
//! over Okta's rate-limit buckets and use at most half of each by default.
//!
//! ```no_run
//! use butterfly_core::backup::{self, BackupOptions};
//! use butterfly_core::store::{FsStore, StoreExt};
//! use butterfly_okta::{OktaConfig, OktaProvider};
//!
//! # async fn run() -> butterfly_core::Result<()> {
//! // OKTA_ORG_URL, OKTA_CLIENT_ID, OKTA_PRIVATE_KEY_FILE, OKTA_PRIVATE_KEY_ID
//! let okta = OktaProvider::new(OktaConfig::from_env()?)?;
//! let store = FsStore::open_default()?;
//! let (snapshot, _) = backup::run_and_save(&okta, &store, &BackupOptions::default()).await?;
//! println!("{} resources, {}", snapshot.resource_count(), snapshot.status());
//! # Ok(()) }
//! ```
//!
//! Notes: the members of the built-in `Everyone` group are implied (every user) and are not
//! fetched; system apps (`okta_enduser`, `saasure`, `okta_browser_plugin`), built-in and
//! app-sourced groups and directory-sourced users are backed up but never re-created.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod descriptor;
pub mod kinds;
pub mod terraform;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use butterfly_core::diff::{Severity, SeverityRule};
use butterfly_core::http::{BucketSpec, HttpClient, HttpStats, Request, StaticAuth};
use butterfly_core::provider::{AccessReport, Capabilities, FetchContext};
use butterfly_core::restore::{
    CannotRestore, GuardFinding, GuardLevel, RestorePlan, Restorer, StepAction,
};
use butterfly_core::{
    Error, ErrorKind, KindRef, Provider, Resource, ResourceKind, Result, Snapshot,
};
use serde_json::{Value, json};

use butterfly_core::table::{self, Items, TableSource};
pub use config::{OktaAuth, OktaConfig, map_error};
pub use descriptor::DESCRIPTOR;
use kinds::{OktaKind, Write};

/// Okta's documented per-minute limits of the buckets the client spreads requests over.
pub const DEFAULT_BUCKETS: &[(&str, u32)] = &[
    ("users", 600),
    ("user", 2000),
    ("groups", 500),
    ("apps", 100),
    ("authorizationServers", 100),
    ("policies", 100),
    ("default", 1200),
];

/// The bucket Okta counts a request in.
pub fn bucket_of(method: &reqwest::Method, path: &str) -> String {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["api", "v1", "users"] if method == reqwest::Method::GET => "users".into(),
        ["api", "v1", "users", _] => "user".into(),
        ["api", "v1", "groups", ..] => "groups".into(),
        ["api", "v1", "apps", ..] => "apps".into(),
        ["api", "v1", "authorizationServers", ..] => "authorizationServers".into(),
        ["api", "v1", "policies", ..] => "policies".into(),
        _ => "default".into(),
    }
}

/// An Okta org: implements [`Provider`] and [`Restorer`].
#[derive(Debug)]
pub struct OktaProvider {
    tenant: String,
    read: HttpClient,
    write: HttpClient,
}

fn read_scopes() -> Vec<String> {
    let set: BTreeSet<String> = kinds::ROWS
        .iter()
        .map(|r| r.list.access.to_string())
        .collect();
    set.into_iter().collect()
}

fn manage_scopes() -> Vec<String> {
    let set: BTreeSet<String> = kinds::ROWS
        .iter()
        .filter(|r| r.write != Write::None)
        .map(|r| r.list.access.replace(".read", ".manage"))
        .collect();
    set.into_iter().collect()
}

impl OktaProvider {
    /// Builds the provider (no request is sent until the first backup or probe).
    pub fn new(config: OktaConfig) -> Result<OktaProvider> {
        let org = butterfly_core::http::validate_base_url(&config.org_url)?;
        let base = match &config.base_url {
            Some(b) => butterfly_core::http::validate_base_url(b)?,
            None => org.clone(),
        };
        let tenant = org.host_str().unwrap_or_default().to_string();
        let build = |scopes: Vec<String>| -> Result<HttpClient> {
            let auth: Arc<dyn butterfly_core::http::AuthHook> = match &config.auth {
                OktaAuth::ApiToken { token } => {
                    use secrecy::ExposeSecret;
                    Arc::new(StaticAuth::new(secrecy::SecretString::from(format!(
                        "SSWS {}",
                        token.expose_secret()
                    ))))
                }
                OktaAuth::PrivateKeyJwt {
                    client_id,
                    private_key,
                    key_id,
                    scopes: wanted,
                } => Arc::new(config::token_auth(
                    client_id,
                    private_key,
                    key_id.clone(),
                    wanted.clone().unwrap_or(scopes),
                    format!("{base}oauth2/v1/token"),
                )?),
            };
            let period = config.bucket_period.unwrap_or(Duration::from_secs(60));
            let limits: Vec<(String, u32)> = config.bucket_limits.clone().unwrap_or_else(|| {
                DEFAULT_BUCKETS
                    .iter()
                    .map(|(n, l)| (n.to_string(), *l))
                    .collect()
            });
            let mut builder = HttpClient::builder(base.as_str())
                .auth(auth)
                .classify(Arc::new(|m: &reqwest::Method, p: &str| bucket_of(m, p)))
                .error_mapper(config::error_mapper())
                .max_share(config.max_share.unwrap_or(0.5))
                .max_in_flight(32);
            for (name, limit) in limits {
                builder = builder.bucket(BucketSpec {
                    name,
                    limit,
                    period,
                });
            }
            builder.build()
        };
        let read = build(read_scopes())?;
        let mut write_scopes = read_scopes();
        write_scopes.extend(manage_scopes());
        let write = build(write_scopes)?;
        Ok(OktaProvider {
            tenant,
            read,
            write,
        })
    }

    /// Request counters of the read client.
    pub fn http_stats(&self) -> HttpStats {
        self.read.stats()
    }

    fn target(&self, row: &OktaKind, resource: &Resource) -> (String, String) {
        let path = table::list_path(row, resource.parent_id.as_deref(), None);
        let own = resource
            .id
            .rsplit('/')
            .next()
            .unwrap_or(&resource.id)
            .to_string();
        (path, own)
    }
}

/// The core table engine reads every Okta kind through the read client.
impl TableSource<OktaKind> for OktaProvider {
    fn http(&self) -> &HttpClient {
        &self.read
    }

    /// A listing does not exist in this org (404), or the org refuses this variant of it (400,
    /// `E0000001` "Api validation failed", as for a policy type the org has no feature for).
    fn is_absent(&self, e: &Error) -> bool {
        e.kind() == ErrorKind::NotFound
            || (e.status() == Some(400) && e.message().starts_with("E0000001"))
    }
}

/// Group rule writes, as Okta allows them: `PUT` only on an `INACTIVE` rule and never on its
/// `actions`; an `INVALID` rule (one of its groups was deleted) can only be read or deleted.
impl OktaProvider {
    /// `POST {path}/{own}/lifecycle/{action}` (`activate` or `deactivate`).
    async fn lifecycle(&self, path: &str, own: &str, action: &str) -> Result<()> {
        self.write
            .send(Request::post(
                &format!("{path}/{own}/lifecycle/{action}"),
                json!({}),
            ))
            .await?;
        Ok(())
    }

    /// Brings rule `own` to `resource`: by replacement when its actions change or it is
    /// `INVALID`, else deactivate, `PUT`, re-activate. Returns the rule's id afterwards.
    async fn update_group_rule(
        &self,
        path: &str,
        own: &str,
        resource: &Resource,
    ) -> Result<String> {
        let current = self
            .write
            .send(Request::get(&format!("{path}/{own}")))
            .await?
            .value()?;
        let status = current["status"].as_str().unwrap_or("INACTIVE");
        let desired = clean(&resource.body);
        let active = match resource.body["status"].as_str() {
            Some("ACTIVE") => true,
            Some("INACTIVE") => false,
            // A repair writes the target's own body, INVALID only because a group was deleted;
            // the status before is unknown here, and a restored rule comes back active (as
            // re-created ones do) so that it keeps assigning its users.
            Some("INVALID") => true,
            _ => status == "ACTIVE",
        };
        if status == "INVALID" || actions_differ(&desired, &current) {
            return self
                .replace_group_rule(path, own, status, desired, active)
                .await;
        }
        let fields = |v: &Value| (v.get("name").cloned(), v.get("conditions").cloned());
        if fields(&desired) != fields(&current) {
            if status == "ACTIVE" {
                self.lifecycle(path, own, "deactivate").await?;
            }
            self.write
                .send(Request::put(&format!("{path}/{own}"), desired))
                .await?;
            if active {
                self.lifecycle(path, own, "activate").await?;
            }
        } else if active != (status == "ACTIVE") {
            let action = if active { "activate" } else { "deactivate" };
            self.lifecycle(path, own, action).await?;
        }
        Ok(own.to_string())
    }

    /// Replaces rule `old` (status `status`) by a new rule with `desired`'s name, conditions and
    /// actions, active when `active`; returns the new rule's id.
    async fn replace_group_rule(
        &self,
        path: &str,
        old: &str,
        status: &str,
        mut desired: Value,
        active: bool,
    ) -> Result<String> {
        // New before old: a group rule only adds users to groups, so two rules for a moment
        // are harmless, while deleting first would leave none if the create is refused.
        let name = desired["name"].clone();
        // Okta refuses a second rule of the same name: a temporary one (at most 50 characters)
        // until the old rule is gone.
        desired["name"] = json!(format!("butterfly restore {old}"));
        let created = self
            .write
            .send(Request::post(path, desired.clone()))
            .await?
            .value()?;
        let new = created["id"]
            .as_str()
            .ok_or_else(|| Error::invalid_data("the created group rule has no id"))?
            .to_string();
        if active {
            self.lifecycle(path, &new, "activate").await?;
        }
        // An INVALID rule refuses lifecycle calls and an INACTIVE one needs none; deleting
        // keeps the users the old rule added in their groups (no `removeUsers`).
        if status == "ACTIVE" {
            self.lifecycle(path, old, "deactivate").await?;
        }
        self.write
            .send(Request::delete(&format!("{path}/{old}")))
            .await?;
        // The real name, through a PUT that Okta takes only on an INACTIVE rule.
        if active {
            self.lifecycle(path, &new, "deactivate").await?;
        }
        desired["name"] = name;
        self.write
            .send(Request::put(&format!("{path}/{new}"), desired))
            .await
            .map_err(|e| e.context(format!("the replacement {new} keeps its temporary name")))?;
        if active {
            self.lifecycle(path, &new, "activate").await?;
        }
        Ok(new)
    }
}

/// Whether two group rules' actions differ, their target groups compared as sets (Okta keeps
/// no order).
fn actions_differ(a: &Value, b: &Value) -> bool {
    let split = |rule: &Value| {
        let mut actions = rule.get("actions").cloned().unwrap_or(Value::Null);
        let ids: BTreeSet<String> = match actions.pointer_mut("/assignUserToGroups/groupIds") {
            Some(ids) => {
                let set = ids
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect();
                *ids = Value::Null;
                set
            }
            None => BTreeSet::new(),
        };
        (ids, actions)
    };
    split(a) != split(b)
}

#[async_trait]
impl Provider for OktaProvider {
    fn name(&self) -> &str {
        "okta"
    }
    fn tenant(&self) -> &str {
        &self.tenant
    }
    fn kinds(&self) -> &[KindRef] {
        kinds::all()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            restore: true,
            incremental: false,
            access_probe: true,
        }
    }

    async fn probe(&self, kinds: &[KindRef]) -> Result<AccessReport> {
        let rows: Vec<&'static OktaKind> = kinds::rows_of(kinds);
        table::probe(self, &rows).await
    }

    async fn fetch(&self, kind: KindRef, ctx: FetchContext) -> Result<Vec<Resource>> {
        table::fetch(self, kinds::row_for(kind)?, &ctx).await
    }

    fn severity_rules(&self) -> Vec<SeverityRule> {
        severity_rules()
    }

    fn restorer(&self) -> Option<&dyn Restorer> {
        Some(self)
    }
}

/// Okta's severity rules, added to the core defaults.
pub fn severity_rules() -> Vec<SeverityRule> {
    vec![
        SeverityRule::removed(
            "okta.policy*",
            Severity::Critical,
            "a policy or policy rule was deleted",
        ),
        SeverityRule::removed(
            "okta.auth_server_policy*",
            Severity::Critical,
            "an authorization server policy was deleted",
        ),
        SeverityRule::field_changed(
            "okta.policy*",
            "/status",
            Severity::High,
            "a policy or rule was deactivated",
        )
        .to(json!("INACTIVE")),
        SeverityRule::field_changed(
            "okta.policy_rule",
            "/actions/signon/requireFactor",
            Severity::Critical,
            "MFA requirement was removed",
        )
        .to(json!(false)),
        SeverityRule::field_changed(
            "okta.policy_rule",
            "/actions/signon/access",
            Severity::Critical,
            "a sign-on rule now denies access",
        )
        .to(json!("DENY")),
        SeverityRule::added(
            "okta.role_assignment",
            Severity::High,
            "new admin role assignment",
        ),
        SeverityRule::added(
            "okta.admin_user",
            Severity::High,
            "a user was given an admin role",
        ),
        SeverityRule::removed(
            "okta.group_rule",
            Severity::High,
            "a group rule was deleted",
        ),
        SeverityRule::removed(
            "okta.network_zone",
            Severity::High,
            "a network zone was deleted",
        ),
        SeverityRule::removed(
            "okta.authenticator",
            Severity::High,
            "an authenticator was removed",
        ),
        SeverityRule::removed(
            "okta.idp",
            Severity::High,
            "an identity provider was deleted",
        ),
        SeverityRule::removed("okta.group", Severity::High, "a group was deleted"),
    ]
}

/// Fields Okta sets itself: never sent on create or update.
const SERVER_FIELDS: &[&str] = &[
    "id",
    "created",
    "lastUpdated",
    "_links",
    "_embedded",
    "status",
    "lastMembershipUpdated",
    "activated",
    "statusChanged",
    "lastLogin",
    "passwordChanged",
    "transitioningToStatus",
    "system",
    "lastSync",
    "syncState",
    "verificationStatus",
    "allGroupsValid",
];

fn clean(body: &Value) -> Value {
    let mut out = body.clone();
    if let Some(map) = out.as_object_mut() {
        for f in SERVER_FIELDS {
            map.remove(*f);
        }
    }
    out
}

fn is_active(resource: &Resource) -> bool {
    resource.body.get("status").and_then(Value::as_str) == Some("ACTIVE")
}

#[async_trait]
impl Restorer for OktaProvider {
    fn check(
        &self,
        kind: &dyn ResourceKind,
        resource: &Resource,
    ) -> std::result::Result<(), CannotRestore> {
        let body = &resource.body;
        match kind.id() {
            "okta.app"
                if ["okta_enduser", "saasure", "okta_browser_plugin", "flow"]
                    .contains(&body["name"].as_str().unwrap_or("")) =>
            {
                Err(CannotRestore("system app: Okta creates it".into()))
            }
            "okta.group" if body["type"] == "BUILT_IN" => {
                Err(CannotRestore("built-in group".into()))
            }
            "okta.group" if body["type"] == "APP_GROUP" => Err(CannotRestore(
                "app-sourced group: it comes back with its app's import".into(),
            )),
            "okta.user"
                if body
                    .pointer("/credentials/provider/type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t != "OKTA") =>
            {
                Err(CannotRestore(
                    "directory-sourced user: restore it in the directory".into(),
                ))
            }
            _ => match kind.restore_support() {
                butterfly_core::RestoreSupport::None { reason } => {
                    Err(CannotRestore(reason.to_string()))
                }
                _ => Ok(()),
            },
        }
    }

    fn guard_kinds(&self) -> Vec<&'static str> {
        vec!["okta.admin_user", "okta.role_assignment"]
    }

    fn guard(&self, plan: &RestorePlan, source: &Snapshot, target: &Snapshot) -> Vec<GuardFinding> {
        lockout_findings(plan, source, target)
    }

    async fn create(&self, kind: &dyn ResourceKind, resource: &Resource) -> Result<String> {
        let row = kinds::row_for(kind)?;
        let (path, _) = self.target(row, resource);
        let prefix = |own: &str| match &resource.parent_id {
            Some(p) => format!("{p}/{own}"),
            None => own.to_string(),
        };
        match row.write {
            Write::PutMember => {
                let member = resource.body["id"]
                    .as_str()
                    .ok_or_else(|| Error::invalid_data("membership without a member id"))?;
                let body = clean(&resource.body);
                let body = if body.as_object().is_some_and(|m| m.is_empty()) {
                    json!({})
                } else {
                    body
                };
                self.write
                    .send(Request::put(&format!("{path}/{member}"), body))
                    .await?;
                Ok(prefix(member))
            }
            Write::PostMember => {
                let member = resource.body["id"]
                    .as_str()
                    .ok_or_else(|| Error::invalid_data("assignment without a user id"))?;
                let mut body = clean(&resource.body);
                body["id"] = json!(member);
                self.write.send(Request::post(&path, body)).await?;
                Ok(prefix(member))
            }
            Write::PostPut | Write::PostPost => {
                // Kind-id match, by exception: only users are created with `activate=false` and
                // without credentials, a rule of the Users API no other kind shares.
                let req = if row.spec.id == "okta.user" {
                    // STAGED, without credentials: passwords and factors never come back.
                    let mut body = clean(&resource.body);
                    if let Some(map) = body.as_object_mut() {
                        map.remove("credentials");
                    }
                    Request::post(&path, body).query("activate", "false")
                } else {
                    Request::post(&path, clean(&resource.body))
                };
                let created = self.write.send(req).await?.value()?;
                let own = table::item_id(&row.list, &created)
                    .ok_or_else(|| Error::invalid_data("the created object has no id"))?;
                if row.lifecycle
                    && is_active(resource)
                    && created.get("status").and_then(Value::as_str) != Some("ACTIVE")
                {
                    self.write
                        .send(Request::post(
                            &format!("{path}/{own}/lifecycle/activate"),
                            json!({}),
                        ))
                        .await?;
                }
                Ok(prefix(&own))
            }
            Write::PutSingleton | Write::None => Err(Error::new(
                ErrorKind::Conflict,
                format!("{} cannot be created", row.spec.id),
            )),
        }
    }

    /// Group rules whose actions change (or that Okta marked `INVALID`) are replaced: the
    /// rule's id changes, and the execution records the new one.
    async fn update_or_replace(
        &self,
        kind: &dyn ResourceKind,
        target_id: &str,
        resource: &Resource,
    ) -> Result<String> {
        let row = kinds::row_for(kind)?;
        if row.spec.id != "okta.group_rule" {
            self.update(kind, target_id, resource).await?;
            return Ok(target_id.to_string());
        }
        let (path, _) = self.target(row, resource);
        let own = target_id.rsplit('/').next().unwrap_or(target_id);
        let new = self
            .update_group_rule(&path, own, resource)
            .await
            .map_err(|e| e.context(format!("updating group rule {own}")))?;
        // A group rule's id is its own (no parent part): the new id is the target id.
        Ok(new)
    }

    async fn update(
        &self,
        kind: &dyn ResourceKind,
        target_id: &str,
        resource: &Resource,
    ) -> Result<()> {
        let row = kinds::row_for(kind)?;
        let (path, _) = self.target(row, resource);
        let own = target_id.rsplit('/').next().unwrap_or(target_id);
        // Kind-id match, by exception: group rules have their own write rules (PUT only while
        // INACTIVE, never on actions), handled by `update_or_replace`.
        if row.spec.id == "okta.group_rule" {
            return self
                .update_or_replace(kind, target_id, resource)
                .await
                .map(|_| ());
        }
        match row.write {
            Write::PutSingleton => {
                self.write
                    .send(Request::put(&path, clean(&resource.body)))
                    .await?;
            }
            Write::PostPost if row.list.items == Items::Singleton => {
                self.write
                    .send(Request::post(&path, clean(&resource.body)))
                    .await?;
            }
            Write::PostPost => {
                self.write
                    .send(Request::post(
                        &format!("{path}/{own}"),
                        clean(&resource.body),
                    ))
                    .await?;
            }
            Write::PostPut => {
                self.write
                    .send(Request::put(
                        &format!("{path}/{own}"),
                        clean(&resource.body),
                    ))
                    .await?;
                if row.lifecycle {
                    let action = if is_active(resource) {
                        "activate"
                    } else {
                        "deactivate"
                    };
                    self.write
                        .send(Request::post(
                            &format!("{path}/{own}/lifecycle/{action}"),
                            json!({}),
                        ))
                        .await?;
                }
            }
            Write::PutMember | Write::PostMember | Write::None => {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("{} cannot be updated", row.spec.id),
                ));
            }
        }
        Ok(())
    }
}

/// The lockout guard: a restore must never lock the admins out.
///
/// Critical findings: a sign-on or access policy rule written ACTIVE that denies access to
/// everyone or to a group holding admins; an update that takes the MFA requirement away from
/// a rule covering admins; no ACTIVE super admin in the target after the plan.
pub fn lockout_findings(
    plan: &RestorePlan,
    source: &Snapshot,
    target: &Snapshot,
) -> Vec<GuardFinding> {
    let mut out = Vec::new();
    let admin_users: BTreeSet<String> = source
        .resources("okta.role_assignment")
        .iter()
        .chain(target.resources("okta.role_assignment"))
        .filter_map(|r| r.parent_id.clone())
        .collect();
    let admin_groups: BTreeSet<String> = source
        .resources("okta.group_member")
        .iter()
        .chain(target.resources("okta.group_member"))
        .filter(|m| {
            m.body["id"]
                .as_str()
                .is_some_and(|u| admin_users.contains(u))
        })
        .filter_map(|m| m.parent_id.clone())
        .chain(["Everyone".to_string()])
        .collect();
    let everyone: BTreeSet<String> = source
        .resources("okta.group")
        .iter()
        .chain(target.resources("okta.group"))
        .filter(|g| g.body["type"] == "BUILT_IN")
        .map(|g| g.id.clone())
        .collect();
    for step in plan
        .steps
        .iter()
        .filter(|s| s.action.writes() && s.kind == "okta.policy_rule")
    {
        let Some(rule) = source.get(&step.kind, &step.source_id) else {
            continue;
        };
        let denies = rule.body.pointer("/actions/signon/access") == Some(&json!("DENY"))
            || rule.body.pointer("/actions/appSignOn/access") == Some(&json!("DENY"));
        let groups: Vec<&str> = rule
            .body
            .pointer("/conditions/people/groups/include")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let covers_admins = groups.is_empty()
            || groups
                .iter()
                .any(|g| everyone.contains(*g) || admin_groups.contains(*g));
        if denies && is_active(rule) && covers_admins {
            out.push(GuardFinding {
                level: GuardLevel::Critical,
                step: Some(step.index),
                message: format!(
                    "policy rule {:?} would deny sign-in to every admin",
                    step.label
                ),
            });
        }
        if let StepAction::Update { changes } = &step.action
            && covers_admins
            && changes.iter().any(|c| {
                c.pointer == "/actions/signon/requireFactor" && c.new == Some(json!(false))
            })
        {
            out.push(GuardFinding {
                level: GuardLevel::Critical,
                step: Some(step.index),
                message: format!(
                    "policy rule {:?} would stop requiring MFA from admins",
                    step.label
                ),
            });
        }
    }
    let super_admins = target
        .resources("okta.role_assignment")
        .iter()
        .filter(|r| r.body["type"] == "SUPER_ADMIN")
        .filter_map(|r| r.parent_id.clone())
        .filter(|u| target.get("okta.user", u).is_none_or(is_active))
        .count();
    let planned = plan
        .steps
        .iter()
        .filter(|s| s.action == StepAction::Create && s.kind == "okta.role_assignment")
        .count();
    if target.kinds.contains_key("okta.role_assignment") && super_admins == 0 && planned == 0 {
        out.push(GuardFinding {
            level: GuardLevel::Critical,
            step: None,
            message: "the target has no ACTIVE super admin and the plan does not restore one"
                .into(),
        });
    }
    out
}
