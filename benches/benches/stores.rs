//! Backup throughput per store: a generated Okta org (the fake, no rate limits) backed up by
//! the real client into the plain filesystem store, the encrypted store (AES-256-GCM over the
//! filesystem store) and the object store (S3 on an s3s-fs server on 127.0.0.1), each in a
//! process of its own so that each peak memory is its own. Every run reads the org again
//! (`fetch`), saves the snapshot (`save`), saves it again under a new id (`resave`: every blob
//! reused) and loads it back (`load`). Prints each store's times, its backup throughput
//! (resources per second of fetch + save) and the ratios to the filesystem store of the same
//! round (targets: encrypted ≤ 1.10×, object store ≤ 1.5×), and the peak memory of each.
//!
//! `cargo bench -p benches --bench stores -- [users] [rounds]` (defaults 100000 users, 1 round)

use std::path::PathBuf;
use std::time::{Duration, Instant};

use benches::{peak_rss_mib, positional_args};
use butterfly_core::SnapshotId;
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::store::encrypted::{EncryptedStore, StoreKey};
use butterfly_core::store::{FsStore, ObjectSnapshotStore, SnapshotStore, StoreExt};
use butterfly_okta::{OktaAuth, OktaConfig, OktaProvider};
use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
use butterfly_testkit::s3::{BUCKET, S3Server};
use secrecy::SecretString;
use serde_json::{Value, json};

/// The stores, in the order of the first round.
const KINDS: [&str; 3] = ["filesystem", "encrypted", "object"];

/// What a child measured.
#[derive(Clone, Copy, Default)]
struct Run {
    resources: u64,
    fetch: f64,
    save: f64,
    resave: f64,
    load: f64,
    peak_mib: f64,
}

impl Run {
    fn from_json(v: &Value) -> Run {
        let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        Run {
            resources: v["resources"].as_u64().unwrap_or(0),
            fetch: f("fetch_s"),
            save: f("save_s"),
            resave: f("resave_s"),
            load: f("load_s"),
            peak_mib: f("peak_mib"),
        }
    }

    /// Resources per second of the backup: reading the org and saving it.
    fn throughput(&self) -> f64 {
        self.resources as f64 / (self.fetch + self.save)
    }
}

/// A fresh directory under the system's temporary directory.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "butterfly-bench-stores-{}-{name}-{:08x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("create bench directory");
    dir
}

/// The child: one backup into the store `kind`, printed as one JSON line.
async fn child(kind: &str) {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} not set"));
    let okta = OktaProvider::new(OktaConfig {
        org_url: var("BENCH_OKTA_URL"),
        base_url: None,
        auth: OktaAuth::ApiToken {
            token: SecretString::from(var("BENCH_OKTA_TOKEN")),
        },
        max_share: Some(1.0),
        bucket_limits: None,
        // The fake has no limits; the client's own pacing is made irrelevant.
        bucket_period: Some(Duration::from_millis(10)),
    })
    .expect("provider");
    let started = Instant::now();
    let snapshot = backup::run(&okta, &BackupOptions::default().concurrency(16))
        .await
        .expect("backup");
    let fetch = started.elapsed();
    let dir = PathBuf::from(var("BENCH_DIR"));
    let store: Box<dyn SnapshotStore> = match kind {
        "filesystem" => Box::new(FsStore::open(&dir).expect("fs store")),
        "encrypted" => Box::new(EncryptedStore::new(
            FsStore::open(&dir).expect("fs store"),
            StoreKey::generate(),
        )),
        "object" => Box::new(ObjectSnapshotStore::from_url(&var("BENCH_S3_URL")).expect("s3")),
        other => panic!("unknown store {other}"),
    };
    let t = Instant::now();
    store.save(&snapshot).await.expect("save");
    let save = t.elapsed();
    let mut again = snapshot.clone();
    again.meta.id = SnapshotId::generate("okta", again.meta.started_at);
    let t = Instant::now();
    let report = store.save(&again).await.expect("save again");
    let resave = t.elapsed();
    assert_eq!(report.new_blobs, 0, "the second save reuses every blob");
    let t = Instant::now();
    let loaded = store.load(&snapshot.meta.id).await.expect("load");
    let load = t.elapsed();
    assert_eq!(loaded.resource_count(), snapshot.resource_count());
    println!(
        "{}",
        json!({
            "resources": snapshot.resource_count(),
            "fetch_s": fetch.as_secs_f64(),
            "save_s": save.as_secs_f64(),
            "resave_s": resave.as_secs_f64(),
            "load_s": load.as_secs_f64(),
            "peak_mib": peak_rss_mib(),
        })
    );
}

