//! `[[attackers]]`: hostile clients of a hive, each on its own host `<hive>-atkNN`.

use super::file::RawAttacker;
use super::validate::{Ctx, HOSTS_MAX};
use super::{AttackKind, AttackerSpec, HiveSpec, ScenarioError};

/// Attackers per scenario (each is a host, and hosts are costly).
const ATTACKERS_MAX: usize = 16;

pub(super) fn parse(
    ctx: &Ctx<'_>,
    raw: &[RawAttacker],
    hives: &[HiveSpec],
    duration_us: u64,
) -> Result<Vec<AttackerSpec>, ScenarioError> {
    let hosts: usize = hives.iter().map(|h| h.sites as usize + 2).sum();
    if raw.len() > ATTACKERS_MAX.min(HOSTS_MAX.saturating_sub(hosts)) {
        let span = raw.last().map_or(0..0, |a| a.kind.span());
        let message = format!("at most {ATTACKERS_MAX} attackers, {HOSTS_MAX} hosts in all");
        return Err(ctx.err(span, "attackers", message));
    }
    let mut out: Vec<AttackerSpec> = Vec::new();
    for a in raw {
        let hive = hives
            .iter()
            .position(|h| h.name == *a.hive.get_ref())
            .ok_or_else(|| {
                let message = format!("no hive `{}`", a.hive.get_ref());
                ctx.err(a.hive.span(), "attackers.hive", message)
            })?;
        let kind = AttackKind::ALL
            .iter()
            .find(|(n, _)| *n == a.kind.get_ref())
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                let kinds: Vec<&str> = AttackKind::ALL.iter().map(|(n, _)| *n).collect();
                let message = format!(
                    "unknown attacker `{}` ({})",
                    a.kind.get_ref(),
                    kinds.join(", ")
                );
                ctx.err(a.kind.span(), "attackers.kind", message)
            })?;
        let at_us = ctx.seconds(&a.at_s, "attackers.at_s", duration_us)?;
        let count = match &a.count {
            Some(v) => ctx.check(v, "attackers.count", 1, 20_000)? as u32,
            None => 1,
        };
        let rate_per_s = match &a.rate_per_s {
            Some(v) => ctx.check(v, "attackers.rate_per_s", 1, 10_000)? as u32,
            None => 100,
        };
        let (capture_us, worker) = replay(ctx, a, kind, at_us, duration_us)?;
        let index = out.iter().filter(|o| o.hive == hive).count() + 1;
        out.push(AttackerSpec {
            hive,
            host: format!("{}-atk{index:02}", hives[hive].name),
            kind,
            at_us,
            count,
            rate_per_s,
            capture_us,
            worker,
        });
    }
    Ok(out)
}

/// `capture_s` and `worker`, which only `replayed-ticket` takes (and needs).
fn replay(
    ctx: &Ctx<'_>,
    a: &RawAttacker,
    kind: AttackKind,
    at_us: u64,
    duration_us: u64,
) -> Result<(u64, String), ScenarioError> {
    if kind != AttackKind::ReplayedTicket {
        if let Some(v) = &a.capture_s {
            return Err(ctx.err(v.span(), "attackers.capture_s", "only for replayed-ticket"));
        }
        return Ok((0, String::new()));
    }
    let (Some(capture), Some(worker)) = (&a.capture_s, &a.worker) else {
        let message = "replayed-ticket needs `capture_s` and `worker`";
        return Err(ctx.err(a.kind.span(), "attackers.capture_s", message));
    };
    let capture_us = ctx.seconds(capture, "attackers.capture_s", duration_us)?;
    if capture_us >= at_us {
        let message = "the ticket must be stolen before it is replayed (capture_s < at_s)";
        return Err(ctx.err(capture.span(), "attackers.capture_s", message));
    }
    Ok((capture_us, worker.get_ref().clone()))
}
