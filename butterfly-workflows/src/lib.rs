//! # butterfly-workflows
//!
//! The Okta Workflows provider for butterfly: backs up an org's folders, flows (cards and
//! on/off state), tables (schema) and their rows (CSV text), connections (connector, name,
//! auth type; credentials become placeholders), Connector Builder projects (metadata, flows,
//! card input/output schemas, auth configuration without secrets) and one importable flopack
//! per folder, stored byte for byte ([`flopack`]); answers the access probe; and restores
//! through the core engine as the product promises ([`restore`]).
//!
//! **The management API is an assumption.** Okta publishes no description of it; every route
//! the crate uses, with the payloads it expects, is in one table, [`routes`], so that
//! correcting it against a real org is a one-file change. The sign-in is the product's
//! documented setup: a dedicated service account that signs in with a password (not
//! federated), assigned to the Okta Workflows app, holding the Workflow Administrator role
//! (and, for Connector Builder projects, Super Administrator or a role with Connector Builder
//! permissions), with a sign-on rule of the Okta Workflows app that lets it in with the
//! password only. The session token is cached and the client signs in again after a 401.
//!
//! Settings (environment, or a `[workflows]` table of a config file without the prefix, in
//! lower case): `WORKFLOWS_ORG_URL` (`https://acme.workflows.okta.com`; plain `http` only to
//! this machine), `WORKFLOWS_USERNAME`, `WORKFLOWS_PASSWORD`.
//!
//! The access probe tells the two missing grants apart: without the Workflow Administrator role
//! every kind is denied naming it; without the Connector Builder permission only
//! `workflows.connector_project` is, naming that permission.
//!
//! Bad input never stops a backup: a folder whose flopack is truncated, is not a flopack, or
//! whose bytes do not match the export's SHA-256 (a wrong checksum) is left out of
//! `workflows.flopack` with a warning naming the folder; a table whose rows are not CSV, with
//! a warning naming the table. Everything else is backed up.
//!
//! Against the testkit's fake Workflows org:
//!
//! ```
//! use butterfly_core::backup::{self, BackupOptions};
//! use butterfly_testkit::workflows::{FakeWorkflows, WorkflowsOptions, WorkflowsOrgSpec};
//! use butterfly_workflows::{WorkflowsConfig, WorkflowsProvider};
//! use secrecy::SecretString;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let fake = FakeWorkflows::start(WorkflowsOrgSpec { folders: 3, seed: 1 }, WorkflowsOptions::default())
//!     .await
//!     .unwrap();
//! // WORKFLOWS_ORG_URL, WORKFLOWS_USERNAME and WORKFLOWS_PASSWORD in real life:
//! // WorkflowsConfig::from_env().
//! let mut config = WorkflowsConfig::new(fake.org_url(), fake.username(), SecretString::from(fake.password().to_string()));
//! config.rate_scale = Some(100.0); // the fake has no limit: pace 100 times faster
//! let provider = WorkflowsProvider::new(config).unwrap();
//! let snapshot = backup::run(&provider, &BackupOptions::default()).await.unwrap();
//! // Three generated folders, one that only references a Connector Builder project, and
//! // Okta's 18 templates, each with its flopack.
//! assert_eq!(snapshot.resources("workflows.flopack").len(), 22);
//! let text = serde_json::to_string(&snapshot.kinds).unwrap();
//! assert!(fake.sentinels().iter().all(|s| !text.contains(s.as_str())));
//! # });
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod descriptor;
pub mod flopack;
pub mod kinds;
pub mod restore;
pub mod routes;
pub mod rows;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use butterfly_core::diff::{Severity, SeverityRule};
use butterfly_core::http::{BucketSpec, HttpClient, HttpStats, Request};
use butterfly_core::provider::{Access, AccessReport, Capabilities, FetchContext, KindWarnings};
use butterfly_core::restore::{GuardFinding, RestorePlan, Restorer};
use butterfly_core::table::{self, TableSource};
use butterfly_core::{
    Error, ErrorKind, KindRef, Provider, Resource, ResourceKind, Result, Snapshot,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

pub use config::{SessionAuth, WorkflowsConfig, map_error};
pub use descriptor::DESCRIPTOR;
use kinds::{Read, WorkflowsRow};

/// Requests a minute the client allows itself at most (it uses half by default). Okta
/// documents no limit for the Workflows console API: an assumption, kept low so a backup never
/// slows the console down.
pub const DEFAULT_LIMIT: u32 = 600;

/// Parents (folders, tables) read at once by the flopack and table-row reads.
const CONCURRENCY: usize = 4;

/// An Okta Workflows org: implements [`Provider`] and [`Restorer`].
#[derive(Debug)]
pub struct WorkflowsProvider {
    org: String,
    http: HttpClient,
}

impl WorkflowsProvider {
    /// Builds the provider; no request is sent (not even the sign-in) until the first backup,
    /// probe or restore.
    pub fn new(config: WorkflowsConfig) -> Result<WorkflowsProvider> {
        let root = config.api_root()?;
        let auth = SessionAuth::new(&config)?;
        let scale = config.rate_scale.unwrap_or(1.0);
        let http = HttpClient::builder(root.as_str())
            .auth(Arc::new(auth))
            .classify(Arc::new(|_: &reqwest::Method, _: &str| "workflows".into()))
            .bucket(BucketSpec {
                name: "workflows".into(),
                limit: DEFAULT_LIMIT,
                period: Duration::from_secs_f64(60.0 / scale),
            })
            .max_share(config.max_share.unwrap_or(0.5))
            .error_mapper(config::error_mapper())
            .build()?;
        Ok(WorkflowsProvider {
            org: root.origin().ascii_serialization(),
            http,
        })
    }

    /// Request counts and waits so far.
    pub fn http_stats(&self) -> HttpStats {
        self.http.stats()
    }

    /// The rows of one table (`{folderId}/{tableId}`), or `None` when the table went away.
    async fn table_rows(
        &self,
        table: &Resource,
        warnings: &KindWarnings,
    ) -> Result<Option<Resource>> {
        let own = own_id(&table.id);
        let folder = table.parent_id.as_deref().unwrap_or_default();
        let resp = match self.http.get(&routes::table_rows_export(folder, own)).await {
            Ok(r) => r,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let name = table
            .body
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(own);
        match rows::stored_body(&resp.body) {
            Ok(body) => Ok(Some(Resource::new(
                &kinds::TABLE_ROWS,
                format!("{}/rows", table.id),
                Some(table.id.clone()),
                body,
            ))),
            Err(e) => {
                warnings.warn(format!(
                    "table {name:?} ({}): rows not stored: {e}",
                    table.id
                ));
                Ok(None)
            }
        }
    }

    /// The flopack of one folder, or `None` when the folder went away or its flopack is bad
    /// (a warning naming the folder).
    async fn folder_flopack(
        &self,
        folder: &Resource,
        warnings: &KindWarnings,
    ) -> Result<Option<Resource>> {
        let resp = match self.http.get(&routes::folder_export(&folder.id)).await {
            Ok(r) => r,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let name = folder
            .body
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(&folder.id);
        let export = resp.value().unwrap_or(Value::Null);
        let said = export
            .get("sha256")
            .and_then(Value::as_str)
            .map(|v| v.trim().to_ascii_lowercase());
        let file = export.get("flopack").and_then(Value::as_str).unwrap_or("");
        // The transfer first (a wrong checksum), then the file itself (truncated, not a
        // flopack, a malformed checksum of its own).
        let have = flopack::sha256_hex(file.as_bytes());
        let checked = match &said {
            Some(want) if *want != have => Err(Error::integrity(format!(
                "wrong checksum: the export says SHA-256 {want}, the {} bytes received hash to {have}",
                file.len()
            ))),
            _ => flopack::stored_body(file.as_bytes()),
        };
        match checked {
            Ok(body) => {
                if let Some(v) = body.get("version").and_then(Value::as_str)
                    && !flopack::KNOWN_VERSIONS.contains(&v)
                {
                    warnings.warn(format!(
                        "folder {name:?} ({}): flopack format {v} is newer than the ones butterfly knows ({}); stored as exported",
                        folder.id,
                        flopack::KNOWN_VERSIONS.join(", ")
                    ));
                }
                Ok(Some(Resource::new(
                    &kinds::FLOPACK,
                    format!("{}/flopack", folder.id),
                    Some(folder.id.clone()),
                    body,
                )))
            }
            Err(e) => {
                tracing::warn!(folder = name, error = %e, "flopack not stored");
                warnings.warn(format!(
                    "folder {name:?} ({}): flopack not stored: {e}",
                    folder.id
                ));
                Ok(None)
            }
        }
    }

    async fn read_per_parent(
        &self,
        row: &'static WorkflowsRow,
        ctx: &FetchContext,
    ) -> Result<Vec<Resource>> {
        let parents: Vec<Resource> = ctx.parents.iter().cloned().collect();
        let warnings = &ctx.warnings;
        let read = futures::stream::iter(parents)
            .map(|p| async move {
                match row.read {
                    Read::Flopack => self.folder_flopack(&p, warnings).await,
                    _ => self.table_rows(&p, warnings).await,
                }
            })
            .buffered(CONCURRENCY)
            .try_collect::<Vec<Option<Resource>>>()
            .await
            .map_err(|e| table::fetch_error(row, e))?;
        Ok(read.into_iter().flatten().collect())
    }

    /// The flows (`{folderId}/{flowId}` ids) or tables of a target folder, as listed now.
    async fn listed(&self, row: &'static WorkflowsRow, folder: &str) -> Result<Vec<Resource>> {
        table::list(self, row, Some(folder), None).await
    }

    /// Finds what the flopack import created in a target folder by name (a flow or a table),
    /// and for a flow makes sure it is off.
    async fn claim(&self, row: &'static WorkflowsRow, resource: &Resource) -> Result<String> {
        let folder = resource
            .parent_id
            .as_deref()
            .ok_or_else(|| Error::invalid_data(format!("{} without its folder", row.spec.id)))?;
        let name = resource
            .body
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let found = self
            .listed(row, folder)
            .await?
            .into_iter()
            .find(|r| r.body.get("name").and_then(Value::as_str) == Some(name))
            .ok_or_else(|| {
                Error::not_found(format!(
                    "{} {name:?} is not in folder {folder} after its flopack import",
                    row.spec.display_name
                ))
            })?;
        if row.spec.id == kinds::FLOW.spec.id && found.body.get("enabled") == Some(&json!(true)) {
            self.http
                .send(Request::put(
                    &routes::flow_state(own_id(&found.id)),
                    json!({"enabled": false}),
                ))
                .await?;
        }
        Ok(found.id)
    }

    /// Turns off every flow of a target folder that is on.
    async fn disable_flows(&self, folder: &str) -> Result<()> {
        for flow in self.listed(&kinds::FLOW, folder).await? {
            if flow.body.get("enabled") == Some(&json!(true)) {
                self.http
                    .send(Request::put(
                        &routes::flow_state(own_id(&flow.id)),
                        json!({"enabled": false}),
                    ))
                    .await?;
            }
        }
        Ok(())
    }
}

/// The last part of a `{parent}/{own}` id.
fn own_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// The core table engine reads the listed kinds through this client.
impl TableSource<WorkflowsRow> for WorkflowsProvider {
    fn http(&self) -> &HttpClient {
        &self.http
    }
}

#[async_trait]
impl Provider for WorkflowsProvider {
    fn name(&self) -> &str {
        "workflows"
    }
    /// The org's origin (`https://acme.workflows.okta.com`).
    fn tenant(&self) -> &str {
        &self.org
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
        let mut report = table::probe(self, &kinds::rows_of(kinds)).await?;
        // Without the Workflow Administrator role nothing is reachable: say that for every
        // kind, rather than "Connector Builder permission missing" for connector projects.
        let admin_denied = matches!(
            report.kinds.get(kinds::FOLDER.spec.id),
            Some(Access::Denied { .. })
        );
        if admin_denied {
            for access in report.kinds.values_mut() {
                *access = Access::Denied {
                    missing: kinds::WORKFLOW_ADMIN.to_string(),
                };
            }
        }
        Ok(report)
    }

    async fn fetch(&self, kind: KindRef, ctx: FetchContext) -> Result<Vec<Resource>> {
        let row = kinds::row_for(kind)?;
        match row.read {
            Read::Table => table::fetch(self, row, &ctx).await,
            Read::TableRowsCsv | Read::Flopack => self.read_per_parent(row, &ctx).await,
        }
    }

    fn severity_rules(&self) -> Vec<SeverityRule> {
        severity_rules()
    }

    fn restorer(&self) -> Option<&dyn Restorer> {
        Some(self)
    }
}

#[async_trait]
impl Restorer for WorkflowsProvider {
    fn guard(
        &self,
        plan: &RestorePlan,
        source: &Snapshot,
        _target: &Snapshot,
    ) -> Vec<GuardFinding> {
        restore::expected_import_errors(plan, source)
    }

    async fn create(&self, kind: &dyn ResourceKind, resource: &Resource) -> Result<String> {
        let row = kinds::row_for(kind)?;
        let parent = || {
            resource.parent_id.clone().ok_or_else(|| {
                Error::invalid_data(format!(
                    "{} {} without its parent",
                    row.spec.id, resource.id
                ))
            })
        };
        let created_id = |value: &Value| {
            value
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| Error::invalid_data("the created object has no id"))
        };
        match row.spec.id {
            "workflows.folder" => {
                let name = resource
                    .body
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let mut body = json!({"name": kinds::restored_name(name)});
                if let Some(d) = resource.body.get("description") {
                    body["description"] = d.clone();
                }
                let created = self
                    .http
                    .send(Request::post(routes::CREATE_FOLDER, body))
                    .await?
                    .value()?;
                created_id(&created)
            }
            "workflows.flopack" => {
                let folder = parent()?;
                let bytes = flopack::export(&resource.body)?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| Error::invalid_data("a stored flopack that is not UTF-8"))?;
                let imported = self
                    .http
                    .send(Request::post(
                        &routes::folder_import(&folder),
                        json!({ "flopack": text }),
                    ))
                    .await;
                match imported {
                    Ok(_) => {}
                    Err(e) if restore::only_references_connectors(&resource.body) => {
                        tracing::warn!(
                            folder = %folder,
                            error = %e,
                            "flopack import error for a folder that only references Connector Builder projects (expected: the connector content is restored as its Connector Builder project)"
                        );
                    }
                    Err(e) => return Err(e),
                }
                self.disable_flows(&folder).await?;
                Ok(format!("{folder}/flopack"))
            }
            "workflows.flow" | "workflows.table" => self.claim(row, resource).await,
            "workflows.table_rows" => {
                let table = parent()?;
                let (folder, own) = table.rsplit_once('/').ok_or_else(|| {
                    Error::invalid_data(format!("table id {table} without its folder"))
                })?;
                let csv = rows::csv_text(&resource.body)?;
                self.http
                    .send(Request::post(
                        &routes::table_rows_import(folder, own),
                        json!({ "csv": csv }),
                    ))
                    .await?;
                Ok(format!("{table}/rows"))
            }
            "workflows.connector_project" => {
                let mut body = resource.body.as_ref().clone();
                if let Some(map) = body.as_object_mut() {
                    map.remove("id");
                    let name = map
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    map.insert("name".into(), json!(kinds::restored_name(&name)));
                }
                let created = self
                    .http
                    .send(Request::post(routes::CREATE_CONNECTOR_PROJECT, body))
                    .await?
                    .value()?;
                created_id(&created)
            }
            other => Err(Error::new(
                ErrorKind::Conflict,
                format!("{other} cannot be created"),
            )),
        }
    }

    async fn update(
        &self,
        kind: &dyn ResourceKind,
        _target_id: &str,
        _resource: &Resource,
    ) -> Result<()> {
        Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "{} cannot be updated: Workflows restores create \"(Restored)\" copies",
                kind.id()
            ),
        ))
    }
}

/// The Workflows severity rules, added to the core defaults.
pub fn severity_rules() -> Vec<SeverityRule> {
    vec![
        SeverityRule::removed(
            "workflows.folder",
            Severity::High,
            "a Workflows folder was removed, with its flows and tables",
        ),
        SeverityRule::removed("workflows.flow", Severity::High, "a flow was removed"),
        SeverityRule::field_changed(
            "workflows.flow",
            "/enabled",
            Severity::Medium,
            "a flow was turned on or off",
        ),
        SeverityRule::removed(
            "workflows.table",
            Severity::Medium,
            "a Workflows table was removed",
        ),
        SeverityRule::modified(
            "workflows.table_rows",
            Severity::Low,
            "a table's rows changed",
        ),
        SeverityRule::removed(
            "workflows.connector_project",
            Severity::High,
            "a Connector Builder project was removed",
        ),
        SeverityRule::removed(
            "workflows.connection",
            Severity::Medium,
            "a connection was removed",
        ),
    ]
}
