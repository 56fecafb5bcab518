//! Swarm mode runs clean on the real core, and catches a core whose revocation enforcement
//! was switched off on purpose (the test-only switch of NineDoor).

use cohesix_sim::swarm;
use cohesix_sim::world::BootHook;
use std::rc::Rc;

#[test]
fn swarm_seeds_run_clean() {
    for seed in 1..=6 {
        let outcome = swarm::run_seed(seed, None).expect("runs");
        assert!(
            swarm::clean(&outcome),
            "seed {seed}: {:?}",
            outcome.violations
        );
    }
}

#[test]
fn a_core_that_ignores_revocation_is_caught() {
    let broken: BootHook = Rc::new(|pump| pump.ninedoor_mut().set_revocation_enforcement(false));
    let caught = (1..=50).find_map(|seed| {
        let outcome = swarm::run_seed(seed, Some(broken.clone())).expect("runs");
        (!swarm::clean(&outcome)).then_some((seed, outcome))
    });
    let (seed, outcome) = caught.expect("the broken core is caught within 50 seeds");
    assert!(
        outcome
            .violations
            .iter()
            .any(|v| v.name == "nothing-after-revocation"),
        "seed {seed}: {:?}",
        outcome.violations
    );
}
