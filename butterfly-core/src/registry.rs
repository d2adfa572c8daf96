//! Provider descriptors and the registry a host iterates.
//!
//! Each provider crate exports one [`ProviderDescriptor`]: its name, the settings it reads
//! (with their environment prefix), its kinds and severity rules, and how to build a live
//! [`Provider`] from [`Settings`]. A host (a CLI, a scheduler, an exporter) holds a
//! [`Registry`] of them and never matches on provider names: adding a provider to it is one
//! line.
//!
//! ```
//! use butterfly_core::registry::{ProviderDescriptor, Registry, Setting, Settings};
//!
//! static DEMO: ProviderDescriptor = ProviderDescriptor {
//!     name: "demo",
//!     title: "Demo IdP",
//!     env_prefix: "DEMO_",
//!     settings: &[Setting::required("DEMO_URL", "the API root"), Setting::secret("DEMO_TOKEN", "an API token")],
//!     base_url_setting: "DEMO_URL",
//!     kinds: || &[],
//!     severity_rules: Vec::new,
//!     build: |settings, _| Err(butterfly_core::Error::config(format!(
//!         "demo only: {}", settings.require("DEMO_URL")?
//!     ))),
//! };
//!
//! let registry = Registry::new([&DEMO]);
//! assert_eq!(registry.names(), ["demo"]);
//! let settings = Settings::from_pairs([("DEMO_URL", "https://idp.example.invalid")]);
//! assert!(registry.get("demo").unwrap().build(&settings, &Default::default()).is_err());
//! assert!(registry.get("nope").is_err());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::diff::SeverityRule;
use crate::error::{Error, Result};
use crate::kind::KindRef;
use crate::provider::Provider;

/// One setting a provider reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The variable name, with the provider's prefix (`OKTA_ORG_URL`).
    pub name: &'static str,
    /// What it holds, for help texts.
    pub help: &'static str,
    /// Whether it holds a credential (never printed).
    pub secret: bool,
}

impl Setting {
    /// A setting (required or optional: the provider's build says which).
    pub const fn required(name: &'static str, help: &'static str) -> Setting {
        Setting {
            name,
            help,
            secret: false,
        }
    }

    /// A setting that holds a credential.
    pub const fn secret(name: &'static str, help: &'static str) -> Setting {
        Setting {
            name,
            help,
            secret: true,
        }
    }
}

/// Settings by variable name (`OKTA_ORG_URL` → value), from the environment, a config file,
/// flags, or all of them layered. `Debug` shows names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Settings {
    values: BTreeMap<String, String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

impl Settings {
    /// No settings.
    pub fn new() -> Settings {
        Settings::default()
    }

    /// Settings from `(name, value)` pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Settings {
        Settings {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The process environment's variables that start with `prefix`.
    pub fn from_env(prefix: &str) -> Settings {
        Settings::from_pairs(std::env::vars().filter(|(k, _)| k.starts_with(prefix)))
    }

    /// A value; empty or blank values count as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        self.values
            .get(name)
            .filter(|v| !v.trim().is_empty())
            .cloned()
    }

    /// A value, or a `Config` error naming the setting.
    pub fn require(&self, name: &str) -> Result<String> {
        self.get(name)
            .ok_or_else(|| Error::config(format!("{name} is not set")))
    }

    /// Sets a value (replacing any).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values.insert(name.into(), value.into());
    }

    /// Adds `other`'s values over these.
    pub fn overlay(&mut self, other: Settings) {
        self.values.extend(other.values);
    }

    /// The names that are set.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

/// What a host passes when building a provider, beyond its settings.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct BuildOptions {
    /// Where a provider may keep state between runs when its settings name no other place
    /// (delta cursors of incremental backups).
    pub state_dir: Option<PathBuf>,
}

impl BuildOptions {
    /// Options with a state directory.
    pub fn with_state_dir(dir: impl Into<PathBuf>) -> BuildOptions {
        BuildOptions {
            state_dir: Some(dir.into()),
        }
    }
}

/// Builds a live provider from settings.
pub type BuildFn = fn(&Settings, &BuildOptions) -> Result<Box<dyn Provider>>;

/// Everything a host needs to know about a provider without a live connection.
pub struct ProviderDescriptor {
    /// Name in snapshots and on the command line (`"okta"`).
    pub name: &'static str,
    /// Human name (`"Okta"`).
    pub title: &'static str,
    /// The prefix every setting shares (`"OKTA_"`; PingOne's are `"PINGONE_"`).
    pub env_prefix: &'static str,
    /// Every setting the provider reads; all share the prefix [`env_prefix`](Self::env_prefix).
    pub settings: &'static [Setting],
    /// The setting a host's "base URL" override fills in (the API root).
    pub base_url_setting: &'static str,
    /// The provider's kinds, for reading stored snapshots without credentials.
    pub kinds: fn() -> &'static [KindRef],
    /// Its severity rules for diffs.
    pub severity_rules: fn() -> Vec<SeverityRule>,
    /// Builds a live provider.
    pub build: BuildFn,
}

impl fmt::Debug for ProviderDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderDescriptor")
            .field("name", &self.name)
            .field("settings", &self.settings.len())
            .finish_non_exhaustive()
    }
}

impl ProviderDescriptor {
    /// The environment prefix every setting shares (`"OKTA_"`).
    pub fn env_prefix(&self) -> String {
        self.env_prefix.to_string()
    }

    /// Whether the provider reads a setting of this name.
    pub fn knows(&self, name: &str) -> bool {
        self.settings.iter().any(|s| s.name == name)
    }

    /// Builds a live provider from `settings`.
    pub fn build(&self, settings: &Settings, options: &BuildOptions) -> Result<Box<dyn Provider>> {
        (self.build)(settings, options)
    }

    /// The provider's kinds.
    pub fn kinds(&self) -> &'static [KindRef] {
        (self.kinds)()
    }

    /// The provider's severity rules.
    pub fn severity_rules(&self) -> Vec<SeverityRule> {
        (self.severity_rules)()
    }
}

/// The providers a host knows, in the order it lists them.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    providers: Vec<&'static ProviderDescriptor>,
}

impl Registry {
    /// A registry of these descriptors.
    pub fn new(providers: impl IntoIterator<Item = &'static ProviderDescriptor>) -> Registry {
        Registry {
            providers: providers.into_iter().collect(),
        }
    }

    /// Every descriptor, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'static ProviderDescriptor> + '_ {
        self.providers.iter().copied()
    }

    /// The provider names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.providers.iter().map(|p| p.name).collect()
    }

    /// A provider by name, or a `Config` error listing the known ones.
    pub fn get(&self, name: &str) -> Result<&'static ProviderDescriptor> {
        self.providers
            .iter()
            .copied()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                Error::config(format!(
                    "unknown provider {name:?}; known providers: {}",
                    self.names().join(", ")
                ))
            })
    }
}

/// The [`Config`](crate::ErrorKind::Config) error of a required setting that is not set: names
/// the variable, what it holds, and its key in the provider's `[table]` of a config file.
///
/// ```
/// let err = butterfly_core::registry::missing_setting("ping", "PINGONE_CLIENT_ID", "client_id", "the worker app's client id");
/// assert_eq!(err.kind(), butterfly_core::ErrorKind::Config);
/// assert!(err.to_string().ends_with(
///     "PINGONE_CLIENT_ID is not set: the worker app's client id ([ping] client_id in a config file)"
/// ));
/// ```
pub fn missing_setting(table: &str, var: &str, key: &str, what: &str) -> Error {
    Error::config(format!(
        "{var} is not set: {what} ([{table}] {key} in a config file)"
    ))
}
