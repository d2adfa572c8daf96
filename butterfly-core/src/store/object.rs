//! A [`SnapshotStore`] on S3-compatible object storage (AWS S3, MinIO, Cloudflare R2, Ceph …)
//! through the [`object_store`] crate: what to choose when one machine is not enough, with
//! many backup workers on many machines sharing one bucket. Behind the `object-store` cargo
//! feature of `butterfly-core`; its HTTP stack is rustls only.
//!
//! ```no_run
//! # async fn demo() -> butterfly_core::Result<()> {
//! use butterfly_core::store::{ObjectSnapshotStore, StoreExt};
//! // Endpoint and credentials from the environment (see below).
//! let store = ObjectSnapshotStore::from_url("s3://acme-backups/okta/acme-prod")?;
//! for snapshot in store.list(None).await? {
//!     println!("{} {}", snapshot.id, snapshot.status);
//! }
//! # Ok(()) }
//! ```
//!
//! # Where things go
//! A store lives under a prefix of a bucket, `s3://<bucket>/<prefix>`, which the caller
//! chooses: one prefix per provider and tenant (`s3://backups/okta/acme-prod`), or one bucket
//! per tenant, keeps tenants apart (a bucket policy per prefix or bucket can then isolate
//! them further). The layout under the prefix is the filesystem store's:
//! ```text
//! <prefix>/blobs/ab/cdef…       chunk blobs, named by their blake3 hash
//! <prefix>/snapshots/<id>.json  manifests, one per visible snapshot
//! <prefix>/records/<name>       records (holds, policies, schedule states, the run journal)
//! <prefix>/reuse/ab/cdef…       empty markers: when a backup last reused a blob
//! ```
//!
//! # How the store's promises are kept on S3
//! - **Atomic objects.** Every object is written with one `PUT`, which S3 applies whole or not
//!   at all: a reader sees the old bytes or the new ones. Blobs and records are written that
//!   way; [`replace_blob`](SnapshotStore::replace_blob) overwrites a damaged blob in one step.
//! - **Manifests are published once.** [`put_manifest`](SnapshotStore::put_manifest) is a
//!   conditional `PUT` (`If-None-Match: *`, [`PutMode::Create`]): of two writers publishing
//!   the same snapshot id, exactly one succeeds and the other gets a
//!   [`Conflict`](ErrorKind::Conflict) error; a published manifest is never overwritten. AWS
//!   S3, MinIO and R2 decide that header atomically. A server that ignores it would let a
//!   second writer replace a manifest: [`ObjectSnapshotStore::check_conditional_writes`]
//!   finds such a server out (a host runs it once when it sets a store up).
//! - **Many writers.** Blobs are content-addressed, so two workers writing the same blob write
//!   the same bytes, and either copy is right; a manifest is published only after all of its
//!   blobs are stored, so a killed worker leaves no visible snapshot, only blobs that garbage
//!   collection removes once they are older than the grace period.
//! - **Reuse restarts a blob's age.** S3 cannot change an object's `Last-Modified` without
//!   writing it again (copying an object onto itself is refused), so
//!   [`has_blob`](SnapshotStore::has_blob) writes an empty marker `reuse/<blob>` instead of
//!   uploading the blob again; [`delete_blob`](SnapshotStore::delete_blob) measures a blob's
//!   age from the later of its own `Last-Modified` and its marker's, against this machine's
//!   clock (keep clocks within minutes of the server's; the grace period is 15 minutes).
//! - **Listings page.** Listing blobs, snapshots and records follows S3's continuation
//!   tokens to the end (1,000 keys a page), so garbage collection sees every blob.
//!
//! # Settings
//! [`ObjectSnapshotStore::from_url`] reads these from the environment; the
//! [`S3StoreBuilder`] sets them in code.
//!
//! | variable | meaning |
//! | --- | --- |
//! | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` | credentials (required) |
//! | `AWS_SESSION_TOKEN` | session token of temporary credentials (optional) |
//! | `AWS_REGION` (or `AWS_DEFAULT_REGION`) | region, `us-east-1` if unset |
//! | `BUTTERFLY_S3_ENDPOINT` (or `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`) | endpoint of an S3-compatible server; AWS if unset |
//!
//! The endpoint must be `https`; plain `http` is accepted only for a loopback host
//! (`127.0.0.1`, `::1`, `localhost`), as everywhere in butterfly. Credentials never appear in
//! `Debug` output or in error text.
//!
//! Errors are typed: a missing object is [`NotFound`](ErrorKind::NotFound), refused
//! credentials are [`Auth`](ErrorKind::Auth) (S3 answers 403 both for an unknown key and a bad
//! signature), a policy that denies valid credentials is [`Denied`](ErrorKind::Denied), a
//! missing bucket is [`Config`](ErrorKind::Config), stored bytes that fail their hash are
//! [`Integrity`](ErrorKind::Integrity), and a server that stays unreachable or failing after
//! `object_store`'s retries is [`Transient`](ErrorKind::Transient) (persistent).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload, RetryConfig};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, ErrorKind, Result};
use crate::snapshot::{BlobId, Manifest, SnapshotId};
use crate::store::{RecordName, SnapshotStore};

