//! End-to-end backup bench: a generated Auth0 tenant served by the fake with the Enterprise
//! tier's Management API token bucket (burst 50, 16 requests per second), time scaled by a
//! factor, backed up completely by the real client (users through the users-exports job).
//! Prints requests, wall time, the rate-limit bound (the least time the requests could take
//! in the bucket: the burst is free, every further request waits for a refill token:
//! `(requests - burst) / refill`) and wall ÷ bound.
//!
//! `cargo bench -p benches --bench auth0_backup -- [users] [scale]` (defaults 100000 users, 50x)

use std::time::Instant;

use benches::{cpu_seconds, peak_rss_mib, positional_args};
use butterfly_auth0::{Auth0Auth, Auth0Config, Auth0Provider, TokenBucket};
use butterfly_core::backup::{self, BackupOptions};
use butterfly_testkit::auth0::{
    Auth0Options, Auth0TenantSpec, Auth0Tier, DOMAIN, FakeAuth0, auth0_rate_limits,
};
use secrecy::SecretString;

#[tokio::main]
async fn main() {
    let args = positional_args();
    let users: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let scale: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50.0);
    let share = 1.0;
    let generated = Instant::now();
    let fake = FakeAuth0::start(
        Auth0TenantSpec { users, seed: 1 },
        Auth0Options {
            rate_limits: Some(auth0_rate_limits(Auth0Tier::Enterprise, scale)),
            ..Auth0Options::default()
        },
    )
    .await
    .expect("fake tenant starts");
    let bucket = TokenBucket::ENTERPRISE.scaled(scale);
    println!(
        "auth0_backup: {users} users, Enterprise token bucket (burst {}, {} per second) scaled {scale}x = {} per second, client share {share}; tenant generated in {:.1}s",
        TokenBucket::ENTERPRISE.burst,
        TokenBucket::ENTERPRISE.refill,
        bucket.refill,
        generated.elapsed().as_secs_f64()
    );
    let auth0 = Auth0Provider::new(Auth0Config {
        domain: DOMAIN.to_string(),
        auth: Auth0Auth::ClientSecret {
            client_id: fake.client_id().to_string(),
            client_secret: SecretString::from(fake.client_secret().to_string()),
        },
        audience: None,
        base_url: Some(fake.base_url()),
        rate_limit: Some(bucket),
        max_share: Some(share),
        export_threshold: None,
        export_timeout: None,
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
        &auth0,
        &BackupOptions::default().concurrency(16).observer(observer),
    )
    .await
    .expect("backup");
    let wall = started.elapsed();
    let cpu = cpu_seconds() - cpu0;
    let mut timeline = timeline.lock().unwrap_or_else(|p| p.into_inner()).clone();
    timeline.sort();
    for (at, kind, count) in timeline.iter().rev().take(5).rev() {
        println!(
            "  kind {kind:<34} finished at {:>7.2}s ({count} resources)",
            at.as_secs_f64()
        );
    }
    let requests: u64 = fake
        .server()
        .requests_per_bucket()
        .get("management")
        .copied()
        .unwrap_or(0);
    let refill = bucket.refill * share;
    let bound = (requests.saturating_sub(u64::from(bucket.burst))) as f64 / refill;
    let stats = auth0.http_stats();
    println!(
        "  {} resources ({} users), status {}; {requests} Management API requests, retries {}, 429s {}",
        snapshot.resource_count(),
        snapshot.resources("auth0.user").len(),
        snapshot.status(),
        stats.retries,
        stats.rate_limited
    );
    println!(
        "wall {:.2}s, rate-limit bound {:.2}s (({requests} - {}) / {refill}/s), wall/bound {:.3}; peak RSS {:.0} MiB (fake tenant included); client+fake CPU {:.1} µs per resource",
        wall.as_secs_f64(),
        bound,
        bucket.burst,
        wall.as_secs_f64() / bound.max(f64::MIN_POSITIVE),
        peak_rss_mib(),
        cpu * 1e6 / snapshot.resource_count().max(1) as f64
    );
}
