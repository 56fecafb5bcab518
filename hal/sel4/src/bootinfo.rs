//! Parsing of `seL4_BootInfo` (libsel4 `bootinfo_types.h`, 64-bit): the frame the kernel
//! hands the root task in x0. The parser works on bytes, checks every length, and keeps at
//! most [`MAX_UNTYPED`] untyped descriptors.

/// CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS of the default kernel configuration.
pub const MAX_UNTYPED: usize = 230;
/// The boot-info frame is one 4 KiB page; extra chunks start right after it.
pub const FRAME_SIZE: usize = 4096;
/// Root CNode slots with fixed meaning.
pub const CAP_INIT_THREAD_CNODE: u64 = 2;
pub const CAP_INIT_THREAD_VSPACE: u64 = 3;
pub const CAP_IRQ_CONTROL: u64 = 4;

const WORD: usize = 8;
const SLOT_REGION: usize = 16;
const UNTYPED_DESC: usize = 16;
/// Offset of `initThreadCNodeSizeBits`: 5 words, then 6 slot regions.
const CNODE_BITS_OFFSET: usize = 5 * WORD + 6 * SLOT_REGION;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootInfoError {
    /// The blob ends before the field at this offset.
    Truncated(usize),
    /// A slot region whose end is before its start.
    BadRegion,
    /// More untyped caps than this parser keeps.
    TooManyUntyped(u64),
}

/// A range of root-CNode slots `[start, end)`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SlotRegion {
    pub start: u64,
    pub end: u64,
}

impl SlotRegion {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// One untyped capability: its physical address, size and whether it covers device memory.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UntypedDesc {
    pub paddr: u64,
    pub size_bits: u8,
    pub is_device: bool,
}

impl UntypedDesc {
    pub fn contains(&self, paddr: u64) -> bool {
        let size = 1u64.checked_shl(u32::from(self.size_bits)).unwrap_or(0);
        paddr >= self.paddr && paddr - self.paddr < size
    }
}

/// The parts of `seL4_BootInfo` the image uses.
#[derive(Clone, PartialEq, Eq)]
pub struct BootInfo {
    pub extra_len: u64,
    pub node_id: u64,
    pub num_nodes: u64,
    pub ipc_buffer: u64,
    pub empty: SlotRegion,
    pub user_image_frames: SlotRegion,
    pub init_cnode_size_bits: u64,
    pub untyped: SlotRegion,
    untyped_list: [UntypedDesc; MAX_UNTYPED],
}

impl core::fmt::Debug for BootInfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BootInfo")
            .field("node_id", &self.node_id)
            .field("ipc_buffer", &self.ipc_buffer)
            .field("empty", &self.empty)
            .field("untyped", &self.untyped_list())
            .finish_non_exhaustive()
    }
}

fn word(blob: &[u8], offset: usize) -> Result<u64, BootInfoError> {
    let bytes = blob
        .get(offset..offset + WORD)
        .ok_or(BootInfoError::Truncated(offset))?;
    let mut w = [0u8; WORD];
    w.copy_from_slice(bytes);
    Ok(u64::from_le_bytes(w))
}

fn region(blob: &[u8], offset: usize) -> Result<SlotRegion, BootInfoError> {
    let r = SlotRegion {
        start: word(blob, offset)?,
        end: word(blob, offset + WORD)?,
    };
    if r.end < r.start {
        return Err(BootInfoError::BadRegion);
    }
    Ok(r)
}

