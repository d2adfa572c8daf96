//! # butterfly-workflows
//!
//! Okta Workflows provider for butterfly.
//!
//! **Status: not built yet.** This crate is a placeholder in the workspace so the crate map
//! is complete; it exports nothing. It will hold the Workflows client and its kinds table (flows, tables and connections exported as flopacks) with restore through the core engine.
#![forbid(unsafe_code)]
