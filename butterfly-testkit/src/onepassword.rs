//! A fake 1Password Connect server that behaves like the Connect API 1.7.1
//! (`shared/fixtures/onepassword/spec/connect-api-1.7.1.yaml`) with the corrections of the
//! unmerged PR #88 (`connect-api-pr88-unmerged.yaml`): vault, item and file ids are 26
//! lowercase letters and digits (not UUIDs), the one-time password field type is `OTP`, and
//! SSH keys are fields of type `SSHKEY`.
//!
//! # Routes
//! - `GET /heartbeat` (`.` as text) and `GET /health` (`{"name","version","dependencies"}`),
//!   without a token, as on a real server;
//! - under `/v1`, with `Authorization: Bearer <token>` ([`FakeOnePassword::token`]); a missing
//!   or wrong token is 401 `{"status":401,"message":"Invalid token signature"}`:
//!   - `GET /v1/vaults` (`filter=name eq "…"`): the vaults the token may read;
//!   - `GET /v1/vaults/{vaultId}`: one vault; 404 `vault {id} not found`, 403
//!     `vault {id} is not in scope` for a vault the token was not granted
//!     ([`OnePasswordOptions::out_of_scope`]);
//!   - `GET /v1/vaults/{vaultId}/items` (`filter=title eq "…"`): item summaries (no fields,
//!     sections or files);
//!   - `GET /v1/vaults/{vaultId}/items/{itemId}`: the full item; `DELETE` removes it (204);
//!   - `GET …/items/{itemId}/files` and `…/files/{fileId}`: file metadata, the base64
//!     `content` only with `inline_files=true`; `GET …/files/{fileId}/content`: the bytes.
//!
//! Errors are Connect's `{"status","message"}`. Every request counts in one `connect` bucket;
//! [`onepassword_rate_limits`] emulates 6,000 requests a minute with `Retry-After` on a 429
//! (Connect documents no limit: an assumption, so that the client's pacing is exercised).
//!
//! # Secrets
//! Every concealed, one-time password (`value` and the current code `totp`), SSH key and
//! password-purpose value, every note and every file's content is a `SENTINEL-…` value listed
//! by [`FakeOnePassword::sentinels`]; fields also carry `entropy`, `passwordDetails`,
//! `generate` and `recipe` where the real server sends them.
//!
//! Fidelity: `tests/onepassword_openapi.rs` validates every `GET` answer the client uses
//! against the PR #88 spec.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::Method;
use butterfly_core::diff::Severity;
use butterfly_core::{Error, ErrorKind, Result};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::fake::{
    BucketLimit, FakeApi, FakeRequest, FakeResponse, FakeServer, FaultRule, RateLimitConfig,
    RawResponse, ServerOptions, lock, sentinel,
};
use crate::tenants::{Affected, Differences, Incident};

/// What Connect server to generate.
#[derive(Debug, Clone)]
pub struct OnePasswordOrgSpec {
    /// Items, spread over `3 + items / 40` vaults (at most 50).
    pub items: usize,
    /// Seed: the same seed gives the same server.
    pub seed: u64,
}

impl Default for OnePasswordOrgSpec {
    fn default() -> Self {
        OnePasswordOrgSpec { items: 60, seed: 1 }
    }
}

/// How the fake server behaves.
#[derive(Debug, Clone, Default)]
pub struct OnePasswordOptions {
    /// Rate limits (`None`: unlimited). See [`onepassword_rate_limits`].
    pub rate_limits: Option<RateLimitConfig>,
    /// Faults to inject.
    pub faults: Vec<FaultRule>,
    /// Vaults (by name or id) the token was not granted: not listed, 403 when asked for.
    pub out_of_scope: Vec<String>,
    /// Port (0: any).
    pub port: u16,
}

/// The assumed limit (see the module docs): one `connect` bucket of 6,000 requests a minute.
pub fn onepassword_rate_limits(time_scale: f64) -> RateLimitConfig {
    RateLimitConfig {
        buckets: vec![BucketLimit {
            name: "connect".to_string(),
            limit: 6000,
        }],
        window: Duration::from_secs(60),
        headers: [
            "x-rate-limit-limit",
            "x-rate-limit-remaining",
            "x-rate-limit-reset",
        ],
        concurrency: 100,
        time_scale,
    }
}

