//! # butterfly-1password
//!
//! The 1Password Connect provider for butterfly: a read-only backup of the vault structure a
//! customer's 1Password Connect server exposes, for disaster-recovery documentation and diffs.
//! Three kinds, one [kinds table](kinds) row each: vaults (name, description, type, versions,
//! item count, timestamps), items (title, category, tags, URLs, vault, version, state,
//! sections, and each field's id, label, type, purpose and section) and item files (name and
//! size, never the content).
//!
//! **No secret value is ever stored, logged or put in an error.** Items are rebuilt from an
//! allow-list ([`item`]): the value of every `CONCEALED`, `OTP`/`TOTP` and `SSHKEY` field, and
//! of every field whose purpose is `PASSWORD`, becomes a typed placeholder
//! ([`SecretPlaceholder`](butterfly_core::redact::SecretPlaceholder)); current one-time codes,
//! password details and generator recipes are dropped; notes and the other plain values are
//! kept only when the user opts in (`OP_CONNECT_KEEP_VALUES=true`, `keep_values = true`).
//! File contents are never requested.
//!
//! Settings (environment, or an `[onepassword]` table of a config file without the prefix, in
//! lower case): `OP_CONNECT_HOST` (the Connect server's URL; the API is `<host>/v1`) and
//! `OP_CONNECT_TOKEN` (a Connect server access token, a JWT, sent as a bearer token). A
//! Connect server often sits on a private network without TLS: plain `http` to a host other
//! than this machine is refused unless `OP_CONNECT_ALLOW_HTTP=true` (`allow_http = true`), and
//! the provider then warns once that the token travels unencrypted.
//!
//! Restore is not available ([`Capabilities::restore`] is false and every kind says why, see
//! [`kinds::READ_ONLY`]): 1Password Connect is read-only in butterfly. Diffs work as for every
//! provider: an item moved to another vault (1Password gives it a new id there: removed from
//! one vault, added to the other), a field added, a vault removed.
//!
//! Requests: Connect documents no request limit. The client paces itself at
//! [`DEFAULT_LIMIT`] requests a minute, of which it uses half by default, so that a backup
//! never floods the customer's server; 429 and 5xx answers are retried.
//!
//! Against the testkit's fake Connect server:
//!
//! ```
//! use butterfly_1password::{OnePasswordConfig, OnePasswordProvider};
//! use butterfly_core::backup::{self, BackupOptions};
//! use butterfly_testkit::onepassword::{FakeOnePassword, OnePasswordOptions, OnePasswordOrgSpec};
//! use secrecy::SecretString;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let fake = FakeOnePassword::start(OnePasswordOrgSpec { items: 30, seed: 1 }, OnePasswordOptions::default())
//!     .await
//!     .unwrap();
//! // OP_CONNECT_HOST and OP_CONNECT_TOKEN in real life: OnePasswordConfig::from_env().
//! let config = OnePasswordConfig::new(fake.host(), SecretString::from(fake.token().to_string()));
//! let provider = OnePasswordProvider::new(config).unwrap();
//! let snapshot = backup::run(&provider, &BackupOptions::default()).await.unwrap();
//! assert_eq!(snapshot.resources("onepassword.item").len(), 30);
//! let text = serde_json::to_string(&snapshot.kinds).unwrap();
//! assert!(fake.sentinels().iter().all(|s| !text.contains(s.as_str())));
//! # });
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod descriptor;
pub mod item;
pub mod kinds;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use butterfly_core::diff::{Severity, SeverityRule};
use butterfly_core::http::{BucketSpec, HttpClient, HttpStats, StaticAuth};
use butterfly_core::provider::{AccessReport, Capabilities, FetchContext};
use butterfly_core::table::{self, Row, TableSource};
use butterfly_core::{KindRef, Provider, Resource, Result};
use secrecy::{ExposeSecret, SecretString};

pub use config::{OnePasswordConfig, map_error};
pub use descriptor::DESCRIPTOR;
use item::Values;

