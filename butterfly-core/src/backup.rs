//! The backup orchestrator: fetches kinds concurrently, redacts secrets, builds a snapshot.
//!
//! Kinds run concurrently up to a bound. A sub-resource kind (one with a
//! [`parent`](crate::kind::ResourceKind::parent)) starts when its parent kind has finished and
//! receives the parent's resources. Each kind ends with a [`KindOutcome`]; one kind failing
//! never stops the others. Secrets are replaced by placeholders before a resource is kept, so
//! nothing downstream (snapshot, store, logs) ever holds one.
//!
//! Progress is reported as [`BackupEvent`]s to an optional [`Observer`]; retries and
//! rate-limit waits of the HTTP stack arrive through the same observer.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, HttpEvent};
use crate::kind::KindRef;
use crate::provider::{FetchContext, Provider};
use crate::redact;
use crate::resource::Resource;
use crate::snapshot::{KindOutcome, Snapshot, SnapshotId, SnapshotMeta, SnapshotStatus};
use crate::store::{SaveReport, SnapshotStore, StoreExt};

/// Something that happened during a backup, for a host to render.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum BackupEvent {
    /// The backup started.
    Started {
        /// Provider name.
        provider: String,
        /// Tenant.
        tenant: String,
        /// Kinds to fetch.
        kinds: usize,
    },
    /// A kind started.
    KindStarted {
        /// Kind id.
        kind: String,
    },
    /// More resources of a kind were fetched (sent every [`PROGRESS_EVERY`] resources).
    Fetched {
        /// Kind id.
        kind: String,
        /// Resources so far.
        count: usize,
    },
    /// A kind finished.
    KindFinished {
        /// Kind id.
        kind: String,
        /// How it ended.
        outcome: KindOutcome,
        /// Resources kept.
        count: usize,
        /// Secrets replaced by placeholders.
        secrets_redacted: usize,
    },
    /// Something worth a look that did not fail the kind.
    Warning {
        /// Kind id, when the warning is about one kind.
        kind: Option<String>,
        /// What happened.
        message: String,
    },
    /// The HTTP stack retried a request.
    Retry {
        /// Rate-limit bucket of the request.
        bucket: String,
        /// Attempt number (1 = first retry).
        attempt: u32,
        /// Status that caused the retry, if any (none for connection errors).
        status: Option<u16>,
        /// Wait before the retry, in milliseconds.
        wait_ms: u64,
    },
    /// The HTTP stack paused to stay inside a rate limit.
    RateLimitWait {
        /// Bucket.
        bucket: String,
        /// Wait, in milliseconds.
        wait_ms: u64,
    },
    /// The backup finished.
    Finished {
        /// Overall status.
        status: SnapshotStatus,
        /// Resources over all kinds.
        resources: usize,
    },
}

/// A `Fetched` event is sent every this many resources of a kind.
pub const PROGRESS_EVERY: usize = 500;

/// Receives [`BackupEvent`]s. Called from the backup's tasks: keep it quick.
pub type Observer = Arc<dyn Fn(&BackupEvent) + Send + Sync>;

/// What to back up and how.
#[derive(Clone)]
pub struct BackupOptions {
    /// Kind ids to back up; `None` means every kind of the provider. Parents of requested
    /// sub-resource kinds are added automatically.
    pub kinds: Option<Vec<String>>,
    /// How many kinds run at once.
    pub concurrency: usize,
    /// Where progress goes.
    pub observer: Option<Observer>,
    /// A previous snapshot of the same tenant: providers that can back up incrementally
    /// read only what changed since (the snapshot must still equal a full backup).
    pub previous: Option<Arc<Snapshot>>,
    /// The longest one kind may take, retries and rate-limit waits included (default
    /// [`DEFAULT_KIND_TIMEOUT`]); a kind past it ends `failed`, and the others go on. `None`:
    /// no limit.
    pub kind_timeout: Option<Duration>,
}

/// The default per-kind deadline: generous for the largest listings at half an org's rate
/// limit, short enough that a server which accepts and never answers cannot hold a nightly
/// backup for hours.
pub const DEFAULT_KIND_TIMEOUT: Duration = Duration::from_secs(30 * 60);

impl Default for BackupOptions {
    fn default() -> Self {
        BackupOptions {
            kinds: None,
            concurrency: 8,
            observer: None,
            previous: None,
            kind_timeout: Some(DEFAULT_KIND_TIMEOUT),
        }
    }
}

impl std::fmt::Debug for BackupOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupOptions")
            .field("kinds", &self.kinds)
            .field("concurrency", &self.concurrency)
            .field("observer", &self.observer.as_ref().map(|_| "Fn"))
            .field(
                "previous",
                &self.previous.as_ref().map(|s| s.meta.id.as_str()),
            )
            .field("kind_timeout", &self.kind_timeout)
            .finish()
    }
}

