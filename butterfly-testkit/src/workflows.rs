//! A fake Okta Workflows org serving the management API that `butterfly-workflows` assumes
//! (its `routes` module is the one table of those routes; this fake answers exactly them).
//!
//! # Org
//! Generated folders (`WorkflowsOrgSpec::folders`) with flows (cards from Okta's templates'
//! card addresses, some on, some off), tables with rows (values with commas, quotes and
//! line breaks, so the CSV is exercised), plus one folder that holds no flow and only
//! references a Connector Builder project; connections whose credentials are `SENTINEL-…`
//! values; Connector Builder projects whose auth configuration holds a `SENTINEL-…` client
//! secret. Unless `WorkflowsOptions::without_samples`, the 18 template flopacks of
//! `shared/fixtures/okta-workflows/flopacks/` are served as folders too, their export the
//! original file byte for byte (until the folder changes).
//!
//! # Routes (under `/app/api`)
//! - `POST session` `{"username","password"}` → `{"token","expiresIn"}` (not a write); a wrong
//!   password is 401. Every other route needs `Authorization: Bearer <token>`: a missing,
//!   unknown or expired token is 401 (`FakeWorkflows::expire_sessions`).
//! - `GET groups`, `POST groups` (409 on a name in use), `DELETE groups/{id}`;
//!   `GET groups/{id}/flos`, `GET groups/{id}/tables`;
//!   `GET groups/{id}/export` → `{"flopack", "sha256"}`;
//!   `POST groups/{id}/import` `{"flopack"}` → `{"flos","tables"}`, every imported flow off,
//!   400 for a flopack without flows (a folder that only references connector projects);
//!   `PUT flos/{id}/state` `{"enabled"}`;
//!   `GET groups/{id}/tables/{id}/rows/export` → `text/csv`;
//!   `POST groups/{id}/tables/{id}/rows/import` `{"csv"}`;
//!   `GET connections`; `GET connectors`, `GET connectors/{id}`, `POST connectors`,
//!   `DELETE connectors/{id}`.
//! - Without the Workflow Administrator role (`WorkflowsOptions::no_admin_role`) every route
//!   but the sign-in is 403; without the Connector Builder permission
//!   (`WorkflowsOptions::no_connector_builder`) the `connectors` routes alone are.
//!
//! Bad input on purpose: `WorkflowsOptions::corrupt_flopack` serves a folder's flopack with
//! a changed byte under the SHA-256 of the original (a wrong checksum);
//! `WorkflowsOptions::truncated_flopack` serves half of a folder's flopack (with its own,
//! matching SHA-256: the file itself is truncated).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::Method;
use butterfly_core::diff::Severity;
use butterfly_core::{Error, ErrorKind, Result};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::fake::{
    BucketLimit, FakeApi, FakeRequest, FakeResponse, FakeServer, FaultRule, RateLimitConfig,
    RawResponse, ServerOptions, lock, sentinel,
};
use crate::tenants::{Affected, Differences, Incident};

/// The API root below the org URL.
const ROOT: &str = "/app/api/";

/// What org to generate.
#[derive(Debug, Clone)]
pub struct WorkflowsOrgSpec {
    /// Generated folders (besides the 18 template folders).
    pub folders: usize,
    /// Seed: the same seed gives the same org.
    pub seed: u64,
}

impl Default for WorkflowsOrgSpec {
    fn default() -> Self {
        WorkflowsOrgSpec {
            folders: 6,
            seed: 1,
        }
    }
}

/// How the fake org behaves.
#[derive(Debug, Clone, Default)]
pub struct WorkflowsOptions {
    /// Rate limits (`None`: unlimited). See [`workflows_rate_limits`].
    pub rate_limits: Option<RateLimitConfig>,
    /// Faults to inject.
    pub faults: Vec<FaultRule>,
    /// Port (0: any).
    pub port: u16,
    /// Leave the 18 template folders out.
    pub without_samples: bool,
    /// The service account lacks the Workflow Administrator role: every route is 403.
    pub no_admin_role: bool,
    /// The service account lacks the Connector Builder permission: `connectors` routes are 403.
    pub no_connector_builder: bool,
    /// A folder (by name) whose export is one byte off its SHA-256.
    pub corrupt_flopack: Option<String>,
    /// A folder (by name) whose flopack is cut in half.
    pub truncated_flopack: Option<String>,
}

