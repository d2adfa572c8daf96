//! Providers pointed at a fake tenant, shared by the Entra integration tests.

use std::time::Duration;

use butterfly_entra::{EntraAuth, EntraConfig, EntraProvider};
use butterfly_testkit::entra::FakeEntra;
use secrecy::SecretString;

/// The configuration of a provider for the fake with `auth`.
#[allow(dead_code)] // not every test binary uses every helper
pub fn config(fake: &FakeEntra, auth: EntraAuth) -> EntraConfig {
    EntraConfig {
        tenant_id: fake.tenant_id().to_string(),
        client_id: fake.client_id().to_string(),
        auth,
        cloud: Default::default(),
        graph_url: Some(fake.base_url()),
        authority_url: Some(fake.base_url()),
        max_share: Some(1.0),
        budget: None,
        // The fake has no limits unless a test sets them: 100 ms windows keep tests quick.
        budget_period: Some(Duration::from_millis(100)),
        delta_state_file: None,
    }
}

/// A provider using the fake's client secret.
#[allow(dead_code)]
pub fn secret(fake: &FakeEntra) -> EntraProvider {
    EntraProvider::new(config(
        fake,
        EntraAuth::ClientSecret {
            secret: SecretString::from(fake.client_secret().to_string()),
        },
    ))
    .unwrap()
}

/// A provider using the fake's certificate (client assertion with `x5t`).
#[allow(dead_code)]
pub fn certificate(fake: &FakeEntra) -> EntraProvider {
    EntraProvider::new(config(
        fake,
        EntraAuth::Certificate {
            private_key: SecretString::from(fake.certificate_private_key_pem().to_string()),
            thumbprint: fake.certificate_thumbprint().to_string(),
        },
    ))
    .unwrap()
}
