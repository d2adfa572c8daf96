//! # butterfly-ping
//!
//! The PingOne Platform API provider for butterfly: backs up one environment's every kind in
//! the [kinds table](kinds) (the environment, populations, users (never a password), groups
//! with their memberships and nesting, admin role assignments, schemas and attributes,
//! applications with their sign-on policy assignments, role assignments, attribute mappings and
//! grants, resources with scopes and attributes, sign-on policies and their actions, password
//! policies, identity providers and their attributes, branding, themes, notification policies,
//! notification templates and their custom contents, custom and email domains, certificates and
//! keys (metadata only), gateways, agreements and languages, MFA device and FIDO2 policies, MFA
//! settings, risk policy sets and predictors, Authorize application roles with their
//! permissions and API servers), answers the access probe, and restores through the core
//! engine.
//!
//! Every kind is read by the core table engine ([`butterfly_core::table`]) from its row: HAL
//! answers (`_embedded.<member>`) followed through `_links.next.href`. Credentials are a
//! worker application's client id and secret (client credentials grant at
//! `https://auth.pingone.<region>/<environmentId>/as/token`); the admin roles the worker app
//! holds decide what it reads, and the access probe names the missing role.
//!
//! Services: the kinds of PingOne MFA, Protect (risk) and Authorize are read only from an
//! environment whose bill of materials (`GET /environments/{id}/billOfMaterials`, read once,
//! and only when such a kind is asked for) lists that service; in an environment without it,
//! the probe and the backup report them unsupported, naming the service, instead of asking
//! for routes that would answer 403 like a missing role. When the bill of materials cannot be
//! read, every service is assumed present.
//!
//! Rate limits: PingOne rejects requests over its limits with 429 `REQUEST_LIMITED` and a
//! `Retry-After` header in seconds
//! (<https://developer.pingidentity.com/pingone-api/platform/rate-limiting.html>); the
//! configuration endpoints form one group of 600 requests a minute
//! (<https://developer.pingidentity.com/pingone-api/platform/rate-limiting/base-rate-limits.html>),
//! and a source address may send 100 a second
//! (<https://docs.pingidentity.com/pingone/getting_started_with_pingone/p1_platform_limits.html>).
//! The client spreads requests over a `config` bucket (600 a minute) and a `directory` bucket
//! for users, groups and populations (6,000 a minute), and uses half of each by default.
//!
//! ```no_run
//! use butterfly_core::backup::{self, BackupOptions};
//! use butterfly_core::store::{FsStore, StoreExt};
//! use butterfly_ping::{PingConfig, PingProvider};
//!
//! # async fn run() -> butterfly_core::Result<()> {
//! // PINGONE_ENVIRONMENT_ID, PINGONE_CLIENT_ID, PINGONE_CLIENT_SECRET, PINGONE_REGION
//! let ping = PingProvider::new(PingConfig::from_env()?)?;
//! let store = FsStore::open_default()?;
//! let (snapshot, _) = backup::run_and_save(&ping, &store, &BackupOptions::default()).await?;
//! println!("{} resources, {}", snapshot.resource_count(), snapshot.status());
//! # Ok(()) }
//! ```
//!
//! Notes: users come back from a restore without a password or MFA devices; re-created
//! applications get new client ids and secrets, gateways new credentials. Identity provider
//! client secrets are never stored: a restore lists them on its rotation checklist. Built-in
//! resources (the OpenID Connect and PingOne API resources) are matched, never created.
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
use butterfly_core::http::{BucketSpec, HttpClient, HttpStats, Request};
use butterfly_core::provider::{Access, AccessReport, Capabilities, FetchContext};
use butterfly_core::restore::{
    CannotRestore, GuardFinding, GuardLevel, RestorePlan, Restorer, StepAction,
};
use butterfly_core::table::{self, TableSource};
use butterfly_core::{
    Error, ErrorKind, KindRef, Provider, Resource, ResourceKind, Result, Snapshot,
};
use serde_json::{Value, json};

pub use config::{PingConfig, map_error};
pub use descriptor::DESCRIPTOR;
use kinds::{PingKind, Source, Write};

