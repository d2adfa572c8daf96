//! The butterfly demo: a whole incident and its recovery against fake Okta, Entra ID, Auth0
//! and PingOne tenants, with no identity provider and no credentials needed.
//!
//! `cargo run --release -p examples --bin demo [okta] [entra] [auth0] [ping] [onepassword] [workflows]` (default: every
//! provider of the CLI's registry that has a fake tenant)
//!
//! For every provider with a fake tenant:
//!
//! 1. start the fake tenant on 127.0.0.1 (generated from the real API description) and build
//!    the provider from the settings the fake prints, as a user does;
//! 2. back it up into `./butterfly-data`;
//! 3. the incident the fake declares: an admin deletes configuration (Okta: a sign-on policy
//!    with its rules, a group rule, a group with members and a network zone; Entra: a
//!    conditional access policy with the group, a member and the named location it names;
//!    Auth0: an application with its grants and connections, a role with its permissions and
//!    members, and an action's trigger binding; Okta Workflows: a folder with a flow turned on
//!    and a table with rows, restored as `<name> (Restored)` with its flows off and its rows);
//! 4. back up again and show the severity-ranked diff;
//! 5. plan the restore of the kinds the incident touched (dry run: zero writes), then execute
//!    it;
//! 6. back up a third time and show that, apart from the documented differences (new ids,
//!    re-entered secrets, users to re-enable), the tenant equals the first backup.
//!
//! A read-only provider (1Password Connect: an item with its file deleted from a vault) stops
//! after the diff, which finds the incident, and says why it cannot restore.

use std::process::ExitCode;
use std::time::Instant;

use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::diff::{self, Severity};
use butterfly_core::registry::{BuildOptions, ProviderDescriptor, Settings};
use butterfly_core::restore::{self, ExecuteOptions, RestoreOptions};
use butterfly_core::store::{FsStore, SnapshotStore};
use butterfly_core::{Error, ErrorKind, Provider, Result, Snapshot};
use butterfly_testkit::tenants::{self, FakeDescriptor, FakeSpec, RunningFake};
use examples::{Progress, ProgressOutput, Style, out, outln, registry};

/// Users in every fake tenant (more than Auth0's search API returns: they come through the
/// users-export job).
const USERS: usize = 2_000;
/// The fakes' seed.
const SEED: u64 = 42;
/// The fakes apply their provider's rate limits with time running this much faster, and the
/// clients pace themselves to the same clock (the settings the fakes print say so).
const TIME_SCALE: f64 = 1_000.0;

/// One provider's part of the demo: its fake tenant and the provider pointed at it.
struct Tenant {
    fake: &'static FakeDescriptor,
    running: Box<dyn RunningFake>,
    provider: Box<dyn Provider>,
}

impl Tenant {
    /// Starts the fake and builds the provider from the settings it prints.
    async fn start(fake: &'static FakeDescriptor, provider: &ProviderDescriptor) -> Result<Tenant> {
        let mut spec = FakeSpec::new(USERS, SEED);
        spec.rate_scale = Some(TIME_SCALE);
        let running = fake.start(spec).await.map_err(|e| {
            Error::new(ErrorKind::Io, "cannot start the fake tenant").with_source(e)
        })?;
        let settings = Settings::from_pairs(running.settings());
        let provider = provider.build(&settings, &BuildOptions::default())?;
        Ok(Tenant {
            fake,
            running,
            provider,
        })
    }
}

fn heading(style: &Style, n: u32, text: &str) {
    outln!("\n{}", style.bold(&format!("── {n}. {text} ──")));
}

async fn backup_into(provider: &dyn Provider, store: &FsStore, label: &str) -> Result<Snapshot> {
    let progress = Progress::new(ProgressOutput::detect(false));
    let started = Instant::now();
    let (snapshot, saved) = backup::run_and_save(
        provider,
        store,
        &BackupOptions::default().observer(progress.observer()),
    )
    .await?;
    outln!(
        "{label}: snapshot {} — {} resources in {} kinds, {} ({:.1}s); wrote {} new blobs, reused {}",
        saved.id,
        snapshot.resource_count(),
        snapshot.kinds.len(),
        snapshot.status(),
        started.elapsed().as_secs_f64(),
        saved.new_blobs,
        saved.reused_blobs
    );
    Ok(snapshot)
}

/// What one provider's run ended with.
struct Outcome {
    failed_steps: usize,
    undocumented_changes: usize,
    dry_run_writes: usize,
}

