//! The run journal: a record of every backup run in the store, and notifications.
//!
//! Every run gets a [`RunEntry`], written when it starts (status
//! [`Running`](RunStatus::Running), so another process can see it in progress) and again
//! when it ends: start, end, duration, provider, tenant, status, the snapshot if one was
//! saved, per-kind outcomes and counts, and the error text. Runs that fail before any
//! snapshot exists (credentials rejected, the store unwritable) are recorded too. Error texts
//! are butterfly errors, which never contain secrets.
//!
//! Entries are the records `journal/<provider>/<start>-<random>.json`, so a query by
//! provider and time range ([`query_runs`]) reads only the entries it returns.
//!
//! A [`Notifier`] is told about runs that failed or completed with warnings;
//! [`WebhookNotifier`] POSTs a JSON body to a URL (https, or plain http to loopback only).
//!
//! ```
//! use butterfly_core::journal::{self, RunEntry, RunQuery, RunStatus, Trigger};
//! use butterfly_core::store::MemoryStore;
//! use butterfly_core::{Error, ErrorKind};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! let started = chrono::Utc::now();
//! let mut run = RunEntry::start("okta", "acme.okta.com", Trigger::Manual, started);
//! journal::record_run(&store, &run).await?;
//! let err = Error::new(ErrorKind::Auth, "okta rejected the credentials");
//! run.finish_error(&err, started + chrono::TimeDelta::seconds(2));
//! journal::record_run(&store, &run).await?;
//!
//! let runs = journal::query_runs(&store, &RunQuery::provider("okta")).await?;
//! assert_eq!(runs.len(), 1);
//! assert_eq!(runs[0].status, RunStatus::Failed);
//! assert_eq!(runs[0].duration_ms, Some(2000));
//! assert!(runs[0].error.as_deref().unwrap().contains("rejected"));
//! # Ok::<(), butterfly_core::Error>(())
//! # }).unwrap();
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::backup::{self, BackupOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::provider::Provider;
use crate::snapshot::{KindOutcome, Snapshot, SnapshotId, SnapshotStatus};
use crate::store::{RecordName, SaveReport, SnapshotStore};

/// Where journal entries live: `journal/<provider>/…`.
pub const JOURNAL_PREFIX: &str = "journal/";

/// A run still `running` after this long is shown as interrupted (its process most likely
/// ended without finishing it).
pub const STALE_AFTER: TimeDelta = TimeDelta::hours(24);

/// How a run ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started, not finished.
    Running,
    /// A snapshot was saved and every kind was read.
    Success,
    /// A snapshot was saved, but some kinds were denied or failed.
    CompletedWithWarnings,
    /// Nothing usable: no snapshot was saved, or no kind was read.
    Failed,
}

impl RunStatus {
    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::CompletedWithWarnings => "completed with warnings",
            RunStatus::Failed => "failed",
        }
    }
}

