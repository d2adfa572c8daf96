//! Snapshot stores: where snapshots live.
//!
//! A [`SnapshotStore`] is a small set of primitives over blobs and manifests; the snapshot
//! logic (encoding, integrity checks, listing, garbage collection) lives once, in [`StoreExt`],
//! which every store gets for free. That keeps integrity checking identical for every backend.
//!
//! Stores here: [`FsStore`], the embedded default on the local filesystem, and
//! [`MemoryStore`] for tests. Both pass the conformance suite in
//! `butterfly-testkit`. [`EncryptedStore`] wraps any store and encrypts everything it keeps
//! there (AES-256-GCM, keyed blob names; see [`encrypted`]); it passes the same suite.
//! With the `object-store` cargo feature, `object::ObjectSnapshotStore` keeps snapshots on
//! S3-compatible object storage for many workers sharing one bucket; it passes the suite too.
//!
//! # A damaged store
//! Damage is contained to what it touches, and nothing is lost because of it:
//! - a backup never trusts a stored blob it reuses: it compares the stored bytes with the ones
//!   it would write and writes a good copy over a corrupt one ([`SaveReport::repaired_blobs`]);
//! - a damaged manifest hides only its own snapshot: [`StoreExt::list_checked`] reports it,
//!   [`StoreExt::list`] and [`StoreExt::latest`] skip it (with a warning), and garbage
//!   collection deletes nothing while any manifest is unreadable, since it cannot know which
//!   blobs that snapshot uses;
//! - a damaged blob spoils only the kinds that use it: [`StoreExt::load_salvage`] returns the
//!   intact kinds and names the damaged ones, [`StoreExt::load_kinds`] reads only the kinds
//!   asked for;
//! - a blob missing from a snapshot is an [`Integrity`](ErrorKind::Integrity) error, like a
//!   corrupt one, not [`NotFound`](ErrorKind::NotFound) (which means "no such snapshot");
//! - [`StoreExt::verify_all`] reports every damaged manifest, blob and kind, not the first.

pub mod encrypted;
pub mod fs;
pub mod memory;
#[cfg(feature = "object-store")]
pub mod object;

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::snapshot::{BlobId, KindData, Manifest, Snapshot, SnapshotId, SnapshotStatus};

pub use encrypted::{EncryptedStore, KeyId, KeyProvider, StoreKey};
pub use fs::FsStore;
pub use memory::MemoryStore;
#[cfg(feature = "object-store")]
pub use object::{ObjectSnapshotStore, S3StoreBuilder};

/// The storage primitives a backend implements.
///
/// Contract (checked by the conformance suite):
/// - `put_blob` stores bytes under their blake3 address and refuses bytes that do not match it;
///   storing an existing blob again is a cheap no-op.
/// - `replace_blob` stores bytes under their address even if a (corrupt) blob is stored there.
/// - `get_blob` returns exactly the stored bytes or an `Integrity` error
///   if they no longer match the address; a missing blob is `NotFound`.
/// - `put_manifest` makes a snapshot visible atomically; it is called after every blob is
///   stored. An id that already exists is a `Conflict`.
/// - `get_manifest` verifies the manifest's own hash.
/// - Records (`put_record` … `delete_record`) are small named documents beside the
///   snapshots (compliance holds, retention policies, schedule states, the run journal):
///   `put_record` replaces a record atomically (a reader sees the old bytes or the new ones),
///   `get_record` of a missing record is `Ok(None)`, `list_records` lists the names under a
///   prefix in order.
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    /// A one-line description (`"filesystem store at ./butterfly-data"`).
    fn describe(&self) -> String;
    /// Whether a blob exists. An existing blob's age restarts (a backup is about to reuse
    /// it), so garbage collection's grace period also protects reused blobs.
    async fn has_blob(&self, id: &BlobId) -> Result<bool>;
    /// Stores a blob under its address.
    async fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()>;
    /// Stores a blob under its address, writing over whatever is stored there: how a backup
    /// repairs a corrupt blob it was about to reuse. Bytes that do not match the address are
    /// refused, as by [`put_blob`](Self::put_blob).
    ///
    /// The default deletes the stored blob, then puts the new one, so for a moment the blob
    /// is absent; stores that can overwrite atomically override it.
    async fn replace_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        id.verify(bytes)?;
        self.delete_blob(id, std::time::Duration::ZERO).await?;
        self.put_blob(id, bytes).await
    }
    /// Reads a blob's stored bytes without checking them (`NotFound` if absent; a store that
    /// can only hand out authenticated bytes, like [`EncryptedStore`], returns an
    /// [`Integrity`](ErrorKind::Integrity) error for a damaged blob instead). Readers use
    /// [`get_blob`](Self::get_blob), or decode and check themselves as snapshot loading does,
    /// so that a corrupt byte can be traced to the resource it belongs to.
    async fn read_blob(&self, id: &BlobId) -> Result<Vec<u8>>;
    /// Reads a blob, verifying its address (an `Integrity` error on mismatch).
    async fn get_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        let bytes = self.read_blob(id).await?;
        id.verify(&bytes)?;
        Ok(bytes)
    }
    /// Every stored blob.
    async fn list_blobs(&self) -> Result<Vec<BlobId>>;
    /// Deletes a blob if it is older than `min_age` (so blobs of a backup still being written,
    /// whose manifest does not exist yet, are never collected). Returns the bytes freed.
    async fn delete_blob(&self, id: &BlobId, min_age: std::time::Duration) -> Result<u64>;
    /// Makes a snapshot visible, atomically.
    async fn put_manifest(&self, manifest: &Manifest) -> Result<()>;
    /// Reads and verifies a manifest.
    async fn get_manifest(&self, id: &SnapshotId) -> Result<Manifest>;
    /// Ids of every visible snapshot.
    async fn list_snapshot_ids(&self) -> Result<Vec<SnapshotId>>;
    /// Removes a snapshot's manifest (its blobs are collected by [`StoreExt::delete`]).
    async fn delete_manifest(&self, id: &SnapshotId) -> Result<()>;
    /// Stores a record, replacing any record of that name atomically.
    async fn put_record(&self, name: &RecordName, bytes: &[u8]) -> Result<()>;
    /// Reads a record; `None` if there is none of that name.
    async fn get_record(&self, name: &RecordName) -> Result<Option<Vec<u8>>>;
    /// The names of every record under `prefix` (a record's name starts with it), sorted.
    async fn list_records(&self, prefix: &str) -> Result<Vec<RecordName>>;
    /// Deletes a record; deleting a missing record is not an error. Returns whether it existed.
    async fn delete_record(&self, name: &RecordName) -> Result<bool>;
}

