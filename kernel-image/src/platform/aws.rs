//! AWS Graviton (`--features aws`). Wiring point for `hal/ena`: the ENA NIC as a
//! `hal_smoltcp::NetDevice`, a UEFI entry and memory map, provisioning from instance user
//! data. See `qemu_virt.rs` for the items this module must provide.

compile_error!(
    "the aws platform is not wired in yet: add hal-ena as an optional dependency of the \
     `aws` feature, a link/aws.ld, and provide NAME, memory_kind, early_console, Machine and \
     bring_up here"
);
