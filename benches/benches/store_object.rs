//! Store throughput: one large synthetic snapshot saved to, saved again to (every blob
//! reused) and loaded from a plain [`FsStore`] and an [`ObjectSnapshotStore`] on an
//! S3-compatible server (s3s-fs, in this process, over HTTP on 127.0.0.1 with SigV4), alternately
//! in the same run, each time into a fresh directory or prefix. Prints the best time of each,
//! the object/filesystem ratios (target: saving ≤ 1.5×) and the peak memory of each phase
//! (the object store's includes the server's).
//!
//! `cargo bench -p benches --bench store_object -- [resources] [rounds]` (defaults 100000
//! resources, 3 rounds)

use std::path::PathBuf;
use std::time::{Duration, Instant};

use benches::{peak_rss_mib, positional_args};
use butterfly_core::store::{FsStore, ObjectSnapshotStore, SnapshotStore, StoreExt};
use butterfly_core::{Snapshot, SnapshotId};
use butterfly_testkit::synthetic;
use secrecy::SecretString;

const BUCKET: &str = "bench";
const ACCESS_KEY: &str = "AKIDBENCH";
const SECRET_KEY: &str = "bench-secret";

/// A fresh directory under the system's temporary directory.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "butterfly-bench-{}-{name}-{:08x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("create bench directory");
    dir
}

/// Starts s3s-fs on 127.0.0.1 with its data in `dir`; returns its endpoint.
async fn start_server(dir: &std::path::Path) -> String {
    std::fs::create_dir_all(dir.join(BUCKET)).expect("bucket directory");
    let fs = s3s_fs::FileSystem::new(dir).expect("s3s-fs");
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            // Without it, small answers wait out the client's delayed ACK (Nagle).
            let _ = socket.set_nodelay(true);
            let service = service.clone();
            tokio::spawn(async move {
                let http = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                );
                let _ = http
                    .serve_connection(hyper_util::rt::TokioIo::new(socket), service)
                    .await;
            });
        }
    });
    endpoint
}

/// Resets this process's peak resident set size (Linux), so the next phase's peak is its own.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Times of one store: the first save, a second save of the same content (every blob
/// reused), a load, and the peak memory while doing them.
#[derive(Clone, Copy)]
struct Times {
    save: Duration,
    resave: Duration,
    load: Duration,
    peak_mib: f64,
}

impl Times {
    const WORST: Times = Times {
        save: Duration::MAX,
        resave: Duration::MAX,
        load: Duration::MAX,
        peak_mib: 0.0,
    };

    fn best(self, other: Times) -> Times {
        Times {
            save: self.save.min(other.save),
            resave: self.resave.min(other.resave),
            load: self.load.min(other.load),
            peak_mib: self.peak_mib.max(other.peak_mib),
        }
    }
}

/// Saves `snapshot`, saves it again under a new id, then loads it.
async fn save_load<S: SnapshotStore>(store: &S, snapshot: &Snapshot) -> Times {
    reset_peak();
    let start = Instant::now();
    store.save(snapshot).await.expect("save");
    let save = start.elapsed();
    let mut again = snapshot.clone();
    again.meta.id = SnapshotId::generate("synthetic", again.meta.started_at);
    let start = Instant::now();
    let report = store.save(&again).await.expect("save again");
    let resave = start.elapsed();
    assert_eq!(report.new_blobs, 0, "the second save reuses every blob");
    let start = Instant::now();
    let loaded = store.load(&snapshot.meta.id).await.expect("load");
    let load = start.elapsed();
    assert_eq!(loaded.resource_count(), snapshot.resource_count());
    Times {
        save,
        resave,
        load,
        peak_mib: peak_rss_mib(),
    }
}

#[tokio::main]
async fn main() {
    let args = positional_args();
    let resources: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let snapshot = synthetic::snapshot(resources, 1);
    let encoded = snapshot.encode().expect("encode");
    let bytes: usize = encoded.blobs.iter().map(|(_, b)| b.len()).sum();
    drop(encoded);
    println!(
        "store_object: {resources} resources, {:.1} MiB of chunks, best of {rounds} rounds",
        bytes as f64 / (1 << 20) as f64
    );
    let server_dir = fresh_dir("s3");
    let endpoint = start_server(&server_dir).await;
    let (mut fs_times, mut object_times) = (Times::WORST, Times::WORST);
    for round in 0..rounds {
        // Alternate the order so neither store always runs on a warmer cache.
        for object in [round % 2 == 1, round % 2 == 0] {
            if object {
                let store = ObjectSnapshotStore::builder(BUCKET)
                    .prefix(format!("round{round}"))
                    .endpoint(&endpoint)
                    .credentials(ACCESS_KEY, SecretString::from(SECRET_KEY))
                    .build()
                    .expect("object store");
                object_times = object_times.best(save_load(&store, &snapshot).await);
                let _ =
                    std::fs::remove_dir_all(server_dir.join(BUCKET).join(format!("round{round}")));
            } else {
                let dir = fresh_dir("fs");
                let store = FsStore::open(&dir).expect("open store");
                fs_times = fs_times.best(save_load(&store, &snapshot).await);
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&server_dir);
    let mib_s = |d: Duration| bytes as f64 / (1 << 20) as f64 / d.as_secs_f64();
    let ratio = |o: Duration, f: Duration| o.as_secs_f64() / f.as_secs_f64();
    println!(
        "save: filesystem {:.3}s ({:.0} MiB/s), object store {:.3}s ({:.0} MiB/s), ratio {:.3} (target ≤ 1.5)",
        fs_times.save.as_secs_f64(),
        mib_s(fs_times.save),
        object_times.save.as_secs_f64(),
        mib_s(object_times.save),
        ratio(object_times.save, fs_times.save)
    );
    println!(
        "save again (all blobs reused): filesystem {:.3}s, object store {:.3}s, ratio {:.3}",
        fs_times.resave.as_secs_f64(),
        object_times.resave.as_secs_f64(),
        ratio(object_times.resave, fs_times.resave)
    );
    println!(
        "load: filesystem {:.3}s, object store {:.3}s, ratio {:.3}",
        fs_times.load.as_secs_f64(),
        object_times.load.as_secs_f64(),
        ratio(object_times.load, fs_times.load)
    );
    println!(
        "peak RSS: filesystem {:.0} MiB, object store {:.0} MiB (server in the same process)",
        fs_times.peak_mib, object_times.peak_mib
    );
}