impl From<SnapshotStatus> for RunStatus {
    fn from(s: SnapshotStatus) -> RunStatus {
        match s {
            SnapshotStatus::Success => RunStatus::Success,
            SnapshotStatus::CompletedWithWarnings => RunStatus::CompletedWithWarnings,
            SnapshotStatus::Failed => RunStatus::Failed,
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A person or script (`butterfly backup`).
    Manual,
    /// A schedule.
    Schedule,
}

/// One kind of a run: its outcome and how many resources were kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    /// `complete`, `denied`, `unsupported` or `failed`.
    pub outcome: String,
    /// Resources kept.
    pub count: usize,
    /// Why it is not complete, if it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A backup run in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEntry {
    /// The run's id (unique, sortable by start).
    pub id: String,
    /// Provider name.
    pub provider: String,
    /// Tenant (empty when the run failed before the tenant was known).
    pub tenant: String,
    /// What started it.
    pub trigger: Trigger,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// How long it took, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// How it ended.
    pub status: RunStatus,
    /// The snapshot saved, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotId>,
    /// Resources over all kinds.
    #[serde(default)]
    pub resources: usize,
    /// Per kind id, its outcome and count.
    #[serde(default)]
    pub kinds: BTreeMap<String, KindCount>,
    /// The error that failed the run, or the kinds that were not read (secret-free).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The kind of that error, when the run failed with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    /// The process that ran it.
    pub pid: u32,
}

impl RunEntry {
    /// A run that starts now (status [`Running`](RunStatus::Running)).
    pub fn start(provider: &str, tenant: &str, trigger: Trigger, at: DateTime<Utc>) -> RunEntry {
        let clean = clean_provider(provider);
        let suffix: u32 = rand::random();
        RunEntry {
            id: format!("{}-{clean}-{suffix:08x}", at.format(TIME_FORMAT)),
            provider: provider.to_string(),
            tenant: tenant.to_string(),
            trigger,
            started_at: at,
            finished_at: None,
            duration_ms: None,
            status: RunStatus::Running,
            snapshot: None,
            resources: 0,
            kinds: BTreeMap::new(),
            error: None,
            error_kind: None,
            pid: std::process::id(),
        }
    }

    fn finish(&mut self, status: RunStatus, at: DateTime<Utc>) {
        self.status = status;
        self.finished_at = Some(at);
        self.duration_ms = Some(
            (at - self.started_at)
                .num_milliseconds()
                .max(0)
                .unsigned_abs(),
        );
    }

    /// The run produced `snapshot` (saved as `saved`, if it was saved) at `at`: status, counts
    /// and, for kinds not read, what happened to them.
    pub fn finish_snapshot(
        &mut self,
        snapshot: &Snapshot,
        saved: Option<&SnapshotId>,
        at: DateTime<Utc>,
    ) {
        self.tenant = snapshot.meta.tenant.clone();
        self.snapshot = saved.cloned();
        self.resources = snapshot.resource_count();
        let mut problems = Vec::new();
        self.kinds = snapshot
            .kinds
            .iter()
            .map(|(id, data)| {
                let detail = match &data.outcome {
                    KindOutcome::Complete | KindOutcome::Unsupported { .. } => None,
                    KindOutcome::Denied { missing } => Some(format!("denied (missing {missing})")),
                    KindOutcome::Failed { error, .. } => Some(format!("failed: {error}")),
                };
                if let Some(d) = &detail {
                    problems.push(format!("{id} {d}"));
                }
                (
                    id.clone(),
                    KindCount {
                        outcome: data.outcome.label().to_string(),
                        count: data.resources.len(),
                        detail,
                    },
                )
            })
            .collect();
        let status = if saved.is_some() {
            RunStatus::from(snapshot.status())
        } else {
            RunStatus::Failed
        };
        if !problems.is_empty() {
            self.error = Some(problems.join("; "));
        }
        self.finish(status, at);
    }

    /// The run failed with `err` at `at` (nothing was saved by it).
    pub fn finish_error(&mut self, err: &Error, at: DateTime<Utc>) {
        self.error = Some(err.to_string());
        self.error_kind = Some(err.kind());
        self.finish(RunStatus::Failed, at);
    }

    /// Whether the run ended.
    pub fn is_finished(&self) -> bool {
        self.status != RunStatus::Running
    }

    /// Whether the run is still `running` long after it started ([`STALE_AFTER`]): its
    /// process most likely ended without finishing it.
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        !self.is_finished() && now - self.started_at > STALE_AFTER
    }

    /// The record the entry is stored as.
    pub fn record_name(&self) -> Result<RecordName> {
        format!(
            "{JOURNAL_PREFIX}{}/{}.json",
            clean_provider(&self.provider),
            self.id
        )
        .parse()
    }