/// The region used when none is set.
pub const DEFAULT_REGION: &str = "us-east-1";

/// A [`SnapshotStore`] on an [`ObjectStore`]: S3-compatible storage built from a URL or a
/// [`S3StoreBuilder`], or any other `object_store` backend through [`new`](Self::new).
///
/// Cloning is cheap and shares the connection pool; clones are the same store.
#[derive(Clone)]
pub struct ObjectSnapshotStore {
    inner: Arc<dyn ObjectStore>,
    root: Path,
    location: String,
}

impl fmt::Debug for ObjectSnapshotStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the inner store's Debug: an S3 client's configuration holds the credentials.
        f.debug_struct("ObjectSnapshotStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl ObjectSnapshotStore {
    /// Opens the store at `s3://<bucket>/<prefix>` with the endpoint, region and credentials
    /// from the environment (see the [module docs](self)). Nothing is contacted yet: the first
    /// operation finds out whether the bucket and the credentials are good.
    ///
    /// ```
    /// use butterfly_core::store::ObjectSnapshotStore;
    /// // No credentials in the URL, and only the s3 scheme.
    /// assert!(ObjectSnapshotStore::from_url("s3://key:secret@backups/okta").is_err());
    /// assert!(ObjectSnapshotStore::from_url("https://backups/okta").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<ObjectSnapshotStore> {
        S3StoreBuilder::from_url(url)?.from_env().build()
    }

    /// A builder for a store in `bucket`, with nothing read from the environment.
    pub fn builder(bucket: impl Into<String>) -> S3StoreBuilder {
        S3StoreBuilder::new(bucket)
    }

    /// A store under `prefix` (`/`-separated, may be empty) of any [`ObjectStore`]: an S3
    /// client configured by hand, or another backend (`object_store`'s in-memory store, say).
    /// Manifest publication needs the backend's [`PutMode::Create`].
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> Result<ObjectSnapshotStore> {
        let root = parse_prefix(prefix)?;
        let location = if root.as_ref().is_empty() {
            store.to_string()
        } else {
            format!("{store} under {root}")
        };
        Ok(ObjectSnapshotStore {
            inner: store,
            root,
            location,
        })
    }

    /// Where the store is (`s3://backups/okta/acme-prod at https://s3.us-east-1…`), without
    /// credentials.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The prefix everything of this store is under.
    pub fn prefix(&self) -> &Path {
        &self.root
    }

    /// The object store underneath, for operators and tests that need to reach past the
    /// snapshot store (lifecycle rules, tamper tests). Writing under [`prefix`](Self::prefix)
    /// through it bypasses every check of this store.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }

    /// The key of a blob: `<prefix>/blobs/ab/cdef…`.
    pub fn blob_key(&self, id: &BlobId) -> Path {
        let hex = id.as_str();
        self.root
            .clone()
            .join("blobs")
            .join(&hex[..2])
            .join(&hex[2..])
    }

    /// The key of a snapshot's manifest: `<prefix>/snapshots/<id>.json`.
    pub fn manifest_key(&self, id: &SnapshotId) -> Path {
        // SnapshotId admits only [A-Za-z0-9._-] and no leading dot.
        self.root
            .clone()
            .join("snapshots")
            .join(format!("{id}.json"))
    }

    /// The key of a record: `<prefix>/records/<name>`.
    pub fn record_key(&self, name: &RecordName) -> Path {
        name.segments()
            .fold(self.root.clone().join("records"), |path, seg| {
                path.join(seg)
            })
    }

    /// Checks that the server refuses to overwrite an object on a conditional `PUT`
    /// (`If-None-Match: *`), which publishing each snapshot exactly once relies on: writes a
    /// probe object under `<prefix>/probe/` twice, expects the second write to be refused, and
    /// deletes the probe. A server that overwrites is a [`Config`](ErrorKind::Config) error.
    pub async fn check_conditional_writes(&self) -> Result<()> {
        let key = self
            .root
            .clone()
            .join("probe")
            .join(format!("conditional-put-{:016x}", rand::random::<u64>()));
        let create = |bytes: &'static [u8]| {
            self.inner
                .put_opts(&key, PutPayload::from_static(bytes), PutMode::Create.into())
        };
        let first = create(b"first").await;
        let second = match first {
            Ok(_) => create(b"second").await,
            Err(e) => return Err(store_error(e, "cannot write a probe object".into())),
        };
        let kept = self.read(&key, "the probe object").await;
        self.remove(&key, "the probe object").await?;
        match (second, kept?) {
            (
                Err(
                    object_store::Error::AlreadyExists { .. }
                    | object_store::Error::Precondition { .. },
                ),
                Some(bytes),
            ) if bytes == b"first" => Ok(()),
            (Err(e @ object_store::Error::NotImplemented { .. }), _) => Err(store_error(
                e,
                format!("{} offers no conditional writes", self.location),
            )),
            (Err(e), _)
                if !matches!(
                    e,
                    object_store::Error::AlreadyExists { .. }
                        | object_store::Error::Precondition { .. }
                ) =>
            {
                Err(store_error(e, "cannot write a probe object".into()))
            }
            _ => Err(Error::config(format!(
                "{} overwrote an object on a conditional write (If-None-Match: *): two \
                 workers could publish the same snapshot; use a server that honours \
                 conditional writes (AWS S3, MinIO, R2)",
                self.location
            ))),
        }
    }

    /// The key of a blob's reuse marker: `<prefix>/reuse/ab/cdef…`.
    fn reuse_key(&self, id: &BlobId) -> Path {
        let hex = id.as_str();
        self.root
            .clone()
            .join("reuse")
            .join(&hex[..2])
            .join(&hex[2..])
    }

    /// Every object under `dir`, as its path below `dir` (all pages of the listing).
    async fn list_below(&self, dir: &Path) -> Result<Vec<(Vec<String>, object_store::ObjectMeta)>> {
        let metas: Vec<object_store::ObjectMeta> =
            self.inner
                .list(Some(dir))
                .try_collect()
                .await
                .map_err(|e| store_error(e, format!("cannot list {dir} in {}", self.location)))?;
        Ok(metas
            .into_iter()
            .filter_map(|meta| {
                let parts: Vec<String> = meta
                    .location
                    .prefix_match(dir)?
                    .map(|p| p.as_ref().to_string())
                    .collect();
                Some((parts, meta))
            })
            .collect())
    }

    /// The metadata of an object, `None` if there is none.
    async fn head(&self, key: &Path, what: &str) -> Result<Option<object_store::ObjectMeta>> {
        match self.inner.head(key).await {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_error(e, format!("cannot look up {what}"))),
        }
    }

    /// An object's bytes, `None` if there is none.
    async fn read(&self, key: &Path, what: &str) -> Result<Option<Vec<u8>>> {
        let got = match self.inner.get(key).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(store_error(e, format!("cannot read {what}"))),
        };
        let bytes = got
            .bytes()
            .await
            .map_err(|e| store_error(e, format!("cannot read {what}")))?;
        Ok(Some(bytes.to_vec()))
    }

    /// Writes an object whole, replacing any object of that key.
    async fn write(&self, key: &Path, bytes: &[u8], what: &str) -> Result<()> {
        self.inner
            .put(key, PutPayload::from(bytes.to_vec()))
            .await
            .map(|_| ())
            .map_err(|e| store_error(e, format!("cannot write {what}")))
    }

    /// Deletes an object; a missing one is not an error.
    async fn remove(&self, key: &Path, what: &str) -> Result<()> {
        match self.inner.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e, format!("cannot delete {what}"))),
        }
    }
}