async fn scenario(tenant: &Tenant, store: &FsStore, style: &Style) -> Result<Outcome> {
    let title = tenant.fake.title;
    let provider = tenant.provider.as_ref();
    let fake = tenant.running.as_ref();
    outln!(
        "\n{}",
        style.bold(&format!("═══ {title}: back up, lose, restore ═══"))
    );
    heading(style, 1, &format!("Start a fake {title} tenant"));
    outln!("{}", fake.description());
    outln!("{}", tenant.fake.about);

    heading(style, 2, "Back up");
    let first = backup_into(provider, store, "backup 1").await?;

    heading(style, 3, "Incident: an admin deletes configuration");
    let incident = fake.incident().await?;
    for line in &incident.summary {
        outln!("  - {line}");
    }

    heading(style, 4, "Back up again and diff");
    let second = backup_into(provider, store, "backup 2").await?;
    let changes = diff::diff(
        &first,
        &second,
        provider.kinds(),
        &provider.severity_rules(),
    );
    out!("{}", changes.render_text(Severity::Medium));
    let low = changes
        .changes
        .iter()
        .filter(|c| c.severity < Severity::Medium)
        .count();
    if low > 0 {
        outln!("(+{low} lower-severity changes: `butterfly diff` shows them all)");
    }
    // A read-only provider (1Password Connect) ends here: the diff found the incident.
    if let Some(reason) = registry::restore_unavailable(provider.name()) {
        let missed = incident
            .removed
            .iter()
            .filter(|a| {
                !changes
                    .changes
                    .iter()
                    .any(|c| c.kind == a.kind && c.id == a.id)
            })
            .count();
        outln!("restore: not available for {title}: {reason}");
        if missed == 0 {
            outln!(
                "{}",
                style.good(&format!(
                    "The diff found everything the {title} incident removed."
                ))
            );
        }
        return Ok(Outcome {
            failed_steps: 0,
            undocumented_changes: missed,
            dry_run_writes: 0,
        });
    }

    heading(
        style,
        5,
        "Restore plan for the kinds the incident touched (dry run)",
    );
    let writes_before = fake.write_count();
    let options = RestoreOptions {
        kinds: Some(incident.kinds.clone()),
        update_existing: true,
        ..RestoreOptions::default()
    };
    let plan = restore::plan(&first, provider, &options).await?;
    let text = plan.render_text();
    let shown: Vec<&str> = text.lines().take(60).collect();
    outln!("{}", shown.join("\n"));
    if text.lines().count() > 60 {
        outln!(
            "… ({} more lines; `butterfly restore --dry-run` prints them all)",
            text.lines().count() - 60
        );
    }
    let dry_run_writes = fake.write_count() - writes_before;
    // Okta Workflows sums up its plan in folders, tables and connectors.
    let extras = registry::restore_extras(provider.name());
    if let Some(x) = &extras {
        outln!("{}", (x.summary)(&plan));
    }
    outln!("writes sent by the dry run: {dry_run_writes}");

    heading(style, 6, "Execute the plan");
    let report = restore::execute(&plan, &first, provider, ExecuteOptions::default()).await?;
    outln!(
        "{} created, {} updated, {} failed, {} unverified references",
        report.created,
        report.updated,
        report.failed,
        report.unverified.len()
    );
    if let Some(x) = &extras {
        out!("{}", (x.checklist)());
    }

    heading(
        style,
        7,
        "Back up a third time and compare with the first backup",
    );
    let third = backup_into(provider, store, "backup 3").await?;
    let (remaining, paired) =
        diff::diff_after_restore(&first, &third, provider.kinds(), &provider.severity_rules());
    outln!(
        "{paired} resources came back under new ids ({title} assigns ids; references were remapped)."
    );
    let differences = &incident.differences;
    let undocumented = remaining
        .changes
        .iter()
        .filter(|c| !differences.explains(c))
        .count();
    if remaining.changes.is_empty() {
        outln!(
            "{}",
            style.good(&format!(
                "The {title} tenant matches the first backup: nothing else differs."
            ))
        );
    } else {
        out!("{}", remaining.render_text(Severity::Info));
        if undocumented == 0 {
            outln!(
                "{}",
                style.good(&format!(
                    "The {title} tenant matches the first backup apart from the documented differences above."
                ))
            );
        }
    }
    outln!(
        "Documented differences of any {title} restore: {}.",
        differences.text
    );
    Ok(Outcome {
        failed_steps: report.failed,
        undocumented_changes: undocumented,
        dry_run_writes,
    })
}

async fn run() -> Result<()> {
    let style = Style::detect();
    let started = Instant::now();
    outln!(
        "{}",
        style.bold("butterfly demo: back up, lose, and restore identity-provider configuration")
    );
    let store = FsStore::open_default()?;
    outln!("store: {}", store.describe());
    // The providers of the CLI's registry that have a fake tenant, paired by name.
    let providers = registry::registry();
    let known: Vec<&str> = providers
        .names()
        .into_iter()
        .filter(|name| tenants::get(name).is_some())
        .collect();
    // `demo [okta] [entra] [auth0] [ping]`: the named providers only (default: all of them).
    let mut only: Vec<String> = std::env::args().skip(1).collect();
    if only.is_empty() {
        only = known.iter().map(|p| p.to_string()).collect();
    }
    let mut tenants = Vec::new();
    for name in &only {
        let fake = tenants::get(name)
            .filter(|_| known.contains(&name.as_str()))
            .ok_or_else(|| {
                Error::config(format!(
                    "unknown provider {name:?}; the demo knows: {}",
                    known.join(", ")
                ))
            })?;
        tenants.push(Tenant::start(fake, providers.get(name)?).await?);
    }
    let mut bad = Vec::new();
    for tenant in &tenants {
        let outcome = scenario(tenant, &store, &style).await?;
        if outcome.failed_steps > 0
            || outcome.undocumented_changes > 0
            || outcome.dry_run_writes > 0
        {
            bad.push(tenant.fake.title);
        }
    }
    outln!(
        "\nDone in {:.1}s. Snapshots are in ./butterfly-data: try `cargo run -p examples --bin butterfly -- list`.",
        started.elapsed().as_secs_f64()
    );
    if !bad.is_empty() {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "the restore did not bring everything back for {}",
                bad.join(", ")
            ),
        ));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
