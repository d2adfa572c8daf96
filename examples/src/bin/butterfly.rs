//! `butterfly`: back up, diff and restore identity-provider configuration from the shell.
//!
//! Scriptable (`--json` on every command, exit codes below) and pleasant by hand (progress on
//! a terminal, colour only on a terminal).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::diff::{self, Severity};
use butterfly_core::provider::Access;
use butterfly_core::restore::{self, ExecuteOptions, RestoreOptions};
use butterfly_core::snapshot::{KindOutcome, SnapshotId, SnapshotStatus};
use butterfly_core::store::{DamagedKind, DamagedSnapshot, FsStore, SnapshotStore, StoreExt};
use butterfly_core::{Error, ErrorKind, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use examples::registry::{self, ConfigFile, Sources};
use examples::{Progress, ProgressOutput, RestoreProgress, Style, exit, out, outln};
use serde_json::json;

/// The CLI allocates through mimalloc. A backup's memory is mostly the snapshot's JSON values,
/// built in fresh memory; mimalloc takes it from the kernel in fewer, cheaper steps than the
/// system allocator, which shows in the CPU a large backup costs (`benches/README.md`). The
/// library crates leave the allocator to the application that embeds them.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The text after `--help`'s options: every provider's settings (from the registry), then
/// the rest.
fn after_help() -> String {
    format!(
        "Configuration (per provider; a --config TOML file uses the same names in lower case, \
without the prefix, under the provider's table; the environment overrides the file):\n{}\
--base-url points a provider at another API root (plain http only for 127.0.0.1, ::1, localhost).\n\n\
Exit codes: 0 ok; 1 failed; 2 usage or configuration error; 3 completed with warnings (backup)\n\
or changes at or above --fail-on (diff); 4 not found; 5 integrity check failed.",
        registry::settings_help()
    )
}

#[derive(Debug, Parser)]
#[command(
    name = "butterfly",
    version,
    about = "Back up, diff and restore identity-provider configuration"
)]
struct Cli {
    /// Snapshot store directory.
    #[arg(
        long,
        global = true,
        default_value = "./butterfly-data",
        env = "BUTTERFLY_STORE"
    )]
    store: PathBuf,
    /// Provider settings file (TOML).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Access probe: which kinds these credentials can read.
    Kinds {
        /// Provider name (see the settings below).
        provider: String,
        /// API root override (Okta org URL, Graph root, Auth0 tenant URL).
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Back up a tenant into the store.
    Backup {
        /// Provider name (see the settings below).
        provider: String,
        /// Only these kinds (comma separated ids, e.g. okta.group,okta.group_rule).
        #[arg(long, value_delimiter = ',')]
        kinds: Option<Vec<String>>,
        /// API root override (Okta org URL, Graph root, Auth0 tenant URL).
        #[arg(long)]
        base_url: Option<String>,
        /// Read everything, even where the provider could back up incrementally from the
        /// tenant's last snapshot (Entra's `/delta`).
        #[arg(long)]
        full: bool,
        /// The longest one kind may take, in seconds, retries and rate-limit waits included
        /// (0: no limit); a kind past it ends failed and the others go on.
        #[arg(long, value_name = "SECS", default_value_t = butterfly_core::backup::DEFAULT_KIND_TIMEOUT.as_secs())]
        kind_timeout: u64,
    },
    /// List snapshots, newest first.
    List {
        /// Only this provider.
        #[arg(long)]
        provider: Option<String>,
    },
    /// Last backup per provider and tenant.
    Status,
    /// Show a snapshot (`latest` for the newest).
    Show {
        /// Snapshot id or `latest`.
        snapshot: String,
        /// Show the resources of this kind.
        #[arg(long)]
        kind: Option<String>,
    },
    /// Check the integrity of every blob and resource of a snapshot, or of the whole store;
    /// every damaged object is reported (exit code 5 when there is one).
    Verify {
        /// Snapshot id or `latest` (the default).
        #[arg(conflicts_with = "all")]
        snapshot: Option<String>,
        /// Check every snapshot and blob of the store.
        #[arg(long)]
        all: bool,
    },
    /// Differences between two snapshots, ranked by severity.
    Diff {
        /// Older snapshot.
        from: String,
        /// Newer snapshot (`latest` for the newest).
        to: String,
        /// Hide changes below this severity (info, low, medium, high, critical).
        #[arg(long, default_value = "info")]
        min_severity: Severity,
        /// Exit with code 3 when a change at or above this severity exists.
        #[arg(long)]
        fail_on: Option<Severity>,
    },
    /// Restore from a snapshot: a dry-run plan, or its execution.
    Restore {
        /// Snapshot id or `latest`.
        snapshot: String,
        /// Print the plan only (no writes).
        #[arg(long, conflicts_with = "execute", required_unless_present = "execute")]
        dry_run: bool,
        /// Execute the plan (asks to type the tenant name unless --yes).
        #[arg(long)]
        execute: bool,
        /// Only these kinds.
        #[arg(long, value_delimiter = ',')]
        kinds: Option<Vec<String>>,
        /// Update resources that exist but differ.
        #[arg(long)]
        update_existing: bool,
        /// Leave existing resources that still name a re-created resource's old id as they
        /// are (reported as unresolved references) instead of repairing those references.
        #[arg(long)]
        no_repair_references: bool,
        /// Settings file (TOML) of another tenant to restore into (environment sync).
        #[arg(long)]
        target: Option<PathBuf>,
        /// API root override of the target.
        #[arg(long)]
        base_url: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Execute even when the lockout guard reports a critical finding.
        #[arg(long)]
        override_lockout: bool,
    },
}