    /// A one-line summary for people.
    pub fn summary(&self) -> String {
        let took = self
            .duration_ms
            .map(|ms| format!(" in {:.1}s", ms as f64 / 1000.0))
            .unwrap_or_default();
        let what = match (&self.snapshot, &self.error) {
            (Some(s), _) => format!(": snapshot {s}, {} resources", self.resources),
            (None, Some(e)) => format!(": {e}"),
            (None, None) => String::new(),
        };
        format!(
            "{} backup of {} {} {}{took}{what}",
            self.trigger_word(),
            self.provider,
            self.tenant,
            self.status
        )
    }

    fn trigger_word(&self) -> &'static str {
        match self.trigger {
            Trigger::Manual => "manual",
            Trigger::Schedule => "scheduled",
        }
    }
}

/// A provider name as a record segment: ASCII letters, digits, `-` and `_` (at most 32).
fn clean_provider(provider: &str) -> String {
    let clean: String = provider
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(32)
        .collect();
    if clean.is_empty() {
        "unknown".to_string()
    } else {
        clean
    }
}

/// The time format of run ids (sortable as text).
const TIME_FORMAT: &str = "%Y%m%dT%H%M%S%.3fZ";

/// Writes (or rewrites) a journal entry.
pub async fn record_run<S: SnapshotStore + ?Sized>(store: &S, run: &RunEntry) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(run)
        .map_err(|e| Error::invalid_data("cannot encode a journal entry").with_source(e))?;
    store.put_record(&run.record_name()?, &bytes).await
}

/// Which runs [`query_runs`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunQuery {
    /// Only this provider.
    pub provider: Option<String>,
    /// Only runs started at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only runs started at or before this instant.
    pub until: Option<DateTime<Utc>>,
}

impl RunQuery {
    /// The runs of one provider.
    pub fn provider(provider: &str) -> RunQuery {
        RunQuery {
            provider: Some(provider.to_string()),
            ..RunQuery::default()
        }
    }
}

/// The start time written in a journal record's name.
fn start_of(name: &RecordName) -> Option<DateTime<Utc>> {
    let file = name.segments().last()?;
    let stamp = file.split('-').next()?;
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S%.3fZ")
        .ok()
        .map(|t| t.and_utc())
}

