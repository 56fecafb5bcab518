//! The simulator: the whole hive in virtual time. The same pump that runs on metal runs
//! here as the Queen, on a HAL over turmoil, with sites of worker agents, operators running
//! cohsh scripts, a fault plan, invariant checkers and a reviewable transcript.

pub mod attacker;
pub mod checks;
pub mod console_client;
pub mod faults;
pub mod hal;
pub mod operator;
pub mod provision;
pub mod queen;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod site;
pub mod swarm;
pub mod transcript;
pub mod world;

pub use runner::{run, Outcome, RunOptions, Summary};
pub use scenario::Scenario;
