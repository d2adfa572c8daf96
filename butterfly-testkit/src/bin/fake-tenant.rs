//! Serves a generated fake tenant until Ctrl-C or SIGTERM: how a person tries butterfly
//! without an identity provider, and how benchmarks race other clients on equal terms.
//!
//! It prints the client settings as `VAR=value` lines a shell can export as they are; every
//! other line is a `#` comment without `=` (so `grep =` keeps exactly the settings), and the
//! last one is `# serving until Ctrl-C or SIGTERM`.
//!
//! ```text
//! fake-tenant okta --users 10000 --seed 1 --port 8080 [--rate-scale 60] [--faults] [--governance]
//! fake-tenant auth0 --users 10000 --seed 1 --port 8080 [--rate-scale 60] [--tier free|enterprise] [--faults]
//! fake-tenant entra --users 10000 --seed 1 --port 8080 [--rate-scale 10] [--faults]
//! ```

use std::fmt::Display;
use std::process::ExitCode;

use butterfly_testkit::auth0::{
    Auth0Options, Auth0TenantSpec, Auth0Tier, FakeAuth0, auth0_rate_limits,
};
use butterfly_testkit::entra::{EntraOptions, EntraTenantSpec, FakeEntra, graph_rate_limits};
use butterfly_testkit::fake::{Fault, FaultRule};
use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec, okta_rate_limits};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Serves a generated fake identity-provider tenant on 127.0.0.1 until Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "fake-tenant")]
struct Cli {
    /// The provider to fake.
    #[command(subcommand)]
    provider: Provider,
}

/// The providers the binary fakes.
#[derive(Debug, Subcommand)]
enum Provider {
    /// A fake Okta org.
    Okta {
        /// Flags every provider takes.
        #[command(flatten)]
        common: Common,
        /// Enable Okta Identity Governance.
        #[arg(long)]
        governance: bool,
    },
    /// A fake Auth0 tenant.
    Auth0 {
        /// Flags every provider takes.
        #[command(flatten)]
        common: Common,
        /// The subscription tier whose rate limits apply (with --rate-scale).
        #[arg(long, value_enum, default_value_t = Tier::Enterprise)]
        tier: Tier,
    },
    /// A fake Microsoft Entra ID tenant (Graph v1.0).
    Entra {
        /// Flags every provider takes.
        #[command(flatten)]
        common: Common,
    },
}

/// The flags every provider takes.
#[derive(Debug, Args)]
struct Common {
    /// Users to generate.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    users: usize,
    /// Seed: the same seed gives the same tenant.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Port to listen on (0: any free port).
    #[arg(long, value_name = "P", default_value_t = 0)]
    port: u16,
    /// Apply the provider's rate limits, time running F times faster (F > 0).
    #[arg(long, value_name = "F", value_parser = positive, allow_negative_numbers = true)]
    rate_scale: Option<f64>,
    /// Inject a few recurring faults (5xx, 429, truncated bodies) into the listings.
    #[arg(long)]
    faults: bool,
}

/// Auth0 subscription tiers on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Tier {
    /// Free: 2 requests per second.
    Free,
    /// Enterprise: a burst of 50 refilling at 16 per second.
    Enterprise,
}

impl From<Tier> for Auth0Tier {
    fn from(tier: Tier) -> Self {
        match tier {
            Tier::Free => Auth0Tier::Free,
            Tier::Enterprise => Auth0Tier::Enterprise,
        }
    }
}

/// Parses a positive, finite time scale.
fn positive(s: &str) -> Result<f64, String> {
    let f: f64 = s.parse().map_err(|_| "takes a number".to_string())?;
    if f > 0.0 && f.is_finite() {
        Ok(f)
    } else {
        Err("must be positive".into())
    }
}

/// The faults `--faults` injects: the fault kinds in order, on `paths`, one request in
/// 7, 11, 13, 17, … (each rule five times).
fn faults(enabled: bool, rules: &[(&str, Fault)]) -> Vec<FaultRule> {
    const EVERY: [usize; 4] = [7, 11, 13, 17];
    if !enabled {
        return Vec::new();
    }
    rules
        .iter()
        .zip(EVERY)
        .map(|((path, fault), every)| FaultRule::get(path, fault.clone(), every, 5))
        .collect()
}

