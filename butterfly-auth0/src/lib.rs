//! # butterfly-auth0
//!
//! Auth0 Management API v2 provider for butterfly.
//!
//! **Status: not built yet.** This crate is a placeholder in the workspace so the crate map
//! is complete; it exports nothing. It will hold the Management API client (client credentials or private-key JWT), the kinds table (tenant settings, clients, grants, resource servers, connections, roles, users through the users-exports job beyond 1,000, organizations, actions and the rest), and restore through the core engine.
#![forbid(unsafe_code)]
