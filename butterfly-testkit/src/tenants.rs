//! The fake tenants as a registry: what a host (the `fake-tenant` binary, the demo, the
//! behaviour suite) iterates instead of matching on provider names.
//!
//! Each fake exports one [`FakeDescriptor`]: its name (the provider's name), its title, the
//! options it takes besides the common ones ([`FakeSpec`]: users, seed, port, rate scale,
//! faults), and how to start it. A started fake is a [`RunningFake`]: its base URL, the client
//! settings as `(VAR, value)` pairs (exactly the `VAR=value` lines `fake-tenant` prints), the
//! alternative credentials, and the incident it declares ([`RunningFake::incident`]).
//! Every fake is served as a [`Served`] of its type, which implements [`ProviderFake`] with
//! only what differs between fakes.
//!
//! The testkit knows fakes and settings, never the provider crates (they depend on it). A host
//! pairs a fake with the provider's descriptor by name and builds the provider from the fake's
//! settings, exactly as a user does:
//!
//! ```
//! use butterfly_testkit::tenants::{self, FakeSpec};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let fake = tenants::get("okta").unwrap().start(FakeSpec::new(20, 1)).await.unwrap();
//! let settings = fake.settings();
//! assert_eq!(settings[0], ("OKTA_ORG_URL".to_string(), fake.base_url()));
//! // A host: `Settings::from_pairs(settings)` and `butterfly_okta::DESCRIPTOR.build(…)`.
//! assert_eq!(fake.write_count(), 0);
//! # });
//! ```

use std::collections::BTreeMap;
use std::fmt::Display;

use async_trait::async_trait;
use butterfly_core::diff::{ChangeType, ResourceChange, Severity};
use butterfly_core::{Error, ErrorKind, Result};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;

use crate::fake::{FakeServer, Fault, FaultRule};

pub mod auth0;
pub mod entra;
pub mod okta;
pub mod onepassword;
pub mod ping;
pub mod workflows;

pub use auth0::{AUTH0, RunningAuth0};
pub use entra::{ENTRA, RunningEntra};
pub use okta::{OKTA, RunningOkta};
pub use onepassword::{ONEPASSWORD, RunningOnePassword};
pub use ping::{PING, RunningPing};
pub use workflows::{RunningWorkflows, WORKFLOWS};

/// Every fake tenant, in the order hosts list them. Adding a fake is one line here.
pub fn fakes() -> &'static [&'static FakeDescriptor] {
    static FAKES: [&FakeDescriptor; 6] = [&OKTA, &ENTRA, &AUTH0, &PING, &ONEPASSWORD, &WORKFLOWS];
    &FAKES
}

/// The fake of a provider, by the provider's name.
pub fn get(name: &str) -> Option<&'static FakeDescriptor> {
    fakes().iter().copied().find(|f| f.name == name)
}

/// The names of the fakes, in order.
pub fn names() -> Vec<&'static str> {
    fakes().iter().map(|f| f.name).collect()
}

/// An option a fake takes besides the common ones: a flag (`--governance`) or a choice among
/// named values (`--tier free|enterprise`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FakeOption {
    /// The long flag's name, and the key in [`FakeSpec::options`].
    pub name: &'static str,
    /// What it does, for help texts.
    pub help: &'static str,
    /// The values it takes with what each means; empty for a flag.
    pub values: &'static [(&'static str, &'static str)],
    /// The value when it is not given (choices only).
    pub default: Option<&'static str>,
}

impl FakeOption {
    /// A flag: set (`"true"`) or not.
    pub const fn flag(name: &'static str, help: &'static str) -> FakeOption {
        FakeOption {
            name,
            help,
            values: &[],
            default: None,
        }
    }

    /// A choice among `values` (name, meaning), `default` when not given.
    pub const fn choice(
        name: &'static str,
        help: &'static str,
        values: &'static [(&'static str, &'static str)],
        default: &'static str,
    ) -> FakeOption {
        FakeOption {
            name,
            help,
            values,
            default: Some(default),
        }
    }

    /// Whether the option is a flag.
    pub fn is_flag(&self) -> bool {
        self.values.is_empty()
    }
}

/// Which faults a fake injects into its listings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Faults {
    /// None.
    #[default]
    None,
    /// A few recurring ones (5xx, 429, truncated bodies), each kind one request in 7, 11, 13
    /// or 17, five times: what `fake-tenant --faults` serves.
    Recurring,
    /// A storm on every main listing (5xx, 429 with and without headers, resets, truncated
    /// bodies, and throttled requests inside batches where the API batches): what the
    /// behaviour suite's fault-tolerance check backs up through.
    Storm,
}