/// A boxed store is a store, so a host can choose the backend at run time
/// (`Box<dyn SnapshotStore>`) and still wrap it, for example in an
/// [`EncryptedStore`]. Every method forwards, the defaults
/// included, so a backend's own `replace_blob` or `get_blob` is kept.
#[async_trait]
impl<T: SnapshotStore + ?Sized> SnapshotStore for Box<T> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    async fn has_blob(&self, id: &BlobId) -> Result<bool> {
        (**self).has_blob(id).await
    }
    async fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        (**self).put_blob(id, bytes).await
    }
    async fn replace_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        (**self).replace_blob(id, bytes).await
    }
    async fn read_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        (**self).read_blob(id).await
    }
    async fn get_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        (**self).get_blob(id).await
    }
    async fn list_blobs(&self) -> Result<Vec<BlobId>> {
        (**self).list_blobs().await
    }
    async fn delete_blob(&self, id: &BlobId, min_age: std::time::Duration) -> Result<u64> {
        (**self).delete_blob(id, min_age).await
    }
    async fn put_manifest(&self, manifest: &Manifest) -> Result<()> {
        (**self).put_manifest(manifest).await
    }
    async fn get_manifest(&self, id: &SnapshotId) -> Result<Manifest> {
        (**self).get_manifest(id).await
    }
    async fn list_snapshot_ids(&self) -> Result<Vec<SnapshotId>> {
        (**self).list_snapshot_ids().await
    }
    async fn delete_manifest(&self, id: &SnapshotId) -> Result<()> {
        (**self).delete_manifest(id).await
    }
    async fn put_record(&self, name: &RecordName, bytes: &[u8]) -> Result<()> {
        (**self).put_record(name, bytes).await
    }
    async fn get_record(&self, name: &RecordName) -> Result<Option<Vec<u8>>> {
        (**self).get_record(name).await
    }
    async fn list_records(&self, prefix: &str) -> Result<Vec<RecordName>> {
        (**self).list_records(prefix).await
    }
    async fn delete_record(&self, name: &RecordName) -> Result<bool> {
        (**self).delete_record(name).await
    }
}

/// The name of a record: one or more `/`-separated segments of ASCII letters, digits, `.`,
/// `_` and `-`, none empty, none starting with a dot (so a name can never leave the store's
/// record area), at most 512 bytes.
///
/// ```
/// use butterfly_core::store::RecordName;
/// let name: RecordName = "holds/okta-20261205T061200Z-1a2b".parse()?;
/// assert_eq!(name.as_str(), "holds/okta-20261205T061200Z-1a2b");
/// assert!("../escape".parse::<RecordName>().is_err());
/// # Ok::<(), butterfly_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecordName(String);

impl RecordName {
    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name's segments.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl std::str::FromStr for RecordName {
    type Err = Error;
    fn from_str(s: &str) -> Result<RecordName> {
        let bad = |why: &str| Error::invalid_data(format!("{s:?} is not a record name: {why}"));
        if s.is_empty() || s.len() > 512 {
            return Err(bad("it must be 1 to 512 bytes long"));
        }
        for seg in s.split('/') {
            if seg.is_empty() {
                return Err(bad("it has an empty segment"));
            }
            if seg.starts_with('.') {
                return Err(bad("a segment starts with a dot"));
            }
            if !seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            {
                return Err(bad(
                    "only ASCII letters, digits, '.', '_' and '-' are allowed",
                ));
            }
        }
        Ok(RecordName(s.to_string()))
    }
}

