//! End-to-end Entra backup bench: a generated tenant served by the fake with Graph-like
//! resource-unit budgets (per 10 s window, time scaled), backed up in full by the real client,
//! then again incrementally with nothing changed (delta cursors), then changed a little and
//! backed up incrementally once more. Prints requests, wall time and CPU time per user object
//! for each.
//!
//! The fake runs on its own tokio runtime (threads named `bench-fake`) and the client on
//! another (`bench-client`), so the CPU of each is summed from `/proc/self/task/*/stat` per
//! thread group; the whole-process figure (both, plus the main thread) is printed too.
//!
//! `cargo bench -p benches --bench entra_backup -- [users] [scale] [full-only|users-only]`
//! (defaults 100000 users, 10x). `full-only` stops after the full backup (for profiling it
//! alone); `users-only` backs up `entra.user` alone, like the SDK comparison in `benches/sdk`
//! measures a users listing, and prints its client CPU per user. Each mode is its own process,
//! so that no backup reuses memory another one freed.
//!
//! The process allocates through mimalloc, as the `butterfly` CLI does: most of a backup's
//! memory is the snapshot's JSON values, and how the allocator gets that memory from the kernel
//! shows in the client's CPU (page faults). `--features system-alloc` uses the system allocator
//! instead, for comparison.

/// mimalloc, like the `butterfly` CLI (see the module docs).
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::{cpu_seconds, peak_rss_mib, positional_args, rss_mib, thread_cpu_seconds};
use butterfly_core::backup::{self, BackupOptions};
use butterfly_entra::{EntraAuth, EntraConfig, EntraProvider};
use butterfly_testkit::entra::{EntraOptions, EntraTenantSpec, FakeEntra, graph_rate_limits};
use secrecy::SecretString;
use serde_json::json;

fn requests(p: &EntraProvider) -> u64 {
    p.http_stats().requests.values().sum()
}

/// Thread-name prefixes of the two runtimes (Linux keeps 15 bytes of a thread's name).
const CLIENT_THREADS: &str = "bench-client";
const FAKE_THREADS: &str = "bench-fake";

/// CPU seconds so far of the whole process, the client's threads and the fake's threads.
fn cpu_now() -> [f64; 3] {
    [
        cpu_seconds(),
        thread_cpu_seconds(CLIENT_THREADS),
        thread_cpu_seconds(FAKE_THREADS),
    ]
}

fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn main() {
    let args = positional_args();
    let users: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let scale: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let mode = args.get(2).cloned().unwrap_or_default();
    let generated = Instant::now();
    // The fake's accept loop and connections are spawned onto `fake_rt`'s workers; the
    // client's whole run is one task spawned onto `client_rt`.
    let fake_rt = runtime(FAKE_THREADS);
    let fake = fake_rt
        .block_on(FakeEntra::start(
            EntraTenantSpec { users, seed: 1 },
            EntraOptions {
                rate_limits: Some(graph_rate_limits(scale)),
                ..EntraOptions::default()
            },
        ))
        .expect("fake tenant starts");
    let client_rt = runtime(CLIENT_THREADS);
    client_rt
        .block_on(client_rt.spawn(run(fake, users, scale, generated, mode)))
        .expect("bench task");
    drop(client_rt);
    drop(fake_rt);
}

/// Prints one backup's CPU split: whole process, client only, fake only.
fn cpu_line(label: &str, before: [f64; 3], after: [f64; 3], users: usize) -> String {
    let per_user = |s: f64| s * 1e6 / users.max(1) as f64;
    let [process, client, fake] = [0, 1, 2].map(|i| after[i] - before[i]);
    format!(
        "  {label} CPU: client {client:.2}s = {:.1} µs per user object (client only); fake {fake:.2}s = {:.1} µs per user; whole process {process:.2}s = {:.1} µs per user",
        per_user(client),
        per_user(fake),
        per_user(process),
    )
}

