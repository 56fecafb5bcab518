//! The root task's heap, mapped from RAM untyped at run time. The kernel makes one frame
//! capability per 4 KiB page of the root task's ELF in the root CNode (2^12 slots by
//! default), so a heap linked into the image would not fit; 2 MiB frames retyped from the
//! largest RAM untyped need one slot each (16 for 32 MiB).

use crate::devmap::{DeviceMapper, Kernel, MapError, Memory, ObjectKind};
use crate::msginfo::Sel4Error;

/// Size of one large frame on aarch64 (4 KiB granule, level-2 block).
pub const LARGE_PAGE_BITS: u8 = 21;
/// Large frames per heap at most: bounds the slots and the retype fan-out.
pub const MAX_LARGE_PAGES: u64 = 128;

/// RAM mapped by [`DeviceMapper::map_ram`]: `count` 2 MiB frames in consecutive slots from
/// `first_cap`, retyped by one invocation from one untyped and so physically contiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RamRegion {
    pub first_cap: u64,
    pub count: u64,
}

impl RamRegion {
    pub fn bytes(&self) -> u64 {
        self.count << LARGE_PAGE_BITS
    }
}

impl DeviceMapper<'_> {
    /// Maps up to `bytes` of cached RAM at `vaddr` (2 MiB aligned) in 2 MiB frames: fewer
    /// than asked when the largest RAM untyped is smaller, never none without an error.
    pub fn map_ram<K: Kernel>(
        &mut self,
        kernel: &mut K,
        vaddr: u64,
        bytes: u64,
    ) -> Result<RamRegion, MapError> {
        let large = 1u64 << LARGE_PAGE_BITS;
        if vaddr & (large - 1) != 0 {
            return Err(MapError::Misaligned(vaddr));
        }
        let (ram, desc) = self.bootinfo.largest_ram_untyped().ok_or(MapError::NoRam)?;
        // Leave one large frame's worth of the untyped for the page tables made later.
        let room = (1u64 << desc.size_bits.min(63)) / large;
        let mut count = bytes
            .div_ceil(large)
            .min(room.saturating_sub(1))
            .min(MAX_LARGE_PAGES);
        if count == 0 {
            return Err(MapError::NoRam);
        }
        let first = self.slots(count)?;
        // The untyped may already hold page tables; ask for less until the kernel agrees.
        loop {
            match kernel.retype(ram, ObjectKind::LargeFrame, LARGE_PAGE_BITS, first, count) {
                Ok(()) => break,
                Err(Sel4Error::NotEnoughMemory) if count > 1 => count /= 2,
                Err(e) => return Err(MapError::Kernel(e)),
            }
        }
        for i in 0..count {
            self.map_with_tables(kernel, first + i, vaddr + i * large, Memory::Normal)?;
        }
        Ok(RamRegion {
            first_cap: first,
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devmap::tests::{bootinfo, kernel};

    #[test]
    fn maps_the_heap_in_large_frames_from_ram() {
        // The test boot info's RAM untyped is 2^20: too small for one large frame.
        let bi = bootinfo();
        let mut k = kernel();
        let mut mapper = DeviceMapper::new(&bi);
        assert_eq!(
            mapper.map_ram(&mut k, 0x2000_0000, 8 << 20),
            Err(MapError::NoRam)
        );

        let mut bi = bootinfo();
        bi.set_untyped_bits(0, 26);
        let mut k = kernel();
        k.untyped.insert(2, (0x4000_0000, 26));
        let mut mapper = DeviceMapper::new(&bi);
        let region = mapper.map_ram(&mut k, 0x2000_0000, 8 << 20).unwrap();
        assert_eq!(region.bytes(), 8 << 20);
        for i in 0..4u64 {
            let va = 0x2000_0000 + (i << 21);
            assert_eq!(k.mapped[&va], 0x4000_0000 + (i << 21));
            assert_eq!(k.memory[&va], Memory::Normal);
        }
    }

    #[test]
    fn a_short_untyped_gives_a_smaller_heap_and_misalignment_is_refused() {
        let mut bi = bootinfo();
        bi.set_untyped_bits(0, 24);
        let mut k = kernel();
        k.untyped.insert(2, (0x4000_0000, 24));
        let mut mapper = DeviceMapper::new(&bi);
        // 16 MiB untyped: 7 large frames, one frame's worth left for tables.
        let region = mapper.map_ram(&mut k, 0x2000_0000, 32 << 20);
        assert_eq!(region.map(|r| r.bytes()), Ok(7 << 21));
        assert_eq!(
            mapper.map_ram(&mut k, 0x2000_1000, 2 << 20),
            Err(MapError::Misaligned(0x2000_1000))
        );
    }

    #[test]
    fn the_kernel_running_short_halves_the_request() {
        let mut bi = bootinfo();
        bi.set_untyped_bits(0, 26);
        let mut k = kernel();
        // The kernel's untyped is smaller than the boot info claims (tables carved already).
        k.untyped.insert(2, (0x4000_0000, 23));
        let mut mapper = DeviceMapper::new(&bi);
        let region = mapper.map_ram(&mut k, 0x2000_0000, 32 << 20);
        assert_eq!(region.map(|r| r.bytes()), Ok(4 << 21));
    }
}
