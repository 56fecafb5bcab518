//! Scenario TOML: arbitrary text through the simulator's scenario parser and validator. No
//! input may panic, and a scenario that parses must parse again to the same shape (its
//! capacity and heal time are functions of the text alone).
//!
//! The parser is the simulator's own module, compiled here from its sources: it depends only
//! on serde, toml, the manifest and cohscript, and building the whole simulator (turmoil,
//! tokio, the CLI) would triple the fuzz build.
#![no_main]

#[allow(dead_code, unused_imports)]
#[path = "../../sim/src/scenario/mod.rs"]
mod scenario;

use libfuzzer_sys::fuzz_target;
use scenario::Scenario;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(scenario) = Scenario::parse(text, "fuzz") {
        let again = Scenario::parse(text, "fuzz").expect("parsing is deterministic");
        assert_eq!(scenario.capacity(), again.capacity());
        assert_eq!(scenario.last_heal_us(), again.last_heal_us());
    }
});
