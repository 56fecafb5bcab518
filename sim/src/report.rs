//! What the terminal shows: a progress bar for runs longer than a second and the summary
//! table. Wall-clock figures live only here, never in a transcript.

use crate::runner::Summary;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt::Write;
use std::time::{Duration, Instant};

/// Steps between progress updates.
const UPDATE_EVERY: u64 = 256;

pub struct Progress {
    enabled: bool,
    steps: u64,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(enabled: bool, steps: u64, started: Instant) -> Self {
        Self {
            enabled,
            steps,
            started,
            bar: None,
        }
    }

    pub fn tick(&mut self, step: u64) {
        if !self.enabled || !step.is_multiple_of(UPDATE_EVERY) {
            return;
        }
        if self.bar.is_none() && self.started.elapsed() >= Duration::from_secs(1) {
            let bar = ProgressBar::with_draw_target(Some(self.steps), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{bar:40} {percent:>3}% virtual {msg} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(step);
        }
    }

    pub fn set_message(&self, text: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(text);
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// The table printed after a run.
pub fn table(name: &str, seed: u64, s: &Summary, violations: usize) -> String {
    let mut out = String::new();
    let refusals: Vec<String> = ["busy", "quota", "cut", "policy", "invalid", "unsupported"]
        .iter()
        .map(|c| format!("{c}={}", s.refusals.get(c).copied().unwrap_or(0)))
        .collect();
    let rows = [
        ("scenario", format!("{name} (seed {seed})")),
        (
            "virtual time",
            format!("{:.3} s", s.virtual_us as f64 / 1e6),
        ),
        ("wall time", format!("{:.3} s", s.wall.as_secs_f64())),
        ("speed-up", format!("{:.1}x", s.speedup())),
        ("hosts / steps", format!("{} / {}", s.hosts, s.steps)),
        (
            "events",
            format!("{} ({} transcript lines)", s.events, s.lines),
        ),
        (
            "workers (queen)",
            format!(
                "online {} offline {} pending {}",
                s.workers_online, s.workers_offline, s.workers_pending
            ),
        ),
        (
            "agents (sites)",
            format!(
                "online {} cut {} revoked {}",
                s.agents_online, s.agents_cut, s.agents_revoked
            ),
        ),
        ("refusals", refusals.join(" ")),
        (
            "peak queen heap",
            format!("{} KiB", s.peak_queen_bytes / 1024),
        ),
        ("expectations failed", s.expectations_failed.to_string()),
        ("invariant violations", violations.to_string()),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        let _ = writeln!(out, "  {k:<width$}  {v}");
    }
    out
}
