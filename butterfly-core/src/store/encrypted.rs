//! Encryption at rest: [`EncryptedStore`] wraps any [`SnapshotStore`] and encrypts every blob,
//! manifest and record with AES-256-GCM before it reaches the inner store.
//!
//! ```
//! # async fn demo() -> butterfly_core::Result<()> {
//! use butterfly_core::store::{EncryptedStore, MemoryStore, StoreExt, StoreKey};
//! // In production: StoreKey::from_env()? (BUTTERFLY_STORE_KEY), StoreKey::from_file(path)?,
//! // or EncryptedStore::with_provider(inner, kms).await? for a key held by a KMS.
//! let key = StoreKey::generate();
//! let store = EncryptedStore::new(MemoryStore::new(), key);
//! assert!(store.list(None).await?.is_empty());
//! # Ok(()) }
//! ```
//!
//! # Keys
//! A [`StoreKey`] is 32 random bytes (AES-256). It comes from:
//! - the environment: [`StoreKey::from_env`] reads [`KEY_ENV`] (`BUTTERFLY_STORE_KEY`),
//!   written as 64 hex digits or as base64 (standard or URL-safe alphabet, padding optional);
//! - a key file: [`StoreKey::from_file`] reads 32 raw bytes, or the same text forms (surrounding
//!   whitespace ignored); on Unix a file others can read is reported with a warning;
//! - a [`KeyProvider`] the host implements (a cloud KMS, a secrets manager): it returns the
//!   current key and looks up older keys by [`KeyId`].
//!
//! [`StoreKey::generate`] makes a new one. The key's bytes are zeroized when dropped, never
//! appear in `Debug` or in an error, and are only readable through [`StoreKey::to_text`]
//! (a [`secrecy::SecretString`]).
//!
//! Nothing uses the store key directly: three keys are derived from it with
//! `blake3::derive_key` and fixed context strings: the AES-256-GCM key that encrypts objects,
//! the AES-256 key that names blobs, and the [`KeyId`] (the first 8 bytes of a third
//! derivation), which identifies the key in every object's header without revealing it.
//!
//! # Object format
//! Every stored object (blob, manifest or record) is one envelope:
//!
//! ```text
//! offset  size  field
//!      0     4  magic "BFYE"
//!      4     1  format version (1)
//!      5     1  object type: 1 blob, 2 manifest, 3 record
//!      6     8  key id of the store key that encrypted it
//!     14     8  written: Unix seconds, big endian (garbage-collection age; not authenticated)
//!     22    12  nonce: 96 random bits from the operating system, new for every write
//!     34     n  AES-256-GCM ciphertext of the plaintext (n = plaintext length)
//!   34+n    16  GCM authentication tag
//! ```
//!
//! The associated data is the first 14 bytes (magic, version, type, key id) followed by the
//! object's logical name: the blob id (the blake3 hash of the plaintext), the snapshot id, or
//! the record name. So an object moved or copied to another name, to another type, or
//! relabelled with another key id fails authentication, as does any flipped bit in the
//! authenticated part. The failure is an [`Integrity`](ErrorKind::Integrity) error naming the
//! object, never garbage bytes. An object whose key id is not one this store has is a
//! [`Config`](ErrorKind::Config) error naming the object and both key ids (a wrong key).
//!
//! The `written` field is left out of the associated data: it is bookkeeping that garbage
//! collection reads without decrypting. Tampering with it can only make garbage collection
//! remove an unreferenced blob sooner or later, which an attacker able to write the store could
//! do anyway.
//!
//! A blob's age restarts when a backup reuses it (so garbage collection leaves it to that
//! backup, see [`SnapshotStore::has_blob`]): the store then writes a *reuse marker*, a record
//! of 8 bytes (the time, Unix seconds big endian) under the blob's keyed name, instead of
//! rewriting the blob. A blob's age is the younger of its `written` time and its marker.
//!
//! # Keyed content addresses
//! Snapshots refer to blobs by their plain blake3 address (the manifest format does not
//! change), but manifests are encrypted, and a blob is stored under a *keyed* name: the two
//! 16-byte halves of its blake3 address encrypted with the naming key (AES-256 applied to a
//! uniformly random value, a keyed permutation). Equal chunks still share one object inside a
//! store, so deduplication works, but two stores with different keys never share a name, and
//! nobody without the key can tell whether a store holds a chunk whose plaintext they know.
//! The permutation can be undone with the key, so listing blobs (for garbage collection and
//! checks) reads names only, never objects.
//!
//! # Layout in the inner store
//! Everything goes through the inner store's records (the one primitive every store offers
//! for opaque bytes under free names) and its manifests (for atomic publication):
//!
//! ```text
//! records  enc/blobs/<key id>/<2 hex>/<62 hex>   a blob, under its keyed name
//! records  enc/reused/<key id>/<2 hex>/<62 hex>  the blob's reuse marker, if it was reused
//! records  enc/manifests/<snapshot id>/<gen>     a manifest's encrypted content
//! records  enc/records/<name>                    a record
//! manifest <snapshot id>                         an empty stub that makes the snapshot visible
//! ```
//!
//! A manifest is published as in every store: its content first, then the stub through the
//! inner store's `put_manifest`, which is atomic and refuses an existing id. The stub names no
//! provider, tenant, time or blob (provider `encrypted`, status failed, no kinds); its
//! `content_sha256` holds the random generation `<gen>` of the content record, so two writers
//! racing for one snapshot id never mix their contents. Because blobs are records, the inner
//! store's own garbage collection never touches them. Record names of the wrapped store are at
//! most 500 bytes (the inner name gets the `enc/records/` prefix).
//!
//! # Rekey
//! [`EncryptedStore::rekey`] re-encrypts every object with a new key, keeping every snapshot id
//! and every record name; afterwards the old key is not needed. Manifests keep their logical
//! blob ids, which do not depend on the key, so they are re-encrypted, not rewritten. Blobs get
//! new keyed names (the key id is part of the name). The order keeps the store readable if
//! rekey stops at any point: new blob copies first, then manifests and records re-encrypted in
//! place (each an atomic record replacement), old blob copies deleted last. Running rekey again
//! with both keys available finishes the work. Nothing else may write to the store meanwhile.
//!
//! Objects encrypted with an older key stay readable when the [`KeyProvider`] (or
//! [`EncryptedStore::with_previous_keys`]) can supply it, so a KMS key rotated before a rekey
//! does not lock a store: new backups write new copies under the new key, and rekey then
//! moves the rest over.
//!
//! # Threat model
//! Protected, against anyone who can read or modify the stored files or objects but does not
//! have the key: the content of every resource, every manifest (provider, tenant, kinds,
//! counts, hashes, times) and every record; equality of chunks across stores or tenants
//! with different keys; the integrity of every object (any change, move or swap is detected).
//!
//! Not protected: snapshot ids (they name the stubs, and contain the backup's time and the
//! provider's name), record names, the number and sizes of objects (a chunk's size is its
//! plaintext size plus 50 bytes), write times and when a blob was last reused, which blobs a
//! snapshot shares with another snapshot of the same store (names are stable), deletion or
//! rollback of whole objects by someone with write access (deleting a blob is detected as a
//! missing blob, replaying an old version of a record is not), and anything in memory of the
//! process holding the key.
//! Random 96-bit nonces stay within GCM's bound of 2^32 messages per key for any realistic
//! store; rekey starts a new key.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aes::Aes256;
use aes::cipher::{BlockDecrypt, BlockEncrypt};
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{AeadCore, AeadInPlace, KeyInit, OsRng};
use aes_gcm::aead::{Nonce, Tag};
use async_trait::async_trait;
use base64::Engine as _;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::snapshot::{BlobId, FORMAT_VERSION, Manifest, SnapshotId, SnapshotMeta, SnapshotStatus};
use crate::store::{RecordName, SnapshotStore};

