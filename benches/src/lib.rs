//! Benchmarks for butterfly; see `benches/README.md` for the commands and the figures.
//!
//! - `benches/snapshot.rs` (criterion): snapshot encode + hash and diff at 100,000 resources.
//! - `benches/okta_backup.rs`: a full Okta backup against a rate-limited fake org, reporting
//!   wall time divided by the rate-limit bound.
//!
//! The data comes from [`butterfly_testkit::synthetic`] and the fake orgs:
//!
//! ```
//! let snapshot = butterfly_testkit::synthetic::snapshot(1_000, 7);
//! assert_eq!(snapshot.resource_count(), 1_000);
//! ```
//!
//! Shared measurement helpers for the end-to-end benches: [`peak_rss_mib`], [`cpu_seconds`],
//! [`positional_args`], [`thread_cpu_seconds`] (CPU of one named group of threads, e.g. a
//! tokio runtime built with `thread_name`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Peak resident set size of this process (`VmHWM`), in MiB; 0 where `/proc` is missing.
pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

/// Resident memory of this process now, in MiB; 0 where `/proc` is missing.
pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time (user + system) this process has used so far, in seconds; 0 where `/proc` is
/// missing.
pub fn cpu_seconds() -> f64 {
    // utime + stime of this process, in clock ticks (100 per second on Linux).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let fields: Vec<&str> = s.rsplit(')').next()?.split_whitespace().collect();
            Some(
                (fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
                    / 100.0,
            )
        })
        .unwrap_or(0.0)
}

/// CPU time (user + system) used so far by this process's live threads whose name (`comm`,
/// which Linux truncates to 15 bytes) starts with `prefix`, in seconds; 0 where `/proc` is
/// missing. Name a tokio runtime's threads with `Builder::thread_name` to measure it alone.
/// Threads that have already exited are not counted (tokio keeps its workers alive for the
/// runtime's lifetime; idle blocking-pool threads exit after 10 s).
pub fn thread_cpu_seconds(prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ticks = 0.0;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ...`: comm may contain spaces or parentheses, so split on the
        // first '(' and the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if !stat[open + 1..close].starts_with(prefix) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let field = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        ticks += field(11).unwrap_or(0.0) + field(12).unwrap_or(0.0);
    }
    ticks / 100.0
}

/// The positional (non-flag) arguments of a bench binary (cargo passes `--bench`).
pub fn positional_args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect()
}
