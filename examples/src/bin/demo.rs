//! The butterfly demo: a whole incident and its recovery against fake tenants, with no
//! identity provider and no credentials needed.
//!
//! `cargo run --release -p examples --bin demo`
//!
//! For every provider with a fake tenant:
//!
//! 1. start the fake tenant on 127.0.0.1 (generated from the real API description);
//! 2. back it up into `./butterfly-data`;
//! 3. simulate an incident: an admin deletes configuration (for Okta a sign-on policy with its
//!    rules, a group rule and a group with members);
//! 4. back up again and show the severity-ranked diff;
//! 5. plan the restore (dry run: zero writes), then execute it;
//! 6. back up a third time and show that, apart from the documented differences (new ids,
//!    re-entered secrets), the tenant equals the first backup.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::diff::{self, Severity};
use butterfly_core::restore::{self, ExecuteOptions, RestoreOptions};
use butterfly_core::store::{FsStore, SnapshotStore};
use butterfly_core::{Error, ErrorKind, Provider, Result, Snapshot};
use butterfly_okta::{OktaAuth, OktaConfig, OktaProvider};
use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
use examples::{Progress, Style};
use secrecy::SecretString;
use serde_json::Value;

/// One provider's part of the demo: a fake tenant, a provider pointed at it, and an incident.
#[async_trait]
trait DemoTenant: Send + Sync {
    /// Provider name for headings ("Okta").
    fn title(&self) -> &str;
    /// What was started, in one line.
    fn describe(&self) -> String;
    /// The provider under demonstration.
    fn provider(&self) -> &dyn Provider;
    /// Writes the fake tenant has received so far.
    fn writes(&self) -> usize;
    /// Simulates the incident; returns a line per deleted object.
    async fn incident(&self) -> Result<Vec<String>>;
    /// What a restore of this provider never brings back as it was.
    fn documented_differences(&self) -> &'static str;
}

fn heading(style: &Style, n: u32, text: &str) {
    println!("\n{}", style.bold(&format!("── {n}. {text} ──")));
}

fn fake_failed(e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, "cannot start the fake tenant").with_source(e)
}

