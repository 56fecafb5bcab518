//! Mapping device frames (the UART, the NIC) into the root task. A device untyped is split
//! in halves until a 4 KiB untyped covers the wanted physical page, that page is retyped
//! into a frame and mapped uncached; missing page tables are retyped from RAM and mapped
//! on demand. Every step is bounded and every table has a fixed size.

use crate::bootinfo::{BootInfo, SlotRegion};
use crate::msginfo::Sel4Error;

/// Page size and page-table object size on aarch64 (4 KiB granule).
pub const PAGE_BITS: u8 = 12;
/// Leaf untypeds remembered across calls.
pub const MAX_LEAVES: usize = 64;
/// Page tables created per mapping at most (levels 1..3 under the VSpace root).
pub const MAX_TABLES_PER_MAP: usize = 3;

/// The kernel operations the mapper needs; the real implementation issues syscalls.
pub trait Kernel {
    /// `seL4_Untyped_Retype` of `count` objects into root-CNode slots `dest..dest+count`.
    fn retype(
        &mut self,
        untyped: u64,
        kind: ObjectKind,
        size_bits: u8,
        dest: u64,
        count: u64,
    ) -> Result<(), Sel4Error>;
    /// `seL4_ARM_Page_Map` of a frame (4 KiB or 2 MiB) as never-execute, read-write memory,
    /// uncached device memory or cached normal memory.
    fn map_frame(&mut self, frame: u64, vaddr: u64, memory: Memory) -> Result<(), Sel4Error>;
    /// `seL4_ARM_PageTable_Map`.
    fn map_table(&mut self, table: u64, vaddr: u64) -> Result<(), Sel4Error>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Untyped,
    /// A 4 KiB frame.
    Frame,
    /// A 2 MiB frame.
    LargeFrame,
    Notification,
    PageTable,
}

/// How a frame is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memory {
    /// Uncached device memory, for MMIO.
    Device,
    /// Cached normal memory, for the heap and DMA buffers.
    Normal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// No device untyped covers the address.
    NoUntyped(u64),
    /// The page was already mapped by this mapper.
    AlreadyMapped(u64),
    /// No free root-CNode slots left.
    OutOfSlots,
    /// The leaf table is full.
    OutOfLeaves,
    /// No RAM untyped to make page tables from.
    NoRam,
    /// The kernel refused an invocation.
    Kernel(Sel4Error),
    /// Page tables kept missing after the bounded number of attempts.
    TooDeep,
    /// A RAM mapping must start on a 2 MiB boundary.
    Misaligned(u64),
}

impl From<Sel4Error> for MapError {
    fn from(e: Sel4Error) -> Self {
        MapError::Kernel(e)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Leaf {
    cap: u64,
    base: u64,
    bits: u8,
    used: bool,
}

/// Hands out device frames from the boot untypeds.
pub struct DeviceMapper<'a> {
    pub(crate) bootinfo: &'a BootInfo,
    free: SlotRegion,
    leaves: [Leaf; MAX_LEAVES],
    leaf_count: usize,
    /// Boot untyped slots already split (their children live in `leaves`).
    split_roots: [u64; MAX_LEAVES],
    split_count: usize,
}

impl<'a> DeviceMapper<'a> {
    pub fn new(bootinfo: &'a BootInfo) -> Self {
        Self {
            bootinfo,
            free: bootinfo.empty,
            leaves: [Leaf::default(); MAX_LEAVES],
            leaf_count: 0,
            split_roots: [0; MAX_LEAVES],
            split_count: 0,
        }
    }

    pub(crate) fn slots(&mut self, n: u64) -> Result<u64, MapError> {
        if self.free.len() < n {
            return Err(MapError::OutOfSlots);
        }
        let first = self.free.start;
        self.free.start += n;
        Ok(first)
    }

    /// One empty root-CNode slot, for capabilities made by other invocations (IRQ handlers).
    pub fn take_slot(&mut self) -> Result<u64, MapError> {
        self.slots(1)
    }

    /// A notification object retyped from the largest RAM untyped; returns its slot.
    pub fn make_notification<K: Kernel>(&mut self, kernel: &mut K) -> Result<u64, MapError> {
        let (ram, _) = self.bootinfo.largest_ram_untyped().ok_or(MapError::NoRam)?;
        let slot = self.slots(1)?;
        kernel.retype(ram, ObjectKind::Notification, 0, slot, 1)?;
        Ok(slot)
    }

