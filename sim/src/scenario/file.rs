//! The raw shape of a scenario file as TOML, with spans kept on every value that is checked
//! after parsing so an error can name its line.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    pub seed: u64,
    pub duration_s: Spanned<u64>,
    pub tick_ms: Option<Spanned<u64>>,
    pub checkpoint_s: Option<Spanned<u64>>,
    #[serde(default)]
    pub network: RawNetwork,
    #[serde(default)]
    pub workers: RawWorkers,
    #[serde(default)]
    pub invariants: RawInvariants,
    pub hives: Spanned<Vec<RawHive>>,
    #[serde(default)]
    pub operators: Vec<RawOperator>,
    #[serde(default)]
    pub faults: Vec<RawFault>,
    #[serde(default)]
    pub attackers: Vec<RawAttacker>,
}

/// One hostile client (`[[attackers]]`), run from its own host `<hive>-atkNN`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttacker {
    pub hive: Spanned<String>,
    pub kind: Spanned<String>,
    pub at_s: Spanned<f64>,
    /// Connections, attempts or requests, depending on the kind.
    pub count: Option<Spanned<u64>>,
    /// Pace of new connections or attempts.
    pub rate_per_s: Option<Spanned<u64>>,
    /// `replayed-ticket`: when the ticket is stolen (it is replayed at `at_s`).
    pub capture_s: Option<Spanned<f64>>,
    /// `replayed-ticket`: whose ticket is stolen.
    pub worker: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    pub min_latency_ms: Option<Spanned<u64>>,
    pub max_latency_ms: Option<Spanned<u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkers {
    pub heartbeat_ms: Option<Spanned<u64>>,
    pub reconnect_base_ms: Option<Spanned<u64>>,
    pub reconnect_cap_ms: Option<Spanned<u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInvariants {
    pub liveness_s: Option<Spanned<u64>>,
    pub queen_memory_bytes: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHive {
    pub name: Spanned<String>,
    pub sites: Spanned<u32>,
    pub site_capacity: Spanned<u32>,
    /// Manifest overrides, in the manifest's own TOML shape (`[hives.manifest.hive]`...).
    pub manifest: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOperator {
    pub hive: Spanned<String>,
    #[serde(default)]
    pub at_s: Option<Spanned<f64>>,
    /// The script inline; exactly one of `script` and `script_file` is given.
    pub script: Option<Spanned<String>>,
    /// A `.coh` file, relative to the scenario file (so packs run unchanged here and in cohsh).
    pub script_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub at_s: Spanned<f64>,
    pub kind: Spanned<String>,
    pub host: Option<Spanned<String>>,
    pub a: Option<Spanned<String>>,
    pub b: Option<Spanned<String>>,
    pub ms: Option<Spanned<u64>>,
    pub rate: Option<Spanned<f64>>,
    pub offset_ms: Option<Spanned<i64>>,
    pub drift_ppm: Option<Spanned<i64>>,
}