/// Connect's error body.
fn op_error(status: u16, message: &str) -> FakeResponse {
    FakeResponse::status(status, json!({"status": status, "message": message}))
}

/// A Connect id: 26 lowercase letters and digits.
fn op_id(rng: &mut ChaCha8Rng) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..26)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn ts(day: u64) -> String {
    format!(
        "2025-{:02}-{:02}T{:02}:{:02}:00Z",
        1 + day % 12,
        1 + day % 28,
        day % 24,
        day % 60
    )
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The server's state.
#[derive(Debug, Default)]
struct Org {
    /// Vaults in order, without the `items` count (computed when served).
    vaults: Vec<Value>,
    /// Full items per vault id, in order; each item's `files` hold metadata only.
    items: BTreeMap<String, Vec<Value>>,
    /// File contents by file id.
    contents: BTreeMap<String, Vec<u8>>,
    sentinels: Vec<String>,
    out_of_scope: BTreeSet<String>,
    rng: Option<ChaCha8Rng>,
}

impl Org {
    fn vault(&self, id: &str) -> Option<&Value> {
        self.vaults.iter().find(|v| v["id"] == id)
    }

    fn in_scope(&self, vault: &Value) -> bool {
        let id = vault["id"].as_str().unwrap_or_default();
        let name = vault["name"].as_str().unwrap_or_default();
        !self.out_of_scope.contains(id) && !self.out_of_scope.contains(name)
    }

    fn served_vault(&self, vault: &Value) -> Value {
        let mut v = vault.clone();
        let id = vault["id"].as_str().unwrap_or_default();
        v["items"] = json!(self.items.get(id).map_or(0, Vec::len));
        v
    }

    fn item_position(&self, item: &str) -> Option<(String, usize)> {
        self.items.iter().find_map(|(v, items)| {
            items
                .iter()
                .position(|i| i["id"] == item)
                .map(|p| (v.clone(), p))
        })
    }

    /// Bumps a vault's content version after one of its items changed.
    fn touch(&mut self, vault: &str) {
        if let Some(v) = self.vaults.iter_mut().find(|v| v["id"] == vault) {
            let n = v["contentVersion"].as_u64().unwrap_or(1) + 1;
            v["contentVersion"] = json!(n);
            v["updatedAt"] = json!(ts(300 + n));
        }
    }

    fn new_id(&mut self) -> String {
        let rng = self.rng.get_or_insert_with(|| ChaCha8Rng::seed_from_u64(0));
        op_id(rng)
    }
}

const VAULT_NAMES: &[&str] = &[
    "Infrastructure",
    "Engineering",
    "Finance",
    "Marketing",
    "Support",
    "Security",
    "Data",
    "Operations",
];

const SERVICES: &[&str] = &[
    "Production DB",
    "Staging DB",
    "GitHub",
    "AWS root",
    "Datadog",
    "PagerDuty",
    "Stripe",
    "Slack bot",
    "Jenkins",
    "Vault unseal",
];

/// The generator: one template per category, secrets planted as sentinels.
struct Gen {
    rng: ChaCha8Rng,
    sentinels: Vec<String>,
    contents: BTreeMap<String, Vec<u8>>,
}

impl Gen {
    fn secret(&mut self, what: &str) -> String {
        let s = sentinel(&mut self.rng, what);
        self.sentinels.push(s.clone());
        s
    }

    fn field(id: &str, kind: &str, purpose: &str, label: &str, value: Value) -> Value {
        let mut f = json!({"id": id, "type": kind, "label": label, "value": value});
        if !purpose.is_empty() {
            f["purpose"] = json!(purpose);
        }
        f
    }

    fn file(&mut self, vault: &str, item: &str, name: &str, section: Option<&str>) -> Value {
        let id = op_id(&mut self.rng);
        let content = format!("-----BEGIN PRIVATE KEY-----\n{}\n", self.secret("file"));
        let size = content.len();
        self.contents.insert(id.clone(), content.into_bytes());
        let mut f = json!({
            "id": id,
            "name": name,
            "size": size,
            "content_path": format!("/v1/vaults/{vault}/items/{item}/files/{id}/content"),
        });
        if let Some(s) = section {
            f["section"] = json!({"id": s});
        }
        f
    }

    /// A full item of the `k`-th template in `vault`.
    fn item(&mut self, k: usize, vault: &str) -> Value {
        let id = op_id(&mut self.rng);
        let service = SERVICES[k % SERVICES.len()];
        let title = format!("{service} {}", k / SERVICES.len() + 1);
        let day = k as u64;
        let mut fields = Vec::new();
        let mut sections = Vec::new();
        let mut files = Vec::new();
        let mut urls = Vec::new();
        let category = match k % 10 {
            0 => {
                urls.push(json!({"primary": true, "href": format!("https://{}.example.com", service.to_ascii_lowercase().replace(' ', "-"))}));
                fields.push(Self::field(
                    "username",
                    "STRING",
                    "USERNAME",
                    "username",
                    json!(format!("svc-{k}@example.com")),
                ));
                let mut pw = Self::field(
                    "password",
                    "CONCEALED",
                    "PASSWORD",
                    "password",
                    json!(self.secret("password")),
                );
                pw["entropy"] = json!(96.5);
                pw["passwordDetails"] =
                    json!({"strength": "FANTASTIC", "history": [self.secret("old-password")]});
                fields.push(pw);
                fields.push(Self::field(
                    "notesPlain",
                    "STRING",
                    "NOTES",
                    "notesPlain",
                    json!(self.secret("note")),
                ));
                if k.is_multiple_of(20) {
                    sections.push(json!({"id": "add more", "label": "Two-factor"}));
                    let mut otp = Self::field(
                        "totp",
                        "OTP",
                        "",
                        "one-time password",
                        json!(format!(
                            "otpauth://totp/{k}?secret={}",
                            self.secret("otp-seed")
                        )),
                    );
                    otp["totp"] = json!(self.secret("otp-code"));
                    otp["section"] = json!({"id": "add more", "label": "Two-factor"});
                    fields.push(otp);
                    files.push(self.file(vault, &id, "recovery-codes.txt", None));
                }
                "LOGIN"
            }
            1 => {
                let mut pw = Self::field(
                    "password",
                    "CONCEALED",
                    "PASSWORD",
                    "password",
                    json!(self.secret("password")),
                );
                pw["generate"] = json!(false);
                pw["recipe"] = json!({"length": 32, "characterSets": ["LETTERS", "DIGITS"]});
                fields.push(pw);
                fields.push(Self::field(
                    "notesPlain",
                    "STRING",
                    "NOTES",
                    "notesPlain",
                    json!(self.secret("note")),
                ));
                "PASSWORD"
            }
            2 => {
                fields.push(Self::field(
                    "username",
                    "STRING",
                    "",
                    "username",
                    json!("deploy"),
                ));
                fields.push(Self::field(
                    "credential",
                    "CONCEALED",
                    "",
                    "credential",
                    json!(self.secret("api-key")),
                ));
                fields.push(Self::field("type", "MENU", "", "type", json!("bearer")));
                fields.push(Self::field(
                    "hostname",
                    "STRING",
                    "",
                    "hostname",
                    json!("api.example.com"),
                ));
                fields.push(Self::field(
                    "expires",
                    "DATE",
                    "",
                    "expires",
                    json!("2027-01-31"),
                ));
                "API_CREDENTIAL"
            }
            3 => {
                sections.push(json!({"id": "admin_console", "label": "Admin Console"}));
                fields.push(Self::field(
                    "url",
                    "URL",
                    "",
                    "URL",
                    json!("https://10.0.0.5"),
                ));
                fields.push(Self::field(
                    "username",
                    "STRING",
                    "",
                    "username",
                    json!("root"),
                ));
                fields.push(Self::field(
                    "password",
                    "CONCEALED",
                    "",
                    "password",
                    json!(self.secret("server-password")),
                ));
                let mut console = Self::field(
                    "admin_console_password",
                    "CONCEALED",
                    "",
                    "console password",
                    json!(self.secret("console-password")),
                );
                console["section"] = json!({"id": "admin_console", "label": "Admin Console"});
                fields.push(console);
                "SERVER"
            }
            4 => {
                fields.push(Self::field(
                    "database_type",
                    "MENU",
                    "",
                    "type",
                    json!("postgresql"),
                ));
                fields.push(Self::field(
                    "hostname",
                    "STRING",
                    "",
                    "server",
                    json!("db.internal"),
                ));
                fields.push(Self::field("port", "STRING", "", "port", json!("5432")));
                fields.push(Self::field(
                    "username",
                    "STRING",
                    "",
                    "username",
                    json!("app"),
                ));
                fields.push(Self::field(
                    "password",
                    "CONCEALED",
                    "",
                    "password",
                    json!(self.secret("db-password")),
                ));
                "DATABASE"
            }
            5 => {
                fields.push(Self::field(
                    "private_key",
                    "SSHKEY",
                    "",
                    "private key",
                    json!(format!(
                        "-----BEGIN OPENSSH PRIVATE KEY-----{}",
                        self.secret("ssh-key")
                    )),
                ));
                fields.push(Self::field(
                    "public_key",
                    "STRING",
                    "",
                    "public key",
                    json!(format!("ssh-ed25519 AAAAC3Nza{k} ops@example.com")),
                ));
                fields.push(Self::field(
                    "fingerprint",
                    "STRING",
                    "",
                    "fingerprint",
                    json!(format!("SHA256:fp{k}")),
                ));
                "SSH_KEY"
            }
            6 => {
                fields.push(Self::field(
                    "notesPlain",
                    "STRING",
                    "NOTES",
                    "notesPlain",
                    json!(self.secret("note")),
                ));
                "SECURE_NOTE"
            }
            7 => {
                fields.push(Self::field(
                    "notesPlain",
                    "STRING",
                    "NOTES",
                    "notesPlain",
                    json!(self.secret("note")),
                ));
                files.push(self.file(vault, &id, &format!("contract-{k}.pdf"), None));
                "DOCUMENT"
            }
            8 => {
                sections.push(json!({"id": "extra", "label": "Extra"}));
                let mut pin = Self::field(
                    "pin",
                    "STRING",
                    "PASSWORD",
                    "PIN",
                    json!(self.secret("pin")),
                );
                pin["section"] = json!({"id": "extra", "label": "Extra"});
                fields.push(pin);
                fields.push(Self::field(
                    "contact",
                    "EMAIL",
                    "",
                    "contact",
                    json!("owner@example.com"),
                ));
                fields.push(Self::field(
                    "renewal",
                    "MONTH_YEAR",
                    "",
                    "renewal",
                    json!("202612"),
                ));
                files.push(self.file(vault, &id, "license.key", Some("extra")));
                "CUSTOM"
            }
            _ => {
                fields.push(Self::field(
                    "cardholder",
                    "STRING",
                    "",
                    "cardholder name",
                    json!("ACME Corp"),
                ));
                fields.push(Self::field("type", "MENU", "", "type", json!("visa")));
                fields.push(Self::field(
                    "ccnum",
                    "CONCEALED",
                    "",
                    "number",
                    json!(self.secret("card-number")),
                ));
                fields.push(Self::field(
                    "cvv",
                    "CONCEALED",
                    "",
                    "verification number",
                    json!(self.secret("cvv")),
                ));
                fields.push(Self::field(
                    "expiry",
                    "MONTH_YEAR",
                    "",
                    "expiry date",
                    json!("202711"),
                ));
                "CREDIT_CARD"
            }
        };
        let mut item = json!({
            "id": id,
            "title": title,
            "vault": {"id": vault},
            "category": category,
            "favorite": k.is_multiple_of(7),
            "tags": if k.is_multiple_of(3) { json!(["prod", "team/ops"]) } else { json!([]) },
            "version": 1 + (k % 4),
            "createdAt": ts(day),
            "updatedAt": ts(day + 30),
            "lastEditedBy": "aaaaaaaaaaaaaaaaaaaaaaaaaa",
            "fields": fields,
        });
        if !urls.is_empty() {
            item["urls"] = json!(urls);
        }
        if !sections.is_empty() {
            item["sections"] = json!(sections);
        }
        if !files.is_empty() {
            item["files"] = json!(files);
        }
        item
    }
}

/// Generates a server: vaults and items from the seed, and the token.
fn generate(spec: &OnePasswordOrgSpec) -> (Org, String) {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(spec.seed),
        sentinels: Vec::new(),
        contents: BTreeMap::new(),
    };
    let token = format!(
        "eyJhbGciOiJFUzI1NiIsImtpZCI6ImZha2UiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiJmYWtlIn0.{}",
        g.secret("connect-token")
    );
    let count = (3 + spec.items / 40).min(50);
    let mut org = Org::default();
    for n in 0..count {
        let id = op_id(&mut g.rng);
        let name = match (VAULT_NAMES.get(n), n / VAULT_NAMES.len()) {
            (Some(name), _) => (*name).to_string(),
            (None, round) => format!("{} {}", VAULT_NAMES[n % VAULT_NAMES.len()], round + 1),
        };
        org.vaults.push(json!({
            "id": id,
            "name": name,
            "description": format!("Shared credentials of the {name} team"),
            "attributeVersion": 1 + n % 3,
            "contentVersion": 10 + n,
            "type": if n == count - 1 { "EVERYONE" } else { "USER_CREATED" },
            "createdAt": ts(n as u64),
            "updatedAt": ts(200 + n as u64),
        }));
        org.items.insert(id, Vec::new());
    }
    let ids: Vec<String> = org
        .vaults
        .iter()
        .map(|v| v["id"].as_str().unwrap_or_default().to_string())
        .collect();
    for k in 0..spec.items {
        let vault = &ids[k % ids.len()];
        let item = g.item(k, vault);
        if let Some(list) = org.items.get_mut(vault) {
            list.push(item);
        }
    }
    org.sentinels = g.sentinels;
    org.contents = g.contents;
    org.rng = Some(ChaCha8Rng::seed_from_u64(spec.seed.wrapping_add(99)));
    (org, token)
}