/// The environment variable [`StoreKey::from_env`] reads.
pub const KEY_ENV: &str = "BUTTERFLY_STORE_KEY";

/// The envelope format version this build writes and reads.
pub const ENVELOPE_VERSION: u8 = 1;

const MAGIC: [u8; 4] = *b"BFYE";
/// Magic, version, type and key id: the authenticated part of the header.
const AUTH_HEADER: usize = 14;
const WRITTEN_AT: usize = AUTH_HEADER;
const NONCE_AT: usize = WRITTEN_AT + 8;
const HEADER: usize = NONCE_AT + 12;
const TAG: usize = 16;

const BLOBS: &str = "enc/blobs/";
const MANIFESTS: &str = "enc/manifests/";
const RECORDS: &str = "enc/records/";
/// The provider name of a stub manifest in the inner store.
const STUB_PROVIDER: &str = "encrypted";

const REUSED: &str = "enc/reused/";

/// A reused blob's age is refreshed when it is older than this; a backup therefore must
/// publish its manifest within the garbage-collection grace period less this.
const TOUCH_AFTER: Duration = Duration::from_secs(60);

const CTX_OBJECTS: &str = "butterfly 2026-12-05 store object encryption key (AES-256-GCM)";
const CTX_NAMES: &str = "butterfly 2026-12-05 store blob name key (AES-256 permutation)";
const CTX_ID: &str = "butterfly 2026-12-05 store key id";

/// The public identifier of a [`StoreKey`]: 8 bytes derived from it, shown as 16 hex digits.
/// It names the key in object headers and errors and reveals nothing about the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId([u8; 8]);

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl std::str::FromStr for KeyId {
    type Err = Error;
    fn from_str(s: &str) -> Result<KeyId> {
        let mut id = [0u8; 8];
        hex::decode_to_slice(s, &mut id)
            .map_err(|_| Error::invalid_data(format!("{s:?} is not a key id (16 hex digits)")))?;
        Ok(KeyId(id))
    }
}

impl TryFrom<String> for KeyId {
    type Error = Error;
    fn try_from(s: String) -> Result<KeyId> {
        s.parse()
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> String {
        id.to_string()
    }
}

/// A 32-byte store key (AES-256). Zeroized when dropped; `Debug` shows only its [`KeyId`].
#[derive(Clone)]
pub struct StoreKey {
    bytes: Zeroizing<[u8; 32]>,
    id: KeyId,
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreKey")
            .field("id", &self.id)
            .field("bytes", &"[redacted]")
            .finish()
    }
}

impl StoreKey {
    /// A key from its 32 bytes (zeroize your copy once done with it).
    pub fn from_bytes(bytes: [u8; 32]) -> StoreKey {
        let derived = blake3::derive_key(CTX_ID, &bytes);
        let mut id = [0u8; 8];
        id.copy_from_slice(&derived[..8]);
        StoreKey {
            bytes: Zeroizing::new(bytes),
            id: KeyId(id),
        }
    }

