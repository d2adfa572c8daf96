//! The embedded default store on the local filesystem (being written).

/// Filesystem store (being written).
#[derive(Debug)]
pub struct FsStore;