impl TryFrom<String> for RecordName {
    type Error = Error;
    fn try_from(s: String) -> Result<RecordName> {
        s.parse()
    }
}

impl From<RecordName> for String {
    fn from(n: RecordName) -> String {
        n.0
    }
}

impl std::fmt::Display for RecordName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What [`StoreExt::save`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveReport {
    /// The snapshot's id.
    pub id: SnapshotId,
    /// Blobs written now.
    pub new_blobs: usize,
    /// Bytes written now (blobs and manifest).
    pub new_bytes: u64,
    /// Blobs that were already stored (deduplicated).
    pub reused_blobs: usize,
    /// Bytes of the reused blobs.
    pub reused_bytes: u64,
    /// Stored blobs this snapshot needed that were corrupt or unreadable, and were written
    /// again from the snapshot's bytes (their bytes count in `new_bytes`).
    #[serde(default)]
    pub repaired_blobs: usize,
}

/// A line of `list`: a snapshot without its chunk lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSummary {
    /// Id.
    pub id: SnapshotId,
    /// Provider name.
    pub provider: String,
    /// Tenant.
    pub tenant: String,
    /// When the backup started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// When it finished.
    pub finished_at: chrono::DateTime<chrono::Utc>,
    /// Status.
    pub status: SnapshotStatus,
    /// Number of resources.
    pub resources: usize,
    /// Number of kinds.
    pub kinds: usize,
    /// Content hash (equal for equal tenant state).
    pub content_sha256: String,
}

impl From<&Manifest> for SnapshotSummary {
    fn from(m: &Manifest) -> Self {
        SnapshotSummary {
            id: m.meta.id.clone(),
            provider: m.meta.provider.clone(),
            tenant: m.meta.tenant.clone(),
            started_at: m.meta.started_at,
            finished_at: m.meta.finished_at,
            status: m.status,
            resources: m.resource_count(),
            kinds: m.kinds.len(),
            content_sha256: m.content_sha256.clone(),
        }
    }
}

/// The result of [`StoreExt::verify`] and [`StoreExt::verify_report`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Snapshot id.
    pub id: SnapshotId,
    /// Blobs checked.
    pub blobs: usize,
    /// Resources whose hash was checked.
    pub resources: usize,
    /// Kinds that cannot be read back intact, each with the reason (always empty in a report
    /// from [`StoreExt::verify`], which fails instead).
    #[serde(default)]
    pub damaged: Vec<DamagedKind>,
}

/// What [`StoreExt::delete`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteReport {
    /// Blobs no other snapshot referenced, now removed.
    pub blobs_removed: usize,
    /// Bytes freed.
    pub bytes_freed: u64,
    /// Snapshots whose manifest cannot be read. While there is any, no blob is collected
    /// (nobody can tell which blobs they use), so this delete removed only the manifest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept_for_damaged: Vec<SnapshotId>,
}

/// A snapshot whose manifest cannot be read or fails its own hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DamagedSnapshot {
    /// The snapshot's id (from the manifest's name in the store).
    pub id: SnapshotId,
    /// What kind of failure: [`Integrity`](ErrorKind::Integrity) for a corrupt, truncated or
    /// edited manifest, [`Io`](ErrorKind::Io) for one that cannot be read,
    /// [`Config`](ErrorKind::Config) for one an [`EncryptedStore`] has no key for.
    pub error_kind: ErrorKind,
    /// The error, as text.
    pub error: String,
}

/// The result of [`StoreExt::list_checked`]: the snapshots that can be read, and the ones
/// that cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Listing {
    /// Readable snapshots, newest first (failed backups included).
    pub snapshots: Vec<SnapshotSummary>,
    /// Snapshots whose manifest is damaged, by id. A damaged manifest does not say which
    /// provider it belongs to, so these are listed whatever the provider filter.
    pub damaged: Vec<DamagedSnapshot>,
}

/// A kind of a snapshot that cannot be read back intact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DamagedKind {
    /// The snapshot.
    pub snapshot: SnapshotId,
    /// The kind id (`"okta.group"`).
    pub kind: String,
    /// What kind of failure: [`Integrity`](ErrorKind::Integrity) for a corrupt or missing
    /// blob or a resource that fails its hash, [`Io`](ErrorKind::Io) for a blob that cannot
    /// be read.
    pub error_kind: ErrorKind,
    /// The error, naming the resource or blob at fault.
    pub error: String,
}

/// The result of [`StoreExt::load_salvage`]: the intact part of a damaged snapshot.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Salvaged {
    /// The snapshot with its intact kinds only; every resource in it passed its hash.
    pub snapshot: Snapshot,
    /// The kinds left out because they are damaged.
    pub damaged: Vec<DamagedKind>,
}

/// What is wrong with a stored blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BlobProblem {
    /// A manifest refers to it, but the store does not have it.
    Missing,
    /// Its bytes no longer match its address, or a store that authenticates what it reads
    /// (an [`EncryptedStore`]) refused them with an [`Integrity`](ErrorKind::Integrity) error.
    Corrupt,
    /// It cannot be read (permissions, I/O error, not a regular file).
    Unreadable,
}