/// An item's summary, as `GET /v1/vaults/{id}/items` lists it.
fn summary(item: &Value) -> Value {
    let mut s = item.clone();
    if let Some(m) = s.as_object_mut() {
        m.remove("fields");
        m.remove("sections");
        m.remove("files");
    }
    s
}

/// `name eq "X"` → `("name", "X")`.
fn eq_filter(filter: &str) -> Option<(&str, &str)> {
    let (attr, rest) = filter.trim().split_once(' ')?;
    let value = rest.trim().strip_prefix("eq")?.trim();
    Some((attr, value.trim_matches('"')))
}

fn filtered(list: Vec<Value>, req: &FakeRequest, attr: &str) -> Option<Vec<Value>> {
    match req.param("filter") {
        None => Some(list),
        Some(f) => {
            let (a, value) = eq_filter(f)?;
            if a != attr {
                return None;
            }
            Some(list.into_iter().filter(|v| v[attr] == value).collect())
        }
    }
}

struct OnePasswordApi {
    org: Arc<Mutex<Org>>,
    token: String,
}

impl OnePasswordApi {
    fn authorized(&self, req: &FakeRequest) -> bool {
        req.header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .is_some_and(|t| t.trim() == self.token)
    }

    fn file_of(org: &Org, vault: &str, item: &str, file: &str) -> Option<Value> {
        org.items.get(vault)?.iter().find(|i| i["id"] == item)?["files"]
            .as_array()?
            .iter()
            .find(|f| f["id"] == file)
            .cloned()
    }

