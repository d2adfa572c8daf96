//! # butterfly-entra
//!
//! Microsoft Entra ID (Microsoft Graph v1.0) provider for butterfly.
//!
//! **Status: not built yet.** This crate is a placeholder in the workspace so the crate map
//! is complete; it exports nothing. It will hold the Graph client (client secret or certificate credentials, national clouds), the kinds table (users, groups, applications, service principals, conditional access policies, named locations, role assignments, administrative units and the tenant-wide policies), `$batch` and `/delta` support for incremental backups, and restore through the core engine.
#![forbid(unsafe_code)]
