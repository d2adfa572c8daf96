//! The Entra ID provider's [`ProviderDescriptor`], for hosts that iterate a registry.

use butterfly_core::registry::{ProviderDescriptor, Setting};

use crate::{EntraConfig, EntraProvider, config};

/// The Entra ID provider: settings, kinds, severity rules and how to build it. Without
/// `ENTRA_DELTA_STATE_FILE`, a host's state directory keeps the `/delta` cursors (one file per
/// tenant), so backups after the first are incremental.
pub static DESCRIPTOR: ProviderDescriptor = ProviderDescriptor {
    name: "entra",
    title: "Microsoft Entra ID",
    env_prefix: "ENTRA_",
    settings: &[
        Setting::required("ENTRA_TENANT_ID", "directory (tenant) id"),
        Setting::required(
            "ENTRA_CLIENT_ID",
            "application (client) id of the backup app registration",
        ),
        Setting::secret("ENTRA_CLIENT_SECRET", "client secret, or instead:"),
        Setting::required(
            "ENTRA_CERTIFICATE_FILE",
            "PEM private key of the app's certificate (client assertion), with",
        ),
        Setting::required(
            "ENTRA_CERTIFICATE_THUMBPRINT",
            "the certificate's SHA-1 thumbprint",
        ),
        Setting::secret(
            "ENTRA_CERTIFICATE",
            "the certificate's PEM private key itself",
        ),
        Setting::required(
            "ENTRA_CLOUD",
            "optional: global (default), usgov, usgov-dod, china",
        ),
        Setting::required("ENTRA_GRAPH_URL", "optional: Graph root override"),
        Setting::required("ENTRA_AUTHORITY_URL", "optional: token authority override"),
        Setting::required(
            "ENTRA_DELTA_STATE_FILE",
            "optional: where /delta cursors are kept between runs",
        ),
        Setting::required(
            "ENTRA_RATE_SCALE",
            "optional: for a fake tenant whose clock runs that many times faster",
        ),
    ],
    base_url_setting: config::BASE_URL_VAR,
    kinds: crate::kinds::all,
    severity_rules: crate::severity_rules,
    build: |settings, options| {
        let mut config = EntraConfig::from_vars(|k| settings.get(k))?;
        if config.delta_state_file.is_none()
            && let Some(dir) = &options.state_dir
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
        Ok(Box::new(EntraProvider::new(config)?))
    },
};
