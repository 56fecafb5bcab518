//! The fixed memory map of QEMU's `virt` machine (hw/arm/virt.c), which every release since
//! 2.x keeps stable. Nothing here needs the device tree.

/// PL011 UART (`-serial`).
pub const PL011_BASE: usize = 0x0900_0000;
/// fw_cfg MMIO interface (`-fw_cfg name=...`).
pub const FW_CFG_BASE: usize = 0x0902_0000;
/// First virtio-mmio transport; the others follow every `VIRTIO_MMIO_STRIDE` bytes.
pub const VIRTIO_MMIO_BASE: usize = 0x0a00_0000;
pub const VIRTIO_MMIO_STRIDE: usize = 0x200;
pub const VIRTIO_MMIO_COUNT: usize = 32;
/// GICv3 distributor and redistributors (`-M virt,gic-version=3`; the default GICv2 sits at
/// the same distributor address and is not used).
pub const GICD_BASE: usize = 0x0800_0000;
pub const GICR_BASE: usize = 0x080a_0000;
/// Start of RAM; its size is whatever `-m` gave.
pub const RAM_BASE: usize = 0x4000_0000;
/// Everything below RAM is device space.
pub const DEVICE_SPACE_END: usize = RAM_BASE;

/// The address of virtio-mmio transport `slot`.
pub const fn virtio_mmio_slot(slot: usize) -> usize {
    VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_STRIDE
}

/// The interrupt of the virtio-mmio transport at `base`: SPI 16 + slot, INTID 48 + slot.
pub const fn virtio_mmio_intid(base: usize) -> u32 {
    48 + ((base - VIRTIO_MMIO_BASE) / VIRTIO_MMIO_STRIDE) as u32
}
