//! Scenario files (`scenarios/*.toml`): topology, seed, virtual duration, tick, operator
//! scripts and the fault plan, parsed and validated once. A bad file is refused with the
//! line and the field at fault.

mod attackers;
mod file;
mod validate;

use cohscript::Step;
use manifest::Manifest;
use std::fmt;
use std::path::Path;

pub use validate::{HOSTS_MAX, PROVISION_PORT};

/// A validated scenario: every value in range, every host name resolved.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub duration_us: u64,
    /// The Queen's turn period and turmoil's step.
    pub tick_ms: u64,
    pub checkpoint_us: u64,
    pub min_latency_ms: u64,
    pub max_latency_ms: u64,
    pub heartbeat_ms: u64,
    pub reconnect_base_ms: u64,
    pub reconnect_cap_ms: u64,
    /// How long after the last fault heals every reachable worker must be ONLINE again.
    pub liveness_us: u64,
    /// Bound on the Queen's heap for connections, sessions and workers.
    pub queen_memory_bytes: u64,
    pub hives: Vec<HiveSpec>,
    pub operators: Vec<OperatorSpec>,
    pub faults: Vec<Fault>,
    pub attackers: Vec<AttackerSpec>,
}

/// A hostile client of one hive (`[[attackers]]`, docs/scenarios.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackerSpec {
    /// Index into `Scenario::hives`.
    pub hive: usize,
    /// Its own host, so each attacker has its own source address: `<hive>-atkNN`.
    pub host: String,
    pub kind: AttackKind,
    pub at_us: u64,
    pub count: u32,
    pub rate_per_s: u32,
    /// `ReplayedTicket`: when the ticket is stolen, and whose.
    pub capture_us: u64,
    pub worker: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttackKind {
    /// `count` Secure9P connections opened and left idle.
    IdleFlood,
    /// `count` console connections each sending a wrong `AUTH`.
    BadAuth,
    /// A queen console that sends `count` requests and never reads the replies.
    SlowReader,
    /// A worker's ticket stolen at `capture_s` and presented again at `at_s`.
    ReplayedTicket,
    /// A ticket signed with the hive's key but minted for another hive.
    ForeignTicket,
}

impl AttackKind {
    pub const ALL: [(&'static str, AttackKind); 5] = [
        ("idle-flood", AttackKind::IdleFlood),
        ("bad-auth", AttackKind::BadAuth),
        ("slow-reader", AttackKind::SlowReader),
        ("replayed-ticket", AttackKind::ReplayedTicket),
        ("foreign-ticket", AttackKind::ForeignTicket),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }
}

#[derive(Debug, Clone)]
pub struct HiveSpec {
    pub name: String,
    pub sites: u32,
    pub site_capacity: u32,
    pub manifest: Manifest,
}

impl HiveSpec {
    pub fn queen_host(&self) -> String {
        format!("{}-queen", self.name)
    }

    pub fn operator_host(&self) -> String {
        format!("{}-op", self.name)
    }

    /// `s01`, `s02`, ...: the site label workers are spawned with.
    pub fn site_label(index: u32) -> String {
        format!("s{:02}", index + 1)
    }

    pub fn site_host(&self, index: u32) -> String {
        format!("{}-{}", self.name, Self::site_label(index))
    }
}

#[derive(Debug, Clone)]
pub struct OperatorSpec {
    /// Index into `Scenario::hives`.
    pub hive: usize,
    pub at_us: u64,
    pub steps: Vec<Step>,
    /// Scenario-file line of script line 1, so replies can point at the file (1 for a
    /// `script_file`, whose lines are its own).
    pub first_line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub at_us: u64,
    pub action: FaultAction,
}

/// One entry of the fault plan. Host names are `<hive>-queen`, `<hive>-sNN`, `<hive>-op`.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    Partition {
        a: String,
        b: String,
    },
    Heal {
        a: String,
        b: String,
    },
    Crash {
        host: String,
    },
    Restart {
        host: String,
    },
    Latency {
        a: String,
        b: String,
        ms: u64,
    },
    Loss {
        a: String,
        b: String,
        rate: f64,
    },
    Skew {
        host: String,
        offset_ms: i64,
        drift_ppm: i64,
    },
    /// Messages from `a` to `b` are dropped; `b` to `a` still flow.
    PartitionOneway {
        a: String,
        b: String,
    },
    HealOneway {
        a: String,
        b: String,
    },
    /// The link `a`-`b` is clogged: messages wait, undelivered, until `Release`.
    Hold {
        a: String,
        b: String,
    },
    Release {
        a: String,
        b: String,
    },
    /// The host's store refuses every growing write with `Full` until `StoreHeal`.
    StoreFull {
        host: String,
    },
    /// The host's store fails every write with `Io` until `StoreHeal`.
    StoreIo {
        host: String,
    },
    /// The host's next crash tears the write in flight on its store.
    StoreTorn {
        host: String,
    },
    StoreHeal {
        host: String,
    },
}

