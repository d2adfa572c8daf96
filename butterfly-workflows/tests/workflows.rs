//! butterfly-workflows against the fake Workflows org: the flopack samples round trip, bad
//! flopacks, the access probe, the session, secrets, and restore as the product promises it.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::provider::Access;
use butterfly_core::restore::{self, ExecuteOptions, GuardLevel, StepAction};
use butterfly_core::store::{FsStore, StoreExt};
use butterfly_core::{ErrorKind, KindOutcome, Provider, Snapshot};
use butterfly_testkit::workflows::{FakeWorkflows, WorkflowsOptions, WorkflowsOrgSpec};
use butterfly_workflows::flopack::{self, Flopack};
use butterfly_workflows::restore::{Counts, Selection};
use butterfly_workflows::{WorkflowsConfig, WorkflowsProvider, kinds};
use secrecy::SecretString;
use serde_json::Value;

fn provider(fake: &FakeWorkflows) -> WorkflowsProvider {
    let mut config = WorkflowsConfig::new(
        fake.org_url(),
        fake.username(),
        SecretString::from(fake.password().to_string()),
    );
    config.rate_scale = Some(100.0);
    WorkflowsProvider::new(config).unwrap()
}

async fn fake(options: WorkflowsOptions) -> FakeWorkflows {
    FakeWorkflows::start(
        WorkflowsOrgSpec {
            folders: 6,
            seed: 3,
        },
        options,
    )
    .await
    .unwrap()
}

async fn backup_of(provider: &WorkflowsProvider) -> Snapshot {
    backup::run(provider, &BackupOptions::default())
        .await
        .unwrap()
}

fn samples() -> Vec<std::path::PathBuf> {
    butterfly_testkit::fixtures::files_under("okta-workflows/flopacks")
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "flopack"))
        .collect()
}

