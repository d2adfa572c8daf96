//! Snapshots: the canonical, hashed record of a tenant's configuration at one moment.
//!
//! # Encoding
//! Each resource is serialized as canonical JSON (RFC 8785, via `serde_jcs`) and hashed with
//! SHA-256. Resources of a kind are sorted by id, so the API's page order never matters, and
//! written as lines `<sha256-hex> <canonical-json>\n`. Lines are grouped into chunks whose
//! boundaries depend only on the resource hashes (content-defined chunking), and each chunk is
//! a blob addressed by its blake3 hash. A changed, added or removed resource therefore changes
//! only the chunk around it; a second snapshot of an unchanged tenant adds no blob at all.
//!
//! The [`Manifest`] lists, per kind, its outcome, count, digest and chunks, and carries two
//! hashes: `content_sha256` (over the kinds' digests and outcomes: equal for equal tenant state)
//! and `manifest_sha256` (over the whole manifest: detects tampering with the manifest itself).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};
use crate::resource::Resource;

/// Version of the on-disk format written by this crate.
pub const FORMAT_VERSION: u32 = 1;

/// Chunk boundaries fall after a resource whose hash is 0 modulo this (average chunk length).
const CHUNK_AVERAGE: u16 = 64;
/// A chunk never holds more resources than this.
const CHUNK_MAX_RESOURCES: usize = 2048;
/// A chunk is cut once it holds this many bytes.
const CHUNK_MAX_BYTES: usize = 4 << 20;

/// Identifier of a snapshot: `[A-Za-z0-9._-]`, 1 to 128 characters, not starting with a dot.
///
/// The restriction is what keeps a snapshot id from ever naming a path outside a store.
///
/// ```
/// use butterfly_core::snapshot::SnapshotId;
/// assert!("20261124T062500Z-okta-1a2b3c4d".parse::<SnapshotId>().is_ok());
/// assert!("../../etc/passwd".parse::<SnapshotId>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SnapshotId(String);

impl SnapshotId {
    /// A new id from the time, the provider and a random suffix.
    pub fn generate(provider: &str, at: DateTime<Utc>) -> SnapshotId {
        let provider: String = provider
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(32)
            .collect();
        let suffix: u32 = rand::random();
        SnapshotId(format!(
            "{}-{provider}-{suffix:08x}",
            at.format("%Y%m%dT%H%M%S%.3fZ")
        ))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SnapshotId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(SnapshotId(s.to_string()))
        } else {
            Err(Error::new(
                ErrorKind::Config,
                "invalid snapshot id: use 1-128 characters from A-Z a-z 0-9 . _ - (not starting with '.')",
            ))
        }
    }
}

impl TryFrom<String> for SnapshotId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<SnapshotId> for String {
    fn from(id: SnapshotId) -> String {
        id.0
    }
}

impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Content address of a blob: the lowercase hex blake3 hash of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobId(String);

impl BlobId {
    /// The address of `bytes`.
    pub fn of(bytes: &[u8]) -> BlobId {
        BlobId(blake3::hash(bytes).to_hex().to_string())
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks that `bytes` hash to this id.
    pub fn verify(&self, bytes: &[u8]) -> Result<()> {
        if BlobId::of(bytes) == *self {
            Ok(())
        } else {
            Err(Error::integrity(format!(
                "blob {} does not match its content hash",
                self.0
            )))
        }
    }
}

impl FromStr for BlobId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(BlobId(s.to_string()))
        } else {
            Err(Error::integrity(
                "invalid blob id: expected 64 lowercase hex characters",
            ))
        }
    }
}

