//! The Auth0 provider's [`ProviderDescriptor`], for hosts that iterate a registry.

use butterfly_core::registry::{ProviderDescriptor, Setting};

use crate::{Auth0Config, Auth0Provider, config};

/// The Auth0 provider: settings, kinds, severity rules and how to build it.
pub static DESCRIPTOR: ProviderDescriptor = ProviderDescriptor {
    name: "auth0",
    title: "Auth0",
    env_prefix: "AUTH0_",
    settings: &[
        Setting::required(
            "AUTH0_DOMAIN",
            "tenant or custom domain (acme.eu.auth0.com)",
        ),
        Setting::required(
            "AUTH0_BASE_URL",
            "optional: another API root (a proxy, a fake tenant); without AUTH0_DOMAIN it names the tenant too",
        ),
        Setting::required(
            "AUTH0_CLIENT_ID",
            "machine-to-machine application's client id",
        ),
        Setting::secret("AUTH0_CLIENT_SECRET", "its client secret, or instead:"),
        Setting::required(
            "AUTH0_PRIVATE_KEY_FILE",
            "PEM private key for private_key_jwt (+ optional AUTH0_PRIVATE_KEY_ID)",
        ),
        Setting::secret("AUTH0_PRIVATE_KEY", "the PEM private key itself"),
        Setting::required(
            "AUTH0_PRIVATE_KEY_ID",
            "optional: key id (kid) of the private key",
        ),
        Setting::required(
            "AUTH0_AUDIENCE",
            "optional: API audience (default https://<domain>/api/v2/)",
        ),
        Setting::required(
            "AUTH0_TIER",
            "optional: enterprise (default) or free, the tenant's rate limit",
        ),
        Setting::required(
            "AUTH0_RATE_SCALE",
            "optional: for a fake tenant whose clock runs that many times faster",
        ),
    ],
    base_url_setting: config::BASE_URL_VAR,
    kinds: crate::kinds::all,
    severity_rules: crate::severity_rules,
    build: |settings, _| {
        let config = Auth0Config::from_vars(|k| settings.get(k))?;
        Ok(Box::new(Auth0Provider::new(config)?))
    },
};
