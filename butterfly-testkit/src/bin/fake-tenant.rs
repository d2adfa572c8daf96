//! Serves a generated fake tenant until stopped: how a person tries butterfly without an
//! identity provider, and how benchmarks race other clients on equal terms.
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

/// Prints the rate-limit line: `label` and what it says when limited, or that there are none.
fn print_limits(label: &str, limited: Option<String>) {
    match limited {
        Some(how) => println!("  {label}: {how}"),
        None => println!("  {label}: none"),
    }
}

async fn okta(common: Common, governance: bool) -> Result<(), ExitCode> {
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
    println!(
        "fake Okta org with {} users at {}",
        common.users,
        fake.base_url()
    );
    println!("  OKTA_ORG_URL={}", fake.base_url());
    println!("  OKTA_API_TOKEN={}", fake.api_token());
    println!(
        "  or OAuth: OKTA_CLIENT_ID={} OKTA_PRIVATE_KEY_ID={} OKTA_PRIVATE_KEY_FILE=butterfly-testkit/keys/okta-test-private.pem",
        fake.oauth_client_id(),
        fake.key_id()
    );
    print_limits(
        "rate limits",
        common
            .rate_scale
            .map(|f| format!("Okta's per-minute buckets, time running {f}x faster")),
    );
    Ok(())
}

async fn auth0(common: Common, tier: Tier) -> Result<(), ExitCode> {
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
    println!(
        "fake Auth0 tenant with {} users at {}",
        common.users,
        fake.base_url()
    );
    println!("  AUTH0_DOMAIN={}", fake.base_url());
    println!("  AUTH0_CLIENT_ID={}", fake.client_id());
    println!("  AUTH0_CLIENT_SECRET={}", fake.client_secret());
    println!("  AUTH0_AUDIENCE={}", fake.audience());
    println!(
        "  or private_key_jwt: AUTH0_PRIVATE_KEY_FILE=butterfly-testkit/keys/okta-test-private.pem"
    );
    print_limits(
        "rate limits",
        common
            .rate_scale
            .map(|f| format!("Auth0's {tier:?} token bucket, time running {f}x faster")),
    );
    Ok(())
}

async fn entra(common: Common) -> Result<(), ExitCode> {
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
    println!(
        "fake Entra tenant with {} users at {}",
        common.users,
        fake.base_url()
    );
    println!("  ENTRA_GRAPH_URL={}", fake.base_url());
    println!("  ENTRA_AUTHORITY_URL={}", fake.base_url());
    println!("  ENTRA_TENANT_ID={}", fake.tenant_id());
    println!("  ENTRA_CLIENT_ID={}", fake.client_id());
    println!("  ENTRA_CLIENT_SECRET={}", fake.client_secret());
    println!(
        "  or a certificate: ENTRA_CERTIFICATE_FILE=butterfly-testkit/keys/okta-test-private.pem ENTRA_CERTIFICATE_THUMBPRINT={}",
        fake.certificate_thumbprint()
    );
    println!(
        "  token endpoint: {}/{}/oauth2/v2.0/token",
        fake.base_url(),
        fake.tenant_id()
    );
    print_limits(
        "throttling",
        common.rate_scale.map(|f| {
            format!(
                "Graph resource units per 10 s window, time running {f}x faster (ENTRA_RATE_SCALE={f})"
            )
        }),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let served = match Cli::parse().provider {
        Provider::Okta { common, governance } => okta(common, governance).await,
        Provider::Auth0 { common, tier } => auth0(common, tier).await,
        Provider::Entra { common } => entra(common).await,
    };
    if let Err(code) = served {
        return code;
    }
    println!("Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