/// A snapshot and kind that use a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BlobUse {
    /// The snapshot.
    pub snapshot: SnapshotId,
    /// The kind id.
    pub kind: String,
}

/// A damaged blob and who uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DamagedBlob {
    /// The blob's address.
    pub blob: BlobId,
    /// What is wrong with it.
    pub problem: BlobProblem,
    /// The error, as text.
    pub error: String,
    /// Every snapshot and kind (of a readable manifest) that uses it; empty for a corrupt
    /// blob no readable manifest refers to.
    pub used_by: Vec<BlobUse>,
}

/// The result of [`StoreExt::verify_all`]: every damaged object of a store, and how much was
/// checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoreCheck {
    /// Snapshots checked (damaged ones included).
    pub snapshots: usize,
    /// Kinds checked, over all readable snapshots.
    pub kinds: usize,
    /// Distinct blobs checked, including blobs no readable manifest refers to.
    pub blobs: usize,
    /// Resources whose hash was checked and matched.
    pub resources: usize,
    /// Manifests that cannot be read or fail their hash.
    pub damaged_manifests: Vec<DamagedSnapshot>,
    /// Blobs that are missing, corrupt or unreadable, with the snapshots and kinds using them.
    pub damaged_blobs: Vec<DamagedBlob>,
    /// Kinds of readable snapshots that cannot be read back intact (because of a damaged
    /// blob, or resources that fail their hashes), with the reason.
    pub damaged_kinds: Vec<DamagedKind>,
}

impl StoreCheck {
    /// Whether nothing is damaged.
    pub fn is_clean(&self) -> bool {
        self.damaged_manifests.is_empty()
            && self.damaged_blobs.is_empty()
            && self.damaged_kinds.is_empty()
    }
}

/// Blobs younger than this are never collected, so a concurrent backup is safe.
pub const GC_GRACE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// How many blobs are read or written at once while saving, loading or checking.
const BLOB_CONCURRENCY: usize = 4;

/// Snapshot operations on top of any [`SnapshotStore`].
#[async_trait]
pub trait StoreExt: SnapshotStore {
    /// Encodes and stores a snapshot: blobs first, manifest last.
    ///
    /// A blob already stored is reused only after its stored bytes were compared with the
    /// bytes this snapshot needs; a corrupt or unreadable copy is written again (counted in
    /// [`SaveReport::repaired_blobs`], with a warning naming it), so a new snapshot never
    /// depends on a damaged blob.
    async fn save(&self, snapshot: &Snapshot) -> Result<SaveReport> {
        let encoded = snapshot.encode()?;
        let sid = &snapshot.meta.id;
        let mut report = SaveReport {
            id: sid.clone(),
            new_blobs: 0,
            new_bytes: 0,
            reused_blobs: 0,
            reused_bytes: 0,
            repaired_blobs: 0,
        };
        // By index: a closure over borrowed items trips the `Send` check of the boxed future.
        let blobs = &encoded.blobs;
        let writes: Vec<(u64, BlobWrite)> = futures::stream::iter(0..blobs.len())
            .map(|i| async move {
                let (id, bytes) = &blobs[i];
                let write = put_checked(self, id, bytes).await?;
                if let BlobWrite::Repaired(why) = &write {
                    tracing::warn!(
                        blob = %id,
                        snapshot = %sid,
                        "stored blob {id} was damaged ({why}); wrote a good copy"
                    );
                }
                Ok::<_, Error>((bytes.len() as u64, write))
            })
            .buffered(BLOB_CONCURRENCY)
            .try_collect()
            .await?;
        for (len, write) in writes {
            match write {
                BlobWrite::New => {
                    report.new_blobs += 1;
                    report.new_bytes += len;
                }
                BlobWrite::Reused => {
                    report.reused_blobs += 1;
                    report.reused_bytes += len;
                }
                BlobWrite::Repaired(_) => {
                    report.repaired_blobs += 1;
                    report.new_bytes += len;
                }
            }
        }
        report.new_bytes += encoded.manifest.to_bytes()?.len() as u64;
        self.put_manifest(&encoded.manifest).await?;
        Ok(report)
    }

    /// Loads a snapshot, verifying every blob and resource. Fails on the first damaged kind
    /// (see [`load_salvage`](Self::load_salvage) to read the intact ones).
    async fn load(&self, id: &SnapshotId) -> Result<Snapshot> {
        self.load_kinds(id, None).await
    }

    /// Loads some kinds of a snapshot (every kind for `None`), reading and verifying only
    /// their blobs. Kinds not asked for, and asked-for kinds the snapshot does not have, are
    /// absent from the result. Any damage in the kinds asked for is an error: a missing blob
    /// is an [`Integrity`](ErrorKind::Integrity) error like a corrupt one.
    async fn load_kinds(&self, id: &SnapshotId, kinds: Option<&[String]>) -> Result<Snapshot> {
        let manifest = self.get_manifest(id).await?;
        let mut snapshot = Snapshot::new(manifest.meta.clone());
        for kind_id in selected_kinds(&manifest, kinds) {
            let data = load_kind(self, &manifest, kind_id).await?;
            snapshot.kinds.insert(kind_id.clone(), data);
        }
        Ok(snapshot)
    }

