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
//!
//! The subcommands are the fakes of [`butterfly_testkit::tenants`]: each takes the common
//! flags and the options its descriptor declares.

use std::process::ExitCode;

use butterfly_testkit::tenants::{self, FakeDescriptor, FakeOption, FakeSpec, Faults};
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};

/// Parses a positive, finite time scale.
fn positive(s: &str) -> Result<f64, String> {
    let f: f64 = s.parse().map_err(|_| "takes a number".to_string())?;
    if f > 0.0 && f.is_finite() {
        Ok(f)
    } else {
        Err("must be positive".into())
    }
}

/// The flags every fake takes.
fn common_args() -> [Arg; 5] {
    [
        Arg::new("users")
            .long("users")
            .value_name("N")
            .help("Users to generate")
            .value_parser(value_parser!(usize))
            .default_value("1000"),
        Arg::new("seed")
            .long("seed")
            .value_name("S")
            .help("Seed: the same seed gives the same tenant")
            .value_parser(value_parser!(u64))
            .default_value("1"),
        Arg::new("port")
            .long("port")
            .value_name("P")
            .help("Port to listen on (0: any free port)")
            .value_parser(value_parser!(u16))
            .default_value("0"),
        Arg::new("rate-scale")
            .long("rate-scale")
            .value_name("F")
            .help("Apply the provider's rate limits, time running F times faster (F > 0)")
            .value_parser(positive)
            .allow_negative_numbers(true),
        Arg::new("faults")
            .long("faults")
            .help("Inject a few recurring faults (5xx, 429, truncated bodies) into the listings")
            .action(ArgAction::SetTrue),
    ]
}

/// The argument of a fake's own option.
fn option_arg(option: &FakeOption) -> Arg {
    let arg = Arg::new(option.name).long(option.name).help(option.help);
    if option.is_flag() {
        return arg.action(ArgAction::SetTrue);
    }
    let values = option
        .values
        .iter()
        .map(|(value, help)| PossibleValue::new(*value).help(*help));
    let arg = arg.value_parser(PossibleValuesParser::new(values));
    match option.default {
        Some(default) => arg.default_value(default),
        None => arg,
    }
}

/// The command line: a subcommand per fake, with the common flags and its options.
fn command() -> Command {
    let mut cmd = Command::new("fake-tenant")
        .about("Serves a generated fake identity-provider tenant on 127.0.0.1 until Ctrl-C.")
        .subcommand_required(true)
        .arg_required_else_help(true);
    for fake in tenants::fakes() {
        let sub = Command::new(fake.name)
            .about(fake.about)
            .args(common_args())
            .args(fake.options.iter().map(option_arg));
        cmd = cmd.subcommand(sub);
    }
    cmd
}

/// The spec a subcommand's flags give.
fn spec(fake: &FakeDescriptor, m: &ArgMatches) -> FakeSpec {
    let mut spec = FakeSpec::new(
        m.get_one::<usize>("users").copied().unwrap_or(1000),
        m.get_one::<u64>("seed").copied().unwrap_or(1),
    );
    spec.port = m.get_one::<u16>("port").copied().unwrap_or(0);
    spec.rate_scale = m.get_one::<f64>("rate-scale").copied();
    if m.get_flag("faults") {
        spec.faults = Faults::Recurring;
    }
    for option in fake.options {
        if option.is_flag() {
            if m.get_flag(option.name) {
                spec = spec.with_option(option.name, "true");
            }
        } else if let Some(value) = m.get_one::<String>(option.name) {
            spec = spec.with_option(option.name, value);
        }
    }
    spec
}

/// A comment line; it must not hold `=` (scripts keep settings with `grep =`).
fn comment(text: &str) -> String {
    format!("# {}", text.replace('=', ":"))
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
    let matches = command().get_matches();
    let Some((name, sub)) = matches.subcommand() else {
        return ExitCode::FAILURE;
    };
    let Some(descriptor) = tenants::get(name) else {
        return ExitCode::FAILURE;
    };
    let fake = match descriptor.start(spec(descriptor, sub)).await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("error: cannot start the fake tenant: {e}");
            return ExitCode::FAILURE;
        }
    };
    // `VAR=value` settings and `#` comment lines (which hold no `=`, so `grep =` keeps
    // exactly the settings), in the order a user reads them.
    let mut lines = vec![comment(&fake.description())];
    lines.extend(fake.settings().iter().map(|(k, v)| format!("{k}={v}")));
    lines.push(comment(&fake.rate_limit_comment()));
    let alternatives = fake.alternatives();
    if !alternatives.comment.is_empty() {
        lines.push(comment(&alternatives.comment));
    }
    lines.extend(
        alternatives
            .settings
            .iter()
            .map(|(k, v)| format!("#   {k}  {v}")),
    );
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        // A reader that went away (`| head`) is no reason to stop serving.
        for line in &lines {
            let _ = writeln!(stdout, "{line}");
        }
        // The last line: a script reading the settings can stop at it.
        let _ = writeln!(stdout, "# serving until Ctrl-C or SIGTERM");
        let _ = stdout.flush();
    }
    stopped().await;
    // The fake (and its server) lives until here.
    drop(fake);
    ExitCode::SUCCESS
}
