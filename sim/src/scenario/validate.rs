//! From raw TOML to a checked `Scenario`: ranges, names, host references and operator
//! scripts, each refusal pointing at its line.

use super::file::{RawFault, RawHive, RawNetwork, RawOperator, RawScenario, RawWorkers};
use super::{Fault, FaultAction, HiveSpec, OperatorSpec, Scenario, ScenarioError};
use cohscript::Step;
use manifest::Manifest;
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Simulated machines per run: turmoil's cost grows steeply with hosts.
pub const HOSTS_MAX: usize = 64;
/// The port each site host takes provisioned tickets on.
pub const PROVISION_PORT: u16 = 7000;

pub(super) struct Ctx<'a> {
    src: &'a str,
    origin: &'a str,
    /// The scenario file's folder, which `script_file` paths are relative to; `None` for
    /// text that was not read from a file.
    dir: Option<&'a Path>,
}

impl Ctx<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.src.len());
        self.src[..end].bytes().filter(|b| *b == b'\n').count() + 1
    }

    pub(super) fn err(
        &self,
        span: Range<usize>,
        field: &str,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError {
            origin: self.origin.to_string(),
            line: self.line(span),
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// `value` within `lo..=hi`, or an error naming the field.
    fn range(
        &self,
        value: &Option<Spanned<u64>>,
        field: &str,
        default: u64,
        lo: u64,
        hi: u64,
    ) -> Result<u64, ScenarioError> {
        let Some(v) = value else { return Ok(default) };
        self.check(v, field, lo, hi)
    }

    pub(super) fn check(
        &self,
        v: &Spanned<u64>,
        field: &str,
        lo: u64,
        hi: u64,
    ) -> Result<u64, ScenarioError> {
        let n = *v.get_ref();
        if n < lo || n > hi {
            return Err(self.err(v.span(), field, format!("{n} is outside {lo}..={hi}")));
        }
        Ok(n)
    }

    pub(super) fn seconds(
        &self,
        v: &Spanned<f64>,
        field: &str,
        duration_us: u64,
    ) -> Result<u64, ScenarioError> {
        let s = *v.get_ref();
        if !(s.is_finite() && s >= 0.0) {
            return Err(self.err(v.span(), field, "must be a time in seconds, 0 or more"));
        }
        let us = (s * 1_000_000.0).round() as u64;
        if us > duration_us {
            return Err(self.err(v.span(), field, format!("{s} s is past the end of the run")));
        }
        Ok(us)
    }
}

pub(super) fn parse(
    src: &str,
    origin: &str,
    dir: Option<&Path>,
) -> Result<Scenario, ScenarioError> {
    let ctx = Ctx { src, origin, dir };
    let raw: RawScenario = toml::from_str(src).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        ctx.err(span, "", e.message().trim().to_string())
    })?;
    let name = raw.name.get_ref().clone();
    if !valid_label(&name, 48) {
        return Err(ctx.err(raw.name.span(), "name", "use [a-z0-9-], at most 48"));
    }
    let duration_s = ctx.check(&raw.duration_s, "duration_s", 1, 86_400)?;
    let duration_us = duration_s * 1_000_000;
    let tick_ms = ctx.range(&raw.tick_ms, "tick_ms", 10, 1, 1_000)?;
    let checkpoint_s = ctx.range(&raw.checkpoint_s, "checkpoint_s", 60, 1, 86_400)?;
    let (min_latency_ms, max_latency_ms) = network(&ctx, &raw.network)?;
    let hives = hives(&ctx, &raw.hives)?;
    let deadline = hives
        .iter()
        .map(|h| u64::from(h.manifest.hive.heartbeat_deadline_ms))
        .min()
        .unwrap_or(15_000);
    let (heartbeat_ms, base, cap) = workers(&ctx, &raw.workers, deadline)?;
    let liveness_s = ctx.range(
        &raw.invariants.liveness_s,
        "invariants.liveness_s",
        90,
        1,
        86_400,
    )?;
    let workers: u64 = hives
        .iter()
        .map(|h| u64::from(h.sites) * u64::from(h.site_capacity))
        .sum();
    let memory_default = (16 << 20) + workers * 16 * 1024;
    let memory = ctx.range(
        &raw.invariants.queen_memory_bytes,
        "invariants.queen_memory_bytes",
        memory_default,
        1 << 20,
        1 << 36,
    )?;
    let operators = raw
        .operators
        .iter()
        .map(|op| operator(&ctx, op, &hives, duration_us))
        .collect::<Result<Vec<_>, _>>()?;
    let mut faults = raw
        .faults
        .iter()
        .map(|f| fault(&ctx, f, &hives, duration_us))
        .collect::<Result<Vec<_>, _>>()?;
    // Stable: faults at the same instant apply in file order.
    faults.sort_by_key(|f| f.at_us);
    let attackers = super::attackers::parse(&ctx, &raw.attackers, &hives, duration_us)?;
    Ok(Scenario {
        name,
        description: raw.description,
        seed: raw.seed,
        duration_us,
        tick_ms,
        checkpoint_us: checkpoint_s * 1_000_000,
        min_latency_ms,
        max_latency_ms,
        heartbeat_ms,
        reconnect_base_ms: base,
        reconnect_cap_ms: cap,
        liveness_us: liveness_s * 1_000_000,
        queen_memory_bytes: memory,
        hives,
        operators,
        faults,
        attackers,
    })
}

