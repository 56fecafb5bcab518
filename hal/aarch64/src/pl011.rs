//! The ARM PL011 UART: the serial console. Polled, never blocking on input; output waits for
//! FIFO room only a bounded number of spins, so a wedged UART drops bytes instead of hanging.

use crate::mmio::Regs;

const DR: usize = 0x00;
const FR: usize = 0x18;
const LCR_H: usize = 0x2c;
const CR: usize = 0x30;
const IMSC: usize = 0x38;
const ICR: usize = 0x44;

const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
/// Framing, parity, break and overrun flags that accompany a received byte.
const DR_ERRORS: u32 = 0xf00;
const LCR_FEN: u32 = 1 << 4;
const LCR_WLEN8: u32 = 0b11 << 5;
const CR_UARTEN: u32 = 1;
const CR_TXE: u32 = 1 << 8;
const CR_RXE: u32 = 1 << 9;

/// Spins allowed for TX FIFO room per byte (~ms on real hardware, far more than one byte
/// time at 115200 baud).
const TX_SPINS: u32 = 1 << 20;
const RX_FIFO_DEPTH: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pl011 {
    regs: Regs,
}

impl Pl011 {
    /// # Safety
    /// `base` must be the PL011's register block, mapped as device memory.
    pub const unsafe fn new(base: usize) -> Self {
        Self {
            regs: unsafe { Regs::new(base) },
        }
    }

    /// 8 data bits, FIFOs on, receive and transmit enabled, interrupts masked. The baud rate
    /// is left as firmware set it (QEMU ignores it).
    pub fn init(&mut self) {
        self.regs.write32(CR, 0);
        self.regs.write32(IMSC, 0);
        self.regs.write32(ICR, 0x7ff);
        self.regs.write32(LCR_H, LCR_FEN | LCR_WLEN8);
        self.regs.write32(CR, CR_UARTEN | CR_TXE | CR_RXE);
    }

    /// Writes one byte; `false` if the FIFO stayed full and the byte was dropped.
    pub fn write_byte(&mut self, byte: u8) -> bool {
        for _ in 0..TX_SPINS {
            if self.regs.read32(FR) & FR_TXFF == 0 {
                self.regs.write32(DR, u32::from(byte));
                return true;
            }
            core::hint::spin_loop();
        }
        false
    }

    pub fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if !self.write_byte(b) {
                return;
            }
        }
    }

    /// Whether a received byte is waiting.
    pub fn rx_ready(&self) -> bool {
        self.regs.read32(FR) & FR_RXFE == 0
    }

    /// The next received byte, if any. Bytes received with a line error are discarded, at
    /// most a FIFO's worth per call.
    pub fn read_byte(&mut self) -> Option<u8> {
        for _ in 0..RX_FIFO_DEPTH {
            if self.regs.read32(FR) & FR_RXFE != 0 {
                return None;
            }
            let word = self.regs.read32(DR);
            if word & DR_ERRORS == 0 {
                return Some(word as u8);
            }
        }
        None
    }
}

impl core::fmt::Write for Pl011 {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::boxed::Box;

    /// A fake register block in ordinary memory.
    fn fake() -> (Box<[u32; 32]>, Pl011) {
        let mut regs = Box::new([0u32; 32]);
        let base = regs.as_mut_ptr() as usize;
        // SAFETY: the box outlives every use in the test and covers offsets 0..0x80.
        (regs, unsafe { Pl011::new(base) })
    }

    #[test]
    fn init_enables_the_uart_with_fifos_and_no_interrupts() {
        let (regs, mut uart) = fake();
        uart.init();
        assert_eq!(regs[CR / 4], CR_UARTEN | CR_TXE | CR_RXE);
        assert_eq!(regs[LCR_H / 4], LCR_FEN | LCR_WLEN8);
        assert_eq!(regs[IMSC / 4], 0);
    }

    #[test]
    fn writes_go_to_the_data_register_when_the_fifo_has_room() {
        let (regs, mut uart) = fake();
        assert!(uart.write_byte(b'c'));
        assert_eq!(regs[DR / 4], u32::from(b'c'));
    }

    #[test]
    fn a_full_fifo_drops_instead_of_hanging() {
        let (mut regs, mut uart) = fake();
        regs[FR / 4] = FR_TXFF | FR_RXFE;
        assert!(!uart.write_byte(b'x'));
        assert_eq!(regs[DR / 4], 0);
    }

    #[test]
    fn reads_are_polled_and_errors_discarded() {
        let (mut regs, mut uart) = fake();
        regs[FR / 4] = FR_RXFE;
        assert_eq!(uart.read_byte(), None);
        regs[FR / 4] = 0;
        regs[DR / 4] = u32::from(b'q');
        assert_eq!(uart.read_byte(), Some(b'q'));
        regs[DR / 4] = 0x800 | u32::from(b'z');
        assert_eq!(
            uart.read_byte(),
            None,
            "an overrun byte is dropped, not returned"
        );
    }
}