    /// Maps the 4 KiB device page containing `paddr` at `vaddr`; returns the frame cap.
    pub fn map_device<K: Kernel>(
        &mut self,
        kernel: &mut K,
        paddr: u64,
        vaddr: u64,
    ) -> Result<u64, MapError> {
        let page = paddr & !((1 << PAGE_BITS) - 1);
        let leaf = self.page_untyped(kernel, page)?;
        let frame = self.slots(1)?;
        kernel.retype(
            self.leaves[leaf].cap,
            ObjectKind::Frame,
            PAGE_BITS,
            frame,
            1,
        )?;
        self.leaves[leaf].used = true;
        self.map_with_tables(kernel, frame, vaddr, Memory::Device)?;
        Ok(frame)
    }

    /// Index of a 4 KiB leaf untyped covering `page`, splitting as needed.
    fn page_untyped<K: Kernel>(&mut self, kernel: &mut K, page: u64) -> Result<usize, MapError> {
        let mut current = match self.find_leaf(page) {
            Some(i) if self.leaves[i].used => return Err(MapError::AlreadyMapped(page)),
            Some(i) => self.leaves[i],
            None => {
                let (cap, desc) = self
                    .bootinfo
                    .untyped_for(page, true)
                    .ok_or(MapError::NoUntyped(page))?;
                if self.split_roots[..self.split_count].contains(&cap) {
                    return Err(MapError::NoUntyped(page));
                }
                if desc.size_bits < PAGE_BITS {
                    return Err(MapError::NoUntyped(page));
                }
                if self.split_count == MAX_LEAVES {
                    return Err(MapError::OutOfLeaves);
                }
                self.split_roots[self.split_count] = cap;
                self.split_count += 1;
                let leaf = Leaf {
                    cap,
                    base: desc.paddr,
                    bits: desc.size_bits,
                    used: false,
                };
                self.push_leaf(leaf)?;
                leaf
            }
        };
        // Each split turns one leaf into two halves: at most 64 - 12 rounds.
        while current.bits > PAGE_BITS {
            let half_bits = current.bits - 1;
            let first = self.slots(2)?;
            kernel.retype(current.cap, ObjectKind::Untyped, half_bits, first, 2)?;
            let half = 1u64 << half_bits;
            let low = Leaf {
                cap: first,
                base: current.base,
                bits: half_bits,
                used: false,
            };
            let high = Leaf {
                cap: first + 1,
                base: current.base + half,
                bits: half_bits,
                used: false,
            };
            self.remove_leaf(current.cap);
            self.push_leaf(low)?;
            self.push_leaf(high)?;
            current = if page >= high.base { high } else { low };
        }
        self.find_leaf(page).ok_or(MapError::NoUntyped(page))
    }

    /// The smallest remembered leaf covering `page`.
    fn find_leaf(&self, page: u64) -> Option<usize> {
        self.leaves[..self.leaf_count]
            .iter()
            .enumerate()
            .filter(|(_, l)| page >= l.base && page - l.base < (1u64 << l.bits))
            .min_by_key(|(_, l)| l.bits)
            .map(|(i, _)| i)
    }

    fn push_leaf(&mut self, leaf: Leaf) -> Result<(), MapError> {
        if self.leaf_count == MAX_LEAVES {
            return Err(MapError::OutOfLeaves);
        }
        self.leaves[self.leaf_count] = leaf;
        self.leaf_count += 1;
        Ok(())
    }

    fn remove_leaf(&mut self, cap: u64) {
        if let Some(i) = self.leaves[..self.leaf_count]
            .iter()
            .position(|l| l.cap == cap)
        {
            self.leaves[i] = self.leaves[self.leaf_count - 1];
            self.leaf_count -= 1;
        }
    }

