//! The boards' memory maps and the block descriptors the MMU is given for them (the tables
//! `arch::mmu` installs). Pure, so the host tests check every platform's map against the
//! board's documented addresses without booting it.

/// How one 2 MiB block is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemKind {
    Normal,
    Device,
    Unmapped,
}

/// The size of one level-2 block.
pub const BLOCK: u64 = 2 << 20;

/// MAIR attribute indices.
pub const ATTR_DEVICE: u64 = 0;
pub const ATTR_NORMAL: u64 = 1;
/// Attr0 Device-nGnRnE (0x00), Attr1 Normal write-back read/write-allocate (0xff).
pub const MAIR: u64 = 0xff << (8 * ATTR_NORMAL);

const VALID: u64 = 1;
const AF: u64 = 1 << 10;
const INNER_SHAREABLE: u64 = 0b11 << 8;
const PXN: u64 = 1 << 53;
const UXN: u64 = 1 << 54;

const NORMAL_BLOCK: u64 = VALID | (ATTR_NORMAL << 2) | INNER_SHAREABLE | AF | UXN;
const DEVICE_BLOCK: u64 = VALID | (ATTR_DEVICE << 2) | AF | PXN | UXN;

/// The level-2 block descriptor for the block at `addr` (2 MiB aligned): RAM is cacheable
/// and executable at EL1, devices never executable, unmapped blocks invalid (they fault).
pub fn block_descriptor(addr: u64, kind: MemKind) -> u64 {
    match kind {
        MemKind::Normal => addr | NORMAL_BLOCK,
        MemKind::Device => addr | DEVICE_BLOCK,
        MemKind::Unmapped => 0,
    }
}

/// QEMU virt: devices below RAM (GIC, PL011, fw_cfg, virtio-mmio), RAM from 1 GiB.
pub mod qemu_virt {
    use super::MemKind;
    use hal_virt::board::{DEVICE_SPACE_END, RAM_BASE};

    /// RAM mapped as normal memory: QEMU's `-m` up to 1 GiB.
    pub const RAM_MAPPED: u64 = 1 << 30;

    pub fn memory_kind(addr: u64) -> MemKind {
        let ram = RAM_BASE as u64;
        if addr < DEVICE_SPACE_END as u64 {
            MemKind::Device
        } else if addr < ram + RAM_MAPPED {
            MemKind::Normal
        } else {
            MemKind::Unmapped
        }
    }
}

/// Raspberry Pi 4: RAM in the first GiB (the part every Pi 4 has), peripherals in the top
/// 64 MiB of 4 GiB.
pub mod pi4 {
    use super::MemKind;

    pub fn memory_kind(addr: u64) -> MemKind {
        if addr < 0x4000_0000 {
            MemKind::Normal
        } else if (0xFC00_0000..0x1_0000_0000).contains(&addr) {
            MemKind::Device
        } else {
            MemKind::Unmapped
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Addresses from QEMU's `hw/arm/virt.c` memory map and the image's linker script.
    #[test]
    fn qemu_virt_map_matches_the_machine() {
        let kind = qemu_virt::memory_kind;
        for device in [
            0x0800_0000,
            0x080a_0000,
            0x0900_0000,
            0x0902_0000,
            0x0a00_0000,
        ] {
            assert_eq!(kind(device), MemKind::Device, "{device:#x}");
        }
        // The image loads at 0x4008_0000 (link/qemu-virt.ld), its heap follows.
        for ram in [0x4000_0000, 0x4008_0000, 0x4800_0000, 0x7fe0_0000] {
            assert_eq!(kind(ram), MemKind::Normal, "{ram:#x}");
        }
        for none in [0x8000_0000, 0xffe0_0000] {
            assert_eq!(kind(none), MemKind::Unmapped, "{none:#x}");
        }
    }

    /// Addresses from the BCM2711 peripherals datasheet (low-peripheral mode).
    #[test]
    fn pi4_map_matches_the_board() {
        let kind = pi4::memory_kind;
        // UART0, GPIO, the mailbox, GENET.
        for device in [0xFE20_1000, 0xFE20_0000, 0xFE00_B880, 0xFD58_0000] {
            assert_eq!(kind(device), MemKind::Device, "{device:#x}");
        }
        assert_eq!(kind(0x8_0000), MemKind::Normal, "the kernel's load address");
        assert_eq!(kind(0x3fe0_0000), MemKind::Normal);
        assert_eq!(kind(0x4000_0000), MemKind::Unmapped);
        assert_eq!(kind(0xFBE0_0000), MemKind::Unmapped);
    }

    #[test]
    fn descriptors_follow_the_armv8_block_format() {
        let addr = 0x4020_0000;
        let normal = block_descriptor(addr, MemKind::Normal);
        let device = block_descriptor(addr, MemKind::Device);
        assert_eq!(
            block_descriptor(addr, MemKind::Unmapped),
            0,
            "invalid: faults"
        );
        for d in [normal, device] {
            assert_eq!(d & 0b11, 0b01, "a valid block, not a table");
            assert_eq!(d & 0x0000_ffff_ffe0_0000, addr, "output address kept");
            assert_ne!(d & (1 << 10), 0, "access flag set: no access faults");
            assert_ne!(d & (1 << 54), 0, "never executable at EL0");
            assert_eq!((d >> 6) & 0b11, 0, "AP: EL1 read/write");
        }
        assert_eq!((normal >> 2) & 0b111, ATTR_NORMAL);
        assert_eq!((normal >> 8) & 0b11, 0b11, "normal memory inner shareable");
        assert_eq!(
            normal & (1 << 53),
            0,
            "RAM executable at EL1 (the image runs there)"
        );
        assert_eq!((device >> 2) & 0b111, ATTR_DEVICE);
        assert_ne!(device & (1 << 53), 0, "devices never executable");
        // MAIR: the attribute each index names.
        assert_eq!(
            (MAIR >> (8 * ATTR_NORMAL)) & 0xff,
            0xff,
            "normal write-back"
        );
        assert_eq!((MAIR >> (8 * ATTR_DEVICE)) & 0xff, 0x00, "Device-nGnRnE");
    }

    #[test]
    fn each_board_maps_one_gib_of_ram() {
        for kind in [
            qemu_virt::memory_kind as fn(u64) -> MemKind,
            pi4::memory_kind,
        ] {
            let normal = (0..2048u64)
                .map(|i| i * BLOCK)
                .filter(|a| kind(*a) == MemKind::Normal)
                .count();
            // Both boards map exactly 1 GiB of RAM.
            assert_eq!(normal as u64 * BLOCK, 1 << 30);
        }
    }
}
