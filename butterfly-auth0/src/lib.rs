//! # butterfly-auth0
//!
//! The Auth0 Management API v2 provider for butterfly: backs up every kind in the
//! [kinds table](kinds) (tenant settings, applications and their grants, APIs, connections,
//! roles with permissions and members, **all** users, organizations with members, roles,
//! connections and invitations, actions and trigger bindings, rules, hooks, branding,
//! prompts, email, log streams, attack protection, MFA, signing keys metadata, network ACLs,
//! forms, flows, self-service profiles, event streams), answers the access probe, and
//! restores through the core engine.
//!
//! A user's roles are the role-member edges (`auth0.role_member`, read once per role), not a
//! per-user read; only a user's direct permissions (`auth0.user_permission`) cost one request
//! per user.
//!
//! Credentials are a machine-to-machine application's client credentials, with a client
//! secret or `private_key_jwt`. Users are read through the search listing when the tenant has
//! fewer than 1,000 (the search stops there), otherwise through a users-exports job whose
//! gzipped file holds the same fields. Requests stay inside Auth0's token bucket (burst 50,
//! 16 per second on Enterprise) and use half of it by default.
//!
//! ```no_run
//! use butterfly_core::backup::{self, BackupOptions};
//! use butterfly_core::store::{FsStore, StoreExt};
//! use butterfly_auth0::{Auth0Config, Auth0Provider};
//!
//! # async fn run() -> butterfly_core::Result<()> {
//! // AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET (or AUTH0_PRIVATE_KEY_FILE)
//! let auth0 = Auth0Provider::new(Auth0Config::from_env()?)?;
//! let store = FsStore::open_default()?;
//! let (snapshot, _) = backup::run_and_save(&auth0, &store, &BackupOptions::default()).await?;
//! println!("{} resources, {}", snapshot.resource_count(), snapshot.status());
//! # Ok(()) }
//! ```
//!
//! Notes: users come back from a restore without passwords (database users get a random one
//! nobody knows and must reset it) and without MFA enrolments; users of social and
//! enterprise connections come back when they next sign in. Secrets (client secrets,
//! connection credentials, log stream tokens, action and hook secrets, rules config values)
//! are never stored: a restore lists them on its rotation checklist.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod descriptor;
pub mod kinds;

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use butterfly_core::diff::{Severity, SeverityRule};
use butterfly_core::http::{BucketSpec, HttpClient, HttpStats, NextPage, Request};
use butterfly_core::provider::{Access, AccessReport, Capabilities, FetchContext, KindWarnings};
use butterfly_core::restore::{CannotRestore, Restorer};
use butterfly_core::{Error, ErrorKind, KindRef, Provider, Resource, ResourceKind, Result};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

pub use config::{Auth0Auth, Auth0Config, TokenBucket, map_error};
pub use descriptor::DESCRIPTOR;
use kinds::{Auth0Kind, Listing, Write};

/// The one rate-limit bucket of the Management API (Auth0 limits per tenant).
pub const BUCKET: &str = "management";

/// How many sub-resource listings run at once per kind: enough to keep the bucket busy
/// despite latency; more only adds waiters on the limiter (and their wake-ups).
const PARENT_CONCURRENCY: usize = 8;

/// An Auth0 tenant: implements [`Provider`] and [`Restorer`].
#[derive(Debug)]
pub struct Auth0Provider {
    tenant: String,
    http: HttpClient,
    auth: Arc<butterfly_core::http::ClientCredentialsAuth>,
    export_threshold: u64,
    export_timeout: Duration,
    bucket: TokenBucket,
}

