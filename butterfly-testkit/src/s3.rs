//! An S3-compatible server for tests and benches: s3s-fs served over HTTP on 127.0.0.1 with
//! SigV4 authentication, its bucket in a temporary directory, stopped on drop.
//!
//! s3s-fs checks `If-None-Match: *` and then renames its file into place, two steps another
//! request can fall between; S3 (and MinIO, R2) decide a conditional write atomically. The
//! server here makes the check and the write one step per key ([`AtomicCreate`]) so that
//! concurrency tests measure the store, not a race of the test server. Accepted sockets set
//! `TCP_NODELAY` (without it, small answers wait out the client's delayed ACK).
//!
//! ```no_run
//! # async fn demo() {
//! use butterfly_core::store::StoreExt;
//! let server = butterfly_testkit::s3::S3Server::start().await.unwrap();
//! let store = server.fresh(); // an ObjectSnapshotStore under a prefix of its own
//! assert!(store.list(None).await.unwrap().is_empty());
//! # }
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use butterfly_core::store::ObjectSnapshotStore;
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};
use secrecy::SecretString;

/// The bucket every server has.
pub const BUCKET: &str = "butterfly-test";
/// The access key id the server accepts.
pub const ACCESS_KEY: &str = "AKIDBUTTERFLYTEST";
/// The secret access key the server accepts (a sentinel: tests check it never leaks).
pub const SECRET_KEY: &str = "secret-sentinel-7f3a9c";

/// s3s-fs with S3's atomic conditional create: a `PUT` with `If-None-Match` holds a lock of its
/// key while s3s-fs checks and writes; every other request goes straight through.
pub struct AtomicCreate {
    fs: s3s_fs::FileSystem,
    creating: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

#[async_trait]
impl S3 for AtomicCreate {
    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        if req.input.if_none_match.is_none() {
            return self.fs.put_object(req).await;
        }
        let key = format!("{}/{}", req.input.bucket, req.input.key);
        let lock = self
            .creating
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default()
            .clone();
        let _held = lock.lock().await;
        self.fs.put_object(req).await
    }
    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.fs.get_object(req).await
    }
    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.fs.head_object(req).await
    }
    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }
    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.fs.delete_object(req).await
    }
    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        self.fs.delete_objects(req).await
    }
    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.fs.list_objects_v2(req).await
    }
    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        self.fs.copy_object(req).await
    }
}

/// An S3-compatible server on 127.0.0.1, its data in a temporary directory; stopped on drop.
pub struct S3Server {
    endpoint: String,
    dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
    prefixes: AtomicUsize,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl S3Server {
    /// Starts a server on an ephemeral port of 127.0.0.1.
    pub async fn start() -> std::io::Result<S3Server> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join(BUCKET))?;
        let fs = s3s_fs::FileSystem::new(dir.path())
            .map_err(|e| std::io::Error::other(format!("s3s-fs: {e:?}")))?;
        let mut builder = s3s::service::S3ServiceBuilder::new(AtomicCreate {
            fs,
            creating: Mutex::default(),
        });
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                // Without it, small answers wait out the client's delayed ACK (Nagle).
                let _ = socket.set_nodelay(true);
                let service = service.clone();
                tokio::spawn(async move {
                    let http = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    );
                    let _ = http
                        .serve_connection(hyper_util::rt::TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        Ok(S3Server {
            endpoint,
            dir,
            task,
            prefixes: AtomicUsize::new(0),
        })
    }

    /// A store under `prefix` of the test bucket, with its own client.
    pub fn store_at(&self, prefix: &str) -> ObjectSnapshotStore {
        ObjectSnapshotStore::builder(BUCKET)
            .prefix(prefix)
            .endpoint(&self.endpoint)
            .credentials(ACCESS_KEY, SecretString::from(SECRET_KEY))
            .build()
            .expect("a store on the test server")
    }

    /// A store under a prefix of its own.
    pub fn fresh(&self) -> ObjectSnapshotStore {
        let n = self.prefixes.fetch_add(1, Ordering::SeqCst);
        self.store_at(&format!("tenants/t{n}"))
    }

    /// The file s3s-fs keeps an object in.
    pub fn file_of(&self, key: impl AsRef<str>) -> PathBuf {
        self.dir.path().join(BUCKET).join(key.as_ref())
    }

    /// The server's endpoint (`http://127.0.0.1:<port>`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The directory s3s-fs keeps the buckets in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The environment a process needs to reach `s3://<BUCKET>/<prefix>` on this server
    /// (`ObjectSnapshotStore::from_url`, the CLI's `--store s3://…`).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), SECRET_KEY.into()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("BUTTERFLY_S3_ENDPOINT".into(), self.endpoint.clone()),
        ]
    }
}