#[test]
fn every_sample_flopack_parses_into_typed_structs_without_losing_a_member() {
    let files = samples();
    assert_eq!(files.len(), 18, "the 18 template flopacks");
    let mut versions = BTreeSet::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let pack = Flopack::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(pack.is_known_version(), "{}", pack.version);
        versions.insert(pack.version.clone());
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            pack.data.flos.len(),
            raw["data"]["flos"].as_object().unwrap().len()
        );
        assert!(
            pack.data
                .flos
                .values()
                .all(|f| !f.data.methods.is_empty() && !f.name.is_empty()),
            "{}: every flow has cards",
            file.display()
        );
        // The typed form keeps every member: serialized again, it is the same JSON.
        assert_eq!(
            serde_json::to_value(&pack).unwrap(),
            raw,
            "{}: the typed form lost or added a member",
            file.display()
        );
    }
    assert_eq!(
        versions.into_iter().collect::<Vec<_>>(),
        ["1.2.0", "1.3.0", "1.4.0", "1.5.0"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_18_samples_round_trip_byte_identically_through_parse_store_and_export() {
    let fake = fake(WorkflowsOptions::default()).await;
    let wf = provider(&fake);
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let (saved, _) = backup::run_and_save(&wf, &store, &BackupOptions::default())
        .await
        .unwrap();
    let loaded = store.load(&saved.meta.id).await.unwrap();
    let exported: Vec<Vec<u8>> = loaded
        .resources("workflows.flopack")
        .iter()
        .map(|r| flopack::export(&r.body).unwrap())
        .collect();
    for file in samples() {
        let original = std::fs::read(&file).unwrap();
        assert!(
            exported.contains(&original),
            "{}: no stored flopack exports these bytes",
            file.display()
        );
        // And each stored copy parses as it did before storage.
        Flopack::parse(&original).unwrap();
    }
    // A stored flopack whose text was changed is refused, not exported.
    let mut body = loaded.resources("workflows.flopack")[0]
        .body
        .as_ref()
        .clone();
    body["text"] = Value::String(format!("{} ", body["text"].as_str().unwrap()));
    assert_eq!(
        flopack::export(&body).unwrap_err().kind(),
        ErrorKind::Integrity
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_checksum_and_a_truncated_flopack_are_warnings_naming_the_folder() {
    let fake = fake(WorkflowsOptions {
        corrupt_flopack: Some("Onboarding".into()),
        truncated_flopack: Some("Offboarding".into()),
        ..WorkflowsOptions::default()
    })
    .await;
    let wf = provider(&fake);
    let snapshot = backup_of(&wf).await;
    let packs = &snapshot.kinds["workflows.flopack"];
    assert_eq!(packs.outcome, KindOutcome::Complete);
    let warnings = packs.warnings.join("\n");
    assert!(
        warnings.contains("\"Onboarding\"") && warnings.contains("wrong checksum"),
        "{warnings}"
    );
    assert!(
        warnings.contains("\"Offboarding\"") && warnings.contains("truncated"),
        "{warnings}"
    );
    // The rest of the backup completes: every other folder's flopack, every other kind.
    let folders = snapshot.resources("workflows.folder").len();
    assert_eq!(packs.resources.len(), folders - 2);
    for (kind, data) in &snapshot.kinds {
        assert_eq!(data.outcome, KindOutcome::Complete, "{kind}");
    }
    assert!(!snapshot.resources("workflows.flow").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_tells_a_missing_admin_role_from_a_missing_connector_builder_permission() {
    let no_builder = fake(WorkflowsOptions {
        no_connector_builder: true,
        ..WorkflowsOptions::default()
    })
    .await;
    let wf = provider(&no_builder);
    let report = wf.probe(wf.kinds()).await.unwrap();
    assert_eq!(
        report.kinds["workflows.connector_project"],
        Access::Denied {
            missing: kinds::CONNECTOR_BUILDER.into()
        }
    );
    for kind in ["workflows.folder", "workflows.flow", "workflows.flopack"] {
        assert_eq!(report.kinds[kind], Access::Readable, "{kind}");
    }
    let snapshot = backup_of(&wf).await;
    assert!(matches!(
        &snapshot.kinds["workflows.connector_project"].outcome,
        KindOutcome::Denied { missing } if missing.contains("Connector Builder")
    ));
    assert_eq!(
        snapshot.kinds["workflows.flopack"].outcome,
        KindOutcome::Complete
    );

    let no_admin = fake(WorkflowsOptions {
        no_admin_role: true,
        ..WorkflowsOptions::default()
    })
    .await;
    let wf = provider(&no_admin);
    let report = wf.probe(wf.kinds()).await.unwrap();
    for (kind, access) in &report.kinds {
        assert_eq!(
            *access,
            Access::Denied {
                missing: kinds::WORKFLOW_ADMIN.into()
            },
            "{kind}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_signed_in_again_and_a_wrong_password_is_an_auth_error() {
    let fake = fake(WorkflowsOptions {
        without_samples: true,
        ..WorkflowsOptions::default()
    })
    .await;
    let wf = provider(&fake);
    let first = backup_of(&wf).await;
    assert_eq!(fake.sign_ins(), 1, "one sign-in serves the whole backup");
    fake.expire_sessions();
    let second = backup_of(&wf).await;
    assert_eq!(fake.sign_ins(), 2, "signed in again after the 401");
    assert_eq!(
        first.encode().unwrap().manifest.content_sha256,
        second.encode().unwrap().manifest.content_sha256
    );

    let wrong = WorkflowsProvider::new(WorkflowsConfig::new(
        fake.org_url(),
        fake.username(),
        SecretString::from("not-the-password".to_string()),
    ))
    .unwrap();
    let err = wrong.probe(wrong.kinds()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(err.to_string().contains("WORKFLOWS_PASSWORD"), "{err}");
    assert!(!err.to_string().contains("not-the-password"), "{err}");
}

#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> LogCapture {
        self.clone()
    }
}

fn read_all(dir: &Path, out: &mut Vec<u8>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            read_all(&path, out);
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
}

/// Current-thread runtime: the trace subscriber set for this thread sees every task.
#[tokio::test]
async fn sentinel_credentials_never_reach_the_store_the_logs_or_debug() {
    let log = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(log.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let fake = fake(WorkflowsOptions {
        without_samples: true,
        ..WorkflowsOptions::default()
    })
    .await;
    let sentinels = fake.sentinels();
    assert!(sentinels.len() > 5);
    let wf = provider(&fake);
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let (snapshot, _) = backup::run_and_save(&wf, &store, &BackupOptions::default())
        .await
        .unwrap();
    // A connector project restored: its client secret is on the rotation checklist, never sent.
    fake.delete_connector_project("Custom HR API 1")
        .await
        .unwrap();
    let options = butterfly_workflows::restore::options(
        &snapshot,
        &Selection {
            connectors: vec!["Custom HR API 1".into()],
            ..Selection::default()
        },
    )
    .unwrap();
    let plan = restore::plan(&snapshot, &wf, &options).await.unwrap();
    assert!(
        plan.rotation_checklist
            .iter()
            .any(|p| p.field == "/auth/config/clientSecret"),
        "{:?}",
        plan.rotation_checklist
    );
    let report = restore::execute(&plan, &snapshot, &wf, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    assert!(
        fake.connector_projects()
            .contains(&"Custom HR API 1 (Restored)".to_string())
    );
    let mut bytes = Vec::new();
    read_all(dir.path(), &mut bytes);
    let stored = String::from_utf8_lossy(&bytes);
    let logs = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(logs.len() > 1000, "trace logs were captured");
    let writes = format!("{:?}", fake.server().writes());
    let debug = format!("{wf:?}");
    for s in &sentinels {
        assert!(!stored.contains(s.as_str()), "{s} reached the store");
        assert!(!logs.contains(s.as_str()), "{s} reached the logs");
        assert!(!writes.contains(s.as_str()), "{s} was written back");
        assert!(!debug.contains(s.as_str()), "{s} in Debug");
    }
    assert!(stored.contains("Workflows connection credential"));
}

/// The folder the fake's incident picks: a flow on and a table with rows.
fn folder_with_rows(fake: &FakeWorkflows) -> Value {
    fake.folders()
        .into_iter()
        .find(|f| {
            f["flows"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["enabled"] == true)
                && f["tables"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t["rows"].as_u64() > Some(0))
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_folder_is_planned_with_counts_and_zero_writes_then_restored_disabled_with_its_rows()
 {
    let fake = fake(WorkflowsOptions::default()).await;
    let wf = provider(&fake);
    let before = backup_of(&wf).await;
    let folder = folder_with_rows(&fake);
    let name = folder["name"].as_str().unwrap().to_string();
    let other = fake
        .folders()
        .into_iter()
        .find(|f| f["name"] != name.as_str() && !f["tables"].as_array().unwrap().is_empty())
        .unwrap();
    fake.delete_folder(folder["id"].as_str().unwrap())
        .await
        .unwrap();
    fake.delete_folder(other["id"].as_str().unwrap())
        .await
        .unwrap();

    // Selection by folder: only the named one, with everything in it.
    let options = butterfly_workflows::restore::options(
        &before,
        &Selection {
            folders: vec![name.clone()],
            ..Selection::default()
        },
    )
    .unwrap();
    let writes = fake.write_count();
    let plan = restore::plan(&before, &wf, &options).await.unwrap();
    assert_eq!(fake.write_count(), writes, "the dry run wrote");
    let counts = Counts::of(&plan);
    let flows = folder["flows"].as_array().unwrap().len();
    let tables = folder["tables"].as_array().unwrap().len();
    assert_eq!(
        counts,
        Counts {
            folders: 1,
            flows,
            tables,
            table_rows: tables,
            connector_projects: 0
        }
    );
    assert!(
        counts.render().contains("folders 1,"),
        "{}",
        counts.render()
    );
    assert!(
        plan.notes.iter().any(|n| n.contains("(Restored)")),
        "{:?}",
        plan.notes
    );
    let report = restore::execute(&plan, &before, &wf, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    assert!(report.unverified.is_empty(), "{:?}", report.unverified);

    let restored = fake
        .folder(&format!("{name} (Restored)"))
        .expect("the folder comes back with the suffix");
    assert!(fake.folder(&name).is_none());
    let restored_flows = restored["flows"].as_array().unwrap();
    assert_eq!(restored_flows.len(), flows);
    assert!(restored_flows.iter().all(|f| f["enabled"] == false));
    let rows = |f: &Value| -> Vec<u64> {
        f["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["rows"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(rows(&restored), rows(&folder));
    // The other deleted folder was not selected.
    let other_name = other["name"].as_str().unwrap();
    assert!(fake.folder(&format!("{other_name} (Restored)")).is_none());

    // A second plan of the same selection finds the restored copy and writes nothing.
    let again = restore::plan(&before, &wf, &options).await.unwrap();
    assert_eq!(again.writes(), 0, "{}", again.render_text());

    // The other folder with --skip-table-data: the schema without rows.
    let options = butterfly_workflows::restore::options(
        &before,
        &Selection {
            folders: vec![other_name.to_string()],
            skip_table_data: true,
            ..Selection::default()
        },
    )
    .unwrap();
    let plan = restore::plan(&before, &wf, &options).await.unwrap();
    assert!(plan.steps.iter().all(|s| s.kind != "workflows.table_rows"));
    assert_eq!(Counts::of(&plan).table_rows, 0);
    let report = restore::execute(&plan, &before, &wf, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    let schema_only = fake.folder(&format!("{other_name} (Restored)")).unwrap();
    assert_eq!(
        schema_only["tables"].as_array().unwrap().len(),
        other["tables"].as_array().unwrap().len()
    );
    assert!(rows(&schema_only).iter().all(|r| *r == 0));

    // An unknown folder name is a configuration error naming the folders there are.
    let err = butterfly_workflows::restore::options(
        &before,
        &Selection {
            folders: vec!["No such folder".into()],
            ..Selection::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains(&name), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_that_only_references_connector_projects_is_an_expected_import_warning() {
    let fake = fake(WorkflowsOptions {
        without_samples: true,
        ..WorkflowsOptions::default()
    })
    .await;
    let wf = provider(&fake);
    let before = backup_of(&wf).await;
    let folder = fake.folder("Custom HR Connector").unwrap();
    fake.delete_folder(folder["id"].as_str().unwrap())
        .await
        .unwrap();
    let options = butterfly_workflows::restore::options(
        &before,
        &Selection {
            folders: vec!["Custom HR Connector".into()],
            ..Selection::default()
        },
    )
    .unwrap();
    let plan = restore::plan(&before, &wf, &options).await.unwrap();
    let warning = plan
        .guard
        .iter()
        .find(|g| g.level == GuardLevel::Warning)
        .expect("the plan warns about the expected import error");
    assert!(
        warning.message.contains("Custom HR Connector") && warning.message.contains("expected"),
        "{}",
        warning.message
    );
    assert!(!plan.is_critical());
    assert!(
        plan.steps
            .iter()
            .any(|s| s.kind == "workflows.flopack" && s.action == StepAction::Create)
    );
    let report = restore::execute(&plan, &before, &wf, ExecuteOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{}", report.render_text());
    assert!(fake.folder("Custom HR Connector (Restored)").is_some());
    let refused_import = fake
        .server()
        .writes()
        .iter()
        .any(|w| w.path.ends_with("/import"));
    assert!(refused_import, "the import was attempted");
}

#[test]
fn the_kind_table_and_the_descriptor_are_consistent() {
    let kinds = kinds::all();
    // Everything but connections (their credentials are never backed up) is restorable.
    butterfly_testkit::assert_kind_table_consistent("workflows", kinds, |k| {
        k != "workflows.connection"
    });
    butterfly_testkit::assert_list_specs_consistent("workflows", kinds::TABLE);
    butterfly_testkit::assert_settings_declared(
        &butterfly_workflows::DESCRIPTOR,
        include_str!("../src/config.rs"),
    );
    // Every route of the crate comes from the one route table.
    for file in [
        include_str!("../src/lib.rs"),
        include_str!("../src/kinds.rs"),
        include_str!("../src/config.rs"),
    ] {
        for literal in [
            "\"groups",
            "\"tables/",
            "\"connectors",
            "\"connections",
            "\"flos/",
        ] {
            assert!(
                !file.contains(literal),
                "a route literal {literal} outside routes.rs"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_flow_is_never_restored_on_its_own() {
    let fake = fake(WorkflowsOptions {
        without_samples: true,
        ..WorkflowsOptions::default()
    })
    .await;
    let wf = provider(&fake);
    let before = backup_of(&wf).await;
    let folder = folder_with_rows(&fake);
    fake.delete_folder(folder["id"].as_str().unwrap())
        .await
        .unwrap();
    // Asking for the flows alone: without their folder they cannot be placed.
    let flows: Vec<String> = before
        .resources("workflows.flow")
        .iter()
        .filter(|f| f.parent_id.as_deref() == folder["id"].as_str())
        .map(|f| f.id.clone())
        .collect();
    assert!(!flows.is_empty());
    let plan = restore::plan(
        &before,
        &wf,
        &butterfly_core::restore::RestoreOptions {
            ids: Some(flows.clone()),
            ..butterfly_core::restore::RestoreOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(plan.writes(), 0, "{}", plan.render_text());
    // With their folder but not its flopack: the guard stops the plan, naming the rule.
    let mut ids = flows;
    ids.push(folder["id"].as_str().unwrap().to_string());
    let plan = restore::plan(
        &before,
        &wf,
        &butterfly_core::restore::RestoreOptions {
            ids: Some(ids),
            ..butterfly_core::restore::RestoreOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(plan.is_critical(), "{}", plan.render_text());
    assert!(
        plan.guard
            .iter()
            .any(|g| g.message.contains("cannot be restored separately")),
        "{:?}",
        plan.guard
    );
    let writes = fake.write_count();
    assert!(
        restore::execute(&plan, &before, &wf, ExecuteOptions::default())
            .await
            .is_err()
    );
    assert_eq!(fake.write_count(), writes, "nothing written");
}

#[test]
fn a_newer_format_parses_and_keeps_its_new_members_while_bad_files_are_typed_errors() {
    let sample = std::fs::read_to_string(&samples()[0]).unwrap();
    let mut raw: Value = serde_json::from_str(&sample).unwrap();
    raw["version"] = "1.9.0".into();
    raw["signature"] = "new-in-1.9".into();
    raw["data"]["variables"] = serde_json::json!({"v1": 1});
    let newer = serde_json::to_vec(&raw).unwrap();
    let pack = Flopack::parse(&newer).unwrap();
    assert!(!pack.is_known_version());
    assert_eq!(pack.extra["signature"], "new-in-1.9");
    assert_eq!(pack.data.extra["variables"]["v1"], 1);
    assert_eq!(serde_json::to_value(&pack).unwrap(), raw);

    raw["checksum"] = "not-hex".into();
    let err = Flopack::parse(&serde_json::to_vec(&raw).unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.to_string().contains("wrong checksum"), "{err}");
    raw["checksum"] = Value::Null;
    raw["type"] = "workflow".into();
    let err = Flopack::parse(&serde_json::to_vec(&raw).unwrap()).unwrap_err();
    assert!(err.to_string().contains("not a flopack"), "{err}");
    let err = Flopack::parse(&sample.as_bytes()[..sample.len() / 3]).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    assert!(Flopack::parse(b"").is_err());
    assert!(flopack::stored_body(&[0xff, 0xfe]).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_tenant_workflows_options_reach_the_probe_through_the_descriptor() {
    use butterfly_core::registry::{BuildOptions, Settings};
    use butterfly_testkit::tenants::{self, FakeSpec};
    let descriptor = tenants::get("workflows").unwrap();
    for (option, kind, missing) in [
        (
            "no-connector-builder",
            "workflows.connector_project",
            kinds::CONNECTOR_BUILDER,
        ),
        ("no-admin-role", "workflows.folder", kinds::WORKFLOW_ADMIN),
    ] {
        let fake = descriptor
            .start(FakeSpec::new(200, 5).with_option(option, "true"))
            .await
            .unwrap();
        let settings = Settings::from_pairs(fake.settings());
        let provider = butterfly_workflows::DESCRIPTOR
            .build(&settings, &BuildOptions::default())
            .unwrap();
        let report = provider.probe(provider.kinds()).await.unwrap();
        assert_eq!(
            report.kinds[kind],
            Access::Denied {
                missing: missing.into()
            },
            "{option}"
        );
    }
}
