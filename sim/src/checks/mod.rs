//! Checkpoints with namespace digests, and the invariant checkers.

pub mod checkpoint;
pub mod invariants;
pub mod store;

pub use invariants::{Invariants, Violation};