/// The assumed limit: one `workflows` bucket of 600 requests a minute.
pub fn workflows_rate_limits(time_scale: f64) -> RateLimitConfig {
    RateLimitConfig {
        buckets: vec![BucketLimit {
            name: "workflows".to_string(),
            limit: 600,
        }],
        window: Duration::from_secs(60),
        headers: [
            "x-rate-limit-limit",
            "x-rate-limit-remaining",
            "x-rate-limit-reset",
        ],
        concurrency: 50,
        time_scale,
    }
}

fn wf_error(status: u16, code: &str, message: &str) -> FakeResponse {
    FakeResponse::status(status, json!({"error": {"code": code, "message": message}}))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Debug, Clone)]
struct Flow {
    id: String,
    enabled: bool,
    /// The flopack's flo entry (`id`, `name`, `description`, `data`).
    flo: Value,
}

#[derive(Debug, Clone)]
struct Table {
    id: String,
    /// The flopack's table entry (`id`, `name`, `description`, `data.structure`).
    table: Value,
    rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
struct Folder {
    id: String,
    name: String,
    description: String,
    flows: Vec<Flow>,
    tables: Vec<Table>,
    /// Connections the flopack references (`id`, `name`, `module`, `data`).
    configs: Vec<Value>,
    /// The export, byte for byte, while the folder is as it was loaded (template folders).
    verbatim: Option<String>,
}

#[derive(Debug, Default)]
struct Org {
    folders: Vec<Folder>,
    connections: Vec<Value>,
    projects: Vec<Value>,
    sentinels: Vec<String>,
    sessions: BTreeSet<String>,
    next_session: u64,
    rng: Option<ChaCha8Rng>,
}

impl Org {
    fn new_id(&mut self) -> String {
        let rng = self
            .rng
            .get_or_insert_with(|| ChaCha8Rng::seed_from_u64(99));
        uuid(rng)
    }

    fn folder(&self, id: &str) -> Option<&Folder> {
        self.folders.iter().find(|f| f.id == id)
    }

    fn table_position(&self, id: &str) -> Option<(usize, usize)> {
        self.folders
            .iter()
            .enumerate()
            .find_map(|(i, f)| f.tables.iter().position(|t| t.id == id).map(|j| (i, j)))
    }
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let hex = |rng: &mut ChaCha8Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
            .collect()
    };
    format!(
        "{}-{}-4{}-a{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 3),
        hex(rng, 12)
    )
}