    /// Loads what is intact of a snapshot: the kinds asked for (every kind for `None`) whose
    /// blobs and resources all verify, and the list of the others with the reason.
    ///
    /// A damaged manifest is still an error: without it nothing can be checked.
    async fn load_salvage(&self, id: &SnapshotId, kinds: Option<&[String]>) -> Result<Salvaged> {
        let manifest = self.get_manifest(id).await?;
        let mut snapshot = Snapshot::new(manifest.meta.clone());
        let mut damaged = Vec::new();
        for kind_id in selected_kinds(&manifest, kinds) {
            match load_kind(self, &manifest, kind_id).await {
                Ok(data) => {
                    snapshot.kinds.insert(kind_id.clone(), data);
                }
                Err(e) => damaged.push(DamagedKind::new(id, kind_id, &e)),
            }
        }
        Ok(Salvaged { snapshot, damaged })
    }

    /// Checks every blob and resource of a snapshot; any damage is an error (listing every
    /// damaged kind, not the first).
    async fn verify(&self, id: &SnapshotId) -> Result<VerifyReport> {
        let report = self.verify_report(id).await?;
        if report.damaged.is_empty() {
            return Ok(report);
        }
        let kind = if report
            .damaged
            .iter()
            .any(|d| d.error_kind == ErrorKind::Integrity)
        {
            ErrorKind::Integrity
        } else {
            report.damaged[0].error_kind
        };
        let reasons: Vec<String> = report.damaged.iter().map(|d| d.error.clone()).collect();
        Err(Error::new(
            kind,
            format!(
                "snapshot {id} is damaged ({} of its kinds): {}",
                report.damaged.len(),
                reasons.join("; ")
            ),
        ))
    }

    /// Checks every blob and resource of a snapshot and reports every damaged kind in
    /// [`VerifyReport::damaged`] instead of failing. A damaged or absent manifest is still an
    /// error.
    async fn verify_report(&self, id: &SnapshotId) -> Result<VerifyReport> {
        let manifest = self.get_manifest(id).await?;
        let mut checker = Checker::default();
        check_manifest(self, &manifest, &mut checker).await;
        Ok(VerifyReport {
            id: id.clone(),
            blobs: checker.blobs_seen(),
            resources: checker.check.resources,
            damaged: checker.check.damaged_kinds,
        })
    }

    /// Checks the whole store and reports every damaged object: every manifest that cannot be
    /// read, every missing, corrupt or unreadable blob with the snapshots and kinds using it
    /// (stored blobs no readable manifest refers to are checked too), and every kind that
    /// cannot be read back intact. Fails only if the store cannot be listed.
    async fn verify_all(&self) -> Result<StoreCheck> {
        let mut checker = Checker::default();
        for id in self.list_snapshot_ids().await? {
            match self.get_manifest(&id).await {
                Ok(manifest) => {
                    checker.check.snapshots += 1;
                    check_manifest(self, &manifest, &mut checker).await;
                }
                // Deleted since it was listed.
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => {
                    checker.check.snapshots += 1;
                    checker
                        .check
                        .damaged_manifests
                        .push(DamagedSnapshot::new(&id, &e));
                }
            }
        }
        let unreferenced: Vec<BlobId> = self
            .list_blobs()
            .await?
            .into_iter()
            .filter(|b| !checker.seen(b))
            .collect();
        let reads = read_blobs(self, unreferenced.clone()).await;
        for (blob, read) in unreferenced.iter().zip(reads) {
            match read {
                Ok(bytes) => checker.judge(blob, &bytes),
                // Collected since it was listed: nothing refers to it.
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => checker.unreadable(blob, &e),
            };
        }
        let mut check = checker.finish();
        check.damaged_manifests.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(check)
    }

    /// Every readable snapshot, newest first, optionally of one provider; a damaged snapshot
    /// is skipped with a warning (see [`list_checked`](Self::list_checked) to get them).
    async fn list(&self, provider: Option<&str>) -> Result<Vec<SnapshotSummary>> {
        let listing = self.list_checked(provider).await?;
        for d in &listing.damaged {
            tracing::warn!(snapshot = %d.id, "skipping damaged snapshot {}: {}", d.id, d.error);
        }
        Ok(listing.snapshots)
    }

    /// Every snapshot, newest first, optionally of one provider, with the damaged ones (whose
    /// manifest cannot be read) reported apart instead of failing the listing.
    async fn list_checked(&self, provider: Option<&str>) -> Result<Listing> {
        let mut listing = Listing::default();
        for id in self.list_snapshot_ids().await? {
            match self.get_manifest(&id).await {
                Ok(manifest) => {
                    if provider.is_none_or(|p| manifest.meta.provider == p) {
                        listing.snapshots.push(SnapshotSummary::from(&manifest));
                    }
                }
                // Deleted since it was listed.
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => listing.damaged.push(DamagedSnapshot::new(&id, &e)),
            }
        }
        listing.snapshots.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(listing)
    }

