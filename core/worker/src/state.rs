//! What an agent reports about itself: its state, its transitions and its counters.

use core::fmt;
use hive::CutReason;
use secure9p::Error;

/// Where an agent stands with its Queen, as the agent itself sees it (the Queen's view of the
/// same worker is `hive::RegistryState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentState {
    /// Never attached yet: waiting for a transport (see `HeartbeatAgent::wants_connect`).
    Connecting,
    /// A transport is up and the attach sequence is in flight.
    Attaching,
    /// Attached with the telemetry file open; heartbeats flow.
    Online,
    /// Authority withdrawn (`session_revoked`) or refused (`policy_denied`). Terminal: the
    /// agent never attaches again with this ticket.
    Revoked(CutReason),
    /// Cut off from the Queen: no authority is exercised. `network_unreachable` reconnects
    /// with back-off; `lifecycle_offline` keeps the session and probes once per heartbeat.
    Cut(CutReason),
}

impl AgentState {
    /// A short stable label for logs and transcripts (`online`, `cut`, ...).
    pub fn label(self) -> &'static str {
        match self {
            AgentState::Connecting => "connecting",
            AgentState::Attaching => "attaching",
            AgentState::Online => "online",
            AgentState::Revoked(_) => "revoked",
            AgentState::Cut(_) => "cut",
        }
    }

    /// The cut reason this state carries, if any.
    pub fn reason(self) -> Option<CutReason> {
        match self {
            AgentState::Revoked(r) | AgentState::Cut(r) => Some(r),
            _ => None,
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, AgentState::Revoked(_))
    }
}

impl fmt::Display for AgentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            Some(reason) => write!(f, "{} reason={reason}", self.label()),
            None => f.write_str(self.label()),
        }
    }
}

/// `/proc/root/{reachable,last_seen_ms,cut_reason}` as the agent sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootStatus {
    pub reachable: bool,
    pub last_seen_ms: u64,
    pub cut_reason: Option<CutReason>,
}

/// What happened, at the time it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentEvent {
    pub at_ms: u64,
    pub kind: AgentEventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentEventKind {
    /// A state transition.
    State { from: AgentState, to: AgentState },
    /// The Queen refused a request of the named step (`attach`, `beat`, ...).
    Refused { step: &'static str, error: Error },
}

/// Running counters, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentStats {
    /// Transports handed to the agent (`on_connected`).
    pub connects: u64,
    /// Attach sequences completed.
    pub attaches: u64,
    pub beats_sent: u64,
    pub beats_acked: u64,
    pub refusals: u64,
    /// Requests that waited past the deadline.
    pub timeouts: u64,
    /// Events not kept because the host did not drain them.
    pub events_dropped: u64,
}
