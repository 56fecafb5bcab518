//! `seL4_MessageInfo`, `seL4_CapRights` and the error codes, as laid out in libsel4's
//! `shared_types_64.bf` and `errors.h` (64-bit words).

/// The message tag: label, unwrapped-caps mask, extra caps and length in message registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageInfo(pub u64);

impl MessageInfo {
    /// Bits from least significant: length 7, extraCaps 2, capsUnwrapped 3, label.
    pub fn new(label: u64, caps_unwrapped: u64, extra_caps: u64, length: u64) -> Self {
        Self(
            (label << 12)
                | ((caps_unwrapped & 0x7) << 9)
                | ((extra_caps & 0x3) << 7)
                | (length & 0x7F),
        )
    }

    pub fn label(self) -> u64 {
        self.0 >> 12
    }

    pub fn caps_unwrapped(self) -> u64 {
        (self.0 >> 9) & 0x7
    }

    pub fn extra_caps(self) -> u64 {
        (self.0 >> 7) & 0x3
    }

    pub fn length(self) -> u64 {
        self.0 & 0x7F
    }
}

/// Access rights of a mapping: write bit 0, read bit 1, grant bit 2, grant-reply bit 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapRights(pub u64);

impl CapRights {
    pub const READ_WRITE: CapRights = CapRights(0b0011);
    pub const READ_ONLY: CapRights = CapRights(0b0010);
}

/// The error an invocation's reply label carries (`seL4_Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sel4Error {
    InvalidArgument,
    InvalidCapability,
    IllegalOperation,
    RangeError,
    AlignmentError,
    FailedLookup,
    TruncatedMessage,
    DeleteFirst,
    RevokeFirst,
    NotEnoughMemory,
    Unknown(u64),
}

impl Sel4Error {
    /// `Ok` for label 0 (seL4_NoError), the named error otherwise.
    pub fn check(reply: MessageInfo) -> Result<(), Sel4Error> {
        Err(match reply.label() {
            0 => return Ok(()),
            1 => Sel4Error::InvalidArgument,
            2 => Sel4Error::InvalidCapability,
            3 => Sel4Error::IllegalOperation,
            4 => Sel4Error::RangeError,
            5 => Sel4Error::AlignmentError,
            6 => Sel4Error::FailedLookup,
            7 => Sel4Error::TruncatedMessage,
            8 => Sel4Error::DeleteFirst,
            9 => Sel4Error::RevokeFirst,
            10 => Sel4Error::NotEnoughMemory,
            n => Sel4Error::Unknown(n),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_info_packs_like_the_bitfield_spec() {
        let m = MessageInfo::new(37, 0, 1, 3);
        assert_eq!(m.0, (37 << 12) | (1 << 7) | 3);
        assert_eq!(
            (m.label(), m.caps_unwrapped(), m.extra_caps(), m.length()),
            (37, 0, 1, 3)
        );
        let m = MessageInfo::new(1, 7, 3, 127);
        assert_eq!(m.0 & 0xFFF, 0xFFF);
        // Oversized fields are truncated, never spill into neighbours.
        assert_eq!(MessageInfo::new(0, 0, 4, 128).0, 0);
    }

    #[test]
    fn reply_labels_map_to_errors() {
        assert_eq!(Sel4Error::check(MessageInfo::new(0, 0, 0, 0)), Ok(()));
        assert_eq!(
            Sel4Error::check(MessageInfo::new(6, 0, 0, 0)),
            Err(Sel4Error::FailedLookup)
        );
        assert_eq!(
            Sel4Error::check(MessageInfo::new(99, 0, 0, 0)),
            Err(Sel4Error::Unknown(99))
        );
    }
}