    /// A new random key from the operating system's generator.
    pub fn generate() -> StoreKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        StoreKey::from_bytes(*bytes)
    }

    /// Parses a key written as 64 hex digits or as base64 (standard or URL-safe alphabet,
    /// padding optional); surrounding whitespace is ignored. The error never quotes the text.
    pub fn parse(text: &str) -> Result<StoreKey> {
        let text = text.trim();
        let mut bytes = Zeroizing::new([0u8; 32]);
        if text.len() == 64 && hex::decode_to_slice(text, bytes.as_mut()).is_ok() {
            return Ok(StoreKey::from_bytes(*bytes));
        }
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            let decoded = Zeroizing::new(engine.decode(text).unwrap_or_default());
            if decoded.len() == 32 {
                bytes.copy_from_slice(&decoded);
                return Ok(StoreKey::from_bytes(*bytes));
            }
        }
        Err(Error::config(
            "a store key must be 32 bytes written as 64 hex digits or as base64 \
             (generate one with `openssl rand -base64 32`)",
        ))
    }

    /// The key in [`KEY_ENV`] (`BUTTERFLY_STORE_KEY`): `None` if the variable is unset or
    /// empty, a [`Config`](ErrorKind::Config) error if it is not a key.
    pub fn from_env() -> Result<Option<StoreKey>> {
        match std::env::var(KEY_ENV) {
            Ok(text) if text.trim().is_empty() => Ok(None),
            Ok(text) => {
                let text = Zeroizing::new(text);
                StoreKey::parse(&text)
                    .map(Some)
                    .map_err(|e| e.context(format!("reading {KEY_ENV}")))
            }
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::config(format!(
                "{KEY_ENV} is not valid text; write the key as hex or base64"
            ))),
        }
    }

    /// The key in a file: exactly 32 raw bytes, or the text forms [`parse`](Self::parse)
    /// accepts. On Unix a file that group or others can read is used, with a warning.
    pub fn from_file(path: impl AsRef<Path>) -> Result<StoreKey> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
            Error::io(
                format!("cannot read the store key file {}", path.display()),
                e,
            )
        })?);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path)
                && meta.permissions().mode() & 0o077 != 0
            {
                tracing::warn!(
                    "the store key file {} can be read by other users; chmod 600 it",
                    path.display()
                );
            }
        }
        if bytes.len() == 32 {
            let mut raw = Zeroizing::new([0u8; 32]);
            raw.copy_from_slice(&bytes);
            return Ok(StoreKey::from_bytes(*raw));
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            Error::config(format!(
                "the store key file {} holds neither 32 raw bytes nor a hex or base64 key",
                path.display()
            ))
        })?;
        StoreKey::parse(text)
            .map_err(|e| e.context(format!("reading the store key file {}", path.display())))
    }

    /// The key's public id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The key as base64 text, to write it into a secret store or a key file.
    pub fn to_text(&self) -> SecretString {
        SecretString::from(base64::engine::general_purpose::STANDARD.encode(self.bytes.as_ref()))
    }
}

/// Where keys come from when a host keeps them (a cloud KMS, a secrets manager).
///
/// The store asks for the current key once, when it is opened, and asks for an older key the
/// first time it meets an object whose header names it.
#[async_trait]
pub trait KeyProvider: Send + Sync {
    /// The key new objects are encrypted with.
    async fn current_key(&self) -> Result<StoreKey>;
    /// The key with this id, if the provider still has it.
    async fn key_by_id(&self, id: &KeyId) -> Result<Option<StoreKey>>;
}

/// A [`KeyProvider`] over keys in memory: the current one and any older ones.
#[derive(Debug, Clone)]
pub struct StaticKeys {
    current: StoreKey,
    previous: Vec<StoreKey>,
}

impl StaticKeys {
    /// Provides `current` only.
    pub fn new(current: StoreKey) -> StaticKeys {
        StaticKeys {
            current,
            previous: Vec::new(),
        }
    }

    /// Adds an older key, for objects not yet re-encrypted.
    pub fn with_previous(mut self, key: StoreKey) -> StaticKeys {
        self.previous.push(key);
        self
    }
}

#[async_trait]
impl KeyProvider for StaticKeys {
    async fn current_key(&self) -> Result<StoreKey> {
        Ok(self.current.clone())
    }

    async fn key_by_id(&self, id: &KeyId) -> Result<Option<StoreKey>> {
        Ok(std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id() == *id)
            .cloned())
    }
}

/// What an envelope holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjectType {
    Blob = 1,
    Manifest = 2,
    Record = 3,
}

impl ObjectType {
    fn from_byte(b: u8) -> Option<ObjectType> {
        match b {
            1 => Some(ObjectType::Blob),
            2 => Some(ObjectType::Manifest),
            3 => Some(ObjectType::Record),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            ObjectType::Blob => "blob",
            ObjectType::Manifest => "manifest",
            ObjectType::Record => "record",
        }
    }
}

/// The keys derived from one store key.
struct Keys {
    id: KeyId,
    objects: Aes256Gcm,
    names: Aes256,
}

impl Keys {
    fn derive(key: &StoreKey) -> Keys {
        let objects = Zeroizing::new(blake3::derive_key(CTX_OBJECTS, key.bytes.as_ref()));
        let names = Zeroizing::new(blake3::derive_key(CTX_NAMES, key.bytes.as_ref()));
        Keys {
            id: key.id(),
            objects: Aes256Gcm::new(objects.as_ref().into()),
            names: Aes256::new(names.as_ref().into()),
        }
    }

    /// The keyed name (64 hex digits) of a blob.
    fn blob_name(&self, id: &BlobId) -> String {
        let mut raw = [0u8; 32];
        // A BlobId is always 64 lowercase hex digits.
        let _ = hex::decode_to_slice(id.as_str(), &mut raw);
        let (a, b) = raw.split_at_mut(16);
        self.names.encrypt_block(aes::Block::from_mut_slice(a));
        self.names.encrypt_block(aes::Block::from_mut_slice(b));
        hex::encode(raw)
    }

    /// The blob id behind a keyed name.
    fn blob_of(&self, name: &str) -> Option<BlobId> {
        let mut raw = [0u8; 32];
        hex::decode_to_slice(name, &mut raw).ok()?;
        let (a, b) = raw.split_at_mut(16);
        self.names.decrypt_block(aes::Block::from_mut_slice(a));
        self.names.decrypt_block(aes::Block::from_mut_slice(b));
        hex::encode(raw).parse().ok()
    }

    /// Where a blob lives in the inner store.
    fn blob_record(&self, id: &BlobId) -> Result<RecordName> {
        self.keyed_record(BLOBS, id)
    }

    /// Where a blob's reuse marker lives in the inner store.
    fn marker_record(&self, id: &BlobId) -> Result<RecordName> {
        self.keyed_record(REUSED, id)
    }