#[tokio::main]
async fn main() {
    if let Ok(kind) = std::env::var("BENCH_STORE_CHILD") {
        child(&kind).await;
        return;
    }
    let args = positional_args();
    let users: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let generated = Instant::now();
    let fake = FakeOkta::start(
        OktaOrgSpec {
            users,
            seed: 1,
            governance: false,
        },
        OktaOptions::default(),
    )
    .await
    .expect("fake org starts");
    let server = S3Server::start().await.expect("s3 server");
    println!(
        "stores: {users} users (org generated in {:.1}s), {rounds} round(s), each store in a process of its own",
        generated.elapsed().as_secs_f64()
    );
    let exe = std::env::current_exe().expect("bench executable");
    let mut results: Vec<Vec<(&str, Run)>> = Vec::new();
    for round in 0..rounds {
        let mut order = KINDS.to_vec();
        order.rotate_left(round % KINDS.len());
        let mut runs = Vec::new();
        for kind in order {
            let dir = fresh_dir(kind);
            let mut cmd = std::process::Command::new(&exe);
            cmd.env("BENCH_STORE_CHILD", kind)
                .env("BENCH_OKTA_URL", fake.base_url())
                .env("BENCH_OKTA_TOKEN", fake.api_token())
                .env("BENCH_DIR", &dir)
                .env("BENCH_S3_URL", format!("s3://{BUCKET}/round{round}-{kind}"));
            for (k, v) in server.env() {
                cmd.env(k, v);
            }
            // Waited for off the runtime, which keeps serving the fake org and the S3 server.
            let out = tokio::task::spawn_blocking(move || cmd.output())
                .await
                .expect("join")
                .expect("child runs");
            assert!(
                out.status.success(),
                "{kind}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let line = String::from_utf8_lossy(&out.stdout);
            let run = Run::from_json(
                &serde_json::from_str(line.lines().last().unwrap_or_default())
                    .expect("child prints JSON"),
            );
            println!(
                "  round {round} {kind:<10} {} resources: fetch {:.2}s, save {:.2}s, save again {:.2}s, load {:.2}s; {:.0} resources/s; peak RSS {:.0} MiB",
                run.resources,
                run.fetch,
                run.save,
                run.resave,
                run.load,
                run.throughput(),
                run.peak_mib
            );
            let _ = std::fs::remove_dir_all(&dir);
            runs.push((kind, run));
        }
        results.push(runs);
    }
    for kind in ["encrypted", "object"] {
        let target = if kind == "encrypted" { 1.10 } else { 1.5 };
        let mut ratios = Vec::new();
        for runs in &results {
            let get = |k: &str| runs.iter().find(|(n, _)| *n == k).map(|(_, r)| *r);
            if let (Some(fs), Some(r)) = (get("filesystem"), get(kind)) {
                ratios.push((
                    fs.throughput() / r.throughput(),
                    r.save / fs.save,
                    r.resave / fs.resave,
                    r.load / fs.load,
                    r.peak_mib,
                    fs.peak_mib,
                ));
            }
        }
        for (round, (backup, save, resave, load, peak, fs_peak)) in ratios.iter().enumerate() {
            println!(
                "{kind} ÷ filesystem, round {round}: backup time {backup:.3} (target ≤ {target}), save {save:.3}, save again {resave:.3}, load {load:.3}; peak RSS {peak:.0} MiB vs {fs_peak:.0} MiB"
            );
        }
    }
}
