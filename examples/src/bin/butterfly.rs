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
use butterfly_core::store::{FsStore, SnapshotStore, StoreExt};
use butterfly_core::{Error, ErrorKind, Result};
use clap::{Parser, Subcommand};
use examples::registry::{self, ConfigFile, Sources};
use examples::{Progress, RestoreProgress, Style, exit};
use serde_json::json;

/// The CLI allocates through mimalloc. A backup's memory is mostly the snapshot's JSON values,
/// built in fresh memory; mimalloc takes it from the kernel in fewer, cheaper steps than the
/// system allocator, which shows in the CPU a large backup costs (`benches/README.md`). The
/// library crates leave the allocator to the application that embeds them.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AFTER_HELP: &str = "\
Configuration (per provider; a --config TOML file uses the same names in lower case, without
the prefix, under an [okta], [entra] or [auth0] table; the environment overrides the file):
  OKTA_ORG_URL            https://<org>.okta.com
  OKTA_CLIENT_ID          OAuth 2.0 service app client id (private_key_jwt)
  OKTA_PRIVATE_KEY_FILE   PEM private key file (or OKTA_PRIVATE_KEY with the PEM itself)
  OKTA_PRIVATE_KEY_ID     key id (kid) registered for the service app
  OKTA_SCOPES             optional: scopes to request (default: derived from the kinds)
  OKTA_API_TOKEN          SSWS API token, instead of the OAuth settings
  ENTRA_TENANT_ID         directory (tenant) id
  ENTRA_CLIENT_ID         application (client) id of the backup app registration
  ENTRA_CLIENT_SECRET     client secret, or instead:
  ENTRA_CERTIFICATE_FILE  PEM private key of the app's certificate (client assertion), with
  ENTRA_CERTIFICATE_THUMBPRINT  the certificate's SHA-1 thumbprint
  ENTRA_CLOUD             optional: global (default), usgov, usgov-dod, china
  ENTRA_GRAPH_URL, ENTRA_AUTHORITY_URL  optional: Graph root and token authority overrides
  AUTH0_DOMAIN            tenant or custom domain (acme.eu.auth0.com)
  AUTH0_CLIENT_ID         machine-to-machine application's client id
  AUTH0_CLIENT_SECRET     its client secret, or instead:
  AUTH0_PRIVATE_KEY_FILE  PEM private key for private_key_jwt (+ optional AUTH0_PRIVATE_KEY_ID)
  AUTH0_AUDIENCE          optional: API audience (default https://<domain>/api/v2/)
  AUTH0_TIER              optional: enterprise (default) or free, the tenant's rate limit
--base-url points a provider at another API root (plain http only for 127.0.0.1, ::1, localhost).

Exit codes: 0 ok; 1 failed; 2 usage or configuration error; 3 completed with warnings (backup)
or changes at or above --fail-on (diff); 4 not found; 5 integrity check failed.";

#[derive(Debug, Parser)]
#[command(name = "butterfly", version, about = "Back up, diff and restore identity-provider configuration", after_help = AFTER_HELP)]
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
        /// Provider name (okta, entra, auth0).
        provider: String,
        /// API root override (Okta org URL, Graph root, Auth0 tenant URL).
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Back up a tenant into the store.
    Backup {
        /// Provider name (okta, entra, auth0).
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
    /// Check the integrity of every blob and resource of a snapshot.
    Verify {
        /// Snapshot id or `latest`.
        snapshot: String,
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BUTTERFLY_LOG")
                .unwrap_or_else(|_| "off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
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
            if cli.json {
                println!(
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

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::invalid_data("cannot write JSON").with_source(e))?;
    println!("{text}");
    Ok(())
}

async fn resolve(store: &FsStore, text: &str) -> Result<SnapshotId> {
    if text == "latest" {
        return store
            .list(None)
            .await?
            .into_iter()
            .next()
            .map(|s| s.id)
            .ok_or_else(|| Error::not_found("the store holds no snapshot"));
    }
    text.parse()
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
                    println!("{kind:<42} {line}");
                }
            }
            Ok(exit::OK)
        }
        Command::Backup {
            provider,
            kinds,
            base_url,
            full,
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
            let progress = Progress::new(!cli.json);
            let mut options = BackupOptions::default().observer(progress.observer());
            options.kinds = kinds.clone();
            // Incremental where the provider can: it reads only what changed since the last
            // snapshot of this tenant (and still produces what a full backup would).
            let mut incremental_from = None;
            if !*full
                && provider.capabilities().incremental
                && let Some(last) = store.latest(provider.name(), provider.tenant()).await?
            {
                let previous = store.load(&last.id).await?;
                options = options.previous(std::sync::Arc::new(previous));
                incremental_from = Some(last.id);
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
                            json!({"outcome": d.outcome, "count": d.resources.len()}),
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
                    println!("{kind:<42} {:>8}  {outcome}", data.resources.len());
                }
                println!(
                    "\n{} {}: {} resources, {} new blobs ({} bytes), {} reused",
                    style.bold("snapshot"),
                    saved.id,
                    snapshot.resource_count(),
                    saved.new_blobs,
                    saved.new_bytes,
                    saved.reused_blobs
                );
                if let Some(from) = &incremental_from {
                    println!("incremental from {from} (use --full for a full read)");
                }
                println!("status: {}", status_text(&style, status));
            }
            Ok(match status {
                SnapshotStatus::Success => exit::OK,
                SnapshotStatus::CompletedWithWarnings => exit::WARNINGS,
                SnapshotStatus::Failed => exit::FAILED,
            })
        }
        Command::List { provider } => {
            let store = open_existing_store(cli)?;
            let list = store.list(provider.as_deref()).await?;
            if cli.json {
                print_json(&list)?;
            } else {
                for s in &list {
                    println!(
                        "{}  {:<6} {:<32} {:>8} resources  {}",
                        s.id,
                        s.provider,
                        s.tenant,
                        s.resources,
                        status_text(&style, s.status)
                    );
                }
                if list.is_empty() {
                    println!("no snapshots");
                }
            }
            Ok(exit::OK)
        }
        Command::Status => {
            let store = open_existing_store(cli)?;
            let list = store.list(None).await?;
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
                    println!(
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
                    println!("no backups yet");
                }
            }
            Ok(exit::OK)
        }
        Command::Show { snapshot, kind } => {
            let store = open_existing_store(cli)?;
            let id = resolve(&store, snapshot).await?;
            let snap = store.load(&id).await?;
            match kind {
                Some(kind) => {
                    let data = snap.kinds.get(kind).ok_or_else(|| {
                        Error::not_found(format!(
                            "snapshot {id} has no kind {kind}; it has: {}",
                            snap.kinds.keys().cloned().collect::<Vec<_>>().join(", ")
                        ))
                    })?;
                    if cli.json {
                        print_json(data)?;
                    } else {
                        println!(
                            "{kind}: {} ({} resources)",
                            data.outcome.label(),
                            data.resources.len()
                        );
                        for r in &data.resources {
                            println!("  {:<24} {}", r.id, r.label());
                        }
                    }
                }
                None => {
                    let manifest = store.get_manifest(&id).await?;
                    if cli.json {
                        print_json(&manifest)?;
                    } else {
                        println!(
                            "snapshot {} of {} {}",
                            id, manifest.meta.provider, manifest.meta.tenant
                        );
                        println!(
                            "taken {} .. {}",
                            manifest.meta.started_at, manifest.meta.finished_at
                        );
                        println!(
                            "status {}; content sha256 {}",
                            status_text(&style, manifest.status),
                            manifest.content_sha256
                        );
                        for (k, m) in &manifest.kinds {
                            println!("  {k:<42} {:>8}  {}", m.count, m.outcome.label());
                        }
                    }
                }
            }
            Ok(exit::OK)
        }
        Command::Verify { snapshot } => {
            let store = open_existing_store(cli)?;
            let id = resolve(&store, snapshot).await?;
            let report = store.verify(&id).await?;
            if cli.json {
                print_json(&report)?;
            } else {
                println!(
                    "{}: {} blobs and {} resources verified",
                    style.good("ok"),
                    report.blobs,
                    report.resources
                );
            }
            Ok(exit::OK)
        }
        Command::Diff {
            from,
            to,
            min_severity,
            fail_on,
        } => {
            let store = open_existing_store(cli)?;
            let (a, b) = (resolve(&store, from).await?, resolve(&store, to).await?);
            let (a, b) = (store.load(&a).await?, store.load(&b).await?);
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
                print!("{}", shown.render_text(*min_severity));
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
            target,
            base_url,
            yes,
            override_lockout,
        } => {
            let store = open_existing_store(cli)?;
            let id = resolve(&store, snapshot).await?;
            let snap = store.load(&id).await?;
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
            let options = RestoreOptions {
                kinds: kinds.clone(),
                update_existing: *update_existing,
                ..RestoreOptions::default()
            };
            let plan = restore::plan(&snap, provider.as_ref(), &options).await?;
            if !*execute {
                if cli.json {
                    print_json(&plan)?;
                } else {
                    print!("{}", plan.render_text());
                    println!("\n(dry run: nothing was written)");
                }
                return Ok(exit::OK);
            }
            if !cli.json {
                print!("{}", plan.render_text());
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
                print_json(&json!({"plan": plan, "report": report}))?;
            } else {
                print!("\n{}", report.render_text());
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