    /// The newest readable snapshot of a provider and tenant whose backup did not fail: a
    /// failed backup holds (almost) nothing, so it must not become the baseline that later
    /// backups and diffs compare with. Damaged snapshots are skipped with a warning.
    async fn latest(&self, provider: &str, tenant: &str) -> Result<Option<SnapshotSummary>> {
        Ok(self
            .list(Some(provider))
            .await?
            .into_iter()
            .find(|s| s.tenant == tenant && s.status != SnapshotStatus::Failed))
    }

    /// Deletes a snapshot and collects blobs no other snapshot uses (older than [`GC_GRACE`]).
    ///
    /// A snapshot under a compliance hold ([`crate::retention::Hold`]) is never deleted: the
    /// result is a [`Conflict`](ErrorKind::Conflict) error naming the hold. A hold set by
    /// another process between that check and the delete is not seen.
    ///
    /// A damaged snapshot can be deleted too. While any other manifest is damaged, only the
    /// manifest is removed and no blob is collected ([`DeleteReport::kept_for_damaged`]).
    async fn delete(&self, id: &SnapshotId) -> Result<DeleteReport> {
        if let Some(hold) = crate::retention::get_hold(self, id).await? {
            return Err(crate::retention::held_error(&hold));
        }
        if let Err(e) = self.get_manifest(id).await {
            if e.kind() == ErrorKind::NotFound {
                return Err(e);
            }
            tracing::warn!(snapshot = %id, "deleting damaged snapshot {id}: {e}");
        }
        self.delete_manifest(id).await?;
        let (live, damaged) = live_blobs(self).await?;
        if !damaged.is_empty() {
            let ids: Vec<SnapshotId> = damaged.into_iter().map(|d| d.id).collect();
            tracing::warn!(
                "deleted snapshot {id}, but collected no blob: {} cannot be read",
                join_ids(&ids)
            );
            return Ok(DeleteReport {
                kept_for_damaged: ids,
                ..DeleteReport::default()
            });
        }
        sweep(self, &live, GC_GRACE).await
    }

    /// Removes blobs no snapshot references and that are older than `min_age`.
    ///
    /// If any manifest cannot be read, nothing is deleted and the result is an
    /// [`Integrity`](ErrorKind::Integrity) error naming the damaged snapshots: which blobs
    /// they use is unknown, and losing nothing comes first.
    async fn collect_garbage(&self, min_age: std::time::Duration) -> Result<DeleteReport> {
        let (live, damaged) = live_blobs(self).await?;
        if !damaged.is_empty() {
            let ids: Vec<SnapshotId> = damaged.into_iter().map(|d| d.id).collect();
            return Err(Error::integrity(format!(
                "garbage collection deleted nothing: the manifest of {} cannot be read, so the \
                 blobs it uses are unknown (verify the store, then delete or repair it)",
                join_ids(&ids)
            )));
        }
        sweep(self, &live, min_age).await
    }
}

impl<S: SnapshotStore + ?Sized> StoreExt for S {}

impl DamagedSnapshot {
    fn new(id: &SnapshotId, err: &Error) -> DamagedSnapshot {
        DamagedSnapshot {
            id: id.clone(),
            error_kind: err.kind(),
            error: describe(err),
        }
    }
}

impl DamagedKind {
    fn new(snapshot: &SnapshotId, kind: &str, err: &Error) -> DamagedKind {
        DamagedKind {
            snapshot: snapshot.clone(),
            kind: kind.to_string(),
            error_kind: err.kind(),
            error: describe(err),
        }
    }
}

/// An error's text without its leading kind (which the damage records carry apart).
fn describe(err: &Error) -> String {
    let text = err.to_string();
    match text.strip_prefix(&format!("{}: ", err.kind())) {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

fn join_ids(ids: &[SnapshotId]) -> String {
    let names: Vec<&str> = ids.iter().map(SnapshotId::as_str).collect();
    match names.len() {
        1 => format!("snapshot {}", names[0]),
        _ => format!("snapshots {}", names.join(", ")),
    }
}

/// How [`StoreExt::save`] stored one blob.
enum BlobWrite {
    New,
    Reused,
    /// Written over a damaged copy; says what was wrong with it.
    Repaired(String),
}

/// Stores a blob unless an identical copy is stored; a damaged copy is written over.
async fn put_checked<S: SnapshotStore + ?Sized>(
    store: &S,
    id: &BlobId,
    bytes: &[u8],
) -> Result<BlobWrite> {
    // `has_blob` also restarts the blob's age, which keeps garbage collection off it.
    if !store.has_blob(id).await? {
        store.put_blob(id, bytes).await?;
        return Ok(BlobWrite::New);
    }
    // A byte comparison with what we would write cannot be fooled by a flipped byte, and
    // costs a read: lengths first, then the bytes.
    let why = match store.read_blob(id).await {
        Ok(stored) if stored.len() == bytes.len() && stored == bytes => {
            return Ok(BlobWrite::Reused);
        }
        Ok(stored) if stored.len() != bytes.len() => {
            format!("{} bytes stored, {} expected", stored.len(), bytes.len())
        }
        Ok(_) => "stored bytes differ from its content".to_string(),
        // Collected between the two calls: an ordinary new blob.
        Err(e) if e.kind() == ErrorKind::NotFound => {
            store.put_blob(id, bytes).await?;
            return Ok(BlobWrite::New);
        }
        Err(e) => describe(&e),
    };
    store.replace_blob(id, bytes).await?;
    Ok(BlobWrite::Repaired(why))
}

/// The kinds of a manifest a caller asked for (all for `None`), in manifest order.
fn selected_kinds<'m>(
    manifest: &'m Manifest,
    kinds: Option<&[String]>,
) -> impl Iterator<Item = &'m String> {
    manifest
        .kinds
        .keys()
        .filter(move |k| kinds.is_none_or(|wanted| wanted.iter().any(|w| w == *k)))
}

