//! No secret value planted in the fake Connect server reaches the store (every file under the
//! store directory, read whole), the trace-level log, an error or a `Debug` output, while the
//! same values are in the server's raw answers to the requests the client sends (so the test
//! could fail). Alone in its test binary: tracing caches per callsite whether anyone listens,
//! and a thread-scoped subscriber races with other tests registering the same callsites.

use std::path::Path;
use std::sync::{Arc, Mutex};

use butterfly_1password::{OnePasswordConfig, OnePasswordProvider};
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::store::{FsStore, StoreExt};
use butterfly_testkit::onepassword::{FakeOnePassword, OnePasswordOptions, OnePasswordOrgSpec};
use secrecy::SecretString;
use serde_json::Value;

/// The captured log; clones share it.
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
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

fn read_all(dir: &Path, out: &mut Vec<u8>) -> usize {
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files += read_all(&path, out);
        } else {
            out.extend(std::fs::read(&path).unwrap());
            files += 1;
        }
    }
    files
}

/// Every raw answer of the routes the client reads, file contents included (inline and at
/// `/content`, which the client never asks for).
async fn raw_answers(fake: &FakeOnePassword) -> String {
    let client = reqwest::Client::new();
    let get = |path: String| {
        let req = client
            .get(format!("{}{path}", fake.host()))
            .bearer_auth(fake.token());
        async move {
            let resp = req.send().await.unwrap();
            assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
            resp.text().await.unwrap()
        }
    };
    let mut out = get("/v1/vaults".into()).await;
    for vault in fake.vaults() {
        let v = vault["id"].as_str().unwrap();
        out.push_str(&get(format!("/v1/vaults/{v}/items")).await);
        for item in fake.items(v) {
            let i = item["id"].as_str().unwrap();
            out.push_str(&get(format!("/v1/vaults/{v}/items/{i}")).await);
            let files = get(format!("/v1/vaults/{v}/items/{i}/files?inline_files=true")).await;
            for file in serde_json::from_str::<Vec<Value>>(&files).unwrap() {
                let f = file["id"].as_str().unwrap();
                out.push_str(&get(format!("/v1/vaults/{v}/items/{i}/files/{f}/content")).await);
            }
            out.push_str(&files);
        }
    }
    out
}

#[tokio::test]
async fn no_planted_secret_reaches_the_store_the_log_or_an_error() {
    let fake = FakeOnePassword::start(
        OnePasswordOrgSpec {
            items: 80,
            seed: 11,
        },
        OnePasswordOptions::default(),
    )
    .await
    .unwrap();
    let sentinels = fake.sentinels();
    // Every kind of secret is planted: concealed, one-time password seeds and current codes,
    // SSH keys, password-purpose values of any type, notes, file contents, the token.
    for what in [
        "SENTINEL-password-",
        "SENTINEL-otp-seed-",
        "SENTINEL-otp-code-",
        "SENTINEL-ssh-key-",
        "SENTINEL-pin-",
        "SENTINEL-note-",
        "SENTINEL-file-",
        "SENTINEL-card-number-",
        "SENTINEL-connect-token-",
    ] {
        assert!(
            sentinels.iter().any(|s| s.starts_with(what)),
            "no {what} planted"
        );
    }
    // The server's answers hold them all (the token is only ever sent, never answered).
    let raw = raw_answers(&fake).await;
    for s in sentinels.iter().filter(|s| !s.contains("connect-token")) {
        assert!(raw.contains(s.as_str()), "{s} is not in the raw answers");
    }

    let log = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(log.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let config = OnePasswordConfig::new(fake.host(), SecretString::from(fake.token().to_string()));
    let debug_config = format!("{config:?}");
    let op = OnePasswordProvider::new(config).unwrap();
    let (snapshot, _) = backup::run_and_save(&op, &store, &BackupOptions::default())
        .await
        .unwrap();
    store.load(&snapshot.meta.id).await.unwrap();
    // An error path too: a rejected token.
    let bad = OnePasswordProvider::new(OnePasswordConfig::new(
        fake.host(),
        SecretString::from(format!("{}x", fake.token())),
    ))
    .unwrap();
    let rejected = backup::run(&bad, &BackupOptions::default()).await.unwrap();
    let error = backup::rejected_credentials(&rejected).unwrap().to_string();
    drop(guard);

    let logged = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("v1/vaults"),
        "requests are traced: {logged}"
    );
    let mut stored = Vec::new();
    let files = read_all(dir.path(), &mut stored);
    assert!(
        files > 3 && stored.len() > 1000,
        "the store holds the backup"
    );
    let stored = String::from_utf8_lossy(&stored);
    let debug = format!("{debug_config} {op:?} {bad:?}");
    for s in &sentinels {
        assert!(!stored.contains(s.as_str()), "{s} reached the store");
        assert!(!logged.contains(s.as_str()), "{s} reached the log");
        assert!(!error.contains(s.as_str()), "{s} reached an error");
        assert!(!debug.contains(s.as_str()), "{s} reached a Debug output");
    }
    // The backup did read the items whose secrets it left out.
    assert_eq!(snapshot.resources("onepassword.item").len(), 80);
}
