//! The fake Okta Workflows org in the registry: its settings, options and incident.

use async_trait::async_trait;
use butterfly_core::Result;

use super::{
    Alternatives, FakeDescriptor, FakeOption, FakeSpec, Incident, ProviderFake, Served, pair,
};
use crate::fake::{Fault, FaultRule};
use crate::workflows::{FakeWorkflows, WorkflowsOptions, WorkflowsOrgSpec, workflows_rate_limits};

const NO_ADMIN_ROLE: FakeOption = FakeOption::flag(
    "no-admin-role",
    "the service account lacks the Workflow Administrator role (every route answers 403)",
);
const NO_CONNECTOR_BUILDER: FakeOption = FakeOption::flag(
    "no-connector-builder",
    "the service account lacks the Connector Builder permission (connector projects answer 403)",
);
const WITHOUT_SAMPLES: FakeOption =
    FakeOption::flag("without-samples", "leave the 18 template folders out");

/// The fake Okta Workflows org (`--users` sets its size: one generated folder per 50 users, at
/// least 4).
pub static WORKFLOWS: FakeDescriptor = FakeDescriptor {
    name: "workflows",
    title: "Okta Workflows",
    about: "A fake Okta Workflows org serving the management API butterfly-workflows assumes (see its routes module): generated folders with flows and tables with rows, connections and Connector Builder projects with sentinel credentials, and Okta's 18 template flopacks as folders.",
    options: &[NO_ADMIN_ROLE, NO_CONNECTOR_BUILDER, WITHOUT_SAMPLES],
    start: super::start::<FakeWorkflows>,
};

/// A fake Workflows org being served.
pub type RunningWorkflows = Served<FakeWorkflows>;

#[async_trait]
impl ProviderFake for FakeWorkflows {
    const RECURRING: &'static [(&'static str, Fault)] = &[
        ("/app/api/groups", Fault::Status(503)),
        ("/app/api/groups/{}/export", Fault::RateLimited),
        ("/app/api/groups/{}/tables/{}/rows/export", Fault::Truncate),
    ];
    const UNLIMITED: &'static str = "rate limits: none";

    fn storm() -> Vec<FaultRule> {
        vec![
            FaultRule::get("/app/api/groups/{}/export", Fault::Truncate, 3, 2),
            FaultRule::get("/app/api/groups/{}/flos", Fault::Reset, 2, 2),
            FaultRule::get("/app/api/groups/{}/tables", Fault::RateLimited, 2, 2),
            FaultRule::get(
                "/app/api/groups/{}/tables/{}/rows/export",
                Fault::Truncate,
                2,
                2,
            ),
            FaultRule::get("/app/api/connectors/{}", Fault::RateLimitedNoHeaders, 2, 1),
            FaultRule::get("/app/api/groups", Fault::Status(503), 5, 2),
        ]
    }

    async fn serve(spec: &FakeSpec, faults: Vec<FaultRule>) -> std::io::Result<FakeWorkflows> {
        let org = WorkflowsOrgSpec {
            folders: (spec.users / 50).max(4),
            seed: spec.seed,
        };
        let withheld = |what: &str| spec.withheld.iter().any(|w| w.contains(what));
        let options = WorkflowsOptions {
            rate_limits: spec.rate_scale.map(workflows_rate_limits),
            faults,
            port: spec.port,
            without_samples: spec.flag(&WITHOUT_SAMPLES),
            no_admin_role: spec.flag(&NO_ADMIN_ROLE) || withheld("Workflow Administrator"),
            no_connector_builder: spec.flag(&NO_CONNECTOR_BUILDER) || withheld("Connector Builder"),
            corrupt_flopack: None,
            truncated_flopack: None,
        };
        FakeWorkflows::start(org, options).await
    }

    fn describe(&self, _spec: &FakeSpec) -> String {
        format!(
            "fake Okta Workflows org with {} folders and {} Connector Builder projects at {}",
            self.folders().len(),
            self.connector_projects().len(),
            self.org_url()
        )
    }

    fn credentials(&self) -> Vec<(String, String)> {
        vec![
            pair("WORKFLOWS_ORG_URL", self.org_url()),
            pair("WORKFLOWS_USERNAME", self.username()),
            pair("WORKFLOWS_PASSWORD", self.password()),
        ]
    }

    fn pacing(&self, _spec: &FakeSpec, scale: f64) -> (Vec<(String, String)>, String) {
        (
            vec![pair("WORKFLOWS_RATE_SCALE", scale)],
            format!(
                "rate limits: 600 requests a minute (assumed: Okta documents none for this API), time running {scale}x faster (the client paces itself by WORKFLOWS_RATE_SCALE)"
            ),
        )
    }

    fn alternatives(&self) -> Alternatives {
        Alternatives {
            comment: String::new(),
            settings: Vec::new(),
        }
    }

    /// A folder with a flow turned on and a table with rows is deleted.
    async fn perform_incident(&self) -> Result<Incident> {
        self.incident().await
    }
}