/// PingOne's documented per-minute limits of the buckets the client spreads requests over.
pub const DEFAULT_BUCKETS: &[(&str, u32)] = &[("config", 600), ("directory", 6000)];

/// How many requests the client's limiter may send at once to make up for slots it missed
/// (a task that woke late): a fifth of a second of PingOne's documented 100 requests a second
/// per source address. Without it, 200,000 small per-user requests lose enough slots to the
/// timer's granularity to take 1.24 times the rate-limit bound; with it, 1.02 (benches/README).
pub const CATCH_UP_BURST: u32 = 20;

/// The bucket a request counts in: users, groups and populations in `directory`, the rest of
/// the configuration in `config`.
pub fn bucket_of(_method: &reqwest::Method, path: &str) -> String {
    let rest = path
        .split("/environments/")
        .nth(1)
        .and_then(|r| r.split_once('/').map(|(_, r)| r))
        .unwrap_or(path);
    let first = rest.trim_start_matches('/').split(['/', '?']).next();
    match first {
        Some("users" | "groups" | "populations") => "directory".into(),
        _ => "config".into(),
    }
}

/// A PingOne environment: implements [`Provider`] and [`Restorer`].
#[derive(Debug)]
pub struct PingProvider {
    environment_id: String,
    environment_url: String,
    http: HttpClient,
    /// The services in the environment's bill of materials, read once when a kind of a
    /// service other than the base platform is first read (`None`: it could not be read).
    products: tokio::sync::OnceCell<Option<BTreeSet<String>>>,
}

impl PingProvider {
    /// Builds the provider (no request is sent until the first backup or probe).
    pub fn new(config: PingConfig) -> Result<PingProvider> {
        config.validate()?;
        let env = config.environment_id.trim().to_string();
        let root = config.api_root()?;
        let environment_url = format!("{root}environments/{env}");
        let base = format!("{environment_url}/");
        let auth = Arc::new(config::token_auth(&config)?);
        let scale = config.rate_scale.unwrap_or(1.0);
        let mut builder = HttpClient::builder(&base)
            .auth(auth)
            .classify(Arc::new(|m: &reqwest::Method, p: &str| bucket_of(m, p)))
            .error_mapper(config::error_mapper())
            .max_share(config.max_share.unwrap_or(0.5))
            .max_in_flight(32)
            .limiter_burst(CATCH_UP_BURST);
        for (name, limit) in DEFAULT_BUCKETS {
            builder = builder.bucket(BucketSpec {
                name: (*name).into(),
                limit: *limit,
                period: Duration::from_secs_f64(60.0 / scale),
            });
        }
        Ok(PingProvider {
            environment_id: env,
            environment_url,
            http: builder.build()?,
            products: tokio::sync::OnceCell::new(),
        })
    }

    /// Request counts and waits so far.
    pub fn http_stats(&self) -> HttpStats {
        self.http.stats()
    }

    /// The environment itself, above the root the table paths hang from.
    async fn environment(&self, row: &'static PingKind) -> Result<Vec<Resource>> {
        let body = self.http.get(&self.environment_url).await?.value()?;
        table::parse_page(row, None, None, body)
    }

    /// The services the environment has, from its bill of materials
    /// (`GET /environments/{id}/billOfMaterials`, read once); `None` when it cannot be read,
    /// and then no kind is ruled out.
    async fn products(&self) -> Option<&BTreeSet<String>> {
        self.products
            .get_or_init(|| async {
                let url = format!("{}/billOfMaterials", self.environment_url);
                let body = self.http.get(&url).await.and_then(|r| r.value());
                match body {
                    Ok(body) => body.get("products").and_then(Value::as_array).map(|ps| {
                        ps.iter()
                            .filter_map(|p| p.get("type").and_then(Value::as_str))
                            .map(str::to_string)
                            .collect()
                    }),
                    Err(e) => {
                        tracing::debug!(
                            error = %e,
                            "the bill of materials cannot be read: every service is assumed present"
                        );
                        None
                    }
                }
            })
            .await
            .as_ref()
    }

