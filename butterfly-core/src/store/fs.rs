//! The embedded default store: a directory on the local filesystem, no setup needed.
//!
//! Layout:
//! ```text
//! <root>/blobs/ab/cdef…     chunk blobs, named by their blake3 hash (fan-out by 2 hex chars)
//! <root>/snapshots/<id>.json manifests, one per visible snapshot
//! <root>/records/<name>      records (holds, policies, schedule states, the run journal)
//! <root>/tmp/               files being written; renamed into place when complete
//! ```
//! Every file is written to `tmp/`, synced, then renamed: a reader never sees half a file,
//! and since the manifest is renamed last, a backup killed at any moment leaves no visible
//! snapshot (only unreferenced blobs, which garbage collection removes, and a temporary file,
//! which the next open removes).
//!
//! The store holds personal data, so on Unix its directories are created `0700` and its files
//! `0600` (an existing directory keeps the permissions it has).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::error::{Error, ErrorKind, Result};
use crate::snapshot::{BlobId, Manifest, SnapshotId};
use crate::store::{RecordName, SnapshotStore};

/// The default store directory, relative to the working directory.
pub const DEFAULT_DIR: &str = "./butterfly-data";

/// Temporary files older than this are leftovers of a killed writer and are removed on open.
const STALE_TMP: Duration = Duration::from_secs(60 * 60);

/// A temporary file whose writer process is gone is removed on open once it is this old. The
/// wait covers a writer in another PID namespace or on another host sharing the directory,
/// whose process id means nothing here: writing one file never takes this long.
const DEAD_WRITER_TMP: Duration = Duration::from_secs(60);

/// Creates a directory (and missing parents) readable by its owner only.
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Creates a new file readable by its owner only (never opens an existing one).
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The id of the process that wrote a temporary file named `<pid>.<random>`.
fn tmp_writer(file_name: &str) -> Option<u32> {
    file_name.split_once('.')?.0.parse().ok()
}

/// Whether a process is known to be gone: `None` where that cannot be told (without Linux's
/// `/proc`).
fn process_is_gone(pid: u32) -> Option<bool> {
    if cfg!(target_os = "linux") && Path::new("/proc/self").exists() {
        Some(!Path::new("/proc").join(pid.to_string()).exists())
    } else {
        None
    }
}

/// A [`SnapshotStore`] in a local directory.
#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
}