fn pick(items: &[Value], pred: impl Fn(&Value) -> bool) -> Result<Value> {
    items
        .iter()
        .find(|i| pred(i))
        .cloned()
        .ok_or_else(|| Error::not_found("the generated tenant lacks an object the demo needs"))
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

fn name_of<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

struct OktaDemo {
    fake: FakeOkta,
    provider: OktaProvider,
}

impl OktaDemo {
    async fn start() -> Result<OktaDemo> {
        let fake = FakeOkta::start(
            OktaOrgSpec {
                users: 2_000,
                seed: 42,
                governance: false,
            },
            OktaOptions::default(),
        )
        .await
        .map_err(fake_failed)?;
        let provider = OktaProvider::new(OktaConfig {
            org_url: fake.base_url(),
            base_url: None,
            auth: OktaAuth::PrivateKeyJwt {
                client_id: fake.oauth_client_id().to_string(),
                private_key: SecretString::from(fake.private_key_pem().to_string()),
                key_id: Some(fake.key_id().to_string()),
                scopes: None,
            },
            max_share: None,
            bucket_limits: None,
            // The fake's clock runs 60 times faster than a real org's: one-second windows.
            bucket_period: Some(Duration::from_secs(1)),
        })?;
        Ok(OktaDemo { fake, provider })
    }

    async fn admin_delete(&self, path: &str) -> Result<()> {
        let resp = reqwest::Client::new()
            .delete(format!("{}{path}", self.fake.base_url()))
            .header("authorization", format!("SSWS {}", self.fake.api_token()))
            .send()
            .await
            .map_err(|e| {
                Error::new(ErrorKind::Transient, "the fake org did not answer").with_source(e)
            })?;
        if !resp.status().is_success() {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!("DELETE {path} answered {}", resp.status()),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl DemoTenant for OktaDemo {
    fn title(&self) -> &str {
        "Okta"
    }
    fn describe(&self) -> String {
        format!(
            "fake Okta org at {} (2,000 users, every kind of configuration, secrets planted as sentinels)",
            self.fake.base_url()
        )
    }
    fn provider(&self) -> &dyn Provider {
        &self.provider
    }
    fn writes(&self) -> usize {
        self.fake.write_count()
    }
    async fn incident(&self) -> Result<Vec<String>> {
        let fake = &self.fake;
        let policy = pick(&fake.items("/api/v1/policies"), |p| {
            p["type"] == "OKTA_SIGN_ON" && p["system"] == false
        })?;
        let rule = pick(&fake.items("/api/v1/groups/rules"), |r| {
            r["status"] == "ACTIVE"
        })?;
        let group = pick(&fake.items("/api/v1/groups"), |g| {
            g["type"] == "OKTA_GROUP" && g["profile"]["name"] != "Admins"
        })?;
        let lines = vec![
            format!("policy {:?} and its rules", name_of(&policy, "/name")),
            format!("group rule {:?}", name_of(&rule, "/name")),
            format!(
                "group {:?} with {} members and its app assignments",
                name_of(&group, "/profile/name"),
                fake.members(&id_of(&group)).len()
            ),
        ];
        self.admin_delete(&format!("/api/v1/policies/{}", id_of(&policy)))
            .await?;
        self.admin_delete(&format!("/api/v1/groups/rules/{}", id_of(&rule)))
            .await?;
        self.admin_delete(&format!("/api/v1/groups/{}", id_of(&group)))
            .await?;
        Ok(lines)
    }
    fn documented_differences(&self) -> &'static str {
        "new ids; users re-created STAGED without credentials; secrets (client secrets, hook headers, SMTP passwords…) re-entered per the rotation checklist"
    }
}

async fn backup_into(provider: &dyn Provider, store: &FsStore, label: &str) -> Result<Snapshot> {
    let progress = Progress::new(true);
    let started = Instant::now();
    let (snapshot, saved) = backup::run_and_save(
        provider,
        store,
        &BackupOptions::default().observer(progress.observer()),
    )
    .await?;
    println!(
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
    remaining_changes: usize,
    dry_run_writes: usize,
}

async fn scenario(tenant: &dyn DemoTenant, store: &FsStore, style: &Style) -> Result<Outcome> {
    let title = tenant.title();
    let provider = tenant.provider();
    println!(
        "\n{}",
        style.bold(&format!("═══ {title}: back up, lose, restore ═══"))
    );
    heading(style, 1, &format!("Start a fake {title} tenant"));
    println!("{}", tenant.describe());

    heading(style, 2, "Back up");
    let first = backup_into(provider, store, "backup 1").await?;

    heading(style, 3, "Incident: an admin deletes configuration");
    for line in tenant.incident().await? {
        println!("  - {line}");
    }

    heading(style, 4, "Back up again and diff");
    let second = backup_into(provider, store, "backup 2").await?;
    let changes = diff::diff(
        &first,
        &second,
        provider.kinds(),
        &provider.severity_rules(),
    );
    print!("{}", changes.render_text(Severity::Medium));
    let low = changes
        .changes
        .iter()
        .filter(|c| c.severity < Severity::Medium)
        .count();
    if low > 0 {
        println!("(+{low} lower-severity changes: `butterfly diff` shows them all)");
    }

    heading(style, 5, "Restore plan (dry run)");
    let writes_before = tenant.writes();
    let plan = restore::plan(&first, provider, &RestoreOptions::default()).await?;
    let text = plan.render_text();
    let shown: Vec<&str> = text.lines().take(60).collect();
    println!("{}", shown.join("\n"));
    if text.lines().count() > 60 {
        println!(
            "… ({} more lines; `butterfly restore --dry-run` prints them all)",
            text.lines().count() - 60
        );
    }
    let dry_run_writes = tenant.writes() - writes_before;
    println!("writes sent by the dry run: {dry_run_writes}");

    heading(style, 6, "Execute the plan");
    let report = restore::execute(&plan, &first, provider, ExecuteOptions::default()).await?;
    println!(
        "{} created, {} updated, {} failed, {} unverified references",
        report.created,
        report.updated,
        report.failed,
        report.unverified.len()
    );

    heading(
        style,
        7,
        "Back up a third time and compare with the first backup",
    );
    let third = backup_into(provider, store, "backup 3").await?;
    let (remaining, paired) = diff::diff_after_restore(
        &first,
        &third,
        provider.kinds(),
        &provider.severity_rules(),
    );
    println!(
        "{paired} resources came back under new ids ({title} assigns ids; references were remapped)."
    );
    if remaining.changes.is_empty() {
        println!(
            "{}",
            style.good(&format!(
                "The {title} tenant matches the first backup: nothing else differs."
            ))
        );
    } else {
        print!("{}", remaining.render_text(Severity::Info));
    }
    println!(
        "Documented differences of any {title} restore: {}.",
        tenant.documented_differences()
    );
    Ok(Outcome {
        failed_steps: report.failed,
        remaining_changes: remaining.changes.len(),
        dry_run_writes,
    })
}

async fn run() -> Result<()> {
    let style = Style::detect();
    let started = Instant::now();
    println!(
        "{}",
        style.bold("butterfly demo: back up, lose, and restore identity-provider configuration")
    );
    let store = FsStore::open_default()?;
    println!("store: {}", store.describe());
    let tenants: Vec<Box<dyn DemoTenant>> = vec![Box::new(OktaDemo::start().await?)];
    let mut bad = Vec::new();
    for tenant in &tenants {
        let outcome = scenario(tenant.as_ref(), &store, &style).await?;
        if outcome.failed_steps > 0 || outcome.remaining_changes > 0 || outcome.dry_run_writes > 0
        {
            bad.push(tenant.title().to_string());
        }
    }
    println!(
        "\nDone in {:.1}s. Snapshots are in ./butterfly-data: try `cargo run -p examples --bin butterfly -- list`.",
        started.elapsed().as_secs_f64()
    );
    if !bad.is_empty() {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!("the restore did not bring everything back for {}", bad.join(", ")),
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