/// Builds an [`ObjectSnapshotStore`] on S3 or an S3-compatible server.
///
/// ```
/// use butterfly_core::store::ObjectSnapshotStore;
/// use secrecy::SecretString;
///
/// let store = ObjectSnapshotStore::builder("backups")
///     .prefix("okta/acme-prod")
///     .endpoint("http://127.0.0.1:9000")
///     .credentials("AKIDEXAMPLE", SecretString::from("not-a-real-secret"))
///     .build()?;
/// assert_eq!(store.prefix().as_ref(), "okta/acme-prod");
/// assert!(!format!("{store:?}").contains("not-a-real-secret"));
///
/// // Plain http only to loopback.
/// let remote = ObjectSnapshotStore::builder("backups")
///     .endpoint("http://minio.example.invalid:9000")
///     .credentials("AKIDEXAMPLE", SecretString::from("not-a-real-secret"))
///     .build();
/// assert_eq!(remote.unwrap_err().kind(), butterfly_core::ErrorKind::Config);
/// # Ok::<(), butterfly_core::Error>(())
/// ```
#[derive(Clone)]
pub struct S3StoreBuilder {
    bucket: String,
    prefix: String,
    endpoint: Option<String>,
    region: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<SecretString>,
    session_token: Option<SecretString>,
    virtual_hosted_style: bool,
    max_retries: Option<usize>,
}

