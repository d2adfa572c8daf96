//! The fake PingOne environment in the registry: its settings and incident.

use async_trait::async_trait;
use butterfly_core::Result;

use super::{Alternatives, FakeDescriptor, FakeSpec, Incident, ProviderFake, Served, pair};
use crate::fake::{Fault, FaultRule};
use crate::ping::{FakePing, PingEnvSpec, PingOptions, ping_rate_limits};

/// The fake PingOne environment.
pub static PING: FakeDescriptor = FakeDescriptor {
    name: "ping",
    title: "PingOne",
    about: "A fake PingOne environment (Platform API, MFA, Protect and Authorize): populations, users, groups, applications with sign-on policies and grants, resources, policies, branding, gateways, with secrets planted as sentinels.",
    options: &[],
    start: super::start::<FakePing>,
};

/// A fake PingOne environment being served.
pub type RunningPing = Served<FakePing>;

#[async_trait]
impl ProviderFake for FakePing {
    const RECURRING: &'static [(&'static str, Fault)] = &[
        ("/v1/environments/{}/users", Fault::Status(503)),
        ("/v1/environments/{}/applications", Fault::RateLimited),
        ("/v1/environments/{}/groups", Fault::Truncate),
    ];
    const UNLIMITED: &'static str = "rate limits: none";

    fn storm() -> Vec<FaultRule> {
        vec![
            FaultRule::get("/v1/environments/{}/users", Fault::Status(503), 2, 2),
            FaultRule::get("/v1/environments/{}/applications", Fault::RateLimited, 2, 2),
            FaultRule::get(
                "/v1/environments/{}/groups",
                Fault::RateLimitedNoHeaders,
                3,
                2,
            ),
            FaultRule::get("/v1/environments/{}/signOnPolicies", Fault::Reset, 2, 2),
            FaultRule::get("/v1/environments/{}/resources", Fault::Truncate, 2, 1),
            FaultRule::get("/v1/environments/{}/populations", Fault::Status(500), 2, 1),
        ]
    }

    async fn serve(spec: &FakeSpec, faults: Vec<FaultRule>) -> std::io::Result<FakePing> {
        let env = PingEnvSpec {
            users: spec.users,
            seed: spec.seed,
        };
        let options = PingOptions {
            rate_limits: spec.rate_scale.map(ping_rate_limits),
            faults,
            withheld: spec.withheld.clone(),
            port: spec.port,
            ..PingOptions::default()
        };
        FakePing::start(env, options).await
    }

    fn describe(&self, spec: &FakeSpec) -> String {
        format!(
            "fake PingOne environment {} with {} users at {}",
            self.environment_id(),
            spec.users,
            self.base_url()
        )
    }

    fn credentials(&self) -> Vec<(String, String)> {
        vec![
            pair("PINGONE_API_URL", self.api_url()),
            pair("PINGONE_AUTH_URL", self.base_url()),
            pair("PINGONE_ENVIRONMENT_ID", self.environment_id()),
            pair("PINGONE_CLIENT_ID", self.client_id()),
            pair("PINGONE_CLIENT_SECRET", self.client_secret()),
        ]
    }

    fn pacing(&self, _spec: &FakeSpec, scale: f64) -> (Vec<(String, String)>, String) {
        (
            vec![pair("PINGONE_RATE_SCALE", scale)],
            format!(
                "rate limits: PingOne's (configuration 600 a minute, directory 100 a second), time running {scale}x faster (the client paces itself by PINGONE_RATE_SCALE)"
            ),
        )
    }

    fn alternatives(&self) -> Alternatives {
        Alternatives {
            comment: String::new(),
            settings: Vec::new(),
        }
    }

    /// A non-default sign-on policy is deleted with its application assignments, and a group
    /// with members.
    async fn perform_incident(&self) -> Result<Incident> {
        self.incident().await
    }
}
