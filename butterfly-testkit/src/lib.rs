//! # butterfly-testkit
//!
//! Test support for butterfly, shared by every provider:
//!
//! - [`fake`]: the fake-tenant framework: an axum server on `127.0.0.1:0`, rate-limit
//!   emulation with the provider's headers and a time scale, deterministic fault injection
//!   (5xx, 429 storms with and without headers, resets, truncated bodies, slow answers), a
//!   write log and a catch-all that records unknown requests.
//! - [`okta`]: a fake Okta org generated from a seed, built from the official OpenAPI spec
//!   and recorded cassettes, with secret sentinels planted in every secret field.
//! - [`auth0`]: a fake Auth0 tenant (Management API v2) generated from a seed: the token
//!   endpoint, scope checks, page and checkpoint paging with the 1,000-user cap, the
//!   users-export job, a token-bucket rate limit and secret sentinels.
//! - [`entra`]: a fake Microsoft Entra ID tenant (Graph v1.0) generated from a seed: the
//!   token endpoint (secret or certificate assertion), per-route permissions, skiptoken paging,
//!   `$select`/`$filter`, users and groups delta, `$batch`, resource-unit throttling, writes
//!   with Graph's cascades and secret sentinels.
//! - [`behaviour`]: the behaviour suite every provider runs against its fake tenant.
//! - [`store_suite`]: the conformance suite every snapshot store runs.
//! - [`synthetic`]: synthetic snapshots for store, diff and benchmark tests.
//!
//! The `fake-tenant` binary serves a generated org until stopped
//! (`cargo run -p butterfly-testkit --bin fake-tenant -- okta --users 10000`; `auth0` for a
//! fake Auth0 tenant).
//!
//! ```
//! use butterfly_testkit::okta::{FakeOkta, OktaOptions, OktaOrgSpec};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let fake = FakeOkta::start(OktaOrgSpec { users: 50, seed: 1, governance: false }, OktaOptions::default())
//!     .await
//!     .unwrap();
//! assert!(fake.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(fake.items("/api/v1/users").len(), 50);
//! assert!(!fake.sentinels().is_empty());
//! assert_eq!(fake.write_count(), 0);
//! # });
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth0;
pub mod behaviour;
pub mod entra;
pub mod fake;
pub mod fixtures;
pub mod okta;
pub mod store_suite;
pub mod synthetic;
