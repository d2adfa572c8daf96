//! Fake tenants backed up into snapshots (once per test binary), exported, and the helpers
//! the checks share.
#![allow(dead_code)] // not every test binary uses every helper

use std::collections::BTreeMap;
use std::sync::OnceLock;

use butterfly_core::registry::{BuildOptions, ProviderDescriptor, Settings};
use butterfly_core::{Snapshot, backup};
use butterfly_terraform::ProviderMapping;
use butterfly_testkit::tenants::{self, FakeSpec};
use serde_json::Value;

/// A provider's snapshot of its fake tenant, the secrets the fake planted, and its table.
pub struct Case {
    pub snapshot: Snapshot,
    pub sentinels: Vec<String>,
    pub mapping: &'static ProviderMapping,
}

async fn snapshot_of(provider: &ProviderDescriptor) -> (Snapshot, Vec<String>) {
    let fake = tenants::get(provider.name)
        .unwrap()
        .start(FakeSpec::new(12, 7))
        .await
        .unwrap();
    let settings = Settings::from_pairs(fake.settings());
    let built = provider.build(&settings, &BuildOptions::default()).unwrap();
    let snapshot = backup::run(built.as_ref(), &backup::BackupOptions::default())
        .await
        .unwrap();
    (snapshot, fake.sentinels())
}

/// Okta, Auth0, Entra and PingOne: backed up once for the whole binary.
pub fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let mut out = Vec::new();
            for (provider, mapping) in [
                (
                    &butterfly_okta::DESCRIPTOR,
                    &butterfly_okta::terraform::MAPPING,
                ),
                (
                    &butterfly_auth0::DESCRIPTOR,
                    &butterfly_auth0::terraform::MAPPING,
                ),
                (
                    &butterfly_entra::DESCRIPTOR,
                    &butterfly_entra::terraform::MAPPING,
                ),
                (
                    &butterfly_ping::DESCRIPTOR,
                    &butterfly_ping::terraform::MAPPING,
                ),
            ] {
                let (snapshot, sentinels) = snapshot_of(provider).await;
                out.push(Case {
                    snapshot,
                    sentinels,
                    mapping,
                });
            }
            out
        })
    })
}

pub fn case(provider: &str) -> &'static Case {
    cases()
        .iter()
        .find(|c| c.mapping.provider == provider)
        .unwrap()
}

/// One attribute of a resource type in the schema fixture.
#[derive(Debug, Clone)]
pub struct SchemaAttr {
    pub path: String,
    pub block: Option<bool>,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
}

/// Resource type → attributes, from the fixture `terraform-schemas/<dir>/schema-from-docs.json`
/// (`butterfly_testkit::fixtures`: `../shared/fixtures` beside the repository).
pub fn schema(dir: &str) -> BTreeMap<String, Vec<SchemaAttr>> {
    let path = butterfly_testkit::fixtures::path(&format!(
        "terraform-schemas/{dir}/schema-from-docs.json"
    ));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the schemas are in ../shared/fixtures beside the repository, or under BUTTERFLY_FIXTURES)",
            path.display()
        )
    });
    let json: Value = serde_json::from_str(&text).unwrap();
    let mut out = BTreeMap::new();
    for (name, resource) in json["resources"].as_object().unwrap() {
        let attrs = resource["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| SchemaAttr {
                path: a["path"].as_str().unwrap().to_string(),
                block: a["type"].as_str().map(|t| t.starts_with("Block")),
                required: a["required"].as_bool().unwrap_or(false),
                optional: a["optional"].as_bool().unwrap_or(false),
                computed: a["computed"].as_bool().unwrap_or(false),
                sensitive: a["sensitive"].as_bool().unwrap_or(false),
            })
            .collect();
        out.insert(name.clone(), attrs);
    }
    out
}

/// Every `resource` block of an HCL file: (type, name, body).
pub fn resources(text: &str) -> Vec<(String, String, hcl::Body)> {
    let body =
        hcl::parse(text).unwrap_or_else(|e| panic!("exported HCL does not parse: {e}\n{text}"));
    body.blocks()
        .filter(|b| b.identifier() == "resource")
        .map(|b| {
            (
                b.labels()[0].as_str().to_string(),
                b.labels()[1].as_str().to_string(),
                b.body().clone(),
            )
        })
        .collect()
}

/// For an azuread resource type, the arguments its doc marks `(Required)` in the top-level
/// list (before the first `---` of the Argument Reference); `None` for other providers.
pub fn azuread_top_required(resource_type: &str) -> Option<std::collections::BTreeSet<String>> {
    let name = resource_type.strip_prefix("azuread_")?;
    let path = butterfly_testkit::fixtures::path(&format!(
        "terraform-schemas/azuread/docs/resources/{name}.md"
    ));
    let text = std::fs::read_to_string(path).ok()?;
    let section = text.split("## Argument Reference").nth(1)?;
    let top = section.split("\n---").next()?;
    Some(
        top.lines()
            .filter(|l| l.starts_with("* `") && l.contains("(Required)"))
            .filter_map(|l| l.split('`').nth(1).map(str::to_string))
            .collect(),
    )
}
