//! Snapshot stores: where snapshots live.
//!
//! A [`SnapshotStore`] is a small set of primitives over blobs and manifests; the snapshot
//! logic (encoding, integrity checks, listing, garbage collection) lives once, in [`StoreExt`],
//! which every store gets for free. That keeps integrity checking identical for every backend.
//!
//! Stores here: [`FsStore`], the embedded default on the local filesystem, and
//! [`MemoryStore`] for tests. Both pass the conformance suite in
//! `butterfly-testkit`.

pub mod fs;
pub mod memory;

use std::collections::HashSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::snapshot::{BlobId, Manifest, Snapshot, SnapshotId, SnapshotStatus};

pub use fs::FsStore;
pub use memory::MemoryStore;

/// The storage primitives a backend implements.
///
/// Contract (checked by the conformance suite):
/// - `put_blob` stores bytes under their blake3 address and refuses bytes that do not match it;
///   storing an existing blob again is a cheap no-op.
/// - `get_blob` returns exactly the stored bytes or an `Integrity` error
///   if they no longer match the address; a missing blob is `NotFound`.
/// - `put_manifest` makes a snapshot visible atomically; it is called after every blob is
///   stored. An id that already exists is a `Conflict`.
/// - `get_manifest` verifies the manifest's own hash.
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    /// A one-line description (`"filesystem store at ./butterfly-data"`).
    fn describe(&self) -> String;
    /// Whether a blob exists. An existing blob's age restarts (a backup is about to reuse
    /// it), so garbage collection's grace period also protects reused blobs.
    async fn has_blob(&self, id: &BlobId) -> Result<bool>;
    /// Stores a blob under its address.
    async fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()>;
    /// Reads a blob's stored bytes without checking them (`NotFound` if absent). Readers use
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

/// The result of [`StoreExt::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Snapshot id.
    pub id: SnapshotId,
    /// Blobs checked.
    pub blobs: usize,
    /// Resources whose hash was checked.
    pub resources: usize,
}

/// What [`StoreExt::delete`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteReport {
    /// Blobs no other snapshot referenced, now removed.
    pub blobs_removed: usize,
    /// Bytes freed.
    pub bytes_freed: u64,
}

/// Blobs younger than this are never collected, so a concurrent backup is safe.
pub const GC_GRACE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Snapshot operations on top of any [`SnapshotStore`].
#[async_trait]
pub trait StoreExt: SnapshotStore {
    /// Encodes and stores a snapshot: blobs first (skipping stored ones), manifest last.
    async fn save(&self, snapshot: &Snapshot) -> Result<SaveReport> {
        let encoded = snapshot.encode()?;
        let mut report = SaveReport {
            id: snapshot.meta.id.clone(),
            new_blobs: 0,
            new_bytes: 0,
            reused_blobs: 0,
            reused_bytes: 0,
        };
        for (id, bytes) in &encoded.blobs {
            if self.has_blob(id).await? {
                report.reused_blobs += 1;
                report.reused_bytes += bytes.len() as u64;
            } else {
                self.put_blob(id, bytes).await?;
                report.new_blobs += 1;
                report.new_bytes += bytes.len() as u64;
            }
        }
        report.new_bytes += encoded.manifest.to_bytes()?.len() as u64;
        self.put_manifest(&encoded.manifest).await?;
        Ok(report)
    }

    /// Loads a snapshot, verifying every blob and resource.
    async fn load(&self, id: &SnapshotId) -> Result<Snapshot> {
        let manifest = self.get_manifest(id).await?;
        let mut blobs = std::collections::HashMap::new();
        for blob in manifest.blobs() {
            if !blobs.contains_key(blob) {
                // Unchecked here: decode checks each blob and names the resource a bad byte is in.
                let bytes = self
                    .read_blob(blob)
                    .await
                    .map_err(|e| e.context(format!("loading snapshot {id}")))?;
                blobs.insert(blob.clone(), bytes);
            }
        }
        Snapshot::decode(&manifest, |b| {
            blobs
                .get(b)
                .cloned()
                .ok_or_else(|| Error::integrity(format!("blob {b} of snapshot {id} was not read")))
        })
    }

    /// Checks every blob and resource of a snapshot.
    async fn verify(&self, id: &SnapshotId) -> Result<VerifyReport> {
        let snapshot = self.load(id).await?;
        let manifest = self.get_manifest(id).await?;
        let blobs: HashSet<_> = manifest.blobs().collect();
        Ok(VerifyReport {
            id: id.clone(),
            blobs: blobs.len(),
            resources: snapshot.resource_count(),
        })
    }

    /// Every snapshot, newest first, optionally of one provider.
    async fn list(&self, provider: Option<&str>) -> Result<Vec<SnapshotSummary>> {
        let mut out = Vec::new();
        for id in self.list_snapshot_ids().await? {
            let manifest = self.get_manifest(&id).await?;
            if provider.is_none_or(|p| manifest.meta.provider == p) {
                out.push(SnapshotSummary::from(&manifest));
            }
        }
        out.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(out)
    }

    /// The newest snapshot of a provider and tenant.
    async fn latest(&self, provider: &str, tenant: &str) -> Result<Option<SnapshotSummary>> {
        Ok(self
            .list(Some(provider))
            .await?
            .into_iter()
            .find(|s| s.tenant == tenant))
    }

    /// Deletes a snapshot and collects blobs no other snapshot uses (older than [`GC_GRACE`]).
    async fn delete(&self, id: &SnapshotId) -> Result<DeleteReport> {
        self.get_manifest(id).await?;
        self.delete_manifest(id).await?;
        self.collect_garbage(GC_GRACE).await
    }

    /// Removes blobs no snapshot references and that are older than `min_age`.
    async fn collect_garbage(&self, min_age: std::time::Duration) -> Result<DeleteReport> {
        let mut live = HashSet::new();
        for sid in self.list_snapshot_ids().await? {
            let manifest = self.get_manifest(&sid).await?;
            live.extend(manifest.blobs().cloned());
        }
        let mut report = DeleteReport::default();
        for blob in self.list_blobs().await? {
            if !live.contains(&blob) {
                let freed = self.delete_blob(&blob, min_age).await?;
                if freed > 0 {
                    report.blobs_removed += 1;
                    report.bytes_freed += freed;
                }
            }
        }
        Ok(report)
    }
}

impl<S: SnapshotStore + ?Sized> StoreExt for S {}