    fn with_content(org: &Org, mut file: Value, inline: bool) -> Value {
        if inline && let Some(bytes) = file["id"].as_str().and_then(|id| org.contents.get(id)) {
            file["content"] = json!(base64(bytes));
        }
        file
    }

    fn answer(&self, req: &FakeRequest, org: &mut Org) -> Option<FakeResponse> {
        if req.path == "/health" && req.method == Method::GET {
            return Some(FakeResponse::ok(json!({
                "name": "1Password Connect API",
                "version": "1.7.3",
                "dependencies": [
                    {"service": "sync", "status": "ACTIVE"},
                    {"service": "sqlite", "status": "ACTIVE", "message": "Connected to./1password.sqlite"}
                ]
            })));
        }
        let rest = req.path.strip_prefix("/v1/")?;
        if !self.authorized(req) {
            return Some(op_error(401, "Invalid token signature"));
        }
        let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        let get = req.method == Method::GET;
        let inline = req.param("inline_files") == Some("true");
        // The vault of a path, or its error.
        let vault_error = |org: &Org, id: &str| -> Option<FakeResponse> {
            match org.vault(id) {
                None => Some(op_error(404, &format!("vault {id} not found"))),
                Some(v) if !org.in_scope(v) => {
                    Some(op_error(403, &format!("vault {id} is not in scope")))
                }
                Some(_) => None,
            }
        };
        match segs.as_slice() {
            ["vaults"] if get => {
                let list: Vec<Value> = org
                    .vaults
                    .iter()
                    .filter(|v| org.in_scope(v))
                    .map(|v| org.served_vault(v))
                    .collect();
                Some(match filtered(list, req, "name") {
                    Some(list) => FakeResponse::ok(Value::Array(list)),
                    None => op_error(400, "Invalid filter"),
                })
            }
            ["vaults", v] if get => Some(match vault_error(org, v) {
                Some(e) => e,
                None => FakeResponse::ok(org.served_vault(org.vault(v)?)),
            }),
            ["vaults", v, "items"] if get => Some(match vault_error(org, v) {
                Some(e) => e,
                None => {
                    let list = org.items.get(*v)?.iter().map(summary).collect();
                    match filtered(list, req, "title") {
                        Some(list) => FakeResponse::ok(Value::Array(list)),
                        None => op_error(400, "Invalid filter"),
                    }
                }
            }),
            ["vaults", v, "items", i] if get || req.method == Method::DELETE => {
                if let Some(e) = vault_error(org, v) {
                    return Some(e);
                }
                let list = org.items.get_mut(*v)?;
                let Some(pos) = list.iter().position(|x| x["id"] == *i) else {
                    return Some(op_error(404, &format!("item {i} not found")));
                };
                if get {
                    return Some(FakeResponse::ok(list[pos].clone()));
                }
                let removed = list.remove(pos);
                for f in removed["files"].as_array().into_iter().flatten() {
                    if let Some(id) = f["id"].as_str() {
                        org.contents.remove(id);
                    }
                }
                org.touch(v);
                Some(FakeResponse::no_content())
            }
            ["vaults", v, "items", i, "files"] if get => {
                if let Some(e) = vault_error(org, v) {
                    return Some(e);
                }
                let Some(item) = org.items.get(*v)?.iter().find(|x| x["id"] == *i) else {
                    return Some(op_error(404, &format!("item {i} not found")));
                };
                let files: Vec<Value> = item["files"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| Self::with_content(org, f, inline))
                    .collect();
                Some(FakeResponse::ok(Value::Array(files)))
            }
            ["vaults", v, "items", i, "files", f] if get => {
                if let Some(e) = vault_error(org, v) {
                    return Some(e);
                }
                Some(match Self::file_of(org, v, i, f) {
                    Some(file) => FakeResponse::ok(Self::with_content(org, file, inline)),
                    None => op_error(404, &format!("file {f} not found")),
                })
            }
            // The bytes are served by `raw`; here only when there are none.
            ["vaults", _, "items", _, "files", f, "content"] if get => {
                Some(op_error(404, &format!("file {f} not found")))
            }
            _ => None,
        }
    }
}

