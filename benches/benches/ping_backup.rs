//! End-to-end backup bench: a generated PingOne environment served by the fake with PingOne's
//! documented limits (a `config` bucket of 600 requests a minute, `directory` (users, groups,
//! populations) and `auth` buckets of 6,000 a minute), time scaled by a factor, backed up by
//! the real client. Prints wall time divided by the rate-limit bound: the least time the
//! requests the backup needed could take at the limits (per bucket: requests / allowed rate;
//! the bound is the slowest bucket).
//!
//! `cargo bench -p benches --bench ping_backup -- [users] [scale]` (defaults 100000 users, 60x)

use std::time::{Duration, Instant};

use benches::{cpu_seconds, peak_rss_mib, positional_args};
use butterfly_core::backup::{self, BackupOptions};
use butterfly_ping::{DEFAULT_BUCKETS, PingConfig, PingProvider};
use butterfly_testkit::ping::{FakePing, PingEnvSpec, PingOptions, ping_rate_limits};
use secrecy::SecretString;

#[tokio::main]
async fn main() {
    let args = positional_args();
    let users: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let scale: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(60.0);
    let share = 1.0;
    let limits = ping_rate_limits(scale);
    let generated = Instant::now();
    let fake = FakePing::start(
        PingEnvSpec { users, seed: 1 },
        PingOptions {
            rate_limits: Some(limits.clone()),
            ..PingOptions::default()
        },
    )
    .await
    .expect("fake environment starts");
    println!(
        "ping_backup: {users} users, limits scaled {scale}x, client share {share}; environment generated in {:.1}s",
        generated.elapsed().as_secs_f64()
    );
    let period = Duration::from_secs_f64(60.0 / scale);
    let ping = PingProvider::new(PingConfig {
        environment_id: fake.environment_id().to_string(),
        client_id: fake.client_id().to_string(),
        client_secret: SecretString::from(fake.client_secret().to_string()),
        region: "com".into(),
        api_url: Some(fake.api_url()),
        auth_url: None,
        max_share: Some(share),
        rate_scale: Some(scale),
    })
    .expect("provider");
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    let t0 = started;
    let timeline = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = timeline.clone();
    let observer: butterfly_core::backup::Observer =
        std::sync::Arc::new(move |e: &butterfly_core::backup::BackupEvent| {
            if let butterfly_core::backup::BackupEvent::KindFinished { kind, count, .. } = e {
                sink.lock().unwrap_or_else(|p| p.into_inner()).push((
                    t0.elapsed(),
                    kind.clone(),
                    *count,
                ));
            }
        });
    let snapshot = backup::run(
        &ping,
        &BackupOptions::default().concurrency(16).observer(observer),
    )
    .await
    .expect("backup");
    let wall = started.elapsed();
    let cpu = cpu_seconds() - cpu0;
    let requests = fake.server().requests_per_bucket();
    let mut timeline = timeline.lock().unwrap_or_else(|p| p.into_inner()).clone();
    timeline.sort();
    for (at, kind, count) in timeline.iter().rev().take(5).rev() {
        println!(
            "  kind {kind:<28} finished at {:>6.2}s ({count} resources)",
            at.as_secs_f64()
        );
    }
    let mut bound = Duration::ZERO;
    let mut slowest = String::new();
    for (bucket, n) in &requests {
        // The client's buckets; `auth` (the token endpoint) only the fake limits.
        let limit = DEFAULT_BUCKETS
            .iter()
            .find(|(b, _)| b == bucket)
            .map(|(_, l)| *l)
            .or_else(|| {
                limits
                    .buckets
                    .iter()
                    .find(|b| &b.name == bucket)
                    .map(|b| b.limit)
            })
            .unwrap_or(600) as f64
            * share;
        let t = period.mul_f64(*n as f64 / limit);
        println!(
            "  bucket {bucket:<22} {n:>7} requests  limit {limit:>6.0}/window  bound {:>6.2}s",
            t.as_secs_f64()
        );
        if t > bound {
            bound = t;
            slowest = bucket.clone();
        }
    }
    println!(
        "  {} resources ({} users), status {}; retries {}, 429s {}",
        snapshot.resource_count(),
        snapshot.resources("ping.user").len(),
        snapshot.status(),
        ping.http_stats().retries,
        ping.http_stats().rate_limited
    );
    println!(
        "wall {:.2}s, rate-limit bound {:.2}s ({slowest}), wall/bound {:.3}; peak RSS {:.0} MiB (fake environment included); client+fake CPU {:.1} µs per resource",
        wall.as_secs_f64(),
        bound.as_secs_f64(),
        wall.as_secs_f64() / bound.as_secs_f64(),
        peak_rss_mib(),
        cpu * 1e6 / snapshot.resource_count().max(1) as f64
    );
}
