//! The butterfly demo: a whole incident and its recovery against fake Okta, Entra ID and Auth0
//! tenants, with no
//! identity provider and no credentials needed.
//!
//! `cargo run --release -p examples --bin demo [okta] [entra] [auth0]` (default: all three)
//!
//! For every provider with a fake tenant:
//!
//! 1. start the fake tenant on 127.0.0.1 (generated from the real API description);
//! 2. back it up into `./butterfly-data`;
//! 3. simulate an incident: an admin deletes configuration (Okta: a sign-on policy with its
//!    rules, a group rule and a group with members; Entra: a conditional access policy with the
//!    group and the named location it names; Auth0: an application with its grants and
//!    connections, and a role with its permissions and members);
//! 4. back up again and show the severity-ranked diff;
//! 5. plan the restore (dry run: zero writes), then execute it;
//! 6. back up a third time and show that, apart from the documented differences (new ids,
//!    re-entered secrets), the tenant equals the first backup.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use butterfly_auth0::{Auth0Auth, Auth0Config, Auth0Provider, TokenBucket};
use butterfly_core::backup::{self, BackupOptions};
use butterfly_core::diff::{self, Severity};
use butterfly_core::restore::{self, ExecuteOptions, RestoreOptions};
use butterfly_core::store::{FsStore, SnapshotStore};
use butterfly_core::{Error, ErrorKind, Provider, Result, Snapshot};
use butterfly_entra::{EntraAuth, EntraConfig, EntraProvider};
use butterfly_okta::{OktaAuth, OktaConfig, OktaProvider};
use butterfly_testkit::auth0::{Auth0Options, Auth0TenantSpec, FakeAuth0};
use butterfly_testkit::entra::{EntraOptions, EntraTenantSpec, FakeEntra};
use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
use examples::{Progress, ProgressOutput, Style, out, outln};
use secrecy::SecretString;
use serde_json::Value;

/// The providers the demo runs, in order.
const PROVIDERS: &[&str] = &["okta", "entra", "auth0"];

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
    outln!("\n{}", style.bold(&format!("── {n}. {text} ──")));
}

fn fake_failed(e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, "cannot start the fake tenant").with_source(e)
}

fn no_answer(e: reqwest::Error) -> Error {
    Error::new(ErrorKind::Transient, "the fake tenant did not answer").with_source(e)
}

/// An admin's `DELETE` against a fake tenant, with the `Authorization` header given.
async fn admin_delete(base_url: &str, path: &str, authorization: &str) -> Result<()> {
    let resp = reqwest::Client::new()
        .delete(format!("{base_url}{path}"))
        .header("authorization", authorization)
        .send()
        .await
        .map_err(no_answer)?;
    if !resp.status().is_success() {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!("DELETE {path} answered {}", resp.status()),
        ));
    }
    Ok(())
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
        let token = format!("SSWS {}", self.fake.api_token());
        admin_delete(&self.fake.base_url(), path, &token).await
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

struct EntraDemo {
    fake: FakeEntra,
    provider: EntraProvider,
}

impl EntraDemo {
    async fn start() -> Result<EntraDemo> {
        let fake = FakeEntra::start(
            EntraTenantSpec {
                users: 2_000,
                seed: 42,
            },
            EntraOptions::default(),
        )
        .await
        .map_err(fake_failed)?;
        let provider = EntraProvider::new(EntraConfig {
            tenant_id: fake.tenant_id().to_string(),
            client_id: fake.client_id().to_string(),
            auth: EntraAuth::Certificate {
                private_key: SecretString::from(fake.certificate_private_key_pem().to_string()),
                thumbprint: fake.certificate_thumbprint().to_string(),
            },
            cloud: Default::default(),
            graph_url: Some(fake.base_url()),
            authority_url: Some(fake.base_url()),
            max_share: None,
            budget: None,
            // The fake does not throttle here: one-second budget windows keep the demo quick.
            budget_period: Some(Duration::from_secs(1)),
            delta_state_file: None,
        })?;
        Ok(EntraDemo { fake, provider })
    }
}

/// The GUIDs in a JSON array (conditional access lists also hold keywords such as `All`).
fn guids(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| butterfly_entra::kinds::is_guid(s))
        .map(str::to_string)
        .collect()
}