impl BackupOptions {
    /// Back up only these kinds (and their parents).
    pub fn kinds<I: IntoIterator<Item = S>, S: Into<String>>(mut self, kinds: I) -> Self {
        self.kinds = Some(kinds.into_iter().map(Into::into).collect());
        self
    }

    /// Send progress to `observer`.
    pub fn observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Back up incrementally from `snapshot` where the provider can (see
    /// [`Capabilities::incremental`](crate::provider::Capabilities::incremental)).
    pub fn previous(mut self, snapshot: Arc<Snapshot>) -> Self {
        self.previous = Some(snapshot);
        self
    }

    /// Run at most `n` kinds at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Give each kind at most `deadline` (`None`: no limit).
    pub fn kind_timeout(mut self, deadline: Option<Duration>) -> Self {
        self.kind_timeout = deadline;
        self
    }
}

/// Resolves the requested kind ids against the provider's kinds, adding parents.
pub fn select_kinds(provider: &dyn Provider, requested: Option<&[String]>) -> Result<Vec<KindRef>> {
    let all = provider.kinds();
    let Some(requested) = requested else {
        return Ok(all.to_vec());
    };
    let mut wanted = BTreeSet::new();
    for id in requested {
        let mut kind = provider.kind(id).ok_or_else(|| {
            let known: Vec<&str> = all.iter().map(|k| k.id()).collect();
            Error::config(format!(
                "unknown kind {id:?} for {}; known kinds: {}",
                provider.name(),
                known.join(", ")
            ))
        })?;
        wanted.insert(kind.id().to_string());
        while let Some(parent) = kind.parent() {
            kind = provider.kind(parent).ok_or_else(|| {
                Error::config(format!("kind {} names unknown parent {parent}", kind.id()))
            })?;
            wanted.insert(kind.id().to_string());
        }
    }
    Ok(all
        .iter()
        .copied()
        .filter(|k| wanted.contains(k.id()))
        .collect())
}

struct KindResult {
    kind: KindRef,
    outcome: KindOutcome,
    resources: Vec<Resource>,
    /// Secret placeholders in `resources`.
    secrets: usize,
    /// Parts of the kind that were not read (see [`FetchContext::warnings`]).
    warnings: Vec<String>,
}

impl KindResult {
    /// A kind that was not read: no resources, with this outcome.
    fn not_read(kind: KindRef, outcome: KindOutcome) -> KindResult {
        KindResult {
            kind,
            outcome,
            resources: Vec::new(),
            secrets: 0,
            warnings: Vec::new(),
        }
    }
}

/// Runs a backup and returns the snapshot (not yet stored).
///
/// The returned error is only for problems before any fetching (an unknown kind id, a
/// parent cycle); failures of kinds are recorded as their outcomes. Credentials the provider
/// rejects (an [`Auth`](ErrorKind::Auth) failure) stop the backup early: kinds not started
/// yet are not requested and end `failed` with the same error, and
/// [`rejected_credentials`] tells the snapshot apart.
pub async fn run(provider: &dyn Provider, options: &BackupOptions) -> Result<Snapshot> {
    let kinds = select_kinds(provider, options.kinds.as_deref())?;
    crate::kind::topological_order(&kinds)?;
    let emit = |e: BackupEvent| {
        if let Some(o) = &options.observer {
            o(&e);
        }
    };
    let started_at = Utc::now();
    emit(BackupEvent::Started {
        provider: provider.name().to_string(),
        tenant: provider.tenant().to_string(),
        kinds: kinds.len(),
    });

    let sink: http::EventSink = {
        let observer = options.observer.clone();
        Arc::new(move |e: HttpEvent| {
            if let Some(o) = &observer {
                o(&match e {
                    HttpEvent::Retry {
                        bucket,
                        attempt,
                        status,
                        wait,
                    } => BackupEvent::Retry {
                        bucket,
                        attempt,
                        status,
                        wait_ms: wait.as_millis() as u64,
                    },
                    HttpEvent::RateLimitWait { bucket, wait } => BackupEvent::RateLimitWait {
                        bucket,
                        wait_ms: wait.as_millis() as u64,
                    },
                });
            }
        })
    };

    // Children wait for their parent; everything else is ready at once.
    let mut waiting: BTreeMap<String, Vec<KindRef>> = BTreeMap::new();
    let mut ready: Vec<(KindRef, FetchContext)> = Vec::new();
    for kind in &kinds {
        match kind.parent() {
            Some(parent) => waiting.entry(parent.to_string()).or_default().push(*kind),
            None => ready.push((
                *kind,
                FetchContext {
                    previous: options.previous.clone(),
                    ..FetchContext::default()
                },
            )),
        }
    }
    ready.reverse(); // pop() takes them in table order

    let mut results: Vec<KindResult> = Vec::new();
    // Parents shared with their children's fetches, by index into `results`.
    let mut shared: Vec<(usize, Arc<Vec<Resource>>)> = Vec::new();
    let mut running = FuturesUnordered::new();
    // The first credential rejection, after which no new kind is requested.
    let mut rejected: Option<String> = None;
    loop {
        while running.len() < options.concurrency.max(1) {
            let Some((kind, ctx)) = ready.pop() else {
                break;
            };
            if rejected.is_none() {
                emit(BackupEvent::KindStarted {
                    kind: kind.id().to_string(),
                });
            }
            let rejected = rejected.clone();
            let fetch = http::with_events(sink.clone(), fetch_kind(provider, kind, ctx, options));
            running.push(async move {
                if let Some(error) = rejected {
                    // The credentials were rejected: asking again per kind only repeats the
                    // 401, so this kind is not requested.
                    return KindResult::not_read(
                        kind,
                        KindOutcome::Failed {
                            kind: ErrorKind::Auth,
                            error,
                        },
                    );
                }
                match options.kind_timeout {
                    None => fetch.await,
                    Some(deadline) => {
                        tokio::time::timeout(deadline, fetch)
                            .await
                            .unwrap_or_else(|_| {
                                KindResult::not_read(
                                    kind,
                                    KindOutcome::Failed {
                                        kind: ErrorKind::Transient,
                                        error: format!(
                                            "not finished within the per-kind deadline of {} s",
                                            deadline.as_secs_f64()
                                        ),
                                    },
                                )
                            })
                    }
                }
            });
        }
        let Some(result) = running.next().await else {
            break;
        };
        let mut result: KindResult = result;
        if let KindOutcome::Failed {
            kind: ErrorKind::Auth,
            error,
        } = &result.outcome
        {
            rejected.get_or_insert_with(|| error.clone());
        }
        emit(BackupEvent::KindFinished {
            kind: result.kind.id().to_string(),
            outcome: result.outcome.clone(),
            count: result.resources.len(),
            secrets_redacted: result.secrets,
        });
        if let Some(children) = waiting.remove(result.kind.id()) {
            // Every child reads the same parents: one shared copy, handed back to the
            // snapshot once the children are done (no deep copy per child kind).
            let parents = match result.outcome {
                KindOutcome::Complete => {
                    let parents = Arc::new(std::mem::take(&mut result.resources));
                    shared.push((results.len(), parents.clone()));
                    Some(parents)
                }
                _ => None,
            };
            for child in children {
                match (&result.outcome, &parents) {
                    (KindOutcome::Complete, Some(parents)) => {
                        ready.push((
                            child,
                            FetchContext {
                                parents: parents.clone(),
                                previous: options.previous.clone(),
                                ..FetchContext::default()
                            },
                        ));
                    }
                    (other, _) => {
                        let outcome = match other {
                            KindOutcome::Denied { missing } => KindOutcome::Denied {
                                missing: missing.clone(),
                            },
                            KindOutcome::Unsupported { reason } => KindOutcome::Unsupported {
                                reason: reason.clone(),
                            },
                            _ => KindOutcome::Failed {
                                kind: crate::ErrorKind::Transient,
                                error: format!("parent kind {} was not read", result.kind.id()),
                            },
                        };
                        // Grandchildren inherit the same outcome through this path.
                        let mut stack = vec![(child, outcome)];
                        while let Some((k, o)) = stack.pop() {
                            for gc in waiting.remove(k.id()).unwrap_or_default() {
                                stack.push((gc, o.clone()));
                            }
                            emit(BackupEvent::KindFinished {
                                kind: k.id().to_string(),
                                outcome: o.clone(),
                                count: 0,
                                secrets_redacted: 0,
                            });
                            results.push(KindResult::not_read(k, o));
                        }
                    }
                }
            }
        }
        results.push(result);
    }

    let meta = SnapshotMeta {
        id: SnapshotId::generate(provider.name(), started_at),
        provider: provider.name().to_string(),
        tenant: provider.tenant().to_string(),
        started_at,
        finished_at: Utc::now(),
    };
    drop(ready);
    for (at, parents) in shared {
        // Every fetch has finished and dropped its context: the Arc is unique again.
        results[at].resources = Arc::try_unwrap(parents).unwrap_or_else(|a| (*a).clone());
    }
    let mut snapshot = Snapshot::new(meta);
    for r in results {
        snapshot.insert_kind(r.kind.id(), r.outcome, r.resources);
        if let Some(data) = snapshot.kinds.get_mut(r.kind.id()) {
            data.warnings = r.warnings;
        }
    }
    emit(BackupEvent::Finished {
        status: snapshot.status(),
        resources: snapshot.resource_count(),
    });
    Ok(snapshot)
}

async fn fetch_kind(
    provider: &dyn Provider,
    kind: KindRef,
    ctx: FetchContext,
    options: &BackupOptions,
) -> KindResult {
    let emit = |e: BackupEvent| {
        if let Some(o) = &options.observer {
            o(&e);
        }
    };
    // In arrival order with their placeholder counts; sorted and deduplicated at the end
    // (cheaper than a map keyed by a copy of every id).
    let mut fetched_all: Vec<(Resource, usize)> = Vec::new();
    let fetched = AtomicUsize::new(0);
    let warnings = ctx.warnings.clone();
    let read = match provider.fetch(kind, ctx).await {
        Ok(read) => read,
        Err(err) => {
            tracing::warn!(kind = kind.id(), error = %err, "kind not read");
            return KindResult::not_read(kind, KindOutcome::from_error(&err));
        }
    };
    fetched_all.reserve(read.len());
    for mut resource in read {
        if resource.kind != kind.id() {
            let err = Error::invalid_data(format!(
                "provider returned a {} resource while fetching {}",
                resource.kind,
                kind.id()
            ));
            return KindResult::not_read(kind, KindOutcome::from_error(&err));
        }
        let secrets = redact::redact_counted(kind, &mut resource).placeholders;
        fetched_all.push((resource, secrets));
        let n = fetched.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(PROGRESS_EVERY) {
            emit(BackupEvent::Fetched {
                kind: kind.id().to_string(),
                count: n,
            });
        }
    }
    // Pages can overlap when the tenant changes during a listing: keep one copy, the
    // later one (the sort is stable).
    fetched_all.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let mut resources: Vec<Resource> = Vec::with_capacity(fetched_all.len());
    let mut secrets = 0;
    let mut last_secrets = 0;
    for (resource, n) in fetched_all {
        if let Some(previous) = resources.last_mut()
            && previous.id == resource.id
        {
            if previous != &resource {
                emit(BackupEvent::Warning {
                    kind: Some(kind.id().to_string()),
                    message: format!(
                        "resource {} was listed twice with different content; kept the later one",
                        resource.id
                    ),
                });
            }
            *previous = resource;
            secrets = secrets - last_secrets + n;
            last_secrets = n;
            continue;
        }
        resources.push(resource);
        secrets += n;
        last_secrets = n;
    }
    let warnings = warnings.take();
    for message in &warnings {
        tracing::warn!(kind = kind.id(), "{message}");
        emit(BackupEvent::Warning {
            kind: Some(kind.id().to_string()),
            message: message.clone(),
        });
    }
    KindResult {
        kind,
        outcome: KindOutcome::Complete,
        resources,
        secrets,
        warnings,
    }
}

/// The error to report instead of a snapshot when the provider rejected the credentials:
/// no kind was read and at least one failed with [`Auth`](ErrorKind::Auth). Such a snapshot
/// says nothing about the tenant, so it is one error, not a failure per kind.
pub fn rejected_credentials(snapshot: &Snapshot) -> Option<Error> {
    let read_any = snapshot
        .kinds
        .values()
        .any(|k| matches!(k.outcome, KindOutcome::Complete));
    if read_any {
        return None;
    }
    snapshot.kinds.values().find_map(|k| match &k.outcome {
        KindOutcome::Failed {
            kind: ErrorKind::Auth,
            error,
        } => Some(Error::new(
            ErrorKind::Auth,
            format!(
                "{} rejected the credentials for tenant {}, nothing was backed up: {error}",
                snapshot.meta.provider, snapshot.meta.tenant
            ),
        )),
        _ => None,
    })
}

/// Runs a backup and saves it into `store`.
///
/// A backup whose credentials were rejected ([`rejected_credentials`]) is an
/// [`Auth`](ErrorKind::Auth) error and is not saved: it would only hide the last good
/// snapshot.
pub async fn run_and_save<S: SnapshotStore + ?Sized>(
    provider: &dyn Provider,
    store: &S,
    options: &BackupOptions,
) -> Result<(Snapshot, SaveReport)> {
    let snapshot = run(provider, options).await?;
    if let Some(err) = rejected_credentials(&snapshot) {
        return Err(err);
    }
    let report = store.save(&snapshot).await?;
    Ok((snapshot, report))
}