    fn keyed_record(&self, area: &str, id: &BlobId) -> Result<RecordName> {
        let name = self.blob_name(id);
        record_name(format!("{area}{}/{}/{}", self.id, &name[..2], &name[2..]))
    }

    fn seal(&self, kind: ObjectType, name: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let mut out = Vec::with_capacity(HEADER + plaintext.len() + TAG);
        out.extend_from_slice(&MAGIC);
        out.push(ENVELOPE_VERSION);
        out.push(kind as u8);
        out.extend_from_slice(&self.id.0);
        out.extend_from_slice(&now_secs().to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let aad = associated_data(&out[..AUTH_HEADER], name);
        let (_, body) = out.split_at_mut(HEADER);
        let tag = self
            .objects
            .encrypt_in_place_detached(&nonce, &aad, body)
            .map_err(|_| {
                Error::invalid_data(format!("{} {name} is too large to encrypt", kind.label()))
            })?;
        out.extend_from_slice(&tag);
        Ok(out)
    }
}

fn associated_data(header: &[u8], name: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + name.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(name.as_bytes());
    aad
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn record_name(name: String) -> Result<RecordName> {
    name.parse()
}

/// The parsed header of an envelope.
struct Header {
    kind: ObjectType,
    key: KeyId,
    written: u64,
}

/// Reads an envelope's header, or says why it is not one. `what` names the object.
fn header(bytes: &[u8], what: &str) -> Result<Header> {
    if bytes.len() < HEADER + TAG {
        return Err(Error::integrity(format!(
            "{what} is damaged: {} bytes, too short for an encrypted object",
            bytes.len()
        )));
    }
    if bytes[..4] != MAGIC {
        return Err(Error::integrity(format!(
            "{what} is not an encrypted object (damaged, or written without encryption)"
        )));
    }
    if bytes[4] != ENVELOPE_VERSION {
        return Err(Error::integrity(format!(
            "{what} has encryption format {}, this build reads format {ENVELOPE_VERSION}",
            bytes[4]
        )));
    }
    let kind = ObjectType::from_byte(bytes[5]).ok_or_else(|| {
        Error::integrity(format!("{what} has an unknown object type {}", bytes[5]))
    })?;
    let mut key = [0u8; 8];
    key.copy_from_slice(&bytes[6..AUTH_HEADER]);
    let mut written = [0u8; 8];
    written.copy_from_slice(&bytes[WRITTEN_AT..NONCE_AT]);
    Ok(Header {
        kind,
        key: KeyId(key),
        written: u64::from_be_bytes(written),
    })
}

/// The age of an envelope from its `written` field; a damaged header counts as old.
fn envelope_age(bytes: &[u8]) -> Duration {
    match header(bytes, "") {
        Ok(h) => Duration::from_secs(now_secs().saturating_sub(h.written)),
        Err(_) => Duration::MAX,
    }
}

/// The age of a reuse marker; a damaged marker counts as old.
fn marker_age(bytes: &[u8]) -> Duration {
    match <[u8; 8]>::try_from(bytes) {
        Ok(at) => Duration::from_secs(now_secs().saturating_sub(u64::from_be_bytes(at))),
        Err(_) => Duration::MAX,
    }
}

/// What [`EncryptedStore::rekey`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RekeyReport {
    /// The key every object is now encrypted with.
    pub new_key: KeyId,
    /// The keys objects were encrypted with before (not needed any more).
    pub old_keys: Vec<KeyId>,
    /// Snapshots (manifests) re-encrypted; their ids are unchanged.
    pub snapshots: usize,
    /// Blobs re-encrypted under their new names.
    pub blobs: usize,
    /// Records re-encrypted.
    pub records: usize,
    /// Objects under an old key deleted at the end.
    pub old_objects_removed: usize,
    /// Bytes written.
    pub bytes_written: u64,
    /// Blobs no snapshot uses that could not be decrypted, deleted instead of re-encrypted.
    pub damaged_unused_blobs_removed: Vec<BlobId>,
}

/// A [`SnapshotStore`] that encrypts everything it stores in another one (see the
/// [module docs](self) for the format and the threat model).
pub struct EncryptedStore<S> {
    inner: S,
    current: RwLock<Arc<Keys>>,
    /// Every key met so far by id, the current one included.
    known: Mutex<HashMap<KeyId, Arc<Keys>>>,
    provider: Option<Arc<dyn KeyProvider>>,
}

impl<S: SnapshotStore> std::fmt::Debug for EncryptedStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedStore")
            .field("key", &self.key_id())
            .field("inner", &self.inner.describe())
            .finish()
    }
}

impl<S: SnapshotStore> EncryptedStore<S> {
    /// Wraps `inner`, encrypting with `key`.
    pub fn new(inner: S, key: StoreKey) -> EncryptedStore<S> {
        let keys = Arc::new(Keys::derive(&key));
        EncryptedStore {
            inner,
            known: Mutex::new(HashMap::from([(keys.id, keys.clone())])),
            current: RwLock::new(keys),
            provider: None,
        }
    }

    /// Wraps `inner` with keys from a provider: the current key now, older keys when an
    /// object needs them.
    pub async fn with_provider(
        inner: S,
        provider: Arc<dyn KeyProvider>,
    ) -> Result<EncryptedStore<S>> {
        let key = provider
            .current_key()
            .await
            .map_err(|e| e.context("getting the store key from the key provider"))?;
        let mut store = EncryptedStore::new(inner, key);
        store.provider = Some(provider);
        Ok(store)
    }