#[async_trait]
impl DemoTenant for EntraDemo {
    fn title(&self) -> &str {
        "Entra ID"
    }
    fn describe(&self) -> String {
        format!(
            "fake Entra tenant (Microsoft Graph v1.0) at {} (2,000 users, conditional access, roles, apps; secrets planted as sentinels)",
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
        let policy = pick(
            &self.fake.items("identity/conditionalAccess/policies"),
            |p| {
                !guids(&p["conditions"]["users"]["includeGroups"]).is_empty()
                    && !guids(&p["conditions"]["locations"]["excludeLocations"]).is_empty()
            },
        )?;
        let group = guids(&policy["conditions"]["users"]["includeGroups"])[0].clone();
        let location = guids(&policy["conditions"]["locations"]["excludeLocations"])[0].clone();
        let names = |coll: &str, id: &str| {
            self.fake
                .items(coll)
                .iter()
                .find(|i| i["id"] == id)
                .map(|i| name_of(i, "/displayName").to_string())
                .unwrap_or_default()
        };
        let (group_name, location_name) = (
            names("groups", &group),
            names("identity/conditionalAccess/namedLocations", &location),
        );
        let members = self.fake.with_tenant(|t| {
            let members = t.references(&format!("groups/{group}/members")).len();
            t.delete("identity/conditionalAccess/policies", &id_of(&policy));
            t.delete("groups", &group);
            t.delete("identity/conditionalAccess/namedLocations", &location);
            members
        });
        Ok(vec![
            format!(
                "conditional access policy {:?}",
                name_of(&policy, "/displayName")
            ),
            format!("group {group_name:?} with {members} members, which the policy includes"),
            format!("named location {location_name:?}, which the policy excludes"),
        ])
    }
    fn documented_differences(&self) -> &'static str {
        "new object ids; users re-created disabled with a random password to reset; application secrets and certificates re-issued per the rotation checklist"
    }
}

struct Auth0Demo {
    fake: FakeAuth0,
    provider: Auth0Provider,
}

impl Auth0Demo {
    async fn start() -> Result<Auth0Demo> {
        let fake = FakeAuth0::start(
            Auth0TenantSpec {
                users: 2_000,
                seed: 42,
            },
            Auth0Options::default(),
        )
        .await
        .map_err(fake_failed)?;
        let provider = Auth0Provider::new(Auth0Config {
            domain: butterfly_testkit::auth0::DOMAIN.to_string(),
            auth: Auth0Auth::ClientSecret {
                client_id: fake.client_id().to_string(),
                client_secret: SecretString::from(fake.client_secret().to_string()),
            },
            audience: None,
            base_url: Some(fake.base_url()),
            // The fake does not limit here: Enterprise's bucket with time 1,000 times faster.
            rate_limit: Some(TokenBucket::ENTERPRISE.scaled(1000.0)),
            max_share: None,
            export_threshold: None,
            export_timeout: None,
        })?;
        Ok(Auth0Demo { fake, provider })
    }

    async fn admin_delete(&self, path: &str) -> Result<()> {
        let token: Value = reqwest::Client::new()
            .post(format!("{}/oauth/token", self.fake.base_url()))
            .json(&serde_json::json!({
                "grant_type": "client_credentials",
                "client_id": self.fake.client_id(),
                "client_secret": self.fake.client_secret(),
                "audience": self.fake.audience(),
            }))
            .send()
            .await
            .map_err(no_answer)?
            .json()
            .await
            .map_err(no_answer)?;
        let bearer = format!(
            "Bearer {}",
            token["access_token"].as_str().unwrap_or_default()
        );
        admin_delete(&self.fake.base_url(), path, &bearer).await
    }
}

