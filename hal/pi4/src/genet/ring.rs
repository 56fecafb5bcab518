//! Producer/consumer bookkeeping of the GENET DMA rings.
//!
//! The hardware counts produced and consumed descriptors in 16-bit indices that wrap at
//! 0x10000; the descriptor slot is the index modulo the ring size. Ring sizes are powers of
//! two no larger than 256, so both wraps agree. A ring never trusts an index the device
//! reports: one that claims more work than is outstanding is corruption, not a panic.

/// Index registers carry the count in their low 16 bits (the high half counts discards).
pub const INDEX_MASK: u32 = 0xFFFF;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingError {
    /// Every descriptor is in flight.
    Full,
    /// The device reported an index that cannot follow from what was handed to it.
    Corrupt { outstanding: u16, reported: u16 },
}

/// A valid ring size: a power of two between 2 and 256.
pub fn valid_size(size: u16) -> bool {
    size.is_power_of_two() && (2..=256).contains(&size)
}

/// The transmit ring: the driver produces, the device consumes.
#[derive(Debug, Clone)]
pub struct TxRing {
    size: u16,
    prod: u16,
    cons: u16,
}

impl TxRing {
    /// A ring of `size` descriptors whose indices start at the device's current consumer
    /// index (the hardware cannot reset it, so the driver aligns to it).
    pub fn new(size: u16, start: u16) -> Option<Self> {
        valid_size(size).then_some(Self {
            size,
            prod: start,
            cons: start,
        })
    }

    pub fn size(&self) -> u16 {
        self.size
    }

    pub fn producer(&self) -> u16 {
        self.prod
    }

    pub fn in_flight(&self) -> u16 {
        self.prod.wrapping_sub(self.cons)
    }

    pub fn free(&self) -> u16 {
        self.size.saturating_sub(self.in_flight())
    }

    /// The slot the next frame goes into, without claiming it.
    pub fn next_slot(&self) -> Result<u16, RingError> {
        if self.free() == 0 {
            return Err(RingError::Full);
        }
        Ok(self.prod & (self.size - 1))
    }

    /// Claims the next slot; the caller then writes the descriptor and publishes
    /// [`producer`](Self::producer) to the device.
    pub fn claim(&mut self) -> Result<u16, RingError> {
        let slot = self.next_slot()?;
        self.prod = self.prod.wrapping_add(1);
        Ok(slot)
    }

    /// Accepts the device's consumer index; returns how many descriptors it released.
    pub fn complete(&mut self, reported: u16) -> Result<u16, RingError> {
        let done = reported.wrapping_sub(self.cons);
        let outstanding = self.in_flight();
        if done > outstanding {
            return Err(RingError::Corrupt {
                outstanding,
                reported,
            });
        }
        self.cons = reported;
        Ok(done)
    }
}

/// The receive ring: the device produces, the driver consumes.
#[derive(Debug, Clone)]
pub struct RxRing {
    size: u16,
    cons: u16,
}

impl RxRing {
    pub fn new(size: u16, start: u16) -> Option<Self> {
        valid_size(size).then_some(Self { size, cons: start })
    }

    pub fn consumer(&self) -> u16 {
        self.cons
    }

    /// How many filled descriptors wait, given the device's producer index.
    pub fn pending(&self, reported: u16) -> Result<u16, RingError> {
        let waiting = reported.wrapping_sub(self.cons);
        if waiting > self.size {
            return Err(RingError::Corrupt {
                outstanding: self.size,
                reported,
            });
        }
        Ok(waiting)
    }

    /// The slot of the oldest filled descriptor.
    pub fn slot(&self) -> u16 {
        self.cons & (self.size - 1)
    }

    /// Returns the oldest descriptor to the device.
    pub fn advance(&mut self) {
        self.cons = self.cons.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_power_of_two_sizes_up_to_256() {
        assert!(TxRing::new(256, 0).is_some());
        assert!(TxRing::new(32, 0).is_some());
        assert!(TxRing::new(0, 0).is_none());
        assert!(TxRing::new(1, 0).is_none());
        assert!(TxRing::new(48, 0).is_none());
        assert!(RxRing::new(512, 0).is_none());
    }

    #[test]
    fn tx_exhaustion_is_a_refusal_and_completion_frees_slots() {
        let mut ring = TxRing::new(4, 0).unwrap();
        for expected in 0..4 {
            assert_eq!(ring.claim(), Ok(expected));
        }
        assert_eq!(ring.claim(), Err(RingError::Full));
        assert_eq!(ring.complete(2), Ok(2));
        assert_eq!(ring.free(), 2);
        assert_eq!(ring.claim(), Ok(0));
    }

    #[test]
    fn tx_indices_wrap_at_16_bits_and_slots_follow() {
        let mut ring = TxRing::new(8, 0xFFFE).unwrap();
        assert_eq!(ring.claim(), Ok(6));
        assert_eq!(ring.claim(), Ok(7));
        assert_eq!(ring.claim(), Ok(0));
        assert_eq!(ring.producer(), 1);
        assert_eq!(ring.in_flight(), 3);
        assert_eq!(ring.complete(0x0001), Ok(3));
        assert_eq!(ring.free(), 8);
    }

    #[test]
    fn tx_rejects_a_consumer_index_beyond_what_was_sent() {
        let mut ring = TxRing::new(8, 10).unwrap();
        ring.claim().unwrap();
        assert_eq!(
            ring.complete(13),
            Err(RingError::Corrupt {
                outstanding: 1,
                reported: 13
            })
        );
        // Nothing changed: the good state survives bad input.
        assert_eq!(ring.in_flight(), 1);
        // An index behind ours is also impossible (it would mean > size completions).
        assert!(ring.complete(5).is_err());
    }

    #[test]
    fn rx_pending_wraps_and_detects_overrun_reports() {
        let mut ring = RxRing::new(4, 0xFFFF).unwrap();
        assert_eq!(ring.pending(0xFFFF), Ok(0));
        assert_eq!(ring.pending(0x0002), Ok(3));
        assert_eq!(ring.slot(), 3);
        ring.advance();
        assert_eq!(ring.slot(), 0);
        assert_eq!(ring.consumer(), 0);
        assert!(ring.pending(0x0005).is_err());
        assert_eq!(ring.pending(0x0004), Ok(4));
    }
}
