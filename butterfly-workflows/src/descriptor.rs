//! The Workflows provider's [`ProviderDescriptor`], for hosts that iterate a registry.

use butterfly_core::registry::{ProviderDescriptor, Setting};

use crate::{WorkflowsConfig, WorkflowsProvider, config};

/// The Okta Workflows provider: settings, kinds, severity rules and how to build it.
pub static DESCRIPTOR: ProviderDescriptor = ProviderDescriptor {
    name: "workflows",
    title: "Okta Workflows",
    env_prefix: "WORKFLOWS_",
    settings: &[
        Setting::required(
            "WORKFLOWS_ORG_URL",
            "your Workflows org URL (https://acme.workflows.okta.com)",
        ),
        Setting::required(
            "WORKFLOWS_USERNAME",
            "a service account with the Workflow Administrator role that signs in with a password, no MFA",
        ),
        Setting::secret("WORKFLOWS_PASSWORD", "the service account's password"),
        Setting::required(
            "WORKFLOWS_RATE_SCALE",
            "optional: for a fake Workflows org whose clock runs that many times faster",
        ),
    ],
    base_url_setting: config::ORG_URL_VAR,
    kinds: crate::kinds::all,
    severity_rules: crate::severity_rules,
    build: |settings, _| {
        let config = WorkflowsConfig::from_vars(|k| settings.get(k))?;
        Ok(Box::new(WorkflowsProvider::new(config)?))
    },
};