impl TryFrom<String> for BlobId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<BlobId> for String {
    fn from(id: BlobId) -> String {
        id.0
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the backup of one kind ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum KindOutcome {
    /// Every resource of the kind was read.
    Complete,
    /// The credentials may not read this kind.
    Denied {
        /// The scope or admin role that is missing.
        missing: String,
    },
    /// The tenant does not have the feature.
    Unsupported {
        /// Why (feature not enabled, not licensed).
        reason: String,
    },
    /// Reading failed.
    Failed {
        /// The error kind.
        kind: ErrorKind,
        /// The error, as text (never contains secrets).
        error: String,
    },
}

impl KindOutcome {
    /// The outcome for an error: `Denied`, `Unsupported` or `Failed` by its kind.
    pub fn from_error(err: &Error) -> KindOutcome {
        match err.kind() {
            ErrorKind::Denied => KindOutcome::Denied {
                missing: err.message().to_string(),
            },
            ErrorKind::Unsupported => KindOutcome::Unsupported {
                reason: err.message().to_string(),
            },
            kind => KindOutcome::Failed {
                kind,
                error: err.to_string(),
            },
        }
    }

    /// A one-word label (`complete`, `denied`, `unsupported`, `failed`).
    pub fn label(&self) -> &'static str {
        match self {
            KindOutcome::Complete => "complete",
            KindOutcome::Denied { .. } => "denied",
            KindOutcome::Unsupported { .. } => "unsupported",
            KindOutcome::Failed { .. } => "failed",
        }
    }
}

/// Overall status of a snapshot, derived from the kinds' outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotStatus {
    /// Every kind is complete or unsupported by the tenant.
    Success,
    /// Some kinds were denied or failed, others were read.
    CompletedWithWarnings,
    /// No kind was read, or every attempted kind failed.
    Failed,
}

impl SnapshotStatus {
    /// The status for a set of outcomes.
    ///
    /// `Unsupported` is not a warning (there is nothing to back up); `Denied` and `Failed` are;
    /// a snapshot where nothing was read at all is `Failed`.
    pub fn from_outcomes<'a>(
        outcomes: impl IntoIterator<Item = &'a KindOutcome>,
    ) -> SnapshotStatus {
        let (mut complete, mut warn, mut total) = (0usize, 0usize, 0usize);
        for o in outcomes {
            total += 1;
            match o {
                KindOutcome::Complete => complete += 1,
                KindOutcome::Unsupported { .. } => {}
                KindOutcome::Denied { .. } | KindOutcome::Failed { .. } => warn += 1,
            }
        }
        if total == 0 || (complete == 0 && warn > 0) {
            SnapshotStatus::Failed
        } else if warn > 0 {
            SnapshotStatus::CompletedWithWarnings
        } else {
            SnapshotStatus::Success
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            SnapshotStatus::Success => "success",
            SnapshotStatus::CompletedWithWarnings => "completed with warnings",
            SnapshotStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for SnapshotStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The backed-up content of one kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindData {
    /// How reading the kind ended.
    pub outcome: KindOutcome,
    /// The resources, sorted by id (kept sorted by [`Snapshot::insert_kind`]).
    pub resources: Vec<Resource>,
    /// What was not read of a kind that is otherwise complete (one listing of several that
    /// the tenant does not offer, say), naming the part; the snapshot then completed with
    /// warnings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Who and when: the part of a snapshot that is not tenant content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Snapshot id.
    pub id: SnapshotId,
    /// Provider name (`"okta"`).
    pub provider: String,
    /// Tenant identity (org host, tenant id).
    pub tenant: String,
    /// When the backup started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
}

/// A snapshot in memory: metadata and, per kind id, its outcome and sorted resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Who and when.
    pub meta: SnapshotMeta,
    /// Per kind id, the data.
    pub kinds: BTreeMap<String, KindData>,
}

/// A resource's place in a chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkRef {
    /// Blob holding the chunk.
    pub blob: BlobId,
    /// Number of resources in it.
    pub count: usize,
    /// Size in bytes.
    pub bytes: u64,
    /// Id of the first resource.
    pub first_id: String,
    /// Id of the last resource.
    pub last_id: String,
}

/// One kind in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindManifest {
    /// How reading the kind ended.
    #[serde(flatten)]
    pub outcome: KindOutcome,
    /// Number of resources.
    pub count: usize,
    /// SHA-256 over the resources' hashes, in id order.
    pub sha256: String,
    /// The chunks, in id order.
    pub chunks: Vec<ChunkRef>,
    /// What was not read of the kind ([`KindData::warnings`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The record that makes a snapshot visible in a store; written last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// On-disk format version.
    pub format: u32,
    /// Who and when.
    #[serde(flatten)]
    pub meta: SnapshotMeta,
    /// Overall status.
    pub status: SnapshotStatus,
    /// Per kind id.
    pub kinds: BTreeMap<String, KindManifest>,
    /// SHA-256 over the kinds' ids, outcomes and digests: equal for equal tenant state.
    pub content_sha256: String,
    /// SHA-256 of this manifest's canonical JSON with this field empty.
    pub manifest_sha256: String,
}