/// The runs matching a query, newest first. Entries outside the time range are not read; an
/// entry that cannot be read is skipped with a warning.
pub async fn query_runs<S: SnapshotStore + ?Sized>(
    store: &S,
    query: &RunQuery,
) -> Result<Vec<RunEntry>> {
    let prefix = match &query.provider {
        Some(p) => format!("{JOURNAL_PREFIX}{}/", clean_provider(p)),
        None => JOURNAL_PREFIX.to_string(),
    };
    let in_range =
        |t: DateTime<Utc>| query.since.is_none_or(|s| t >= s) && query.until.is_none_or(|u| t <= u);
    let mut runs = Vec::new();
    for name in store.list_records(&prefix).await? {
        // Whole milliseconds in the name: an entry is read when its second could be in range.
        if let Some(t) = start_of(&name)
            && !in_range(t)
            && !in_range(t + TimeDelta::milliseconds(1))
        {
            continue;
        }
        let Some(bytes) = store.get_record(&name).await? else {
            continue;
        };
        match serde_json::from_slice::<RunEntry>(&bytes) {
            Ok(run) => {
                if in_range(run.started_at)
                    && query.provider.as_ref().is_none_or(|p| &run.provider == p)
                {
                    runs.push(run);
                }
            }
            Err(e) => tracing::warn!("skipping journal entry {name}: {e}"),
        }
    }
    runs.sort_by(|a, b| {
        b.started_at
            .cmp(&a.started_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    Ok(runs)
}

/// The latest finished run of each provider and tenant, and every run still in progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalStatus {
    /// Per provider and tenant, its newest finished run.
    pub last: Vec<RunEntry>,
    /// Runs started and not finished, newest first (see [`RunEntry::is_stale`]).
    pub running: Vec<RunEntry>,
}

/// Reads the journal's status: the last result per tenant and the runs in progress.
pub async fn journal_status<S: SnapshotStore + ?Sized>(store: &S) -> Result<JournalStatus> {
    let runs = query_runs(store, &RunQuery::default()).await?;
    let mut status = JournalStatus::default();
    let mut seen = std::collections::BTreeSet::new();
    for run in runs {
        if !run.is_finished() {
            status.running.push(run);
        } else if seen.insert((run.provider.clone(), run.tenant.clone())) {
            status.last.push(run);
        }
    }
    status
        .last
        .sort_by(|a, b| (&a.provider, &a.tenant).cmp(&(&b.provider, &b.tenant)));
    Ok(status)
}

/// Told about runs that need attention.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Called with a finished run that failed or completed with warnings. An error is
    /// logged by the caller; it never changes the run's outcome.
    async fn notify(&self, run: &RunEntry) -> Result<()>;
}

/// Whether a run needs a notification: it failed or completed with warnings.
pub fn needs_notification(run: &RunEntry) -> bool {
    matches!(
        run.status,
        RunStatus::Failed | RunStatus::CompletedWithWarnings
    )
}

/// Notifies when the run needs it ([`needs_notification`]); a failing notifier is logged as
/// a warning and its error returned for the host to show.
pub async fn notify_if_needed(notifier: &dyn Notifier, run: &RunEntry) -> Option<Error> {
    if !needs_notification(run) {
        return None;
    }
    match notifier.notify(run).await {
        Ok(()) => None,
        Err(e) => {
            tracing::warn!(run = %run.id, "notification failed: {e}");
            Some(e)
        }
    }
}

/// A notifier that POSTs JSON to a URL:
/// `{"event": "backup_failed" | "backup_completed_with_warnings", "text": "…", "run": {…}}`
/// (`text` is what chat webhooks such as Slack's incoming webhooks display).
///
/// The URL often holds a token, so it is kept as a secret: it is not in `Debug` output nor
/// in any error.
pub struct WebhookNotifier {
    url: SecretString,
    client: reqwest::Client,
}

impl std::fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookNotifier")
            .field("url", &"[redacted]")
            .finish()
    }
}

/// How long a webhook may take to answer.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

