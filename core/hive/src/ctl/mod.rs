//! `/queen/ctl`: `grammar` turns one JSON line into a [`Command`] without touching the hive;
//! `execute` applies a parsed command to the hive's authority state.

mod execute;
mod grammar;

pub(crate) use execute::IdempotencyCache;
pub use execute::WORKER_COMMANDS_BYTES;
pub use grammar::*;