    /// Adds keys older objects may be encrypted with (until a [`rekey`](Self::rekey)).
    pub fn with_previous_keys(self, keys: impl IntoIterator<Item = StoreKey>) -> Self {
        {
            let mut known = self.known_keys();
            for key in keys {
                known
                    .entry(key.id())
                    .or_insert_with(|| Arc::new(Keys::derive(&key)));
            }
        }
        self
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The id of the key new objects are encrypted with.
    pub fn key_id(&self) -> KeyId {
        self.current().id
    }

    /// Where a blob is stored in the inner store (under the current key): for operators and
    /// tests.
    pub fn blob_location(&self, id: &BlobId) -> Result<RecordName> {
        self.current().blob_record(id)
    }

    /// Where a record is stored in the inner store.
    pub fn record_location(&self, name: &RecordName) -> Result<RecordName> {
        record_name(format!("{RECORDS}{name}")).map_err(|e| {
            Error::invalid_data(format!(
                "record name {name} is too long for an encrypted store (at most 500 bytes)"
            ))
            .with_source(e)
        })
    }

    /// Where a snapshot's encrypted manifest is stored in the inner store.
    pub async fn manifest_location(&self, id: &SnapshotId) -> Result<RecordName> {
        let stub = self.inner.get_manifest(id).await?;
        manifest_record(&stub)
    }

    fn current(&self) -> Arc<Keys> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn known_keys(&self) -> std::sync::MutexGuard<'_, HashMap<KeyId, Arc<Keys>>> {
        // Every update is one insert, so a poisoned map is still consistent.
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The keys with this id: known already, or from the provider.
    async fn keys_for(&self, id: KeyId, what: &str) -> Result<Arc<Keys>> {
        if let Some(keys) = self.known_keys().get(&id) {
            return Ok(keys.clone());
        }
        if let Some(provider) = &self.provider
            && let Some(key) = provider
                .key_by_id(&id)
                .await
                .map_err(|e| e.context(format!("getting store key {id} for {what}")))?
            && key.id() == id
        {
            let keys = Arc::new(Keys::derive(&key));
            self.known_keys().insert(id, keys.clone());
            return Ok(keys);
        }
        Err(Error::config(format!(
            "{what} is encrypted with store key {id}, which this store does not have (its key \
             is {}): wrong key; give the key it was written with ({KEY_ENV}, the key file or \
             the key provider)",
            self.key_id()
        )))
    }

    /// Every known key, the current one first.
    fn all_keys(&self) -> Vec<Arc<Keys>> {
        let current = self.current();
        let mut keys = vec![current.clone()];
        keys.extend(
            self.known_keys()
                .values()
                .filter(|k| k.id != current.id)
                .cloned(),
        );
        keys
    }

    /// Decrypts an envelope after checking its header. `what` names the object in errors,
    /// `name` is its logical name (the associated data).
    async fn open(
        &self,
        bytes: Vec<u8>,
        kind: ObjectType,
        name: &str,
        what: &str,
    ) -> Result<Vec<u8>> {
        let head = header(&bytes, what)?;
        if head.kind != kind {
            return Err(Error::integrity(format!(
                "{what} holds a {} (moved or swapped)",
                head.kind.label()
            )));
        }
        let keys = self.keys_for(head.key, what).await?;
        open_with(&keys, bytes, name, what)
    }

    /// A blob's envelope and where it is, trying the current key's name first.
    async fn find_blob(&self, id: &BlobId) -> Result<Option<(RecordName, Vec<u8>)>> {
        for keys in self.all_keys() {
            let name = keys.blob_record(id)?;
            if let Some(bytes) = self.inner.get_record(&name).await? {
                return Ok(Some((name, bytes)));
            }
        }
        Ok(None)
    }

    async fn put_sealed_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        let keys = self.current();
        let name = keys.blob_record(id)?;
        // Hashing and encrypting a chunk is CPU work: off the async worker, so the blobs a
        // backup writes at once are sealed in parallel.
        let (id, bytes) = (id.clone(), bytes.to_vec());
        let sealed = tokio::task::spawn_blocking(move || {
            id.verify(&bytes)?;
            keys.seal(ObjectType::Blob, id.as_str(), &bytes)
        })
        .await
        .map_err(|e| Error::new(ErrorKind::Io, "encrypting a blob failed").with_source(e))??;
        self.inner.put_record(&name, &sealed).await
    }

