//! Raspberry Pi 4 (`--features pi4`). Wiring point for `hal/pi4`: PL011 at 0xFE201000 as the
//! console, the generic timer, GENET as a `hal_smoltcp::NetDevice`, provisioning from a file
//! on the boot partition. `link/pi4.ld` already places the image at 0x80000.
//! See `qemu_virt.rs` for the items this module must provide.

compile_error!(
    "the pi4 platform is not wired in yet: add hal-pi4 as an optional dependency of the \
     `pi4` feature and provide NAME, memory_kind, early_console, Machine and bring_up here"
);
