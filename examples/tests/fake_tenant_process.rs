//! The README's "Try it without an identity provider" path, as a user runs it: each
//! `fake-tenant` command of that README section is started as a child process, its printed
//! settings are taken the way `export $(grep = okta.env)` takes them, the `butterfly` binary
//! backs the tenant up, and SIGTERM stops the fake with exit code 0.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `fake-tenant` argument lists of the README's "Try it" section, in order.
fn readme_commands() -> Vec<Vec<String>> {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(&readme).expect("README.md at the workspace root");
    let section = text
        .split("## Try it without an identity provider")
        .nth(1)
        .expect("the README has a 'Try it without an identity provider' section");
    let section = section.split("\n## ").next().unwrap_or(section);
    const RUN: &str = "cargo run --release -p butterfly-testkit --bin fake-tenant -- ";
    section
        .lines()
        .filter_map(|line| line.trim().strip_prefix(RUN))
        .map(|rest| {
            let args = rest.split('|').next().unwrap_or(rest);
            args.split_whitespace().map(str::to_string).collect()
        })
        .collect()
}

/// The `fake-tenant` binary of the same build as the `butterfly` binary under test; built
/// here when only this package's binaries were built (`cargo test -p examples`).
fn fake_tenant_binary() -> PathBuf {
    let butterfly = Path::new(env!("CARGO_BIN_EXE_butterfly"));
    let dir = butterfly.parent().expect("binary directory");
    let exe = dir.join(format!("fake-tenant{}", std::env::consts::EXE_SUFFIX));
    if !exe.exists() {
        let profile = match dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev".to_string(),
            Some(other) => other.to_string(),
        };
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "butterfly-testkit", "--bin", "fake-tenant"])
            .args(["--profile", &profile, "--target-dir"])
            .arg(dir.parent().expect("target directory"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building fake-tenant failed");
    }
    exe
}

/// A started fake: the child and the settings it printed.
struct Fake {
    child: Child,
    settings: Vec<(String, String)>,
    printed: Vec<String>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `fake-tenant ARGS` and reads its output up to the "serving" line.
fn start(args: &[String]) -> Fake {
    let mut child = Command::new(fake_tenant_binary())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("fake-tenant starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut printed = Vec::new();
    let mut settings = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("utf-8 output");
        printed.push(line.clone());
        if line.starts_with("# serving until") {
            break;
        }
        // What `grep =` keeps, split as `export` splits it.
        if line.contains('=') {
            assert!(
                !line.starts_with(['#', ' ']),
                "a comment or indented line holds '=': {line:?}"
            );
            let (k, v) = line.split_once('=').expect("VAR=value");
            settings.push((k.to_string(), v.to_string()));
        }
    }
    assert!(
        printed
            .last()
            .is_some_and(|l| l.starts_with("# serving until")),
        "fake-tenant {args:?} ended its output early: {printed:#?}"
    );
    Fake {
        child,
        settings,
        printed,
    }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "fake-tenant did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn readme_fake_tenants_serve_until_sigterm_and_back_up_through_the_cli() {
    let commands = readme_commands();
    let providers: Vec<&str> = commands.iter().map(|c| c[0].as_str()).collect();
    assert_eq!(
        providers,
        examples::registry::names(),
        "the README shows a fake-tenant command for every provider, in the registry's order"
    );
    for args in &commands {
        let provider = args[0].as_str();
        let users: usize = args
            .windows(2)
            .find(|w| w[0] == "--users")
            .and_then(|w| w[1].parse().ok())
            .expect("the README command names --users");
        let mut fake = start(args);
        let prefix = examples::registry::entry(provider).unwrap().env_prefix();
        assert!(
            fake.settings.iter().all(|(k, _)| k.starts_with(&prefix)),
            "{provider}: settings {:?}",
            fake.settings
        );
        if args.iter().any(|a| a == "--rate-scale") {
            assert!(
                fake.settings
                    .iter()
                    .any(|(k, _)| k.ends_with("_RATE_SCALE")),
                "{provider}: the client's rate-scale setting is printed: {:#?}",
                fake.printed
            );
        }

        // The fake is still serving after it printed (the defect: it stopped right then).
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            fake.child.try_wait().unwrap().is_none(),
            "{provider}: fake-tenant exited after printing"
        );

        let store = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_butterfly"))
            .env_clear()
            .envs(fake.settings.iter().cloned())
            .arg("--store")
            .arg(store.path())
            .args(["backup", provider, "--json"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{provider}: backup failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["status"], "success", "{provider}: {report}");
        // A fake 1Password Connect server has an item per user asked for.
        // A fake Workflows org has a generated folder per 50 users (at least 4), a folder that
        // only references a Connector Builder project, and Okta's 18 template folders.
        let (user_kind, expected) = match provider {
            "onepassword" => ("onepassword.item".to_string(), users),
            "workflows" => ("workflows.folder".to_string(), (users / 50).max(4) + 19),
            _ => (format!("{provider}.user"), users),
        };
        assert_eq!(
            report["kinds"][&user_kind]["count"].as_u64(),
            Some(expected as u64),
            "{provider}: {user_kind} count"
        );
        assert!(
            report["kinds"]
                .as_object()
                .unwrap()
                .values()
                .all(|k| !["failed", "denied"]
                    .contains(&k["outcome"]["outcome"].as_str().unwrap_or(""))),
            "{provider}: no kind failed or denied: {}",
            report["kinds"]
        );

        sigterm(&fake.child);
        let status = wait_exit(&mut fake.child, Duration::from_secs(10));
        assert_eq!(status.code(), Some(0), "{provider}: exit after SIGTERM");
    }
}

#[test]
fn base_url_stands_in_for_the_tenant_url() {
    // `--base-url` alone is enough for Okta and Auth0; Entra still needs its tenant id, and
    // the error names the setting that provides it.
    let mut fake = start(&["okta".into(), "--users".into(), "20".into()]);
    let token = fake
        .settings
        .iter()
        .find(|(k, _)| k == "OKTA_API_TOKEN")
        .map(|(_, v)| v.clone())
        .unwrap();
    let url = fake
        .settings
        .iter()
        .find(|(k, _)| k == "OKTA_ORG_URL")
        .map(|(_, v)| v.clone())
        .unwrap();
    let store = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_butterfly"))
        .env_clear()
        .env("OKTA_API_TOKEN", &token)
        .arg("--store")
        .arg(store.path())
        .args([
            "backup",
            "okta",
            "--kinds",
            "okta.user",
            "--json",
            "--base-url",
            &url,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["kinds"]["okta.user"]["count"].as_u64(), Some(20));
    sigterm(&fake.child);
    assert_eq!(
        wait_exit(&mut fake.child, Duration::from_secs(10)).code(),
        Some(0)
    );

    let out = Command::new(env!("CARGO_BIN_EXE_butterfly"))
        .env_clear()
        .env("ENTRA_CLIENT_ID", "x")
        .env("ENTRA_CLIENT_SECRET", "y")
        .arg("--store")
        .arg(store.path())
        .args(["backup", "entra", "--base-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ENTRA_TENANT_ID") && err.contains("tenant_id"),
        "{err}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_butterfly"))
        .env_clear()
        .env("OKTA_API_TOKEN", "x")
        .arg("--store")
        .arg(store.path())
        .args(["backup", "okta"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("OKTA_ORG_URL") && err.contains("--base-url"),
        "{err}"
    );
}
