//! # butterfly-testkit
//!
//! Test support for butterfly: the shared provider behaviour suite, the store conformance
//! suite, fake tenants and org generators.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod behaviour;
pub mod fake;
pub mod okta;
pub mod store_suite;
pub mod synthetic;
