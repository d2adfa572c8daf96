//! An in-memory [`SnapshotStore`] for tests and short-lived hosts.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::error::{Error, ErrorKind, Result};
use crate::snapshot::{BlobId, Manifest, SnapshotId};
use crate::store::{RecordName, SnapshotStore};

/// A store that keeps everything in memory. Cloning the store is not supported; share it in
/// an `Arc`.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    blobs: BTreeMap<BlobId, (Vec<u8>, Instant)>,
    manifests: BTreeMap<SnapshotId, Vec<u8>>,
    records: BTreeMap<RecordName, Vec<u8>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Total bytes of blobs held.
    pub fn blob_bytes(&self) -> u64 {
        self.lock()
            .blobs
            .values()
            .map(|(b, _)| b.len() as u64)
            .sum()
    }

    /// Overwrites a stored blob's bytes without changing its address (for tamper tests).
    pub fn tamper_blob(&self, id: &BlobId, f: impl FnOnce(&mut Vec<u8>)) -> bool {
        match self.lock().blobs.get_mut(id) {
            Some((bytes, _)) => {
                f(bytes);
                true
            }
            None => false,
        }
    }

    /// Overwrites a stored manifest's bytes (for tamper tests); `false` if there is none.
    pub fn tamper_manifest(&self, id: &SnapshotId, f: impl FnOnce(&mut Vec<u8>)) -> bool {
        match self.lock().manifests.get_mut(id) {
            Some(bytes) => {
                f(bytes);
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated: every update is
        // a single insert or remove, so the poisoned data is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl SnapshotStore for MemoryStore {
    fn describe(&self) -> String {
        "in-memory store".to_string()
    }

    async fn has_blob(&self, id: &BlobId) -> Result<bool> {
        // Reuse makes a blob young again (see the garbage collection grace period).
        Ok(self
            .lock()
            .blobs
            .get_mut(id)
            .map(|(_, at)| *at = Instant::now())
            .is_some())
    }

    async fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        id.verify(bytes)?;
        self.lock()
            .blobs
            .entry(id.clone())
            .or_insert_with(|| (bytes.to_vec(), Instant::now()));
        Ok(())
    }

    async fn replace_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        id.verify(bytes)?;
        self.lock()
            .blobs
            .insert(id.clone(), (bytes.to_vec(), Instant::now()));
        Ok(())
    }

    async fn read_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        self.lock()
            .blobs
            .get(id)
            .map(|(b, _)| b.clone())
            .ok_or_else(|| Error::not_found(format!("blob {id} is not in the store")))
    }

    async fn list_blobs(&self) -> Result<Vec<BlobId>> {
        Ok(self.lock().blobs.keys().cloned().collect())
    }

    async fn delete_blob(&self, id: &BlobId, min_age: Duration) -> Result<u64> {
        let mut inner = self.lock();
        match inner.blobs.get(id) {
            Some((bytes, at)) if at.elapsed() >= min_age => {
                let n = bytes.len() as u64;
                inner.blobs.remove(id);
                Ok(n)
            }
            _ => Ok(0),
        }
    }

    async fn put_manifest(&self, manifest: &Manifest) -> Result<()> {
        let bytes = manifest.to_bytes()?;
        let mut inner = self.lock();
        if inner.manifests.contains_key(&manifest.meta.id) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("snapshot {} already exists", manifest.meta.id),
            ));
        }
        inner.manifests.insert(manifest.meta.id.clone(), bytes);
        Ok(())
    }

    async fn get_manifest(&self, id: &SnapshotId) -> Result<Manifest> {
        let bytes = self
            .lock()
            .manifests
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("snapshot {id} does not exist")))?;
        Manifest::from_bytes(&bytes)
    }

    async fn list_snapshot_ids(&self) -> Result<Vec<SnapshotId>> {
        Ok(self.lock().manifests.keys().cloned().collect())
    }

    async fn delete_manifest(&self, id: &SnapshotId) -> Result<()> {
        self.lock()
            .manifests
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| Error::not_found(format!("snapshot {id} does not exist")))
    }

    async fn put_record(&self, name: &RecordName, bytes: &[u8]) -> Result<()> {
        self.lock().records.insert(name.clone(), bytes.to_vec());
        Ok(())
    }

    async fn get_record(&self, name: &RecordName) -> Result<Option<Vec<u8>>> {
        Ok(self.lock().records.get(name).cloned())
    }

    async fn list_records(&self, prefix: &str) -> Result<Vec<RecordName>> {
        Ok(self
            .lock()
            .records
            .keys()
            .filter(|n| n.as_str().starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn delete_record(&self, name: &RecordName) -> Result<bool> {
        Ok(self.lock().records.remove(name).is_some())
    }
}