impl Manifest {
    /// Number of resources over all kinds.
    pub fn resource_count(&self) -> usize {
        self.kinds.values().map(|k| k.count).sum()
    }

    /// Every blob the manifest refers to.
    pub fn blobs(&self) -> impl Iterator<Item = &BlobId> {
        self.kinds
            .values()
            .flat_map(|k| k.chunks.iter().map(|c| &c.blob))
    }

    fn compute_hash(&self) -> Result<String> {
        let mut copy = self.clone();
        copy.manifest_sha256 = String::new();
        Ok(sha256_hex(&canonical_json(&copy)?))
    }

    /// Sets `manifest_sha256` (call after every change).
    pub fn seal(&mut self) -> Result<()> {
        self.manifest_sha256 = self.compute_hash()?;
        Ok(())
    }

    /// Checks `manifest_sha256` and the format version.
    pub fn verify(&self) -> Result<()> {
        if self.format != FORMAT_VERSION {
            return Err(Error::integrity(format!(
                "snapshot {} has format {}, this build reads format {FORMAT_VERSION}",
                self.meta.id, self.format
            )));
        }
        if self.compute_hash()? != self.manifest_sha256 {
            return Err(Error::integrity(format!(
                "manifest of snapshot {} does not match its hash (corrupt or tampered)",
                self.meta.id
            )));
        }
        Ok(())
    }

    /// Canonical JSON bytes of the manifest.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        canonical_json(self)
    }

    /// Parses and verifies a manifest.
    pub fn from_bytes(bytes: &[u8]) -> Result<Manifest> {
        let manifest: Manifest = serde_json::from_slice(bytes).map_err(|e| {
            Error::integrity("manifest is not valid JSON (corrupt or truncated)").with_source(e)
        })?;
        manifest.verify()?;
        Ok(manifest)
    }
}

/// A snapshot turned into blobs and a manifest, ready for a store.
#[derive(Debug, Clone)]
pub struct EncodedSnapshot {
    /// The manifest (sealed).
    pub manifest: Manifest,
    /// The chunk blobs, in manifest order (the same blob can appear once only).
    pub blobs: Vec<(BlobId, Vec<u8>)>,
}

/// RFC 8785 canonical JSON of any serializable value.
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    serde_jcs::to_vec(value).map_err(|e| {
        Error::invalid_data("value cannot be written as canonical JSON").with_source(e)
    })
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Canonical bytes (RFC 8785) and SHA-256 of one resource.
///
/// Fast path: RFC 8785 output equals serde_json's compact output when object keys are
/// already sorted the same way (serde_json maps are ordered by UTF-8 bytes, which matches
/// RFC 8785's UTF-16 order unless a key has a character at or above U+E000), every number is
/// an integer within ±2^53, and struct fields serialize in sorted order ([`Resource`] declares
/// them so). Anything else goes through `serde_jcs`. A property test checks both agree.
pub fn resource_hash(resource: &Resource) -> Result<(Vec<u8>, String)> {
    let simple = is_simple(&resource.body)
        && [&resource.id, &resource.kind].iter().all(|s| simple_key(s))
        && resource.references.iter().all(|r| simple_key(&r.pointer));
    let bytes = if simple {
        serde_json::to_vec(resource)
            .map_err(|e| Error::invalid_data("resource cannot be written as JSON").with_source(e))?
    } else {
        canonical_json(resource)?
    };
    let hash = sha256_hex(&bytes);
    Ok((bytes, hash))
}

const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

fn simple_key(key: &str) -> bool {
    key.chars().all(|c| c < '\u{E000}')
}

