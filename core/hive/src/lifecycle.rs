//! Node lifecycle (docs/interfaces.md §10): states, the commands and system events that move
//! between them, and nothing else.

use core::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeState {
    Booting,
    Online,
    Degraded,
    Draining,
    Quiesced,
    Offline,
}

impl NodeState {
    /// The state named by `as_str`.
    pub fn parse(text: &str) -> Option<NodeState> {
        [
            NodeState::Booting,
            NodeState::Online,
            NodeState::Degraded,
            NodeState::Draining,
            NodeState::Quiesced,
            NodeState::Offline,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Booting => "BOOTING",
            NodeState::Online => "ONLINE",
            NodeState::Degraded => "DEGRADED",
            NodeState::Draining => "DRAINING",
            NodeState::Quiesced => "QUIESCED",
            NodeState::Offline => "OFFLINE",
        }
    }

    /// New work (spawns, leases) is taken only when ONLINE.
    pub fn accepts_work(self) -> bool {
        self == NodeState::Online
    }

    /// Telemetry is still taken while draining, never once quiesced or offline.
    pub fn accepts_telemetry(self) -> bool {
        matches!(
            self,
            NodeState::Online | NodeState::Degraded | NodeState::Draining
        )
    }
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Operator commands written to `/queen/lifecycle/ctl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleCommand {
    /// Stop taking new work but keep serving: ONLINE → DEGRADED.
    Cordon,
    /// Finish current work, take none: ONLINE|DEGRADED → DRAINING.
    Drain,
    /// Back to service: DEGRADED|DRAINING|QUIESCED → ONLINE.
    Resume,
    /// Drained and lease-free: DRAINING → QUIESCED.
    Quiesce,
    /// Restart the node's authority: QUIESCED|OFFLINE|DEGRADED → BOOTING.
    Reset,
}

impl LifecycleCommand {
    pub fn parse(line: &str) -> Option<Self> {
        match line.trim() {
            "cordon" => Some(Self::Cordon),
            "drain" => Some(Self::Drain),
            "resume" => Some(Self::Resume),
            "quiesce" => Some(Self::Quiesce),
            "reset" => Some(Self::Reset),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cordon => "cordon",
            Self::Drain => "drain",
            Self::Resume => "resume",
            Self::Quiesce => "quiesce",
            Self::Reset => "reset",
        }
    }

    /// The state this command leads to from `from`, if the transition is allowed.
    pub fn target(self, from: NodeState) -> Option<NodeState> {
        use NodeState::*;
        match (self, from) {
            (Self::Cordon, Online) => Some(Degraded),
            (Self::Drain, Online | Degraded) => Some(Draining),
            (Self::Resume, Degraded | Draining | Quiesced) => Some(Online),
            (Self::Quiesce, Draining) => Some(Quiesced),
            (Self::Reset, Quiesced | Offline | Degraded) => Some(Booting),
            _ => None,
        }
    }
}

/// Enumerated system events that may move the node without an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemEvent {
    /// Boot finished: BOOTING → ONLINE.
    BootComplete,
    /// Shutdown of a quiesced node: QUIESCED → OFFLINE.
    PowerOff,
}

impl SystemEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BootComplete => "boot-complete",
            Self::PowerOff => "power-off",
        }
    }

    pub fn target(self, from: NodeState) -> Option<NodeState> {
        match (self, from) {
            (Self::BootComplete, NodeState::Booting) => Some(NodeState::Online),
            (Self::PowerOff, NodeState::Quiesced) => Some(NodeState::Offline),
            _ => None,
        }
    }
}

/// Current node state with the reason and time of the last transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub state: NodeState,
    pub reason: &'static str,
    pub since_ms: u64,
}

impl Lifecycle {
    pub fn booting(now_ms: u64) -> Self {
        Self {
            state: NodeState::Booting,
            reason: "power-on",
            since_ms: now_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LifecycleCommand as C;
    use NodeState::*;

    #[test]
    fn transitions_follow_the_state_diagram() {
        assert_eq!(C::Cordon.target(Online), Some(Degraded));
        assert_eq!(C::Drain.target(Degraded), Some(Draining));
        assert_eq!(C::Quiesce.target(Draining), Some(Quiesced));
        assert_eq!(C::Quiesce.target(Online), None);
        assert_eq!(C::Resume.target(Quiesced), Some(Online));
        assert_eq!(C::Reset.target(Online), None);
        assert_eq!(SystemEvent::BootComplete.target(Booting), Some(Online));
        assert_eq!(SystemEvent::PowerOff.target(Online), None);
    }

    #[test]
    fn parse_is_strict() {
        assert_eq!(LifecycleCommand::parse("drain\n"), Some(C::Drain));
        assert_eq!(LifecycleCommand::parse("DRAIN"), None);
        assert_eq!(LifecycleCommand::parse("drain now"), None);
    }
}