/// The started fake, or a one-line error and a failing exit code.
fn started<F, E: Display>(fake: Result<F, E>) -> Result<F, ExitCode> {
    fake.map_err(|e| {
        eprintln!("error: cannot start the fake tenant: {e}");
        ExitCode::FAILURE
    })
}

/// A fake being served: it answers for as long as this value lives.
struct Serving {
    /// The started fake; dropping it stops the server.
    _fake: Box<dyn Send>,
    /// What to print: `VAR=value` settings and `#` comment lines (which hold no `=`, so
    /// `grep =` keeps exactly the settings).
    lines: Vec<String>,
}

/// Output lines in the order a user reads them.
#[derive(Default)]
struct Lines(Vec<String>);

impl Lines {
    /// A comment line; it must not hold `=` (scripts keep settings with `grep =`).
    fn comment(&mut self, text: impl Into<String>) -> &mut Self {
        let text: String = text.into();
        self.0.push(format!("# {}", text.replace('=', ":")));
        self
    }
    /// A `VAR=value` setting the client needs.
    fn setting(&mut self, var: &str, value: impl Display) -> &mut Self {
        self.0.push(format!("{var}={value}"));
        self
    }
    /// An alternative setting, shown as a comment (`#   VAR  value`).
    fn alternative(&mut self, var: &str, value: impl Display) -> &mut Self {
        self.0.push(format!("#   {var}  {value}"));
        self
    }
}

/// The private key the fakes accept for `private_key_jwt` and certificate assertions.
fn test_key_file() -> String {
    format!("{}/keys/okta-test-private.pem", env!("CARGO_MANIFEST_DIR"))
}

async fn okta(common: Common, governance: bool) -> Result<Serving, ExitCode> {
    let spec = OktaOrgSpec {
        users: common.users,
        seed: common.seed,
        governance,
    };
    let options = OktaOptions {
        rate_limits: common.rate_scale.map(okta_rate_limits),
        faults: faults(
            common.faults,
            &[
                ("/api/v1/users", Fault::Status(503)),
                ("/api/v1/groups", Fault::RateLimited),
                ("/api/v1/apps", Fault::Truncate),
            ],
        ),
        port: common.port,
        ..OktaOptions::default()
    };
    let fake = started(FakeOkta::start(spec, options).await)?;
    let mut out = Lines::default();
    out.comment(format!(
        "fake Okta org with {} users at {}",
        common.users,
        fake.base_url()
    ))
    .setting("OKTA_ORG_URL", fake.base_url())
    .setting("OKTA_API_TOKEN", fake.api_token());
    if let Some(f) = common.rate_scale {
        out.setting("OKTA_RATE_SCALE", f).comment(format!(
            "rate limits: Okta's per-minute buckets, time running {f}x faster (the client paces itself by OKTA_RATE_SCALE)"
        ));
    } else {
        out.comment("rate limits: none");
    }
    out.comment("or OAuth 2.0 private_key_jwt instead of OKTA_API_TOKEN, with these three:")
        .alternative("OKTA_CLIENT_ID", fake.oauth_client_id())
        .alternative("OKTA_PRIVATE_KEY_ID", fake.key_id())
        .alternative("OKTA_PRIVATE_KEY_FILE", test_key_file());
    Ok(Serving {
        _fake: Box::new(fake),
        lines: out.0,
    })
}

