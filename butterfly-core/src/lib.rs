//! # butterfly-core
//!
//! The provider-agnostic heart of butterfly: the traits every provider crate implements
//! ([`Provider`], [`ResourceKind`], [`Restorer`]) and every store implements
//! ([`SnapshotStore`]), the canonical snapshot format, and the shared engines.
//!
//! | module | what it does |
//! |---|---|
//! | [`kind`] | resource kinds as table rows: natural keys, dependencies, secret, volatile and reference fields |
//! | [`table`] | how a kind is listed, as columns (path template, items, paging, id field, scope, per-parent reads), and the one engine that fetches and probes every provider's table |
//! | [`registry`] | provider descriptors: name, settings, kinds, severity rules, build from env or TOML |
//! | [`snapshot`] | canonical JSON (RFC 8785), SHA-256 per resource, content-defined chunks addressed by blake3 |
//! | [`backup`] | the orchestrator: bounded concurrent kinds, parents before children, redaction, progress events |
//! | [`journal`] | the run journal (every backup run, failed ones included) and notifiers (a webhook) |
//! | [`diff`] | field-level changes between snapshots with severity rules |
//! | [`restore`] | the restore contract, the dry-run plan, its execution with a ledger, id remapping and verification |
//! | [`retention`] | retention policies, compliance holds, pruning as a plan then its execution |
//! | [`schedule`] | schedules in IANA time zones (DST-correct next runs), the failure count and the 24-hour pause |
//! | [`store`] | the filesystem store (the embedded default), an in-memory store, the encrypting wrapper (AES-256-GCM, key rotation) and, with the `object-store` feature, S3-compatible object storage; records for holds, policies, schedule states and the journal |
//! | [`http`] | the HTTP stack shared by providers: auth, rate limits, retries, pagination |
//! | [`redact`] | secret placeholders |
//!
//! ## Example
//!
//! Snapshots are plain data: build one, store it, load it back verified.
//!
//! ```
//! use butterfly_core::kind::{Category, KindSpec, SecretField};
//! use butterfly_core::snapshot::{KindOutcome, Snapshot, SnapshotId, SnapshotMeta};
//! use butterfly_core::store::{MemoryStore, StoreExt};
//! use butterfly_core::Resource;
//! use serde_json::json;
//!
//! const GROUP: KindSpec = KindSpec {
//!     natural_key: &["/profile/name"],
//!     ..KindSpec::new("demo.group", "Groups", Category::Directory)
//! };
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let now = chrono::Utc::now();
//! let mut snapshot = Snapshot::new(SnapshotMeta {
//!     id: SnapshotId::generate("demo", now),
//!     provider: "demo".into(),
//!     tenant: "acme.example".into(),
//!     started_at: now,
//!     finished_at: now,
//! });
//! let admins = Resource::new(&GROUP, "00g1", None, json!({"profile": {"name": "Admins"}}));
//! snapshot.insert_kind("demo.group", KindOutcome::Complete, vec![admins]);
//!
//! let store = MemoryStore::new();
//! let saved = store.save(&snapshot).await?;
//! let loaded = store.load(&saved.id).await?; // every hash is checked on the way back
//! assert_eq!(loaded.get("demo.group", "00g1").unwrap().label(), "Admins");
//! # Ok::<(), butterfly_core::Error>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backup;
pub mod diff;
pub mod error;
pub mod http;
pub mod journal;
pub mod json;
pub mod kind;
pub mod pointer;
pub mod provider;
pub mod redact;
pub mod registry;
mod report;
pub mod resource;
pub mod restore;
pub mod retention;
pub mod schedule;
pub mod snapshot;
pub mod store;
pub mod table;

pub use error::{Error, ErrorKind, ErrorStatus, Result};
pub use kind::{Category, KindRef, KindSpec, ResourceKind, RestoreSupport};
pub use provider::{Access, AccessReport, Capabilities, FetchContext, Provider};
pub use resource::{Reference, Resource};
pub use restore::Restorer;
pub use snapshot::{KindOutcome, Manifest, Snapshot, SnapshotId, SnapshotStatus};
pub use store::{SnapshotStore, StoreExt};