/// Requests a minute the client allows itself at most (it uses [`OnePasswordConfig::max_share`]
/// of them, half by default): Connect documents no limit, and a backup must not flood the
/// customer's server.
pub const DEFAULT_LIMIT: u32 = 6000;

/// A 1Password Connect server: implements [`Provider`] (no restore).
#[derive(Debug)]
pub struct OnePasswordProvider {
    server: String,
    values: Values,
    http: HttpClient,
}

impl OnePasswordProvider {
    /// Builds the provider; no request is sent until the first backup or probe. A plain `http`
    /// URL to a host other than this machine is refused (before any connection) unless the
    /// config opts in with [`allow_http`](OnePasswordConfig::allow_http), and then warned
    /// about once.
    pub fn new(config: OnePasswordConfig) -> Result<OnePasswordProvider> {
        let root = config.api_root()?;
        if config.plain_http_to_remote() {
            tracing::warn!(
                host = root.host_str().unwrap_or_default(),
                "1Password Connect over plain http to a host that is not this machine (OP_CONNECT_ALLOW_HTTP): the access token and every item travel unencrypted; use https where you can"
            );
        }
        let token = config.token.expose_secret().trim();
        let auth = StaticAuth::new(SecretString::from(format!("Bearer {token}")));
        let scale = config.rate_scale.unwrap_or(1.0);
        let http = HttpClient::builder(root.as_str())
            .allow_plain_http(config.allow_http)
            .auth(Arc::new(auth))
            .classify(Arc::new(|_: &reqwest::Method, _: &str| "connect".into()))
            .bucket(BucketSpec {
                name: "connect".into(),
                limit: DEFAULT_LIMIT,
                period: Duration::from_secs_f64(60.0 / scale),
            })
            .max_share(config.max_share.unwrap_or(0.5))
            .error_mapper(config::error_mapper())
            .build()?;
        Ok(OnePasswordProvider {
            server: root.origin().ascii_serialization(),
            values: if config.keep_values {
                Values::Keep
            } else {
                Values::Drop
            },
            http,
        })
    }

    /// Request counts and waits so far.
    pub fn http_stats(&self) -> HttpStats {
        self.http.stats()
    }
}

/// The core table engine reads every kind through this client.
impl TableSource<Row> for OnePasswordProvider {
    fn http(&self) -> &HttpClient {
        &self.http
    }
}

#[async_trait]
impl Provider for OnePasswordProvider {
    fn name(&self) -> &str {
        "onepassword"
    }
    /// The Connect server's origin (`https://connect.example.com`).
    fn tenant(&self) -> &str {
        &self.server
    }
    fn kinds(&self) -> &[KindRef] {
        kinds::all()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            restore: false,
            incremental: false,
            access_probe: true,
        }
    }

    async fn probe(&self, kinds: &[KindRef]) -> Result<AccessReport> {
        table::probe(self, &kinds::rows_of(kinds)).await
    }

    async fn fetch(&self, kind: KindRef, ctx: FetchContext) -> Result<Vec<Resource>> {
        let row = kinds::row_for(kind)?;
        let read = table::fetch(self, row, &ctx).await?;
        if row.spec.id != kinds::ITEM.spec.id {
            return Ok(read);
        }
        // Items are rebuilt before anything else sees them: no secret value leaves here.
        Ok(read
            .into_iter()
            .map(|r| {
                let (body, warnings) = item::sanitize(&r.id, &r.body, self.values);
                for w in warnings {
                    ctx.warnings.warn(w);
                }
                Resource::new(row, r.id, r.parent_id, body)
            })
            .collect())
    }

    fn severity_rules(&self) -> Vec<SeverityRule> {
        severity_rules()
    }
}

/// The 1Password severity rules, added to the core defaults.
pub fn severity_rules() -> Vec<SeverityRule> {
    vec![
        SeverityRule::removed(
            "onepassword.vault",
            Severity::Critical,
            "a vault was removed, with every item in it",
        ),
        SeverityRule::removed(
            "onepassword.item",
            Severity::High,
            "an item was removed from a vault",
        ),
        SeverityRule::removed(
            "onepassword.item_file",
            Severity::Medium,
            "a file was removed from an item",
        ),
    ]
}
