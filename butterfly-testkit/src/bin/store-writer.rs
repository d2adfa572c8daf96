//! Test helper: saves synthetic snapshots into a filesystem store in a loop, announcing each
//! save on stdout, so the crash-safety test can kill it at any moment.
//!
//! Usage: `store-writer <dir> <snapshots> <resources>`

use butterfly_core::store::{FsStore, StoreExt};
use std::io::Write;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(count), Some(size)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: store-writer <dir> <snapshots> <resources>");
        std::process::exit(2);
    };
    let (count, size): (u64, usize) = (count.parse().unwrap_or(1), size.parse().unwrap_or(1000));
    let store = match FsStore::open(dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    for i in 0..count {
        let snap = butterfly_testkit::synthetic::mutate(
            &butterfly_testkit::synthetic::snapshot(size, i),
            50.0,
            i,
        );
        println!("saving {i}");
        let _ = std::io::stdout().flush();
        if let Err(e) = store.save(&snap).await {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        println!("saved {i}");
        let _ = std::io::stdout().flush();
    }
}
