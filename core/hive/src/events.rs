//! Structured core events for the pump, the transcript and `/proc/pressure`.

use crate::lifecycle::NodeState;
use alloc::string::String;
use secure9p::Error;

/// One observable decision of the hive, in the order it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    WorkerSpawned {
        id: String,
        site: Option<String>,
    },
    WorkerOnline {
        id: String,
    },
    WorkerOffline {
        id: String,
        reason: &'static str,
    },
    Revoked {
        id: String,
        ticket_id: u64,
        reason: &'static str,
    },
    Lifecycle {
        from: NodeState,
        to: NodeState,
        reason: &'static str,
    },
    Refused {
        error: Error,
        detail: &'static str,
    },
}

/// Refusal counters by class (`/proc/pressure/<class>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pressure {
    pub busy: u64,
    pub quota: u64,
    pub cut: u64,
    pub policy: u64,
    pub invalid: u64,
    pub unsupported: u64,
}

impl Pressure {
    pub fn count(&mut self, error: Error) {
        let slot = match error.reason() {
            "busy" => &mut self.busy,
            "quota" => &mut self.quota,
            "cut" => &mut self.cut,
            "policy" => &mut self.policy,
            "unsupported" => &mut self.unsupported,
            _ => &mut self.invalid,
        };
        *slot += 1;
    }

    /// `(class, count)` pairs in a fixed order.
    pub fn list(&self) -> [(&'static str, u64); 6] {
        [
            ("busy", self.busy),
            ("quota", self.quota),
            ("cut", self.cut),
            ("policy", self.policy),
            ("invalid", self.invalid),
            ("unsupported", self.unsupported),
        ]
    }
}