/// What every fake takes: how big, which seed, where, how limited, how faulty, and its own
/// options.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeSpec {
    /// Users to generate.
    pub users: usize,
    /// Seed: the same seed gives the same tenant.
    pub seed: u64,
    /// Port to listen on (0: any free port).
    pub port: u16,
    /// Apply the provider's rate limits with time running this many times faster (`None`:
    /// unlimited). The printed settings then tell the client to pace itself to that clock.
    pub rate_scale: Option<f64>,
    /// Faults to inject.
    pub faults: Faults,
    /// Scopes, roles or permissions never granted (the provider's names for them).
    pub withheld: Vec<String>,
    /// The fake's own options by name ([`FakeDescriptor::options`]): `"true"` for a set flag,
    /// the value for a choice.
    pub options: BTreeMap<String, String>,
}

impl Default for FakeSpec {
    fn default() -> Self {
        FakeSpec::new(1000, 1)
    }
}

impl FakeSpec {
    /// A tenant of `users` users from `seed`, unlimited, without faults, on any port.
    pub fn new(users: usize, seed: u64) -> FakeSpec {
        FakeSpec {
            users,
            seed,
            port: 0,
            rate_scale: None,
            faults: Faults::None,
            withheld: Vec::new(),
            options: BTreeMap::new(),
        }
    }

    /// This spec with an option set.
    pub fn with_option(mut self, name: &str, value: &str) -> FakeSpec {
        self.options.insert(name.to_string(), value.to_string());
        self
    }

    /// An option's value, or its declared default.
    pub fn option(&self, option: &FakeOption) -> Option<String> {
        self.options
            .get(option.name)
            .cloned()
            .or_else(|| option.default.map(str::to_string))
    }

    /// Whether a flag is set.
    pub fn flag(&self, option: &FakeOption) -> bool {
        self.options
            .get(option.name)
            .is_some_and(|v| v == "true" || v.is_empty())
    }
}

/// How a fake starts: generates the tenant from the spec and serves it.
pub type StartFn = fn(FakeSpec) -> BoxFuture<'static, std::io::Result<Box<dyn RunningFake>>>;

/// Everything a host needs to know about a fake tenant before starting it.
pub struct FakeDescriptor {
    /// The provider's name (`"okta"`): a host pairs the fake with the provider's descriptor
    /// by it.
    pub name: &'static str,
    /// Human name for headings (`"Entra ID"`).
    pub title: &'static str,
    /// What the fake is, in one sentence.
    pub about: &'static str,
    /// Options besides the common ones.
    pub options: &'static [FakeOption],
    /// Starts it.
    pub start: StartFn,
}

impl std::fmt::Debug for FakeDescriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeDescriptor")
            .field("name", &self.name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl FakeDescriptor {
    /// Generates a tenant from `spec` and serves it on 127.0.0.1; an option value the fake
    /// does not take is an `InvalidInput` error naming it.
    pub async fn start(&self, spec: FakeSpec) -> std::io::Result<Box<dyn RunningFake>> {
        for (name, value) in &spec.options {
            let option = self.options.iter().find(|o| o.name == name.as_str());
            let valid = match option {
                None => false,
                Some(o) if o.is_flag() => value == "true" || value.is_empty(),
                Some(o) => o.values.iter().any(|(v, _)| v == value),
            };
            if !valid {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("the fake {} takes no option {name} {value:?}", self.name),
                ));
            }
        }
        (self.start)(spec).await
    }
}

/// Credentials a client may use instead of the printed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternatives {
    /// What they replace, in a line (`or a certificate instead of ENTRA_CLIENT_SECRET, …`).
    pub comment: String,
    /// The settings, as `(VAR, value)` pairs.
    pub settings: Vec<(String, String)>,
}

/// A resource an incident deleted or changed, as the provider's backup names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affected {
    /// Kind id (`"okta.group"`).
    pub kind: String,
    /// The provider's id of it.
    pub id: String,
    /// The severity the provider's diff gives its change.
    pub severity: Severity,
}

impl Affected {
    /// A resource of `kind` with `id`, whose change the diff ranks `severity`.
    pub fn new(kind: &str, id: impl Into<String>, severity: Severity) -> Affected {
        Affected {
            kind: kind.to_string(),
            id: id.into(),
            severity,
        }
    }
}

/// What a restore of the provider never brings back as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Differences {
    /// In words, for people.
    pub text: String,
    /// What the restore plan must say about it (parts of its notes): a person is told.
    pub plan_notes: Vec<String>,
    /// The fields that differ after restoring this incident, as `(kind, pointer)`: a backup
    /// taken after the restore differs from the one before the incident in exactly these.
    pub fields: Vec<(String, String)>,
}

