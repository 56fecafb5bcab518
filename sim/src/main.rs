//! `cargo sim`: run, list, check and swarm simulator scenarios.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use cohesix_sim::{report, run, swarm, Outcome, RunOptions, Scenario};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cargo sim",
    about = "The Cohesix simulator: the whole hive in virtual time"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one scenario and print its summary.
    Run {
        /// A scenario file, or the name of one in scenarios/.
        scenario: String,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Write the transcript here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write every operator reply here in full, one JSON object per line
        /// (`{"hive","command","status","lines"}`), for scripts/pack-parity.sh.
        #[arg(long)]
        replies: Option<PathBuf>,
    },
    /// List the scenarios in scenarios/.
    List,
    /// Run a scenario twice with the same seed and require byte-identical transcripts.
    Check {
        scenario: String,
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Random topologies and fault plans, one per seed, under the invariant checkers.
    Swarm {
        /// How many seeds to run.
        #[arg(long, default_value_t = 50)]
        seeds: u64,
        /// The first seed.
        #[arg(long, default_value_t = 1)]
        start: u64,
        /// Run only this seed, print its scenario, and write its transcript with --out.
        #[arg(long)]
        replay: Option<u64>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match dispatch(Cli::parse().command) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `Ok(false)` means the command ran and found a failure.
fn dispatch(cmd: Cmd) -> anyhow::Result<bool> {
    match cmd {
        Cmd::Run {
            scenario,
            seed,
            out,
            replies,
        } => {
            let outcome = run_one(&scenario, seed, true)?;
            if let Some(out) = out {
                std::fs::write(&out, &outcome.transcript)
                    .with_context(|| format!("writing {}", out.display()))?;
            }
            if let Some(path) = replies {
                let mut text = String::new();
                for reply in &outcome.replies {
                    text.push_str(&serde_json::to_string(reply)?);
                    text.push('\n');
                }
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            Ok(print_outcome(&outcome))
        }
        Cmd::List => list(),
        Cmd::Check { scenario, seed } => check(&scenario, seed),
        Cmd::Swarm {
            seeds,
            start,
            replay,
            out,
        } => match replay {
            Some(seed) => swarm::replay(seed, out.as_deref()),
            None => Ok(swarm::run_many(start, seeds)),
        },
    }
}

/// `hive-1k`, `hive-1k.toml` or a path.
fn resolve(arg: &str) -> PathBuf {
    let path = Path::new(arg);
    if path.exists() {
        return path.to_path_buf();
    }
    let name = arg.trim_end_matches(".toml");
    scenarios_dir().join(format!("{name}.toml"))
}

fn scenarios_dir() -> PathBuf {
    let here = Path::new("scenarios");
    if here.is_dir() {
        return here.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn run_one(arg: &str, seed: Option<u64>, progress: bool) -> anyhow::Result<Outcome> {
    let scenario = Scenario::load(&resolve(arg))?;
    run(
        scenario,
        RunOptions {
            seed,
            progress,
            boot_hook: None,
        },
    )
}

fn print_outcome(outcome: &Outcome) -> bool {
    print!(
        "{}",
        report::table(
            &outcome.scenario,
            outcome.seed,
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
    outcome.violations.is_empty() && outcome.summary.expectations_failed == 0
}

fn list() -> anyhow::Result<bool> {
    let dir = scenarios_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        match Scenario::load(&path) {
            Ok(s) => {
                let sites: u32 = s.hives.iter().map(|h| h.sites).sum();
                println!(
                    "{:<20} {:>2} hive(s) {:>3} sites {:>5} slots {:>6}s  {}",
                    s.name,
                    s.hives.len(),
                    sites,
                    s.capacity(),
                    s.duration_us / 1_000_000,
                    s.description
                );
            }
            Err(e) => println!("{}: {e}", path.display()),
        }
    }
    Ok(true)
}

fn check(arg: &str, seed: Option<u64>) -> anyhow::Result<bool> {
    let first = run_one(arg, seed, true)?;
    let second = run_one(arg, seed, true)?;
    let clean = print_outcome(&first);
    if first.transcript != second.transcript {
        let diff = first
            .transcript
            .lines()
            .zip(second.transcript.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b);
        match diff {
            Some((i, (a, b))) => bail!("transcripts differ at line {}:\n  {a}\n  {b}", i + 1),
            None => bail!("transcripts differ in length"),
        }
    }
    println!(
        "  deterministic: two runs, {} identical transcript lines",
        first.summary.lines
    );
    Ok(clean)
}
