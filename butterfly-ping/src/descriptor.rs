//! The PingOne provider's [`ProviderDescriptor`], for hosts that iterate a registry.

use butterfly_core::registry::{ProviderDescriptor, Setting};

use crate::{PingConfig, PingProvider, config};

/// The PingOne provider: settings, kinds, severity rules and how to build it.
pub static DESCRIPTOR: ProviderDescriptor = ProviderDescriptor {
    name: "ping",
    title: "PingOne",
    env_prefix: "PINGONE_",
    settings: &[
        Setting::required("PINGONE_ENVIRONMENT_ID", "the environment's id (a UUID)"),
        Setting::required(
            "PINGONE_CLIENT_ID",
            "worker application's client id (give it the Identity Data Admin, Client Application Developer and Environment Admin roles, read-only where possible)",
        ),
        Setting::secret("PINGONE_CLIENT_SECRET", "its client secret"),
        Setting::required(
            "PINGONE_REGION",
            "optional: com (default), eu, asia, ca or com.au",
        ),
        Setting::required(
            "PINGONE_API_URL",
            "optional: another API root instead of https://api.pingone.<region>/v1 (a proxy, a fake environment)",
        ),
        Setting::required(
            "PINGONE_AUTH_URL",
            "optional: another auth root instead of https://auth.pingone.<region> (default with PINGONE_API_URL: its origin)",
        ),
        Setting::required(
            "PINGONE_RATE_SCALE",
            "optional: for a fake environment whose clock runs that many times faster",
        ),
    ],
    base_url_setting: config::BASE_URL_VAR,
    kinds: crate::kinds::all,
    severity_rules: crate::severity_rules,
    build: |settings, _| {
        let config = PingConfig::from_vars(|k| settings.get(k))?;
        Ok(Box::new(PingProvider::new(config)?))
    },
};
