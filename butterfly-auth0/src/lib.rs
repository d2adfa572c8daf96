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
//! Every kind but users and trigger bindings is read by the core table engine
//! ([`butterfly_core::table`]) from its row, a core `ListSpec` plus the Auth0 columns; the
//! probe is the core table probe.
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
pub mod terraform;

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use butterfly_core::diff::{Severity, SeverityRule};
use butterfly_core::http::{BucketSpec, HttpClient, HttpStats, NextPage, Request};
use butterfly_core::provider::{AccessReport, Capabilities, FetchContext, KindWarnings};
use butterfly_core::restore::{CannotRestore, Restorer};
use butterfly_core::table::{self, TableSource, encode_segment};
use butterfly_core::{Error, ErrorKind, KindRef, Provider, Resource, ResourceKind, Result};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

pub use config::{Auth0Auth, Auth0Config, TokenBucket, map_error};
pub use descriptor::DESCRIPTOR;
use kinds::{Auth0Kind, Listing, Write};

/// The one rate-limit bucket of the Management API (Auth0 limits per tenant).
pub const BUCKET: &str = "management";

/// How many triggers' bindings are read at once: enough to keep the bucket busy despite
/// latency; more only adds waiters on the limiter (and their wake-ups). The table rows read
/// as many parents at once (the core [`ListSpec`](table::ListSpec) default).
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

    /// Whether the token's granted scopes are known and lack `scope`.
    fn scope_missing(&self, scope: &str) -> bool {
        self.granted_scopes().is_some_and(|g| !g.contains(scope))
    }

    /// Users: the search listing when the tenant has fewer than the threshold, else an
    /// export job. Both read [`kinds::USER_FIELDS`], so bodies are the same either way.
    async fn users(&self) -> Result<Vec<Resource>> {
        let row = &kinds::USER;
        let req = Request::get(&table::list_path(row, None, None))
            .query("fields", kinds::USER_FIELDS.join(","))
            .query("include_fields", "true")
            .query("include_totals", "true")
            .query("search_engine", "v3");
        let next = row
            .list
            .next_page()
            .ok_or_else(|| Error::config("the users listing is not paged"))?;
        let mut pages = self.http.pages(req, next);
        let mut out = Vec::new();
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
            out.extend(table::parse_page(row, None, None, body)?);
        }
        Ok(out)
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
                .get(&format!("api/v2/jobs/{}", encode_segment(&id)))
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
        table::parse_page(&kinds::USER, None, None, Value::Array(lines))
    }

    /// Every trigger's bindings, one resource per trigger; a trigger whose bindings the tenant
    /// does not have (404, or not on its plan) is reported to `warnings`.
    async fn bindings(&self, warnings: &KindWarnings) -> Result<Vec<Resource>> {
        let row = &kinds::ACTION_BINDING;
        let body = self
            .http
            .get(&table::list_path(row, None, None))
            .await?
            .value()?;
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
                    "{}/{}/bindings",
                    row.list.path,
                    encode_segment(&t)
                ));
                let next = NextPage::PageNumber {
                    page_param: "page".into(),
                    per_page_param: "per_page".into(),
                    per_page: 50,
                    items_field: Some("bindings".into()),
                    total_field: Some("total".into()),
                };
                match self.collect(req, next, row).await {
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

    /// Every page of a paged listing of `row`'s items.
    async fn collect(
        &self,
        req: Request,
        next: NextPage,
        row: &'static Auth0Kind,
    ) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut pages = self.http.pages(req, next);
        while let Some(page) = pages.next().await {
            out.extend(table::items_of(row, page?.value()?)?);
        }
        Ok(out)
    }

    /// Reads a kind: the core table engine for every row but the two listings of provider
    /// code, whose errors are mapped the same way.
    async fn fetch_all(&self, row: &'static Auth0Kind, ctx: FetchContext) -> Result<Vec<Resource>> {
        let result = match row.listing {
            Listing::Table => return table::fetch(self, row, &ctx).await,
            _ if self.scope_missing(row.list.access) => {
                return Err(Error::new(ErrorKind::Denied, row.list.access));
            }
            Listing::Users => self.users().await,
            Listing::Bindings => self.bindings(&ctx.warnings).await,
        };
        result.map_err(|e| table::fetch_error(row, e))
    }
}

