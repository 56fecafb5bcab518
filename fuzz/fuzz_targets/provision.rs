//! The provisioning blob the image reads at boot (`hal_virt::provision`, the parser the
//! kernel image links): arbitrary bytes through it, and a manifest it carries through the
//! manifest parser, as the image's boot plan does. No input may panic; a blob that parses
//! names an active key it holds, and its `Debug` form never shows a secret.
#![no_main]

use hal_virt::provision::{parse, PROVISION_MAX};
use libfuzzer_sys::fuzz_target;
use manifest::Manifest;

fuzz_target!(|bytes: &[u8]| {
    let Ok(provisioned) = parse(bytes) else {
        return;
    };
    assert!(bytes.len() <= PROVISION_MAX);
    assert!(provisioned.keys.len() <= 8);
    if let Some(active) = provisioned.active_key {
        assert!(provisioned.keys.iter().any(|(id, _)| *id == active));
    }
    let shown = format!("{provisioned:?}");
    if let Some(token) = &provisioned.console_token {
        let token = String::from_utf8_lossy(token);
        assert!(
            !shown.contains(token.as_ref()),
            "Debug shows the console token"
        );
    }
    if let Some(text) = &provisioned.manifest {
        let _ = Manifest::from_toml_str(text);
    }
});