impl BootInfo {
    /// Parses the boot-info frame. `mcs` says whether the kernel was built with
    /// CONFIG_KERNEL_MCS, which inserts the `schedcontrol` region before `untyped`.
    pub fn parse(blob: &[u8], mcs: bool) -> Result<Self, BootInfoError> {
        let untyped_offset = CNODE_BITS_OFFSET + 2 * WORD + if mcs { SLOT_REGION } else { 0 };
        let untyped = region(blob, untyped_offset)?;
        let count = untyped.len();
        if count > MAX_UNTYPED as u64 {
            return Err(BootInfoError::TooManyUntyped(count));
        }
        let list_offset = untyped_offset + SLOT_REGION;
        let mut untyped_list = [UntypedDesc::default(); MAX_UNTYPED];
        for (i, desc) in untyped_list.iter_mut().enumerate().take(count as usize) {
            let at = list_offset + i * UNTYPED_DESC;
            let meta = blob
                .get(at + WORD..at + WORD + 2)
                .ok_or(BootInfoError::Truncated(at + WORD))?;
            *desc = UntypedDesc {
                paddr: word(blob, at)?,
                size_bits: meta[0],
                is_device: meta[1] != 0,
            };
        }
        Ok(Self {
            extra_len: word(blob, 0)?,
            node_id: word(blob, WORD)?,
            num_nodes: word(blob, 2 * WORD)?,
            ipc_buffer: word(blob, 4 * WORD)?,
            empty: region(blob, 5 * WORD)?,
            user_image_frames: region(blob, 5 * WORD + 2 * SLOT_REGION)?,
            init_cnode_size_bits: word(blob, CNODE_BITS_OFFSET)?,
            untyped,
            untyped_list,
        })
    }

    /// Changes the size of the `index`th untyped (tests of the mappers).
    #[cfg(test)]
    pub(crate) fn set_untyped_bits(&mut self, index: usize, size_bits: u8) {
        self.untyped_list[index].size_bits = size_bits;
    }

    /// The untyped descriptors, in slot order (slot = `untyped.start + index`).
    pub fn untyped_list(&self) -> &[UntypedDesc] {
        &self.untyped_list[..self.untyped.len() as usize]
    }

    /// The untyped cap covering `paddr` and its descriptor, preferring device untypeds.
    pub fn untyped_for(&self, paddr: u64, device: bool) -> Option<(u64, UntypedDesc)> {
        self.untyped_list()
            .iter()
            .enumerate()
            .find(|(_, d)| d.is_device == device && d.contains(paddr))
            .map(|(i, d)| (self.untyped.start + i as u64, *d))
    }

    /// The largest RAM untyped (for page tables), if any of at least 4 KiB.
    pub fn largest_ram_untyped(&self) -> Option<(u64, UntypedDesc)> {
        self.untyped_list()
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.is_device && d.size_bits >= 12)
            .max_by_key(|(_, d)| d.size_bits)
            .map(|(i, d)| (self.untyped.start + i as u64, *d))
    }
}

/// Iterates the extra boot-info chunks (`seL4_BootInfoHeader`: id, length including the
/// header) that follow the frame; yields (id, payload). Stops at the first malformed header.
pub fn extra_chunks(extra: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut offset = 0usize;
    core::iter::from_fn(move || {
        let id = word(extra, offset).ok()?;
        let len = usize::try_from(word(extra, offset + WORD).ok()?).ok()?;
        if len < 2 * WORD {
            return None;
        }
        let end = offset.checked_add(len)?;
        let payload = extra.get(offset + 2 * WORD..end)?;
        offset = end;
        Some((id, payload))
    })
}