impl fmt::Debug for S3StoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |b: bool| if b { "[set]" } else { "[unset]" };
        f.debug_struct("S3StoreBuilder")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &set(self.access_key_id.is_some()))
            .field("secret_access_key", &set(self.secret_access_key.is_some()))
            .field("session_token", &set(self.session_token.is_some()))
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

impl S3StoreBuilder {
    /// A builder for a store at the root of `bucket`, with nothing read from the environment.
    pub fn new(bucket: impl Into<String>) -> S3StoreBuilder {
        S3StoreBuilder {
            bucket: bucket.into(),
            prefix: String::new(),
            endpoint: None,
            region: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            virtual_hosted_style: false,
            max_retries: None,
        }
    }

    /// A builder for the store at `s3://<bucket>/<prefix>` (the prefix may be empty).
    ///
    /// ```
    /// use butterfly_core::store::S3StoreBuilder;
    /// let builder = S3StoreBuilder::from_url("s3://backups/okta/acme-prod/")?;
    /// assert_eq!(builder.bucket_name(), "backups");
    /// assert_eq!(builder.prefix_str(), "okta/acme-prod");
    /// assert!(S3StoreBuilder::from_url("s3://backups/../etc").is_err());
    /// # Ok::<(), butterfly_core::Error>(())
    /// ```
    pub fn from_url(url: &str) -> Result<S3StoreBuilder> {
        let rest = url.trim().strip_prefix("s3://").ok_or_else(|| {
            Error::config(format!(
                "{:?} is not an object store URL: use s3://<bucket>/<prefix>",
                safe_url(url)
            ))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.contains('@') || bucket.contains(':') {
            return Err(Error::config(
                "the object store URL must not contain credentials or a port: set \
                 AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and the endpoint in \
                 BUTTERFLY_S3_ENDPOINT",
            ));
        }
        if prefix.contains(['?', '#']) {
            return Err(Error::config(format!(
                "the object store URL {:?} must not have a query or fragment",
                safe_url(url)
            )));
        }
        validate_bucket(bucket)?;
        let prefix = prefix.trim_matches('/');
        parse_prefix(prefix)?;
        Ok(S3StoreBuilder::new(bucket).prefix(prefix))
    }

    /// Fills what is not set yet from the process environment (see the
    /// [module docs](self)).
    #[must_use]
    pub fn from_env(self) -> S3StoreBuilder {
        self.from_env_with(|name| std::env::var(name).ok())
    }

    /// Fills what is not set yet from `env`, a lookup of environment variables by name (the
    /// process environment in [`from_env`](Self::from_env)). Empty values count as unset.
    #[must_use]
    pub fn from_env_with(mut self, env: impl Fn(&str) -> Option<String>) -> S3StoreBuilder {
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
        };
        if self.access_key_id.is_none() {
            self.access_key_id = get(&["AWS_ACCESS_KEY_ID"]);
        }
        if self.secret_access_key.is_none() {
            self.secret_access_key = get(&["AWS_SECRET_ACCESS_KEY"]).map(SecretString::from);
        }
        if self.session_token.is_none() {
            self.session_token = get(&["AWS_SESSION_TOKEN"]).map(SecretString::from);
        }
        if self.region.is_none() {
            self.region = get(&["AWS_REGION", "AWS_DEFAULT_REGION"]);
        }
        if self.endpoint.is_none() {
            self.endpoint = get(&[
                "BUTTERFLY_S3_ENDPOINT",
                "AWS_ENDPOINT_URL_S3",
                "AWS_ENDPOINT_URL",
            ]);
        }
        self
    }

    /// The bucket.
    pub fn bucket_name(&self) -> &str {
        &self.bucket
    }

    /// The prefix inside the bucket.
    pub fn prefix_str(&self) -> &str {
        &self.prefix
    }

    /// Sets the prefix inside the bucket (`okta/acme-prod`; empty for the bucket's root).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> S3StoreBuilder {
        self.prefix = prefix.into().trim_matches('/').to_string();
        self
    }

