//! The shared behaviour suite against the fake Workflows org: backup, determinism, faults,
//! the Connector Builder permission withheld, no sentinel in the store, a dry run that writes
//! nothing, the incident (a folder deleted) found by diff and restored.

use butterfly_core::Provider;
use butterfly_testkit::behaviour::{self, TableHarness};
use butterfly_testkit::workflows::FakeWorkflows;
use butterfly_workflows::{WorkflowsConfig, WorkflowsProvider, kinds};
use secrecy::SecretString;

fn provider(fake: &FakeWorkflows) -> Box<dyn Provider> {
    let mut config = WorkflowsConfig::new(
        fake.org_url(),
        fake.username(),
        SecretString::from(fake.password().to_string()),
    );
    // The fake has no limit: the client's own pacing (600 requests a minute) need not slow
    // the suite down.
    config.rate_scale = Some(100.0);
    Box::new(WorkflowsProvider::new(config).expect("provider builds"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_passes_the_behaviour_suite() {
    behaviour::run_all(&TableHarness::<FakeWorkflows> {
        table: kinds::TABLE,
        users: 250,
        withheld_kind: "workflows.connector_project",
        provider,
    })
    .await;
}