impl FakeApi for OnePasswordApi {
    fn handle(&self, req: &FakeRequest, _base: &str) -> Option<FakeResponse> {
        let mut org = lock(&self.org);
        self.answer(req, &mut org)
    }

    fn raw(&self, req: &FakeRequest, _base: &str) -> Option<RawResponse> {
        if req.method != Method::GET {
            return None;
        }
        if req.path == "/heartbeat" {
            return Some(RawResponse {
                status: 200,
                content_type: "text/plain".into(),
                body: Bytes::from_static(b"."),
            });
        }
        // `/v1/vaults/{v}/items/{i}/files/{f}/content`: the bytes (errors go through `handle`).
        let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        let ["v1", "vaults", v, "items", i, "files", f, "content"] = segs.as_slice() else {
            return None;
        };
        if !self.authorized(req) {
            return None;
        }
        let org = lock(&self.org);
        Self::file_of(&org, v, i, f)?;
        let bytes = org.contents.get(*f)?.clone();
        Some(RawResponse {
            status: 200,
            content_type: "application/octet-stream".into(),
            body: Bytes::from(bytes),
        })
    }

    fn bucket(&self, _method: &Method, _path: &str) -> String {
        "connect".into()
    }

    fn rate_limited_body(&self) -> Value {
        json!({"status": 429, "message": "Too many requests"})
    }