impl Auth0Provider {
    /// Builds the provider (no request is sent until the first backup or probe).
    pub fn new(config: Auth0Config) -> Result<Auth0Provider> {
        let tenant_url = config.tenant_url()?;
        let base = match &config.base_url {
            Some(b) => butterfly_core::http::validate_base_url(b)?,
            None => tenant_url.clone(),
        };
        let tenant = tenant_url.host_str().unwrap_or_default().to_string();
        let auth = Arc::new(config::token_auth(
            &config.auth,
            config.audience()?,
            format!("{base}oauth/token"),
            tenant_url.to_string(),
        )?);
        let bucket = config.rate_limit.unwrap_or(TokenBucket::ENTERPRISE);
        if !(bucket.refill.is_finite() && bucket.refill > 0.0 && bucket.burst > 0) {
            return Err(Error::config(
                "the rate limit needs a positive burst and refill",
            ));
        }
        // The announced limit is the bucket size; it spans the time the bucket takes to refill.
        let http = HttpClient::builder(base.as_str())
            .auth(auth.clone())
            .classify(Arc::new(|_: &reqwest::Method, _: &str| BUCKET.to_string()))
            .error_mapper(config::error_mapper())
            .max_share(config.max_share.unwrap_or(0.5))
            .max_in_flight(32)
            // The bucket refills continuously: catch up on slots missed while a task ran late,
            // by at most a fifth of Auth0's burst so the tenant's bucket never runs dry.
            .limiter_burst((bucket.burst / 5).max(1))
            .bucket(BucketSpec {
                name: BUCKET.into(),
                limit: bucket.burst,
                period: bucket.period(),
            })
            .build()?;
        Ok(Auth0Provider {
            tenant,
            http,
            auth,
            export_threshold: config.export_threshold.unwrap_or(1000),
            export_timeout: config.export_timeout.unwrap_or(Duration::from_secs(3600)),
            bucket,
        })
    }

    /// Request counters of the client.
    pub fn http_stats(&self) -> HttpStats {
        self.http.stats()
    }

    /// The token bucket the client paces itself by.
    pub fn rate_limit(&self) -> TokenBucket {
        self.bucket
    }

    /// The scopes the last token was granted (`None` before the first token).
    pub fn granted_scopes(&self) -> Option<BTreeSet<String>> {
        self.auth.granted().map(|g| g.into_iter().collect())
    }

    fn scope_missing(&self, row: &Auth0Kind) -> bool {
        self.granted_scopes()
            .is_some_and(|g| !g.contains(row.scope))
    }

    fn paging(row: &Auth0Kind) -> Option<NextPage> {
        match row.listing {
            Listing::Pages {
                member, per_page, ..
            } => Some(NextPage::PageNumber {
                page_param: "page".into(),
                per_page_param: "per_page".into(),
                per_page,
                items_field: Some(member.into()),
                total_field: Some("total".into()),
            }),
            Listing::Checkpoint { member: _, take } => Some(NextPage::Checkpoint {
                from_param: "from".into(),
                take_param: "take".into(),
                take,
                next_field: "next".into(),
            }),
            _ => None,
        }
    }