    /// Re-encrypts every object with `new_key`, keeping snapshot ids and record names; the
    /// old key is not needed afterwards (see the [module docs](self#rekey)).
    ///
    /// Every object must be readable with a key this store has (its current key, keys from
    /// [`with_previous_keys`](Self::with_previous_keys), or the provider's). A damaged
    /// manifest or record, or a damaged blob a snapshot uses, stops rekey with an
    /// [`Integrity`](ErrorKind::Integrity) error naming it, before the old key's objects are
    /// touched; a damaged blob nothing uses is deleted. Rekey stopped for any reason can be
    /// run again and finishes the work. Nothing else may write to the store meanwhile.
    ///
    /// With a [`KeyProvider`], have it return the new key as current afterwards, and keep
    /// returning the old one by id until rekey has finished.
    pub async fn rekey(&self, new_key: StoreKey) -> Result<RekeyReport> {
        let new = Arc::new(Keys::derive(&new_key));
        self.known_keys().insert(new.id, new.clone());
        let mut report = RekeyReport {
            new_key: new.id,
            old_keys: Vec::new(),
            snapshots: 0,
            blobs: 0,
            records: 0,
            old_objects_removed: 0,
            bytes_written: 0,
            damaged_unused_blobs_removed: Vec::new(),
        };
        let mut old_keys = HashSet::new();

        // 1. Read everything small first: every manifest and record must open.
        let mut manifests = Vec::new();
        let mut damaged = Vec::new();
        let mut users: HashMap<BlobId, Vec<SnapshotId>> = HashMap::new();
        for sid in self.inner.list_snapshot_ids().await? {
            match self.get_manifest(&sid).await {
                Ok(manifest) => {
                    for blob in manifest.blobs() {
                        users.entry(blob.clone()).or_default().push(sid.clone());
                    }
                    manifests.push((sid, manifest));
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => damaged.push(format!("snapshot {sid}: {e}")),
            }
        }
        let mut records = Vec::new();
        for name in self.list_records("").await? {
            match self.get_record(&name).await {
                Ok(Some(bytes)) => records.push((name, Zeroizing::new(bytes))),
                Ok(None) => {}
                Err(e) => damaged.push(format!("record {name}: {e}")),
            }
        }
        if !damaged.is_empty() {
            return Err(Error::integrity(format!(
                "rekey changed nothing: {} cannot be read ({}); verify the store, repair or \
                 delete them, then run rekey again",
                damaged.len(),
                damaged.join("; ")
            )));
        }

        // 2. A copy of every blob under the new key, beside the old one.
        let mut old_blobs = Vec::new();
        let mut damaged_used = Vec::new();
        for name in self.inner.list_records(BLOBS).await? {
            let Some((key, keyed)) = parse_blob_record(&name) else {
                continue;
            };
            if key == new.id {
                continue;
            }
            let what = format!("blob record {name}");
            let keys = self.keys_for(key, &what).await?;
            let Some(id) = keys.blob_of(&keyed) else {
                continue;
            };
            old_keys.insert(key);
            old_blobs.push(name.clone());
            let target = new.blob_record(&id)?;
            if self.inner.get_record(&target).await?.is_some() {
                continue;
            }
            let Some(sealed) = self.inner.get_record(&name).await? else {
                continue;
            };
            match open_with(&keys, sealed, id.as_str(), &format!("blob {id}")) {
                Ok(plain) => {
                    let again = new.seal(ObjectType::Blob, id.as_str(), &plain)?;
                    report.bytes_written += again.len() as u64;
                    self.inner.put_record(&target, &again).await?;
                    report.blobs += 1;
                }
                Err(e) => match users.get(&id) {
                    Some(sids) => damaged_used.push(format!(
                        "{e} (used by {})",
                        sids.iter()
                            .map(SnapshotId::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    None => report.damaged_unused_blobs_removed.push(id),
                },
            }
        }
        if !damaged_used.is_empty() {
            return Err(Error::integrity(format!(
                "rekey stopped before re-encrypting any manifest: {} (a new backup writes a \
                 good copy of a damaged blob it needs; or delete the snapshots using it), then \
                 run rekey again, which goes on where it stopped",
                damaged_used.join("; ")
            )));
        }

        // 3. Manifests and records, each replaced in one step under the same name.
        for (sid, manifest) in &manifests {
            let stub = self.inner.get_manifest(sid).await?;
            let location = manifest_record(&stub)?;
            if let Some(bytes) = self.inner.get_record(&location).await?
                && let Ok(h) = header(&bytes, "")
            {
                if h.key == new.id {
                    continue;
                }
                old_keys.insert(h.key);
            }
            let sealed = new.seal(ObjectType::Manifest, sid.as_str(), &manifest.to_bytes()?)?;
            report.bytes_written += sealed.len() as u64;
            self.inner.put_record(&location, &sealed).await?;
            report.snapshots += 1;
        }
        for (name, plain) in &records {
            let location = self.record_location(name)?;
            if let Some(bytes) = self.inner.get_record(&location).await?
                && let Ok(h) = header(&bytes, "")
            {
                if h.key == new.id {
                    continue;
                }
                old_keys.insert(h.key);
            }
            let sealed = new.seal(ObjectType::Record, name.as_str(), &plain[..])?;
            report.bytes_written += sealed.len() as u64;
            self.inner.put_record(&location, &sealed).await?;
            report.records += 1;
        }

        // 4. From now on the new key is the store's key; the old copies go.
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = new.clone();
        for name in old_blobs {
            if self.inner.delete_record(&name).await? {
                report.old_objects_removed += 1;
            }
        }
        for marker in self.inner.list_records(REUSED).await? {
            if parse_keyed_record(REUSED, &marker).is_some_and(|(key, _)| key != new.id) {
                self.inner.delete_record(&marker).await?;
            }
        }
        report.old_keys = old_keys.into_iter().collect();
        report.old_keys.sort();
        tracing::info!(
            "rekeyed {}: {} snapshots, {} blobs and {} records now under key {}",
            self.inner.describe(),
            report.snapshots,
            report.blobs,
            report.records,
            new.id
        );
        Ok(report)
    }
}

/// Decrypts an envelope whose header was checked.
fn open_with(keys: &Keys, mut bytes: Vec<u8>, name: &str, what: &str) -> Result<Vec<u8>> {
    let head = header(&bytes, what)?;
    let aad = associated_data(&bytes[..AUTH_HEADER], name);
    let nonce = *Nonce::<Aes256Gcm>::from_slice(&bytes[NONCE_AT..HEADER]);
    let tag_at = bytes.len() - TAG;
    let tag = *Tag::<Aes256Gcm>::from_slice(&bytes[tag_at..]);
    keys.objects
        .decrypt_in_place_detached(&nonce, &aad, &mut bytes[HEADER..tag_at], &tag)
        .map_err(|_| {
            Error::integrity(format!(
                "{what} fails authentication under store key {}: it was damaged, tampered \
                 with, or moved from another object's place",
                head.key
            ))
        })?;
    bytes.truncate(tag_at);
    bytes.drain(..HEADER);
    Ok(bytes)
}

/// The key id and keyed name of a blob record `enc/blobs/<key>/<2 hex>/<62 hex>`.
fn parse_blob_record(name: &RecordName) -> Option<(KeyId, String)> {
    parse_keyed_record(BLOBS, name)
}

/// The key id and keyed name of a record `<area><key>/<2 hex>/<62 hex>`.
fn parse_keyed_record(area: &str, name: &RecordName) -> Option<(KeyId, String)> {
    let rest = name.as_str().strip_prefix(area)?;
    let mut parts = rest.split('/');
    let key: KeyId = parts.next()?.parse().ok()?;
    let (a, b) = (parts.next()?, parts.next()?);
    (parts.next().is_none() && a.len() == 2 && b.len() == 62).then(|| (key, format!("{a}{b}")))
}

/// A stub manifest: makes a snapshot visible in the inner store and names its content record.
fn stub(id: &SnapshotId, generation: &str) -> Result<Manifest> {
    let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    let mut manifest = Manifest {
        format: FORMAT_VERSION,
        meta: SnapshotMeta {
            id: id.clone(),
            provider: STUB_PROVIDER.to_string(),
            tenant: String::new(),
            started_at: epoch,
            finished_at: epoch,
        },
        status: SnapshotStatus::Failed,
        kinds: BTreeMap::new(),
        content_sha256: generation.to_string(),
        manifest_sha256: String::new(),
    };
    manifest.seal()?;
    Ok(manifest)
}

/// Whether `store` holds an encrypted store's objects (read without a key, through the plain
/// store): a host opening a store without a key checks this first, so it neither shows the
/// encrypted store's empty stubs as snapshots nor writes plaintext beside its ciphertext.
///
/// ```
/// use butterfly_core::store::{MemoryStore, SnapshotStore};
/// use butterfly_core::store::encrypted::{self, EncryptedStore, StoreKey};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let plain = MemoryStore::new();
/// assert!(!encrypted::is_encrypted(&plain).await?);
/// let store = EncryptedStore::new(MemoryStore::new(), StoreKey::generate());
/// store.put_record(&"notes/a".parse()?, b"secret").await?;
/// assert!(encrypted::is_encrypted(store.inner()).await?);
/// # Ok::<(), butterfly_core::Error>(())
/// # }).unwrap();
/// ```
pub async fn is_encrypted<S: SnapshotStore + ?Sized>(store: &S) -> Result<bool> {
    for prefix in [MANIFESTS, RECORDS, BLOBS] {
        if !store.list_records(prefix).await?.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The content record a stub names.
fn manifest_record(stub: &Manifest) -> Result<RecordName> {
    let id = &stub.meta.id;
    let generation = &stub.content_sha256;
    let ok = stub.meta.provider == STUB_PROVIDER
        && generation.len() == 32
        && generation.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err(Error::integrity(format!(
            "snapshot {id} is not encrypted: the inner store holds a plain manifest for it"
        )));
    }
    record_name(format!("{MANIFESTS}{id}/{generation}"))
}

#[async_trait]
impl<S: SnapshotStore> SnapshotStore for EncryptedStore<S> {
    fn describe(&self) -> String {
        format!(
            "{} (encrypted with AES-256-GCM, key {})",
            self.inner.describe(),
            self.key_id()
        )
    }

    async fn has_blob(&self, id: &BlobId) -> Result<bool> {
        let keys = self.current();
        let name = keys.blob_record(id)?;
        let Some(bytes) = self.inner.get_record(&name).await? else {
            return Ok(false);
        };
        // Reuse makes the blob young again, so garbage collection leaves it to the backup.
        if envelope_age(&bytes) >= TOUCH_AFTER {
            self.inner
                .put_record(&keys.marker_record(id)?, &now_secs().to_be_bytes())
                .await?;
        }
        Ok(true)
    }

    async fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        self.put_sealed_blob(id, bytes).await
    }

    /// Writing a record replaces it in one step, so this is [`put_blob`](Self::put_blob).
    async fn replace_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        self.put_sealed_blob(id, bytes).await
    }

    /// Reads and decrypts a blob. Unlike a plain store's, the bytes are authenticated: a
    /// damaged, swapped or moved blob is an [`Integrity`](ErrorKind::Integrity) error naming
    /// it, never garbage.
    async fn read_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        let Some((_, bytes)) = self.find_blob(id).await? else {
            return Err(Error::not_found(format!("blob {id} is not in the store")));
        };
        self.open(bytes, ObjectType::Blob, id.as_str(), &format!("blob {id}"))
            .await
    }

    async fn list_blobs(&self) -> Result<Vec<BlobId>> {
        let mut out = Vec::new();
        for name in self.inner.list_records(BLOBS).await? {
            let Some((key, keyed)) = parse_blob_record(&name) else {
                continue;
            };
            match self.keys_for(key, &format!("blob record {name}")).await {
                Ok(keys) => out.extend(keys.blob_of(&keyed)),
                // Never listed, so never collected: it may belong to a snapshot.
                Err(e) => tracing::warn!("not listing {name}: {e}"),
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn delete_blob(&self, id: &BlobId, min_age: Duration) -> Result<u64> {
        let mut freed = 0;
        for keys in self.all_keys() {
            let (name, marker) = (keys.blob_record(id)?, keys.marker_record(id)?);
            let Some(bytes) = self.inner.get_record(&name).await? else {
                continue;
            };
            let reused = self.inner.get_record(&marker).await?;
            let age = reused
                .map(|m| marker_age(&m))
                .unwrap_or(Duration::MAX)
                .min(envelope_age(&bytes));
            if age >= min_age && self.inner.delete_record(&name).await? {
                freed += bytes.len() as u64;
                self.inner.delete_record(&marker).await?;
            }
        }
        Ok(freed)
    }

    async fn put_manifest(&self, manifest: &Manifest) -> Result<()> {
        let sid = &manifest.meta.id;
        match self.inner.get_manifest(sid).await {
            Ok(_) => {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("snapshot {sid} already exists"),
                ));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut generation = [0u8; 16];
        OsRng.fill_bytes(&mut generation);
        let stub = stub(sid, &hex::encode(generation))?;
        let location = manifest_record(&stub)?;
        let sealed =
            self.current()
                .seal(ObjectType::Manifest, sid.as_str(), &manifest.to_bytes()?)?;
        self.inner.put_record(&location, &sealed).await?;
        if let Err(e) = self.inner.put_manifest(&stub).await {
            let _ = self.inner.delete_record(&location).await;
            return Err(e);
        }
        Ok(())
    }

    async fn get_manifest(&self, id: &SnapshotId) -> Result<Manifest> {
        let what = format!("the manifest of snapshot {id}");
        let stub = self.inner.get_manifest(id).await.map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                e
            } else {
                e.context(format!("reading snapshot {id}"))
            }
        })?;
        let location = manifest_record(&stub)?;
        let sealed = self
            .inner
            .get_record(&location)
            .await?
            .ok_or_else(|| Error::integrity(format!("{what} is missing")))?;
        let plain = self
            .open(sealed, ObjectType::Manifest, id.as_str(), &what)
            .await?;
        let manifest =
            Manifest::from_bytes(&plain).map_err(|e| e.context(format!("reading {what}")))?;
        if manifest.meta.id != *id {
            return Err(Error::integrity(format!(
                "{what} names snapshot {}",
                manifest.meta.id
            )));
        }
        Ok(manifest)
    }

    async fn list_snapshot_ids(&self) -> Result<Vec<SnapshotId>> {
        self.inner.list_snapshot_ids().await
    }

    async fn delete_manifest(&self, id: &SnapshotId) -> Result<()> {
        self.inner.delete_manifest(id).await?;
        // Every content generation of the id, including leftovers of a writer that lost a race.
        for name in self
            .inner
            .list_records(&format!("{MANIFESTS}{id}/"))
            .await?
        {
            self.inner.delete_record(&name).await?;
        }
        Ok(())
    }

    async fn put_record(&self, name: &RecordName, bytes: &[u8]) -> Result<()> {
        let location = self.record_location(name)?;
        let sealed = self
            .current()
            .seal(ObjectType::Record, name.as_str(), bytes)?;
        self.inner.put_record(&location, &sealed).await
    }

    async fn get_record(&self, name: &RecordName) -> Result<Option<Vec<u8>>> {
        let location = self.record_location(name)?;
        let Some(sealed) = self.inner.get_record(&location).await? else {
            return Ok(None);
        };
        self.open(
            sealed,
            ObjectType::Record,
            name.as_str(),
            &format!("record {name}"),
        )
        .await
        .map(Some)
    }

    async fn list_records(&self, prefix: &str) -> Result<Vec<RecordName>> {
        Ok(self
            .inner
            .list_records(&format!("{RECORDS}{prefix}"))
            .await?
            .iter()
            .filter_map(|n| n.as_str().strip_prefix(RECORDS)?.parse().ok())
            .collect())
    }

    async fn delete_record(&self, name: &RecordName) -> Result<bool> {
        self.inner.delete_record(&self.record_location(name)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_from_hex_and_base64_and_never_show() {
        let key = StoreKey::from_bytes([7u8; 32]);
        let hex_text = hex::encode([7u8; 32]);
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32]);
        for text in [&hex_text, &b64, &url, &format!("  {b64}\n")] {
            assert_eq!(StoreKey::parse(text).expect("parses").id(), key.id());
        }
        for bad in ["", "abc", &hex_text[..62], &"zz".repeat(32), "AAAA"] {
            let err = StoreKey::parse(bad).expect_err("not a key");
            assert_eq!(err.kind(), ErrorKind::Config);
        }
        let debug = format!("{key:?}");
        assert!(debug.contains(&key.id().to_string()), "{debug}");
        assert!(!debug.contains(&hex_text) && !debug.contains(&b64) && !debug.contains("7, 7"));
        use secrecy::ExposeSecret;
        assert_eq!(key.to_text().expose_secret(), b64);
        assert_ne!(StoreKey::generate().id(), StoreKey::generate().id());
    }

    #[test]
    fn key_files_hold_raw_bytes_or_text() {
        let dir = tempfile::tempdir().expect("tempdir");
        let raw = dir.path().join("raw");
        std::fs::write(&raw, [9u8; 32]).expect("write");
        let text = dir.path().join("text");
        std::fs::write(&text, format!("{}\n", hex::encode([9u8; 32]))).expect("write");
        let want = StoreKey::from_bytes([9u8; 32]).id();
        assert_eq!(StoreKey::from_file(&raw).expect("raw").id(), want);
        assert_eq!(StoreKey::from_file(&text).expect("text").id(), want);
        let short = dir.path().join("short");
        std::fs::write(&short, [1u8; 31]).expect("write");
        assert_eq!(
            StoreKey::from_file(&short).expect_err("short").kind(),
            ErrorKind::Config
        );
        assert_eq!(
            StoreKey::from_file(dir.path().join("missing"))
                .expect_err("missing")
                .kind(),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn blob_names_are_a_keyed_permutation() {
        let a = Keys::derive(&StoreKey::from_bytes([1u8; 32]));
        let b = Keys::derive(&StoreKey::from_bytes([2u8; 32]));
        let id = BlobId::of(b"chunk");
        let name = a.blob_name(&id);
        assert_ne!(name, id.as_str());
        assert_ne!(name, b.blob_name(&id));
        assert_eq!(a.blob_of(&name), Some(id.clone()));
        assert_ne!(b.blob_of(&name), Some(id));
    }

    #[test]
    fn envelopes_authenticate_name_type_and_bytes() {
        let keys = Keys::derive(&StoreKey::from_bytes([3u8; 32]));
        let sealed = keys
            .seal(ObjectType::Record, "holds/a", b"secret text")
            .expect("seal");
        assert_eq!(sealed.len(), HEADER + 11 + TAG);
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            open_with(&keys, sealed.clone(), "holds/a", "record holds/a").expect("open"),
            b"secret text"
        );
        let err = open_with(&keys, sealed.clone(), "holds/b", "record holds/b").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Integrity);
        assert!(err.to_string().contains("record holds/b"), "{err}");
        for at in [5, 8, HEADER + 2, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[at] ^= 1;
            assert!(open_with(&keys, bad, "holds/a", "x").is_err(), "byte {at}");
        }
        // The written field is bookkeeping, outside the authenticated data.
        let mut touched = sealed.clone();
        touched[WRITTEN_AT] ^= 1;
        assert!(open_with(&keys, touched, "holds/a", "x").is_ok());
        assert!(header(&sealed[..HEADER], "short").is_err());
    }
}
