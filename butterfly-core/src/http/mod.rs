//! The shared HTTP stack (being written).
