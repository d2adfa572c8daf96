//! The `butterfly` binary with Okta Workflows: a backup from the environment, a folder deleted,
//! a dry run with folder, table and connector counts and zero writes, an execution that needs
//! the typed confirmation `RESTORE` and ends with the post-restore checklist, and the
//! selection options.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use butterfly_testkit::workflows::{FakeWorkflows, WorkflowsOptions, WorkflowsOrgSpec};

fn butterfly(store: &Path, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_butterfly"))
        .env_clear()
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .arg("--store")
        .arg(store)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_folder_is_restored_through_the_cli_after_typing_restore() {
    let fake = FakeWorkflows::start(
        WorkflowsOrgSpec {
            folders: 5,
            seed: 4,
        },
        WorkflowsOptions {
            without_samples: true,
            ..WorkflowsOptions::default()
        },
    )
    .await
    .unwrap();
    let store = tempfile::tempdir().unwrap();
    let url = fake.org_url();
    let env = [
        ("WORKFLOWS_ORG_URL", url.as_str()),
        ("WORKFLOWS_USERNAME", fake.username()),
        ("WORKFLOWS_PASSWORD", fake.password()),
        ("WORKFLOWS_RATE_SCALE", "100"),
    ];
    let out = butterfly(store.path(), &env, &["backup", "workflows", "--json"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "success", "{report}");

    let folder = fake.folder("Onboarding").unwrap();
    fake.delete_folder(folder["id"].as_str().unwrap())
        .await
        .unwrap();
    let writes = fake.write_count();

    // Dry run (the default without --execute): counts, zero writes.
    let out = butterfly(
        store.path(),
        &env,
        &["restore", "latest", "--dry-run", "--folders", "Onboarding"],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("Workflows restore: folders 1,") && said.contains("connectors"),
        "{said}"
    );
    assert!(said.contains("(dry run: nothing was written)"), "{said}");
    assert_eq!(fake.write_count(), writes);

    // Execute: the tenant name is not the confirmation, RESTORE is.
    let out = butterfly(
        store.path(),
        &env,
        &["restore", "latest", "--execute", "--folders", "Onboarding"],
        "yes\n",
    );
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Type RESTORE"), "{}", text(&out));
    assert_eq!(
        fake.write_count(),
        writes,
        "nothing written without RESTORE"
    );
    let out = butterfly(
        store.path(),
        &env,
        &[
            "restore",
            "latest",
            "--execute",
            "--folders",
            "Onboarding",
            "--skip-table-data",
        ],
        "RESTORE\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    let checklist = said
        .rfind("Post-restore checklist:")
        .expect("the report ends with the checklist");
    let tail = &said[checklist..];
    for item in [
        "Re-authenticate connections",
        "Verify table data",
        "Test flows before enabling",
        "Update hard-coded references",
    ] {
        assert!(tail.contains(item), "{tail}");
    }
    let restored = fake.folder("Onboarding (Restored)").unwrap();
    assert!(
        restored["flows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["enabled"] == false)
    );
    assert!(
        restored["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["rows"] == 0),
        "--skip-table-data leaves the rows out"
    );

    // As JSON, with --yes instead of the typed confirmation: the checklist is in the answer.
    let folder = fake.folder("Offboarding").unwrap();
    fake.delete_folder(folder["id"].as_str().unwrap())
        .await
        .unwrap();
    let out = butterfly(
        store.path(),
        &env,
        &[
            "--json",
            "restore",
            "latest",
            "--execute",
            "--yes",
            "--folders",
            "Offboarding",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["report"]["failed"], 0, "{answer}");
    assert!(
        answer["checklist"]
            .as_str()
            .unwrap()
            .contains("Re-authenticate connections")
    );
    assert!(fake.folder("Offboarding (Restored)").is_some());

    // The same org from a config file's [workflows] table, with no environment at all.
    let config = store.path().join("butterfly.toml");
    std::fs::write(
        &config,
        format!(
            "[workflows]\norg_url = \"{url}\"\nusername = \"{}\"\npassword = \"{}\"\nrate_scale = 100\n",
            fake.username(),
            fake.password()
        ),
    )
    .unwrap();
    let out = butterfly(
        store.path(),
        &[],
        &[
            "--config",
            config.to_str().unwrap(),
            "backup",
            "workflows",
            "--json",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Selection errors: an unknown folder; selection options on another provider's terms.
    let out = butterfly(
        store.path(),
        &env,
        &["restore", "latest", "--dry-run", "--folders", "Nope"],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no folder \"Nope\""), "{}", text(&out));
    let out = butterfly(
        store.path(),
        &env,
        &[
            "restore",
            "latest",
            "--dry-run",
            "--kinds",
            "workflows.folder",
            "--skip-table-data",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
