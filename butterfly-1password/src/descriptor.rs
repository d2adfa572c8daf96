//! The 1Password Connect provider's [`ProviderDescriptor`], for hosts that iterate a registry.

use butterfly_core::registry::{ProviderDescriptor, Setting};

use crate::{OnePasswordConfig, OnePasswordProvider, config};

/// The 1Password Connect provider: settings, kinds, severity rules and how to build it.
pub static DESCRIPTOR: ProviderDescriptor = ProviderDescriptor {
    name: "onepassword",
    title: "1Password Connect",
    env_prefix: "OP_CONNECT_",
    settings: &[
        Setting::required(
            "OP_CONNECT_HOST",
            "your 1Password Connect server's URL (https://connect.example.com)",
        ),
        Setting::secret(
            "OP_CONNECT_TOKEN",
            "a Connect server access token with read access to the vaults to back up",
        ),
        Setting::required(
            "OP_CONNECT_ALLOW_HTTP",
            "optional: true to reach a Connect server on a private network over plain http (default: https, or http to this machine only)",
        ),
        Setting::required(
            "OP_CONNECT_KEEP_VALUES",
            "optional: true to keep the values of fields that are not secrets (notes, usernames, URLs); secret values are never stored",
        ),
        Setting::required(
            "OP_CONNECT_RATE_SCALE",
            "optional: for a fake Connect server whose clock runs that many times faster",
        ),
    ],
    base_url_setting: config::HOST_VAR,
    kinds: crate::kinds::all,
    severity_rules: crate::severity_rules,
    build: |settings, _| {
        let config = OnePasswordConfig::from_vars(|k| settings.get(k))?;
        Ok(Box::new(OnePasswordProvider::new(config)?))
    },
};
