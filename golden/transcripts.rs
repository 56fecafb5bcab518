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
