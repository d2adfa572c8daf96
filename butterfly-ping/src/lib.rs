//! # butterfly-ping
//!
//! PingOne provider for butterfly.
//!
//! **Status: not built yet.** This crate is a placeholder in the workspace so the crate map
//! is complete; it exports nothing. It will hold the PingOne Platform API client and its kinds table (populations, users, groups, applications, sign-on policies, identity providers, branding) with restore through the core engine.
#![forbid(unsafe_code)]
