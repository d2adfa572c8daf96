//! Providers pointed at a fake org, shared by the Okta integration tests.

use std::time::Duration;

use butterfly_okta::{OktaAuth, OktaConfig, OktaProvider};
use butterfly_testkit::okta::FakeOkta;
use secrecy::SecretString;

fn with_auth(fake: &FakeOkta, auth: OktaAuth) -> OktaProvider {
    OktaProvider::new(OktaConfig {
        org_url: fake.base_url(),
        base_url: None,
        auth,
        max_share: Some(1.0),
        bucket_limits: None,
        // The fake has no limits here: scale Okta's per-minute budgets to 100 ms windows.
        bucket_period: Some(Duration::from_millis(100)),
    })
    .unwrap()
}

/// A provider using the fake's SSWS token.
pub fn ssws(fake: &FakeOkta) -> OktaProvider {
    with_auth(
        fake,
        OktaAuth::ApiToken {
            token: SecretString::from(fake.api_token().to_string()),
        },
    )
}

/// A provider using OAuth 2.0 `private_key_jwt` with the fake's service app.
#[allow(dead_code)] // not every test binary uses both
pub fn jwt(fake: &FakeOkta) -> OktaProvider {
    with_auth(
        fake,
        OktaAuth::PrivateKeyJwt {
            client_id: fake.oauth_client_id().to_string(),
            private_key: SecretString::from(fake.private_key_pem().to_string()),
            key_id: Some(fake.key_id().to_string()),
            scopes: None,
        },
    )
}