#[async_trait]
impl DemoTenant for Auth0Demo {
    fn title(&self) -> &str {
        "Auth0"
    }
    fn describe(&self) -> String {
        format!(
            "fake Auth0 tenant at {} (2,000 users: more than the search API's 1,000, so they come through the export job)",
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
        let grants = fake.items("client-grants");
        let client = pick(&fake.items("clients"), |c| {
            c["client_id"] != fake.client_id()
                && c["global"] != true
                && grants.iter().any(|g| g["client_id"] == c["client_id"])
        })?;
        let client_id = client["client_id"].as_str().unwrap_or_default().to_string();
        let grant_count = grants
            .iter()
            .filter(|g| g["client_id"] == client_id.as_str())
            .count();
        // A role with members that no pending invitation names (an invitation cannot be
        // edited, so one naming a deleted role keeps the old id until it is re-sent).
        let invited: Vec<Value> = fake.with_tenant(|t| {
            t.collections
                .iter()
                .filter(|(k, _)| k.starts_with("organizations/") && k.ends_with("/invitations"))
                .flat_map(|(_, items)| {
                    items
                        .iter()
                        .flat_map(|i| i["roles"].as_array().cloned().unwrap_or_default())
                })
                .collect()
        });
        let role = fake.with_tenant(|t| {
            t.role_members
                .iter()
                .filter(|(id, members)| {
                    !members.is_empty() && !invited.iter().any(|r| r == id.as_str())
                })
                .map(|(id, members)| (id.clone(), members.len()))
                .next()
        });
        let (role_id, member_count) =
            role.ok_or_else(|| Error::not_found("the generated tenant has no role with members"))?;
        let role = pick(&fake.items("roles"), |r| r["id"] == role_id.as_str())?;
        // Deleted through the Management API, so Auth0's cascades apply (grants, connection
        // access, memberships and organization member roles go with them).
        self.admin_delete(&format!("/api/v2/clients/{client_id}"))
            .await?;
        self.admin_delete(&format!("/api/v2/roles/{role_id}"))
            .await?;
        Ok(vec![
            format!(
                "application {:?} with its {grant_count} API grants and connection access",
                name_of(&client, "/name")
            ),
            format!(
                "role {:?} with its permissions and {member_count} members",
                name_of(&role, "/name")
            ),
        ])
    }
    fn documented_differences(&self) -> &'static str {
        "new ids; users without passwords; client secrets, connection secrets and action secrets re-entered per the rotation checklist"
    }
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
    remaining_changes: usize,
    dry_run_writes: usize,
}

async fn scenario(tenant: &dyn DemoTenant, store: &FsStore, style: &Style) -> Result<Outcome> {
    let title = tenant.title();
    let provider = tenant.provider();
    outln!(
        "\n{}",
        style.bold(&format!("═══ {title}: back up, lose, restore ═══"))
    );
    heading(style, 1, &format!("Start a fake {title} tenant"));
    outln!("{}", tenant.describe());

    heading(style, 2, "Back up");
    let first = backup_into(provider, store, "backup 1").await?;

    heading(style, 3, "Incident: an admin deletes configuration");
    for line in tenant.incident().await? {
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

    heading(style, 5, "Restore plan (dry run)");
    let writes_before = tenant.writes();
    let plan = restore::plan(&first, provider, &RestoreOptions::default()).await?;
    let text = plan.render_text();
    let shown: Vec<&str> = text.lines().take(60).collect();
    outln!("{}", shown.join("\n"));
    if text.lines().count() > 60 {
        outln!(
            "… ({} more lines; `butterfly restore --dry-run` prints them all)",
            text.lines().count() - 60
        );
    }
    let dry_run_writes = tenant.writes() - writes_before;
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
    if remaining.changes.is_empty() {
        outln!(
            "{}",
            style.good(&format!(
                "The {title} tenant matches the first backup: nothing else differs."
            ))
        );
    } else {
        out!("{}", remaining.render_text(Severity::Info));
    }
    outln!(
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
    outln!(
        "{}",
        style.bold("butterfly demo: back up, lose, and restore identity-provider configuration")
    );
    let store = FsStore::open_default()?;
    outln!("store: {}", store.describe());
    // `demo [okta] [entra] [auth0]`: the named providers only (default: all of them).
    let mut only: Vec<String> = std::env::args().skip(1).collect();
    if only.is_empty() {
        only = PROVIDERS.iter().map(|p| p.to_string()).collect();
    }
    let mut tenants: Vec<Box<dyn DemoTenant>> = Vec::new();
    for name in &only {
        tenants.push(match name.as_str() {
            "okta" => Box::new(OktaDemo::start().await?),
            "entra" => Box::new(EntraDemo::start().await?),
            "auth0" => Box::new(Auth0Demo::start().await?),
            other => {
                return Err(Error::config(format!(
                    "unknown provider {other:?}; the demo knows: {}",
                    PROVIDERS.join(", ")
                )));
            }
        });
    }
    let mut bad = Vec::new();
    for tenant in &tenants {
        let outcome = scenario(tenant.as_ref(), &store, &style).await?;
        if outcome.failed_steps > 0 || outcome.remaining_changes > 0 || outcome.dry_run_writes > 0 {
            bad.push(tenant.title().to_string());
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