fn main() -> ExitCode {
    let parsed = Cli::command()
        .after_help(after_help())
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            if !e.use_stderr() {
                // --help and --version.
                let _ = e.print();
                return ExitCode::from(exit::OK);
            }
            // `--json` asks for machine-readable errors, usage errors included.
            if std::env::args_os().any(|a| a == "--json") {
                let message = e.render().to_string();
                let first = message
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("usage error")
                    .trim_start_matches("error: ");
                eprintln!(
                    "{}",
                    json!({"error": {"kind": "usage", "message": first, "usage": message}})
                );
            } else {
                let _ = e.print();
            }
            return ExitCode::from(exit::USAGE);
        }
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // Errors go to stderr in both modes, so stdout holds only results.
            if cli.json {
                eprintln!(
                    "{}",
                    json!({"error": {"kind": err.kind(), "message": err.to_string()}})
                );
            } else {
                eprintln!("error: {err}");
            }
            ExitCode::from(exit::for_error(&err))
        }
    }
}

/// Logging to stderr, off unless `BUTTERFLY_LOG` (or else `RUST_LOG`) sets a filter; colour
/// codes only on a terminal, never into a file or pipe.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BUTTERFLY_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| "off".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(std::io::stderr)
        .init();
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::invalid_data("cannot write JSON").with_source(e))?;
    outln!("{text}");
    Ok(())
}

/// A snapshot id, or `latest`: the newest readable snapshot whose backup did not fail (a
/// failed backup holds almost nothing; a damaged manifest is reported, not chosen).
async fn resolve(cli: &Cli, store: &FsStore, text: &str) -> Result<SnapshotId> {
    if text == "latest" {
        let listing = store.list_checked(None).await?;
        warn_damaged(cli, &listing.damaged);
        return listing
            .snapshots
            .into_iter()
            .find(|s| s.status != SnapshotStatus::Failed)
            .map(|s| s.id)
            .ok_or_else(|| {
                Error::not_found("the store holds no snapshot of a backup that did not fail")
            });
    }
    text.parse()
}

/// A warning on stderr: a line of text, or with `--json` a JSON object on a line.
fn warn(cli: &Cli, message: &str) {
    if cli.json {
        eprintln!("{}", json!({"warning": message}));
    } else {
        eprintln!("warning: {message}");
    }
}

