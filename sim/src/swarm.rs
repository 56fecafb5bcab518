//! Swarm mode: each seed draws a random topology, operator script and fault plan (as
//! scenario text, so a failing seed can be printed, saved and replayed like any scenario),
//! runs it under the invariant checkers, and reports the seeds that broke something.

use crate::runner::{run, Outcome, RunOptions};
use crate::scenario::Scenario;
use crate::world::BootHook;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

/// Uniform-enough draws for test generation.
struct Draw(ChaCha8Rng);

impl Draw {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n.max(1)
    }

    fn within(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// The scenario file swarm seed `seed` stands for.
pub fn scenario_text(seed: u64) -> String {
    let mut d = Draw(ChaCha8Rng::seed_from_u64(seed));
    let hives = if d.chance(4) { 2 } else { 1 };
    let duration = d.within(180, 260);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# swarm seed {seed}: drawn topology, script and faults"
    );
    let _ = writeln!(
        text,
        "name = \"swarm-{seed}\"\nseed = {seed}\nduration_s = {duration}\ncheckpoint_s = 60"
    );
    let _ = writeln!(
        text,
        "[network]\nmin_latency_ms = 1\nmax_latency_ms = {}",
        d.within(2, 20)
    );
    let mut faults = String::new();
    for h in 0..hives {
        let name = ["a", "b"][h];
        let sites = d.within(2, 5);
        let capacity = d.within(20, 50);
        let _ = writeln!(
            text,
            "\n[[hives]]\nname = \"{name}\"\nsites = {sites}\nsite_capacity = {capacity}"
        );
        let _ = writeln!(text, "[hives.manifest.features]\ngpu = true");
        let _ = writeln!(
            text,
            "\n[[operators]]\nhive = \"{name}\"\nat_s = 1\nscript = \"\"\""
        );
        let mut spawned = 0;
        for s in 1..=sites {
            let count = d.within(3, capacity / 2);
            let budget = match d.below(6) {
                0 => format!(" ops={}", d.within(20, 60)),
                1 => format!(" ttl_s={}", d.within(40, 150)),
                _ => String::new(),
            };
            let _ = writeln!(
                text,
                "spawn heartbeat count={count} site=s{s:02}{budget}\nEXPECT OK\nWAIT 1000"
            );
            spawned += count;
        }
        let _ = writeln!(text, "WAIT {}", d.within(10, 60) * 1000);
        for _ in 0..d.within(1, 3) {
            let _ = writeln!(
                text,
                "kill w{:04}\nWAIT {}",
                d.within(1, spawned),
                d.within(0, 5000)
            );
        }
        gpu_contention(seed ^ ((h as u64 + 1) << 32), spawned, &mut text);
        let _ = writeln!(text, "cat /proc/pressure/policy\n\"\"\"");
        plan_faults(&mut d, &mut faults, name, sites, duration);
    }
    text.push_str(&faults);
    text
}

/// Lease contention on every drawn hive: four gpu workers (the ids after the heartbeat
/// ones) of site s01, four GPUs on two bridges, grants at drawn priorities (some busy, some
/// preempting), queued requests, a bridge lost and published again. Drawn from its own
/// stream so the rest of a seed's scenario is what it was before. No `EXPECT`s: the outcome
/// depends on the draw; the `gpu-*` invariants judge it.
fn gpu_contention(seed: u64, spawned: u64, out: &mut String) {
    let mut d = Draw(ChaCha8Rng::seed_from_u64(seed));
    let _ = writeln!(
        out,
        "spawn {{\"spawn\":\"gpu\",\"count\":4,\"site\":\"s01\"}}"
    );
    let inventory = |out: &mut String, g: u64| {
        let _ = writeln!(
            out,
            "echo /queen/lease/ctl {{\"inventory\":{{\"gpu\":\"g{g}\",\"bridge\":\"b{}\",\"mem_mb\":8192,\"streams\":2}}}}",
            g / 2
        );
    };
    (0..4).for_each(|g| inventory(out, g));
    for _ in 0..d.within(4, 10) {
        let worker = spawned + d.within(1, 4);
        let (prio, ttl) = (d.below(4), d.within(5, 60));
        let verb = if d.chance(3) { "schedule" } else { "lease" };
        let cmd = if verb == "lease" { "grant" } else { "enqueue" };
        let _ = writeln!(
            out,
            "echo /queen/{verb}/ctl {{\"{cmd}\":{{\"worker\":\"w{worker:04}\",\"mem_mb\":4096,\"ttl_s\":{ttl},\"priority\":{prio}}}}}\nWAIT {}",
            d.within(0, 3000)
        );
    }
    let _ = writeln!(
        out,
        "echo /queen/lease/ctl {{\"lost\":{{\"bridge\":\"b1\"}}}}"
    );
    let _ = writeln!(out, "WAIT {}", d.within(1000, 10_000));
    (2..4).for_each(|g| inventory(out, g));
}