impl Differences {
    /// Whether `change` (of a diff between the backup before the incident and one after the
    /// restore) is one of the documented differences: a modification of a documented kind in
    /// documented fields only.
    pub fn explains(&self, change: &ResourceChange) -> bool {
        change.change == ChangeType::Modified
            && !change.fields.is_empty()
            && change.fields.iter().all(|f| {
                self.fields
                    .iter()
                    .any(|(kind, pointer)| *kind == change.kind && *pointer == f.pointer)
            })
    }
}

/// An incident a fake declares and performs through its admin API: configuration an admin
/// deletes (and changes), and what a restore must do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// A line per thing the admin did, for people.
    pub summary: Vec<String>,
    /// The objects deleted. What depends on them (their members, rules, grants, assignments)
    /// goes with them; nothing else may disappear.
    pub removed: Vec<Affected>,
    /// The objects changed in place.
    pub changed: Vec<Affected>,
    /// The kinds a restore of the incident covers.
    pub kinds: Vec<String>,
    /// What the restore never brings back as it was.
    pub differences: Differences,
}

/// A fake tenant being served; dropping it stops the server.
#[async_trait]
pub trait RunningFake: Send + Sync {
    /// `http://127.0.0.1:PORT`.
    fn base_url(&self) -> String;
    /// What was started, in one line (`fake Okta org with 2000 users at http://…`).
    fn description(&self) -> String;
    /// The client settings, as `(VAR, value)` pairs in the order `fake-tenant` prints them:
    /// the tenant URL, the credentials, and when rate-limited the client's pacing settings
    /// (`OKTA_RATE_SCALE`; `AUTH0_TIER` and `AUTH0_RATE_SCALE`).
    fn settings(&self) -> Vec<(String, String)>;
    /// The rate limits in one line (`rate limits: none`).
    fn rate_limit_comment(&self) -> String;
    /// Credentials a client may use instead of the printed ones.
    fn alternatives(&self) -> Alternatives;
    /// Writes received so far.
    fn write_count(&self) -> usize;
    /// Requests the fake did not know.
    fn unknown_requests(&self) -> Vec<String>;
    /// Every secret value planted in the tenant.
    fn sentinels(&self) -> Vec<String>;
    /// Performs the incident the fake declares, through its admin API, and says what it did.
    /// Its choices depend only on the generated tenant: the same seed, the same incident.
    async fn incident(&self) -> Result<Incident>;
}

/// What differs between the fakes the registry serves: how a fake starts from the common
/// spec, what it prints, and its incident. [`Served`] does the rest once for all of them.
#[async_trait]
pub trait ProviderFake: FakeHandle + Sized + Send + Sync + 'static {
    /// The faults of [`Faults::Recurring`], on these paths in this order.
    const RECURRING: &'static [(&'static str, Fault)];
    /// The rate-limit comment when the fake is not rate-limited.
    const UNLIMITED: &'static str;
    /// The faults of [`Faults::Storm`].
    fn storm() -> Vec<FaultRule>;
    /// Generates a tenant from `spec` and serves it with `faults`.
    async fn serve(spec: &FakeSpec, faults: Vec<FaultRule>) -> std::io::Result<Self>;
    /// What was started, in one line.
    fn describe(&self, spec: &FakeSpec) -> String;
    /// The client settings without the pacing ones: the tenant URL and the credentials.
    fn credentials(&self) -> Vec<(String, String)>;
    /// When rate-limited with time running `scale` times faster: the client's pacing
    /// settings and the rate-limit comment.
    fn pacing(&self, spec: &FakeSpec, scale: f64) -> (Vec<(String, String)>, String);
    /// Credentials a client may use instead of the printed ones.
    fn alternatives(&self) -> Alternatives;
    /// Performs the incident the fake declares (see [`RunningFake::incident`]).
    async fn perform_incident(&self) -> Result<Incident>;
}

/// What every fake answers about its server and its tenant's secrets.
pub trait FakeHandle {
    /// The framework server (writes, unknown requests).
    fn framework(&self) -> &FakeServer;
    /// Writes received so far.
    fn writes(&self) -> usize;
    /// Every secret value planted in the tenant.
    fn planted(&self) -> Vec<String>;
}

/// Implements [`FakeHandle`] with the fakes' own accessors of the same meaning.
macro_rules! fake_handle {
    ($($fake:ty),*) => {$(
        impl FakeHandle for $fake {
            fn framework(&self) -> &FakeServer {
                self.server()
            }
            fn writes(&self) -> usize {
                self.write_count()
            }
            fn planted(&self) -> Vec<String> {
                self.sentinels()
            }
        }
    )*};
}

