use alloc::string::String;
use serde::Deserialize;

/// The whole manifest. `Default` is the reference hive of docs/interfaces.md.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Manifest {
    pub hive: HiveLimits,
    pub secure9p: Secure9pLimits,
    pub sessions: SessionLimits,
    pub console: ConsoleLimits,
    pub ticket: TicketLimits,
    pub telemetry: TelemetryLimits,
    pub pump: PumpLimits,
    pub journal: JournalLimits,
    pub guard: GuardLimits,
    pub gpu: GpuLimits,
    pub schedule: ScheduleLimits,
    pub features: Features,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HiveLimits {
    /// Hive label used in audit lines and transcripts.
    pub name: String,
    /// Registered workers (any state but gone) at once.
    pub workers_max: u32,
    /// Workers a single `spawn` line may ask for.
    pub spawn_batch_max: u32,
    /// Bytes of `/log/queen.log` kept in memory; older lines are reported as `lost=<n>`.
    pub log_ring_bytes: u32,
    /// Longest line accepted on a control file (`/queen/ctl`, `/queen/lifecycle/ctl`).
    pub ctl_line_max: u32,
    /// Remembered `(id, idempotency_key)` envelopes for replayed ACKs.
    pub idempotency_window: u32,
    /// Heartbeat deadline after which a silent worker is marked unreachable.
    pub heartbeat_deadline_ms: u32,
    /// Default worker ticket lifetime when a spawn names none.
    pub default_ttl_s: u32,
    /// Default op budget when a spawn names none (0 = unlimited).
    pub default_ops: u32,
    /// Length of one scheduler quantum; `ticks` budgets are counted in these.
    pub tick_ms: u32,
    /// Entries in the hive's bind table.
    pub binds_max: u32,
    /// Core events buffered for the pump between turns; overflow is counted, never grown.
    pub events_max: u32,
}

