//! Serves a generated fake tenant until stopped: how a person tries butterfly without an
//! identity provider, and how benchmarks race other clients on equal terms.
//!
//! ```text
//! fake-tenant okta --users 10000 --seed 1 --port 8080 [--rate-scale 60] [--faults] [--governance]
//! fake-tenant auth0 --users 10000 --seed 1 --port 8080 [--rate-scale 60] [--tier free|enterprise] [--faults]
//! fake-tenant entra --users 10000 --seed 1 --port 8080 [--rate-scale 10] [--faults]
//! ```

use std::process::ExitCode;

use butterfly_testkit::fake::{Fault, FaultRule};
use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec, okta_rate_limits};

const USAGE: &str = "usage: fake-tenant okta [--users N] [--seed S] [--port P] [--rate-scale F] [--faults] [--governance]";

fn parse() -> Result<(OktaOrgSpec, OktaOptions, Option<f64>), String> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("okta") => {}
        Some("--help") | Some("-h") | None => return Err(USAGE.to_string()),
        Some(other) => {
            return Err(format!(
                "unknown provider {other:?} (this fake serves: okta)\n{USAGE}"
            ));
        }
    }
    let mut spec = OktaOrgSpec {
        users: 1000,
        seed: 1,
        governance: false,
    };
    let mut options = OktaOptions::default();
    let mut scale = None;
    while let Some(flag) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--users" => {
                spec.users = value("--users")?
                    .parse()
                    .map_err(|_| "--users takes a number".to_string())?
            }
            "--seed" => {
                spec.seed = value("--seed")?
                    .parse()
                    .map_err(|_| "--seed takes a number".to_string())?
            }
            "--port" => {
                options.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port takes a port number".to_string())?
            }
            "--rate-scale" => {
                let f: f64 = value("--rate-scale")?
                    .parse()
                    .map_err(|_| "--rate-scale takes a number".to_string())?;
                if !(f > 0.0 && f.is_finite()) {
                    return Err("--rate-scale must be positive".into());
                }
                scale = Some(f);
            }
            "--faults" => {
                options.faults = vec![
                    FaultRule::get("/api/v1/users", Fault::Status(503), 7, 5),
                    FaultRule::get("/api/v1/groups", Fault::RateLimited, 11, 5),
                    FaultRule::get("/api/v1/apps", Fault::Truncate, 13, 5),
                ]
            }
            "--governance" => spec.governance = true,
            other => return Err(format!("unknown option {other:?}\n{USAGE}")),
        }
    }
    if let Some(f) = scale {
        options.rate_limits = Some(okta_rate_limits(f));
    }
    Ok((spec, options, scale))
}

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("auth0") {
        return auth0::main().await;
    }
    if std::env::args().nth(1).as_deref() == Some("entra") {
        return entra::main().await;
    }
    let (spec, options, scale) = match parse() {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let users = spec.users;
    let fake = match FakeOkta::start(spec, options).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot start the fake tenant: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("fake Okta org with {users} users at {}", fake.base_url());
    println!("  OKTA_ORG_URL={}", fake.base_url());
    println!("  OKTA_API_TOKEN={}", fake.api_token());
    println!(
        "  or OAuth: OKTA_CLIENT_ID={} OKTA_PRIVATE_KEY_ID={} OKTA_PRIVATE_KEY_FILE=butterfly-testkit/keys/okta-test-private.pem",
        fake.oauth_client_id(),
        fake.key_id()
    );
    match scale {
        Some(f) => println!("  rate limits: Okta's per-minute buckets, time running {f}x faster"),
        None => println!("  rate limits: none"),
    }
    println!("Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}

/// The `auth0` provider: a fake Auth0 tenant.
mod auth0 {
    use std::process::ExitCode;

    use butterfly_testkit::auth0::{
        Auth0Options, Auth0TenantSpec, Auth0Tier, FakeAuth0, auth0_rate_limits,
    };
    use butterfly_testkit::fake::{Fault, FaultRule};

    const USAGE: &str = "usage: fake-tenant auth0 [--users N] [--seed S] [--port P] [--rate-scale F] [--tier free|enterprise] [--faults]";

    /// The tenant, the server options, and the rate-limit time scale and tier if limited.
    type Parsed = (Auth0TenantSpec, Auth0Options, Option<(f64, Auth0Tier)>);

    fn parse() -> Result<Parsed, String> {
        let mut args = std::env::args().skip(2);
        let mut spec = Auth0TenantSpec {
            users: 1000,
            seed: 1,
        };
        let mut options = Auth0Options::default();
        let mut scale = None;
        let mut tier = Auth0Tier::Enterprise;
        while let Some(flag) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
            };
            match flag.as_str() {
                "--users" => {
                    spec.users = value("--users")?
                        .parse()
                        .map_err(|_| "--users takes a number".to_string())?
                }
                "--seed" => {
                    spec.seed = value("--seed")?
                        .parse()
                        .map_err(|_| "--seed takes a number".to_string())?
                }
                "--port" => {
                    options.port = value("--port")?
                        .parse()
                        .map_err(|_| "--port takes a port number".to_string())?
                }
                "--rate-scale" => {
                    let f: f64 = value("--rate-scale")?
                        .parse()
                        .map_err(|_| "--rate-scale takes a number".to_string())?;
                    if !(f > 0.0 && f.is_finite()) {
                        return Err("--rate-scale must be positive".into());
                    }
                    scale = Some(f);
                }
                "--tier" => {
                    tier = match value("--tier")?.as_str() {
                        "free" => Auth0Tier::Free,
                        "enterprise" => Auth0Tier::Enterprise,
                        other => {
                            return Err(format!("--tier takes free or enterprise, not {other:?}"));
                        }
                    }
                }
                "--faults" => {
                    options.faults = vec![
                        FaultRule::get("/api/v2/users", Fault::Status(503), 7, 5),
                        FaultRule::get("/api/v2/roles", Fault::RateLimited, 11, 5),
                        FaultRule::get("/api/v2/clients", Fault::Truncate, 13, 5),
                    ]
                }
                "--help" | "-h" => return Err(USAGE.to_string()),
                other => return Err(format!("unknown option {other:?}\n{USAGE}")),
            }
        }
        Ok((spec, options, scale.map(|f| (f, tier))))
    }

    pub(crate) async fn main() -> ExitCode {
        let (spec, mut options, limits) = match parse() {
            Ok(p) => p,
            Err(msg) => {
                eprintln!("{msg}");
                return ExitCode::from(2);
            }
        };
        if let Some((f, tier)) = limits {
            options.rate_limits = Some(auth0_rate_limits(tier, f));
        }
        let users = spec.users;
        let fake = match FakeAuth0::start(spec, options).await {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: cannot start the fake tenant: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "fake Auth0 tenant with {users} users at {}",
            fake.base_url()
        );
        println!("  AUTH0_DOMAIN={}", fake.base_url());
        println!("  AUTH0_CLIENT_ID={}", fake.client_id());
        println!("  AUTH0_CLIENT_SECRET={}", fake.client_secret());
        println!("  AUTH0_AUDIENCE={}", fake.audience());
        println!(
            "  or private_key_jwt: AUTH0_PRIVATE_KEY_FILE=butterfly-testkit/keys/okta-test-private.pem"
        );
        match limits {
            Some((f, tier)) => {
                println!("  rate limits: Auth0's {tier:?} token bucket, time running {f}x faster")
            }
            None => println!("  rate limits: none"),
        }
        println!("Ctrl-C to stop.");
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    }
}

