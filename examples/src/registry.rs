//! The providers this binary knows: their kinds (to read stored snapshots) and how to build
//! a live provider from a TOML file, environment variables and flags.
//!
//! The providers are the [`registry`] of their crates' descriptors; everything here iterates
//! it, and nothing matches on a provider's name.

use std::collections::BTreeMap;
use std::path::Path;

use butterfly_core::diff::SeverityRule;
use butterfly_core::registry::{BuildOptions, ProviderDescriptor, Registry, Settings};
use butterfly_core::restore::{RestoreOptions, RestorePlan};
use butterfly_core::{Error, KindRef, Provider, Result, Snapshot};
use serde::Deserialize;

/// The providers this binary knows, in the order it lists them. Adding a provider is one
/// line here.
pub fn registry() -> Registry {
    Registry::new([
        &butterfly_okta::DESCRIPTOR,
        &butterfly_entra::DESCRIPTOR,
        &butterfly_auth0::DESCRIPTOR,
        &butterfly_ping::DESCRIPTOR,
        &butterfly_1password::DESCRIPTOR,
        &butterfly_workflows::DESCRIPTOR,
    ])
}

/// The descriptor of a provider, or a `Config` error listing the known ones.
pub fn entry(provider: &str) -> Result<&'static ProviderDescriptor> {
    registry().get(provider)
}

/// The names of the known providers.
pub fn names() -> Vec<&'static str> {
    registry().names()
}

/// The settings part of `--help`: every provider's settings with what they hold.
pub fn settings_help() -> String {
    let mut out = String::new();
    for p in registry().iter() {
        out.push_str(&format!("{} ([{}] in a --config file):\n", p.title, p.name));
        for s in p.settings {
            out.push_str(&format!("  {:<30} {}\n", s.name, s.help));
        }
    }
    out
}

/// The `--config` file: one table per provider, keys as the provider's variables in lower
/// case without the prefix. Unknown tables and unknown keys are refused, naming them.
///
/// ```toml
/// [okta]
/// org_url = "https://acme.okta.com"
/// client_id = "0oa..."
/// private_key_file = "/etc/butterfly/okta.pem"
/// private_key_id = "kid-1"
///
/// [entra]
/// tenant_id = "00000000-0000-0000-0000-000000000000"
/// client_id = "11111111-1111-1111-1111-111111111111"
/// certificate_file = "/etc/butterfly/entra.pem"
/// certificate_thumbprint = "A1B2..."
///
/// [auth0]
/// domain = "acme.eu.auth0.com"
/// client_id = "abc..."
/// private_key_file = "/etc/butterfly/auth0.pem"
///
/// [onepassword]
/// host = "http://connect.internal:8080"
/// allow_http = true
///
/// [workflows]
/// org_url = "https://acme.workflows.okta.com"
/// username = "workflows-backup@acme.com"
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct ConfigFile {
    tables: BTreeMap<String, toml::Table>,
}

impl ConfigFile {
    /// Reads and parses a config file; a bad file, an unknown provider table or an unknown key
    /// is a `Config` error naming the file and the key.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("cannot read config file {}: {e}", path.display()))
        })?;
        ConfigFile::parse(&text)
            .map_err(|e| Error::config(format!("config file {} is not valid: {e}", path.display())))
    }

    /// Parses config text, checking every table and key against the known providers.
    pub fn parse(text: &str) -> std::result::Result<ConfigFile, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
        for (name, table) in &file.tables {
            let entry = entry(name).map_err(|_| {
                format!(
                    "unknown table [{name}]; known: {}",
                    names()
                        .iter()
                        .map(|n| format!("[{n}]"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let prefix = entry.env_prefix();
            for key in table.keys() {
                let var = format!("{prefix}{}", key.to_ascii_uppercase());
                if !entry.knows(&var) {
                    let known: Vec<String> = entry
                        .settings
                        .iter()
                        .filter_map(|s| s.name.strip_prefix(prefix.as_str()))
                        .map(str::to_ascii_lowercase)
                        .collect();
                    return Err(format!(
                        "unknown key {key:?} in [{name}]; known keys: {}",
                        known.join(", ")
                    ));
                }
            }
        }
        Ok(file)
    }

    /// The settings of one provider, named with the provider's env prefix (`[ping]` keys
    /// become `PINGONE_*`, `[onepassword]` keys `OP_CONNECT_*`).
    pub fn settings(&self, provider: &str) -> Settings {
        let prefix = entry(provider)
            .map(|e| e.env_prefix())
            .unwrap_or_else(|_| format!("{}_", provider.to_ascii_uppercase()));
        Settings::from_pairs(
            self.tables
                .get(provider)
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let value = match v {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (format!("{prefix}{}", k.to_ascii_uppercase()), value)
                }),
        )
    }
}

/// Why a provider's snapshots cannot be restored at all (none of its kinds can be, as for
/// 1Password Connect), from its kinds alone: a restore says so before reading any setting.
pub fn restore_unavailable(provider: &str) -> Option<&'static str> {
    let kinds = entry(provider).ok()?.kinds();
    let mut reason = None;
    for kind in kinds {
        match kind.restore_support() {
            butterfly_core::RestoreSupport::None { reason: why } => reason = reason.or(Some(why)),
            _ => return None,
        }
    }
    reason
}

/// The kinds of a provider, for reading stored snapshots without credentials.
pub fn kinds(provider: &str) -> Result<&'static [KindRef]> {
    Ok(entry(provider)?.kinds())
}

