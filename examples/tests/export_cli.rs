//! `butterfly export terraform` on a stored snapshot of a fake Okta org: the files, the
//! resource types, the import style, a kinds filter, and a clear error for a provider with no
//! Terraform mapping.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
use serde_json::Value;

fn butterfly(store: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_butterfly"));
    cmd.env_clear()
        .arg("--store")
        .arg(store)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn ok(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn terraform_export_of_a_stored_okta_snapshot() {
    let fake = FakeOkta::start(
        OktaOrgSpec {
            users: 12,
            seed: 31,
            governance: false,
        },
        OktaOptions::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let env = vec![
        ("OKTA_ORG_URL", fake.base_url()),
        ("OKTA_API_TOKEN", fake.api_token().to_string()),
    ];
    let kinds = "okta.group,okta.user,okta.group_rule,okta.group_member";
    let saved = ok(&butterfly(
        &store,
        &env,
        &["backup", "okta", "--kinds", kinds, "--json"],
    ));
    let id = saved["snapshot"].as_str().unwrap();
    let writes = fake.write_count();

    let out = dir.path().join("tf");
    let report = ok(&butterfly(
        &store,
        &[],
        &[
            "export",
            "terraform",
            id,
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(
        fake.write_count(),
        writes,
        "an export never touches the tenant"
    );
    for file in [
        "main.tf",
        "providers.tf",
        "variables.tf",
        "terraform.tfvars.example",
        "imports.tf",
        "NOT-EXPORTED.md",
    ] {
        assert!(out.join(file).is_file(), "{file} missing: {report}");
    }
    let main = std::fs::read_to_string(out.join("main.tf")).unwrap();
    let groups = fake.items("/api/v1/groups");
    let custom = groups
        .iter()
        .find(|g| g["type"] == "OKTA_GROUP")
        .expect("a custom group");
    assert!(main.contains("resource \"okta_group\""), "{main}");
    assert!(
        main.contains(custom["profile"]["name"].as_str().unwrap()),
        "the group's name is in main.tf"
    );
    let providers = std::fs::read_to_string(out.join("providers.tf")).unwrap();
    assert!(providers.contains("okta/okta"), "{providers}");
    let imports = std::fs::read_to_string(out.join("imports.tf")).unwrap();
    assert!(
        imports.contains(custom["id"].as_str().unwrap()),
        "the group is imported by its id"
    );
    assert!(report["resources"].as_u64().unwrap() > groups.len() as u64);

    // Import commands instead of blocks, and one kind only.
    let out2 = dir.path().join("tf2");
    ok(&butterfly(
        &store,
        &[],
        &[
            "export",
            "terraform",
            "latest",
            "--kinds",
            "okta.group",
            "--import-commands",
            "--out",
            out2.to_str().unwrap(),
            "--json",
        ],
    ));
    let script = std::fs::read_to_string(out2.join("import.sh")).unwrap();
    assert!(script.contains("terraform import"), "{script}");
    assert!(!out2.join("imports.tf").exists());
    let main2 = std::fs::read_to_string(out2.join("main.tf")).unwrap();
    assert!(!main2.contains("resource \"okta_user\""), "{main2}");

    // An unknown kind is a clear configuration error (exit 2).
    let bad = butterfly(
        &store,
        &[],
        &[
            "export",
            "terraform",
            "latest",
            "--kinds",
            "okta.nope",
            "--out",
            out2.to_str().unwrap(),
        ],
    );
    assert_eq!(
        bad.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