/// The `entra` provider: a fake Microsoft Entra ID tenant (Graph v1.0).
mod entra {
    use std::process::ExitCode;

    use butterfly_testkit::entra::{EntraOptions, EntraTenantSpec, FakeEntra, graph_rate_limits};
    use butterfly_testkit::fake::{Fault, FaultRule};

    const USAGE: &str =
        "usage: fake-tenant entra [--users N] [--seed S] [--port P] [--rate-scale F] [--faults]";

    fn parse() -> Result<(EntraTenantSpec, EntraOptions, Option<f64>), String> {
        let mut args = std::env::args().skip(2);
        let mut spec = EntraTenantSpec {
            users: 1000,
            seed: 1,
        };
        let mut options = EntraOptions::default();
        let mut scale = None;
        while let Some(flag) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
            };
            match flag.as_str() {
                "--users" => {
                    spec.users = value("--users")?
                        .parse()
                        .map_err(|_| "--users takes a number".to_string())?
                }
                "--seed" => {
                    spec.seed = value("--seed")?
                        .parse()
                        .map_err(|_| "--seed takes a number".to_string())?
                }
                "--port" => {
                    options.port = value("--port")?
                        .parse()
                        .map_err(|_| "--port takes a port number".to_string())?
                }
                "--rate-scale" => {
                    let f: f64 = value("--rate-scale")?
                        .parse()
                        .map_err(|_| "--rate-scale takes a number".to_string())?;
                    if !(f > 0.0 && f.is_finite()) {
                        return Err("--rate-scale must be positive".into());
                    }
                    scale = Some(f);
                }
                "--faults" => {
                    options.faults = vec![
                        FaultRule::get("/v1.0/users", Fault::Status(503), 7, 5),
                        FaultRule::get("/v1.0/groups", Fault::RateLimited, 11, 5),
                        FaultRule::get(
                            "/v1.0/servicePrincipals",
                            Fault::RateLimitedNoHeaders,
                            13,
                            5,
                        ),
                        FaultRule::get("/v1.0/applications", Fault::Truncate, 17, 5),
                    ]
                }
                "--help" | "-h" => return Err(USAGE.to_string()),
                other => return Err(format!("unknown option {other:?}\n{USAGE}")),
            }
        }
        if let Some(f) = scale {
            options.rate_limits = Some(graph_rate_limits(f));
        }
        Ok((spec, options, scale))
    }

    pub(crate) async fn main() -> ExitCode {
        let (spec, options, scale) = match parse() {
            Ok(p) => p,
            Err(msg) => {
                eprintln!("{msg}");
                return ExitCode::from(2);
            }
        };
        let users = spec.users;
        let fake = match FakeEntra::start(spec, options).await {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: cannot start the fake tenant: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "fake Entra tenant with {users} users at {}",
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
        match scale {
            Some(f) => println!(
                "  throttling: Graph resource units per 10 s window, time running {f}x faster (ENTRA_RATE_SCALE={f})"
            ),
            None => println!("  throttling: none"),
        }
        println!("Ctrl-C to stop.");
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    }
}