    /// Maps `frame`, creating the page tables the VSpace lacks from the largest RAM untyped.
    pub(crate) fn map_with_tables<K: Kernel>(
        &mut self,
        kernel: &mut K,
        frame: u64,
        vaddr: u64,
        memory: Memory,
    ) -> Result<(), MapError> {
        for _ in 0..=MAX_TABLES_PER_MAP {
            match kernel.map_frame(frame, vaddr, memory) {
                Ok(()) => return Ok(()),
                Err(Sel4Error::FailedLookup) => {
                    let (ram, _) = self.bootinfo.largest_ram_untyped().ok_or(MapError::NoRam)?;
                    let table = self.slots(1)?;
                    kernel.retype(ram, ObjectKind::PageTable, PAGE_BITS, table, 1)?;
                    kernel.map_table(table, vaddr)?;
                }
                Err(e) => return Err(MapError::Kernel(e)),
            }
        }
        Err(MapError::TooDeep)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};
    use std::vec;
    use std::vec::Vec;

    /// A kernel model: untyped caps with sizes, the rule that an untyped with children
    /// cannot be split again, and a VSpace that needs three table levels before a page maps.
    #[derive(Default)]
    pub(crate) struct FakeKernel {
        pub(crate) untyped: BTreeMap<u64, (u64, u8)>,
        pub(crate) parents: BTreeSet<u64>,
        pub(crate) frames: BTreeMap<u64, u64>,
        pub(crate) tables: BTreeSet<u64>,
        pub(crate) mapped: BTreeMap<u64, u64>,
        pub(crate) table_levels: usize,
        pub(crate) calls: Vec<&'static str>,
        /// Large frames carved per untyped so far.
        pub(crate) carved: BTreeMap<u64, u64>,
        pub(crate) memory: BTreeMap<u64, Memory>,
    }

    impl Kernel for FakeKernel {
        fn retype(
            &mut self,
            untyped: u64,
            kind: ObjectKind,
            size_bits: u8,
            dest: u64,
            count: u64,
        ) -> Result<(), Sel4Error> {
            self.calls.push("retype");
            let &(base, bits) = self
                .untyped
                .get(&untyped)
                .ok_or(Sel4Error::InvalidCapability)?;
            match kind {
                ObjectKind::Untyped => {
                    if self.parents.contains(&untyped) || size_bits >= bits || count != 2 {
                        return Err(Sel4Error::RevokeFirst);
                    }
                    self.parents.insert(untyped);
                    self.untyped.insert(dest, (base, size_bits));
                    self.untyped
                        .insert(dest + 1, (base + (1 << size_bits), size_bits));
                }
                ObjectKind::Frame => {
                    if bits != PAGE_BITS || self.parents.contains(&untyped) {
                        return Err(Sel4Error::NotEnoughMemory);
                    }
                    self.parents.insert(untyped);
                    self.frames.insert(dest, base);
                }
                ObjectKind::LargeFrame => {
                    // Carved from the bottom of the untyped, 2 MiB each, as the kernel does.
                    let used = self.carved.entry(untyped).or_insert(0);
                    if (*used + count) << size_bits > 1u64 << bits {
                        return Err(Sel4Error::NotEnoughMemory);
                    }
                    for i in 0..count {
                        self.frames
                            .insert(dest + i, base + ((*used + i) << size_bits));
                    }
                    *used += count;
                }
                ObjectKind::PageTable | ObjectKind::Notification => {
                    self.tables.insert(dest);
                }
            }
            Ok(())
        }

        fn map_frame(&mut self, frame: u64, vaddr: u64, memory: Memory) -> Result<(), Sel4Error> {
            self.calls.push("map_frame");
            self.memory.insert(vaddr, memory);
            if self.table_levels < 3 {
                return Err(Sel4Error::FailedLookup);
            }
            let paddr = *self
                .frames
                .get(&frame)
                .ok_or(Sel4Error::InvalidCapability)?;
            self.mapped.insert(vaddr, paddr);
            Ok(())
        }

        fn map_table(&mut self, table: u64, _vaddr: u64) -> Result<(), Sel4Error> {
            self.calls.push("map_table");
            if !self.tables.contains(&table) {
                return Err(Sel4Error::InvalidCapability);
            }
            self.table_levels += 1;
            Ok(())
        }
    }

    pub(crate) fn bootinfo() -> BootInfo {
        // Slots 10.. are empty; untyped 2 (RAM 2^20 at 0x4000_0000) and 3 (device 2^16 at
        // 0x0900_0000).
        let mut b = vec![0u8; 4096];
        let put =
            |b: &mut Vec<u8>, off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_le_bytes());
        put(&mut b, 40, 10);
        put(&mut b, 48, 200);
        let ut = 5 * 8 + 6 * 16 + 16;
        put(&mut b, ut, 2);
        put(&mut b, ut + 8, 4);
        put(&mut b, ut + 16, 0x4000_0000);
        b[ut + 24] = 20;
        put(&mut b, ut + 32, 0x0900_0000);
        b[ut + 40] = 16;
        b[ut + 41] = 1;
        BootInfo::parse(&b, false).unwrap()
    }