    /// Every page of a paged listing (`member`), with items kept as JSON.
    async fn collect(&self, req: Request, next: NextPage, row: &Auth0Kind) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut pages = self.http.pages(req, next);
        while let Some(page) = pages.next().await {
            let body = page?.value()?;
            out.extend(kinds::items_of(row, &body)?.into_iter().cloned());
        }
        Ok(out)
    }

    /// One listing of a row (under a parent, for one `per_value` value).
    async fn list(
        &self,
        row: &'static Auth0Kind,
        parent: Option<&str>,
        value: Option<&str>,
    ) -> Result<Vec<Resource>> {
        let path = kinds::list_path(row, parent, value);
        let mut req = Request::get(&path);
        if let Listing::Pages { totals: true, .. } = row.listing {
            req = req.query("include_totals", "true");
        }
        let result = match Self::paging(row) {
            Some(next) => {
                let items = self.collect(req, next, row).await?;
                kinds::parse_page(row, parent, value, &Value::Array(items))
            }
            None => {
                let body = self.http.send(req).await?.value()?;
                kinds::parse_page(row, parent, value, &body)
            }
        };
        let resources = result?;
        if !row.detail {
            return Ok(resources);
        }
        // The listing holds summaries: read each item in full.
        let path = &path;
        let details: Vec<Value> = futures::stream::iter(resources)
            .map(|r| async move {
                let own = r.id.rsplit('/').next().unwrap_or(&r.id).to_string();
                self.http
                    .get(&format!("{path}/{}", kinds::encode(&own)))
                    .await?
                    .value()
            })
            .buffered(PARENT_CONCURRENCY)
            .try_collect()
            .await?;
        kinds::parse_page(row, parent, value, &Value::Array(details))
    }

    /// A row for every `per_value` value, a 404 or an empty answer meaning "not configured"
    /// where the row says so. Of a row listed per value, a value the tenant does not have (404,
    /// or a feature its plan lacks) is reported to `warnings` and the others are kept.
    async fn list_values(
        &self,
        row: &'static Auth0Kind,
        parent: Option<&str>,
        warnings: &KindWarnings,
    ) -> Result<Vec<Resource>> {
        let values: Vec<Option<String>> = if row.per_value.is_empty() {
            vec![None]
        } else {
            row.per_value.iter().map(|v| Some(v.to_string())).collect()
        };
        let parent = parent.map(str::to_string);
        let parent = &parent;
        let lists: Vec<Vec<Resource>> = futures::stream::iter(values)
            .map(|value: Option<String>| async move {
                match self.list(row, parent.as_deref(), value.as_deref()).await {
                    Err(e) if e.kind() == ErrorKind::NotFound && row.absent_is_empty => {
                        Ok(Vec::new())
                    }
                    Err(e) if row.per_value.len() > 1 && is_absent(&e) => {
                        warnings.warn(format!(
                            "{} for {} was not read: {e}",
                            row.path,
                            value.as_deref().unwrap_or_default()
                        ));
                        Ok(Vec::new())
                    }
                    other => other,
                }
            })
            .buffered(PARENT_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(lists.into_iter().flatten().collect())
    }

    /// Users: the search listing when the tenant has fewer than the threshold, else an
    /// export job. Both read [`kinds::USER_FIELDS`], so bodies are the same either way.
    async fn users(&self) -> Result<Vec<Resource>> {
        let row = &kinds::USER;
        let req = Request::get(row.path)
            .query("fields", kinds::USER_FIELDS.join(","))
            .query("include_fields", "true")
            .query("include_totals", "true")
            .query("search_engine", "v3");
        let mut pages = self.http.pages(
            req,
            NextPage::PageNumber {
                page_param: "page".into(),
                per_page_param: "per_page".into(),
                per_page: 100,
                items_field: Some("users".into()),
                total_field: Some("total".into()),
            },
        );
        let mut items = Vec::new();
        let mut first = true;
        while let Some(page) = pages.next().await {
            let body = page?.value()?;
            if first {
                first = false;
                let total = body.get("total").and_then(Value::as_u64).unwrap_or(0);
                if total >= self.export_threshold {
                    drop(pages);
                    return self.export_users(total).await;
                }
            }
            items.extend(kinds::items_of(row, &body)?.into_iter().cloned());
        }
        kinds::parse_page(row, None, None, &Value::Array(items))
    }

    /// Reads every user through a users-exports job (JSON lines, gzipped).
    pub async fn export_users(&self, expected: u64) -> Result<Vec<Resource>> {
        let fields: Vec<Value> = kinds::USER_FIELDS
            .iter()
            .map(|f| json!({ "name": f }))
            .collect();
        let job = self
            .http
            .send(Request::post(
                "api/v2/jobs/users-exports",
                json!({"format": "json", "fields": fields}),
            ))
            .await?
            .value()?;
        let id = job
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid_data("the users-exports job has no id"))?
            .to_string();
        let started = Instant::now();
        let mut wait = Duration::from_millis(100);
        let location = loop {
            let status = self
                .http
                .get(&format!("api/v2/jobs/{}", kinds::encode(&id)))
                .await?
                .value()?;
            match status.get("status").and_then(Value::as_str) {
                Some("completed") => {
                    break status
                        .get("location")
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            Error::invalid_data("the completed users-exports job has no location")
                        })?
                        .to_string();
                }
                Some("failed") => {
                    return Err(Error::new(
                        ErrorKind::Transient,
                        format!("the users-exports job {id} failed"),
                    ));
                }
                _ => {}
            }
            if started.elapsed() > self.export_timeout {
                return Err(Error::new(
                    ErrorKind::Transient,
                    format!("the users-exports job {id} did not complete in time"),
                ));
            }
            tokio::time::sleep(wait).await;
            // Capped at 1 s so a finished job is noticed quickly; a status read is one
            // token of the bucket, nothing more (Auth0 documents no other limit on it).
            wait = (wait * 3 / 2).min(Duration::from_secs(1));
        };
        let lines = download_export(&location).await?;
        if lines.len() as u64 != expected {
            tracing::warn!(
                exported = lines.len(),
                expected,
                "the export holds another number of users than the search total (users changed meanwhile?)"
            );
        }
        let lines = lines
            .into_iter()
            .map(|mut u| {
                if let Some(map) = u.as_object_mut() {
                    map.retain(|k, _| kinds::USER_FIELDS.contains(&k.as_str()));
                }
                u
            })
            .collect();
        kinds::parse_page(&kinds::USER, None, None, &Value::Array(lines))
    }

    /// The bindings of every trigger, one resource per trigger.
    /// Every trigger's bindings, one resource per trigger; a trigger whose bindings the tenant
    /// does not have (404, or not on its plan) is reported to `warnings`.
    async fn bindings(&self, warnings: &KindWarnings) -> Result<Vec<Resource>> {
        let body = self.http.get("api/v2/actions/triggers").await?.value()?;
        let triggers: BTreeSet<String> = body
            .get("triggers")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::invalid_data("the trigger list has no triggers array"))?
            .iter()
            .filter_map(|t| t.get("id").and_then(Value::as_str).map(str::to_string))
            .collect();
        futures::stream::iter(triggers)
            .map(|t| async move {
                let req = Request::get(&format!(
                    "api/v2/actions/triggers/{}/bindings",
                    kinds::encode(&t)
                ));
                let next = NextPage::PageNumber {
                    page_param: "page".into(),
                    per_page_param: "per_page".into(),
                    per_page: 50,
                    items_field: Some("bindings".into()),
                    total_field: Some("total".into()),
                };
                match self.collect(req, next, &kinds::ACTION_BINDING).await {
                    Ok(items) => Ok(Some(kinds::bindings_resource(&t, &items))),
                    Err(e) if is_absent(&e) => {
                        warnings.warn(format!("the bindings of trigger {t} were not read: {e}"));
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            })
            .buffered(PARENT_CONCURRENCY)
            .try_collect::<Vec<Option<Resource>>>()
            .await
            .map(|list| list.into_iter().flatten().collect())
    }

    async fn fetch_all(&self, row: &'static Auth0Kind, ctx: FetchContext) -> Result<Vec<Resource>> {
        if self.scope_missing(row) {
            return Err(Error::new(ErrorKind::Denied, row.scope));
        }
        let result = match (row.listing, row.spec.parent, row.group_by) {
            (Listing::Users, _, _) => self.users().await,
            (Listing::Bindings, _, _) => self.bindings(&ctx.warnings).await,
            // Listed once for all parents, each item naming its parent.
            (_, Some(_), Some(_)) => {
                let parents: BTreeSet<&str> = ctx.parents.iter().map(|p| p.id.as_str()).collect();
                self.list_values(row, None, &ctx.warnings)
                    .await
                    .map(|list| {
                        list.into_iter()
                            .filter(|r| r.parent_id.as_deref().is_some_and(|p| parents.contains(p)))
                            .collect()
                    })
            }
            (_, None, _) => match self.list_values(row, None, &ctx.warnings).await {
                // A top-level route the tenant does not have: the feature is not on its plan.
                Err(e) if e.kind() == ErrorKind::NotFound => Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("{} is not available on this tenant", row.path),
                )),
                other => other,
            },
            (_, Some(_), None) => {
                let parents: Vec<String> = ctx.parents.iter().map(|p| p.id.clone()).collect();
                let warnings = &ctx.warnings;
                futures::stream::iter(parents)
                    .map(|parent| async move {
                        match self.list_values(row, Some(&parent), warnings).await {
                            // The parent went away meanwhile.
                            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Vec::new()),
                            other => other,
                        }
                    })
                    .buffer_unordered(PARENT_CONCURRENCY)
                    .try_concat()
                    .await
            }
        };
        result.map_err(|e| match e.kind() {
            ErrorKind::Denied => Error::new(ErrorKind::Denied, row.scope),
            _ => e.context(format!("reading {}", row.spec.id)),
        })
    }

    async fn probe_row(&self, row: &'static Auth0Kind) -> Result<Access> {
        if self.scope_missing(row) {
            return Ok(Access::Denied {
                missing: row.scope.to_string(),
            });
        }
        let path = match row.listing {
            Listing::Users => row.path.to_string(),
            _ => kinds::list_path(row, None, row.per_value.first().copied()),
        };
        let mut req = Request::get(&path);
        match row.listing {
            Listing::Pages { .. } | Listing::Users => {
                req = req.query("per_page", 1).query("page", 0);
            }
            Listing::Checkpoint { .. } => req = req.query("take", 1),
            _ => {}
        }
        match self.http.send(req).await {
            Ok(_) => Ok(Access::Readable),
            Err(e) => match e.kind() {
                ErrorKind::Denied => Ok(Access::Denied {
                    missing: row.scope.to_string(),
                }),
                ErrorKind::Unsupported => Ok(Access::Unsupported {
                    reason: e.message().to_string(),
                }),
                ErrorKind::NotFound if row.absent_is_empty => Ok(Access::Readable),
                ErrorKind::NotFound => Ok(Access::Unsupported {
                    reason: "the endpoint does not exist on this tenant".into(),
                }),
                _ => Err(e.context(format!("probing {}", row.spec.id))),
            },
        }
    }
}

