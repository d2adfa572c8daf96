//! The operations commands of the `butterfly` binary against a fake Okta org: retention
//! (prune, hold, release, delete), the run journal (runs, status) and schedules (next, run,
//! save). `BUTTERFLY_NOW` fixes the clock where output depends on it.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
use serde_json::Value;

struct Cli<'a> {
    store: &'a Path,
    env: Vec<(String, String)>,
}

impl Cli<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_butterfly"));
        cmd.env_clear()
            .arg("--store")
            .arg(self.store)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

async fn fake_okta(seed: u64) -> FakeOkta {
    FakeOkta::start(
        OktaOrgSpec {
            users: 20,
            seed,
            governance: false,
        },
        OktaOptions::default(),
    )
    .await
    .unwrap()
}

fn okta_env(fake: &FakeOkta) -> Vec<(String, String)> {
    vec![
        ("OKTA_ORG_URL".into(), fake.base_url()),
        ("OKTA_API_TOKEN".into(), fake.api_token().into()),
    ]
}

fn backup(cli: &Cli) -> String {
    let out = cli.run(&["backup", "okta", "--kinds", "okta.group", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    json(&out)["snapshot"].as_str().unwrap().to_string()
}

fn listed(cli: &Cli) -> BTreeSet<String> {
    let out = cli.run(&["list", "--json"]);
    json(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

fn ids(plan: &Value, part: &str) -> BTreeSet<String> {
    plan[part]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["snapshot"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_dry_run_then_prune_keeps_the_newest_and_the_held_one() {
    let fake = fake_okta(31).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli {
        store: dir.path(),
        env: okta_env(&fake),
    };
    // Oldest first.
    let snaps: Vec<String> = (0..4).map(|_| backup(&cli)).collect();
    let (held, newest) = (&snaps[1], &snaps[3]);

    let out = cli.run(&["hold", held, "--reason", "audit 2026", "--by", "alice"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("by alice: audit 2026"));

    // A held snapshot cannot be deleted.
    let out = cli.run(&["delete", held]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("compliance hold") && err.contains("audit 2026"),
        "{err}"
    );
    assert_eq!(listed(&cli).len(), 4);

    // The dry run deletes nothing and says what a prune would do.
    let out = cli.run(&["prune", "--keep", "1", "--dry-run", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let plan = json(&out)["plan"].clone();
    let planned = ids(&plan, "delete");
    assert_eq!(
        planned,
        BTreeSet::from([snaps[0].clone(), snaps[2].clone()])
    );
    assert_eq!(
        ids(&plan, "keep"),
        BTreeSet::from([held.clone(), newest.clone()])
    );
    assert_eq!(listed(&cli).len(), 4, "a dry run deletes nothing");
    let out = cli.run(&["prune", "--keep", "1", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("dry run: nothing was deleted"), "{text}");
    assert!(
        text.contains("audit 2026"),
        "the hold is the reason: {text}"
    );

    // The prune deletes exactly what the plan said.
    let out = cli.run(&["prune", "--keep", "1", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let deleted: BTreeSet<String> = json(&out)["report"]["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(deleted, planned);
    assert_eq!(listed(&cli), BTreeSet::from([held.clone(), newest.clone()]));
    // What is left still verifies.
    for id in [held, newest] {
        assert_eq!(code(&cli.run(&["verify", id])), 0);
    }

    // A prune with --keep 0 still keeps the newest successful snapshot and the held one.
    let out = cli.run(&["prune", "--keep", "0", "--json"]);
    assert_eq!(code(&out), 0);
    assert!(
        json(&out)["report"]["deleted"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Released, it can be deleted.
    let out = cli.run(&["release", held]);
    assert_eq!(code(&out), 0);
    let out = cli.run(&["delete", held]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(listed(&cli), BTreeSet::from([newest.clone()]));
    // Deleting it again: not found.
    assert_eq!(code(&cli.run(&["delete", held])), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_policies_and_max_age_use_the_fixed_clock() {
    let fake = fake_okta(32).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cli = Cli {
        store: dir.path(),
        env: okta_env(&fake),
    };
    let old = backup(&cli);
    let new = backup(&cli);
    // Today nothing is older than 30 days.
    let out = cli.run(&["prune", "--max-age", "30d", "--save", "--dry-run", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(ids(&json(&out)["plan"], "delete").is_empty());
    // Forty days from now, the saved policy deletes the older one (never the newest).
    let later = (chrono::Utc::now() + chrono::TimeDelta::days(40)).to_rfc3339();
    cli.env.push(("BUTTERFLY_NOW".into(), later));
    let out = cli.run(&["prune", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(ids(&json(&out)["plan"], "delete"), BTreeSet::from([old]));
    assert_eq!(listed(&cli), BTreeSet::from([new]));
    let out = cli.run(&["prune", "--max-age", "30x"]);
    assert_eq!(code(&out), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_lists_a_failed_run_with_its_error_and_status_shows_it() {
    let fake = fake_okta(33).await;
    let dir = tempfile::tempdir().unwrap();
    let good = Cli {
        store: dir.path(),
        env: okta_env(&fake),
    };
    let snapshot = backup(&good);
    let wrong = Cli {
        store: dir.path(),
        env: vec![
            ("OKTA_ORG_URL".into(), fake.base_url()),
            ("OKTA_API_TOKEN".into(), "SECRET-wrong-token".into()),
        ],
    };
    let out = wrong.run(&["backup", "okta"]);
    assert_eq!(code(&out), 1);

    let out = good.run(&["runs", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let runs = json(&out);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    // Newest first: the failure, which left no snapshot.
    assert_eq!(runs[0]["status"], "failed");
    assert_eq!(runs[0]["provider"], "okta");
    assert_eq!(runs[0]["error_kind"], "auth");
    assert!(runs[0]["snapshot"].is_null());
    let error = runs[0]["error"].as_str().unwrap();
    assert!(error.contains("rejected the credentials"), "{error}");
    assert!(!out.stdout.windows(6).any(|w| w == b"SECRET"));
    assert!(runs[0]["duration_ms"].is_u64());
    assert_eq!(runs[1]["status"], "success");
    assert_eq!(runs[1]["snapshot"], snapshot.as_str());
    assert!(runs[1]["kinds"]["okta.group"]["count"].as_u64().unwrap() > 0);

    let out = good.run(&["runs"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("failed") && text.contains("rejected the credentials"),
        "{text}"
    );

    // Filters: provider and time range.
    let count = |args: &[&str]| json(&good.run(args)).as_array().unwrap().len();
    assert_eq!(count(&["runs", "--provider", "entra", "--json"]), 0);
    assert_eq!(count(&["runs", "--provider", "okta", "--json"]), 2);
    let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let yesterday = (chrono::Utc::now() - chrono::TimeDelta::days(1))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(count(&["runs", "--since", &tomorrow, "--json"]), 0);
    assert_eq!(count(&["runs", "--until", &yesterday, "--json"]), 0);
    assert_eq!(
        count(&[
            "runs", "--since", &yesterday, "--until", &tomorrow, "--json"
        ]),
        2
    );
    assert_eq!(code(&good.run(&["runs", "--since", "last week"])), 2);

    // Status: the snapshot and the last run, which failed.
    let out = good.run(&["status", "--json"]);
    let rows = json(&out);
    assert_eq!(rows[0]["snapshot"], snapshot.as_str());
    assert_eq!(rows[0]["last_run"]["status"], "failed");
    let out = good.run(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("last run") && text.contains("rejected the credentials"),
        "{text}"
    );
}

const SCHEDULES: &str = r#"
[schedule]
timezone = "Europe/Berlin"

[schedule.okta]
frequency = "daily"
at = "02:30"

[schedule.entra]
frequency = "weekly"
day = "sunday"
at = "01:30"
timezone = "America/New_York"

[schedule.auth0]
frequency = "monthly"
day = 31
at = "03:00"
"#;

#[test]
fn schedule_next_prints_the_expected_runs_for_a_fixed_clock() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("butterfly.toml");
    std::fs::write(&config, SCHEDULES).unwrap();
    let config = config.to_str().unwrap();
    let store = dir.path().join("no-store-yet");
    let cli = Cli {
        store: &store,
        env: vec![("BUTTERFLY_NOW".into(), "2027-02-27T12:00:00Z".into())],
    };
    let out = cli.run(&["schedule", "next", "--config", config, "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let next = json(&out);
    let runs = |provider: &str| -> Vec<String> {
        next.as_array()
            .unwrap()
            .iter()
            .find(|p| p["provider"] == provider)
            .unwrap()["next"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    };
    // Berlin is CET (+1) until 28 March 2027 02:00.
    assert_eq!(
        runs("okta"),
        [
            "2027-02-28T01:30:00Z",
            "2027-03-01T01:30:00Z",
            "2027-03-02T01:30:00Z"
        ]
    );
    // New York is EST (-5) until 14 March 2027 02:00: that Sunday's 01:30 is still EST.
    assert_eq!(
        runs("entra"),
        [
            "2027-02-28T06:30:00Z",
            "2027-03-07T06:30:00Z",
            "2027-03-14T06:30:00Z"
        ]
    );
    // Day 31: the last day of February, then 31 March (CEST) and 30 April.
    assert_eq!(
        runs("auth0"),
        [
            "2027-02-28T02:00:00Z",
            "2027-03-31T01:00:00Z",
            "2027-04-30T01:00:00Z"
        ]
    );
    let out = cli.run(&["schedule", "next", "--config", config]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("okta: daily at 02:30 (Europe/Berlin)"),
        "{text}"
    );
    assert!(
        text.contains("2027-03-14T06:30:00Z  2027-03-14 01:30 EST"),
        "{text}"
    );
    assert!(!store.exists(), "schedule next creates no store");

    // Across the 2027 spring-forward night in Berlin: 02:30 does not exist, runs at 03:00.
    let cli = Cli {
        store: &store,
        env: vec![("BUTTERFLY_NOW".into(), "2027-03-27T12:00:00Z".into())],
    };
    let out = cli.run(&[
        "schedule", "next", "--config", config, "--count", "1", "--json",
    ]);
    let first = json(&out)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "okta")
        .unwrap()["local"][0]
        .clone();
    assert_eq!(first, "2027-03-28 03:00 CEST");

    // Bad schedules: one-line config errors, exit 2.
    for (bad, needle) in [
        (
            "[schedule.okta]\nfrequency = \"daily\"\nat = \"02:00\"\ntimezone = \"Mars/Olympus\"\n",
            "unknown time zone",
        ),
        (
            "[schedule.okta]\nfrequency = \"monthly\"\nday = 0\nat = \"02:00\"\n",
            "day = 0",
        ),
        (
            "[schedule.okta]\nfrequency = \"daily\"\nat = \"25:00\"\n",
            "invalid time",
        ),
        (
            "[schedule.nope]\nfrequency = \"hourly\"\n",
            "unknown provider",
        ),
        (
            "[okta]\norg_url = \"https://acme.okta.com\"\n",
            "no schedules",
        ),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, bad).unwrap();
        let out = cli.run(&["schedule", "next", "--config", path.to_str().unwrap()]);
        assert_eq!(code(&out), 2, "{bad}");
        let err = stderr(&out);
        assert!(
            err.contains(needle) && err.trim().lines().count() == 1,
            "{bad}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_failures_pause_after_three_and_saving_again_resumes() {
    let fake = fake_okta(34).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("butterfly.toml");
    std::fs::write(
        &config,
        format!(
            "[okta]\norg_url = \"{}\"\n[schedule.okta]\nfrequency = \"daily\"\nat = \"02:00\"\ntimezone = \"UTC\"\n",
            fake.base_url()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let store = dir.path().join("store");
    let wrong = Cli {
        store: &store,
        env: vec![("OKTA_API_TOKEN".into(), "wrong".into())],
    };
    for attempt in 1..=3 {
        let out = wrong.run(&["schedule", "run", "--once", "--config", config]);
        assert_eq!(code(&out), 1, "attempt {attempt}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).contains("schedule paused until"),
            attempt == 3,
            "attempt {attempt}: {}",
            stderr(&out)
        );
    }
    let out = wrong.run(&["status", "--config", config]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("paused until") && text.contains("3 consecutive failures"),
        "{text}"
    );
    let runs = json(&wrong.run(&["runs", "--json"]));
    assert_eq!(runs.as_array().unwrap().len(), 3);
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .all(|r| r["trigger"] == "schedule" && r["status"] == "failed")
    );

    // The pause moves the next run: not tomorrow 02:00 but the first slot after 24 hours.
    let out = wrong.run(&["schedule", "next", "--config", config, "--json"]);
    let next = json(&out)[0]["next"][0].as_str().unwrap().to_string();
    let next = chrono::DateTime::parse_from_rfc3339(&next).unwrap();
    assert!(
        next > chrono::Utc::now() + chrono::TimeDelta::hours(24),
        "{next}"
    );

    // Saving the schedule again clears the count and the pause; a good run then succeeds.
    let out = wrong.run(&["schedule", "save", "--config", config]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = wrong.run(&["status", "--config", config]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("paused"));
    let good = Cli {
        store: &store,
        env: vec![("OKTA_API_TOKEN".into(), fake.api_token().into())],
    };
    let out = good.run(&["schedule", "run", "--once", "--config", config, "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = good.run(&["status", "--config", config, "--json"]);
    let rows = json(&out);
    assert_eq!(rows[0]["last_run"]["status"], "success");
    assert_eq!(rows[0]["last_run"]["trigger"], "schedule");
    assert!(
        rows[0]["next_run"]
            .as_str()
            .unwrap()
            .ends_with("T02:00:00Z")
    );
    assert!(rows[0]["schedule_warning"].is_null());
}

#[test]
fn schedule_run_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("butterfly.toml");
    std::fs::write(
        &config,
        "[schedule.okta]\nfrequency = \"monthly\"\nday = 1\nat = \"00:00\"\n",
    )
    .unwrap();
    let store = dir.path().join("store");
    let cli = Cli {
        store: &store,
        env: vec![],
    };
    let mut child = cli
        .command(&["schedule", "run", "--config", config.to_str().unwrap()])
        .spawn()
        .unwrap();
    // The runner announces its next run once it listens for signals.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("next: okta at"), "{line}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("stopped"), "{rest}");
}

/// `schedule run --once` against a slow fake Okta org, with a signal sent while the backup is
/// in flight (the journal holds its `running` entry): returns the process, the store and the
/// fake (kept alive).
async fn scheduled_backup_in_flight(
    signals: usize,
) -> (std::process::Child, tempfile::TempDir, FakeOkta) {
    use butterfly_testkit::fake::{Fault, FaultRule};
    let fake = FakeOkta::start(
        OktaOrgSpec {
            users: 20,
            seed: 41,
            governance: false,
        },
        OktaOptions {
            faults: vec![FaultRule {
                path_prefix: "/api/v1/".into(),
                method: None,
                fault: Fault::Slow(std::time::Duration::from_millis(60)),
                every: 1,
                times: usize::MAX,
            }],
            ..OktaOptions::default()
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("butterfly.toml");
    std::fs::write(
        &config,
        format!(
            "[okta]\norg_url = \"{}\"\n[schedule.okta]\nfrequency = \"daily\"\nat = \"02:00\"\n",
            fake.base_url()
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let cli = Cli {
        store: &store,
        env: vec![("OKTA_API_TOKEN".into(), fake.api_token().into())],
    };
    let mut child = cli
        .command(&[
            "schedule",
            "run",
            "--once",
            "--config",
            config.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    // The journal's `running` entry is written once the backup has started.
    let journal = store.join("records").join("journal");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let running = || {
        walk(&journal)
            .iter()
            .any(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("\"running\"")))
    };
    while !running() {
        assert!(
            std::time::Instant::now() < deadline,
            "the backup never started"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the runner ended early"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for _ in 0..signals {
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (child, dir, fake)
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_lets_the_backup_in_flight_complete() {
    let (child, dir, _fake) = scheduled_backup_in_flight(1).await;
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stopping after the backup in flight"),
        "{}",
        stderr(&out)
    );
    let cli = Cli {
        store: &dir.path().join("store"),
        env: vec![],
    };
    let list = json(&cli.run(&["list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let runs = json(&cli.run(&["runs", "--json"]));
    assert_eq!(runs[0]["status"], "success", "{runs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_stops_at_once_and_leaves_no_visible_snapshot() {
    let (child, dir, _fake) = scheduled_backup_in_flight(2).await;
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 130, "{}", stderr(&out));
    let cli = Cli {
        store: &dir.path().join("store"),
        env: vec![],
    };
    let list = json(&cli.run(&["list", "--json"]));
    assert!(list.as_array().unwrap().is_empty(), "{list}");
}
