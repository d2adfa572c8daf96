//! Store throughput: one large synthetic snapshot saved to, and loaded from, a plain
//! [`FsStore`] and an [`EncryptedStore`] over an `FsStore`, alternately in the same run, each
//! time into a fresh directory; then saved again under a new id (every blob reused). Prints the best time of each and the encrypted/plain ratios
//! (target: saving ≤ 1.10×).
//!
//! `cargo bench -p benches --bench store_encrypted -- [resources] [rounds]` (defaults 100000
//! resources, 3 rounds)

use std::path::PathBuf;
use std::time::{Duration, Instant};

use benches::positional_args;
use butterfly_core::store::{
    EncryptedStore, FsStore, MemoryStore, SnapshotStore, StoreExt, StoreKey,
};
use butterfly_core::{Snapshot, SnapshotId};
use butterfly_testkit::synthetic;

/// A fresh directory under the system's temporary directory.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "butterfly-bench-{}-{name}-{:08x}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("create bench directory");
    dir
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default()
}

/// Times of one store: the first save, a second save of the same content (every blob
/// reused), and a load.
#[derive(Clone, Copy)]
struct Times {
    save: Duration,
    resave: Duration,
    load: Duration,
}

impl Times {
    const WORST: Times = Times {
        save: Duration::MAX,
        resave: Duration::MAX,
        load: Duration::MAX,
    };

    fn best(self, other: Times) -> Times {
        Times {
            save: self.save.min(other.save),
            resave: self.resave.min(other.resave),
            load: self.load.min(other.load),
        }
    }
}

/// Saves `snapshot`, saves it again under a new id, then loads it.
async fn save_load<S: SnapshotStore>(store: &S, snapshot: &Snapshot) -> Times {
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
    Times { save, resave, load }
}

#[tokio::main]
async fn main() {
    let args = positional_args();
    let resources: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let snapshot = synthetic::snapshot(resources, 1);
    let encoded = snapshot.encode().expect("encode");
    let bytes: usize = encoded.blobs.iter().map(|(_, b)| b.len()).sum();
    println!(
        "store_encrypted: {resources} resources, {} blobs, {:.1} MiB of chunks, best of {rounds} rounds",
        encoded.blobs.len(),
        bytes as f64 / (1 << 20) as f64
    );
    let key = StoreKey::generate();
    let (mut plain, mut encrypted) = (Times::WORST, Times::WORST);
    for round in 0..rounds {
        // Alternate the order so neither store always runs on a warmer cache.
        for encrypt in [round % 2 == 1, round % 2 == 0] {
            let dir = fresh_dir(if encrypt { "encrypted" } else { "plain" });
            let fs = FsStore::open(&dir).expect("open store");
            let times = if encrypt {
                save_load(&EncryptedStore::new(fs, key.clone()), &snapshot).await
            } else {
                save_load(&fs, &snapshot).await
            };
            let best = if encrypt { &mut encrypted } else { &mut plain };
            *best = best.best(times);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    // The same in memory: the cost of encryption alone, without the disk.
    let (mut plain_mem, mut encrypted_mem) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds {
        let times = save_load(&MemoryStore::new(), &snapshot).await;
        plain_mem = plain_mem.min(times.save);
        let store = EncryptedStore::new(MemoryStore::new(), key.clone());
        let times = save_load(&store, &snapshot).await;
        encrypted_mem = encrypted_mem.min(times.save);
    }
    let mib_s = |d: Duration| bytes as f64 / (1 << 20) as f64 / d.as_secs_f64();
    println!(
        "save: plain {:.3}s ({:.0} MiB/s), encrypted {:.3}s ({:.0} MiB/s), ratio {:.3}",
        plain.save.as_secs_f64(),
        mib_s(plain.save),
        encrypted.save.as_secs_f64(),
        mib_s(encrypted.save),
        encrypted.save.as_secs_f64() / plain.save.as_secs_f64()
    );
    println!(
        "save again (all blobs reused): plain {:.3}s, encrypted {:.3}s, ratio {:.3}",
        plain.resave.as_secs_f64(),
        encrypted.resave.as_secs_f64(),
        encrypted.resave.as_secs_f64() / plain.resave.as_secs_f64()
    );
    println!(
        "save in memory: plain {:.3}s, encrypted {:.3}s, ratio {:.3}",
        plain_mem.as_secs_f64(),
        encrypted_mem.as_secs_f64(),
        encrypted_mem.as_secs_f64() / plain_mem.as_secs_f64()
    );
    println!(
        "load: plain {:.3}s, encrypted {:.3}s, ratio {:.3}",
        plain.load.as_secs_f64(),
        encrypted.load.as_secs_f64(),
        encrypted.load.as_secs_f64() / plain.load.as_secs_f64()
    );
}
