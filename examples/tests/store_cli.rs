//! The `butterfly` binary on an encrypted store (`keygen`, `--store-key-file`, `rekey`): the
//! store holds no plaintext, reads need the key, and a rekey keeps every snapshot id while the
//! old key stops working.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
use serde_json::Value;

fn butterfly<K: AsRef<str>>(store: &Path, env: &[(K, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_butterfly"));
    cmd.env_clear()
        .arg("--store")
        .arg(store)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k.as_ref(), v);
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

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(files(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

fn contains(dir: &Path, needle: &str) -> bool {
    files(dir).iter().any(|f| {
        std::fs::read(f)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn an_encrypted_store_holds_no_plaintext_needs_its_key_and_rekeys() {
    let fake = FakeOkta::start(
        OktaOrgSpec {
            users: 15,
            seed: 23,
            governance: false,
        },
        OktaOptions::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (plain, store) = (dir.path().join("plain"), dir.path().join("encrypted"));
    let (key, new_key) = (dir.path().join("store.key"), dir.path().join("new.key"));
    let env = vec![
        ("OKTA_ORG_URL", fake.base_url()),
        ("OKTA_API_TOKEN", fake.api_token().to_string()),
    ];
    let none: Vec<(&str, String)> = Vec::new();
    ok(&butterfly(
        &store,
        &none,
        &["keygen", key.to_str().unwrap(), "--json"],
    ));
    ok(&butterfly(
        &store,
        &none,
        &["keygen", new_key.to_str().unwrap(), "--json"],
    ));
    // keygen never overwrites a key.
    assert_ne!(
        butterfly(&store, &none, &["keygen", key.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is readable by others");
    }
    let keyed = |path: &Path| {
        let mut e = env.clone();
        e.push((
            "BUTTERFLY_STORE_KEY_FILE",
            path.to_str().unwrap().to_string(),
        ));
        e
    };
    let args = ["backup", "okta", "--kinds", "okta.group", "--json"];
    let saved = ok(&butterfly(&store, &keyed(&key), &args));
    ok(&butterfly(&plain, &env, &args));
    let id = saved["snapshot"].as_str().unwrap().to_string();

    // A group name is in the plain store's files and in none of the encrypted store's.
    let group = fake.items("/api/v1/groups")[0]["profile"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(contains(&plain, &group), "the plaintext check cannot fail");
    assert!(
        !contains(&store, &group),
        "plaintext {group:?} in the encrypted store"
    );

    // Reads need the key.
    let shown = ok(&butterfly(&store, &keyed(&key), &["show", &id, "--json"]));
    assert_eq!(shown["id"], id.as_str());
    // Without it, the store says it is encrypted (no stub shown as a snapshot, and no
    // plaintext backup written beside the ciphertext).
    for args in [
        vec!["show", id.as_str(), "--json"],
        vec!["list", "--json"],
        vec!["backup", "okta", "--kinds", "okta.group", "--json"],
    ] {
        let out = butterfly(&store, &env, &args);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is encrypted"),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Rekey: same snapshot ids, the new key reads, the old one does not.
    let report = ok(&butterfly(
        &store,
        &keyed(&key),
        &[
            "rekey",
            "--new-key-file",
            new_key.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(report["snapshots"], 1, "{report}");
    let listed = ok(&butterfly(&store, &keyed(&new_key), &["list", "--json"]));
    assert_eq!(listed[0]["id"], id.as_str(), "{listed}");
    let verified = butterfly(&store, &keyed(&new_key), &["verify", "--all", "--json"]);
    assert_eq!(verified.status.code(), Some(0));
    let old = butterfly(&store, &keyed(&key), &["show", &id, "--json"]);
    assert_ne!(
        old.status.code(),
        Some(0),
        "the old key still reads the store"
    );
    let err = String::from_utf8_lossy(&old.stderr);
    assert!(!err.contains(&std::fs::read_to_string(&key).unwrap().trim().to_string()));
    // Rekey without the current key is a clear configuration error.
    let out = butterfly(
        &store,
        &none,
        &["rekey", "--new-key-file", key.to_str().unwrap()],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("current key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_s3_store_round_trips_through_the_cli_plain_and_encrypted() {
    let fake = FakeOkta::start(
        OktaOrgSpec {
            users: 15,
            seed: 29,
            governance: false,
        },
        OktaOptions::default(),
    )
    .await
    .unwrap();
    let server = butterfly_testkit::s3::S3Server::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("store.key");
    let mut env: Vec<(&str, String)> = vec![
        ("OKTA_ORG_URL", fake.base_url()),
        ("OKTA_API_TOKEN", fake.api_token().to_string()),
    ];
    let s3_env = server.env();
    for (k, v) in &s3_env {
        env.push((k.as_str(), v.clone()));
    }
    let group = fake.items("/api/v1/groups")[0]["profile"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let bucket = server.dir().join(butterfly_testkit::s3::BUCKET);
    let url = |prefix: &str| format!("s3://{}/{prefix}", butterfly_testkit::s3::BUCKET);
    // The blocking CLI runs off the runtime that serves the fake org and the S3 server.
    let run = |store: String, env: Vec<(String, String)>, args: Vec<&'static str>| {
        tokio::task::spawn_blocking(move || butterfly(Path::new(&store), &env, &args))
    };
    let owned: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();

    // Plain: backup, list, verify, show.
    let plain = url("tenants/okta-plain");
    let saved = ok(&run(
        plain.clone(),
        owned.clone(),
        vec!["backup", "okta", "--kinds", "okta.group", "--json"],
    )
    .await
    .unwrap());
    let id = saved["snapshot"].as_str().unwrap().to_string();
    let listed = ok(&run(plain.clone(), owned.clone(), vec!["list", "--json"])
        .await
        .unwrap());
    assert_eq!(listed[0]["id"], id.as_str(), "{listed}");
    let verified = run(
        plain.clone(),
        owned.clone(),
        vec!["verify", "--all", "--json"],
    )
    .await
    .unwrap();
    assert_eq!(verified.status.code(), Some(0));
    assert!(contains(&bucket.join("tenants/okta-plain"), &group));

    // Encrypted on the same bucket, another prefix: no plaintext in the bucket's files.
    let none: [(&str, String); 0] = [];
    ok(&butterfly(
        dir.path(),
        &none,
        &["keygen", key.to_str().unwrap(), "--json"],
    ));
    let mut keyed = owned.clone();
    keyed.push((
        "BUTTERFLY_STORE_KEY_FILE".to_string(),
        key.to_str().unwrap().to_string(),
    ));
    let secret = url("tenants/okta-encrypted");
    ok(&run(
        secret.clone(),
        keyed.clone(),
        vec!["backup", "okta", "--kinds", "okta.group", "--json"],
    )
    .await
    .unwrap());
    let listed = ok(&run(secret.clone(), keyed.clone(), vec!["list", "--json"])
        .await
        .unwrap());
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert!(!contains(&bucket.join("tenants/okta-encrypted"), &group));
    // Without the key the encrypted prefix is refused, and the plain one is not affected.
    let refused = run(secret, owned.clone(), vec!["list", "--json"])
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is encrypted"));
    // A wrong secret key is one clear error that does not show it.
    let mut wrong = owned.clone();
    for (k, v) in wrong.iter_mut() {
        if *k == "AWS_SECRET_ACCESS_KEY" {
            *v = "wrong-secret-value-1234".into();
        }
    }
    let out = run(plain, wrong, vec!["list", "--json"]).await.unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("wrong-secret-value-1234"));
}