async fn auth0(common: Common, tier: Tier) -> Result<Serving, ExitCode> {
    let cli_tier = tier;
    let tier = Auth0Tier::from(tier);
    let spec = Auth0TenantSpec {
        users: common.users,
        seed: common.seed,
    };
    let options = Auth0Options {
        rate_limits: common.rate_scale.map(|f| auth0_rate_limits(tier, f)),
        faults: faults(
            common.faults,
            &[
                ("/api/v2/users", Fault::Status(503)),
                ("/api/v2/roles", Fault::RateLimited),
                ("/api/v2/clients", Fault::Truncate),
            ],
        ),
        port: common.port,
        ..Auth0Options::default()
    };
    let fake = started(FakeAuth0::start(spec, options).await)?;
    let mut out = Lines::default();
    out.comment(format!(
        "fake Auth0 tenant with {} users at {}",
        common.users,
        fake.base_url()
    ))
    .setting("AUTH0_DOMAIN", fake.base_url())
    .setting("AUTH0_CLIENT_ID", fake.client_id())
    .setting("AUTH0_CLIENT_SECRET", fake.client_secret())
    .setting("AUTH0_AUDIENCE", fake.audience());
    if let Some(f) = common.rate_scale {
        let name = cli_tier
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        out.setting("AUTH0_TIER", &name)
            .setting("AUTH0_RATE_SCALE", f)
            .comment(format!(
                "rate limits: Auth0's {name} token bucket, time running {f}x faster (the client paces itself by AUTH0_TIER and AUTH0_RATE_SCALE)"
            ));
    } else {
        out.comment("rate limits: none");
    }
    out.comment("or private_key_jwt instead of AUTH0_CLIENT_SECRET:")
        .alternative("AUTH0_PRIVATE_KEY_FILE", test_key_file());
    Ok(Serving {
        _fake: Box::new(fake),
        lines: out.0,
    })
}

async fn entra(common: Common) -> Result<Serving, ExitCode> {
    let spec = EntraTenantSpec {
        users: common.users,
        seed: common.seed,
    };
    let options = EntraOptions {
        rate_limits: common.rate_scale.map(graph_rate_limits),
        faults: faults(
            common.faults,
            &[
                ("/v1.0/users", Fault::Status(503)),
                ("/v1.0/groups", Fault::RateLimited),
                ("/v1.0/servicePrincipals", Fault::RateLimitedNoHeaders),
                ("/v1.0/applications", Fault::Truncate),
            ],
        ),
        port: common.port,
        ..EntraOptions::default()
    };
    let fake = started(FakeEntra::start(spec, options).await)?;
    let mut out = Lines::default();
    out.comment(format!(
        "fake Entra tenant with {} users at {} (token endpoint {}/{}/oauth2/v2.0/token)",
        common.users,
        fake.base_url(),
        fake.base_url(),
        fake.tenant_id()
    ))
    .setting("ENTRA_GRAPH_URL", fake.base_url())
    .setting("ENTRA_AUTHORITY_URL", fake.base_url())
    .setting("ENTRA_TENANT_ID", fake.tenant_id())
    .setting("ENTRA_CLIENT_ID", fake.client_id())
    .setting("ENTRA_CLIENT_SECRET", fake.client_secret());
    if let Some(f) = common.rate_scale {
        out.setting("ENTRA_RATE_SCALE", f).comment(format!(
            "throttling: Graph resource units per 10 s window, time running {f}x faster (the client paces itself by ENTRA_RATE_SCALE)"
        ));
    } else {
        out.comment("throttling: none");
    }
    out.comment("or a certificate instead of ENTRA_CLIENT_SECRET, with these two:")
        .alternative("ENTRA_CERTIFICATE_FILE", test_key_file())
        .alternative(
            "ENTRA_CERTIFICATE_THUMBPRINT",
            fake.certificate_thumbprint(),
        );
    Ok(Serving {
        _fake: Box::new(fake),
        lines: out.0,
    })
}

/// Waits for Ctrl-C or, on Unix, SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let served = match Cli::parse().provider {
        Provider::Okta { common, governance } => okta(common, governance).await,
        Provider::Auth0 { common, tier } => auth0(common, tier).await,
        Provider::Entra { common } => entra(common).await,
    };
    let serving = match served {
        Ok(serving) => serving,
        Err(code) => return code,
    };
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        // A reader that went away (`| head`) is no reason to stop serving.
        for line in &serving.lines {
            let _ = writeln!(stdout, "{line}");
        }
        // The last line: a script reading the settings can stop at it.
        let _ = writeln!(stdout, "# serving until Ctrl-C or SIGTERM");
        let _ = stdout.flush();
    }
    stopped().await;
    // The fake (and its server) lives until here.
    drop(serving);
    ExitCode::SUCCESS
}
