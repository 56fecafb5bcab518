//! The image as an seL4 root task (`--features sel4`). Wiring point for `hal/sel4`: the root
//! task's entry replaces `_start`, capabilities replace the MMU set-up, and the seL4 build at
//! `SEL4_BUILD_DIR` links the result. See `qemu_virt.rs` for the items this module must provide.

compile_error!(
    "the sel4 platform is not wired in yet: add hal-sel4 as an optional dependency of the \
     `sel4` feature and provide NAME, memory_kind, early_console, Machine and bring_up here"
);