/// Chunk id of the flattened device tree.
pub const CHUNK_FDT: u64 = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    struct Blob(Vec<u8>);

    impl Blob {
        fn put(&mut self, offset: usize, v: u64) {
            self.0[offset..offset + 8].copy_from_slice(&v.to_le_bytes());
        }
    }

    /// A boot-info frame with two untypeds: RAM at 0x4000_0000 (2^20) and a device
    /// region at 0x0900_0000 (2^12).
    fn sample(mcs: bool) -> Vec<u8> {
        let mut b = Blob(vec![0u8; FRAME_SIZE]);
        b.put(8, 0);
        b.put(16, 1);
        b.put(32, 0x52_0000);
        b.put(40, 120);
        b.put(48, 4096);
        b.put(72, 20);
        b.put(80, 60);
        b.put(CNODE_BITS_OFFSET, 12);
        let ut = CNODE_BITS_OFFSET + 16 + if mcs { 16 } else { 0 };
        b.put(ut, 60);
        b.put(ut + 8, 62);
        b.put(ut + 16, 0x4000_0000);
        b.0[ut + 24] = 20;
        b.put(ut + 32, 0x0900_0000);
        b.0[ut + 40] = 12;
        b.0[ut + 41] = 1;
        b.0
    }

    #[test]
    fn parses_a_crafted_frame() {
        for mcs in [false, true] {
            let bi = BootInfo::parse(&sample(mcs), mcs).unwrap();
            assert_eq!(bi.num_nodes, 1);
            assert_eq!(bi.ipc_buffer, 0x52_0000);
            assert_eq!(
                bi.empty,
                SlotRegion {
                    start: 120,
                    end: 4096
                }
            );
            assert_eq!(bi.user_image_frames.len(), 40);
            assert_eq!(bi.init_cnode_size_bits, 12);
            assert_eq!(bi.untyped_list().len(), 2);
            assert_eq!(bi.untyped_for(0x0900_0010, true).map(|u| u.0), Some(61));
            assert_eq!(bi.untyped_for(0x0900_1000, true), None);
            assert_eq!(bi.largest_ram_untyped().map(|u| u.0), Some(60));
        }
    }

    #[test]
    fn the_mcs_flag_changes_where_untypeds_are_read() {
        let bi = BootInfo::parse(&sample(true), false);
        assert!(bi.map_or(true, |b| b.untyped_list().len() != 2));
    }

    #[test]
    fn truncated_or_inconsistent_frames_are_refused() {
        let blob = sample(false);
        assert!(matches!(
            BootInfo::parse(&blob[..100], false),
            Err(BootInfoError::Truncated(_))
        ));
        let mut bad = Blob(blob.clone());
        bad.put(40, 5000);
        assert_eq!(
            BootInfo::parse(&bad.0, false),
            Err(BootInfoError::BadRegion)
        );
        let mut many = Blob(blob);
        let ut = CNODE_BITS_OFFSET + 16;
        many.put(ut + 8, 60 + 231);
        assert_eq!(
            BootInfo::parse(&many.0, false),
            Err(BootInfoError::TooManyUntyped(231))
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4200)) {
            let _ = BootInfo::parse(&bytes, false);
            let _ = BootInfo::parse(&bytes, true);
            let _ = extra_chunks(&bytes).count();
        }

        #[test]
        fn parsed_untypeds_round_trip(entries in proptest::collection::vec((proptest::prelude::any::<u64>(), 0u8..64, proptest::prelude::any::<bool>()), 0..MAX_UNTYPED)) {
            let mut b = Blob(sample(false));
            let ut = CNODE_BITS_OFFSET + 16;
            b.put(ut, 100);
            b.put(ut + 8, 100 + entries.len() as u64);
            b.0.resize(ut + 16 + 16 * entries.len().max(2), 0);
            for (i, &(paddr, bits, dev)) in entries.iter().enumerate() {
                let at = ut + 16 + 16 * i;
                b.put(at, paddr);
                b.0[at + 8] = bits;
                b.0[at + 9] = u8::from(dev);
            }
            let bi = BootInfo::parse(&b.0, false).unwrap();
            let got: Vec<_> = bi.untyped_list().iter().map(|d| (d.paddr, d.size_bits, d.is_device)).collect();
            proptest::prop_assert_eq!(got, entries);
        }
    }

    #[test]
    fn extra_chunks_yield_payloads_and_stop_on_bad_headers() {
        let mut b = Blob(vec![0u8; 64]);
        b.put(0, CHUNK_FDT);
        b.put(8, 24);
        b.0[16..24].copy_from_slice(b"\xd0\x0d\xfe\xed....");
        b.put(24, 0);
        b.put(32, 4);
        let chunks: Vec<_> = extra_chunks(&b.0).collect();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].0, CHUNK_FDT);
        assert_eq!(&chunks[0].1[..4], b"\xd0\x0d\xfe\xed");
    }
}