/// Warns about damaged snapshots met while listing (`butterfly verify --all` has the detail).
fn warn_damaged(cli: &Cli, damaged: &[DamagedSnapshot]) {
    for d in damaged {
        warn(
            cli,
            &format!(
                "snapshot {} is damaged and was skipped ({}); run `butterfly verify --all`",
                d.id, d.error
            ),
        );
    }
}

/// Warns about kinds left out of a salvaged snapshot.
fn warn_damaged_kinds(cli: &Cli, what: &str, damaged: &[DamagedKind]) {
    for d in damaged {
        warn(
            cli,
            &format!(
                "{what}: {} of snapshot {} is damaged and left out ({})",
                d.kind, d.snapshot, d.error
            ),
        );
    }
}

fn open_store(cli: &Cli) -> Result<FsStore> {
    FsStore::open(&cli.store)
}

fn open_existing_store(cli: &Cli) -> Result<FsStore> {
    if !cli.store.is_dir() {
        return Err(Error::not_found(format!(
            "no store at {}",
            cli.store.display()
        )));
    }
    FsStore::open(&cli.store)
}

fn config_file(path: Option<&PathBuf>) -> Result<Option<ConfigFile>> {
    path.map(|p| ConfigFile::load(p)).transpose()
}

async fn run(cli: &Cli) -> Result<u8> {
    let style = Style::detect();
    match &cli.command {
        Command::Kinds { provider, base_url } => {
            let file = config_file(cli.config.as_ref())?;
            let provider = registry::build(
                provider,
                Sources::FileThenEnv(file.as_ref()),
                base_url.as_deref(),
                None,
            )?;
            let report = provider.probe(provider.kinds()).await?;
            if cli.json {
                print_json(&report)?;
            } else {
                for (kind, access) in &report.kinds {
                    let line = match access {
                        Access::Readable => style.good("readable"),
                        Access::Denied { missing } => {
                            style.warn(&format!("denied (missing {missing})"))
                        }
                        Access::Unsupported { reason } => format!("unsupported ({reason})"),
                    };
                    outln!("{kind:<42} {line}");
                }
            }
            Ok(exit::OK)
        }
        Command::Backup {
            provider,
            kinds,
            base_url,
            full,
            kind_timeout,
        } => {
            let file = config_file(cli.config.as_ref())?;
            let state = cli.store.join("state");
            let provider = registry::build(
                provider,
                Sources::FileThenEnv(file.as_ref()),
                base_url.as_deref(),
                Some(&state),
            )?;
            let store = open_store(cli)?;
            let progress = Progress::new(ProgressOutput::detect(cli.json));
            let mut options = BackupOptions::default().observer(progress.observer());
            options.kinds = kinds.clone();
            options.kind_timeout =
                (*kind_timeout > 0).then(|| std::time::Duration::from_secs(*kind_timeout));
            // Incremental where the provider can: it reads only what changed since the last
            // snapshot of this tenant (and still produces what a full backup would).
            let mut incremental_from = None;
            if !*full
                && provider.capabilities().incremental
                && let Some(last) = store.latest(provider.name(), provider.tenant()).await?
            {
                match store.load(&last.id).await {
                    Ok(previous) => {
                        options = options.previous(std::sync::Arc::new(previous));
                        incremental_from = Some(last.id);
                    }
                    // A damaged baseline is no reason to skip tonight's backup: read it all.
                    Err(e) if e.kind() == ErrorKind::Integrity => warn(
                        cli,
                        &format!(
                            "the last snapshot {} is damaged ({e}); reading everything",
                            last.id
                        ),
                    ),
                    Err(e) => return Err(e),
                }
            }
            let (snapshot, saved) =
                backup::run_and_save(provider.as_ref(), &store, &options).await?;
            let status = snapshot.status();
            if cli.json {
                let kinds: serde_json::Map<String, serde_json::Value> = snapshot
                    .kinds
                    .iter()
                    .map(|(k, d)| {
                        (
                            k.clone(),
                            json!({"outcome": d.outcome, "count": d.resources.len(), "warnings": d.warnings}),
                        )
                    })
                    .collect();
                print_json(
                    &json!({"snapshot": saved.id, "status": status, "resources": snapshot.resource_count(), "kinds": kinds, "saved": saved, "incremental_from": incremental_from}),
                )?;
            } else {
                for (kind, data) in &snapshot.kinds {
                    let outcome = match &data.outcome {
                        KindOutcome::Complete => style.good("complete"),
                        KindOutcome::Denied { missing } => {
                            style.warn(&format!("denied (missing {missing})"))
                        }
                        KindOutcome::Unsupported { reason } => format!("unsupported ({reason})"),
                        KindOutcome::Failed { error, .. } => style.bad(&format!("failed: {error}")),
                    };
                    outln!("{kind:<42} {:>8}  {outcome}", data.resources.len());
                    for warning in &data.warnings {
                        outln!("    {}", style.warn(&format!("not read: {warning}")));
                    }
                }
                outln!(
                    "\n{} {}: {} resources, {} new blobs ({} bytes), {} reused",
                    style.bold("snapshot"),
                    saved.id,
                    snapshot.resource_count(),
                    saved.new_blobs,
                    saved.new_bytes,
                    saved.reused_blobs
                );
                if saved.repaired_blobs > 0 {
                    outln!(
                        "{}",
                        style.warn(&format!(
                            "{} stored blobs were damaged and have been rewritten from this backup",
                            saved.repaired_blobs
                        ))
                    );
                }
                if let Some(from) = &incremental_from {
                    outln!("incremental from {from} (use --full for a full read)");
                }
                outln!("status: {}", status_text(&style, status));
            }
            Ok(match status {
                SnapshotStatus::Success => exit::OK,
                SnapshotStatus::CompletedWithWarnings => exit::WARNINGS,
                SnapshotStatus::Failed => exit::FAILED,
            })
        }
        Command::List { provider } => {
            let store = open_existing_store(cli)?;
            let listing = store.list_checked(provider.as_deref()).await?;
            warn_damaged(cli, &listing.damaged);
            let list = listing.snapshots;
            if cli.json {
                print_json(&list)?;
            } else {
                for s in &list {
                    outln!(
                        "{}  {:<6} {:<32} {:>8} resources  {}",
                        s.id,
                        s.provider,
                        s.tenant,
                        s.resources,
                        status_text(&style, s.status)
                    );
                }
                for d in &listing.damaged {
                    outln!("{}  {}", d.id, style.bad(&format!("damaged: {}", d.error)));
                }
                if list.is_empty() && listing.damaged.is_empty() {
                    outln!("no snapshots");
                }
            }
            Ok(exit::OK)
        }
        Command::Status => {
            let store = open_existing_store(cli)?;
            let listing = store.list_checked(None).await?;
            warn_damaged(cli, &listing.damaged);
            let list = listing.snapshots;
            let mut seen = std::collections::BTreeSet::new();
            let now = chrono::Utc::now();
            let latest: Vec<_> = list
                .into_iter()
                .filter(|s| seen.insert((s.provider.clone(), s.tenant.clone())))
                .collect();
            if cli.json {
                let rows: Vec<_> = latest
                    .iter()
                    .map(|s| json!({"provider": s.provider, "tenant": s.tenant, "snapshot": s.id, "age_seconds": (now - s.finished_at).num_seconds(), "status": s.status, "resources": s.resources, "kinds": s.kinds}))
                    .collect();
                print_json(&rows)?;
            } else {
                for s in &latest {
                    outln!(
                        "{:<6} {:<32} last backup {} ago  {}  {} resources in {} kinds  ({})",
                        s.provider,
                        s.tenant,
                        human_age(now - s.finished_at),
                        status_text(&style, s.status),
                        s.resources,
                        s.kinds,
                        s.id
                    );
                }
                if latest.is_empty() {
                    outln!("no backups yet");
                }
            }
            Ok(exit::OK)
        }
        Command::Show { snapshot, kind } => {
            let store = open_existing_store(cli)?;
            let id = resolve(cli, &store, snapshot).await?;
            match kind {
                Some(kind) => {
                    // Only this kind's blobs are read: damage elsewhere does not matter here.
                    let manifest = store.get_manifest(&id).await?;
                    if !manifest.kinds.contains_key(kind) {
                        return Err(Error::not_found(format!(
                            "snapshot {id} has no kind {kind}; it has: {}",
                            manifest
                                .kinds
                                .keys()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                    let snap = store
                        .load_kinds(&id, Some(std::slice::from_ref(kind)))
                        .await?;
                    let data = snap.kinds.get(kind).ok_or_else(|| {
                        Error::integrity(format!("{kind} of snapshot {id} was not read"))
                    })?;
                    if cli.json {
                        print_json(data)?;
                    } else {
                        outln!(
                            "{kind}: {} ({} resources)",
                            data.outcome.label(),
                            data.resources.len()
                        );
                        for r in &data.resources {
                            outln!("  {:<24} {}", r.id, r.label());
                        }
                    }
                }
                None => {
                    let manifest = store.get_manifest(&id).await?;
                    if cli.json {
                        print_json(&manifest)?;
                    } else {
                        outln!(
                            "snapshot {} of {} {}",
                            id,
                            manifest.meta.provider,
                            manifest.meta.tenant
                        );
                        outln!(
                            "taken {} .. {}",
                            manifest.meta.started_at,
                            manifest.meta.finished_at
                        );
                        outln!(
                            "status {}; content sha256 {}",
                            status_text(&style, manifest.status),
                            manifest.content_sha256
                        );
                        for (k, m) in &manifest.kinds {
                            outln!("  {k:<42} {:>8}  {}", m.count, m.outcome.label());
                            for warning in &m.warnings {
                                outln!("      not read: {warning}");
                            }
                        }
                    }
                }
            }
            Ok(exit::OK)
        }
        Command::Verify { snapshot, all } => {
            let store = open_existing_store(cli)?;
            if *all {
                let check = store.verify_all().await?;
                if cli.json {
                    print_json(&check)?;
                } else {
                    for d in &check.damaged_manifests {
                        outln!("{} snapshot {}: {}", style.bad("damaged"), d.id, d.error);
                    }
                    for b in &check.damaged_blobs {
                        let users: Vec<String> = b
                            .used_by
                            .iter()
                            .map(|u| format!("{} of {}", u.kind, u.snapshot))
                            .collect();
                        outln!(
                            "{} blob {} ({:?}): {}; used by {}",
                            style.bad("damaged"),
                            b.blob,
                            b.problem,
                            b.error,
                            if users.is_empty() {
                                "no snapshot".to_string()
                            } else {
                                users.join(", ")
                            }
                        );
                    }
                    for k in &check.damaged_kinds {
                        outln!(
                            "{} {} of snapshot {}: {}",
                            style.bad("damaged"),
                            k.kind,
                            k.snapshot,
                            k.error
                        );
                    }
                    let summary = format!(
                        "{} snapshots, {} kinds, {} blobs and {} resources checked",
                        check.snapshots, check.kinds, check.blobs, check.resources
                    );
                    if check.is_clean() {
                        outln!("{}: {summary}", style.good("ok"));
                    } else {
                        outln!(
                            "{}: {summary}; {} damaged manifests, {} damaged blobs, {} damaged kinds",
                            style.bad("damaged"),
                            check.damaged_manifests.len(),
                            check.damaged_blobs.len(),
                            check.damaged_kinds.len()
                        );
                    }
                }
                return Ok(if check.is_clean() {
                    exit::OK
                } else {
                    exit::INTEGRITY
                });
            }
            let snapshot = snapshot.as_deref().unwrap_or("latest");
            let id = resolve(cli, &store, snapshot).await?;
            let report = store.verify_report(&id).await?;
            if cli.json {
                print_json(&report)?;
            } else {
                for k in &report.damaged {
                    outln!("{} {}: {}", style.bad("damaged"), k.kind, k.error);
                }
                if report.damaged.is_empty() {
                    outln!(
                        "{}: {} blobs and {} resources verified",
                        style.good("ok"),
                        report.blobs,
                        report.resources
                    );
                } else {
                    outln!(
                        "{}: {} damaged kinds; {} blobs and {} resources verified",
                        style.bad("damaged"),
                        report.damaged.len(),
                        report.blobs,
                        report.resources
                    );
                }
            }
            Ok(if report.damaged.is_empty() {
                exit::OK
            } else {
                exit::INTEGRITY
            })
        }
        Command::Diff {
            from,
            to,
            min_severity,
            fail_on,
        } => {
            let store = open_existing_store(cli)?;
            let (a, b) = (
                resolve(cli, &store, from).await?,
                resolve(cli, &store, to).await?,
            );
            // Damaged kinds are left out of both sides (not shown as removed or added).
            let (a, b) = (
                store.load_salvage(&a, None).await?,
                store.load_salvage(&b, None).await?,
            );
            warn_damaged_kinds(cli, "diff", &a.damaged);
            warn_damaged_kinds(cli, "diff", &b.damaged);
            let damaged: Vec<String> = a
                .damaged
                .iter()
                .chain(&b.damaged)
                .map(|d| d.kind.clone())
                .collect();
            let (mut a, mut b) = (a.snapshot, b.snapshot);
            for kind in &damaged {
                a.kinds.remove(kind);
                b.kinds.remove(kind);
            }
            if a.meta.provider != b.meta.provider {
                return Err(Error::config(format!(
                    "cannot diff a {} snapshot with a {} snapshot",
                    a.meta.provider, b.meta.provider
                )));
            }
            let kinds = registry::kinds(&a.meta.provider).unwrap_or(&[]);
            let rules = registry::severity_rules(&a.meta.provider);
            let changes = diff::diff(&a, &b, kinds, &rules);
            let shown = changes.filter(*min_severity);
            if cli.json {
                print_json(&shown)?;
            } else {
                out!("{}", shown.render_text(*min_severity));
            }
            let failing = fail_on.is_some_and(|f| changes.max_severity().is_some_and(|m| m >= f));
            Ok(if failing { exit::WARNINGS } else { exit::OK })
        }
        Command::Restore {
            snapshot,
            dry_run: _,
            execute,
            kinds,
            update_existing,
            no_repair_references,
            target,
            base_url,
            yes,
            override_lockout,
        } => {
            let store = open_existing_store(cli)?;
            let id = resolve(cli, &store, snapshot).await?;
            // Kinds whose blobs are intact are restored; damaged ones are left out, with a
            // warning (and an error when nothing asked for is intact).
            // Every kind is read (a restore of some kinds still resolves references through
            // the others).
            let salvaged = store.load_salvage(&id, None).await?;
            if !salvaged.damaged.is_empty() {
                let asked = |k: &str| kinds.as_ref().is_none_or(|ks| ks.iter().any(|x| x == k));
                let intact_asked = salvaged.snapshot.kinds.keys().any(|k| asked(k));
                if !intact_asked {
                    let names: Vec<&str> =
                        salvaged.damaged.iter().map(|d| d.kind.as_str()).collect();
                    return Err(Error::integrity(format!(
                        "snapshot {id} cannot be restored: every kind asked for is damaged ({}); run `butterfly verify --all`",
                        names.join(", ")
                    )));
                }
                warn_damaged_kinds(cli, "restore", &salvaged.damaged);
            }
            let snap = salvaged.snapshot;
            // A --target file is the whole configuration of the target: the environment's
            // settings (often those of the source tenant) must never leak into it.
            let target_file = target.as_deref().map(ConfigFile::load).transpose()?;
            let file = match &target_file {
                Some(_) => None,
                None => config_file(cli.config.as_ref())?,
            };
            let sources = match &target_file {
                Some(f) => Sources::FileOnly(f),
                None => Sources::FileThenEnv(file.as_ref()),
            };
            let provider =
                registry::build(&snap.meta.provider, sources, base_url.as_deref(), None)?;
            // Say where the writes would go before anything else, from the target's settings.
            let settings_from = match (target, &cli.config) {
                (Some(path), _) => {
                    let ignored = registry::env_names(&snap.meta.provider);
                    if ignored.is_empty() {
                        format!("settings from {}", path.display())
                    } else {
                        format!(
                            "settings from {} only; the environment's {} ignored",
                            path.display(),
                            ignored.join(", ")
                        )
                    }
                }
                (None, Some(path)) => {
                    format!("settings from {} and the environment", path.display())
                }
                (None, None) => "settings from the environment".to_string(),
            };
            let target_line = format!(
                "target: {} tenant {} ({settings_from})",
                provider.name(),
                provider.tenant()
            );
            let options = RestoreOptions {
                kinds: kinds.clone(),
                update_existing: *update_existing,
                repair_references: !*no_repair_references,
                ..RestoreOptions::default()
            };
            let plan = restore::plan(&snap, provider.as_ref(), &options).await?;
            let target_json = json!({"provider": provider.name(), "tenant": provider.tenant(), "settings": settings_from});
            if !*execute {
                if cli.json {
                    // The plan as before, with the target beside its steps.
                    let mut value = serde_json::to_value(&plan).map_err(|e| {
                        Error::invalid_data("cannot write the plan as JSON").with_source(e)
                    })?;
                    if let Some(fields) = value.as_object_mut() {
                        fields.insert("target".into(), target_json);
                    }
                    print_json(&value)?;
                } else {
                    outln!("{}", style.bold(&target_line));
                    out!("{}", plan.render_text());
                    outln!("\n(dry run: nothing was written)");
                }
                return Ok(exit::OK);
            }
            if !cli.json {
                outln!("{}", style.bold(&target_line));
                out!("{}", plan.render_text());
            }
            if plan.writes() > 0 && !*yes {
                confirm(provider.tenant())?;
            }
            let progress = RestoreProgress::new(!cli.json, plan.writes());
            let report = restore::execute_observed(
                &plan,
                &snap,
                provider.as_ref(),
                ExecuteOptions {
                    override_lockout: *override_lockout,
                },
                &|entry| progress.on_step(entry),
            )
            .await;
            progress.finish();
            let report = report?;
            if cli.json {
                print_json(&json!({"target": target_json, "plan": plan, "report": report}))?;
            } else {
                out!("\n{}", report.render_text());
            }
            Ok(if report.failed > 0 || !report.unverified.is_empty() {
                exit::FAILED
            } else {
                exit::OK
            })
        }
    }
}

fn confirm(tenant: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        // Still accept a piped answer (scripts may echo the tenant name).
    }
    eprint!("Type the tenant name ({tenant}) to execute: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::new(ErrorKind::Io, "cannot read the confirmation").with_source(e))?;
    if line.trim() == tenant {
        Ok(())
    } else {
        Err(Error::config(
            "confirmation did not match the tenant name; nothing was written (use --yes in scripts)",
        ))
    }
}

fn status_text(style: &Style, status: SnapshotStatus) -> String {
    match status {
        SnapshotStatus::Success => style.good(status.label()),
        SnapshotStatus::CompletedWithWarnings => style.warn(status.label()),
        SnapshotStatus::Failed => style.bad(status.label()),
    }
}

fn human_age(d: chrono::TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}