fn network(ctx: &Ctx<'_>, raw: &RawNetwork) -> Result<(u64, u64), ScenarioError> {
    let min = ctx.range(&raw.min_latency_ms, "network.min_latency_ms", 1, 0, 10_000)?;
    let max = ctx.range(&raw.max_latency_ms, "network.max_latency_ms", 5, 0, 10_000)?;
    if max < min {
        let span = raw.max_latency_ms.as_ref().map_or(0..0, |v| v.span());
        return Err(ctx.err(
            span,
            "network.max_latency_ms",
            "must be at least min_latency_ms",
        ));
    }
    Ok((min, max))
}

/// Heartbeat period (below the shortest heartbeat deadline) and reconnect back-off.
fn workers(
    ctx: &Ctx<'_>,
    raw: &RawWorkers,
    deadline: u64,
) -> Result<(u64, u64, u64), ScenarioError> {
    let top = deadline.saturating_sub(1).max(100);
    let heartbeat = ctx.range(&raw.heartbeat_ms, "workers.heartbeat_ms", 5_000, 100, top)?;
    let base = ctx.range(
        &raw.reconnect_base_ms,
        "workers.reconnect_base_ms",
        1_000,
        10,
        600_000,
    )?;
    let cap = ctx.range(
        &raw.reconnect_cap_ms,
        "workers.reconnect_cap_ms",
        30_000,
        base,
        600_000,
    )?;
    Ok((heartbeat, base, cap))
}

