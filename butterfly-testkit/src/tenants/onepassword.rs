//! The fake 1Password Connect server in the registry: its settings and incident.

use async_trait::async_trait;
use butterfly_core::Result;

use super::{Alternatives, FakeDescriptor, FakeSpec, Incident, ProviderFake, Served, pair};
use crate::fake::{Fault, FaultRule};
use crate::onepassword::{
    FakeOnePassword, OnePasswordOptions, OnePasswordOrgSpec, onepassword_rate_limits,
};

/// The fake 1Password Connect server (`--users` sets the number of items).
pub static ONEPASSWORD: FakeDescriptor = FakeDescriptor {
    name: "onepassword",
    title: "1Password Connect",
    about: "A fake 1Password Connect server (Connect API 1.7.1 with the PR #88 corrections): vaults and items of every common category with their fields and attached files (one item per user asked for), with every secret value planted as a sentinel.",
    options: &[],
    start: super::start::<FakeOnePassword>,
};

/// A fake 1Password Connect server being served.
pub type RunningOnePassword = Served<FakeOnePassword>;

#[async_trait]
impl ProviderFake for FakeOnePassword {
    const RECURRING: &'static [(&'static str, Fault)] = &[
        ("/v1/vaults", Fault::Status(503)),
        ("/v1/vaults/{}/items", Fault::RateLimited),
        ("/v1/vaults/{}/items/{}", Fault::Truncate),
    ];
    const UNLIMITED: &'static str = "rate limits: none";

    fn storm() -> Vec<FaultRule> {
        vec![
            FaultRule::get("/v1/vaults/{}/items/{}/files", Fault::Reset, 2, 2),
            FaultRule::get("/v1/vaults/{}/items/{}", Fault::Truncate, 5, 2),
            FaultRule::get("/v1/vaults/{}/items", Fault::RateLimited, 2, 2),
            FaultRule::get("/v1/vaults/{}", Fault::RateLimitedNoHeaders, 7, 2),
            FaultRule::get("/v1/vaults", Fault::Status(503), 3, 2),
        ]
    }

    async fn serve(spec: &FakeSpec, faults: Vec<FaultRule>) -> std::io::Result<FakeOnePassword> {
        let org = OnePasswordOrgSpec {
            items: spec.users,
            seed: spec.seed,
        };
        let options = OnePasswordOptions {
            rate_limits: spec.rate_scale.map(onepassword_rate_limits),
            faults,
            out_of_scope: spec.withheld.clone(),
            port: spec.port,
        };
        FakeOnePassword::start(org, options).await
    }

    fn describe(&self, spec: &FakeSpec) -> String {
        format!(
            "fake 1Password Connect server with {} vaults and {} items at {}",
            self.vaults().len(),
            spec.users,
            self.host()
        )
    }

    fn credentials(&self) -> Vec<(String, String)> {
        vec![
            pair("OP_CONNECT_HOST", self.host()),
            pair("OP_CONNECT_TOKEN", self.token()),
        ]
    }

    fn pacing(&self, _spec: &FakeSpec, scale: f64) -> (Vec<(String, String)>, String) {
        (
            vec![pair("OP_CONNECT_RATE_SCALE", scale)],
            format!(
                "rate limits: 6,000 requests a minute (assumed: Connect documents none), time running {scale}x faster (the client paces itself by OP_CONNECT_RATE_SCALE)"
            ),
        )
    }

    fn alternatives(&self) -> Alternatives {
        Alternatives {
            comment: String::new(),
            settings: Vec::new(),
        }
    }

    /// An item with an attached file is deleted from its vault.
    async fn perform_incident(&self) -> Result<Incident> {
        self.incident().await
    }
}