/// One to three disturbances, each healed early enough for the liveness check to run.
fn plan_faults(d: &mut Draw, out: &mut String, hive: &str, sites: u64, duration: u64) {
    let latest_end = duration.saturating_sub(100);
    for _ in 0..d.within(1, 3) {
        let site = format!("{hive}-s{:02}", d.within(1, sites));
        let start = d.within(20, latest_end.saturating_sub(40).max(21));
        let end = (start + d.within(10, 40)).min(latest_end);
        let mut fault = |at: u64, body: String| {
            let _ = writeln!(out, "\n[[faults]]\nat_s = {at}\n{body}");
        };
        match d.below(7) {
            0 => {
                fault(start, format!("kind = \"partition\"\na = \"{site}\""));
                fault(end, format!("kind = \"heal\"\na = \"{site}\""));
            }
            1 => {
                fault(start, format!("kind = \"crash\"\nhost = \"{site}\""));
                fault(end, format!("kind = \"restart\"\nhost = \"{site}\""));
            }
            2 => {
                let rate = d.within(1, 10) as f64 / 100.0;
                fault(
                    start,
                    format!("kind = \"loss\"\na = \"{site}\"\nrate = {rate}"),
                );
                fault(end, format!("kind = \"loss\"\na = \"{site}\"\nrate = 0.0"));
            }
            3 => {
                let ms = d.within(50, 500);
                fault(
                    start,
                    format!("kind = \"latency\"\na = \"{site}\"\nms = {ms}"),
                );
                fault(end, format!("kind = \"latency\"\na = \"{site}\"\nms = 0"));
            }
            4 => {
                let ppm = d.within(1_000, 50_000) as i64 * if d.chance(2) { -1 } else { 1 };
                fault(
                    start,
                    format!(
                        "kind = \"skew\"\nhost = \"{site}\"\ndrift_ppm = {ppm}\noffset_ms = {}",
                        d.within(0, 5000)
                    ),
                );
            }
            5 => {
                let queen = format!("{hive}-queen");
                fault(start, format!("kind = \"crash\"\nhost = \"{queen}\""));
                fault(end, format!("kind = \"restart\"\nhost = \"{queen}\""));
            }
            _ => plan_store_fault(d, &mut fault, hive, start, end),
        }
    }
}

/// A fault of the queen's store: a full disk or a failing medium until healed, or a crash
/// that tears the write in flight (sometimes while the disk is full, so the restart boots
/// from a store that still refuses writes).
fn plan_store_fault(
    d: &mut Draw,
    fault: &mut impl FnMut(u64, String),
    hive: &str,
    start: u64,
    end: u64,
) {
    let queen = format!("{hive}-queen");
    let on = |kind: &str| format!("kind = \"{kind}\"\nhost = \"{queen}\"");
    match d.below(4) {
        0 => fault(start, on("store-full")),
        1 => fault(start, on("store-io")),
        2 => {
            fault(start, on("store-torn"));
            fault(start + 1, on("crash"));
            fault(end, on("restart"));
        }
        _ => {
            fault(start, on("store-full"));
            fault(start + 1, on("crash"));
            fault(start + 5, on("restart"));
        }
    }
    fault(end, on("store-heal"));
}

/// Parses the drawn scenario (a failure here is a generator bug, reported as an error).
pub fn scenario(seed: u64) -> anyhow::Result<Scenario> {
    let text = scenario_text(seed);
    Ok(Scenario::parse(&text, &format!("swarm seed {seed}"))?)
}

/// Runs one swarm seed.
pub fn run_seed(seed: u64, boot_hook: Option<BootHook>) -> anyhow::Result<Outcome> {
    run(
        scenario(seed)?,
        RunOptions {
            seed: None,
            progress: false,
            boot_hook,
        },
    )
}

/// Whether a run broke nothing.
pub fn clean(outcome: &Outcome) -> bool {
    outcome.violations.is_empty()
}

/// Runs `count` seeds from `start`; prints each failing seed with the command that replays
/// it. Returns whether every seed ran clean.
pub fn run_many(start: u64, count: u64) -> bool {
    let begun = Instant::now();
    let mut failing = Vec::new();
    for seed in start..start.saturating_add(count) {
        let result = run_seed(seed, None);
        let verdict = match &result {
            Ok(o) if clean(o) => "ok".to_string(),
            Ok(o) => format!(
                "FAILED: {}",
                o.violations
                    .iter()
                    .map(|v| v.name)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Err(e) => format!("FAILED: {e:#}"),
        };
        if let Ok(o) = &result {
            println!(
                "seed {seed:>6}  {:>4} hosts  {:>5} events  {:>6.1}x  {verdict}",
                o.summary.hosts,
                o.summary.events,
                o.summary.speedup()
            );
        } else {
            println!("seed {seed:>6}  {verdict}");
        }
        if verdict != "ok" {
            failing.push(seed);
        }
    }
    println!(
        "swarm: {count} seeds in {:.1} s, {} failing",
        begun.elapsed().as_secs_f64(),
        failing.len()
    );
    for seed in &failing {
        println!("  replay: cargo sim swarm --replay {seed} --out swarm-{seed}.log");
    }
    failing.is_empty()
}

/// Prints seed `seed`'s scenario, runs it, and writes its transcript to `out`.
pub fn replay(seed: u64, out: Option<&Path>) -> anyhow::Result<bool> {
    println!("{}", scenario_text(seed));
    let outcome = run_seed(seed, None)?;
    if let Some(out) = out {
        std::fs::write(out, &outcome.transcript)?;
    }
    print!(
        "{}",
        crate::report::table(
            &outcome.scenario,
            seed,
            &outcome.summary,
            outcome.violations.len()
        )
    );
    for v in &outcome.violations {
        println!(
            "  violated {} at t={}us on hive {}: {}",
            v.name, v.t_us, v.hive, v.detail
        );
    }
    Ok(clean(&outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_drawn_scenario_is_valid_and_seeds_differ() {
        for seed in 0..200 {
            scenario(seed).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", scenario_text(seed)));
        }
        assert_eq!(scenario_text(5), scenario_text(5));
        assert_ne!(scenario_text(5), scenario_text(6));
    }
}
