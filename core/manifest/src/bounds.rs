use crate::Manifest;
use alloc::string::String;
use core::fmt;

/// Why a manifest was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestError {
    /// The TOML did not parse or named an unknown field (the text says where).
    Parse(String),
    /// A field lies outside the range the core can honour.
    OutOfRange {
        field: &'static str,
        value: u64,
        min: u64,
        max: u64,
    },
    /// Two fields contradict each other.
    Inconsistent(&'static str),
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::Parse(text) => write!(f, "invalid manifest: {text}"),
            ManifestError::OutOfRange {
                field,
                value,
                min,
                max,
            } => write!(
                f,
                "invalid manifest: {field} = {value} is outside the allowed range {min}..={max}"
            ),
            ManifestError::Inconsistent(why) => write!(f, "invalid manifest: {why}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ManifestError {}

/// Smallest `secure9p.msize`: every fixed-size Secure9P reply fits in it (asserted where the
/// codec defines them).
pub const SECURE9P_MSIZE_MIN: u32 = 256;
/// Largest `secure9p.msize`.
pub const SECURE9P_MSIZE_MAX: u32 = 8192;
/// Largest `secure9p.walk_depth`.
pub const SECURE9P_WALK_DEPTH_MAX: u32 = 8;
/// Largest `secure9p.name_max`.
pub const SECURE9P_NAME_MAX: u32 = 64;
/// Largest `telemetry.record_max`.
pub const TELEMETRY_RECORD_MAX: u32 = 512;
/// Smallest `telemetry.ring_bytes`.
pub const TELEMETRY_RING_MIN: u32 = 512;
/// Smallest `hive.log_ring_bytes`.
pub const LOG_RING_MIN: u32 = 4096;

// Any telemetry ring a manifest can ask for holds the largest record it can allow, so a
// record within its bound is never refused for size by the ring itself.
const _: () = assert!(TELEMETRY_RECORD_MAX <= TELEMETRY_RING_MIN);
// Rings keep record lengths as `u16`.
const _: () = assert!(TELEMETRY_RECORD_MAX <= u16::MAX as u32);

/// One numeric field and the range the core accepts for it.
pub struct Bound {
    pub field: &'static str,
    pub get: fn(&Manifest) -> u64,
    pub min: u64,
    pub max: u64,
}

macro_rules! bound {
    ($field:literal, $sec:ident . $name:ident, $min:expr, $max:expr) => {
        Bound {
            field: $field,
            get: |m| u64::from(m.$sec.$name),
            min: $min,
            max: $max,
        }
    };
}

/// Every numeric bound, with the hard ceilings docs/interfaces.md quotes.
pub static BOUNDS: &[Bound] = &[
    bound!("hive.workers_max", hive.workers_max, 1, 65_536),
    bound!("hive.spawn_batch_max", hive.spawn_batch_max, 1, 4096),
    bound!(
        "hive.log_ring_bytes",
        hive.log_ring_bytes,
        LOG_RING_MIN as u64,
        16 << 20
    ),
    bound!("hive.ctl_line_max", hive.ctl_line_max, 128, 4096),
    bound!(
        "hive.idempotency_window",
        hive.idempotency_window,
        1,
        65_536
    ),
    bound!(
        "hive.heartbeat_deadline_ms",
        hive.heartbeat_deadline_ms,
        100,
        600_000
    ),
    bound!("hive.default_ttl_s", hive.default_ttl_s, 1, 30 * 86_400),
    bound!("hive.default_ops", hive.default_ops, 0, u32::MAX as u64),
    bound!("hive.tick_ms", hive.tick_ms, 1, 60_000),
    bound!("hive.binds_max", hive.binds_max, 0, 1024),
    bound!("hive.events_max", hive.events_max, 16, 1 << 20),
    bound!(
        "secure9p.msize",
        secure9p.msize,
        SECURE9P_MSIZE_MIN as u64,
        SECURE9P_MSIZE_MAX as u64
    ),
    bound!(
        "secure9p.walk_depth",
        secure9p.walk_depth,
        1,
        SECURE9P_WALK_DEPTH_MAX as u64
    ),
    bound!(
        "secure9p.name_max",
        secure9p.name_max,
        1,
        SECURE9P_NAME_MAX as u64
    ),
    bound!(
        "secure9p.tags_per_session",
        secure9p.tags_per_session,
        1,
        16
    ),
    bound!(
        "secure9p.fids_per_session",
        secure9p.fids_per_session,
        2,
        64
    ),
    bound!("secure9p.batch_max", secure9p.batch_max, 1, 256),
    bound!("sessions.max", sessions.max, 1, 65_536),
    bound!(
        "sessions.idle_timeout_ms",
        sessions.idle_timeout_ms,
        1000,
        86_400_000
    ),
    bound!(
        "sessions.auth_deadline_ms",
        sessions.auth_deadline_ms,
        100,
        5_000
    ),
    bound!("console.frame_max", console.frame_max, 64, 8192),
    bound!("console.line_max", console.line_max, 16, 256),
    bound!("console.connections_max", console.connections_max, 1, 256),
    bound!(
        "console.backoff_base_ms",
        console.backoff_base_ms,
        1,
        10_000
    ),
    bound!("console.backoff_cap_ms", console.backoff_cap_ms, 1, 600_000),
    bound!(
        "console.stream_lines_max",
        console.stream_lines_max,
        1,
        65_536
    ),
    bound!("ticket.worker_text_max", ticket.worker_text_max, 64, 224),
    bound!("ticket.text_max", ticket.text_max, 64, 4096),
    bound!("ticket.scopes_max", ticket.scopes_max, 1, 8),
    bound!(
        "ticket.revocations_max",
        ticket.revocations_max,
        16,
        1 << 20
    ),
    bound!(
        "telemetry.ring_bytes",
        telemetry.ring_bytes,
        TELEMETRY_RING_MIN as u64,
        1 << 20
    ),
    bound!(
        "telemetry.record_max",
        telemetry.record_max,
        16,
        TELEMETRY_RECORD_MAX as u64
    ),
    bound!("pump.conns_per_turn", pump.conns_per_turn, 1, 65_536),
    bound!(
        "journal.snapshot_every",
        journal.snapshot_every,
        16,
        1 << 20
    ),
    bound!("journal.meter_step", journal.meter_step, 1, 65_536),
    bound!("guard.unauth_max", guard.unauth_max, 1, 65_536),
    bound!("guard.per_peer_max", guard.per_peer_max, 1, 65_536),
    bound!("guard.sources_max", guard.sources_max, 16, 65_536),
    bound!(
        "guard.auth_delay_base_ms",
        guard.auth_delay_base_ms,
        1,
        10_000
    ),
    bound!(
        "guard.auth_delay_cap_ms",
        guard.auth_delay_cap_ms,
        1,
        600_000
    ),
    bound!("guard.aggregate_ms", guard.aggregate_ms, 10, 600_000),
    bound!(
        "guard.security_log_bytes",
        guard.security_log_bytes,
        4096,
        16 << 20
    ),
    bound!("guard.console_reserved", guard.console_reserved, 0, 255),
    bound!("gpu.devices_max", gpu.devices_max, 1, 4096),
    bound!("gpu.leases_max", gpu.leases_max, 1, 4096),
    bound!("gpu.tenant_leases_max", gpu.tenant_leases_max, 1, 4096),
    bound!("gpu.tenants_max", gpu.tenants_max, 1, 4096),
    bound!("gpu.ttl_max_s", gpu.ttl_max_s, 1, 30 * 86_400),
    bound!("gpu.stream_bytes", gpu.stream_bytes, 512, 1 << 20),
    bound!("gpu.preemptions_kept", gpu.preemptions_kept, 1, 4096),
    bound!("schedule.queue_max", schedule.queue_max, 1, 1 << 20),
    bound!("schedule.age_step_ms", schedule.age_step_ms, 1, 86_400_000),
    bound!(
        "pump.conn_buffer_bytes",
        pump.conn_buffer_bytes,
        1024,
        1 << 20
    ),
];

pub(crate) fn check_relations(m: &Manifest) -> Result<(), ManifestError> {
    if m.hive.name.is_empty()
        || m.hive.name.len() > 32
        || !m
            .hive
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ManifestError::Inconsistent(
            "hive.name must be 1..=32 characters of [A-Za-z0-9_-]",
        ));
    }
    if m.telemetry.record_max > m.telemetry.ring_bytes {
        return Err(ManifestError::Inconsistent(
            "telemetry.record_max must not exceed telemetry.ring_bytes",
        ));
    }
    if m.console.backoff_cap_ms < m.console.backoff_base_ms {
        return Err(ManifestError::Inconsistent(
            "console.backoff_cap_ms must be at least console.backoff_base_ms",
        ));
    }
    if m.ticket.worker_text_max > m.ticket.text_max {
        return Err(ManifestError::Inconsistent(
            "ticket.worker_text_max must not exceed ticket.text_max",
        ));
    }
    if m.pump.conn_buffer_bytes < m.secure9p.msize || m.pump.conn_buffer_bytes < m.console.frame_max
    {
        return Err(ManifestError::Inconsistent(
            "pump.conn_buffer_bytes must hold one whole message (>= secure9p.msize and console.frame_max)",
        ));
    }
    if m.guard.auth_delay_cap_ms < m.guard.auth_delay_base_ms {
        return Err(ManifestError::Inconsistent(
            "guard.auth_delay_cap_ms must be at least guard.auth_delay_base_ms",
        ));
    }
    if m.guard.console_reserved >= m.console.connections_max {
        return Err(ManifestError::Inconsistent(
            "guard.console_reserved must leave at least one console slot (< console.connections_max)",
        ));
    }
    if m.hive.workers_max > m.sessions.max.saturating_mul(16) {
        return Err(ManifestError::Inconsistent(
            "hive.workers_max must not exceed 16 x sessions.max",
        ));
    }
    Ok(())
}
