//! The Okta provider's [`ProviderDescriptor`], for hosts that iterate a registry.

use butterfly_core::registry::{ProviderDescriptor, Setting};

use crate::{OktaConfig, OktaProvider, config};

/// The Okta provider: settings, kinds, severity rules and how to build it.
pub static DESCRIPTOR: ProviderDescriptor = ProviderDescriptor {
    name: "okta",
    title: "Okta",
    env_prefix: "OKTA_",
    settings: &[
        Setting::required("OKTA_ORG_URL", "https://<org>.okta.com"),
        Setting::required(
            "OKTA_BASE_URL",
            "optional: another API root (a proxy, a fake tenant); without OKTA_ORG_URL it is the org URL too",
        ),
        Setting::secret(
            "OKTA_API_TOKEN",
            "SSWS API token, instead of the OAuth settings",
        ),
        Setting::required(
            "OKTA_CLIENT_ID",
            "OAuth 2.0 service app client id (private_key_jwt)",
        ),
        Setting::secret(
            "OKTA_PRIVATE_KEY",
            "the service app's PEM private key itself",
        ),
        Setting::required(
            "OKTA_PRIVATE_KEY_FILE",
            "PEM private key file of the service app",
        ),
        Setting::required(
            "OKTA_PRIVATE_KEY_ID",
            "key id (kid) registered for the service app",
        ),
        Setting::required(
            "OKTA_SCOPES",
            "optional: scopes to request (default: the read scopes of every kind)",
        ),
        Setting::required(
            "OKTA_RATE_SCALE",
            "optional: for a fake org whose clock runs that many times faster",
        ),
    ],
    base_url_setting: config::BASE_URL_VAR,
    kinds: crate::kinds::all,
    severity_rules: crate::severity_rules,
    build: |settings, _| {
        let config = OktaConfig::from_vars(|k| settings.get(k))?;
        Ok(Box::new(OktaProvider::new(config)?))
    },
};
