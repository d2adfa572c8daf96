//! `butterfly`: back up, diff and restore identity-provider configuration from the shell.
//!
//! Scriptable (`--json` on every command, exit codes below) and pleasant by hand (progress on
//! a terminal, colour only on a terminal).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use butterfly_core::backup::BackupOptions;
use butterfly_core::diff::{self, Severity};
use butterfly_core::journal::{self, RunEntry, RunQuery, RunStatus, Trigger};
use butterfly_core::provider::Access;
use butterfly_core::restore::{self, ExecuteOptions, RestoreOptions};
use butterfly_core::retention::{self, Hold, RetentionPolicies, RetentionPolicy};
use butterfly_core::schedule::{self, ScheduleRecord};
use butterfly_core::snapshot::{KindOutcome, SnapshotId, SnapshotStatus};
use butterfly_core::store::encrypted::{self, EncryptedStore, StoreKey};
use butterfly_core::store::object::ObjectSnapshotStore;
use butterfly_core::store::{DamagedKind, DamagedSnapshot, FsStore, SnapshotStore, StoreExt};
use butterfly_core::{Error, ErrorKind, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use examples::operations::{self, OperationsConfig};
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
    /// Snapshot store: a directory, or `s3://bucket/prefix` on S3-compatible object storage
    /// (endpoint and credentials from `AWS_ENDPOINT_URL` or `BUTTERFLY_S3_ENDPOINT`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`).
    #[arg(
        long,
        global = true,
        default_value = "./butterfly-data",
        env = "BUTTERFLY_STORE"
    )]
    store: String,
    /// Encrypt the store (AES-256-GCM) with the key in this file; `BUTTERFLY_STORE_KEY`
    /// holds the key itself instead. Without either, the store is not encrypted.
    #[arg(long, global = true, env = "BUTTERFLY_STORE_KEY_FILE")]
    store_key_file: Option<PathBuf>,
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
    /// Last backup and last run per provider and tenant, runs in progress, next scheduled
    /// runs (from --config, or the schedules saved in the store).
    Status,
    /// Delete snapshots by retention policy: prints the plan (what goes, what stays, why),
    /// then deletes and collects unused blobs. Never deletes a held snapshot or a tenant's
    /// newest successful one. Without --keep/--max-age the policies saved in the store apply.
    Prune {
        /// Only this provider's snapshots.
        #[arg(long)]
        provider: Option<String>,
        /// Keep the N most recent snapshots of each tenant.
        #[arg(long, value_name = "N")]
        keep: Option<usize>,
        /// Delete snapshots older than this (30d, 4w).
        #[arg(long, value_name = "AGE")]
        max_age: Option<String>,
        /// Print the plan only; delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Save --keep/--max-age as the policy (of --provider, or the default) for later
        /// prunes.
        #[arg(long)]
        save: bool,
    },
    /// Put a snapshot under compliance hold: no delete and no prune removes it.
    Hold {
        /// Snapshot id or `latest`.
        snapshot: String,
        /// Why it is held.
        #[arg(long)]
        reason: String,
        /// Who sets the hold (default: $USER).
        #[arg(long)]
        by: Option<String>,
    },
    /// Release a snapshot's compliance hold.
    Release {
        /// Snapshot id.
        snapshot: String,
    },
    /// Delete a snapshot (refused while it is held) and collect its unused blobs.
    Delete {
        /// Snapshot id.
        snapshot: String,
    },
    /// The run journal: every backup run, failed ones included, newest first.
    Runs {
        /// Only this provider.
        #[arg(long)]
        provider: Option<String>,
        /// Only runs started at or after (YYYY-MM-DD in UTC, or RFC 3339).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Only runs started at or before (a date includes the whole day).
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
    },
    /// Scheduled backups from the [schedule] tables of --config.
    Schedule {
        #[command(subcommand)]
        command: ScheduleCommand,
    },
    /// Show a snapshot (`latest` for the newest).
    Show {
        /// Snapshot id or `latest`.
        snapshot: String,
        /// Show the resources of this kind.
        #[arg(long)]
        kind: Option<String>,
    },
    /// Export a stored snapshot (never the live tenant).
    Export {
        #[command(subcommand)]
        what: ExportCommand,
    },
    /// Write a new random store key (for `--store-key-file`) to a file readable by its owner
    /// only; an existing file is never overwritten.
    Keygen {
        /// The key file to create.
        out: PathBuf,
    },
    /// Re-encrypt every object of an encrypted store with a new key, keeping snapshot ids;
    /// the current key (`--store-key-file` or `BUTTERFLY_STORE_KEY`) is not needed afterwards.
    Rekey {
        /// The new key's file (see `keygen`).
        #[arg(long)]
        new_key_file: PathBuf,
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
        /// Okta Workflows: only these folders (names), each whole (flows, tables, rows).
        #[arg(long, value_delimiter = ',')]
        folders: Option<Vec<String>>,
        /// Okta Workflows: only these Connector Builder projects (names).
        #[arg(long, value_delimiter = ',')]
        connectors: Option<Vec<String>>,
        /// Okta Workflows: table schemas only, without their rows.
        #[arg(long)]
        skip_table_data: bool,
    },
}

