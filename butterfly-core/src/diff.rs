//! Diff between two snapshots (being written).

/// A severity rule a provider adds to the defaults (being written).
#[derive(Debug, Clone)]
pub struct SeverityRule;
