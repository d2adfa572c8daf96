//! The providers this binary knows: their kinds (to read stored snapshots) and how to build
//! a live provider from a TOML file, environment variables and flags.
//!
//! Each provider is one row of [`PROVIDERS`]; everything else here iterates that table.

use std::collections::BTreeMap;
use std::path::Path;

use butterfly_core::diff::SeverityRule;
use butterfly_core::{Error, KindRef, Provider, Result};
use serde::Deserialize;

/// How one provider is read from settings and built.
pub struct ProviderEntry {
    /// Name on the command line and in snapshots (`"okta"`).
    pub name: &'static str,
    /// Every setting the provider reads (`OKTA_ORG_URL`, …); the prefix before the first `_`
    /// is the provider's environment prefix.
    pub settings: &'static [&'static str],
    /// The setting `--base-url` fills in.
    pub base_url_var: &'static str,
    /// The provider's kinds.
    pub kinds: fn() -> &'static [KindRef],
    /// The provider's severity rules for diffs.
    pub severity_rules: fn() -> Vec<SeverityRule>,
    /// Builds the provider from its settings; `state_dir` is where it keeps state between runs
    /// when its settings name no other place.
    pub build: BuildFn,
}

/// Builds a provider from its settings and an optional state directory.
pub type BuildFn = fn(&Vars, Option<&Path>) -> Result<Box<dyn Provider>>;

impl ProviderEntry {
    /// The environment prefix (`"OKTA_"`).
    pub fn prefix(&self) -> String {
        format!("{}_", self.name.to_ascii_uppercase())
    }
}

/// A provider's settings by variable name (`OKTA_ORG_URL` → value).
pub type Vars = BTreeMap<String, String>;

/// The providers this binary can build, one row each.
pub static PROVIDERS: &[ProviderEntry] = &[
    ProviderEntry {
        name: "okta",
        settings: butterfly_okta::config::SETTINGS,
        base_url_var: butterfly_okta::config::BASE_URL_VAR,
        kinds: butterfly_okta::kinds::all,
        severity_rules: butterfly_okta::severity_rules,
        build: |vars, _| {
            let config = butterfly_okta::OktaConfig::from_vars(|k| vars.get(k).cloned())?;
            Ok(Box::new(butterfly_okta::OktaProvider::new(config)?))
        },
    },
    ProviderEntry {
        name: "entra",
        settings: butterfly_entra::config::SETTINGS,
        base_url_var: butterfly_entra::config::BASE_URL_VAR,
        kinds: butterfly_entra::kinds::all,
        severity_rules: butterfly_entra::severity_rules,
        build: |vars, state_dir| {
            let mut config = butterfly_entra::EntraConfig::from_vars(|k| vars.get(k).cloned())?;
            if config.delta_state_file.is_none()
                && let Some(dir) = state_dir
            {
                let tenant: String = config
                    .tenant_id
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                config.delta_state_file = Some(dir.join(format!("entra-{tenant}.delta.json")));
            }
            Ok(Box::new(butterfly_entra::EntraProvider::new(config)?))
        },
    },
    ProviderEntry {
        name: "auth0",
        settings: butterfly_auth0::config::SETTINGS,
        base_url_var: butterfly_auth0::config::BASE_URL_VAR,
        kinds: butterfly_auth0::kinds::all,
        severity_rules: butterfly_auth0::severity_rules,
        build: |vars, _| {
            let config = butterfly_auth0::Auth0Config::from_vars(|k| vars.get(k).cloned())?;
            Ok(Box::new(butterfly_auth0::Auth0Provider::new(config)?))
        },
    },
];

/// The row of a provider, or a `Config` error listing the known ones.
pub fn entry(provider: &str) -> Result<&'static ProviderEntry> {
    PROVIDERS
        .iter()
        .find(|p| p.name == provider)
        .ok_or_else(|| {
            Error::config(format!(
                "unknown provider {provider:?}; this binary knows: {}",
                names().join(", ")
            ))
        })
}

/// The names of the known providers.
pub fn names() -> Vec<&'static str> {
    PROVIDERS.iter().map(|p| p.name).collect()
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
            let prefix = entry.prefix();
            for key in table.keys() {
                let var = format!("{prefix}{}", key.to_ascii_uppercase());
                if !entry.settings.contains(&var.as_str()) {
                    let known: Vec<String> = entry
                        .settings
                        .iter()
                        .filter_map(|s| s.strip_prefix(prefix.as_str()))
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

    /// The settings of one provider as `KEY=value` pairs with the provider's env prefix.
    pub fn env_pairs(&self, provider: &str) -> Vars {
        let prefix = format!("{}_", provider.to_ascii_uppercase());
        let mut out = BTreeMap::new();
        for (k, v) in self.tables.get(provider).into_iter().flatten() {
            let value = match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.insert(format!("{prefix}{}", k.to_ascii_uppercase()), value);
        }
        out
    }
}

/// The kinds of a provider, for reading stored snapshots without credentials.
pub fn kinds(provider: &str) -> Result<&'static [KindRef]> {
    Ok((entry(provider)?.kinds)())
}

/// The provider's severity rules for diffs (none for an unknown provider).
pub fn severity_rules(provider: &str) -> Vec<SeverityRule> {
    entry(provider)
        .map(|e| (e.severity_rules)())
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
    let mut vars = match sources {
        Sources::FileThenEnv(file) => {
            let mut vars = file.map(|f| f.env_pairs(provider)).unwrap_or_default();
            let prefix = entry.prefix();
            vars.extend(std::env::vars().filter(|(k, _)| k.starts_with(&prefix)));
            vars
        }
        Sources::FileOnly(file) => file.env_pairs(provider),
    };
    if let Some(url) = base_url {
        vars.insert(entry.base_url_var.to_string(), url.to_string());
    }
    (entry.build)(&vars, state_dir)
}

/// The provider's variables set in the process environment (names only), for telling a user
/// which settings a `--target` file overrides.
pub fn env_names(provider: &str) -> Vec<String> {
    let Ok(entry) = entry(provider) else {
        return Vec::new();
    };
    let prefix = entry.prefix();
    let mut names: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with(&prefix))
        .collect();
    names.sort();
    names
}
