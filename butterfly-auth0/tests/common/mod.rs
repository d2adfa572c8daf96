//! Providers pointed at a fake tenant, shared by the Auth0 integration tests.

use butterfly_auth0::{Auth0Auth, Auth0Config, Auth0Provider, TokenBucket};
use butterfly_testkit::auth0::FakeAuth0;
use secrecy::SecretString;

/// A config for the fake with `auth`: the fake has no limits here, so the token bucket is
/// Enterprise's with time running 1,000 times faster.
pub fn config(fake: &FakeAuth0, auth: Auth0Auth) -> Auth0Config {
    Auth0Config {
        domain: butterfly_testkit::auth0::DOMAIN.to_string(),
        auth,
        audience: None,
        base_url: Some(fake.base_url()),
        rate_limit: Some(TokenBucket::ENTERPRISE.scaled(1000.0)),
        max_share: Some(1.0),
        export_threshold: None,
        export_timeout: None,
    }
}

/// Client secret credentials of the fake's application.
pub fn secret_auth(fake: &FakeAuth0) -> Auth0Auth {
    Auth0Auth::ClientSecret {
        client_id: fake.client_id().to_string(),
        client_secret: SecretString::from(fake.client_secret().to_string()),
    }
}

/// A provider using the fake's client secret.
pub fn provider(fake: &FakeAuth0) -> Auth0Provider {
    Auth0Provider::new(config(fake, secret_auth(fake))).unwrap()
}

/// A provider using `private_key_jwt`.
#[allow(dead_code)] // not every test binary uses both
pub fn jwt(fake: &FakeAuth0) -> Auth0Provider {
    Auth0Provider::new(config(
        fake,
        Auth0Auth::PrivateKeyJwt {
            client_id: fake.client_id().to_string(),
            private_key: SecretString::from(fake.private_key_pem().to_string()),
            key_id: None,
        },
    ))
    .unwrap()
}
