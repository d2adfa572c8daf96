//! The providers this binary knows: their kinds (to read stored snapshots) and how to build
//! a live provider from a TOML file, environment variables and flags.

use std::collections::BTreeMap;
use std::path::Path;

use butterfly_core::diff::SeverityRule;
use butterfly_core::{Error, KindRef, Provider, Result};
use serde::Deserialize;

/// Provider names this binary can build.
pub const PROVIDERS: &[&str] = &["okta", "entra", "auth0"];

/// The `--config` file: one table per provider.
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
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Okta settings (same names as the `OKTA_*` variables, lower case, without the prefix).
    #[serde(default)]
    pub okta: Option<toml::Table>,
    /// Entra settings (the `ENTRA_*` variables, lower case, without the prefix).
    #[serde(default)]
    pub entra: Option<toml::Table>,
    /// Auth0 settings (the `AUTH0_*` variables, lower case, without the prefix).
    #[serde(default)]
    pub auth0: Option<toml::Table>,
}

impl ConfigFile {
    /// Reads and parses a config file; a bad file is a `Config` error naming it.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("cannot read config file {}: {e}", path.display()))
        })?;
        toml::from_str(&text).map_err(|e| {
            Error::config(format!(
                "config file {} is not valid: {}",
                path.display(),
                e.message()
            ))
        })
    }

    /// The settings of one provider as `KEY=value` pairs with the provider's env prefix.
    pub fn env_pairs(&self, provider: &str) -> BTreeMap<String, String> {
        let table = match provider {
            "okta" => self.okta.as_ref(),
            "entra" => self.entra.as_ref(),
            "auth0" => self.auth0.as_ref(),
            _ => None,
        };
        let mut out = BTreeMap::new();
        for (k, v) in table.into_iter().flatten() {
            let value = match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.insert(
                format!(
                    "{}_{}",
                    provider.to_ascii_uppercase(),
                    k.to_ascii_uppercase()
                ),
                value,
            );
        }
        out
    }
}

/// The kinds of a provider, for reading stored snapshots without credentials.
pub fn kinds(provider: &str) -> Result<&'static [KindRef]> {
    match provider {
        "okta" => Ok(butterfly_okta::kinds::all()),
        "entra" => Ok(butterfly_entra::kinds::all()),
        "auth0" => Ok(butterfly_auth0::kinds::all()),
        other => Err(unknown(other)),
    }
}

/// The provider's severity rules for diffs.
pub fn severity_rules(provider: &str) -> Vec<SeverityRule> {
    match provider {
        "okta" => butterfly_okta::severity_rules(),
        "entra" => butterfly_entra::severity_rules(),
        "auth0" => butterfly_auth0::severity_rules(),
        _ => Vec::new(),
    }
}

fn unknown(provider: &str) -> Error {
    Error::config(format!(
        "unknown provider {provider:?}; this binary knows: {}",
        PROVIDERS.join(", ")
    ))
}

/// Builds a live provider. Settings come from `file` (if any), overridden by the process
/// environment; `base_url` overrides the API root (plain http only for loopback).
/// `state_dir` is where a provider keeps state between runs when its settings name no other
/// place (Entra's `/delta` cursors, for incremental backups).
pub fn build(
    provider: &str,
    file: Option<&ConfigFile>,
    base_url: Option<&str>,
    state_dir: Option<&Path>,
) -> Result<Box<dyn Provider>> {
    let mut vars = file.map(|f| f.env_pairs(provider)).unwrap_or_default();
    let prefix = format!("{}_", provider.to_ascii_uppercase());
    for (k, v) in std::env::vars() {
        if k.starts_with(&prefix) {
            vars.insert(k, v);
        }
    }
    match provider {
        "okta" => {
            let mut config = butterfly_okta::OktaConfig::from_vars(|name| vars.get(name).cloned())?;
            if let Some(url) = base_url {
                config.base_url = Some(url.to_string());
            }
            Ok(Box::new(butterfly_okta::OktaProvider::new(config)?))
        }
        "entra" => {
            let get = |name: &str| vars.get(name).cloned();
            let mut config = butterfly_entra::EntraConfig::from_vars(get)?;
            if let Some(url) = base_url {
                // The Graph root; the token authority stays ENTRA_AUTHORITY_URL's (or the
                // cloud's) unless that is unset and the root is a loopback fake.
                config.graph_url = Some(url.to_string());
            }
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
        }
        "auth0" => {
            let get = |name: &str| vars.get(name).cloned();
            let mut config = butterfly_auth0::Auth0Config::from_vars(get)?;
            if let Some(url) = base_url {
                config.base_url = Some(url.to_string());
            }
            Ok(Box::new(butterfly_auth0::Auth0Provider::new(config)?))
        }
        other => Err(unknown(other)),
    }
}