impl WebhookNotifier {
    /// A webhook notifier. The URL must be `https`, or plain `http` to a loopback host
    /// (127.0.0.1, ::1, localhost); anything else is a [`Config`](ErrorKind::Config) error
    /// that does not repeat the URL.
    pub fn new(url: &str) -> Result<WebhookNotifier> {
        let parsed = url::Url::parse(url.trim())
            .map_err(|e| Error::config(format!("the webhook URL is not a valid URL ({e})")))?;
        let loopback = match parsed.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(Error::config("the webhook URL has no host")),
        };
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(Error::config(
                    "refusing a plain http webhook: use https (plain http is allowed only for 127.0.0.1, ::1 and localhost)",
                ));
            }
            other => {
                return Err(Error::config(format!(
                    "unsupported webhook URL scheme {other:?}: use https"
                )));
            }
        }
        let client = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::config("cannot build the webhook HTTP client").with_source(e))?;
        Ok(WebhookNotifier {
            url: SecretString::from(parsed.to_string()),
            client,
        })
    }

    /// The JSON body sent for a run.
    pub fn body(run: &RunEntry) -> serde_json::Value {
        let event = match run.status {
            RunStatus::CompletedWithWarnings => "backup_completed_with_warnings",
            RunStatus::Failed => "backup_failed",
            RunStatus::Success => "backup_succeeded",
            RunStatus::Running => "backup_running",
        };
        serde_json::json!({
            "event": event,
            "text": format!("butterfly: {}", run.summary()),
            "run": run,
        })
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn notify(&self, run: &RunEntry) -> Result<()> {
        let response = self
            .client
            .post(self.url.expose_secret())
            .json(&WebhookNotifier::body(run))
            .send()
            .await
            // Without the URL: it may hold the webhook's token.
            .map_err(|e| {
                Error::new(ErrorKind::Transient, "the webhook could not be reached")
                    .with_source(e.without_url())
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            let kind = if status.is_server_error() {
                ErrorKind::Transient
            } else {
                ErrorKind::Config
            };
            Err(Error::new(
                kind,
                format!("the webhook answered HTTP {}", status.as_u16()),
            )
            .with_status(status.as_u16()))
        }
    }
}

/// Runs a backup and saves it as [`backup::run_and_save`] does, recording the run in the
/// journal (when it starts and when it ends, whatever the outcome) and telling `notifier`
/// about a failure or warnings.
///
/// The backup's own result is returned beside the entry. A journal that cannot be written
/// does not fail the backup (it is logged as a warning), nor does a failing notifier.
pub async fn journaled_backup<S: SnapshotStore + ?Sized>(
    provider: &dyn Provider,
    store: &S,
    options: &BackupOptions,
    trigger: Trigger,
    notifier: Option<&dyn Notifier>,
) -> (RunEntry, Result<(Snapshot, SaveReport)>) {
    let mut run = RunEntry::start(provider.name(), provider.tenant(), trigger, Utc::now());
    if let Err(e) = record_run(store, &run).await {
        tracing::warn!(run = %run.id, "cannot write the journal entry: {e}");
    }
    let result = backup::run_and_save(provider, store, options).await;
    match &result {
        Ok((snapshot, saved)) => run.finish_snapshot(snapshot, Some(&saved.id), Utc::now()),
        Err(e) => run.finish_error(e, Utc::now()),
    }
    if let Err(e) = record_run(store, &run).await {
        tracing::warn!(run = %run.id, "cannot write the journal entry: {e}");
    }
    if let Some(n) = notifier {
        notify_if_needed(n, &run).await;
    }
    (run, result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::{Category, KindRef, KindSpec};
    use crate::provider::{AccessReport, Capabilities, FetchContext};
    use crate::resource::Resource;
    use crate::store::MemoryStore;
    use serde_json::json;
    use std::sync::{Arc, Mutex};

    const GROUP: KindSpec = KindSpec::new("t.group", "Groups", Category::Directory);
    const APP: KindSpec = KindSpec::new("t.app", "Apps", Category::Application);
    static KINDS: &[KindRef] = &[&GROUP, &APP];

    /// `Ok`: both kinds read; `Denied`: apps denied; `Auth`: credentials rejected.
    struct Fake(ErrorKind);

    #[async_trait]
    impl Provider for Fake {
        fn name(&self) -> &str {
            "t"
        }
        fn tenant(&self) -> &str {
            "tenant.example"
        }
        fn kinds(&self) -> &[KindRef] {
            KINDS
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }
        async fn probe(&self, _kinds: &[KindRef]) -> Result<AccessReport> {
            Ok(AccessReport::default())
        }
        async fn fetch(&self, kind: KindRef, _ctx: FetchContext) -> Result<Vec<Resource>> {
            match (self.0, kind.id()) {
                (ErrorKind::Auth, _) => Err(Error::new(ErrorKind::Auth, "HTTP 401: invalid token")),
                (ErrorKind::Denied, "t.app") => {
                    Err(Error::new(ErrorKind::Denied, "okta.apps.read"))
                }
                _ => Ok(vec![Resource::new(kind, "r1", None, json!({"id": "r1"}))]),
            }
        }
    }

    /// Records every notification.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<RunEntry>>);

    #[async_trait]
    impl Notifier for Recorder {
        async fn notify(&self, run: &RunEntry) -> Result<()> {
            self.0.lock().unwrap().push(run.clone());
            Ok(())
        }
    }

    #[tokio::test]
    async fn every_run_is_journaled_and_failures_and_warnings_are_notified() {
        let store = MemoryStore::new();
        let recorder = Recorder::default();
        let options = BackupOptions::default();
        let cases = [
            (ErrorKind::Io, RunStatus::Success, true, false),
            (
                ErrorKind::Denied,
                RunStatus::CompletedWithWarnings,
                true,
                true,
            ),
            (ErrorKind::Auth, RunStatus::Failed, false, true),
        ];
        for (mode, status, saved, notified) in cases {
            let before = recorder.0.lock().unwrap().len();
            let (run, result) = journaled_backup(
                &Fake(mode),
                &store,
                &options,
                Trigger::Manual,
                Some(&recorder),
            )
            .await;
            assert_eq!(run.status, status, "{mode:?}");
            assert_eq!(result.is_ok(), saved, "{mode:?}");
            assert_eq!(run.snapshot.is_some(), saved, "{mode:?}");
            assert!(run.finished_at.is_some() && run.duration_ms.is_some());
            assert_eq!(
                recorder.0.lock().unwrap().len() - before,
                usize::from(notified)
            );
            let stored = query_runs(&store, &RunQuery::provider("t")).await.unwrap();
            assert_eq!(stored[0], run, "the newest entry is this run, finished");
        }
        let runs = query_runs(&store, &RunQuery::default()).await.unwrap();
        assert_eq!(runs.len(), 3);
        let failed = &runs[0];
        assert_eq!(failed.error_kind, Some(ErrorKind::Auth));
        assert!(
            failed
                .error
                .as_deref()
                .unwrap()
                .contains("rejected the credentials")
        );
        assert_eq!(failed.tenant, "tenant.example");
        let warned = &runs[1];
        assert_eq!(warned.kinds["t.app"].outcome, "denied");
        assert_eq!(warned.kinds["t.group"].count, 1);
        assert!(warned.error.as_deref().unwrap().contains("okta.apps.read"));
        let status = journal_status(&store).await.unwrap();
        assert_eq!(status.last.len(), 1);
        assert_eq!(status.last[0].id, failed.id);
        assert!(status.running.is_empty());
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[tokio::test]
    async fn queries_filter_by_provider_and_time_and_show_running_runs() {
        let store = MemoryStore::new();
        for (provider, start) in [
            ("okta", "2026-05-01T10:00:00Z"),
            ("okta", "2026-05-02T10:00:00.500Z"),
            ("okta", "2026-05-03T10:00:00Z"),
            ("entra", "2026-05-02T11:00:00Z"),
        ] {
            let mut run = RunEntry::start(provider, "x", Trigger::Schedule, at(start));
            run.finish_error(&Error::config("bad"), at(start) + TimeDelta::seconds(1));
            record_run(&store, &run).await.unwrap();
        }
        let running = RunEntry::start("okta", "x", Trigger::Manual, at("2026-05-04T00:00:00Z"));
        record_run(&store, &running).await.unwrap();

        let q = |provider: Option<&str>, since: Option<&str>, until: Option<&str>| RunQuery {
            provider: provider.map(str::to_string),
            since: since.map(at),
            until: until.map(at),
        };
        let cases = [
            (q(None, None, None), 5),
            (q(Some("okta"), None, None), 4),
            (q(Some("entra"), None, None), 1),
            (q(Some("auth0"), None, None), 0),
            (
                q(
                    None,
                    Some("2026-05-02T00:00:00Z"),
                    Some("2026-05-02T23:59:59Z"),
                ),
                2,
            ),
            (q(Some("okta"), Some("2026-05-02T10:00:00.500Z"), None), 3),
            (q(Some("okta"), None, Some("2026-05-02T10:00:00.500Z")), 2),
            (q(Some("okta"), None, Some("2026-05-02T10:00:00.499Z")), 1),
        ];
        for (query, want) in cases {
            let got = query_runs(&store, &query).await.unwrap();
            assert_eq!(got.len(), want, "{query:?}");
            assert!(got.windows(2).all(|w| w[0].started_at >= w[1].started_at));
        }
        let status = journal_status(&store).await.unwrap();
        assert_eq!(status.running.len(), 1);
        assert_eq!(status.running[0].id, running.id);
        assert!(!running.is_stale(at("2026-05-04T12:00:00Z")));
        assert!(running.is_stale(at("2026-05-05T00:00:01Z")));
        assert_eq!(status.last.len(), 2);
        assert!(
            status
                .last
                .iter()
                .any(|r| r.started_at == at("2026-05-03T10:00:00Z"))
        );
    }

    #[test]
    fn webhook_urls_follow_the_loopback_rule_and_stay_secret() {
        for ok in [
            "https://hooks.example.com/services/T0/B0/secret-token",
            "http://127.0.0.1:9/hook",
            "http://[::1]:9/hook",
            "http://localhost/hook",
        ] {
            let n = WebhookNotifier::new(ok).unwrap();
            assert!(!format!("{n:?}").contains("/hook"), "{n:?}");
        }
        for bad in [
            "http://hooks.example.com/secret-token",
            "ftp://127.0.0.1/x",
            "not a url secret-token",
        ] {
            let err = WebhookNotifier::new(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
            assert!(!err.to_string().contains("secret-token"), "{err}");
        }
    }

    #[tokio::test]
    async fn the_webhook_posts_json_to_a_local_server() {
        use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
        type Seen = Arc<Mutex<Vec<serde_json::Value>>>;
        let seen: Seen = Arc::default();
        async fn hook(State(seen): State<Seen>, Json(body): Json<serde_json::Value>) -> StatusCode {
            seen.lock().unwrap().push(body);
            StatusCode::NO_CONTENT
        }
        async fn broken() -> StatusCode {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        let app = Router::new()
            .route("/hook/secret-token", post(hook))
            .route("/broken", post(broken))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        let notifier = WebhookNotifier::new(&format!("http://{addr}/hook/secret-token")).unwrap();
        let store = MemoryStore::new();
        let (failed, _) = journaled_backup(
            &Fake(ErrorKind::Auth),
            &store,
            &BackupOptions::default(),
            Trigger::Schedule,
            Some(&notifier),
        )
        .await;
        let (ok, _) = journaled_backup(
            &Fake(ErrorKind::Io),
            &store,
            &BackupOptions::default(),
            Trigger::Schedule,
            Some(&notifier),
        )
        .await;
        assert_eq!(ok.status, RunStatus::Success);
        let bodies = seen.lock().unwrap().clone();
        assert_eq!(bodies.len(), 1, "only the failure is notified: {bodies:?}");
        assert_eq!(bodies[0]["event"], "backup_failed");
        assert_eq!(bodies[0]["run"]["id"], failed.id.as_str());
        assert_eq!(bodies[0]["run"]["status"], "failed");
        assert!(
            bodies[0]["text"]
                .as_str()
                .unwrap()
                .contains("rejected the credentials")
        );

        let mut warned = failed.clone();
        warned.status = RunStatus::CompletedWithWarnings;
        notifier.notify(&warned).await.unwrap();
        assert_eq!(
            seen.lock().unwrap()[1]["event"],
            "backup_completed_with_warnings"
        );

        let broken = WebhookNotifier::new(&format!("http://{addr}/broken")).unwrap();
        let err = notify_if_needed(&broken, &failed).await.unwrap();
        assert_eq!(err.kind(), ErrorKind::Transient);
        assert!(err.to_string().contains("HTTP 500"), "{err}");
        server.abort();
        // Unreachable: the error does not name the URL (it may hold a token).
        let gone = WebhookNotifier::new(&format!("http://{addr}/hook/secret-token")).unwrap();
        let _ = server.await;
        let err = gone.notify(&failed).await.unwrap_err();
        assert!(
            !format!("{err} {err:?}").contains("secret-token"),
            "{err:?}"
        );
    }
}