impl Default for HiveLimits {
    fn default() -> Self {
        Self {
            name: String::from("hive"),
            workers_max: 4096,
            spawn_batch_max: 1024,
            log_ring_bytes: 256 * 1024,
            ctl_line_max: 1024,
            idempotency_window: 256,
            heartbeat_deadline_ms: 15_000,
            default_ttl_s: 3600,
            default_ops: 0,
            tick_ms: 1000,
            binds_max: 64,
            events_max: 8192,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Secure9pLimits {
    /// Largest message; clients are negotiated down to this, never up.
    pub msize: u32,
    pub walk_depth: u32,
    pub name_max: u32,
    pub tags_per_session: u32,
    pub fids_per_session: u32,
    /// Requests decoded from one connection in one pump turn.
    pub batch_max: u32,
}

impl Default for Secure9pLimits {
    fn default() -> Self {
        Self {
            msize: 8192,
            walk_depth: 8,
            name_max: 64,
            tags_per_session: 16,
            fids_per_session: 64,
            batch_max: 16,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionLimits {
    /// Secure9P sessions per hive.
    pub max: u32,
    pub idle_timeout_ms: u32,
    pub auth_deadline_ms: u32,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            max: 4096,
            idle_timeout_ms: 300_000,
            auth_deadline_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleLimits {
    /// Largest frame, length prefix included.
    pub frame_max: u32,
    /// Longest inbound line.
    pub line_max: u32,
    pub connections_max: u32,
    pub backoff_base_ms: u32,
    pub backoff_cap_ms: u32,
    /// Lines a streaming reply (`cat`, `tail`, `ls`) may carry before `END`.
    pub stream_lines_max: u32,
    /// When false (the original Cohesix behaviour), `ATTACH queen` without a ticket is
    /// accepted on a TCP console that passed `AUTH`: the console token is the operator's
    /// credential. When true, a TCP console queen must present a valid queen ticket.
    pub queen_requires_ticket: bool,
}

impl Default for ConsoleLimits {
    fn default() -> Self {
        Self {
            frame_max: 8192,
            line_max: 256,
            connections_max: 16,
            backoff_base_ms: 250,
            backoff_cap_ms: 64_000,
            stream_lines_max: 4096,
            queen_requires_ticket: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TicketLimits {
    /// Longest ticket text accepted for a worker role.
    pub worker_text_max: u32,
    /// Longest ticket text accepted for any role.
    pub text_max: u32,
    pub scopes_max: u32,
    /// Revoked ticket ids remembered until their TTL lapses.
    pub revocations_max: u32,
}

impl Default for TicketLimits {
    fn default() -> Self {
        Self {
            worker_text_max: 224,
            text_max: 1024,
            scopes_max: 8,
            revocations_max: 16_384,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryLimits {
    pub ring_bytes: u32,
    pub record_max: u32,
}

impl Default for TelemetryLimits {
    fn default() -> Self {
        Self {
            ring_bytes: 4096,
            record_max: 512,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PumpLimits {
    /// Connections serviced per turn before the pump yields to the clock and console.
    pub conns_per_turn: u32,
    /// Bytes buffered per connection in each direction.
    pub conn_buffer_bytes: u32,
}

impl Default for PumpLimits {
    fn default() -> Self {
        Self {
            conns_per_turn: 256,
            conn_buffer_bytes: 16 * 1024,
        }
    }
}

/// The Queen journal (docs/interfaces.md §12).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalLimits {
    /// Entries appended between snapshots; bounds what a restart replays.
    pub snapshot_every: u32,
    /// Ops (and ticks) a ticket may spend between two durable meter records. A crash can cost
    /// a ticket up to this much of its budget, and never gives any back.
    pub meter_step: u32,
}

impl Default for JournalLimits {
    fn default() -> Self {
        Self {
            snapshot_every: 4096,
            meter_step: 64,
        }
    }
}

/// Defences against hostile clients (docs/interfaces.md §1.4): what a connection that has not
/// authenticated may hold, how often one source may fail, and where security lines go.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardLimits {
    /// Unauthenticated connections at once, both ports together. When full, the oldest one is
    /// closed to admit the newcomer, so a flood of idle connections cannot lock anyone out.
    pub unauth_max: u32,
    /// Unauthenticated connections at once from one source address, both ports together
    /// (authenticated ones are bounded by `sessions.max`: a site holds many from one address).
    pub per_peer_max: u32,
    /// Source addresses remembered for rate limiting and aggregation; the quietest is
    /// forgotten first.
    pub sources_max: u32,
    /// Failed console `AUTH` from one source: the next attempt is refused unheard for this
    /// long, doubling with every further failure ...
    pub auth_delay_base_ms: u32,
    /// ... up to this.
    pub auth_delay_cap_ms: u32,
    /// Repeated refusals of one kind from one source within this window become one line
    /// of `/log/security.log` with a count.
    pub aggregate_ms: u32,
    /// Bytes of `/log/security.log` kept in memory (not journaled).
    pub security_log_bytes: u32,
    /// Console connections kept for the queen: unauthenticated consoles may fill only
    /// `console.connections_max - console_reserved` slots.
    pub console_reserved: u32,
}

impl Default for GuardLimits {
    fn default() -> Self {
        Self {
            unauth_max: 1024,
            per_peer_max: 256,
            sources_max: 1024,
            auth_delay_base_ms: 100,
            auth_delay_cap_ms: 30_000,
            aggregate_ms: 1000,
            security_log_bytes: 64 * 1024,
            console_reserved: 1,
        }
    }
}

/// GPU leases (docs/interfaces.md §8.4): the devices the broker tracks, the leases it holds at
/// once and what one tenant may hold.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpuLimits {
    /// GPUs published to `/gpu` at once (by bridges, through `/queen/lease/ctl`).
    pub devices_max: u32,
    /// Live leases at once (one GPU holds at most one).
    pub leases_max: u32,
    /// Live leases one tenant may hold unless `quota tenant=.. leases=..` says otherwise.
    pub tenant_leases_max: u32,
    /// Tenants with a quota, a lease or a queued request at once.
    pub tenants_max: u32,
    /// Longest lease a grant or renewal may ask for, in seconds.
    pub ttl_max_s: u32,
    /// Bytes of each GPU's `job` and `status` streams kept in memory.
    pub stream_bytes: u32,
    /// Preemptions remembered by `/proc/lease/preemptions`; older ones are counted only.
    pub preemptions_kept: u32,
}

impl Default for GpuLimits {
    fn default() -> Self {
        Self {
            devices_max: 256,
            leases_max: 256,
            tenant_leases_max: 64,
            tenants_max: 64,
            ttl_max_s: 86_400,
            stream_bytes: 4096,
            preemptions_kept: 64,
        }
    }
}

/// The lease request queue behind `/queen/schedule/ctl`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleLimits {
    /// Queued lease requests at once; one more is refused `Busy`.
    pub queue_max: u32,
    /// A queued request gains one priority level per this many ms of waiting, so nothing
    /// starves behind a stream of higher priorities.
    pub age_step_ms: u32,
}

impl Default for ScheduleLimits {
    fn default() -> Self {
        Self {
            queue_max: 16_384,
            age_step_ms: 10_000,
        }
    }
}

/// Manifest-gated subtrees: a disabled subtree is absent from every view.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Features {
    pub gpu: bool,
    pub policy: bool,
    pub replay: bool,
    pub updates: bool,
    pub host: bool,
}

impl Features {
    pub fn list(&self) -> [(&'static str, bool); 5] {
        [
            ("gpu", self.gpu),
            ("policy", self.policy),
            ("replay", self.replay),
            ("updates", self.updates),
            ("host", self.host),
        ]
    }
}
