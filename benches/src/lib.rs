//! Benchmarks for butterfly; see `benches/README.md` for the commands and the figures.
//!
//! - `benches/snapshot.rs` (criterion): snapshot encode + hash and diff at 100,000 resources.
//! - `benches/okta_backup.rs`: a full Okta backup against a rate-limited fake org, reporting
//!   wall time divided by the rate-limit bound.
//!
//! The data comes from [`butterfly_testkit::synthetic`] and the fake orgs:
//!
//! ```
//! let snapshot = butterfly_testkit::synthetic::snapshot(1_000, 7);
//! assert_eq!(snapshot.resource_count(), 1_000);
//! ```
#![forbid(unsafe_code)]
