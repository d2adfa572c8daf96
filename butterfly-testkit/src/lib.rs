//! # butterfly-testkit
//!
//! Test support for butterfly: store conformance suite, fake tenants and generators.
#![forbid(unsafe_code)]