    /// Why a row cannot be read in this environment: its service is not in the bill of
    /// materials. PingOne answers a route of a missing service like one of a missing role,
    /// so the bill of materials is what tells them apart.
    async fn missing_service(&self, row: &PingKind) -> Option<String> {
        let product = row.product?;
        let products = self.products().await?;
        (!products.contains(product)).then(|| {
            format!(
                "the environment does not have {} ({product} is not in its bill of materials)",
                kinds::product_name(product)
            )
        })
    }

    async fn fetch_row(&self, row: &'static PingKind, ctx: &FetchContext) -> Result<Vec<Resource>> {
        if let Some(reason) = self.missing_service(row).await {
            return Err(Error::new(ErrorKind::Unsupported, reason));
        }
        match row.source {
            Source::Table => table::fetch(self, row, ctx).await,
            Source::Environment => self
                .environment(row)
                .await
                .map_err(|e| table::fetch_error(row, e)),
        }
    }

    /// Prepares a body for a write: no server fields; an environment-scoped role assignment
    /// names the target environment; a reference to a sub-resource (kept as
    /// `{parent id}/{own id}`) is written as the own id the API knows.
    fn writable(&self, kind: &dyn ResourceKind, body: &Value) -> Value {
        let mut out = body.clone();
        for field in kind.reference_fields() {
            if kinds::row_of(field.kind).is_some_and(|r| r.spec.parent.is_some()) {
                butterfly_core::pointer::for_each_mut(&mut out, field.pointer, &mut |_, v| {
                    if let Some(own) = v.as_str().map(|s| own_id(s).to_string()) {
                        *v = Value::String(own);
                    }
                });
            }
        }
        if let Some(map) = out.as_object_mut() {
            for k in [
                "id",
                "_links",
                "_embedded",
                "createdAt",
                "updatedAt",
                "environment",
            ] {
                map.remove(k);
            }
            // The member naming where a `Write::Under` kind is written is read-only.
            if let Ok(PingKind {
                write: Write::Under { parent, .. },
                ..
            }) = kinds::row_for(kind)
                && let Some(member) = parent.trim_start_matches('/').split('/').next()
            {
                map.remove(member);
            }
            if let Some(scope) = map.get_mut("scope")
                && scope.get("type").and_then(Value::as_str) == Some("ENVIRONMENT")
            {
                scope["id"] = json!(self.environment_id);
            }
        }
        out
    }
}

/// The core table engine reads every PingOne kind but the environment through this client.
impl TableSource<PingKind> for PingProvider {
    fn http(&self) -> &HttpClient {
        &self.http
    }
}

/// Where a resource is written: its listing, or for a kind written under another resource
/// ([`Write::Under`]) that resource's collection, named by the (remapped) body.
fn write_path(row: &PingKind, resource: &Resource) -> Result<String> {
    match row.write {
        Write::Under { path, parent } => {
            let id = resource
                .body
                .pointer(parent)
                .and_then(Value::as_str)
                .ok_or_else(|| Error::invalid_data(format!("{} without {parent}", row.spec.id)))?;
            Ok(path.replace("{}", own_id(id)))
        }
        _ => Ok(table::list_path(row, resource.parent_id.as_deref(), None)),
    }
}

fn own_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

#[async_trait]
impl Provider for PingProvider {
    fn name(&self) -> &str {
        "ping"
    }
    fn tenant(&self) -> &str {
        &self.environment_id
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
        let mut rows: Vec<&'static PingKind> = kinds::rows_of(kinds);
        let mut missing = Vec::new();
        for r in &rows {
            if let Some(reason) = self.missing_service(r).await {
                missing.push((r.spec.id, reason));
            }
        }
        rows.retain(|r| !missing.iter().any(|(id, _)| *id == r.spec.id));
        let (env, table_rows): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .partition(|r| r.source == Source::Environment);
        let mut report = table::probe(self, &table_rows).await?;
        for (id, reason) in missing {
            report
                .kinds
                .insert(id.to_string(), Access::Unsupported { reason });
        }
        for r in env {
            let access = match self.http.get(&self.environment_url).await {
                Ok(_) => Access::Readable,
                Err(e) if e.kind() == ErrorKind::Denied => Access::Denied {
                    missing: r.list.access.to_string(),
                },
                Err(e) => return Err(e.context("probing the environment")),
            };
            report.kinds.insert(r.spec.id.to_string(), access);
        }
        Ok(report)
    }

