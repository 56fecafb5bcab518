//! Picks the linker script of the one platform feature that is enabled.

use std::env;

const PLATFORMS: [&str; 4] = ["qemu-virt", "pi4", "aws", "sel4"];

fn main() {
    let enabled: Vec<&str> = PLATFORMS
        .iter()
        .copied()
        .filter(|p| {
            env::var_os(format!(
                "CARGO_FEATURE_{}",
                p.to_uppercase().replace('-', "_")
            ))
            .is_some()
        })
        .collect();
    let platform = match enabled.as_slice() {
        [one] => *one,
        [] => panic!("no platform feature: build with one of {PLATFORMS:?}"),
        many => {
            panic!("several platform features {many:?}: use --no-default-features --features <one>")
        }
    };
    // The aws image is a UEFI application: PE/COFF from lld-link, no linker script.
    if platform == "aws" {
        println!("cargo:rerun-if-changed=build.rs");
        return;
    }
    let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = format!("{dir}/link/{platform}.ld");
    // Only the bare-metal image is linked with it; build scripts and host tools are not.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        println!("cargo:rustc-link-arg-bins=-T{script}");
    }
    println!("cargo:rerun-if-changed={script}");
    println!("cargo:rerun-if-changed=build.rs");
}