/// Downloads and decompresses an export file: the signed URL is another origin, so it goes
/// through its own client without the Management API token.
async fn download_export(location: &str) -> Result<Vec<Value>> {
    let url = url::Url::parse(location)
        .map_err(|e| Error::invalid_data(format!("invalid export location: {e}")))?;
    let origin = format!(
        "{}://{}{}/",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    );
    let client = HttpClient::builder(&origin)
        .max_share(1.0)
        .timeout(Duration::from_secs(600))
        .build()?;
    let resp = client.get(location).await?;
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(&resp.body[..])
        .read_to_string(&mut text)
        .map_err(|e| {
            Error::invalid_data(format!("the users export is not gzipped JSON lines: {e}"))
        })?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .map_err(|e| Error::invalid_data(format!("a users export line is not JSON: {e}")))
        })
        .collect()
}

fn row(kind: &dyn ResourceKind) -> Result<&'static Auth0Kind> {
    kinds::row_of(kind.id())
        .ok_or_else(|| Error::config(format!("{} is not an Auth0 kind", kind.id())))
}

/// Whether an error says one part of a kind does not exist on this tenant: a 404, or a
/// feature its plan does not include.
fn is_absent(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Unsupported)
}

#[async_trait]
impl Provider for Auth0Provider {
    fn name(&self) -> &str {
        "auth0"
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
        let mut report = AccessReport::default();
        let rows: Vec<&'static Auth0Kind> =
            kinds.iter().filter_map(|k| kinds::row_of(k.id())).collect();
        // Rows with a path of their own are probed (one small request each, in order).
        let (direct, nested): (Vec<_>, Vec<_>) = rows
            .iter()
            .copied()
            .partition(|r| r.spec.parent.is_none() || r.group_by.is_some());
        for r in direct {
            let access = self.probe_row(r).await?;
            report.kinds.insert(r.spec.id.to_string(), access);
        }
        // Sub-resources answer like their parent, unless their own scope is missing.
        for r in nested {
            let mut access = Access::Readable;
            let mut parent = r.spec.parent;
            while let Some(p) = parent {
                match report.kinds.get(p) {
                    Some(a) => {
                        access = a.clone();
                        break;
                    }
                    None => parent = kinds::row_of(p).and_then(|p| p.spec.parent),
                }
            }
            if self.scope_missing(r) || matches!(access, Access::Denied { .. }) {
                access = Access::Denied {
                    missing: r.scope.to_string(),
                };
            }
            report.kinds.insert(r.spec.id.to_string(), access);
        }
        Ok(report)
    }

