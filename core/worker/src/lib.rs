//! Sans-IO worker agents: the client state machines that attach to a hive with a ticket and
//! append telemetry, driven by whoever owns the transport (a simulator site, a host tool, a
//! task on metal). They never touch a socket or a clock: the caller hands them bytes and the
//! current time and carries the bytes they want sent.
//!
//! A [`HeartbeatAgent`] walks the Secure9P attach sequence (version, auth, ticket text on the
//! auth fid, attach, walk and open of its own telemetry file), then appends one heartbeat
//! line per period. Failure is answered by giving up authority, never by silent retries:
//! a revoked session (`EBADF`) or a policy refusal stops the agent for good, and a Queen that
//! does not answer within the heartbeat deadline cuts it off (`reachable=no`,
//! `network_unreachable`) until a fresh attach succeeds.
//!
//! ```
//! use cohesix_worker::{AgentConfig, AgentState, HeartbeatAgent};
//!
//! let config = AgentConfig::heartbeat("w0001", "cohesix-ticket-00.00");
//! let mut agent = HeartbeatAgent::new(config, 0);
//! assert!(agent.wants_connect(0));
//! agent.on_connected(0); // the transport is up: Tversion is queued
//! let mut wire = Vec::new();
//! agent.poll_transmit(&mut wire);
//! assert!(!wire.is_empty());
//! assert_eq!(agent.state(), AgentState::Attaching);
//! ```
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod backoff;
mod config;
mod heartbeat;
mod state;

pub use backoff::ReconnectBackoff;
pub use config::{telemetry_path_of, AgentConfig, HEARTBEAT_ROLE};
pub use heartbeat::HeartbeatAgent;
pub use hive::CutReason;
pub use state::{AgentEvent, AgentEventKind, AgentState, AgentStats, RootStatus};