/// The provider's severity rules for diffs (none for an unknown provider).
pub fn severity_rules(provider: &str) -> Vec<SeverityRule> {
    entry(provider)
        .map(|e| e.severity_rules())
        .unwrap_or_default()
}

/// Where a provider's settings come from.
#[derive(Debug, Clone, Copy)]
pub enum Sources<'a> {
    /// The config file (if any), overridden by the process environment.
    FileThenEnv(Option<&'a ConfigFile>),
    /// Only this file: the environment is ignored (a restore `--target` must never fall back
    /// to the environment's tenant).
    FileOnly(&'a ConfigFile),
}

/// Builds a live provider from its settings; `base_url` overrides the API root (plain http
/// only for loopback) and, where the provider allows, stands in for the tenant URL.
/// `state_dir` is where a provider keeps state between runs when its settings name no other
/// place (Entra's `/delta` cursors, for incremental backups).
pub fn build(
    provider: &str,
    sources: Sources<'_>,
    base_url: Option<&str>,
    state_dir: Option<&Path>,
) -> Result<Box<dyn Provider>> {
    let entry = entry(provider)?;
    let mut settings = match sources {
        Sources::FileThenEnv(file) => {
            let mut settings = file.map(|f| f.settings(provider)).unwrap_or_default();
            settings.overlay(Settings::from_env(&entry.env_prefix()));
            settings
        }
        Sources::FileOnly(file) => file.settings(provider),
    };
    if let Some(url) = base_url {
        settings.set(entry.base_url_setting, url);
    }
    let options = match state_dir {
        Some(dir) => BuildOptions::with_state_dir(dir),
        None => BuildOptions::default(),
    };
    entry.build(&settings, &options)
}

/// The provider's variables set in the process environment (names only), for telling a user
/// which settings a `--target` file overrides.
pub fn env_names(provider: &str) -> Vec<String> {
    let Ok(entry) = entry(provider) else {
        return Vec::new();
    };
    Settings::from_env(&entry.env_prefix())
        .names()
        .map(str::to_string)
        .collect()
}

/// Selection by a provider's own restore units (Okta Workflows: folders and Connector Builder
/// projects, never single flows).
pub use butterfly_workflows::restore::Selection;

/// What a provider's restore asks beyond the core engine's: a typed confirmation word, a
/// summary line of the plan, a checklist at the end of the report, and selection by its own
/// units.
#[derive(Debug, Clone, Copy)]
pub struct RestoreExtras {
    /// What the user types to execute (instead of the tenant name).
    pub confirmation: &'static str,
    /// One line summing up a plan.
    pub summary: fn(&RestorePlan) -> String,
    /// What to do after the restore, printed at the end of the report.
    pub checklist: fn() -> String,
    /// The core options of a selection of a snapshot.
    pub select: fn(&Snapshot, &Selection) -> Result<RestoreOptions>,
}

/// The restore extras of a provider, from its crate (Okta Workflows: `RESTORE`, folder, table
/// and connector counts, the post-restore checklist); `None` for the others.
pub fn restore_extras(provider: &str) -> Option<RestoreExtras> {
    (provider == butterfly_workflows::DESCRIPTOR.name).then_some(RestoreExtras {
        confirmation: butterfly_workflows::restore::CONFIRMATION,
        summary: |plan| butterfly_workflows::restore::Counts::of(plan).render(),
        checklist: butterfly_workflows::restore::render_checklist,
        select: butterfly_workflows::restore::options,
    })
}

/// Every provider's Terraform mapping table (the official Terraform provider's resource types
/// for its kinds), for `butterfly export terraform`.
pub fn terraform_mappings() -> Vec<&'static butterfly_terraform::ProviderMapping> {
    vec![
        &butterfly_okta::terraform::MAPPING,
        &butterfly_auth0::terraform::MAPPING,
        &butterfly_entra::terraform::MAPPING,
        &butterfly_ping::terraform::MAPPING,
    ]
}