    async fn fetch(&self, kind: KindRef, ctx: FetchContext) -> Result<Vec<Resource>> {
        self.fetch_all(row(kind)?, ctx).await
    }

    fn severity_rules(&self) -> Vec<SeverityRule> {
        severity_rules()
    }

    fn restorer(&self) -> Option<&dyn Restorer> {
        Some(self)
    }
}

/// Auth0's severity rules, added to the core defaults.
pub fn severity_rules() -> Vec<SeverityRule> {
    let off = |kind: &str, what: &str| {
        SeverityRule::field_changed(
            kind,
            "/enabled",
            Severity::Critical,
            &format!("{what} was disabled"),
        )
        .to(json!(false))
    };
    vec![
        off(
            "auth0.breached_password_detection",
            "breached password detection",
        ),
        off("auth0.brute_force_protection", "brute-force protection"),
        off("auth0.suspicious_ip_throttling", "suspicious IP throttling"),
        SeverityRule::field_changed(
            "auth0.guardian_policy",
            "/policies",
            Severity::Critical,
            "MFA is no longer required for every application",
        )
        .from(json!("all-applications")),
        SeverityRule::field_changed(
            "auth0.guardian_policy",
            "/policies",
            Severity::High,
            "the MFA policy changed",
        ),
        SeverityRule::field_changed(
            "auth0.guardian_factor",
            "/enabled",
            Severity::High,
            "an MFA factor was disabled",
        )
        .to(json!(false)),
        SeverityRule::field_changed(
            "auth0.client_grant",
            "/scope",
            Severity::High,
            "an application's access to an API changed scopes",
        ),
        SeverityRule::added(
            "auth0.client_grant",
            Severity::High,
            "an application was granted access to an API",
        ),
        SeverityRule::removed(
            "auth0.connection",
            Severity::Critical,
            "a connection was deleted: its users cannot sign in",
        ),
        SeverityRule::removed("auth0.client", Severity::High, "an application was deleted"),
        SeverityRule::removed(
            "auth0.resource_server",
            Severity::High,
            "an API was deleted",
        ),
        SeverityRule::modified(
            "auth0.action_binding",
            Severity::High,
            "the actions bound to a trigger changed",
        ),
        SeverityRule::removed("auth0.action", Severity::High, "an action was deleted"),
        SeverityRule::removed(
            "auth0.network_acl",
            Severity::High,
            "a network ACL was deleted",
        ),
        SeverityRule::removed(
            "auth0.log_stream",
            Severity::High,
            "a log stream was deleted: audit events stop flowing",
        ),
        SeverityRule::added(
            "auth0.role_permission",
            Severity::Medium,
            "a role was given a permission",
        ),
    ]
}