/// A flow as the `flos` listing answers it.
fn served_flow(flow: &Flow) -> Value {
    let data = &flow.flo["data"];
    let cards: Vec<Value> = data["methods"]
        .as_array()
        .map(|methods| {
            methods
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    json!({
                        "uuid": m["uuid"].as_str().map(str::to_string).unwrap_or_else(|| format!("card-{i}")),
                        "address": m["address"],
                        "title": m.pointer("/node/data/name").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let connectors: BTreeSet<String> = data
        .pointer("/display/preview")
        .and_then(Value::as_array)
        .map(|p| {
            p.iter()
                .filter(|m| m["kernel"] != true)
                .filter_map(|m| m["module"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": flow.id,
        "name": flow.flo["name"],
        "description": flow.flo["description"],
        "enabled": flow.enabled,
        "cards": cards,
        "connectors": connectors,
    })
}

fn served_table(table: &Table) -> Value {
    json!({
        "id": table.id,
        "name": table.table["name"],
        "description": table.table["description"],
        "columns": table.table.pointer("/data/structure").cloned().unwrap_or(json!([])),
    })
}

fn columns_of(table: &Table) -> Vec<String> {
    table
        .table
        .pointer("/data/structure")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(|col| col["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn rows_csv(table: &Table) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = w.write_record(columns_of(table));
    for row in &table.rows {
        let _ = w.write_record(row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The flopack of a folder: the template's bytes while unchanged, else built from the state.
fn export_text(folder: &Folder) -> String {
    if let Some(text) = &folder.verbatim {
        return text.clone();
    }
    let mut flos = Map::new();
    for f in &folder.flows {
        let mut flo = f.flo.clone();
        flo["id"] = json!(f.id);
        flo["data"]["group"] = json!(folder.id);
        flos.insert(f.id.clone(), flo);
    }
    let mut tables = Map::new();
    for t in &folder.tables {
        let mut table = t.table.clone();
        table["id"] = json!(t.id);
        table["data"]["group_id"] = json!(folder.id);
        tables.insert(t.id.clone(), table);
    }
    let configs: Map<String, Value> = folder
        .configs
        .iter()
        .map(|c| (c["id"].as_str().unwrap_or_default().to_string(), c.clone()))
        .collect();
    let pack = json!({
        "type": "flopack",
        "version": "1.5.0",
        "created": "2025-06-01T00:00:00.000Z",
        "flags": {"auto-transform": true, "looseBooleans": true, "looseStrings": true, "looseNulls": true},
        "data": {
            "flos": flos,
            "configs": configs,
            "tables": tables,
            "groups": {folder.id.clone(): {"id": folder.id, "data": {"name": folder.name, "description": folder.description, "media_uri": "", "path": ""}}},
        },
    });
    pack.to_string()
}

/// Card addresses seen in Okta's templates, for generated flows.
const CARDS: &[(&str, &str, &str)] = &[
    (
        "root:kernel:control:0.0.1:callable",
        "control",
        "Helper Flow",
    ),
    ("root:okta:0.0.1:readUser", "okta", "Read User"),
    ("root:kernel:text:0.0.1:concatenate", "text", "Concatenate"),
    ("root:stash:0.0.1:createRow", "stash", "Create Row"),
    ("root:slack:0.0.1:sendMessage", "slack", "Send Message"),
    ("root:kernel:branching:0.0.1:if", "branching", "If/Else"),
    ("root:gmail:0.0.1:sendEmail", "gmail", "Send Email"),
];

const FOLDER_NAMES: &[&str] = &[
    "Onboarding",
    "Offboarding",
    "Access Reviews",
    "Helpdesk",
    "Security Alerts",
    "Reporting",
];

fn generated_flow(rng: &mut ChaCha8Rng, folder: &str, n: usize) -> Flow {
    let id = uuid(rng);
    let cards = 2 + rng.random_range(0..4);
    let mut methods = Vec::new();
    let mut preview = Vec::new();
    for c in 0..cards {
        let (address, module, title) = CARDS[(n + c * 3) % CARDS.len()];
        let kernel = address.starts_with("root:kernel");
        methods.push(json!({
            "uuid": format!("c{n}x{c}"),
            "address": address,
            "joins": {},
            "branches": {},
            "node": {"key": title.to_lowercase().replace(' ', "_"), "data": {"name": title}},
        }));
        preview.push(json!({"module": module, "name": title, "kernel": kernel}));
    }
    Flow {
        id: id.clone(),
        enabled: n.is_multiple_of(2),
        flo: json!({
            "id": id,
            "name": format!("{folder} step {}", n + 1),
            "description": format!("Generated flow {} of {folder}", n + 1),
            "data": {"methods": methods, "display": {"preview": preview}, "group": null, "scheduled": false, "log": true},
        }),
    }
}

fn generated_table(rng: &mut ChaCha8Rng, folder: &str, n: usize) -> Table {
    let id = uuid(rng);
    let rows = 3 + rng.random_range(0..12);
    let table = json!({
        "id": id,
        "name": format!("{folder} table {}", n + 1),
        "description": "Generated table",
        "data": {"class": "simple", "structure": [
            {"name": "User ID", "type": "str", "default": ""},
            {"name": "Note", "type": "str", "default": ""},
            {"name": "Count", "type": "number", "default": 0},
        ]},
    });
    let rows = (0..rows)
        .map(|r| {
            vec![
                format!("00u{n}{r:04}"),
                match r % 3 {
                    0 => "plain".to_string(),
                    1 => format!("with, a comma and \"quotes\" {r}"),
                    _ => format!("two\nlines {r}"),
                },
                (r * 7 % 13).to_string(),
            ]
        })
        .collect();
    Table { id, table, rows }
}

/// The name of a template folder without a `groups` entry.
fn template_title(dir: &str) -> String {
    let mut s = dir.replace('_', " ");
    if let Some(first) = s.get(0..1) {
        s = first.to_uppercase() + &s[1..];
    }
    s
}

/// The 18 template flopacks as folders.
fn template_folders(org: &mut Org) -> std::io::Result<()> {
    let dir = crate::fixtures::path("okta-workflows/flopacks");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "fixture {} cannot be read ({e}): the fake Workflows org serves the template flopacks in ../shared/fixtures (or BUTTERFLY_FIXTURES)",
                    dir.display()
                ),
            )
        })?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let file = path.join("workflow.flopack");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(pack) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let group = pack
            .pointer("/data/groups")
            .and_then(Value::as_object)
            .and_then(|g| g.values().next().cloned());
        let dir_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("template")
            .to_string();
        let id = match group.as_ref().and_then(|g| g["id"].as_str()) {
            Some(id) => id.to_string(),
            None => org.new_id(),
        };
        let mut name = group
            .as_ref()
            .and_then(|g| g.pointer("/data/name").and_then(Value::as_str))
            .map(str::to_string)
            .unwrap_or_else(|| template_title(&dir_name));
        if org.folders.iter().any(|f| f.name == name) {
            name = format!("{name} ({dir_name})");
        }
        let map = |p: &str| {
            pack.pointer(p)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let flows = map("/data/flos")
            .into_iter()
            .map(|(id, flo)| Flow {
                id,
                enabled: false,
                flo,
            })
            .collect();
        let tables = map("/data/tables")
            .into_iter()
            .map(|(id, table)| Table {
                id,
                table,
                rows: Vec::new(),
            })
            .collect();
        let configs = map("/data/configs").into_values().collect();
        org.folders.push(Folder {
            id,
            name,
            description: group
                .as_ref()
                .and_then(|g| g.pointer("/data/description").and_then(Value::as_str))
                .unwrap_or("")
                .to_string(),
            flows,
            tables,
            configs,
            verbatim: Some(text),
        });
    }
    Ok(())
}

fn generate(spec: &WorkflowsOrgSpec) -> Org {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut org = Org::default();
    let projects = 2 + spec.folders / 10;
    for p in 0..projects {
        let id = uuid(&mut rng);
        let secret = sentinel(&mut rng, "connector-client-secret");
        org.sentinels.push(secret.clone());
        org.projects.push(json!({
            "id": id,
            "name": format!("Custom HR API {}", p + 1),
            "module": format!("customhr{}_{}", p + 1, &id[..8]),
            "description": "A Connector Builder project",
            "version": format!("1.{p}.0"),
            "flows": [
                {"name": "httpHelper", "type": "helper", "inputs": [{"name": "path", "type": "string", "required": true}], "outputs": [{"name": "body", "type": "object"}]},
                {"name": "Read Employee", "type": "action", "inputs": [{"name": "employeeId", "type": "string", "required": true}], "outputs": [{"name": "employee", "type": "object"}]},
                {"name": "New Hire", "type": "trigger", "inputs": [], "outputs": [{"name": "hire", "type": "object"}]},
            ],
            "auth": {"type": "oauth2", "config": {
                "clientId": format!("client-{p}"),
                "clientSecret": secret,
                "authorizeUrl": "https://hr.example.invalid/oauth/authorize",
                "tokenUrl": "https://hr.example.invalid/oauth/token",
                "scopes": ["employees.read"],
            }},
        }));
    }
    let connections = 4 + spec.folders / 3;
    for c in 0..connections {
        let connector = ["okta", "slack", "gmail", "servicenow"][c % 4];
        let token = sentinel(&mut rng, "connection-credential");
        org.sentinels.push(token.clone());
        let (auth, credentials) = if c.is_multiple_of(2) {
            (
                "oauth2",
                json!({"accessToken": token, "refreshToken": format!("{token}-refresh")}),
            )
        } else {
            ("apiKey", json!({"apiKey": token}))
        };
        if c.is_multiple_of(2) {
            org.sentinels.push(format!("{token}-refresh"));
        }
        org.connections.push(json!({
            "id": uuid(&mut rng),
            "name": format!("{connector} connection {}", c + 1),
            "connector": connector,
            "authType": auth,
            "status": "valid",
            "credentials": credentials,
        }));
    }
    for f in 0..spec.folders {
        let base = FOLDER_NAMES[f % FOLDER_NAMES.len()];
        let name = if f < FOLDER_NAMES.len() {
            base.to_string()
        } else {
            format!("{base} {}", f / FOLDER_NAMES.len() + 1)
        };
        let flows = (0..1 + f % 4)
            .map(|n| generated_flow(&mut rng, &name, n))
            .collect();
        let tables = (0..(f % 3).max(1))
            .map(|n| generated_table(&mut rng, &name, n))
            .collect();
        org.folders.push(Folder {
            id: uuid(&mut rng),
            name,
            description: format!("Generated folder {}", f + 1),
            flows,
            tables,
            configs: Vec::new(),
            verbatim: None,
        });
    }
    // A folder that holds no flow, only a reference to a Connector Builder project.
    let module = org.projects[0]["module"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let config_id = uuid(&mut rng);
    org.folders.push(Folder {
        id: uuid(&mut rng),
        name: "Custom HR Connector".into(),
        description: "Only references the Custom HR API Connector Builder project".into(),
        flows: Vec::new(),
        tables: Vec::new(),
        configs: vec![
            json!({"id": config_id, "name": "Custom HR", "module": module, "data": null}),
        ],
        verbatim: None,
    });
    org.rng = Some(rng);
    org
}

struct WorkflowsApi {
    org: Arc<Mutex<Org>>,
    username: String,
    password: String,
    options: WorkflowsOptions,
}

impl WorkflowsApi {
    fn session(&self, req: &FakeRequest, org: &Org) -> bool {
        req.header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .is_some_and(|t| org.sessions.contains(t.trim()))
    }

    fn export(&self, folder: &Folder) -> Value {
        let text = export_text(folder);
        let sha = sha256_hex(text.as_bytes());
        if self.options.corrupt_flopack.as_deref() == Some(folder.name.as_str()) {
            // One byte off, the original's SHA-256 kept: a wrong checksum.
            let bad = text.replacen("\"flopack\"", "\"flopacK\"", 1);
            return json!({"flopack": bad, "sha256": sha});
        }
        if self.options.truncated_flopack.as_deref() == Some(folder.name.as_str()) {
            let mut cut = text.len() / 2;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let half = &text[..cut];
            return json!({"flopack": half, "sha256": sha256_hex(half.as_bytes())});
        }
        json!({"flopack": text, "sha256": sha})
    }

    fn import(org: &mut Org, folder_id: &str, body: &Value) -> FakeResponse {
        let Some(text) = body["flopack"].as_str() else {
            return wf_error(400, "invalid_request", "a flopack is required");
        };
        let Ok(pack) = serde_json::from_str::<Value>(text) else {
            return wf_error(400, "invalid_flopack", "the flopack is not valid JSON");
        };
        if pack["type"] != "flopack" {
            return wf_error(400, "invalid_flopack", "not a flopack");
        }
        let flos = pack
            .pointer("/data/flos")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if flos.is_empty() {
            return wf_error(
                400,
                "empty_flopack",
                "the flopack holds no flows to import (it only references connectors)",
            );
        }
        let tables = pack
            .pointer("/data/tables")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let configs: Vec<Value> = pack
            .pointer("/data/configs")
            .and_then(Value::as_object)
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default();
        let mut new_flows = Vec::new();
        for flo in flos.into_values() {
            new_flows.push(Flow {
                id: org.new_id(),
                enabled: false,
                flo,
            });
        }
        let mut new_tables = Vec::new();
        for table in tables.into_values() {
            new_tables.push(Table {
                id: org.new_id(),
                table,
                rows: Vec::new(),
            });
        }
        let (n_flows, n_tables) = (new_flows.len(), new_tables.len());
        let Some(folder) = org.folders.iter_mut().find(|f| f.id == folder_id) else {
            return wf_error(404, "not_found", "no such folder");
        };
        folder.flows.extend(new_flows);
        folder.tables.extend(new_tables);
        folder.configs.extend(configs);
        folder.verbatim = None;
        FakeResponse::ok(json!({"flos": n_flows, "tables": n_tables}))
    }

    fn answer(&self, req: &FakeRequest, org: &mut Org) -> Option<FakeResponse> {
        let rest = req.path.strip_prefix(ROOT)?;
        let segs: Vec<&str> = rest.split('/').collect();
        let m = &req.method;
        if segs == ["session"] {
            if *m != Method::POST {
                return None;
            }
            let body = req.json();
            let ok = body["username"] == self.username.as_str()
                && body["password"] == self.password.as_str();
            if !ok {
                return Some(wf_error(401, "invalid_credentials", "Sign in failed"));
            }
            org.next_session += 1;
            let token = format!("wf-session-{}", org.next_session);
            org.sessions.insert(token.clone());
            return Some(FakeResponse::ok(json!({"token": token, "expiresIn": 3600})));
        }
        if !self.session(req, org) {
            return Some(wf_error(401, "invalid_session", "The session is not valid"));
        }
        if self.options.no_admin_role {
            return Some(wf_error(
                403,
                "forbidden",
                "The Workflow Administrator role is required",
            ));
        }
        if segs[0] == "connectors" && self.options.no_connector_builder {
            return Some(wf_error(
                403,
                "forbidden",
                "The Connector Builder permission is required",
            ));
        }
        let not_found = || Some(wf_error(404, "not_found", "Not found"));
        Some(match (m.clone(), segs.as_slice()) {
            (Method::GET, ["groups"]) => FakeResponse::ok(Value::Array(
                org.folders
                    .iter()
                    .map(|f| json!({"id": f.id, "name": f.name, "description": f.description}))
                    .collect(),
            )),
            (Method::POST, ["groups"]) => {
                let body = req.json();
                let Some(name) = body["name"].as_str() else {
                    return Some(wf_error(400, "invalid_request", "a name is required"));
                };
                if org.folders.iter().any(|f| f.name == name) {
                    return Some(wf_error(409, "conflict", "A folder with this name exists"));
                }
                let id = org.new_id();
                let description = body["description"].as_str().unwrap_or("").to_string();
                org.folders.push(Folder {
                    id: id.clone(),
                    name: name.to_string(),
                    description: description.clone(),
                    flows: Vec::new(),
                    tables: Vec::new(),
                    configs: Vec::new(),
                    verbatim: None,
                });
                FakeResponse::ok(json!({"id": id, "name": name, "description": description}))
            }
            (Method::DELETE, ["groups", id]) => {
                let before = org.folders.len();
                org.folders.retain(|f| f.id != *id);
                if org.folders.len() == before {
                    return not_found();
                }
                FakeResponse::no_content()
            }
            (Method::GET, ["groups", id, "flos"]) => match org.folder(id) {
                Some(f) => {
                    FakeResponse::ok(Value::Array(f.flows.iter().map(served_flow).collect()))
                }
                None => return not_found(),
            },
            (Method::GET, ["groups", id, "tables"]) => match org.folder(id) {
                Some(f) => {
                    FakeResponse::ok(Value::Array(f.tables.iter().map(served_table).collect()))
                }
                None => return not_found(),
            },
            (Method::GET, ["groups", id, "export"]) => match org.folder(id) {
                Some(f) => FakeResponse::ok(self.export(f)),
                None => return not_found(),
            },
            (Method::POST, ["groups", id, "import"]) => Self::import(org, id, &req.json()),
            (Method::PUT, ["flos", id, "state"]) => {
                let enabled = req.json()["enabled"].as_bool().unwrap_or(false);
                let flow = org
                    .folders
                    .iter_mut()
                    .flat_map(|f| f.flows.iter_mut())
                    .find(|f| f.id == *id);
                match flow {
                    Some(f) => {
                        f.enabled = enabled;
                        FakeResponse::ok(served_flow(f))
                    }
                    None => return not_found(),
                }
            }
            (Method::POST, ["groups", _, "tables", id, "rows", "import"]) => {
                let Some((i, j)) = org.table_position(id) else {
                    return not_found();
                };
                let text = req.json()["csv"].as_str().unwrap_or("").to_string();
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(text.as_bytes());
                let mut rows = Vec::new();
                for record in reader.records() {
                    match record {
                        Ok(r) => rows.push(r.iter().map(str::to_string).collect()),
                        Err(e) => {
                            return Some(wf_error(400, "invalid_csv", &format!("{e}")));
                        }
                    }
                }
                let n = rows.len();
                let folder = &mut org.folders[i];
                folder.tables[j].rows.extend(rows);
                folder.verbatim = None;
                FakeResponse::ok(json!({"imported": n}))
            }
            (Method::GET, ["connections"]) => {
                FakeResponse::ok(Value::Array(org.connections.clone()))
            }
            (Method::GET, ["connectors"]) => FakeResponse::ok(Value::Array(
                org.projects
                    .iter()
                    .map(|p| json!({"id": p["id"], "name": p["name"]}))
                    .collect(),
            )),
            (Method::GET, ["connectors", id]) => {
                match org.projects.iter().find(|p| p["id"] == *id) {
                    Some(p) => FakeResponse::ok(p.clone()),
                    None => return not_found(),
                }
            }
            (Method::DELETE, ["connectors", id]) => {
                let before = org.projects.len();
                org.projects.retain(|p| p["id"] != *id);
                if org.projects.len() == before {
                    return not_found();
                }
                FakeResponse::no_content()
            }
            (Method::POST, ["connectors"]) => {
                let mut body = req.json();
                let Some(name) = body["name"].as_str().map(str::to_string) else {
                    return Some(wf_error(400, "invalid_request", "a name is required"));
                };
                if org.projects.iter().any(|p| p["name"] == name.as_str()) {
                    return Some(wf_error(
                        409,
                        "conflict",
                        "A connector with this name exists",
                    ));
                }
                body["id"] = json!(org.new_id());
                org.projects.push(body.clone());
                FakeResponse::ok(body)
            }
            _ => return None,
        })
    }
}

impl FakeApi for WorkflowsApi {
    fn handle(&self, req: &FakeRequest, _base: &str) -> Option<FakeResponse> {
        let mut org = lock(&self.org);
        self.answer(req, &mut org)
    }

    fn raw(&self, req: &FakeRequest, _base: &str) -> Option<RawResponse> {
        if req.method != Method::GET {
            return None;
        }
        let rest = req.path.strip_prefix(ROOT)?;
        let segs: Vec<&str> = rest.split('/').collect();
        let ["groups", _, "tables", id, "rows", "export"] = segs.as_slice() else {
            return None;
        };
        let org = lock(&self.org);
        // Errors (no session, no role, no table) go through `handle`.
        if !self.session(req, &org) || self.options.no_admin_role {
            return None;
        }
        let (i, j) = org.table_position(id)?;
        Some(RawResponse {
            status: 200,
            content_type: "text/csv; charset=utf-8".into(),
            body: Bytes::from(rows_csv(&org.folders[i].tables[j])),
        })
    }

    fn bucket(&self, _method: &Method, _path: &str) -> String {
        "workflows".into()
    }

    fn rate_limited_body(&self) -> Value {
        json!({"error": {"code": "rate_limited", "message": "Too many requests"}})
    }

    fn is_write(&self, method: &Method, path: &str) -> bool {
        *method != Method::GET && path != format!("{ROOT}session")
    }

    fn fault_body(&self, status: u16) -> Value {
        json!({"error": {"code": "server_error", "message": format!("Internal server error {status} (injected fault)")}})
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

/// A running fake Workflows org. Dropping it stops the server.
pub struct FakeWorkflows {
    server: FakeServer,
    org: Arc<Mutex<Org>>,
    username: String,
    password: String,
}

impl FakeWorkflows {
    /// Generates an org from `spec` (plus the 18 template folders unless
    /// [`WorkflowsOptions::without_samples`]) and serves it on 127.0.0.1.
    pub async fn start(
        spec: WorkflowsOrgSpec,
        options: WorkflowsOptions,
    ) -> std::io::Result<FakeWorkflows> {
        let mut org = generate(&spec);
        if !options.without_samples {
            template_folders(&mut org)?;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x5eed);
        let password = sentinel(&mut rng, "service-account-password");
        org.sentinels.push(password.clone());
        let username = "workflows-backup@acme.example".to_string();
        let org = Arc::new(Mutex::new(org));
        let api = WorkflowsApi {
            org: org.clone(),
            username: username.clone(),
            password: password.clone(),
            options: options.clone(),
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
        Ok(FakeWorkflows {
            server,
            org,
            username,
            password,
        })
    }

    /// `http://127.0.0.1:PORT`: the org URL (`WORKFLOWS_ORG_URL`).
    pub fn org_url(&self) -> String {
        self.server.base_url()
    }

    /// The service account's username (`WORKFLOWS_USERNAME`).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The service account's password (`WORKFLOWS_PASSWORD`), a sentinel itself.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The framework server (writes, unknown requests).
    pub fn server(&self) -> &FakeServer {
        &self.server
    }

    /// Writes received so far (sign-ins are not writes).
    pub fn write_count(&self) -> usize {
        self.server.write_count()
    }

    /// Every secret planted: connection credentials, connector client secrets, the password.
    pub fn sentinels(&self) -> Vec<String> {
        lock(&self.org).sentinels.clone()
    }

    /// Ends every session: the next request answers 401 and the client must sign in again.
    pub fn expire_sessions(&self) {
        lock(&self.org).sessions.clear();
    }

    /// Sign-ins so far.
    pub fn sign_ins(&self) -> u64 {
        lock(&self.org).next_session
    }

    /// Every folder: `{"id","name","flows","tables"}` with the flows' `{"id","name","enabled"}`
    /// and the tables' `{"id","name","rows"}` (the row count).
    pub fn folders(&self) -> Vec<Value> {
        lock(&self.org)
            .folders
            .iter()
            .map(|f| {
                json!({
                    "id": f.id,
                    "name": f.name,
                    "flows": f.flows.iter().map(|fl| json!({"id": fl.id, "name": fl.flo["name"], "enabled": fl.enabled})).collect::<Vec<_>>(),
                    "tables": f.tables.iter().map(|t| json!({"id": t.id, "name": t.table["name"], "rows": t.rows.len()})).collect::<Vec<_>>(),
                })
            })
            .collect()
    }

    /// A folder by name.
    pub fn folder(&self, name: &str) -> Option<Value> {
        self.folders().into_iter().find(|f| f["name"] == name)
    }

    /// The Connector Builder projects' names.
    pub fn connector_projects(&self) -> Vec<String> {
        lock(&self.org)
            .projects
            .iter()
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect()
    }

    /// The export of a folder as the API answers it (`{"flopack","sha256"}`).
    pub fn export(&self, folder_id: &str) -> Option<String> {
        lock(&self.org).folder(folder_id).map(export_text)
    }

    /// Deletes a folder, with its flows and tables, through the API (in the write log).
    pub async fn delete_folder(&self, id: &str) -> Result<()> {
        self.admin_delete(&format!("groups/{id}")).await
    }

    /// Deletes a Connector Builder project by name through the API (in the write log).
    pub async fn delete_connector_project(&self, name: &str) -> Result<()> {
        let id = lock(&self.org)
            .projects
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["id"].as_str().map(str::to_string))
            .ok_or_else(|| Error::not_found(format!("no connector project {name:?}")))?;
        self.admin_delete(&format!("connectors/{id}")).await
    }

    async fn admin_delete(&self, path: &str) -> Result<()> {
        let token = {
            let mut org = lock(&self.org);
            org.next_session += 1;
            let t = format!("wf-admin-{}", org.next_session);
            org.sessions.insert(t.clone());
            t
        };
        let url = format!("{}{ROOT}{path}", self.org_url());
        let resp = reqwest::Client::new()
            .delete(&url)
            .bearer_auth(&token)
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

    /// The incident: an admin deletes a generated folder that has a flow turned on and a table
    /// with rows.
    pub async fn incident(&self) -> Result<Incident> {
        let folder = self
            .folders()
            .into_iter()
            .find(|f| {
                f["flows"]
                    .as_array()
                    .is_some_and(|fl| fl.iter().any(|x| x["enabled"] == true))
                    && f["tables"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|x| x["rows"].as_u64() > Some(0)))
            })
            .ok_or_else(|| {
                Error::not_found(
                    "the generated org lacks a folder with an enabled flow and table rows",
                )
            })?;
        let id = folder["id"].as_str().unwrap_or_default().to_string();
        self.delete_folder(&id).await?;
        let name = folder["name"].as_str().unwrap_or_default();
        let flows = folder["flows"].as_array().map_or(0, Vec::len);
        let tables = folder["tables"].as_array().map_or(0, Vec::len);
        Ok(Incident {
            summary: vec![format!(
                "folder {name:?} deleted with its {flows} flows (some on) and {tables} tables with their rows"
            )],
            removed: vec![Affected::new("workflows.folder", id, Severity::High)],
            changed: Vec::new(),
            kinds: [
                "workflows.folder",
                "workflows.flopack",
                "workflows.flow",
                "workflows.table",
                "workflows.table_rows",
            ]
            .iter()
            .map(|k| k.to_string())
            .collect(),
            differences: Differences {
                text: "the folder comes back as \"<name> (Restored)\" with every flow turned off, its flopack exported anew (new ids), its tables' rows imported from the backed-up CSV".into(),
                plan_notes: vec!["(Restored)".into(), "turned off".into()],
                fields: vec![
                    ("workflows.folder".into(), "/name".into()),
                    ("workflows.flow".into(), "/enabled".into()),
                    ("workflows.flopack".into(), "/text".into()),
                    ("workflows.flopack".into(), "/sha256".into()),
                ],
            },
        })
    }
}

/// Names of the folders of `folders()` that hold rows, for tests.
pub fn folders_with_rows(folders: &[Value]) -> BTreeMap<String, u64> {
    folders
        .iter()
        .map(|f| {
            let rows = f["tables"]
                .as_array()
                .map_or(0, |t| t.iter().filter_map(|x| x["rows"].as_u64()).sum());
            (f["name"].as_str().unwrap_or_default().to_string(), rows)
        })
        .filter(|(_, rows)| *rows > 0)
        .collect()
}
