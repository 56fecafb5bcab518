//! What an agent is told at start: who it is, the ticket that is its authority, where it
//! reports, and how often.

use alloc::format;
use alloc::string::String;
use secure9p::Limits;

/// The role a heartbeat worker attaches as (`aname` in `Tattach`).
pub const HEARTBEAT_ROLE: &str = "worker-heartbeat";

/// `/shard/<s>/worker/<id>/telemetry`, where `<s>` is the worker's shard label.
pub fn telemetry_path_of(worker_id: &str) -> String {
    let shard = hive::ShardLabel::of(worker_id);
    format!("/shard/{}/worker/{worker_id}/telemetry", shard.as_str())
}

/// Configuration of one agent. `heartbeat_ms` must be shorter than `deadline_ms`, or the
/// agent would count its own quiet periods as a lost Queen; `HeartbeatAgent::new` clamps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// The worker id the Queen assigned (`uname` in `Tauth`/`Tattach`).
    pub worker_id: String,
    /// The ticket text (`cohesix-ticket-...`), written to the auth fid.
    pub ticket: String,
    /// The role to attach as.
    pub role: String,
    /// The telemetry file heartbeats are appended to.
    pub telemetry_path: String,
    /// Time between heartbeats.
    pub heartbeat_ms: u64,
    /// Silence from the Queen after which the agent is cut off (manifest
    /// `heartbeat_deadline_ms`); also the longest a request may wait for its reply.
    pub deadline_ms: u64,
    /// First reconnect delay after a cut; doubles per failed attempt.
    pub reconnect_base_ms: u64,
    /// Longest reconnect delay.
    pub reconnect_cap_ms: u64,
    /// Seed of the reconnect jitter, so agents cut together do not return in lockstep.
    pub jitter_seed: u64,
    /// Secure9P limits offered in `Tversion` (the server may lower the msize).
    pub limits: Limits,
}

impl AgentConfig {
    /// A heartbeat worker with the reference cadence: a beat every 5 s, a 15 s deadline,
    /// reconnects from 1 s up to 30 s.
    pub fn heartbeat(worker_id: &str, ticket: &str) -> Self {
        Self {
            worker_id: String::from(worker_id),
            ticket: String::from(ticket),
            role: String::from(HEARTBEAT_ROLE),
            telemetry_path: telemetry_path_of(worker_id),
            heartbeat_ms: 5_000,
            deadline_ms: 15_000,
            reconnect_base_ms: 1_000,
            reconnect_cap_ms: 30_000,
            jitter_seed: 0,
            limits: Limits::default(),
        }
    }

    pub fn with_heartbeat_ms(mut self, heartbeat_ms: u64) -> Self {
        self.heartbeat_ms = heartbeat_ms;
        self
    }

    pub fn with_deadline_ms(mut self, deadline_ms: u64) -> Self {
        self.deadline_ms = deadline_ms;
        self
    }

    pub fn with_reconnect(mut self, base_ms: u64, cap_ms: u64) -> Self {
        self.reconnect_base_ms = base_ms;
        self.reconnect_cap_ms = cap_ms;
        self
    }

    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = seed;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telemetry_paths_follow_the_shard_rule() {
        let path = telemetry_path_of("w0001");
        let shard = hive::ShardLabel::of("w0001");
        assert_eq!(
            path,
            format!("/shard/{}/worker/w0001/telemetry", shard.as_str())
        );
        let config = AgentConfig::heartbeat("w0001", "t").with_heartbeat_ms(2_000);
        assert_eq!(config.telemetry_path, path);
        assert_eq!(config.heartbeat_ms, 2_000);
        assert_eq!(config.role, HEARTBEAT_ROLE);
    }
}