fn valid_label(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn hives(ctx: &Ctx<'_>, raw: &Spanned<Vec<RawHive>>) -> Result<Vec<HiveSpec>, ScenarioError> {
    if raw.get_ref().is_empty() || raw.get_ref().len() > 8 {
        return Err(ctx.err(raw.span(), "hives", "between 1 and 8 hives"));
    }
    let mut names = BTreeSet::new();
    let mut hosts = 0usize;
    let mut out = Vec::new();
    for hive in raw.get_ref() {
        let name = hive.name.get_ref().clone();
        if !valid_label(&name, 8) || name.contains('-') {
            return Err(ctx.err(hive.name.span(), "hives.name", "use [a-z0-9], at most 8"));
        }
        if !names.insert(name.clone()) {
            return Err(ctx.err(hive.name.span(), "hives.name", format!("`{name}` twice")));
        }
        let sites = ctx.check(&spanned_u64(&hive.sites), "hives.sites", 1, 32)? as u32;
        let capacity = ctx.check(
            &spanned_u64(&hive.site_capacity),
            "hives.site_capacity",
            1,
            2_000,
        )? as u32;
        hosts += sites as usize + 2;
        if hosts > HOSTS_MAX {
            return Err(ctx.err(
                hive.sites.span(),
                "hives.sites",
                format!("more than {HOSTS_MAX} hosts in all"),
            ));
        }
        let manifest = manifest(ctx, hive, &name)?;
        out.push(HiveSpec {
            name,
            sites,
            site_capacity: capacity,
            manifest,
        });
    }
    Ok(out)
}

fn spanned_u64(v: &Spanned<u32>) -> Spanned<u64> {
    Spanned::new(v.span(), u64::from(*v.get_ref()))
}

/// The reference manifest with the hive's name and the file's overrides, validated by the
/// manifest crate itself.
fn manifest(ctx: &Ctx<'_>, hive: &RawHive, name: &str) -> Result<Manifest, ScenarioError> {
    let mut table = hive.manifest.clone().unwrap_or_default();
    let section = table
        .entry("hive")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(section) = section {
        section.insert("name".into(), toml::Value::String(name.to_string()));
    }
    let text = toml::to_string(&table).unwrap_or_default();
    let span = hive.name.span();
    Manifest::from_toml_str(&text).map_err(|e| ctx.err(span, "hives.manifest", format!("{e}")))
}

fn operator(
    ctx: &Ctx<'_>,
    op: &RawOperator,
    hives: &[HiveSpec],
    duration_us: u64,
) -> Result<OperatorSpec, ScenarioError> {
    let hive = hives
        .iter()
        .position(|h| h.name == *op.hive.get_ref())
        .ok_or_else(|| {
            ctx.err(
                op.hive.span(),
                "operators.hive",
                format!("no hive `{}`", op.hive.get_ref()),
            )
        })?;
    let at_us = match &op.at_s {
        Some(v) => ctx.seconds(v, "operators.at_s", duration_us)?,
        None => 0,
    };
    let (steps, first_line) = match (&op.script, &op.script_file) {
        (Some(script), None) => inline_script(ctx, script)?,
        (None, Some(file)) => (script_file(ctx, file)?, 1),
        (Some(_), Some(file)) => {
            return Err(ctx.err(
                file.span(),
                "operators.script_file",
                "give `script` or `script_file`, not both",
            ))
        }
        (None, None) => {
            return Err(ctx.err(
                op.hive.span(),
                "operators.script",
                "needs `script` or `script_file`",
            ))
        }
    };
    Ok(OperatorSpec {
        hive,
        at_us,
        steps,
        first_line,
    })
}

/// Steps of a script written in the scenario file, and the file line of its line 1.
fn inline_script(
    ctx: &Ctx<'_>,
    script: &Spanned<String>,
) -> Result<(Vec<Step>, usize), ScenarioError> {
    let span = script.span();
    let opens_on_own_line = ctx.src[span.start.min(ctx.src.len())..]
        .strip_prefix("\"\"\"")
        .or_else(|| ctx.src[span.start.min(ctx.src.len())..].strip_prefix("'''"))
        .is_some_and(|rest| rest.starts_with('\n') || rest.starts_with("\r\n"));
    let first_line = ctx.line(span.clone()) + usize::from(opens_on_own_line);
    let steps = cohscript::parse_script(script.get_ref()).map_err(|e| ScenarioError {
        origin: ctx.origin.to_string(),
        line: first_line + e.line.saturating_sub(1),
        field: "operators.script".to_string(),
        message: e.message.clone(),
    })?;
    Ok((steps, first_line))
}

/// Steps of a `.coh` file; a parse error names the `.coh` file and its own line.
fn script_file(ctx: &Ctx<'_>, file: &Spanned<String>) -> Result<Vec<Step>, ScenarioError> {
    const FIELD: &str = "operators.script_file";
    let Some(dir) = ctx.dir else {
        return Err(ctx.err(
            file.span(),
            FIELD,
            "only a scenario read from a file can name a script file",
        ));
    };
    let path = dir.join(file.get_ref());
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ctx.err(
            file.span(),
            FIELD,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    cohscript::parse_script(&text).map_err(|e| ScenarioError {
        origin: path.display().to_string(),
        line: e.line,
        field: FIELD.to_string(),
        message: e.message.clone(),
    })
}

fn fault(
    ctx: &Ctx<'_>,
    raw: &RawFault,
    hives: &[HiveSpec],
    duration_us: u64,
) -> Result<Fault, ScenarioError> {
    let at_us = ctx.seconds(&raw.at_s, "faults.at_s", duration_us)?;
    let action = action(ctx, raw, hives)?;
    Ok(Fault { at_us, action })
}

/// A host named by `field`, which must exist in the topology.
fn host(
    ctx: &Ctx<'_>,
    raw: &RawFault,
    hives: &[HiveSpec],
    field: &'static str,
    v: &Option<Spanned<String>>,
) -> Result<String, ScenarioError> {
    let kind = raw.kind.get_ref();
    let v = v
        .as_ref()
        .ok_or_else(|| ctx.err(raw.kind.span(), field, format!("`{kind}` needs `{field}`")))?;
    let name = v.get_ref();
    if known_host(hives, name) {
        Ok(name.clone())
    } else {
        let hint = "hosts are <hive>-queen, <hive>-sNN, <hive>-op";
        Err(ctx.err(v.span(), field, format!("no host `{name}` ({hint})")))
    }
}

/// The link `a`-`b`; `b` defaults to the Queen of `a`'s hive, since most faults are
/// between a site and its Queen.
fn link(
    ctx: &Ctx<'_>,
    raw: &RawFault,
    hives: &[HiveSpec],
) -> Result<(String, String), ScenarioError> {
    let a = host(ctx, raw, hives, "a", &raw.a)?;
    let b = match &raw.b {
        Some(_) => host(ctx, raw, hives, "b", &raw.b)?,
        None => format!("{}-queen", a.split('-').next().unwrap_or_default()),
    };
    if a == b {
        return Err(ctx.err(raw.kind.span(), "b", "a link needs two different hosts"));
    }
    Ok((a, b))
}

fn action(ctx: &Ctx<'_>, raw: &RawFault, hives: &[HiveSpec]) -> Result<FaultAction, ScenarioError> {
    let needs = |field: &str| {
        ctx.err(
            raw.kind.span(),
            field,
            format!("`{}` needs `{field}`", raw.kind.get_ref()),
        )
    };
    Ok(match raw.kind.get_ref().as_str() {
        "partition" => link(ctx, raw, hives).map(|(a, b)| FaultAction::Partition { a, b })?,
        "heal" => link(ctx, raw, hives).map(|(a, b)| FaultAction::Heal { a, b })?,
        "crash" => FaultAction::Crash {
            host: host(ctx, raw, hives, "host", &raw.host)?,
        },
        "restart" => FaultAction::Restart {
            host: host(ctx, raw, hives, "host", &raw.host)?,
        },
        "latency" => {
            let ms = ctx.check(raw.ms.as_ref().ok_or_else(|| needs("ms"))?, "ms", 0, 60_000)?;
            link(ctx, raw, hives).map(|(a, b)| FaultAction::Latency { a, b, ms })?
        }
        "loss" => {
            let rate = raw.rate.as_ref().ok_or_else(|| needs("rate"))?;
            let value = *rate.get_ref();
            if !(0.0..=1.0).contains(&value) {
                return Err(ctx.err(rate.span(), "rate", "must be within 0.0..=1.0"));
            }
            link(ctx, raw, hives).map(|(a, b)| FaultAction::Loss { a, b, rate: value })?
        }
        "skew" => skew(ctx, raw, hives)?,
        "partition-oneway" => {
            link(ctx, raw, hives).map(|(a, b)| FaultAction::PartitionOneway { a, b })?
        }
        "heal-oneway" => link(ctx, raw, hives).map(|(a, b)| FaultAction::HealOneway { a, b })?,
        "hold" => link(ctx, raw, hives).map(|(a, b)| FaultAction::Hold { a, b })?,
        "release" => link(ctx, raw, hives).map(|(a, b)| FaultAction::Release { a, b })?,
        "store-full" | "store-io" | "store-torn" | "store-heal" => store_fault(ctx, raw, hives)?,
        other => {
            let kinds = "partition, heal, partition-oneway, heal-oneway, hold, release, crash, \
                         restart, latency, loss, skew, store-full, store-io, store-torn, store-heal";
            return Err(ctx.err(
                raw.kind.span(),
                "kind",
                format!("unknown fault `{other}` ({kinds})"),
            ));
        }
    })
}

/// A fault of a host's store: only queens and sites have one.
fn store_fault(
    ctx: &Ctx<'_>,
    raw: &RawFault,
    hives: &[HiveSpec],
) -> Result<FaultAction, ScenarioError> {
    let host = host(ctx, raw, hives, "host", &raw.host)?;
    if hives.iter().any(|h| host == h.operator_host()) {
        let msg = "an operator host has no store (queens and sites do)";
        return Err(ctx.err(raw.kind.span(), "host", msg));
    }
    Ok(match raw.kind.get_ref().as_str() {
        "store-full" => FaultAction::StoreFull { host },
        "store-io" => FaultAction::StoreIo { host },
        "store-torn" => FaultAction::StoreTorn { host },
        _ => FaultAction::StoreHeal { host },
    })
}

fn skew(ctx: &Ctx<'_>, raw: &RawFault, hives: &[HiveSpec]) -> Result<FaultAction, ScenarioError> {
    if let Some(v) = raw
        .drift_ppm
        .as_ref()
        .filter(|v| v.get_ref().abs() > 200_000)
    {
        return Err(ctx.err(v.span(), "drift_ppm", "must be within -200000..=200000"));
    }
    if let Some(v) = raw
        .offset_ms
        .as_ref()
        .filter(|v| v.get_ref().abs() > 86_400_000)
    {
        return Err(ctx.err(v.span(), "offset_ms", "must be within one day"));
    }
    Ok(FaultAction::Skew {
        host: host(ctx, raw, hives, "host", &raw.host)?,
        offset_ms: raw.offset_ms.as_ref().map_or(0, |v| *v.get_ref()),
        drift_ppm: raw.drift_ppm.as_ref().map_or(0, |v| *v.get_ref()),
    })
}

fn known_host(hives: &[HiveSpec], name: &str) -> bool {
    hives.iter().any(|h| {
        name == h.queen_host()
            || name == h.operator_host()
            || (0..h.sites).any(|i| name == h.site_host(i))
    })
}