/// What `export` writes.
#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// Terraform (HCL) for the provider's official Terraform provider: `main.tf` (or one file
    /// per kind), `providers.tf`, `variables.tf` (a sensitive variable per secret),
    /// `terraform.tfvars.example`, imports, and `NOT-EXPORTED.md` with every kind or field left
    /// out and why.
    Terraform {
        /// Snapshot id or `latest`.
        snapshot: String,
        /// Only these kinds (`okta.group` or `group`), comma-separated.
        #[arg(long, value_delimiter = ',')]
        kinds: Option<Vec<String>>,
        /// Directory to write to (created if missing).
        #[arg(long, default_value = "terraform")]
        out: PathBuf,
        /// Terraform 1.5+ `import { to, id }` blocks in imports.tf (the default).
        #[arg(long, conflicts_with = "import_commands")]
        import_blocks: bool,
        /// `terraform import` commands in import.sh, for Terraform before 1.5.
        #[arg(long)]
        import_commands: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ScheduleCommand {
    /// Print the next runs of every configured schedule (BUTTERFLY_NOW fixes "now").
    Next {
        /// How many runs per provider.
        #[arg(long, default_value_t = 3)]
        count: usize,
    },
    /// Run the schedules in the foreground until Ctrl-C or SIGTERM (a backup in flight
    /// completes first; a second signal stops at once, leaving no visible snapshot).
    Run {
        /// Run every configured provider's backup once now, record the results in the
        /// schedule states, and exit (for hosts with their own timer). Signals work as
        /// without it: the first lets the backup in flight complete and runs no other.
        #[arg(long)]
        once: bool,
    },
    /// Save the configured schedules: clears their failure counts and pauses.
    Save,
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
async fn resolve(cli: &Cli, store: &dyn SnapshotStore, text: &str) -> Result<SnapshotId> {
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

/// The store `--store` names, encrypted when a key is configured.
type Store = Box<dyn SnapshotStore>;

impl Cli {
    /// The store's directory, or `None` for object storage.
    fn store_dir(&self) -> Option<&std::path::Path> {
        (!self.store.starts_with("s3://")).then(|| std::path::Path::new(&self.store))
    }

    /// Where providers keep their local state (delta links): beside a directory store, else
    /// in `./butterfly-state`.
    fn state_dir(&self) -> PathBuf {
        match self.store_dir() {
            Some(dir) => dir.join("state"),
            None => PathBuf::from("./butterfly-state"),
        }
    }

    /// Whether the store exists (object storage is assumed to).
    fn store_exists(&self) -> bool {
        self.store_dir().is_none_or(|d| d.is_dir())
    }

    /// The configured store key: `--store-key-file`, else `BUTTERFLY_STORE_KEY`.
    fn store_key(&self) -> Result<Option<StoreKey>> {
        match &self.store_key_file {
            Some(path) => StoreKey::from_file(path).map(Some),
            None => StoreKey::from_env(),
        }
    }
}

/// Writes a new random key to `path` (`0600` on Unix), refusing an existing file.
fn write_new_key(path: &std::path::Path) -> Result<()> {
    use secrecy::ExposeSecret;
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let io = |e| Error::io(format!("cannot write the key file {}", path.display()), e);
    let mut file = options.open(path).map_err(io)?;
    let text = StoreKey::generate().to_text();
    file.write_all(text.expose_secret().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(io)
}

/// The unencrypted backend `--store` names.
fn open_backend(cli: &Cli) -> Result<Store> {
    Ok(match cli.store_dir() {
        Some(dir) => Box::new(FsStore::open(dir)?),
        None => Box::new(ObjectSnapshotStore::from_url(&cli.store)?),
    })
}

async fn open_store(cli: &Cli) -> Result<Store> {
    let backend = open_backend(cli)?;
    match cli.store_key()? {
        Some(key) => Ok(Box::new(EncryptedStore::new(backend, key))),
        None if encrypted::is_encrypted(&backend).await? => Err(Error::config(format!(
            "the store at {} is encrypted: give its key with --store-key-file or BUTTERFLY_STORE_KEY",
            cli.store
        ))),
        None => Ok(backend),
    }
}

async fn open_existing_store(cli: &Cli) -> Result<Store> {
    if !cli.store_exists() {
        return Err(Error::not_found(format!("no store at {}", cli.store)));
    }
    open_store(cli).await
}

fn config_file(path: Option<&PathBuf>) -> Result<Option<ConfigFile>> {
    Ok(operations_config(path)?.map(|c| c.providers))
}

/// The whole --config file: provider tables, `[schedule]` and `[notify]`.
fn operations_config(path: Option<&PathBuf>) -> Result<Option<OperationsConfig>> {
    path.map(|p| OperationsConfig::load(p)).transpose()
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
            let ops = operations_config(cli.config.as_ref())?;
            let notifier = OperationsConfig::notifier(ops.as_ref())?;
            let file = ops.map(|o| o.providers);
            let state = cli.state_dir();
            let provider = registry::build(
                provider,
                Sources::FileThenEnv(file.as_ref()),
                base_url.as_deref(),
                Some(&state),
            )?;
            let store = open_store(cli).await?;
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
            // Journaled whatever the outcome; failures and warnings go to the notifier.
            let (_run, result) = journal::journaled_backup(
                provider.as_ref(),
                &store,
                &options,
                Trigger::Manual,
                notifier.as_deref(),
            )
            .await;
            let (snapshot, saved) = result?;
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
            let store = open_existing_store(cli).await?;
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
        Command::Status => status(cli, &style).await,
        Command::Prune {
            provider,
            keep,
            max_age,
            dry_run,
            save,
        } => {
            prune(
                cli,
                provider.as_deref(),
                *keep,
                max_age.as_deref(),
                *dry_run,
                *save,
            )
            .await
        }
        Command::Hold {
            snapshot,
            reason,
            by,
        } => hold(cli, snapshot, reason, by.as_deref()).await,
        Command::Release { snapshot } => release(cli, snapshot).await,
        Command::Delete { snapshot } => delete(cli, snapshot).await,
        Command::Runs {
            provider,
            since,
            until,
        } => {
            runs(
                cli,
                &style,
                provider.as_deref(),
                since.as_deref(),
                until.as_deref(),
            )
            .await
        }
        Command::Schedule { command } => match command {
            ScheduleCommand::Next { count } => schedule_next(cli, *count).await,
            ScheduleCommand::Run { once } => schedule_run(cli, &style, *once).await,
            ScheduleCommand::Save => schedule_save(cli).await,
        },
        Command::Show { snapshot, kind } => {
            let store = open_existing_store(cli).await?;
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
        Command::Export {
            what:
                ExportCommand::Terraform {
                    snapshot,
                    kinds,
                    out,
                    import_commands,
                    ..
                },
        } => {
            let store = open_existing_store(cli).await?;
            let id = resolve(cli, &store, snapshot).await?;
            let snap = store.load(&id).await?;
            let mappings = registry::terraform_mappings();
            let mapping = butterfly_terraform::mapping_for(&snap, &mappings)?;
            let options = butterfly_terraform::ExportOptions {
                kinds: kinds.clone(),
                import: if *import_commands {
                    butterfly_terraform::ImportStyle::Commands
                } else {
                    butterfly_terraform::ImportStyle::Blocks
                },
                ..Default::default()
            };
            let export = butterfly_terraform::export(&snap, mapping, &options)?;
            let written = export.write_to(out)?;
            if cli.json {
                print_json(&json!({
                    "snapshot": id.to_string(),
                    "dir": out,
                    "files": written,
                    "resources": export.resources.len(),
                    "not_exported": export.omitted.len(),
                    "variables": export.variables.len(),
                }))?;
            } else {
                outln!(
                    "{} {} resources of {id} to {} ({} files; {} kinds or resources not exported, see NOT-EXPORTED.md; {} secret variables)",
                    style.good("exported"),
                    export.resources.len(),
                    out.display(),
                    written.len(),
                    export.omitted.len(),
                    export.variables.len()
                );
            }
            Ok(exit::OK)
        }
        Command::Keygen { out } => {
            write_new_key(out)?;
            if cli.json {
                print_json(&json!({"key_file": out}))?;
            } else {
                outln!("{} new store key in {}", style.good("wrote"), out.display());
            }
            Ok(exit::OK)
        }
        Command::Rekey { new_key_file } => {
            let current = cli.store_key()?.ok_or_else(|| {
                Error::config(
                    "rekey needs the store's current key: --store-key-file or BUTTERFLY_STORE_KEY",
                )
            })?;
            if !cli.store_exists() {
                return Err(Error::not_found(format!("no store at {}", cli.store)));
            }
            let new_key = StoreKey::from_file(new_key_file)?;
            let store = EncryptedStore::new(open_backend(cli)?, current);
            let report = store.rekey(new_key).await?;
            if cli.json {
                print_json(&report)?;
            } else {
                outln!(
                    "{} {} snapshots, {} blobs and {} records with key {}; {} objects of the old keys removed",
                    style.good("re-encrypted"),
                    report.snapshots,
                    report.blobs,
                    report.records,
                    report.new_key,
                    report.old_objects_removed
                );
            }
            Ok(exit::OK)
        }
        Command::Verify { snapshot, all } => {
            let store = open_existing_store(cli).await?;
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
            let store = open_existing_store(cli).await?;
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
            folders,
            connectors,
            skip_table_data,
        } => {
            let store = open_existing_store(cli).await?;
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
            // A read-only provider (1Password Connect) says why, before reading any setting.
            if let Some(reason) = registry::restore_unavailable(&snap.meta.provider) {
                return Err(Error::config(format!(
                    "{} snapshots cannot be restored: {reason}",
                    snap.meta.provider
                )));
            }
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
            let mut options = RestoreOptions {
                kinds: kinds.clone(),
                update_existing: *update_existing,
                repair_references: !*no_repair_references,
                ..RestoreOptions::default()
            };
            // Okta Workflows restores folders and Connector Builder projects, never single flows.
            let extras = registry::restore_extras(&snap.meta.provider);
            let selection = registry::Selection {
                folders: folders.clone().unwrap_or_default(),
                connectors: connectors.clone().unwrap_or_default(),
                skip_table_data: *skip_table_data,
            };
            match &extras {
                Some(x) if kinds.is_none() => {
                    let selected = (x.select)(&snap, &selection)?;
                    options.kinds = selected.kinds;
                    options.ids = selected.ids;
                }
                _ if selection != registry::Selection::default() => {
                    return Err(Error::config(
                        "--folders, --connectors and --skip-table-data select what an Okta Workflows restore brings back, without --kinds",
                    ));
                }
                _ => {}
            }
            let plan = restore::plan(&snap, provider.as_ref(), &options).await?;
            let summary = extras.map(|x| (x.summary)(&plan));
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
                    if let Some(summary) = &summary {
                        outln!("{summary}");
                    }
                    outln!("\n(dry run: nothing was written)");
                }
                return Ok(exit::OK);
            }
            if !cli.json {
                outln!("{}", style.bold(&target_line));
                out!("{}", plan.render_text());
                if let Some(summary) = &summary {
                    outln!("{summary}");
                }
            }
            if plan.writes() > 0 && !*yes {
                match &extras {
                    Some(x) => confirm_word(x.confirmation)?,
                    None => confirm(provider.tenant())?,
                }
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
                let mut value = json!({"target": target_json, "plan": plan, "report": report});
                if let Some(x) = &extras {
                    value["checklist"] = json!((x.checklist)());
                }
                print_json(&value)?;
            } else {
                out!("\n{}", report.render_text());
                if let Some(x) = &extras {
                    out!("\n{}", (x.checklist)());
                }
            }
            Ok(if report.failed > 0 || !report.unverified.is_empty() {
                exit::FAILED
            } else {
                exit::OK
            })
        }
    }
}

/// Asks to type `word` (Okta Workflows: `RESTORE`) before executing.
fn confirm_word(word: &str) -> Result<()> {
    eprint!("Type {word} to execute: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::new(ErrorKind::Io, "cannot read the confirmation").with_source(e))?;
    if line.trim() == word {
        Ok(())
    } else {
        Err(Error::config(format!(
            "confirmation was not {word}; nothing was written (use --yes in scripts)"
        )))
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

fn run_status_text(style: &Style, status: RunStatus) -> String {
    match status {
        RunStatus::Success => style.good(status.label()),
        RunStatus::CompletedWithWarnings => style.warn(status.label()),
        RunStatus::Failed => style.bad(status.label()),
        RunStatus::Running => style.bold(status.label()),
    }
}

fn utc_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Every configured schedule with its state: from --config (with the state stored for the
/// same schedule, if the store has one), else the schedules saved in the store.
async fn schedule_view(
    cli: &Cli,
    store: Option<&Store>,
) -> Result<std::collections::BTreeMap<String, ScheduleRecord>> {
    let stored = match store {
        Some(store) => schedule::list_schedules(store).await?,
        None => Default::default(),
    };
    let Some(config) = operations_config(cli.config.as_ref())? else {
        return Ok(stored);
    };
    let configured = config.schedules.map(|s| s.schedules).unwrap_or_default();
    Ok(configured
        .into_iter()
        .map(|(provider, schedule)| {
            let record = match stored.get(&provider) {
                Some(r) if r.schedule == schedule => r.clone(),
                _ => ScheduleRecord {
                    provider: provider.clone(),
                    schedule,
                    saved_at: chrono::Utc::now(),
                    state: Default::default(),
                },
            };
            (provider, record)
        })
        .collect())
}

async fn status(cli: &Cli, style: &Style) -> Result<u8> {
    use std::collections::BTreeMap;
    let store = open_existing_store(cli).await?;
    let now = operations::now()?;
    let listing = store.list_checked(None).await?;
    warn_damaged(cli, &listing.damaged);
    let runs = journal::journal_status(&store).await?;
    let schedules = schedule_view(cli, Some(&store)).await?;
    // Per provider and tenant: the newest snapshot, the last finished run, runs in progress.
    type Row = (
        Option<butterfly_core::store::SnapshotSummary>,
        Option<RunEntry>,
        Vec<RunEntry>,
    );
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    for s in listing.snapshots {
        let row = rows
            .entry((s.provider.clone(), s.tenant.clone()))
            .or_default();
        if row.0.is_none() {
            row.0 = Some(s);
        }
    }
    for r in runs.last {
        let key = (r.provider.clone(), r.tenant.clone());
        rows.entry(key).or_default().1 = Some(r);
    }
    for r in runs.running {
        rows.entry((r.provider.clone(), r.tenant.clone()))
            .or_default()
            .2
            .push(r);
    }
    let next = |provider: &str| {
        schedules.get(provider).map(|r| {
            (
                r.state.next_due(&r.schedule, now),
                r.schedule.describe(),
                r.state.warning(now),
            )
        })
    };
    if cli.json {
        let mut out: Vec<serde_json::Value> = rows
            .iter()
            .map(|((provider, tenant), (s, last, running))| {
                let (next_run, schedule, warning) = match next(provider) {
                    Some((t, d, w)) => (Some(utc_text(t)), Some(d), w),
                    None => (None, None, None),
                };
                json!({
                    "provider": provider,
                    "tenant": tenant,
                    "snapshot": s.as_ref().map(|s| &s.id),
                    "age_seconds": s.as_ref().map(|s| (now - s.finished_at).num_seconds()),
                    "status": s.as_ref().map(|s| s.status),
                    "resources": s.as_ref().map(|s| s.resources),
                    "kinds": s.as_ref().map(|s| s.kinds),
                    "last_run": last,
                    "running": running,
                    "next_run": next_run,
                    "schedule": schedule,
                    "schedule_warning": warning,
                })
            })
            .collect();
        for (provider, _) in schedules
            .iter()
            .filter(|(p, _)| !rows.keys().any(|(rp, _)| rp == *p))
        {
            if let Some((t, d, w)) = next(provider) {
                out.push(json!({"provider": provider, "tenant": null, "snapshot": null, "next_run": utc_text(t), "schedule": d, "schedule_warning": w}));
            }
        }
        print_json(&out)?;
        return Ok(exit::OK);
    }
    for ((provider, tenant), (s, last, running)) in &rows {
        match s {
            Some(s) => outln!(
                "{:<6} {:<32} last backup {} ago  {}  {} resources in {} kinds  ({})",
                provider,
                tenant,
                human_age(now - s.finished_at),
                status_text(style, s.status),
                s.resources,
                s.kinds,
                s.id
            ),
            None => outln!("{provider:<6} {tenant:<32} no snapshot"),
        }
        // The last run, when it says more than the snapshot line (it failed, or saved none).
        if let Some(run) = last
            && (run.status == RunStatus::Failed
                || run.snapshot.as_ref() != s.as_ref().map(|s| &s.id))
        {
            let ago = run
                .finished_at
                .map(|t| human_age(now - t))
                .unwrap_or_default();
            outln!(
                "       last run {ago} ago: {}{}",
                run_status_text(style, run.status),
                run.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
        }
        for run in running {
            let state = if run.is_stale(now) {
                style.warn("interrupted? (still marked running)")
            } else {
                style.bold("running")
            };
            outln!(
                "       {state} since {} ago (pid {})",
                human_age(now - run.started_at),
                run.pid
            );
        }
        if let Some((t, d, w)) = next(provider) {
            outln!("       next run {} ({d})", utc_text(t));
            if let Some(w) = w {
                outln!("       {}", style.warn(&w));
            }
        }
    }
    for (provider, record) in schedules
        .iter()
        .filter(|(p, _)| !rows.keys().any(|(rp, _)| rp == *p))
    {
        outln!(
            "{provider:<6} no backups yet; next run {} ({})",
            utc_text(record.state.next_due(&record.schedule, now)),
            record.schedule.describe()
        );
    }
    if rows.is_empty() && schedules.is_empty() {
        outln!("no backups yet");
    }
    Ok(exit::OK)
}

async fn prune(
    cli: &Cli,
    provider: Option<&str>,
    keep: Option<usize>,
    max_age: Option<&str>,
    dry_run: bool,
    save: bool,
) -> Result<u8> {
    let store = open_existing_store(cli).await?;
    let now = operations::now()?;
    let flags = RetentionPolicy {
        keep_last: keep,
        max_age_days: max_age.map(retention::parse_max_age_days).transpose()?,
    };
    let mut stored = retention::load_policies(&store).await?;
    if save {
        if flags.is_empty() {
            return Err(Error::config("--save needs --keep or --max-age"));
        }
        match provider {
            Some(p) => stored.set(p, None, flags),
            None => stored.default = Some(flags),
        }
        retention::save_policies(&store, &stored).await?;
    }
    // Flags apply to every tenant listed (of --provider, if given); else the saved policies.
    let policies = if flags.is_empty() {
        stored
    } else {
        RetentionPolicies::default().with_default(flags)
    };
    let plan = retention::plan_from_store(&store, provider, Some(&policies), now).await?;
    warn_damaged(cli, &plan.damaged);
    if policies.default.is_none() && policies.rules.is_empty() {
        warn(
            cli,
            "no retention policy applies, so nothing is deleted: use --keep or --max-age (--save keeps them)",
        );
    }
    if dry_run {
        if cli.json {
            print_json(&json!({"dry_run": true, "plan": plan}))?;
        } else {
            out!("{}", plan.render_text());
            outln!("(dry run: nothing was deleted)");
        }
        return Ok(exit::OK);
    }
    let report =
        retention::execute_prune(&store, &plan, retention::PruneOptions::default()).await?;
    for id in &report.held_since_plan {
        warn(
            cli,
            &format!("{id} was put on hold during the prune and was kept"),
        );
    }
    if let Some(why) = &report.collection_skipped {
        warn(cli, &format!("no blob was collected: {why}"));
    }
    if cli.json {
        print_json(&json!({"dry_run": false, "plan": plan, "report": report}))?;
    } else {
        out!("{}", plan.render_text());
        outln!(
            "deleted {} snapshots; collected {} blobs ({} bytes; blobs younger than {} minutes are left for the next collection)",
            report.deleted.len(),
            report.collected.blobs_removed,
            report.collected.bytes_freed,
            butterfly_core::store::GC_GRACE.as_secs() / 60
        );
    }
    Ok(exit::OK)
}

async fn hold(cli: &Cli, snapshot: &str, reason: &str, by: Option<&str>) -> Result<u8> {
    let store = open_existing_store(cli).await?;
    let id = resolve(cli, &store, snapshot).await?;
    match store.get_manifest(&id).await {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(e),
        // Evidence is held even when damaged.
        Err(e) => warn(
            cli,
            &format!("snapshot {id} is damaged ({e}); holding it anyway"),
        ),
    }
    let by = by
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    let hold = Hold::new(&id, reason, &by, chrono::Utc::now())?;
    retention::set_hold(&store, &hold).await?;
    if cli.json {
        print_json(&hold)?;
    } else {
        outln!("{id} {}", hold.describe());
    }
    Ok(exit::OK)
}

async fn release(cli: &Cli, snapshot: &str) -> Result<u8> {
    let store = open_existing_store(cli).await?;
    let id: SnapshotId = snapshot.parse()?;
    let released = retention::release_hold(&store, &id).await?;
    if cli.json {
        print_json(&json!({"snapshot": id, "released": released}))?;
    } else if released {
        outln!("{id}: hold released");
    } else {
        outln!("{id} was not held");
    }
    Ok(exit::OK)
}

async fn delete(cli: &Cli, snapshot: &str) -> Result<u8> {
    let store = open_existing_store(cli).await?;
    // An explicit id only: `latest` is too easy to delete by mistake.
    let id: SnapshotId = snapshot.parse()?;
    let report = store.delete(&id).await?;
    if !report.kept_for_damaged.is_empty() {
        warn(
            cli,
            "no blob was collected while a damaged snapshot is in the store; run `butterfly verify --all`",
        );
    }
    if cli.json {
        print_json(&json!({"snapshot": id, "deleted": true, "report": report}))?;
    } else {
        outln!(
            "deleted {id}; {} unused blobs collected ({} bytes)",
            report.blobs_removed,
            report.bytes_freed
        );
    }
    Ok(exit::OK)
}

async fn runs(
    cli: &Cli,
    style: &Style,
    provider: Option<&str>,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<u8> {
    let store = open_existing_store(cli).await?;
    let query = RunQuery {
        provider: provider.map(str::to_string),
        since: since
            .map(|d| operations::parse_date(d, false))
            .transpose()?,
        until: until.map(|d| operations::parse_date(d, true)).transpose()?,
    };
    let runs = journal::query_runs(&store, &query).await?;
    if cli.json {
        print_json(&runs)?;
        return Ok(exit::OK);
    }
    for r in &runs {
        let took = r
            .duration_ms
            .map(|ms| format!("{:.1}s", ms as f64 / 1000.0))
            .unwrap_or_else(|| "-".into());
        outln!(
            "{}  {:<6} {:<32} {:<9} {:>8}  {:>8} resources in {:>3} kinds  {}",
            utc_text(r.started_at),
            r.provider,
            r.tenant,
            format!("{:?}", r.trigger).to_lowercase(),
            took,
            r.resources,
            r.kinds.len(),
            run_status_text(style, r.status)
        );
        if let Some(s) = &r.snapshot {
            outln!("    snapshot {s}");
        }
        if let Some(e) = &r.error {
            outln!("    {}", style.bad(e));
        }
    }
    if runs.is_empty() {
        outln!("no runs");
    }
    Ok(exit::OK)
}

/// The configured schedules, or a `Config` error saying how to configure one.
fn configured_schedules(
    cli: &Cli,
) -> Result<(
    OperationsConfig,
    std::collections::BTreeMap<String, schedule::Schedule>,
)> {
    let missing = || {
        Error::config(
            "no schedules: give --config FILE with a [schedule.<provider>] table (frequency, at, day, timezone)",
        )
    };
    let mut ops = operations_config(cli.config.as_ref())?.ok_or_else(missing)?;
    let schedules = ops
        .schedules
        .take()
        .map(|s| s.schedules)
        .unwrap_or_default();
    if schedules.is_empty() {
        return Err(missing());
    }
    Ok((ops, schedules))
}

async fn schedule_next(cli: &Cli, count: usize) -> Result<u8> {
    let now = operations::now()?;
    let store = if cli.store_exists() {
        Some(open_existing_store(cli).await?)
    } else {
        None
    };
    let view = schedule_view(cli, store.as_ref()).await?;
    if view.is_empty() {
        configured_schedules(cli)?;
    }
    let mut out = Vec::new();
    for (provider, record) in &view {
        let schedule = &record.schedule;
        let mut runs = Vec::with_capacity(count);
        let mut at = record.state.next_due(schedule, now);
        for _ in 0..count {
            runs.push(at);
            at = schedule.next_run(at);
        }
        let tz = schedule.timezone();
        if cli.json {
            out.push(json!({
                "provider": provider,
                "schedule": schedule.describe(),
                "next": runs.iter().map(|t| utc_text(*t)).collect::<Vec<_>>(),
                "local": runs.iter().map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()).collect::<Vec<_>>(),
                "warning": record.state.warning(now),
            }));
        } else {
            outln!("{provider}: {}", schedule.describe());
            if let Some(w) = record.state.warning(now) {
                outln!("  warning: {w}");
            }
            for t in &runs {
                outln!(
                    "  {}  {}",
                    utc_text(*t),
                    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z")
                );
            }
        }
    }
    if cli.json {
        print_json(&out)?;
    }
    Ok(exit::OK)
}

async fn schedule_save(cli: &Cli) -> Result<u8> {
    let (_, schedules) = configured_schedules(cli)?;
    let store = open_store(cli).await?;
    let now = chrono::Utc::now();
    let mut saved = Vec::new();
    for (provider, s) in &schedules {
        let record = schedule::save_schedule(&store, provider, s, now).await?;
        if !cli.json {
            outln!(
                "{provider}: saved {} (failures and pause cleared); next run {}",
                s.describe(),
                utc_text(record.state.next_due(s, now))
            );
        }
        saved.push(record);
    }
    if cli.json {
        print_json(&saved)?;
    }
    Ok(exit::OK)
}

/// Ctrl-C, and SIGTERM on Unix, listened for from creation on (so a signal sent right after
/// the runner announces itself is not lost).
struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn new() -> Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind| {
                signal(kind).map_err(|e| {
                    Error::new(ErrorKind::Io, "cannot listen for stop signals").with_source(e)
                })
            };
            Ok(StopSignals {
                term: listen(SignalKind::terminate())?,
                int: listen(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// One scheduled backup of a provider: journaled (a provider that cannot even be built is a
/// failed run too), notified, and counted in the schedule's state.
async fn run_scheduled(
    cli: &Cli,
    store: &Store,
    ops: &OperationsConfig,
    notifier: Option<&dyn journal::Notifier>,
    record: &mut ScheduleRecord,
) -> RunEntry {
    let provider = record.provider.clone();
    let state_dir = cli.state_dir();
    let run = match registry::build(
        &provider,
        Sources::FileThenEnv(Some(&ops.providers)),
        None,
        Some(&state_dir),
    ) {
        Ok(p) => {
            let options = BackupOptions::default();
            journal::journaled_backup(p.as_ref(), store, &options, Trigger::Schedule, notifier)
                .await
                .0
        }
        Err(e) => {
            let mut run = RunEntry::start(&provider, "", Trigger::Schedule, chrono::Utc::now());
            run.finish_error(&e, chrono::Utc::now());
            if let Err(e) = journal::record_run(store, &run).await {
                warn(cli, &format!("cannot write the journal: {e}"));
            }
            if let Some(n) = notifier {
                journal::notify_if_needed(n, &run).await;
            }
            run
        }
    };
    let now = chrono::Utc::now();
    match run.status {
        RunStatus::Success | RunStatus::CompletedWithWarnings => record.state.record_success(now),
        _ => {
            let error = run.error.clone().unwrap_or_else(|| "failed".into());
            if let Some(paused) = record.state.record_failure(now, error) {
                warn(
                    cli,
                    &format!(
                        "{provider}: schedule paused until {} after {} consecutive failures; `butterfly schedule save` resumes it now",
                        utc_text(paused.until),
                        paused.failures
                    ),
                );
            }
        }
    }
    if let Err(e) = schedule::put_schedule(store, record).await {
        warn(
            cli,
            &format!("cannot save the schedule state of {provider}: {e}"),
        );
    }
    if cli.json {
        if let Ok(line) = serde_json::to_string(&run) {
            outln!("{line}");
        }
    } else {
        outln!("{} {}", utc_text(now), run.summary());
    }
    run
}

async fn schedule_run(cli: &Cli, style: &Style, once: bool) -> Result<u8> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let (ops, schedules) = configured_schedules(cli)?;
    let notifier = OperationsConfig::notifier(Some(&ops))?;
    let store = open_store(cli).await?;
    // First signal: stop after the backup in flight. Second: stop now (a backup cut short
    // leaves blobs for garbage collection and no visible snapshot, since the manifest is
    // written last).
    let stopping = Arc::new(AtomicBool::new(false));
    let wake = Arc::new(tokio::sync::Notify::new());
    let mut signals = StopSignals::new()?;
    {
        let (stopping, wake, json) = (stopping.clone(), wake.clone(), cli.json);
        tokio::spawn(async move {
            signals.next().await;
            stopping.store(true, Ordering::SeqCst);
            wake.notify_one();
            let message = "stopping after the backup in flight (signal again to stop now)";
            if json {
                eprintln!("{}", json!({"warning": message}));
            } else {
                eprintln!("{message}");
            }
            signals.next().await;
            eprintln!("stopping now");
            std::process::exit(130);
        });
    }
    let started = chrono::Utc::now();
    let mut records = std::collections::BTreeMap::new();
    for (provider, s) in &schedules {
        records.insert(
            provider.clone(),
            schedule::sync_schedule(&store, provider, s, started).await?,
        );
    }
    if once {
        let (mut failed, mut warned) = (false, false);
        for record in records.values_mut() {
            if stopping.load(Ordering::SeqCst) {
                break;
            }
            let run = run_scheduled(cli, &store, &ops, notifier.as_deref(), record).await;
            failed |= matches!(run.status, RunStatus::Failed | RunStatus::Running);
            warned |= run.status == RunStatus::CompletedWithWarnings;
        }
        return Ok(if failed {
            exit::FAILED
        } else if warned {
            exit::WARNINGS
        } else {
            exit::OK
        });
    }

    let mut after: std::collections::BTreeMap<String, chrono::DateTime<chrono::Utc>> =
        records.keys().map(|p| (p.clone(), started)).collect();
    let mut announced = None;
    while !stopping.load(Ordering::SeqCst) {
        let Some((provider, due)) = records
            .iter()
            .map(|(p, r)| (p.clone(), r.state.next_due(&r.schedule, after[p])))
            .min_by_key(|(_, t)| *t)
        else {
            break;
        };
        if announced.as_ref() != Some(&(provider.clone(), due)) {
            if cli.json {
                outln!(
                    "{}",
                    json!({"next_run": {"provider": provider, "at": utc_text(due)}})
                );
            } else {
                outln!(
                    "{} next: {provider} at {}",
                    style.bold("schedule"),
                    utc_text(due)
                );
            }
            announced = Some((provider.clone(), due));
        }
        let now = chrono::Utc::now();
        if due > now {
            // At most a minute at a time, so a changed wall clock (a suspended machine) is
            // noticed.
            let wait = (due - now)
                .to_std()
                .unwrap_or_default()
                .min(std::time::Duration::from_secs(60));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = wake.notified() => {}
            }
            continue;
        }
        if let Some(record) = records.get_mut(&provider) {
            run_scheduled(cli, &store, &ops, notifier.as_deref(), record).await;
        }
        // Slots missed while the backup ran are not run again.
        after.insert(provider, due.max(chrono::Utc::now()));
    }
    if !cli.json {
        outln!("stopped");
    }
    Ok(exit::OK)
}
