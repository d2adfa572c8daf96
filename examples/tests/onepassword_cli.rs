//! The `butterfly` binary with 1Password Connect: a backup from the environment and from an
//! `[onepassword]` config table, and a restore that says why it cannot and exits 2.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use butterfly_testkit::onepassword::{FakeOnePassword, OnePasswordOptions, OnePasswordOrgSpec};

fn butterfly(store: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_butterfly"))
        .env_clear()
        .envs(env.iter().copied())
        .arg("--store")
        .arg(store)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_diff_and_a_restore_that_explains_why_it_cannot() {
    let fake = FakeOnePassword::start(
        OnePasswordOrgSpec { items: 40, seed: 3 },
        OnePasswordOptions::default(),
    )
    .await
    .unwrap();
    let store = tempfile::tempdir().unwrap();
    let host = fake.host();
    let env = [
        ("OP_CONNECT_HOST", host.as_str()),
        ("OP_CONNECT_TOKEN", fake.token()),
    ];
    let out = butterfly(store.path(), &env, &["backup", "onepassword", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "success", "{report}");
    assert_eq!(report["kinds"]["onepassword.item"]["count"], 40);

    // The same server through a config file's [onepassword] table.
    let config = store.path().join("butterfly.toml");
    std::fs::write(
        &config,
        format!(
            "[onepassword]\nhost = \"{host}\"\ntoken = \"{}\"\nkeep_values = false\n",
            fake.token()
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
            "onepassword",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = butterfly(store.path(), &[], &["list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(listed.to_string().contains("onepassword"), "{listed}");

    // Restore: no setting is needed to be told why not.
    for args in [
        vec!["restore", "latest", "--dry-run"],
        vec!["restore", "latest", "--execute", "--yes"],
    ] {
        let out = butterfly(store.path(), &[], &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: ")
                && err.contains("onepassword snapshots cannot be restored")
                && err.contains("read-only"),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let out = butterfly(
        store.path(),
        &[],
        &["--json", "restore", "latest", "--dry-run"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["kind"], "config", "{err}");
    assert_eq!(fake.write_count(), 0);
}