    /// Sets the endpoint of an S3-compatible server (`https://minio.internal:9000`; plain
    /// `http` only to loopback). Without one, AWS's endpoint for the region is used.
    #[must_use]
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> S3StoreBuilder {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the region (default [`DEFAULT_REGION`]).
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> S3StoreBuilder {
        self.region = Some(region.into());
        self
    }

    /// Sets the access key id and the secret access key.
    #[must_use]
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: SecretString,
    ) -> S3StoreBuilder {
        self.access_key_id = Some(access_key_id.into());
        self.secret_access_key = Some(secret_access_key);
        self
    }

    /// Sets the session token of temporary credentials.
    #[must_use]
    pub fn session_token(mut self, token: SecretString) -> S3StoreBuilder {
        self.session_token = Some(token);
        self
    }

    /// Addresses the bucket as `https://<bucket>.<endpoint>` instead of
    /// `https://<endpoint>/<bucket>` (default: path style, which S3-compatible servers expect).
    #[must_use]
    pub fn virtual_hosted_style(mut self, on: bool) -> S3StoreBuilder {
        self.virtual_hosted_style = on;
        self
    }

    /// How many times a failed request (5xx, timeout, connection error) is retried, with
    /// backoff (default: `object_store`'s, 10 within 3 minutes).
    #[must_use]
    pub fn max_retries(mut self, retries: usize) -> S3StoreBuilder {
        self.max_retries = Some(retries);
        self
    }

    /// Builds the store. Nothing is contacted yet.
    pub fn build(self) -> Result<ObjectSnapshotStore> {
        validate_bucket(&self.bucket)?;
        let root = parse_prefix(&self.prefix)?;
        let (Some(key_id), Some(secret)) = (&self.access_key_id, &self.secret_access_key) else {
            return Err(Error::config(format!(
                "no credentials for s3://{}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                self.bucket
            )));
        };
        let region = self.region.as_deref().unwrap_or(DEFAULT_REGION);
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&self.bucket)
            .with_region(region)
            .with_access_key_id(key_id)
            .with_secret_access_key(secret.expose_secret())
            .with_virtual_hosted_style_request(self.virtual_hosted_style);
        if let Some(token) = &self.session_token {
            builder = builder.with_token(token.expose_secret());
        }
        let mut at = String::new();
        if let Some(endpoint) = &self.endpoint {
            let url = crate::http::validate_base_url(endpoint)
                .map_err(|e| e.context("checking the object store endpoint"))?;
            let endpoint = url.as_str().trim_end_matches('/').to_string();
            builder = builder
                .with_allow_http(url.scheme() == "http")
                .with_endpoint(&endpoint);
            at = format!(" at {endpoint}");
        }
        if let Some(retries) = self.max_retries {
            builder = builder.with_retry(RetryConfig {
                max_retries: retries,
                ..RetryConfig::default()
            });
        }
        let s3 = builder.build().map_err(|e| {
            Error::config(format!("cannot set up the client for s3://{}", self.bucket))
                .with_source(e)
        })?;
        let location = if root.as_ref().is_empty() {
            format!("s3://{}{at}", self.bucket)
        } else {
            format!("s3://{}/{root}{at}", self.bucket)
        };
        Ok(ObjectSnapshotStore {
            inner: Arc::new(s3),
            root,
            location,
        })
    }
}

/// A URL for an error message: the part before any `@` is dropped, in case it holds
/// credentials.
fn safe_url(url: &str) -> String {
    match url.rsplit_once('@') {
        Some((_, rest)) => format!("[redacted]@{rest}"),
        None => url.to_string(),
    }
}

/// S3's bucket naming rules: 3 to 63 lowercase letters, digits, dots and hyphens, starting
/// and ending with a letter or digit.
fn validate_bucket(bucket: &str) -> Result<()> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!(
            "{bucket:?} is not a bucket name: 3 to 63 lowercase letters, digits, '.' and '-'"
        )))
    }
}

/// A store prefix: `/`-separated segments with a record name's rules (ASCII letters, digits,
/// `.`, `_`, `-`, none starting with a dot), or empty for the bucket's root.
fn parse_prefix(prefix: &str) -> Result<Path> {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        return Ok(Path::default());
    }
    prefix.parse::<RecordName>().map_err(|_| {
        Error::config(format!(
            "{prefix:?} is not a store prefix: '/'-separated segments of ASCII letters, digits, \
             '.', '_' and '-', none starting with a dot"
        ))
    })?;
    Ok(prefix
        .split('/')
        .fold(Path::default(), |p, seg| p.join(seg)))
}

