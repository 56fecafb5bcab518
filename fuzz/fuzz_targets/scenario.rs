//! Scenario TOML: arbitrary text through the simulator's scenario parser and validator. No
//! input may panic, and a scenario that parses must parse again to the same shape (its
//! capacity and heal time are functions of the text alone).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::Scenario;

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