/// Whether serde_json's compact output of `value` is already RFC 8785 canonical.
pub(crate) fn is_simple(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => true,
        Value::Number(n) => n
            .as_u64()
            .map(|u| u <= MAX_SAFE_INTEGER)
            .or_else(|| n.as_i64().map(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER))
            .unwrap_or(false),
        Value::Array(items) => items.iter().all(is_simple),
        Value::Object(map) => map.iter().all(|(k, v)| simple_key(k) && is_simple(v)),
    }
}

impl Snapshot {
    /// An empty snapshot.
    pub fn new(meta: SnapshotMeta) -> Snapshot {
        Snapshot {
            meta,
            kinds: BTreeMap::new(),
        }
    }

    /// Adds a kind's data, sorting resources by id so page order never matters.
    pub fn insert_kind(
        &mut self,
        kind: impl Into<String>,
        outcome: KindOutcome,
        mut resources: Vec<Resource>,
    ) {
        resources.sort_by(|a, b| a.id.cmp(&b.id));
        self.kinds.insert(
            kind.into(),
            KindData {
                outcome,
                resources,
                warnings: Vec::new(),
            },
        );
    }

    /// The resources of a kind (empty if absent).
    pub fn resources(&self, kind: &str) -> &[Resource] {
        self.kinds
            .get(kind)
            .map(|k| k.resources.as_slice())
            .unwrap_or(&[])
    }

    /// Finds a resource by kind and id.
    pub fn get(&self, kind: &str, id: &str) -> Option<&Resource> {
        let list = self.resources(kind);
        list.binary_search_by(|r| r.id.as_str().cmp(id))
            .ok()
            .map(|i| &list[i])
    }

    /// Number of resources over all kinds.
    pub fn resource_count(&self) -> usize {
        self.kinds.values().map(|k| k.resources.len()).sum()
    }

    /// Overall status from the kinds' outcomes.
    pub fn status(&self) -> SnapshotStatus {
        let status = SnapshotStatus::from_outcomes(self.kinds.values().map(|k| &k.outcome));
        let partial = self.kinds.values().any(|k| !k.warnings.is_empty());
        match status {
            SnapshotStatus::Success if partial => SnapshotStatus::CompletedWithWarnings,
            other => other,
        }
    }

    /// Encodes the snapshot into chunk blobs and a sealed manifest.
    ///
    /// Duplicate ids within a kind are an [`InvalidData`](ErrorKind::InvalidData) error: they
    /// would make the backup ambiguous.
    pub fn encode(&self) -> Result<EncodedSnapshot> {
        let mut kinds = BTreeMap::new();
        let mut blobs: Vec<(BlobId, Vec<u8>)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut content = Sha256::new();
        for (kind_id, data) in &self.kinds {
            let mut kind_digest = Sha256::new();
            let mut chunks = Vec::new();
            let mut buf: Vec<u8> = Vec::new();
            let mut in_chunk = 0usize;
            let mut first_id = String::new();
            let mut prev_id: Option<&str> = None;
            let mut flush = |buf: &mut Vec<u8>, in_chunk: &mut usize, first: &str, last: &str| {
                let bytes = std::mem::take(buf);
                let blob = BlobId::of(&bytes);
                chunks.push(ChunkRef {
                    blob: blob.clone(),
                    count: *in_chunk,
                    bytes: bytes.len() as u64,
                    first_id: first.to_string(),
                    last_id: last.to_string(),
                });
                if seen.insert(blob.clone()) {
                    blobs.push((blob, bytes));
                }
                *in_chunk = 0;
            };
            for r in &data.resources {
                if r.kind != *kind_id {
                    return Err(Error::invalid_data(format!(
                        "resource {} is of kind {} but filed under {kind_id}",
                        r.id, r.kind
                    )));
                }
                if let Some(prev) = prev_id
                    && prev >= r.id.as_str()
                {
                    return Err(Error::invalid_data(format!(
                        "resources of {kind_id} are not sorted by id or repeat id {}",
                        r.id
                    )));
                }
                prev_id = Some(&r.id);
                let (bytes, hash) = resource_hash(r)?;
                kind_digest.update(hash.as_bytes());
                if in_chunk == 0 {
                    first_id = r.id.clone();
                }
                buf.extend_from_slice(hash.as_bytes());
                buf.push(b' ');
                buf.extend_from_slice(&bytes);
                buf.push(b'\n');
                in_chunk += 1;
                let h = u16::from_str_radix(&hash[..4], 16).unwrap_or(1);
                if h % CHUNK_AVERAGE == 0
                    || in_chunk >= CHUNK_MAX_RESOURCES
                    || buf.len() >= CHUNK_MAX_BYTES
                {
                    flush(&mut buf, &mut in_chunk, &first_id, &r.id);
                }
            }
            if in_chunk > 0 {
                let last = data.resources.last().map(|r| r.id.as_str()).unwrap_or("");
                flush(&mut buf, &mut in_chunk, &first_id, last);
            }
            let digest = hex::encode(kind_digest.finalize());
            content.update(kind_id.as_bytes());
            content.update(b"\t");
            content.update(canonical_json(&data.outcome)?);
            content.update(b"\t");
            content.update(digest.as_bytes());
            content.update(b"\n");
            kinds.insert(
                kind_id.clone(),
                KindManifest {
                    outcome: data.outcome.clone(),
                    count: data.resources.len(),
                    sha256: digest,
                    chunks,
                    warnings: data.warnings.clone(),
                },
            );
        }
        let mut manifest = Manifest {
            format: FORMAT_VERSION,
            meta: self.meta.clone(),
            status: self.status(),
            kinds,
            content_sha256: hex::encode(content.finalize()),
            manifest_sha256: String::new(),
        };
        manifest.seal()?;
        Ok(EncodedSnapshot { manifest, blobs })
    }