/// The core table engine reads the Auth0 rows through the Management API client.
impl TableSource<Auth0Kind> for Auth0Provider {
    fn http(&self) -> &HttpClient {
        &self.http
    }

    /// A part of a kind the tenant does not have: a 404, or a feature its plan lacks.
    fn is_absent(&self, e: &Error) -> bool {
        is_absent(e)
    }

    /// Known from the last token's granted scopes; `true` before the first token.
    fn granted(&self, access: &str) -> bool {
        !self.scope_missing(access)
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

    /// One small request per row with a path of its own; sub-resources answer like their
    /// parent, unless their own scope is missing (the core table probe).
    async fn probe(&self, kinds: &[KindRef]) -> Result<AccessReport> {
        let rows: Vec<&'static Auth0Kind> = kinds::rows_of(kinds);
        table::probe(self, &rows).await
    }

    async fn fetch(&self, kind: KindRef, ctx: FetchContext) -> Result<Vec<Resource>> {
        self.fetch_all(kinds::row_for(kind)?, ctx).await
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

/// The body a restore sends. The kind-id matches below are write-side quirks of single
/// kinds (which members Auth0 sets or refuses), not listing columns of the table.
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
                &table::list_path(&kinds::ACTION, None, None),
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
                    &format!(
                        "{}/{}/deploy",
                        table::list_path(&kinds::ACTION, None, None),
                        encode_segment(id)
                    ),
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
                    encode_segment(trigger)
                ),
                json!({ "bindings": list }),
            ))
            .await?;
        Ok(())
    }

    async fn theme_id(&self) -> Result<Option<String>> {
        match self
            .http
            .get(&table::list_path(&kinds::BRANDING_THEME, None, None))
            .await
        {
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
        let value = (!row.list.per_value.is_empty()).then(|| own_id(&resource.id));
        table::list_path(row, resource.parent_id.as_deref(), value)
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
        // Kind-id exceptions: objects a restore must not create, told by their members.
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
        let row = kinds::row_for(kind)?;
        let parent = resource.parent_id.as_deref();
        let prefix = |own: &str| match parent {
            Some(p) => format!("{p}/{own}"),
            None => own.to_string(),
        };
        let body: &Value = &resource.body;
        // Kind-id arms: creates whose endpoint or body no write mode of the table describes.
        match (row.spec.id, row.write) {
            // A connection, a kept raw id and a random password.
            ("auth0.user", _) => self.create_user(resource).await,
            // Created, then deployed.
            ("auth0.action", _) => self.create_action(resource).await,
            // The application's id comes from the parent, not the stored body.
            ("auth0.client_grant", _) => {
                let client = parent
                    .ok_or_else(|| Error::invalid_data("a client grant without its application"))?;
                let mut out = clean(row.spec.id, body, false);
                out["client_id"] = json!(client);
                let created = self
                    .http
                    .send(Request::post(&table::list_path(row, None, None), out))
                    .await?
                    .value()?;
                let own = table::item_id(&row.list, &created)
                    .ok_or_else(|| Error::invalid_data("the created grant has no id"))?;
                Ok(prefix(&own))
            }
            // Enabling an application is a PATCH of the list with a status.
            ("auth0.connection_client", _) => {
                let client = body["client_id"]
                    .as_str()
                    .ok_or_else(|| Error::invalid_data("no client id"))?;
                self.http
                    .send(Request::patch(
                        &table::list_path(row, parent, None),
                        json!([{"client_id": client, "status": true}]),
                    ))
                    .await?;
                Ok(prefix(client))
            }
            // The stored body goes as it is, its connection id being the key.
            ("auth0.organization_connection", _) => {
                let conn = body["connection_id"]
                    .as_str()
                    .ok_or_else(|| Error::invalid_data("no connection id"))?;
                self.http
                    .send(Request::post(
                        &table::list_path(row, parent, None),
                        body.clone(),
                    ))
                    .await?;
                Ok(prefix(conn))
            }
            // Created in the themes collection, not at `default`.
            ("auth0.branding_theme", _) => {
                self.http
                    .send(Request::post(
                        "api/v2/branding/themes",
                        clean(row.spec.id, body, false),
                    ))
                    .await?;
                Ok("branding_theme".into())
            }
            // Created in the collection, the template name in the body.
            ("auth0.email_template", _) => {
                self.http
                    .send(Request::post("api/v2/email-templates", body.clone()))
                    .await?;
                Ok(own_id(&resource.id).to_string())
            }
            (_, Write::AddMembers { member, field }) => {
                let (value, own) = if field.is_empty() {
                    // Permissions: the stored item is the permission, its own id the row's
                    // composite id field (`resource_server_identifier|permission_name`).
                    let own = table::item_id(&row.list, body)
                        .unwrap_or_else(|| own_id(&resource.id).to_string());
                    (body.clone(), own)
                } else {
                    let v = body[field]
                        .as_str()
                        .ok_or_else(|| Error::invalid_data(format!("membership without {field}")))?
                        .to_string();
                    (json!(v), v)
                };
                self.http
                    .send(Request::post(
                        &table::list_path(row, parent, None),
                        json!({ member: [value] }),
                    ))
                    .await?;
                Ok(prefix(&own))
            }
            (_, Write::PostPatch) => {
                let created = self
                    .http
                    .send(Request::post(
                        &table::list_path(row, parent, None),
                        clean(row.spec.id, body, false),
                    ))
                    .await?
                    .value()?;
                let own = table::item_id(&row.list, &created)
                    .ok_or_else(|| Error::invalid_data("the created object has no id"))?;
                Ok(prefix(&own))
            }
            (_, Write::PostPatchSingleton) => {
                let out = clean(row.spec.id, body, false);
                // Exception: a hook without secrets has nothing to POST; other singletons always are.
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
        let row = kinds::row_for(kind)?;
        let parent = resource.parent_id.as_deref();
        let own = own_id(target_id);
        let body = clean(row.spec.id, &resource.body, true);
        let path = table::list_path(row, parent, None);
        // Kind-id arms: updates whose endpoint or body no write mode of the table describes.
        let req = match (row.spec.id, row.write) {
            // The body is the bare array of policies.
            ("auth0.guardian_policy", _) => Request::put(
                &path,
                resource.body.get("policies").cloned().unwrap_or(json!([])),
            ),
            // Updated by its generated theme id.
            ("auth0.branding_theme", _) => match self.theme_id().await? {
                Some(theme) => Request::patch(
                    &format!("api/v2/branding/themes/{}", encode_segment(&theme)),
                    body,
                ),
                None => Request::post("api/v2/branding/themes", body),
            },
            // The connection id is left out of an update.
            ("auth0.organization_connection", _) => {
                let mut b = body;
                if let Some(m) = b.as_object_mut() {
                    m.remove("connection_id");
                }
                Request::patch(&format!("{path}/{}", encode_segment(own)), b)
            }
            // Only the profile: the rest belongs to the connection.
            ("auth0.user", _) => {
                let mut b = body;
                if let Some(m) = b.as_object_mut() {
                    // Only the profile is updated: email and username belong to the connection.
                    m.remove("email");
                    m.remove("username");
                    m.remove("phone_number");
                }
                Request::patch(&format!("{path}/{}", encode_segment(own)), b)
            }
            (_, Write::Bindings) => {
                return self.write_bindings(own, resource).await;
            }
            (_, Write::PostPatch) => {
                Request::patch(&format!("{path}/{}", encode_segment(own)), body)
            }
            (_, Write::PutItem) => Request::put(&format!("{path}/{}", encode_segment(own)), body),
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
        // Exception: the action deploy step, a second call no write mode describes.
        if row.spec.id == "auth0.action" {
            self.deploy_if_deployed(own, resource).await?;
        }
        Ok(())
    }
}