/// The error for a blob of a snapshot that cannot be read. A snapshot whose blob is gone is
/// damaged, which is an integrity failure, not a missing snapshot.
fn blob_read_error(err: Error, blob: &BlobId, snapshot: &SnapshotId, kind: &str) -> Error {
    if err.kind() == ErrorKind::NotFound {
        Error::integrity(format!(
            "blob {blob} of snapshot {snapshot} (kind {kind}) is missing"
        ))
    } else {
        err.context(format!(
            "reading blob {blob} of snapshot {snapshot} (kind {kind})"
        ))
    }
}

/// The distinct blobs of a kind, in chunk order, with how many chunks refer to each.
fn kind_blobs<'m>(manifest: &'m Manifest, kind_id: &str) -> Vec<(&'m BlobId, usize)> {
    let mut out: Vec<(&BlobId, usize)> = Vec::new();
    let mut index: HashMap<&BlobId, usize> = HashMap::new();
    for chunk in manifest
        .kinds
        .get(kind_id)
        .into_iter()
        .flat_map(|k| &k.chunks)
    {
        match index.get(&chunk.blob) {
            Some(&i) => out[i].1 += 1,
            None => {
                index.insert(&chunk.blob, out.len());
                out.push((&chunk.blob, 1));
            }
        }
    }
    out
}

/// The blobs of one kind, handed to the decoder without a copy unless a blob repeats.
#[derive(Default)]
struct KindBlobs(HashMap<BlobId, (usize, Vec<u8>)>);

impl KindBlobs {
    fn insert(&mut self, id: &BlobId, uses: usize, bytes: Vec<u8>) {
        self.0.insert(id.clone(), (uses, bytes));
    }

    fn take(&mut self, id: &BlobId, snapshot: &SnapshotId) -> Result<Vec<u8>> {
        let Some((uses, bytes)) = self.0.get_mut(id) else {
            return Err(Error::integrity(format!(
                "blob {id} of snapshot {snapshot} was not read"
            )));
        };
        *uses = uses.saturating_sub(1);
        if *uses == 0 {
            Ok(self.0.remove(id).map(|(_, b)| b).unwrap_or_default())
        } else {
            Ok(bytes.clone())
        }
    }
}

/// Reads blobs, a few at a time; the results are in the order of `ids`.
async fn read_blobs<S: SnapshotStore + ?Sized>(
    store: &S,
    ids: Vec<BlobId>,
) -> Vec<Result<Vec<u8>>> {
    futures::stream::iter(ids)
        .map(move |id| async move { store.read_blob(&id).await })
        .buffered(BLOB_CONCURRENCY)
        .collect()
        .await
}

/// Reads the blobs of one kind of a snapshot and decodes it, verifying every resource.
async fn load_kind<S: SnapshotStore + ?Sized>(
    store: &S,
    manifest: &Manifest,
    kind_id: &str,
) -> Result<KindData> {
    let sid = &manifest.meta.id;
    let wanted = kind_blobs(manifest, kind_id);
    let reads = read_blobs(store, wanted.iter().map(|(b, _)| (*b).clone()).collect()).await;
    let mut read = KindBlobs::default();
    for ((blob, uses), bytes) in wanted.into_iter().zip(reads) {
        // Unchecked here: decoding checks each blob and names the resource a bad byte is in.
        let bytes = bytes.map_err(|e| blob_read_error(e, blob, sid, kind_id))?;
        read.insert(blob, uses, bytes);
    }
    Snapshot::decode_kind(manifest, kind_id, |b| read.take(b, sid))
}

/// Blobs met while checking snapshots, so each damaged blob is reported once with all its
/// users, and what the check found so far.
#[derive(Default)]
struct Checker {
    good: HashSet<BlobId>,
    bad: HashMap<BlobId, usize>,
    check: StoreCheck,
}

impl Checker {
    fn seen(&self, blob: &BlobId) -> bool {
        self.good.contains(blob) || self.bad.contains_key(blob)
    }

    fn blobs_seen(&self) -> usize {
        self.good.len() + self.bad.len()
    }

    fn damaged(&mut self, blob: &BlobId, problem: BlobProblem, error: String) {
        if !self.seen(blob) {
            self.bad
                .insert(blob.clone(), self.check.damaged_blobs.len());
            self.check.damaged_blobs.push(DamagedBlob {
                blob: blob.clone(),
                problem,
                error,
                used_by: Vec::new(),
            });
        }
    }

