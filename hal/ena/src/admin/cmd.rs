//! Admin command encoding and completion decoding. Layouts are those of
//! `ena_admin_defs.h` and `ena_common_defs.h`: 64-byte little-endian entries, a 4-byte
//! common descriptor (command id, opcode, flags) on submissions and an 8-byte one (command
//! id, status, flags, extended status, SQ head) on completions.

/// Size of every admin submission, completion and AENQ entry.
pub const ENTRY: usize = 64;
pub type Entry = [u8; ENTRY];

pub const OP_CREATE_SQ: u8 = 1;
pub const OP_DESTROY_SQ: u8 = 2;
pub const OP_CREATE_CQ: u8 = 3;
pub const OP_DESTROY_CQ: u8 = 4;
pub const OP_GET_FEATURE: u8 = 8;
pub const OP_SET_FEATURE: u8 = 9;

pub const FEAT_DEVICE_ATTRIBUTES: u8 = 1;
pub const FEAT_MAX_QUEUES_NUM: u8 = 2;
pub const FEAT_MTU: u8 = 14;
pub const FEAT_AENQ_CONFIG: u8 = 26;

pub const DIRECTION_TX: u8 = 1;
pub const DIRECTION_RX: u8 = 2;
const PLACEMENT_HOST: u8 = 1;
const COMPLETION_PER_DESC: u8 = 0;

pub const AENQ_LINK_CHANGE: u16 = 0;
pub const AENQ_FATAL_ERROR: u16 = 1;
pub const AENQ_WARNING: u16 = 2;
pub const AENQ_NOTIFICATION: u16 = 3;
pub const AENQ_KEEP_ALIVE: u16 = 4;

pub fn le16(e: &[u8], off: usize) -> u16 {
    match e.get(off..off + 2) {
        Some(b) => u16::from_le_bytes([b[0], b[1]]),
        None => 0,
    }
}

