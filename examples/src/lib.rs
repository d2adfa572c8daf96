//! Shared helpers for the butterfly example binaries.
#![forbid(unsafe_code)]