    /// Judges a blob's bytes against its address, once per blob.
    fn judge(&mut self, blob: &BlobId, bytes: &[u8]) {
        if self.seen(blob) {
            return;
        }
        match blob.verify(bytes) {
            Ok(()) => {
                self.good.insert(blob.clone());
            }
            Err(e) => self.damaged(blob, BlobProblem::Corrupt, describe(&e)),
        }
    }

    fn unreadable(&mut self, blob: &BlobId, err: &Error) {
        // An encrypted store cannot hand out unauthenticated bytes: a damaged blob is an
        // Integrity error on read, which is the same finding as bytes that fail their hash.
        let problem = match err.kind() {
            ErrorKind::NotFound => BlobProblem::Missing,
            ErrorKind::Integrity => BlobProblem::Corrupt,
            _ => BlobProblem::Unreadable,
        };
        self.damaged(blob, problem, describe(err));
    }

    fn used_by(&mut self, blob: &BlobId, snapshot: &SnapshotId, kind: &str) {
        if let Some(&i) = self.bad.get(blob) {
            self.check.damaged_blobs[i].used_by.push(BlobUse {
                snapshot: snapshot.clone(),
                kind: kind.to_string(),
            });
        }
    }

    fn finish(mut self) -> StoreCheck {
        self.check.blobs = self.blobs_seen();
        self.check.damaged_blobs.sort_by(|a, b| a.blob.cmp(&b.blob));
        self.check
            .damaged_kinds
            .sort_by(|a, b| (&a.snapshot, &a.kind).cmp(&(&b.snapshot, &b.kind)));
        self.check
    }
}

/// Checks every kind of a readable manifest, recording damage instead of stopping at it.
async fn check_manifest<S: SnapshotStore + ?Sized>(
    store: &S,
    manifest: &Manifest,
    checker: &mut Checker,
) {
    let sid = &manifest.meta.id;
    for kind_id in manifest.kinds.keys() {
        checker.check.kinds += 1;
        let wanted = kind_blobs(manifest, kind_id);
        let reads = read_blobs(store, wanted.iter().map(|(b, _)| (*b).clone()).collect()).await;
        let mut blobs = KindBlobs::default();
        let mut failure = None;
        for ((blob, uses), read) in wanted.iter().zip(reads) {
            match read {
                Ok(bytes) => {
                    checker.judge(blob, &bytes);
                    blobs.insert(blob, *uses, bytes);
                }
                Err(e) => {
                    checker.unreadable(blob, &e);
                    failure.get_or_insert(blob_read_error(e, blob, sid, kind_id));
                }
            }
            checker.used_by(blob, sid, kind_id);
        }
        let decoded = match failure {
            Some(e) => Err(e),
            // A corrupt blob is decoded too: the error then names the resource it spoils.
            None => Snapshot::decode_kind(manifest, kind_id, |b| blobs.take(b, sid)),
        };
        match decoded {
            Ok(data) => checker.check.resources += data.resources.len(),
            Err(e) => checker
                .check
                .damaged_kinds
                .push(DamagedKind::new(sid, kind_id, &e)),
        }
    }
}

/// Every blob a readable manifest uses, and the manifests that cannot be read.
async fn live_blobs<S: SnapshotStore + ?Sized>(
    store: &S,
) -> Result<(HashSet<BlobId>, Vec<DamagedSnapshot>)> {
    let mut live = HashSet::new();
    let mut damaged = Vec::new();
    for sid in store.list_snapshot_ids().await? {
        match store.get_manifest(&sid).await {
            Ok(manifest) => live.extend(manifest.blobs().cloned()),
            // Deleted since it was listed: its blobs are garbage.
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => damaged.push(DamagedSnapshot::new(&sid, &e)),
        }
    }
    Ok((live, damaged))
}

/// Deletes the blobs outside `live` that are older than `min_age`.
async fn sweep<S: SnapshotStore + ?Sized>(
    store: &S,
    live: &HashSet<BlobId>,
    min_age: std::time::Duration,
) -> Result<DeleteReport> {
    let mut report = DeleteReport::default();
    for blob in store.list_blobs().await? {
        if !live.contains(&blob) {
            let freed = store.delete_blob(&blob, min_age).await?;
            if freed > 0 {
                report.blobs_removed += 1;
                report.bytes_freed += freed;
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod record_name_tests {
    use super::RecordName;

    #[test]
    fn record_names_cannot_escape() {
        for bad in [
            "", "/a", "a/", "a//b", ".hidden", "a/../b", "a/.b", "a b", "a\\b", "é",
        ] {
            assert!(bad.parse::<RecordName>().is_err(), "{bad:?} accepted");
        }
        let ok: RecordName = "journal/okta/2026-12-05T06.json".parse().expect("valid");
        assert_eq!(ok.segments().count(), 3);
        let json = serde_json::to_string(&ok).expect("ser");
        assert_eq!(serde_json::from_str::<RecordName>(&json).expect("de"), ok);
        assert!(serde_json::from_str::<RecordName>("\"../x\"").is_err());
    }
}
