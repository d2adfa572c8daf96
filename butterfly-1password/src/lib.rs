//! # butterfly-1password
//!
//! 1Password Connect provider for butterfly.
//!
//! **Status: not built yet.** This crate is a placeholder in the workspace so the crate map
//! is complete; it exports nothing. It will hold the Connect API client and its kinds table (vaults and item metadata; item secret fields are always replaced by placeholders).
#![forbid(unsafe_code)]
