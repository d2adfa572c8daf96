//! # butterfly-okta
//!
//! Okta Management API provider for butterfly.
//!
//! **Status: not built yet.** It will hold the Okta client (OAuth 2.0 `private_key_jwt` or SSWS
//! token), the kinds table and restore through the core engine.
#![forbid(unsafe_code)]