    pub(crate) fn kernel() -> FakeKernel {
        let mut k = FakeKernel::default();
        k.untyped.insert(2, (0x4000_0000, 20));
        k.untyped.insert(3, (0x0900_0000, 16));
        k
    }

    #[test]
    fn maps_a_device_page_splitting_the_untyped_and_adding_tables() {
        let bi = bootinfo();
        let mut k = kernel();
        let mut mapper = DeviceMapper::new(&bi);
        let frame = mapper.map_device(&mut k, 0x0900_3010, 0x1000_0000).unwrap();
        assert_eq!(k.frames[&frame], 0x0900_3000);
        assert_eq!(k.mapped[&0x1000_0000], 0x0900_3000);
        assert_eq!(k.tables.len(), 3);
        // 16 -> 12 bits: four splits of two slots, one frame, three tables.
        assert_eq!(mapper.free.start, 10 + 8 + 1 + 3);
    }

    #[test]
    fn a_second_page_in_the_same_untyped_reuses_the_splits() {
        let bi = bootinfo();
        let mut k = kernel();
        let mut mapper = DeviceMapper::new(&bi);
        mapper.map_device(&mut k, 0x0900_3000, 0x1000_0000).unwrap();
        let frame = mapper.map_device(&mut k, 0x0900_A000, 0x1000_1000).unwrap();
        assert_eq!(k.frames[&frame], 0x0900_A000);
        assert_eq!(k.mapped[&0x1000_1000], 0x0900_A000);
        let frame = mapper.map_device(&mut k, 0x0900_2000, 0x1000_2000).unwrap();
        assert_eq!(k.frames[&frame], 0x0900_2000);
    }

    #[test]
    fn mapping_failures_are_named() {
        let bi = bootinfo();
        let mut k = kernel();
        let mut mapper = DeviceMapper::new(&bi);
        assert_eq!(
            mapper.map_device(&mut k, 0x0A00_0000, 0x1000_0000),
            Err(MapError::NoUntyped(0x0A00_0000))
        );
        mapper.map_device(&mut k, 0x0900_0000, 0x1000_0000).unwrap();
        assert_eq!(
            mapper.map_device(&mut k, 0x0900_0004, 0x1000_1000),
            Err(MapError::AlreadyMapped(0x0900_0000))
        );

        let mut k = kernel();
        k.untyped.remove(&3);
        let mut mapper = DeviceMapper::new(&bi);
        assert_eq!(
            mapper.map_device(&mut k, 0x0900_0000, 0x1000_0000),
            Err(MapError::Kernel(Sel4Error::InvalidCapability))
        );
    }

    #[test]
    fn running_out_of_slots_is_a_refusal() {
        let mut bi = bootinfo();
        bi.empty = SlotRegion { start: 10, end: 14 };
        let mut k = kernel();
        let mut mapper = DeviceMapper::new(&bi);
        assert_eq!(
            mapper.map_device(&mut k, 0x0900_0000, 0x1000_0000),
            Err(MapError::OutOfSlots)
        );
    }

    #[test]
    fn a_vspace_that_never_resolves_stops_after_bounded_attempts() {
        struct Stubborn;
        impl Kernel for Stubborn {
            fn retype(
                &mut self,
                _: u64,
                _: ObjectKind,
                _: u8,
                _: u64,
                _: u64,
            ) -> Result<(), Sel4Error> {
                Ok(())
            }
            fn map_frame(&mut self, _: u64, _: u64, _: Memory) -> Result<(), Sel4Error> {
                Err(Sel4Error::FailedLookup)
            }
            fn map_table(&mut self, _: u64, _: u64) -> Result<(), Sel4Error> {
                Ok(())
            }
        }
        let bi = bootinfo();
        let mut mapper = DeviceMapper::new(&bi);
        assert_eq!(
            mapper.map_device(&mut Stubborn, 0x0900_0000, 0x1000_0000),
            Err(MapError::TooDeep)
        );
    }
}
