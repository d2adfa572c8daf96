//! Benchmark support for butterfly (see `benches/README.md`).
#![forbid(unsafe_code)]