async fn run(fake: FakeEntra, users: usize, scale: f64, generated: Instant, mode: String) {
    println!(
        "entra_backup: {users} users, Graph budgets scaled {scale}x; tenant generated in {:.1}s",
        generated.elapsed().as_secs_f64()
    );
    let entra = EntraProvider::new(EntraConfig {
        tenant_id: fake.tenant_id().to_string(),
        client_id: fake.client_id().to_string(),
        auth: EntraAuth::Certificate {
            private_key: SecretString::from(fake.certificate_private_key_pem().to_string()),
            thumbprint: fake.certificate_thumbprint().to_string(),
        },
        cloud: Default::default(),
        graph_url: Some(fake.base_url()),
        authority_url: Some(fake.base_url()),
        max_share: Some(1.0),
        budget: None,
        budget_period: Some(Duration::from_secs_f64(10.0 / scale)),
        delta_state_file: None,
    })
    .expect("provider");
    let t0 = Arc::new(std::sync::Mutex::new(Instant::now()));
    let timeline = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (sink, clock) = (timeline.clone(), t0.clone());
    let observer: butterfly_core::backup::Observer =
        Arc::new(move |e: &butterfly_core::backup::BackupEvent| {
            if let butterfly_core::backup::BackupEvent::KindFinished { kind, count, .. } = e {
                let at = clock.lock().map(|t| t.elapsed()).unwrap_or_default();
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((at, kind.clone(), *count));
            }
        });
    let mut options = BackupOptions::default().concurrency(16).observer(observer);
    if let Ok(k) = std::env::var("BENCH_KINDS") {
        options = options.kinds(k.split(',').map(str::to_string).collect::<Vec<_>>());
    }
    let slowest = |label: &str| {
        let mut list = std::mem::take(&mut *timeline.lock().unwrap_or_else(|p| p.into_inner()));
        list.sort();
        for (at, kind, count) in list.iter().rev().take(4).rev() {
            println!(
                "  {label}: {kind:<40} finished at {:>6.2}s ({count} resources)",
                at.as_secs_f64()
            );
        }
    };

    if mode == "users-only" {
        users_only(&entra, &options).await;
        std::mem::forget(fake);
        std::process::exit(0);
    }
    *t0.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    let (cpu0, req0, started, rss0) = (cpu_now(), requests(&entra), Instant::now(), rss_mib());
    let full = backup::run(&entra, &options).await.expect("full backup");
    let (full_wall, full_cpu_all) = (started.elapsed(), cpu_now());
    let full_cpu = full_cpu_all[0] - cpu0[0];
    let full_requests = requests(&entra) - req0;
    let full_stats = entra.http_stats();
    println!(
        "full:        {:>7} resources ({} users), status {}; {full_requests} requests {:?}, retries {}, 429s {}; wall {:.2}s, CPU {:.2}s = {:.1} µs per user object (whole process: client and fake)",
        full.resource_count(),
        full.resources("entra.user").len(),
        full.status(),
        full_stats.requests,
        full_stats.retries,
        full_stats.rate_limited,
        full_wall.as_secs_f64(),
        full_cpu,
        full_cpu * 1e6 / users.max(1) as f64
    );
    println!("{}", cpu_line("full", cpu0, full_cpu_all, users));
    println!(
        "  full memory: resident {rss0:.0} MiB before the backup (the fake tenant), {:.0} MiB after (the snapshot held), peak {:.0} MiB",
        rss_mib(),
        peak_rss_mib()
    );
    if mode == "full-only" {
        slowest("full");
        // Nothing is freed after the measurement (neither the snapshot nor the fake tenant), so
        // that a profile of this mode shows the backup's work only.
        std::mem::forget(full);
        std::mem::forget(fake);
        std::process::exit(0);
    }

    slowest("full");

    // The next day, nothing changed: incremental from the full backup.
    let full = Arc::new(full);
    *t0.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    let (cpu0, before, started) = (cpu_now(), entra.http_stats().requests, Instant::now());
    let unchanged = backup::run(&entra, &options.clone().previous(full.clone()))
        .await
        .expect("unchanged backup");
    let (un_wall, un_cpu_all) = (started.elapsed(), cpu_now());
    let by_bucket: std::collections::BTreeMap<_, _> = entra
        .http_stats()
        .requests
        .into_iter()
        .map(|(bucket, n)| {
            let was = before.get(&bucket).copied().unwrap_or(0);
            (bucket, n - was)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let same = full.kinds.len() == unchanged.kinds.len()
        && full.kinds.iter().all(|(k, d)| {
            unchanged
                .kinds
                .get(k)
                .is_some_and(|u| u.resources == d.resources)
        });
    println!(
        "unchanged:   {:>7} resources, status {}; {} requests {by_bucket:?}; wall {:.2}s; same resources as the full backup: {same}",
        unchanged.resource_count(),
        unchanged.status(),
        by_bucket.values().sum::<u64>(),
        un_wall.as_secs_f64(),
    );
    println!("{}", cpu_line("unchanged", cpu0, un_cpu_all, users));
    slowest("unchanged");

    // A day's changes: a few users edited, one created, one deleted, one membership added.
    let items = fake.items("users");
    let groups = fake.items("groups");
    fake.with_tenant(|t| {
        for u in items.iter().take(20) {
            t.update(
                "users",
                u["id"].as_str().unwrap_or_default(),
                &json!({"jobTitle": "Changed"}),
            );
        }
        let new = t.insert(
            "users",
            json!({"displayName": "New Hire", "userPrincipalName": "new.hire@bench.example",
                "mailNickname": "newhire", "accountEnabled": true, "userType": "Member"}),
        );
        if let Some(g) = groups.first().and_then(|g| g["id"].as_str()) {
            t.add_reference(&format!("groups/{g}"), "members", &new);
        }
        if let Some(u) = items.last().and_then(|u| u["id"].as_str()) {
            t.delete("users", u);
        }
    });
    // The delta cursors continue the unchanged backup: it is the previous snapshot now.
    let previous = Arc::new(unchanged);
    *t0.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    let (cpu0, req0, started) = (cpu_now(), requests(&entra), Instant::now());
    // Kept alive past the measurement: dropping the previous snapshot is not the backup's work.
    let inc_options = options.clone().previous(previous);
    let incremental = backup::run(&entra, &inc_options)
        .await
        .expect("incremental backup");
    let (inc_wall, inc_cpu_all) = (started.elapsed(), cpu_now());
    let inc_cpu = inc_cpu_all[0] - cpu0[0];
    let inc_requests = requests(&entra) - req0;
    println!(
        "incremental: {:>7} resources ({} users), status {}; {inc_requests} requests; wall {:.2}s, CPU {:.2}s",
        incremental.resource_count(),
        incremental.resources("entra.user").len(),
        incremental.status(),
        inc_wall.as_secs_f64(),
        inc_cpu,
    );
    println!("{}", cpu_line("incremental", cpu0, inc_cpu_all, users));
    slowest("incremental");
    println!(
        "full/incremental requests {:.1}x, wall {:.1}x; peak RSS {:.0} MiB (fake tenant included)",
        full_requests as f64 / inc_requests.max(1) as f64,
        full_wall.as_secs_f64() / inc_wall.as_secs_f64().max(1e-9),
        peak_rss_mib()
    );
}

/// The users listing alone: a full read of `entra.user` and nothing else, its client CPU
/// divided by the users it returned.
async fn users_only(entra: &EntraProvider, options: &BackupOptions) {
    let users_only = options.clone().kinds(["entra.user"]);
    let (cpu0, req0, started, rss0) = (cpu_now(), requests(entra), Instant::now(), rss_mib());
    let listed = backup::run(entra, &users_only).await.expect("users backup");
    let (wall, cpu_all) = (started.elapsed(), cpu_now());
    let n = listed.resources("entra.user").len();
    println!(
        "users only:  {n:>7} users; {} requests; wall {:.2}s; resident {rss0:.0} MiB before, {:.0} MiB after",
        requests(entra) - req0,
        wall.as_secs_f64(),
        rss_mib()
    );
    println!("{}", cpu_line("users only", cpu0, cpu_all, n));
    std::mem::forget(listed);
}
