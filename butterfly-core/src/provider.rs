//! The [`Provider`] trait: what every identity-provider crate implements.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::diff::SeverityRule;
use crate::error::Result;
use crate::kind::KindRef;
use crate::resource::Resource;
use crate::restore::Restorer;

/// What a provider can do beyond backing up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// It implements [`Restorer`] for at least some kinds.
    pub restore: bool,
    /// It can back up incrementally from a previous snapshot (delta tokens).
    pub incremental: bool,
    /// Its access probe asks the tenant (rather than assuming every kind is readable).
    pub access_probe: bool,
}

/// Whether the credentials can read a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "access", rename_all = "snake_case")]
pub enum Access {
    /// The kind can be read.
    Readable,
    /// The credentials lack a scope or role.
    Denied {
        /// Which scope or admin role is missing.
        missing: String,
    },
    /// The tenant does not have the feature.
    Unsupported {
        /// Why.
        reason: String,
    },
}

/// The answer of an access probe: per kind id, the access.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReport {
    /// Per kind id.
    pub kinds: BTreeMap<String, Access>,
}

impl AccessReport {
    /// Kind ids that can be read.
    pub fn readable(&self) -> impl Iterator<Item = &str> {
        self.kinds
            .iter()
            .filter(|(_, a)| matches!(a, Access::Readable))
            .map(|(k, _)| k.as_str())
    }
}

/// What a fetch of one kind gets from the orchestrator.
#[derive(Debug, Clone, Default)]
pub struct FetchContext {
    /// For a sub-resource kind (one with a [`parent`](crate::kind::ResourceKind::parent)): the
    /// parent kind's resources, already fetched in this backup. Empty for top-level kinds.
    pub parents: Arc<Vec<Resource>>,
    /// A previous snapshot of the same tenant, when the host asked for an incremental backup
    /// ([`BackupOptions::previous`](crate::backup::BackupOptions::previous)). A provider with
    /// [`Capabilities::incremental`] may read only what changed since and take the rest from
    /// it; the result must equal a full backup.
    pub previous: Option<Arc<crate::snapshot::Snapshot>>,
    /// Where a fetch reports a part of the kind it could not read while keeping the rest (one
    /// listing of several that the tenant does not offer): the kind stays complete, and the
    /// warning is kept with it in the snapshot ([`KindData::warnings`]).
    ///
    /// [`KindData::warnings`]: crate::snapshot::KindData::warnings
    pub warnings: KindWarnings,
}

/// The warnings of one kind's fetch; cheap to clone (clones share the list).
#[derive(Debug, Clone, Default)]
pub struct KindWarnings(Arc<std::sync::Mutex<Vec<String>>>);

impl KindWarnings {
    /// Records that part of the kind was not read, naming the part and why.
    pub fn warn(&self, message: impl Into<String>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message.into());
    }

    /// The warnings so far, sorted (concurrent listings report in any order) and without
    /// repeats.
    pub fn take(&self) -> Vec<String> {
        let mut list = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        list.sort();
        list.dedup();
        list
    }
}

/// An identity provider: names, kinds, an access probe, and fetching one kind.
///
/// A fetch returns a whole kind at once. Providers read a kind completely (every page, every
/// per-parent listing, retries and rate-limit waits included) before handing it over, and the
/// orchestrator redacts, deduplicates and sorts it; a kind is either read whole (with
/// [`FetchContext::warnings`] naming any part that could not be) or not at all. Streaming page
/// by page would save no memory, since the snapshot holds every resource anyway.
///
/// Implementations map HTTP failures to [`ErrorKind`](crate::ErrorKind)s in one function:
/// `Denied` (with the missing scope as message) and `Unsupported` become those kind outcomes,
/// every other error marks the kind `failed`.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Provider name (`"okta"`), the prefix of its kind ids.
    fn name(&self) -> &str;
    /// Which tenant this instance talks to (org host, tenant id). Never contains credentials.
    fn tenant(&self) -> &str;
    /// Every kind this provider can back up.
    fn kinds(&self) -> &[KindRef];
    /// Optional abilities.
    fn capabilities(&self) -> Capabilities;
    /// Which of `kinds` these credentials can read, and why not.
    async fn probe(&self, kinds: &[KindRef]) -> Result<AccessReport>;
    /// Every resource of `kind`, in any order, secrets included (the orchestrator redacts), or
    /// the error that kept the kind from being read.
    async fn fetch(&self, kind: KindRef, ctx: FetchContext) -> Result<Vec<Resource>>;
    /// Severity rules the provider adds to the defaults (see [`crate::diff`]).
    fn severity_rules(&self) -> Vec<SeverityRule> {
        Vec::new()
    }
    /// The restore half, when the provider supports restore.
    fn restorer(&self) -> Option<&dyn Restorer> {
        None
    }
    /// Finds one of this provider's kinds by id.
    fn kind(&self, id: &str) -> Option<KindRef> {
        self.kinds().iter().copied().find(|k| k.id() == id)
    }
}