    async fn fetch(&self, kind: KindRef, ctx: FetchContext) -> Result<Vec<Resource>> {
        self.fetch_row(kinds::row_for(kind)?, &ctx).await
    }

    fn severity_rules(&self) -> Vec<SeverityRule> {
        severity_rules()
    }

    fn restorer(&self) -> Option<&dyn Restorer> {
        Some(self)
    }
}

/// PingOne's severity rules, added to the core defaults.
pub fn severity_rules() -> Vec<SeverityRule> {
    vec![
        SeverityRule::removed(
            "ping.group",
            Severity::High,
            "a group was removed: its members lost the access and policies it gave them",
        ),
        SeverityRule::removed(
            "ping.sign_on_policy",
            Severity::Critical,
            "a sign-on policy was removed: the applications that used it sign in differently",
        ),
        SeverityRule::removed(
            "ping.sign_on_policy_action",
            Severity::Critical,
            "a sign-on policy step was removed (MFA or login)",
        ),
        SeverityRule::field_changed(
            "ping.sign_on_policy_action",
            "/type",
            Severity::Critical,
            "a sign-on policy step no longer asks for MFA",
        )
        .from(json!("MULTI_FACTOR_AUTHENTICATION")),
        SeverityRule::removed(
            "ping.application_sign_on_policy_assignment",
            Severity::High,
            "an application no longer uses a sign-on policy",
        ),
        SeverityRule::removed(
            "ping.mfa_device_policy",
            Severity::Critical,
            "an MFA device policy was removed",
        ),
        SeverityRule::modified(
            "ping.mfa_device_policy",
            Severity::High,
            "an MFA device policy changed",
        ),
        SeverityRule::modified(
            "ping.password_policy",
            Severity::High,
            "a password policy changed",
        ),
        SeverityRule::added(
            "ping.user_role_assignment",
            Severity::High,
            "a user was given an admin role",
        ),
        SeverityRule::added(
            "ping.application_role_assignment",
            Severity::High,
            "an application was given an admin role",
        ),
        SeverityRule::field_changed(
            "ping.identity_provider",
            "/enabled",
            Severity::Medium,
            "an identity provider was enabled or disabled",
        ),
    ]
}

/// The lockout guard over the target as it is now: the environment's default sign-on policy
/// must stay the default, no sign-on step may stop asking for MFA, and a group holding an admin
/// (a member with an admin role assignment) is not replaced; each is a critical finding that
/// needs the override. A restore only creates and updates, so it never deletes a policy, a
/// group or an admin's role assignments.
pub fn lockout_findings(plan: &RestorePlan, target: &Snapshot) -> Vec<GuardFinding> {
    // Groups holding an admin (a user with an admin role assignment), in the target now.
    let admins: BTreeSet<&str> = target
        .resources("ping.user_role_assignment")
        .iter()
        .filter_map(|r| r.parent_id.as_deref())
        .collect();
    let admin_groups: BTreeSet<&str> = target
        .resources("ping.group_membership")
        .iter()
        .filter(|m| m.parent_id.as_deref().is_some_and(|u| admins.contains(u)))
        .filter_map(|m| m.body["id"].as_str())
        .collect();
    // The target's default policy, as it is now.
    let defaults: Vec<&str> = target
        .resources("ping.sign_on_policy")
        .iter()
        .filter(|p| p.body.get("default") == Some(&json!(true)))
        .map(|p| p.id.as_str())
        .collect();
    let mut out = Vec::new();
    for step in &plan.steps {
        let StepAction::Update { changes } = &step.action else {
            continue;
        };
        if step.kind == "ping.sign_on_policy"
            && step
                .target_id
                .as_deref()
                .is_some_and(|t| defaults.contains(&t))
            && changes
                .iter()
                .any(|c| c.pointer == "/default" && c.new != Some(json!(true)))
        {
            out.push(GuardFinding {
                level: GuardLevel::Critical,
                step: Some(step.index),
                message: format!(
                    "sign-on policy {:?} would stop being the environment's default",
                    step.label
                ),
            });
        }
        if step.kind == "ping.group"
            && step
                .target_id
                .as_deref()
                .is_some_and(|t| admin_groups.contains(t))
        {
            out.push(GuardFinding {
                level: GuardLevel::Critical,
                step: Some(step.index),
                message: format!(
                    "group {:?} holds admins: replacing it could take their access away",
                    step.label
                ),
            });
        }
        if step.kind == "ping.sign_on_policy_action"
            && changes.iter().any(|c| {
                c.pointer == "/type"
                    && c.old == Some(json!("MULTI_FACTOR_AUTHENTICATION"))
                    && c.new != c.old
            })
        {
            out.push(GuardFinding {
                level: GuardLevel::Critical,
                step: Some(step.index),
                message: format!(
                    "sign-on policy step {:?} would stop asking for MFA",
                    step.label
                ),
            });
        }
    }
    out
}