fake_handle!(
    crate::okta::FakeOkta,
    crate::entra::FakeEntra,
    crate::auth0::FakeAuth0,
    crate::ping::FakePing,
    crate::onepassword::FakeOnePassword,
    crate::workflows::FakeWorkflows
);

/// A fake being served, with the spec it was started from: a [`RunningFake`].
pub struct Served<F> {
    fake: F,
    spec: FakeSpec,
}

impl<F: ProviderFake> Served<F> {
    /// Generates a tenant from `spec` and serves it.
    pub async fn start(spec: FakeSpec) -> std::io::Result<Served<F>> {
        let faults = match spec.faults {
            Faults::None => Vec::new(),
            Faults::Recurring => recurring(F::RECURRING),
            Faults::Storm => F::storm(),
        };
        let fake = F::serve(&spec, faults).await?;
        Ok(Served { fake, spec })
    }

    /// The fake itself, for assertions on its tenant.
    pub fn fake(&self) -> &F {
        &self.fake
    }
}

/// The [`StartFn`] of a fake.
fn start<F: ProviderFake>(
    spec: FakeSpec,
) -> BoxFuture<'static, std::io::Result<Box<dyn RunningFake>>> {
    async move { Ok(Box::new(Served::<F>::start(spec).await?) as Box<dyn RunningFake>) }.boxed()
}

#[async_trait]
impl<F: ProviderFake> RunningFake for Served<F> {
    fn base_url(&self) -> String {
        self.fake.framework().base_url()
    }

    fn description(&self) -> String {
        self.fake.describe(&self.spec)
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut out = self.fake.credentials();
        if let Some(scale) = self.spec.rate_scale {
            out.extend(self.fake.pacing(&self.spec, scale).0);
        }
        out
    }

    fn rate_limit_comment(&self) -> String {
        match self.spec.rate_scale {
            Some(scale) => self.fake.pacing(&self.spec, scale).1,
            None => F::UNLIMITED.to_string(),
        }
    }

    fn alternatives(&self) -> Alternatives {
        self.fake.alternatives()
    }

    fn write_count(&self) -> usize {
        self.fake.writes()
    }

    fn unknown_requests(&self) -> Vec<String> {
        self.fake.framework().unknown_requests()
    }

    fn sentinels(&self) -> Vec<String> {
        self.fake.planted()
    }

    async fn incident(&self) -> Result<Incident> {
        self.fake.perform_incident().await
    }
}

/// The private key the fakes accept for `private_key_jwt` and certificate assertions, as a
/// file a client can read.
pub fn test_key_file() -> String {
    format!("{}/keys/okta-test-private.pem", env!("CARGO_MANIFEST_DIR"))
}

/// `(VAR, value)`.
fn pair(var: &str, value: impl Display) -> (String, String) {
    (var.to_string(), value.to_string())
}

/// The faults of [`Faults::Recurring`]: the fault kinds in order, on `paths`, one request in
/// 7, 11, 13, 17, … (each rule five times).
fn recurring(rules: &[(&str, Fault)]) -> Vec<FaultRule> {
    const EVERY: [usize; 4] = [7, 11, 13, 17];
    rules
        .iter()
        .zip(EVERY)
        .map(|((path, fault), every)| FaultRule::get(path, fault.clone(), every, 5))
        .collect()
}

fn no_answer(e: reqwest::Error) -> Error {
    Error::new(ErrorKind::Transient, "the fake tenant did not answer").with_source(e)
}

/// An admin's `DELETE` (or other write) against a fake tenant, with the `Authorization`
/// header given; anything but a success is an error naming the request.
async fn admin_write(
    method: reqwest::Method,
    url: String,
    authorization: &str,
    body: Option<&Value>,
) -> Result<()> {
    let mut request = reqwest::Client::new()
        .request(method.clone(), &url)
        .header("authorization", authorization);
    if let Some(body) = body {
        request = request.json(body);
    }
    let resp = request.send().await.map_err(no_answer)?;
    if !resp.status().is_success() {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!("{method} {url} answered {}", resp.status()),
        ));
    }
    Ok(())
}

/// The first item matching `pred`, or a `NotFound` error saying what the incident needs.
fn pick(items: &[Value], what: &str, pred: impl Fn(&Value) -> bool) -> Result<Value> {
    items.iter().find(|i| pred(i)).cloned().ok_or_else(|| {
        Error::not_found(format!(
            "the generated tenant lacks {what}, which the incident needs"
        ))
    })
}

fn id_of(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_default().to_string()
}

fn name_of<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