    /// Rebuilds a snapshot from its manifest and a way to read blobs, verifying every
    /// resource's hash, every chunk's range and count, and every kind's digest. A mismatch is
    /// an [`Integrity`](ErrorKind::Integrity) error naming the kind and resource.
    ///
    /// Fails on the first damaged kind; [`decode_kind`](Self::decode_kind) decodes one kind
    /// on its own, so the intact kinds of a damaged snapshot can still be read.
    pub fn decode(
        manifest: &Manifest,
        mut blob: impl FnMut(&BlobId) -> Result<Vec<u8>>,
    ) -> Result<Snapshot> {
        manifest.verify()?;
        let mut snapshot = Snapshot::new(manifest.meta.clone());
        for kind_id in manifest.kinds.keys() {
            let data = Snapshot::decode_kind(manifest, kind_id, &mut blob)?;
            snapshot.kinds.insert(kind_id.clone(), data);
        }
        Ok(snapshot)
    }

    /// Rebuilds one kind of a snapshot, reading only that kind's blobs and verifying them as
    /// [`decode`](Self::decode) does.
    ///
    /// The manifest's own hash is not checked again here (it is checked once per manifest by
    /// [`Manifest::from_bytes`], by every store's `get_manifest` and by `decode`); call
    /// [`Manifest::verify`] first for a manifest from anywhere else. A kind the manifest does
    /// not list is a [`NotFound`](ErrorKind::NotFound) error.
    pub fn decode_kind(
        manifest: &Manifest,
        kind_id: &str,
        mut blob: impl FnMut(&BlobId) -> Result<Vec<u8>>,
    ) -> Result<KindData> {
        let km = manifest.kinds.get(kind_id).ok_or_else(|| {
            Error::not_found(format!(
                "snapshot {} has no kind {kind_id}",
                manifest.meta.id
            ))
        })?;
        let mut resources = Vec::with_capacity(km.count);
        let mut kind_digest = Sha256::new();
        for chunk in &km.chunks {
            let bytes = blob(&chunk.blob).map_err(|e| {
                e.context(format!(
                    "reading {kind_id} resources {}..{} of snapshot {}",
                    chunk.first_id, chunk.last_id, manifest.meta.id
                ))
            })?;
            // Parse before judging the blob hash, so a flipped byte names its resource.
            let address_ok = chunk.blob.verify(&bytes);
            let before = resources.len();
            decode_chunk(&bytes, kind_id, chunk, &mut resources, &mut kind_digest)
                .map_err(|e| e.context(format!("reading snapshot {}", manifest.meta.id)))?;
            address_ok.map_err(|e| {
                e.context(format!(
                    "{kind_id} resources {}..{} of snapshot {}",
                    chunk.first_id, chunk.last_id, manifest.meta.id
                ))
            })?;
            if resources.len() - before != chunk.count {
                return Err(Error::integrity(format!(
                    "chunk of {kind_id} starting at {} holds {} resources, manifest says {}",
                    chunk.first_id,
                    resources.len() - before,
                    chunk.count
                )));
            }
        }
        if resources.len() != km.count || hex::encode(kind_digest.finalize()) != km.sha256 {
            return Err(Error::integrity(format!(
                "{kind_id} in snapshot {} does not match its digest",
                manifest.meta.id
            )));
        }
        Ok(KindData {
            outcome: km.outcome.clone(),
            resources,
            warnings: km.warnings.clone(),
        })
    }
}

