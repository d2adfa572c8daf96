//! Terraform export (work in progress).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