/// Maps an `object_store` error to butterfly's kinds; `message` says what failed.
///
/// `object_store` types some HTTP answers (404, 409, 412, 401/403 of single-object requests)
/// and reports the rest, listings included, as generic errors whose text carries the status
/// and S3's error code, which is what is left to read here.
fn store_error(err: object_store::Error, message: String) -> Error {
    use object_store::Error as E;
    let text = err.to_string();
    let status = |code: u16| text.contains(&format!("status code: {code}"));
    let refused = matches!(err, E::PermissionDenied { .. } | E::Unauthenticated { .. })
        || status(401)
        || status(403);
    let mapped = match &err {
        _ if text.contains("NoSuchBucket") => Error::config(format!(
            "{message}: the bucket does not exist (buckets are not created by butterfly)"
        )),
        E::NotFound { .. } => Error::not_found(message),
        E::AlreadyExists { .. } | E::Precondition { .. } => {
            Error::new(ErrorKind::Conflict, message)
        }
        _ if refused && text.contains("AccessDenied") => Error::new(
            ErrorKind::Denied,
            format!("{message}: the object store denied access (check the bucket's policy)"),
        ),
        _ if refused => Error::new(
            ErrorKind::Auth,
            format!(
                "{message}: the object store refused the credentials (check AWS_ACCESS_KEY_ID \
                 and AWS_SECRET_ACCESS_KEY)"
            ),
        ),
        E::InvalidPath { .. }
        | E::UnknownConfigurationKey { .. }
        | E::NotSupported { .. }
        | E::NotImplemented { .. } => Error::config(message),
        // Everything else reached us after object_store's own retries.
        _ => Error::new(ErrorKind::Transient, message).set_persistent(),
    };
    mapped.with_source(err)
}

#[async_trait]
impl SnapshotStore for ObjectSnapshotStore {
    fn describe(&self) -> String {
        format!("object store at {}", self.location)
    }

    async fn has_blob(&self, id: &BlobId) -> Result<bool> {
        if self
            .head(&self.blob_key(id), &format!("blob {id}"))
            .await?
            .is_none()
        {
            return Ok(false);
        }
        // A backup is about to reuse the blob: the marker makes it young again for garbage
        // collection (S3 cannot touch an object), at the cost of a tiny PUT, not an upload.
        self.write(
            &self.reuse_key(id),
            &[],
            &format!("the reuse marker of blob {id}"),
        )
        .await?;
        Ok(true)
    }