/// Members Auth0 sets itself: never sent on create or update.
const SERVER_FIELDS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "client_id",
    "tenant",
    "global",
    "signing_keys",
    "is_system",
    "custom_domain_id",
    "status",
    "verification",
    "primary",
    "origin_domain_name",
    "certificate",
    "all_changes_deployed",
    "deployed_version",
    "current_version",
    "embedded_at",
    "submitted_at",
    "flow_count",
    "executed_at",
    "themeId",
    "user_id",
    "identities",
    "last_login",
    "logins_count",
    "realms",
];

/// Members that cannot change once created (sent on create only).
const CREATE_ONLY_FIELDS: &[&str] = &[
    "name",
    "strategy",
    "identifier",
    "type",
    "triggerId",
    "stage",
    "domain",
    "audience",
    "template",
    "supported_triggers",
];

fn clean(kind: &str, body: &Value, update: bool) -> Value {
    let mut out = body.clone();
    if let Some(map) = out.as_object_mut() {
        for f in SERVER_FIELDS {
            // A log stream's and event stream's status is configuration.
            if *f == "status" && matches!(kind, "auth0.log_stream" | "auth0.event_stream") {
                continue;
            }
            map.remove(*f);
        }
        if kind == "auth0.action"
            && let Some(Value::Array(secrets)) = map.get("secrets")
        {
            // Values are never stored: secrets go on the rotation checklist instead.
            let _ = secrets;
            map.remove("secrets");
        }
        if update {
            for f in CREATE_ONLY_FIELDS {
                // Roles, organizations, rules, hooks, forms and flows may be renamed.
                if *f == "name"
                    && !matches!(
                        kind,
                        "auth0.connection" | "auth0.log_stream" | "auth0.email_template"
                    )
                {
                    continue;
                }
                map.remove(*f);
            }
        }
    }
    out
}

fn own_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

impl Auth0Provider {
    async fn create_user(&self, resource: &Resource) -> Result<String> {
        let body: &Value = &resource.body;
        let connection = body
            .pointer("/identities/0/connection")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid_data("the user has no connection"))?;
        let mut out = clean("auth0.user", body, false);
        if let Some(map) = out.as_object_mut() {
            map.insert("connection".into(), json!(connection));
            // Keep the id so memberships and grants keep pointing at the same user.
            if let Some(raw) = body
                .get("user_id")
                .and_then(Value::as_str)
                .and_then(|u| u.split_once('|'))
                .map(|(_, raw)| raw.to_string())
            {
                map.insert("user_id".into(), json!(raw));
            }
            // No password was ever stored: a random one nobody knows; the user must reset it.
            let password = format!(
                "Bf1!{:032x}{:032x}",
                rand::random::<u128>(),
                rand::random::<u128>()
            );
            map.insert("password".into(), json!(password));
            map.insert("verify_email".into(), json!(false));
        }
        let created = self
            .http
            .send(Request::post("api/v2/users", out))
            .await?
            .value()?;
        created
            .get("user_id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::invalid_data("the created user has no user_id"))
    }