pub fn le32(e: &[u8], off: usize) -> u32 {
    match e.get(off..off + 4) {
        Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

fn put16(e: &mut Entry, off: usize, v: u16) {
    e[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(e: &mut Entry, off: usize, v: u32) {
    e[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

/// `ena_common_mem_addr`: low 32 bits, then bits 47:32 in a 16-bit field.
fn put_addr(e: &mut Entry, off: usize, addr: u64) {
    put32(e, off, addr as u32);
    put16(e, off + 4, (addr >> 32) as u16);
}

fn with_opcode(opcode: u8) -> Entry {
    let mut e = [0u8; ENTRY];
    e[2] = opcode;
    e
}

/// Fills in the command id (bits 11:0) and the phase bit of a submission.
pub fn stamp(e: &mut Entry, command_id: u16, phase: u8) {
    put16(e, 0, command_id & 0x0FFF);
    e[3] = (e[3] & !1) | (phase & 1);
}

pub fn opcode(e: &Entry) -> u8 {
    e[2]
}

pub fn get_feature(feature: u8) -> Entry {
    let mut e = with_opcode(OP_GET_FEATURE);
    // Control buffer (bytes 4..16) unused: every feature read here fits inline.
    e[17] = feature;
    e
}

pub fn set_aenq_groups(groups: u32) -> Entry {
    let mut e = with_opcode(OP_SET_FEATURE);
    e[17] = FEAT_AENQ_CONFIG;
    put32(&mut e, 24, groups);
    e
}

/// Sets the device MTU (excluding the Ethernet header) so frames fit one buffer.
pub fn set_mtu(mtu: u32) -> Entry {
    let mut e = with_opcode(OP_SET_FEATURE);
    e[17] = FEAT_MTU;
    put32(&mut e, 20, mtu);
    e
}

/// A completion queue in host memory, polled (interrupt mode off).
pub fn create_cq(entry_bytes: usize, depth: u16, base: u64) -> Entry {
    let mut e = with_opcode(OP_CREATE_CQ);
    e[5] = ((entry_bytes / 4) as u8) & 0x1F;
    put16(&mut e, 6, depth);
    put_addr(&mut e, 12, base);
    e
}

/// A submission queue in host memory (no LLQ), one completion per descriptor.
pub fn create_sq(direction: u8, cq_idx: u16, depth: u16, base: u64) -> Entry {
    let mut e = with_opcode(OP_CREATE_SQ);
    e[4] = (direction & 0x7) << 5;
    e[6] = PLACEMENT_HOST | (COMPLETION_PER_DESC << 4);
    e[7] = 1; // physically contiguous
    put16(&mut e, 8, cq_idx);
    put16(&mut e, 10, depth);
    put_addr(&mut e, 12, base);
    e
}

pub fn destroy_sq(direction: u8, sq_idx: u16) -> Entry {
    let mut e = with_opcode(OP_DESTROY_SQ);
    put16(&mut e, 4, sq_idx);
    e[6] = (direction & 0x7) << 5;
    e
}

pub fn destroy_cq(cq_idx: u16) -> Entry {
    let mut e = with_opcode(OP_DESTROY_CQ);
    put16(&mut e, 4, cq_idx);
    e
}

/// The common part of a completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    pub command_id: u16,
    pub status: u8,
    pub phase: u8,
    pub extended_status: u16,
}

pub fn completion(e: &Entry) -> Completion {
    Completion {
        command_id: le16(e, 0) & 0x0FFF,
        status: e[2],
        phase: e[3] & 1,
        extended_status: le16(e, 4),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceAttr {
    pub impl_id: u32,
    pub device_version: u32,
    pub supported_features: u32,
    pub phys_addr_width: u32,
    pub mac: [u8; 6],
    pub max_mtu: u32,
}

pub fn device_attr(e: &Entry) -> DeviceAttr {
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&e[32..38]);
    DeviceAttr {
        impl_id: le32(e, 8),
        device_version: le32(e, 12),
        supported_features: le32(e, 16),
        phys_addr_width: le32(e, 24),
        mac,
        max_mtu: le32(e, 40),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxQueues {
    pub max_sq_num: u32,
    pub max_sq_depth: u32,
    pub max_cq_num: u32,
    pub max_cq_depth: u32,
    pub max_header_size: u32,
}

pub fn max_queues(e: &Entry) -> MaxQueues {
    MaxQueues {
        max_sq_num: le32(e, 8),
        max_sq_depth: le32(e, 12),
        max_cq_num: le32(e, 16),
        max_cq_depth: le32(e, 20),
        max_header_size: le32(e, 32),
    }
}

/// (supported, enabled) AENQ groups.
pub fn aenq_groups(e: &Entry) -> (u32, u32) {
    (le32(e, 8), le32(e, 12))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreatedCq {
    pub idx: u16,
    pub actual_depth: u16,
    pub head_db_offset: u32,
}

pub fn created_cq(e: &Entry) -> CreatedCq {
    CreatedCq {
        idx: le16(e, 8),
        actual_depth: le16(e, 10),
        head_db_offset: le32(e, 16),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreatedSq {
    pub idx: u16,
    pub doorbell_offset: u32,
}

pub fn created_sq(e: &Entry) -> CreatedSq {
    CreatedSq {
        idx: le16(e, 8),
        doorbell_offset: le32(e, 12),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_sq_lays_out_fields_as_the_spec() {
        let mut e = create_sq(DIRECTION_RX, 3, 256, 0x0001_2345_6789_A000);
        stamp(&mut e, 0x1ABC, 1);
        assert_eq!(le16(&e, 0), 0x0ABC);
        assert_eq!(e[2], OP_CREATE_SQ);
        assert_eq!(e[3], 1);
        assert_eq!(e[4], 0x40);
        assert_eq!(e[6], 0x01);
        assert_eq!(e[7], 0x01);
        assert_eq!(le16(&e, 8), 3);
        assert_eq!(le16(&e, 10), 256);
        assert_eq!(le32(&e, 12), 0x6789_A000);
        assert_eq!(le16(&e, 16), 0x2345);
    }

    #[test]
    fn create_cq_counts_entry_size_in_words() {
        let e = create_cq(16, 64, 0x1000);
        assert_eq!(e[5], 4);
        assert_eq!(e[4], 0, "interrupt mode stays off");
        assert_eq!(le16(&e, 6), 64);
        assert_eq!(le32(&e, 12), 0x1000);
    }

    #[test]
    fn feature_commands_name_their_feature() {
        assert_eq!(get_feature(FEAT_MAX_QUEUES_NUM)[17], 2);
        let e = set_aenq_groups(0b10011);
        assert_eq!((e[2], e[17]), (OP_SET_FEATURE, FEAT_AENQ_CONFIG));
        assert_eq!(le32(&e, 24), 0b10011);
    }

    #[test]
    fn decoders_read_the_documented_offsets() {
        let mut e = [0u8; ENTRY];
        e[0..2].copy_from_slice(&0xF123u16.to_le_bytes());
        e[2] = 5;
        e[3] = 1;
        e[32..38].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        e[40..44].copy_from_slice(&9001u32.to_le_bytes());
        let c = completion(&e);
        assert_eq!((c.command_id, c.status, c.phase), (0x123, 5, 1));
        let attr = device_attr(&e);
        assert_eq!(attr.mac, [2, 0, 0, 0, 0, 1]);
        assert_eq!(attr.max_mtu, 9001);
        assert_eq!(le32(&e, 62), 0, "reads past the end are zero, not a panic");
    }
}
