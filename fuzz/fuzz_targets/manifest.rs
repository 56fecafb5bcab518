//! The hive manifest TOML: arbitrary text through the parser and validator. A manifest that
//! validates must hold every bound, fingerprint the same twice, and boot a hive that survives
//! a few pump turns: validation is the only gate between an operator's file and the core.
#![no_main]

use hal::mem::MemHal;
use hal::{CONSOLE_PORT, NINEP_PORT};
use libfuzzer_sys::fuzz_target;
use manifest::Manifest;
use pump::{Provision, Pump};
use ticket::Keyring;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(manifest) = Manifest::from_toml_str(text) else {
        return;
    };
    assert_eq!(manifest.validate(), Ok(()));
    assert_eq!(manifest.fingerprint(), manifest.clone().fingerprint());
    let hal = MemHal::new(3);
    hal.listen(NINEP_PORT);
    hal.listen(CONSOLE_PORT);
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(b"fuzz", "hive"));
    let provision = Provision {
        keys,
        console_token: Some(b"console-token-0123".to_vec()),
        platform: "fuzz",
        hive_id: Some(0),
    };
    let mut hal = hal;
    let mut pump = Pump::new(manifest, provision, 0);
    let _ = hal.connect(NINEP_PORT);
    let _ = hal.connect(CONSOLE_PORT);
    for _ in 0..3 {
        pump.turn(&mut hal);
        hal.advance_ms(1000);
    }
});