fn decode_chunk(
    bytes: &[u8],
    kind_id: &str,
    chunk: &ChunkRef,
    out: &mut Vec<Resource>,
    digest: &mut Sha256,
) -> Result<()> {
    for (n, line) in bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let bad = |what: &str| {
            Error::integrity(format!(
                "{kind_id}: line {} of the chunk starting at resource {} {what}",
                n + 1,
                chunk.first_id
            ))
        };
        if line.len() < 66 || line[64] != b' ' {
            return Err(bad("is malformed"));
        }
        let (hash, json) = (&line[..64], &line[65..]);
        let parsed: Option<Resource> = serde_json::from_slice(json).ok();
        if sha256_hex(json).as_bytes() != hash {
            return Err(match parsed {
                Some(r) => Error::integrity(format!(
                    "{kind_id} resource {} does not match its hash",
                    r.id
                )),
                None => bad("does not match its hash"),
            });
        }
        let resource = parsed.ok_or_else(|| bad("is not a valid resource"))?;
        digest.update(hash);
        out.push(resource);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::{Category, KindSpec};
    use serde_json::json;

    const USER: KindSpec = KindSpec {
        natural_key: &["/profile/login"],
        ..KindSpec::new("t.user", "Users", Category::Directory)
    };

    fn meta() -> SnapshotMeta {
        let at = DateTime::parse_from_rfc3339("2026-11-24T06:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        SnapshotMeta {
            id: SnapshotId::generate("t", at),
            provider: "t".into(),
            tenant: "example".into(),
            started_at: at,
            finished_at: at,
        }
    }

    fn users(n: usize) -> Vec<Resource> {
        (0..n)
            .map(|i| {
                Resource::new(&USER, format!("u{i:06}"), None, json!({"id": format!("u{i:06}"), "profile": {"login": format!("user{i}@example.com"), "n": i}}))
            })
            .collect()
    }

    #[test]
    fn encode_decode_round_trip() {
        let mut s = Snapshot::new(meta());
        s.insert_kind("t.user", KindOutcome::Complete, users(3000));
        s.insert_kind(
            "t.group",
            KindOutcome::Denied {
                missing: "okta.groups.read".into(),
            },
            vec![],
        );
        let enc = s.encode().unwrap();
        assert!(enc.blobs.len() > 1, "3000 resources span several chunks");
        let blobs: BTreeMap<_, _> = enc.blobs.iter().cloned().collect();
        let back = Snapshot::decode(&enc.manifest, |id| Ok(blobs[id].clone())).unwrap();
        assert_eq!(back, s);
        assert_eq!(enc.manifest.status, SnapshotStatus::CompletedWithWarnings);
        let bytes = enc.manifest.to_bytes().unwrap();
        assert_eq!(Manifest::from_bytes(&bytes).unwrap(), enc.manifest);
    }

    #[test]
    fn flipped_byte_names_the_resource() {
        let mut s = Snapshot::new(meta());
        s.insert_kind("t.user", KindOutcome::Complete, users(10));
        let enc = s.encode().unwrap();
        let mut blobs: BTreeMap<_, _> = enc.blobs.iter().cloned().collect();
        // Tamper inside one resource body: the error must name that resource.
        let (id, bytes) = blobs
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), v.clone()))
            .unwrap();
        let text = String::from_utf8(bytes)
            .unwrap()
            .replacen("user3@", "user9@", 1);
        blobs.insert(id, text.into_bytes());
        let err = Snapshot::decode(&enc.manifest, |id| Ok(blobs[id].clone())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Integrity);
        assert!(err.to_string().contains("u000003"), "{err}");
    }

    #[test]
    fn one_kind_decodes_without_the_others_blobs() {
        let mut s = Snapshot::new(meta());
        s.insert_kind("t.user", KindOutcome::Complete, users(300));
        s.insert_kind("t.group", KindOutcome::Complete, vec![]);
        let enc = s.encode().unwrap();
        let user_blobs: std::collections::HashSet<_> = enc.manifest.kinds["t.user"]
            .chunks
            .iter()
            .map(|c| c.blob.clone())
            .collect();
        let blobs: BTreeMap<_, _> = enc.blobs.iter().cloned().collect();
        let mut asked = Vec::new();
        let data = Snapshot::decode_kind(&enc.manifest, "t.user", |id| {
            asked.push(id.clone());
            Ok(blobs[id].clone())
        })
        .unwrap();
        assert_eq!(data, s.kinds["t.user"]);
        assert!(asked.iter().all(|b| user_blobs.contains(b)));
        // The empty kind reads no blob at all, so a store without any still yields it.
        let empty = Snapshot::decode_kind(&enc.manifest, "t.group", |_| {
            Err(Error::not_found("no blob"))
        })
        .unwrap();
        assert!(empty.resources.is_empty());
        let err = Snapshot::decode_kind(&enc.manifest, "t.none", |_| unreachable!()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn tampered_manifest_is_rejected() {
        let mut s = Snapshot::new(meta());
        s.insert_kind("t.user", KindOutcome::Complete, users(2));
        let mut m = s.encode().unwrap().manifest;
        m.kinds.get_mut("t.user").unwrap().count = 1;
        assert_eq!(m.verify().unwrap_err().kind(), ErrorKind::Integrity);
        assert_eq!(
            Manifest::from_bytes(b"{\"format\":1,").unwrap_err().kind(),
            ErrorKind::Integrity
        );
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            "\\PC{0,8}".prop_map(serde_json::Value::from),
            "[\\u{0}-\\u{1f}\"\\\\a\\u{e000}-\\u{e00f}\\u{1f600}]{0,4}"
                .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("[a-z\\u{e000}\\u{1f600}]{1,3}", inner, 0..5)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// The fast path and serde_jcs produce the same bytes for any resource.
        #[test]
        fn resource_bytes_are_rfc8785(body in arb_json(), id in "\\PC{1,6}") {
            let r = Resource::new(&USER, id, Some("p".into()), body);
            let (bytes, _) = resource_hash(&r).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(bytes).unwrap(), String::from_utf8(canonical_json(&r).unwrap()).unwrap());
        }
    }

    #[test]
    fn status_from_outcomes() {
        use KindOutcome::*;
        let failed = Failed {
            kind: ErrorKind::Transient,
            error: "x".into(),
        };
        let denied = Denied {
            missing: "scope".into(),
        };
        let unsupported = Unsupported {
            reason: "off".into(),
        };
        assert_eq!(
            SnapshotStatus::from_outcomes([&Complete, &unsupported]),
            SnapshotStatus::Success
        );
        assert_eq!(
            SnapshotStatus::from_outcomes([&Complete, &denied]),
            SnapshotStatus::CompletedWithWarnings
        );
        assert_eq!(
            SnapshotStatus::from_outcomes([&Complete, &failed]),
            SnapshotStatus::CompletedWithWarnings
        );
        assert_eq!(
            SnapshotStatus::from_outcomes([&failed, &denied]),
            SnapshotStatus::Failed
        );
        assert_eq!(SnapshotStatus::from_outcomes([]), SnapshotStatus::Failed);
    }

    #[test]
    fn snapshot_ids_cannot_escape() {
        for bad in [
            "",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "../x",
            "x y",
            &"a".repeat(129),
        ] {
            assert!(bad.parse::<SnapshotId>().is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<SnapshotId>("\"../x\"").is_err());
        assert!("not-hex".parse::<BlobId>().is_err());
    }
}