    async fn create_action(&self, resource: &Resource) -> Result<String> {
        let created = self
            .http
            .send(Request::post(
                kinds::ACTION.path,
                clean("auth0.action", &resource.body, false),
            ))
            .await?
            .value()?;
        let id = created
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid_data("the created action has no id"))?
            .to_string();
        self.deploy_if_deployed(&id, resource).await?;
        Ok(id)
    }

    async fn deploy_if_deployed(&self, id: &str, resource: &Resource) -> Result<()> {
        let deployed = resource
            .body
            .get("deployed_version")
            .is_some_and(|v| !v.is_null())
            || resource.body["all_changes_deployed"] == json!(true);
        if deployed {
            self.http
                .send(Request::post(
                    &format!("{}/{}/deploy", kinds::ACTION.path, kinds::encode(id)),
                    json!({}),
                ))
                .await?;
        }
        Ok(())
    }

    async fn write_bindings(&self, trigger: &str, resource: &Resource) -> Result<()> {
        let list: Vec<Value> = resource
            .body
            .get("bindings")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|b| {
                        let id = b.pointer("/action/id").and_then(Value::as_str)?;
                        Some(json!({
                            "ref": {"type": "action_id", "value": id},
                            "display_name": b.get("display_name").cloned().unwrap_or(Value::Null),
                        }))
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.http
            .send(Request::patch(
                &format!(
                    "api/v2/actions/triggers/{}/bindings",
                    kinds::encode(trigger)
                ),
                json!({ "bindings": list }),
            ))
            .await?;
        Ok(())
    }

    async fn theme_id(&self) -> Result<Option<String>> {
        match self.http.get(kinds::BRANDING_THEME.path).await {
            Ok(r) => Ok(r
                .value()?
                .get("themeId")
                .and_then(Value::as_str)
                .map(str::to_string)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The path a singleton row writes to (per-value rows: the value is the id).
    fn singleton_path(row: &Auth0Kind, resource: &Resource) -> String {
        let value = (!row.per_value.is_empty()).then(|| own_id(&resource.id));
        kinds::list_path(row, resource.parent_id.as_deref(), value)
    }
}

#[async_trait]
impl Restorer for Auth0Provider {
    fn check(
        &self,
        kind: &dyn ResourceKind,
        resource: &Resource,
    ) -> std::result::Result<(), CannotRestore> {
        let body: &Value = &resource.body;
        match kind.id() {
            "auth0.client" if body["global"] == json!(true) => Err(CannotRestore(
                "the global client (All Applications) is part of every tenant".into(),
            )),
            "auth0.resource_server" if body["is_system"] == json!(true) => Err(CannotRestore(
                "a system API (the Management API) is part of every tenant".into(),
            )),
            "auth0.user"
                if body
                    .pointer("/identities/0/provider")
                    .and_then(Value::as_str)
                    .is_some_and(|p| !matches!(p, "auth0" | "sms" | "email")) =>
            {
                Err(CannotRestore(
                    "a social or enterprise user comes back when they next sign in".into(),
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

    async fn create(&self, kind: &dyn ResourceKind, resource: &Resource) -> Result<String> {
        let row = row(kind)?;
        let parent = resource.parent_id.as_deref();
        let prefix = |own: &str| match parent {
            Some(p) => format!("{p}/{own}"),
            None => own.to_string(),
        };
        let body: &Value = &resource.body;
        match (row.spec.id, row.write) {
            ("auth0.user", _) => self.create_user(resource).await,
            ("auth0.action", _) => self.create_action(resource).await,
            ("auth0.client_grant", _) => {
                let client = parent
                    .ok_or_else(|| Error::invalid_data("a client grant without its application"))?;
                let mut out = clean(row.spec.id, body, false);
                out["client_id"] = json!(client);
                let created = self
                    .http
                    .send(Request::post(row.path, out))
                    .await?
                    .value()?;
                let own = kinds::item_id(row, &created)
                    .ok_or_else(|| Error::invalid_data("the created grant has no id"))?;
                Ok(prefix(&own))
            }
            ("auth0.connection_client", _) => {
                let client = body["client_id"]
                    .as_str()
                    .ok_or_else(|| Error::invalid_data("no client id"))?;
                self.http
                    .send(Request::patch(
                        &kinds::list_path(row, parent, None),
                        json!([{"client_id": client, "status": true}]),
                    ))
                    .await?;
                Ok(prefix(client))
            }
            ("auth0.organization_connection", _) => {
                let conn = body["connection_id"]
                    .as_str()
                    .ok_or_else(|| Error::invalid_data("no connection id"))?;
                self.http
                    .send(Request::post(
                        &kinds::list_path(row, parent, None),
                        body.clone(),
                    ))
                    .await?;
                Ok(prefix(conn))
            }
            ("auth0.branding_theme", _) => {
                self.http
                    .send(Request::post(
                        "api/v2/branding/themes",
                        clean(row.spec.id, body, false),
                    ))
                    .await?;
                Ok("branding_theme".into())
            }
            ("auth0.email_template", _) => {
                self.http
                    .send(Request::post("api/v2/email-templates", body.clone()))
                    .await?;
                Ok(own_id(&resource.id).to_string())
            }
            (_, Write::AddMembers { member, field }) => {
                let (value, own) = if field.is_empty() {
                    // Permissions: the stored item is the permission.
                    let own = own_id(&resource.id).to_string();
                    (body.clone(), own)
                } else {
                    let v = body[field]
                        .as_str()
                        .ok_or_else(|| Error::invalid_data(format!("membership without {field}")))?
                        .to_string();
                    (json!(v), v)
                };
                let own = match kinds::row_of(row.spec.id).map(|r| r.spec.natural_key.len()) {
                    Some(2) => format!(
                        "{}|{}",
                        body["resource_server_identifier"]
                            .as_str()
                            .unwrap_or_default(),
                        body["permission_name"].as_str().unwrap_or_default()
                    ),
                    _ => own,
                };
                self.http
                    .send(Request::post(
                        &kinds::list_path(row, parent, None),
                        json!({ member: [value] }),
                    ))
                    .await?;
                Ok(prefix(&own))
            }
            (_, Write::PostPatch) => {
                let created = self
                    .http
                    .send(Request::post(
                        &kinds::list_path(row, parent, None),
                        clean(row.spec.id, body, false),
                    ))
                    .await?
                    .value()?;
                let own = kinds::item_id(row, &created)
                    .ok_or_else(|| Error::invalid_data("the created object has no id"))?;
                Ok(prefix(&own))
            }
            (_, Write::PostPatchSingleton) => {
                let out = clean(row.spec.id, body, false);
                if !(row.spec.id == "auth0.hook_secret"
                    && out.as_object().is_some_and(|m| m.is_empty()))
                {
                    self.http
                        .send(Request::post(&Self::singleton_path(row, resource), out))
                        .await?;
                }
                Ok(prefix(own_id(&resource.id)))
            }
            (_, Write::PutSingleton) => {
                self.update(kind, &resource.id, resource).await?;
                Ok(resource.id.clone())
            }
            _ => Err(Error::new(
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
        let row = row(kind)?;
        let parent = resource.parent_id.as_deref();
        let own = own_id(target_id);
        let body = clean(row.spec.id, &resource.body, true);
        let path = kinds::list_path(row, parent, None);
        let req = match (row.spec.id, row.write) {
            ("auth0.guardian_policy", _) => Request::put(
                row.path,
                resource.body.get("policies").cloned().unwrap_or(json!([])),
            ),
            ("auth0.branding_theme", _) => match self.theme_id().await? {
                Some(theme) => Request::patch(
                    &format!("api/v2/branding/themes/{}", kinds::encode(&theme)),
                    body,
                ),
                None => Request::post("api/v2/branding/themes", body),
            },
            ("auth0.organization_connection", _) => {
                let mut b = body;
                if let Some(m) = b.as_object_mut() {
                    m.remove("connection_id");
                }
                Request::patch(&format!("{path}/{}", kinds::encode(own)), b)
            }
            ("auth0.user", _) => {
                let mut b = body;
                if let Some(m) = b.as_object_mut() {
                    // Only the profile is updated: email and username belong to the connection.
                    m.remove("email");
                    m.remove("username");
                    m.remove("phone_number");
                }
                Request::patch(&format!("{path}/{}", kinds::encode(own)), b)
            }
            ("auth0.action_binding", _) => {
                return self.write_bindings(own, resource).await;
            }
            (_, Write::PostPatch) => {
                Request::patch(&format!("{path}/{}", kinds::encode(own)), body)
            }
            (_, Write::PutItem) => Request::put(&format!("{path}/{}", kinds::encode(own)), body),
            (_, Write::PatchSingleton | Write::PostPatchSingleton) => {
                Request::patch(&Self::singleton_path(row, resource), body)
            }
            (_, Write::PutSingleton) => Request::put(&Self::singleton_path(row, resource), body),
            _ => {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("{} cannot be updated", row.spec.id),
                ));
            }
        };
        self.http.send(req).await?;
        if row.spec.id == "auth0.action" {
            self.deploy_if_deployed(own, resource).await?;
        }
        Ok(())
    }
}