impl FaultAction {
    pub fn kind(&self) -> &'static str {
        match self {
            FaultAction::Partition { .. } => "partition",
            FaultAction::Heal { .. } => "heal",
            FaultAction::Crash { .. } => "crash",
            FaultAction::Restart { .. } => "restart",
            FaultAction::Latency { .. } => "latency",
            FaultAction::Loss { .. } => "loss",
            FaultAction::Skew { .. } => "skew",
            FaultAction::PartitionOneway { .. } => "partition-oneway",
            FaultAction::HealOneway { .. } => "heal-oneway",
            FaultAction::Hold { .. } => "hold",
            FaultAction::Release { .. } => "release",
            FaultAction::StoreFull { .. } => "store-full",
            FaultAction::StoreIo { .. } => "store-io",
            FaultAction::StoreTorn { .. } => "store-torn",
            FaultAction::StoreHeal { .. } => "store-heal",
        }
    }

    /// The transcript event recording this fault.
    pub fn event(&self) -> &'static str {
        match self {
            FaultAction::Partition { .. } => "fault.partition",
            FaultAction::Heal { .. } => "fault.heal",
            FaultAction::Crash { .. } => "fault.crash",
            FaultAction::Restart { .. } => "fault.restart",
            FaultAction::Latency { .. } => "fault.latency",
            FaultAction::Loss { .. } => "fault.loss",
            FaultAction::Skew { .. } => "fault.skew",
            FaultAction::PartitionOneway { .. } => "fault.partition-oneway",
            FaultAction::HealOneway { .. } => "fault.heal-oneway",
            FaultAction::Hold { .. } => "fault.hold",
            FaultAction::Release { .. } => "fault.release",
            FaultAction::StoreFull { .. } => "fault.store-full",
            FaultAction::StoreIo { .. } => "fault.store-io",
            FaultAction::StoreTorn { .. } => "fault.store-torn",
            FaultAction::StoreHeal { .. } => "fault.store-heal",
        }
    }

    /// Faults that end a disturbance: liveness is measured from the last of these.
    pub fn heals(&self) -> bool {
        match self {
            FaultAction::Heal { .. }
            | FaultAction::Restart { .. }
            | FaultAction::HealOneway { .. }
            | FaultAction::Release { .. }
            | FaultAction::StoreHeal { .. } => true,
            FaultAction::Latency { ms, .. } => *ms == 0,
            FaultAction::Loss { rate, .. } => *rate == 0.0,
            _ => false,
        }
    }
}

/// Why a scenario file was refused: where, which field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub origin: String,
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.origin, self.line)?;
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    /// Parses and validates scenario text; `origin` names it in errors. Text not read from
    /// a file has nothing for `script_file` to be relative to, so it may not use one.
    pub fn parse(src: &str, origin: &str) -> Result<Self, ScenarioError> {
        validate::parse(src, origin, None)
    }

    /// Like `parse`, for text whose `script_file` paths are relative to `dir`.
    pub fn parse_in(src: &str, origin: &str, dir: &Path) -> Result<Self, ScenarioError> {
        validate::parse(src, origin, Some(dir))
    }

    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let origin = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            origin: origin.clone(),
            line: 0,
            field: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse_in(&src, &origin, path.parent().unwrap_or(Path::new(".")))
    }

    /// Total workers the sites can host.
    pub fn capacity(&self) -> u64 {
        self.hives
            .iter()
            .map(|h| u64::from(h.sites) * u64::from(h.site_capacity))
            .sum()
    }

    /// The time of the last healing fault, if the plan has any fault.
    pub fn last_heal_us(&self) -> Option<u64> {
        self.faults
            .iter()
            .filter(|f| f.action.heals())
            .map(|f| f.at_us)
            .max()
    }
}

#[cfg(test)]
mod tests;