impl FsStore {
    /// Opens (creating if needed) a store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<FsStore> {
        let root = dir.as_ref().to_path_buf();
        for sub in ["blobs", "snapshots", "records", "tmp"] {
            let p = root.join(sub);
            create_private_dir(&p).map_err(|e| {
                Error::io(format!("cannot create store directory {}", p.display()), e)
            })?;
        }
        let store = FsStore { root };
        store.clean_tmp();
        Ok(store)
    }

    /// Opens the store in [`DEFAULT_DIR`].
    pub fn open_default() -> Result<FsStore> {
        FsStore::open(DEFAULT_DIR)
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn blob_path(&self, id: &BlobId) -> PathBuf {
        let hex = id.as_str();
        self.root.join("blobs").join(&hex[..2]).join(&hex[2..])
    }

    fn record_path(&self, name: &RecordName) -> PathBuf {
        // A RecordName's segments admit only [A-Za-z0-9._-] and no leading dot.
        let mut path = self.root.join("records");
        path.extend(name.segments());
        path
    }

    fn manifest_path(&self, id: &SnapshotId) -> PathBuf {
        // SnapshotId admits only [A-Za-z0-9._-] and no leading dot: it cannot leave the dir.
        self.root.join("snapshots").join(format!("{id}.json"))
    }

    /// Removes temporary files left by killed writers: those whose writer process is gone
    /// (where that can be told), and any older than [`STALE_TMP`]. Never a file of ours.
    fn clean_tmp(&self) {
        let Ok(entries) = std::fs::read_dir(self.root.join("tmp")) else {
            return;
        };
        for entry in entries.flatten() {
            let writer = tmp_writer(&entry.file_name().to_string_lossy());
            if writer == Some(std::process::id()) {
                continue;
            }
            let gone = writer.and_then(process_is_gone) == Some(true);
            let Some(age) = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
            else {
                continue;
            };
            let stale = age > STALE_TMP || (gone && age > DEAD_WRITER_TMP);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Writes `bytes` to `dest` atomically: temp file, fsync, rename, fsync of the directory.
    fn write_atomic(&self, dest: &Path, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        let tmp = self.root.join("tmp").join(format!(
            "{}.{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let io = |what: &str, e: std::io::Error| Error::io(format!("{what} {}", dest.display()), e);
        {
            let mut f = create_private_file(&tmp)
                .map_err(|e| io("cannot create a temporary file for", e))?;
            let written = f
                .write_all(bytes)
                .map_err(|e| io("cannot write", e))
                .and_then(|()| f.sync_all().map_err(|e| io("cannot sync", e)));
            if let Err(e) = written {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
        if let Some(parent) = dest.parent() {
            create_private_dir(parent).map_err(|e| io("cannot create the directory of", e))?;
        }
        std::fs::rename(&tmp, dest).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io("cannot move into place", e)
        })?;
        if let Some(parent) = dest.parent()
            && let Ok(dir) = std::fs::File::open(parent)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Reads a regular file inside the store, refusing symlinks (which could point outside).
    fn read_inside(&self, path: &Path, missing: impl FnOnce() -> Error) -> Result<Vec<u8>> {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => Err(Error::integrity(format!(
                "{} is a symbolic link; the store only reads its own files",
                path.display()
            ))),
            Ok(_) => std::fs::read(path)
                .map_err(|e| Error::io(format!("cannot read {}", path.display()), e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(missing()),
            Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::new(ErrorKind::Io, "store task failed").with_source(e))?
}

#[async_trait]
impl SnapshotStore for FsStore {
    fn describe(&self) -> String {
        format!("filesystem store at {}", self.root.display())
    }

    async fn has_blob(&self, id: &BlobId) -> Result<bool> {
        let path = self.blob_path(id);
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            return Ok(false);
        }
        // A backup about to reuse this blob makes it young again, so garbage collection
        // running meanwhile cannot delete it before the new manifest refers to it.
        if let Ok(f) = std::fs::File::options().append(true).open(&path) {
            let _ = f.set_modified(SystemTime::now());
        }
        Ok(true)
    }

    async fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        id.verify(bytes)?;
        let path = self.blob_path(id);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            return Ok(());
        }
        let (store, bytes) = (self.clone(), bytes.to_vec());
        blocking(move || store.write_atomic(&path, &bytes)).await
    }

    async fn replace_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        id.verify(bytes)?;
        // The rename of the atomic write replaces the damaged file in one step: readers see
        // the old file or the new one, never none.
        let (store, path, bytes) = (self.clone(), self.blob_path(id), bytes.to_vec());
        blocking(move || store.write_atomic(&path, &bytes)).await
    }

    async fn read_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        let (store, id) = (self.clone(), id.clone());
        blocking(move || {
            let path = store.blob_path(&id);
            store.read_inside(&path, || {
                Error::not_found(format!("blob {id} is not in the store"))
            })
        })
        .await
    }

    async fn list_blobs(&self) -> Result<Vec<BlobId>> {
        let root = self.root.join("blobs");
        blocking(move || {
            let mut out = Vec::new();
            let dirs = std::fs::read_dir(&root)
                .map_err(|e| Error::io(format!("cannot list {}", root.display()), e))?;
            for dir in dirs.flatten() {
                let prefix = dir.file_name().to_string_lossy().to_string();
                let Ok(files) = std::fs::read_dir(dir.path()) else {
                    continue;
                };
                for f in files.flatten() {
                    if let Ok(id) =
                        format!("{prefix}{}", f.file_name().to_string_lossy()).parse::<BlobId>()
                    {
                        out.push(id);
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await
    }

    async fn delete_blob(&self, id: &BlobId, min_age: Duration) -> Result<u64> {
        let path = self.blob_path(id);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            return Ok(0);
        };
        let age = meta
            .modified()
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .unwrap_or_default();
        if age < min_age {
            return Ok(0);
        }
        std::fs::remove_file(&path)
            .map_err(|e| Error::io(format!("cannot delete {}", path.display()), e))?;
        Ok(meta.len())
    }

    async fn put_manifest(&self, manifest: &Manifest) -> Result<()> {
        let path = self.manifest_path(&manifest.meta.id);
        if std::fs::symlink_metadata(&path).is_ok() {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("snapshot {} already exists", manifest.meta.id),
            ));
        }
        let bytes = manifest.to_bytes()?;
        let store = self.clone();
        blocking(move || store.write_atomic(&path, &bytes)).await
    }

    async fn get_manifest(&self, id: &SnapshotId) -> Result<Manifest> {
        let (store, id) = (self.clone(), id.clone());
        blocking(move || {
            let path = store.manifest_path(&id);
            let bytes = store.read_inside(&path, || {
                Error::not_found(format!("snapshot {id} does not exist"))
            })?;
            let manifest = Manifest::from_bytes(&bytes)
                .map_err(|e| e.context(format!("reading snapshot {id}")))?;
            if manifest.meta.id != id {
                return Err(Error::integrity(format!(
                    "the manifest file of snapshot {id} names snapshot {}",
                    manifest.meta.id
                )));
            }
            Ok(manifest)
        })
        .await
    }

    async fn list_snapshot_ids(&self) -> Result<Vec<SnapshotId>> {
        let dir = self.root.join("snapshots");
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(format!("cannot list {}", dir.display()), e))?;
        let mut out: Vec<SnapshotId> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json")?.parse().ok())
            .collect();
        out.sort();
        Ok(out)
    }

    async fn delete_manifest(&self, id: &SnapshotId) -> Result<()> {
        let path = self.manifest_path(id);
        std::fs::remove_file(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                Error::not_found(format!("snapshot {id} does not exist"))
            }
            _ => Error::io(format!("cannot delete {}", path.display()), e),
        })
    }

    async fn put_record(&self, name: &RecordName, bytes: &[u8]) -> Result<()> {
        let (store, path, bytes) = (self.clone(), self.record_path(name), bytes.to_vec());
        blocking(move || store.write_atomic(&path, &bytes)).await
    }

    async fn get_record(&self, name: &RecordName) -> Result<Option<Vec<u8>>> {
        let (store, path) = (self.clone(), self.record_path(name));
        blocking(
            move || match store.read_inside(&path, || Error::not_found("")) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            },
        )
        .await
    }

    async fn list_records(&self, prefix: &str) -> Result<Vec<RecordName>> {
        let root = self.root.join("records");
        let prefix = prefix.to_string();
        blocking(move || {
            let mut out = Vec::new();
            let mut stack = vec![(root.clone(), String::new())];
            while let Some((dir, name)) = stack.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::io(format!("cannot list {}", dir.display()), e)),
                };
                for entry in entries.flatten() {
                    let file = entry.file_name().to_string_lossy().to_string();
                    let full = if name.is_empty() {
                        file
                    } else {
                        format!("{name}/{file}")
                    };
                    match entry.file_type() {
                        // Only into directories that can hold a name under the prefix, so
                        // listing one area (an encrypted store keeps its blobs among the
                        // records) does not walk the others.
                        Ok(t) if t.is_dir() => {
                            let dir = format!("{full}/");
                            if dir.starts_with(&prefix) || prefix.starts_with(&dir) {
                                stack.push((entry.path(), full));
                            }
                        }
                        Ok(t) if t.is_file() && full.starts_with(&prefix) => {
                            if let Ok(n) = full.parse::<RecordName>() {
                                out.push(n);
                            }
                        }
                        _ => {}
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await
    }

    async fn delete_record(&self, name: &RecordName) -> Result<bool> {
        let path = self.record_path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(format!("cannot delete {}", path.display()), e)),
        }
    }
}