#[async_trait]
impl Restorer for PingProvider {
    fn check(
        &self,
        kind: &dyn ResourceKind,
        resource: &Resource,
    ) -> std::result::Result<(), CannotRestore> {
        if let butterfly_core::RestoreSupport::None { reason } = kind.restore_support() {
            return Err(CannotRestore(reason.to_string()));
        }
        // Built-in resources exist in every environment: matched by name, never created.
        let built_in = resource
            .body
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t == "OPENID_CONNECT" || t == "PINGONE_API");
        if built_in {
            return Err(CannotRestore(
                "a built-in resource of every environment: it is matched, never created".into(),
            ));
        }
        Ok(())
    }

    fn guard_kinds(&self) -> Vec<&'static str> {
        vec!["ping.sign_on_policy"]
    }

    fn guard(
        &self,
        plan: &RestorePlan,
        _source: &Snapshot,
        target: &Snapshot,
    ) -> Vec<GuardFinding> {
        lockout_findings(plan, target)
    }

    async fn create(&self, kind: &dyn ResourceKind, resource: &Resource) -> Result<String> {
        let row = kinds::row_for(kind)?;
        let parent = resource.parent_id.as_deref();
        let path = write_path(row, resource)?;
        let prefix = |own: &str| match parent {
            Some(p) => format!("{p}/{own}"),
            None => own.to_string(),
        };
        match row.write {
            Write::Membership => {
                let member = resource.body["id"]
                    .as_str()
                    .map(own_id)
                    .ok_or_else(|| Error::invalid_data("a membership without the member's id"))?;
                self.http
                    .send(Request::post(&path, json!({ "id": member })))
                    .await?;
                Ok(prefix(member))
            }
            Write::PostPut | Write::PostOnly | Write::Under { .. } => {
                let created = self
                    .http
                    .send(Request::post(&path, self.writable(kind, &resource.body)))
                    .await?
                    .value()?;
                let own = table::item_id(&row.list, &created)
                    .ok_or_else(|| Error::invalid_data("the created object has no id"))?;
                Ok(prefix(&own))
            }
            Write::PutSingleton | Write::None => Err(Error::new(
                ErrorKind::Conflict,
                format!("{} cannot be created", row.spec.id),
            )),
        }
    }

    async fn update(
        &self,
        kind: &dyn ResourceKind,
        target_id: &str,
        resource: &Resource,
    ) -> Result<()> {
        let row = kinds::row_for(kind)?;
        let path = write_path(row, resource)?;
        let body = self.writable(kind, &resource.body);
        let req = match row.write {
            Write::PostPut | Write::Under { .. } => {
                Request::put(&format!("{path}/{}", own_id(target_id)), body)
            }
            Write::PutSingleton => Request::put(&path, body),
            Write::PostOnly | Write::Membership | Write::None => {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("{} cannot be updated", row.spec.id),
                ));
            }
        };
        self.http.send(req).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_the_documented_groups() {
        let get = reqwest::Method::GET;
        assert_eq!(
            bucket_of(&get, "/v1/environments/e1/users/u1/memberOfGroups"),
            "directory"
        );
        assert_eq!(
            bucket_of(&get, "/v1/environments/e1/groups?limit=100"),
            "directory"
        );
        assert_eq!(
            bucket_of(&get, "/v1/environments/e1/signOnPolicies"),
            "config"
        );
        assert_eq!(bucket_of(&get, "/v1/environments/e1"), "config");
    }
}