    async fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        id.verify(bytes)?;
        let key = self.blob_key(id);
        let create = self
            .inner
            .put_opts(
                &key,
                PutPayload::from(bytes.to_vec()),
                PutMode::Create.into(),
            )
            .await;
        match create {
            Ok(_) => Ok(()),
            // Stored already (by us earlier, or by another worker right now): a no-op, unless
            // the refusal was S3's 409 for a conditional write still in flight, after which
            // the blob may not exist yet.
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) if self.head(&key, &format!("blob {id}")).await?.is_some() => Ok(()),
            // Identical bytes under a content address: overwriting is harmless, and a server
            // without conditional writes gets blobs this way.
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. }
                | object_store::Error::NotImplemented { .. },
            ) => self.write(&key, bytes, &format!("blob {id}")).await,
            Err(e) => Err(store_error(e, format!("cannot write blob {id}"))),
        }
    }

    async fn replace_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<()> {
        id.verify(bytes)?;
        // One PUT replaces the damaged object whole: readers see the old bytes or the new.
        self.write(&self.blob_key(id), bytes, &format!("blob {id}"))
            .await
    }

    async fn read_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        self.read(&self.blob_key(id), &format!("blob {id}"))
            .await?
            .ok_or_else(|| Error::not_found(format!("blob {id} is not in the store")))
    }

    async fn list_blobs(&self) -> Result<Vec<BlobId>> {
        let mut out: Vec<BlobId> = self
            .list_below(&self.root.clone().join("blobs"))
            .await?
            .into_iter()
            .filter_map(|(parts, _)| match parts.as_slice() {
                [fan, rest] => format!("{fan}{rest}").parse().ok(),
                _ => None,
            })
            .collect();
        out.sort();
        Ok(out)
    }

    async fn delete_blob(&self, id: &BlobId, min_age: Duration) -> Result<u64> {
        let what = format!("blob {id}");
        let Some(meta) = self.head(&self.blob_key(id), &what).await? else {
            return Ok(0);
        };
        if !min_age.is_zero() {
            let mut last = meta.last_modified;
            let marker = format!("the reuse marker of blob {id}");
            if let Some(reused) = self.head(&self.reuse_key(id), &marker).await? {
                last = last.max(reused.last_modified);
            }
            let age = (Utc::now() - last).to_std().unwrap_or_default();
            if age < min_age {
                return Ok(0);
            }
        }
        self.remove(&self.blob_key(id), &what).await?;
        self.remove(
            &self.reuse_key(id),
            &format!("the reuse marker of blob {id}"),
        )
        .await?;
        Ok(meta.size)
    }

    async fn put_manifest(&self, manifest: &Manifest) -> Result<()> {
        let id = &manifest.meta.id;
        let bytes = manifest.to_bytes()?;
        let created = self
            .inner
            .put_opts(
                &self.manifest_key(id),
                PutPayload::from(bytes),
                PutMode::Create.into(),
            )
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Err(Error::new(
                ErrorKind::Conflict,
                format!("snapshot {id} already exists"),
            )),
            Err(e @ object_store::Error::NotImplemented { .. }) => Err(Error::config(format!(
                "cannot publish snapshot {id}: the object store offers no conditional writes \
                 (If-None-Match), which publishing a snapshot exactly once needs"
            ))
            .with_source(e)),
            Err(e) => Err(store_error(e, format!("cannot publish snapshot {id}"))),
        }
    }

    async fn get_manifest(&self, id: &SnapshotId) -> Result<Manifest> {
        let bytes = self
            .read(&self.manifest_key(id), &format!("snapshot {id}"))
            .await?
            .ok_or_else(|| Error::not_found(format!("snapshot {id} does not exist")))?;
        let manifest = Manifest::from_bytes(&bytes)
            .map_err(|e| e.context(format!("reading snapshot {id}")))?;
        if manifest.meta.id != *id {
            return Err(Error::integrity(format!(
                "the manifest object of snapshot {id} names snapshot {}",
                manifest.meta.id
            )));
        }
        Ok(manifest)
    }

    async fn list_snapshot_ids(&self) -> Result<Vec<SnapshotId>> {
        let mut out: Vec<SnapshotId> = self
            .list_below(&self.root.clone().join("snapshots"))
            .await?
            .into_iter()
            .filter_map(|(parts, _)| match parts.as_slice() {
                [file] => file.strip_suffix(".json")?.parse().ok(),
                _ => None,
            })
            .collect();
        out.sort();
        Ok(out)
    }

    async fn delete_manifest(&self, id: &SnapshotId) -> Result<()> {
        let key = self.manifest_key(id);
        let what = format!("snapshot {id}");
        // S3 deletes a missing key without complaint; the contract wants NotFound.
        if self.head(&key, &what).await?.is_none() {
            return Err(Error::not_found(format!("snapshot {id} does not exist")));
        }
        self.remove(&key, &what).await
    }

    async fn put_record(&self, name: &RecordName, bytes: &[u8]) -> Result<()> {
        self.write(&self.record_key(name), bytes, &format!("record {name}"))
            .await
    }

    async fn get_record(&self, name: &RecordName) -> Result<Option<Vec<u8>>> {
        self.read(&self.record_key(name), &format!("record {name}"))
            .await
    }

    async fn list_records(&self, prefix: &str) -> Result<Vec<RecordName>> {
        // List only the "directory" the prefix reaches into, so listing one area of records
        // does not page through the others.
        let dir_part = prefix.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut dir = self.root.clone().join("records");
        if !dir_part.is_empty() {
            let Ok(name) = dir_part.parse::<RecordName>() else {
                return Ok(Vec::new()); // no record name starts with it
            };
            dir = name.segments().fold(dir, |path, seg| path.join(seg));
        }
        let mut out: Vec<RecordName> = self
            .list_below(&dir)
            .await?
            .into_iter()
            .filter_map(|(parts, _)| {
                let below = parts.join("/");
                let full = if dir_part.is_empty() {
                    below
                } else {
                    format!("{dir_part}/{below}")
                };
                full.starts_with(prefix).then(|| full.parse().ok())?
            })
            .collect();
        out.sort();
        Ok(out)
    }

    async fn delete_record(&self, name: &RecordName) -> Result<bool> {
        let key = self.record_key(name);
        let what = format!("record {name}");
        if self.head(&key, &what).await?.is_none() {
            return Ok(false);
        }
        self.remove(&key, &what).await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreExt;
    use object_store::memory::InMemory;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn urls_and_prefixes_are_checked() {
        for bad in [
            "s3://",
            "s3://Bad_Bucket/x",
            "s3://ab/x",
            "s3://bucket/../x",
            "s3://bucket/a//b",
            "s3://bucket/.hidden",
            "s3://bucket/x?versionId=1",
            "file:///tmp/x",
        ] {
            let err = S3StoreBuilder::from_url(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
        }
        let err = S3StoreBuilder::from_url("s3://AKID:hunter2@bucket/x").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let ok = S3StoreBuilder::from_url("s3://my.bucket-1").unwrap();
        assert_eq!((ok.bucket_name(), ok.prefix_str()), ("my.bucket-1", ""));
    }

    #[test]
    fn settings_come_from_the_environment_and_stay_secret() {
        let vars = env(&[
            ("AWS_ACCESS_KEY_ID", "AKIDSENTINEL"),
            ("AWS_SECRET_ACCESS_KEY", "secret-sentinel-1"),
            ("AWS_SESSION_TOKEN", "token-sentinel-2"),
            ("AWS_DEFAULT_REGION", "eu-west-3"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("BUTTERFLY_S3_ENDPOINT", "http://localhost:19000/"),
        ]);
        let builder = S3StoreBuilder::from_url("s3://backups/okta/acme")
            .unwrap()
            .from_env_with(vars);
        assert_eq!(builder.region.as_deref(), Some("eu-west-3"));
        assert_eq!(
            builder.endpoint.as_deref(),
            Some("http://localhost:19000/"),
            "BUTTERFLY_S3_ENDPOINT wins"
        );
        let debug = format!("{builder:?}");
        let store = builder.build().unwrap();
        let shown = format!("{debug} {store:?} {}", store.describe());
        for secret in ["secret-sentinel-1", "token-sentinel-2", "AKIDSENTINEL"] {
            assert!(!shown.contains(secret), "{secret} shown: {shown}");
        }
        assert_eq!(
            store.describe(),
            "object store at s3://backups/okta/acme at http://localhost:19000"
        );
        // Explicit settings are kept; a missing secret is a Config error naming the variable.
        let err = S3StoreBuilder::new("backups")
            .from_env_with(env(&[("AWS_ACCESS_KEY_ID", "AKID")]))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("AWS_SECRET_ACCESS_KEY"), "{err}");
        let err = S3StoreBuilder::new("backups")
            .from_env_with(env(&[
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
                ("BUTTERFLY_S3_ENDPOINT", "http://s3.example.invalid"),
            ]))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "plain http off loopback");
    }

    #[test]
    fn keys_follow_the_layout() {
        let store = ObjectSnapshotStore::new(Arc::new(InMemory::new()), "p/q").unwrap();
        let blob = BlobId::of(b"x");
        let hex = blob.as_str();
        assert_eq!(
            store.blob_key(&blob).as_ref(),
            format!("p/q/blobs/{}/{}", &hex[..2], &hex[2..])
        );
        let id: SnapshotId = "20260101T000000Z-okta-00000000".parse().unwrap();
        assert_eq!(
            store.manifest_key(&id).as_ref(),
            "p/q/snapshots/20260101T000000Z-okta-00000000.json"
        );
        let name: RecordName = "holds/a".parse().unwrap();
        assert_eq!(store.record_key(&name).as_ref(), "p/q/records/holds/a");
    }

    /// `object_store`'s in-memory backend offers `PutMode::Create`, so the whole store runs on
    /// it too; the real-server tests live in butterfly-testkit.
    #[tokio::test]
    async fn round_trip_on_the_in_memory_backend() {
        let store = ObjectSnapshotStore::new(Arc::new(InMemory::new()), "t").unwrap();
        let blob = BlobId::of(b"hello");
        assert!(!store.has_blob(&blob).await.unwrap());
        store.put_blob(&blob, b"hello").await.unwrap();
        store.put_blob(&blob, b"hello").await.unwrap();
        assert!(store.has_blob(&blob).await.unwrap());
        assert_eq!(store.get_blob(&blob).await.unwrap(), b"hello");
        assert_eq!(store.list_blobs().await.unwrap(), vec![blob.clone()]);
        assert_eq!(
            store
                .delete_blob(&blob, Duration::from_secs(3600))
                .await
                .unwrap(),
            0,
            "young"
        );
        assert_eq!(store.delete_blob(&blob, Duration::ZERO).await.unwrap(), 5);
        assert!(store.list_blobs().await.unwrap().is_empty());
        assert!(
            store.verify_all().await.unwrap().is_clean(),
            "an empty store is clean"
        );
        store.check_conditional_writes().await.unwrap();
        assert!(
            store
                .object_store()
                .list(None)
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .is_empty(),
            "the probe is gone"
        );
    }
}
