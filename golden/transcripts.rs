//! Every scenario's transcript is a golden file in this folder, reviewed on change. Each
//! test runs its scenario twice and requires byte-identical transcripts, no invariant
//! violation and every `EXPECT` met. (The test lives beside its snapshots, as a test target
//! of `cohesix-sim`, so `cargo insta` finds pending snapshots here.)

use cohesix_sim::{run, Outcome, RunOptions, Scenario};
use std::path::PathBuf;

fn scenario(name: &str) -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn run_seed(scenario: &Scenario, seed: Option<u64>) -> Outcome {
    let options = RunOptions {
        seed,
        ..RunOptions::default()
    };
    run(scenario.clone(), options).expect("the simulation runs")
}

fn golden(name: &str) {
    let scenario = scenario(name);
    let first = run_seed(&scenario, None);
    let second = run_seed(&scenario, None);
    assert!(
        first.transcript == second.transcript,
        "{name}: two runs with one seed must give byte-identical transcripts"
    );
    assert!(
        first.violations.is_empty(),
        "{name}: {:?}",
        first.violations
    );
    assert_eq!(
        first.summary.expectations_failed, 0,
        "{name}: an EXPECT failed"
    );
    assert!(
        first.summary.lines < 3_000,
        "{name}: {} lines is past a reviewable transcript",
        first.summary.lines
    );
    insta::with_settings!({
        snapshot_path => ".",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, first.transcript);
    });
}

#[test]
fn hive_1k() {
    golden("hive-1k");
}

#[test]
fn partition_heal() {
    golden("partition-heal");
}

#[test]
fn budget_revocation() {
    golden("budget-revocation");
}

#[test]
fn crash_restart() {
    golden("crash-restart");
}

#[test]
fn multihive_3x1k() {
    golden("multihive-3x1k");
}

#[test]
fn smoke_pack() {
    golden("smoke-pack");
}

#[test]
fn link_faults() {
    golden("link-faults");
}

#[test]
fn another_seed_tells_another_story() {
    let scenario = scenario("budget-revocation");
    let a = run_seed(&scenario, None);
    let b = run_seed(&scenario, Some(scenario.seed + 1));
    assert_ne!(a.transcript, b.transcript);
    assert!(b.violations.is_empty(), "{:?}", b.violations);
}

#[test]
fn hostile_clients() {
    golden("hostile-clients");
}

/// Scenarios without a golden: too long for every CI run, run by hand with `cargo sim run`.
const SCALE_RUNS: &[&str] = &["hive-10k"];

/// insta never looks for stale files in this folder, so a snapshot whose test was removed or
/// renamed would sit here unchecked forever. The folder's `.snap` files, the golden
/// calls in this file and the scenarios in scenarios/ must name exactly the same set.
#[test]
fn every_golden_file_has_its_test_and_every_scenario_a_golden() {
    use std::collections::BTreeSet;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../golden");
    let stems = |dir: &PathBuf, ext: &str| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|name| name.strip_suffix(ext).map(String::from))
            .collect()
    };
    let snaps = stems(&dir, ".snap");
    let pending = stems(&dir, ".snap.new");
    assert!(
        pending.is_empty(),
        "unreviewed snapshots in golden/: {pending:?}"
    );
    let scenarios = stems(&dir.join("../scenarios"), ".toml");
    let marker = concat!("golden", "(\"");
    let tested: BTreeSet<String> = include_str!("transcripts.rs")
        .split(marker)
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_string()))
        .collect();
    let orphans: Vec<_> = snaps.difference(&tested).collect();
    assert!(
        orphans.is_empty(),
        "golden files no test checks: {orphans:?}"
    );
    // Scale runs are read for their speed-up, not diffed (docs/scenarios.md).
    let untested: Vec<_> = scenarios
        .difference(&tested)
        .filter(|name| !SCALE_RUNS.contains(&name.as_str()))
        .collect();
    assert!(
        untested.is_empty(),
        "scenarios without a golden test: {untested:?}"
    );
    let unknown: Vec<_> = tested.difference(&scenarios).collect();
    assert!(
        unknown.is_empty(),
        "golden tests without a scenario: {unknown:?}"
    );
}

#[test]
fn gpu_lease_contention() {
    golden("gpu-lease-contention");
}