    fn fault_body(&self, status: u16) -> Value {
        json!({"status": status, "message": "Internal server error (injected fault)"})
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

/// A running fake 1Password Connect server. Dropping it stops the server.
pub struct FakeOnePassword {
    server: FakeServer,
    org: Arc<Mutex<Org>>,
    token: String,
}

impl FakeOnePassword {
    /// Generates a server from `spec` and serves it on 127.0.0.1.
    pub async fn start(
        spec: OnePasswordOrgSpec,
        options: OnePasswordOptions,
    ) -> std::io::Result<FakeOnePassword> {
        let (mut org, token) = generate(&spec);
        org.out_of_scope = options.out_of_scope.into_iter().collect();
        let org = Arc::new(Mutex::new(org));
        let api = OnePasswordApi {
            org: org.clone(),
            token: token.clone(),
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
        Ok(FakeOnePassword { server, org, token })
    }

    /// `http://127.0.0.1:PORT`: the Connect server's URL (`OP_CONNECT_HOST`); the API is under
    /// `/v1`.
    pub fn host(&self) -> String {
        self.server.base_url()
    }

    /// The access token the server accepts (`OP_CONNECT_TOKEN`).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The framework server (writes, unknown requests).
    pub fn server(&self) -> &FakeServer {
        &self.server
    }

    /// Writes received so far.
    pub fn write_count(&self) -> usize {
        self.server.write_count()
    }

    /// Every secret value planted (the token too).
    pub fn sentinels(&self) -> Vec<String> {
        lock(&self.org).sentinels.clone()
    }

    /// Every vault as stored (in scope or not), with its current item count.
    pub fn vaults(&self) -> Vec<Value> {
        let org = lock(&self.org);
        org.vaults.iter().map(|v| org.served_vault(v)).collect()
    }

    /// The full items of a vault, as the item `GET` answers them.
    pub fn items(&self, vault: &str) -> Vec<Value> {
        lock(&self.org)
            .items
            .get(vault)
            .cloned()
            .unwrap_or_default()
    }

    /// An item by id, wherever it is.
    pub fn item(&self, item: &str) -> Option<Value> {
        let org = lock(&self.org);
        let (vault, pos) = org.item_position(item)?;
        Some(org.items[&vault][pos].clone())
    }

    /// As an admin in the 1Password app moves an item to another vault: a copy with a new id
    /// lands in `to_vault` and the original is removed. Returns the new id.
    pub fn move_item(&self, item: &str, to_vault: &str) -> Result<String> {
        let mut org = lock(&self.org);
        let (from, pos) = org
            .item_position(item)
            .ok_or_else(|| Error::not_found(format!("no item {item}")))?;
        if !org.items.contains_key(to_vault) {
            return Err(Error::not_found(format!("no vault {to_vault}")));
        }
        let mut moved = org
            .items
            .get_mut(&from)
            .map(|l| l.remove(pos))
            .unwrap_or_default();
        let id = org.new_id();
        moved["id"] = json!(id);
        moved["vault"] = json!({"id": to_vault});
        for f in moved["files"].as_array_mut().into_iter().flatten() {
            let fid = f["id"].as_str().unwrap_or_default().to_string();
            f["content_path"] = json!(format!(
                "/v1/vaults/{to_vault}/items/{id}/files/{fid}/content"
            ));
        }
        if let Some(list) = org.items.get_mut(to_vault) {
            list.push(moved);
        }
        org.touch(&from);
        org.touch(to_vault);
        Ok(id)
    }

    /// As an admin adds a field to an item (its version goes up).
    pub fn add_field(&self, item: &str, field: Value) -> Result<()> {
        let mut org = lock(&self.org);
        let (vault, pos) = org
            .item_position(item)
            .ok_or_else(|| Error::not_found(format!("no item {item}")))?;
        if let Some(it) = org.items.get_mut(&vault).and_then(|l| l.get_mut(pos)) {
            match it["fields"].as_array_mut() {
                Some(fields) => fields.push(field),
                None => it["fields"] = json!([field]),
            }
            let v = it["version"].as_u64().unwrap_or(1) + 1;
            it["version"] = json!(v);
        }
        org.touch(&vault);
        Ok(())
    }

    /// As an admin deletes a vault with its items (Connect cannot: the 1Password app does).
    pub fn remove_vault(&self, vault: &str) -> Result<()> {
        let mut org = lock(&self.org);
        let before = org.vaults.len();
        org.vaults.retain(|v| v["id"] != vault);
        if org.vaults.len() == before {
            return Err(Error::not_found(format!("no vault {vault}")));
        }
        org.items.remove(vault);
        Ok(())
    }

    /// The incident: an admin deletes an item with an attached file through the API (in the
    /// write log). Returns what was removed.
    pub async fn incident(&self) -> Result<Incident> {
        let (vault, item) = {
            let org = lock(&self.org);
            let with_files = org.items.iter().find_map(|(v, items)| {
                items
                    .iter()
                    .find(|i| i["category"] == "LOGIN" && i["files"].is_array())
                    .map(|i| (v.clone(), i.clone()))
            });
            with_files
                .ok_or_else(|| Error::not_found("the generated server lacks a login with a file"))?
        };
        let id = item["id"].as_str().unwrap_or_default().to_string();
        let url = format!("{}/v1/vaults/{vault}/items/{id}", self.host());
        let resp = reqwest::Client::new()
            .delete(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| Error::new(ErrorKind::Transient, format!("DELETE {url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!("DELETE {url} answered {}", resp.status()),
            ));
        }
        let vault_name = self
            .vaults()
            .iter()
            .find(|v| v["id"] == vault.as_str())
            .and_then(|v| v["name"].as_str().map(str::to_string))
            .unwrap_or_default();
        Ok(Incident {
            summary: vec![format!(
                "item {:?} ({}) and its attached file deleted from vault {vault_name:?}",
                item["title"].as_str().unwrap_or_default(),
                item["category"].as_str().unwrap_or_default()
            )],
            removed: vec![Affected::new(
                "onepassword.item",
                format!("{vault}/{id}"),
                Severity::High,
            )],
            changed: Vec::new(),
            kinds: vec!["onepassword.item".into(), "onepassword.item_file".into()],
            differences: Differences {
                text: "1Password Connect is read-only in butterfly: the diff finds the removed item, which is re-created by hand from the backup's structure (its secret values are never in a backup)".into(),
                plan_notes: Vec::new(),
                fields: Vec::new(),
            },
        })
    }
}

/// The ids of `items`.
pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_the_pr88_pattern_and_base64_is_standard() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let id = op_id(&mut rng);
        assert_eq!(id.len(), 26);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(base64(b"The future"), "VGhlIGZ1dHVyZQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(eq_filter("name eq \"Finance\""), Some(("name", "Finance")));
    }

    #[test]
    fn the_same_seed_gives_the_same_server() {
        let spec = OnePasswordOrgSpec { items: 45, seed: 5 };
        let (a, ta) = generate(&spec);
        let (b, tb) = generate(&spec);
        assert_eq!(ta, tb);
        assert_eq!(a.vaults, b.vaults);
        assert_eq!(a.items, b.items);
        assert_eq!(a.vaults.len(), 4);
        assert_eq!(a.items.values().map(Vec::len).sum::<usize>(), 45);
    }
}
