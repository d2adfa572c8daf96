//! # butterfly-core
//!
//! The provider-agnostic heart of butterfly (in progress).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backup;
pub mod diff;
pub mod error;
pub mod http;
pub mod kind;
pub mod pointer;
pub mod provider;
pub mod redact;
pub mod resource;
pub mod restore;
pub mod snapshot;
pub mod store;

pub use error::{Error, ErrorKind, Result};
pub use kind::{Category, KindRef, KindSpec, ResourceKind, RestoreSupport};
pub use provider::{Access, AccessReport, Capabilities, FetchContext, Provider};
pub use resource::{Reference, Resource};
pub use restore::Restorer;
pub use snapshot::{KindOutcome, Manifest, Snapshot, SnapshotId, SnapshotStatus};
pub use store::{SnapshotStore, StoreExt};
