//! The ARM PrimeCell PL011 UART (ARM DDI 0183G, section 3) as the serial console.

use crate::mmio::Regs;

const DR: usize = 0x00;
const RSRECR: usize = 0x04;
const FR: usize = 0x18;
const IBRD: usize = 0x24;
const FBRD: usize = 0x28;
const LCRH: usize = 0x2C;
const CR: usize = 0x30;
const IMSC: usize = 0x38;
const ICR: usize = 0x44;

const FR_BUSY: u32 = 1 << 3;
const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
const LCRH_FEN: u32 = 1 << 4;
const LCRH_WLEN8: u32 = 0b11 << 5;
const CR_UARTEN: u32 = 1 << 0;
const CR_TXE: u32 = 1 << 8;
const CR_RXE: u32 = 1 << 9;
const ICR_ALL: u32 = 0x7FF;
/// Receive error bits in DR (overrun, break, parity, framing).
const DR_ERRORS: u32 = 0xF00;

/// How many times a full transmit FIFO is polled before bytes are dropped. At 115200 baud a
/// byte leaves every ~87 µs, so this comfortably covers a FIFO drain on a live UART while
/// still ending on a stuck one.
pub const TX_SPIN_LIMIT: u32 = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pl011Error {
    /// The clock/baud pair gives a divisor outside the UART's range.
    BadDivisor,
    /// The UART stayed busy while being reconfigured.
    Busy,
}

/// A PL011 console. Writes never block forever: a FIFO that stays full for
/// [`TX_SPIN_LIMIT`] polls makes the rest of the write be dropped and counted.
pub struct Pl011<R: Regs> {
    regs: R,
    dropped: u64,
    rx_errors: u64,
}

impl<R: Regs> Pl011<R> {
    /// Wraps an already running UART (the firmware or QEMU set it up).
    pub fn new(regs: R) -> Self {
        Self {
            regs,
            dropped: 0,
            rx_errors: 0,
        }
    }

    /// Integer and fractional baud divisors (IBRD, FBRD) for `clock_hz` and `baud`.
    pub fn divisors(clock_hz: u32, baud: u32) -> Option<(u32, u32)> {
        if baud == 0 {
            return None;
        }
        // divisor * 64 = clock / (16 * baud) * 64 = clock * 4 / baud, rounded.
        let div64 = (u64::from(clock_hz) * 4 + u64::from(baud) / 2) / u64::from(baud);
        let ibrd = (div64 >> 6) as u32;
        let fbrd = (div64 & 0x3F) as u32;
        (1..=0xFFFF).contains(&ibrd).then_some((ibrd, fbrd))
    }

    /// Programs 8N1 at `baud` from a `clock_hz` reference with FIFOs on and interrupts masked.
    pub fn init(&mut self, clock_hz: u32, baud: u32) -> Result<(), Pl011Error> {
        let (ibrd, fbrd) = Self::divisors(clock_hz, baud).ok_or(Pl011Error::BadDivisor)?;
        self.regs.write32(CR, 0);
        let mut spins = 0;
        while self.regs.read32(FR) & FR_BUSY != 0 {
            spins += 1;
            if spins >= TX_SPIN_LIMIT {
                return Err(Pl011Error::Busy);
            }
        }
        self.regs.write32(ICR, ICR_ALL);
        self.regs.write32(IBRD, ibrd);
        self.regs.write32(FBRD, fbrd);
        // LCRH must be written after the divisors: it latches them.
        self.regs.write32(LCRH, LCRH_WLEN8 | LCRH_FEN);
        self.regs.write32(IMSC, 0);
        self.regs.write32(CR, CR_UARTEN | CR_TXE | CR_RXE);
        Ok(())
    }

    /// Queues one byte; false if the FIFO stayed full past the spin limit.
    pub fn write_byte(&mut self, byte: u8) -> bool {
        let mut spins = 0;
        while self.regs.read32(FR) & FR_TXFF != 0 {
            spins += 1;
            if spins >= TX_SPIN_LIMIT {
                return false;
            }
            core::hint::spin_loop();
        }
        self.regs.write32(DR, u32::from(byte));
        true
    }

    /// The next received byte, if any. Bytes received with an error are discarded.
    pub fn read_byte(&mut self) -> Option<u8> {
        loop {
            if self.regs.read32(FR) & FR_RXFE != 0 {
                return None;
            }
            let data = self.regs.read32(DR);
            if data & DR_ERRORS == 0 {
                return Some((data & 0xFF) as u8);
            }
            self.rx_errors += 1;
            self.regs.write32(RSRECR, 0);
        }
    }

    /// Bytes dropped because the transmitter did not drain.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Received bytes discarded for line errors.
    pub fn rx_errors(&self) -> u64 {
        self.rx_errors
    }
}

impl<R: Regs> hal::Console for Pl011<R> {
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            match self.read_byte() {
                Some(b) => {
                    buf[n] = b;
                    n += 1;
                }
                None => break,
            }
        }
        n
    }

    fn console_write(&mut self, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            if !self.write_byte(b) {
                // The transmitter is stuck; give up on the rest rather than spin per byte.
                self.dropped += (bytes.len() - i) as u64;
                return;
            }
        }
    }
}

/// Formatted output for early boot and panic messages (no heap needed).
impl<R: Regs> core::fmt::Write for Pl011<R> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        hal::Console::console_write(self, s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmio::fake::FakeRegs;
    use core::cell::RefCell;
    use hal::Console;
    use std::collections::VecDeque;
    use std::vec::Vec;

    /// A PL011 model: a receive FIFO the test fills, a transmit log, a stuck-TX switch.
    #[derive(Default)]
    struct UartModel {
        rx: RefCell<VecDeque<u32>>,
        tx: RefCell<Vec<u8>>,
        tx_stuck: bool,
        other: FakeRegs,
    }

    impl Regs for UartModel {
        fn read32(&self, offset: usize) -> u32 {
            match offset {
                FR => {
                    let mut fr = 0;
                    if self.rx.borrow().is_empty() {
                        fr |= FR_RXFE;
                    }
                    if self.tx_stuck {
                        fr |= FR_TXFF;
                    }
                    fr
                }
                DR => self.rx.borrow_mut().pop_front().unwrap_or(0),
                _ => self.other.read32(offset),
            }
        }
        fn write32(&self, offset: usize, value: u32) {
            match offset {
                DR => self.tx.borrow_mut().push(value as u8),
                _ => self.other.write32(offset, value),
            }
        }
    }

    #[test]
    fn divisors_match_the_pi_firmware_clock() {
        assert_eq!(
            Pl011::<FakeRegs>::divisors(48_000_000, 115_200),
            Some((26, 3))
        );
        assert_eq!(
            Pl011::<FakeRegs>::divisors(24_000_000, 115_200),
            Some((13, 1))
        );
        assert_eq!(Pl011::<FakeRegs>::divisors(48_000_000, 0), None);
        assert_eq!(Pl011::<FakeRegs>::divisors(1_000, 115_200), None);
    }

    #[test]
    fn init_programs_8n1_with_fifos() {
        let mut uart = Pl011::new(UartModel::default());
        uart.init(48_000_000, 115_200).unwrap();
        let regs = &uart.regs.other;
        assert_eq!(regs.get(IBRD), 26);
        assert_eq!(regs.get(FBRD), 3);
        assert_eq!(regs.get(LCRH), LCRH_WLEN8 | LCRH_FEN);
        assert_eq!(regs.get(CR), CR_UARTEN | CR_TXE | CR_RXE);
        // The UART is disabled before the divisors change.
        let writes = regs.writes.borrow();
        let first_cr = writes.iter().position(|w| w.0 == CR).unwrap();
        let ibrd = writes.iter().position(|w| w.0 == IBRD).unwrap();
        assert!(first_cr < ibrd);
        assert_eq!(writes[first_cr].1, 0);
    }

    #[test]
    fn writes_reach_the_data_register() {
        let mut uart = Pl011::new(UartModel::default());
        uart.console_write(b"cohesix> ");
        assert_eq!(uart.regs.tx.borrow().as_slice(), b"cohesix> ");
        assert_eq!(uart.dropped(), 0);
    }

    #[test]
    fn a_stuck_transmitter_drops_and_counts_instead_of_hanging() {
        let model = UartModel {
            tx_stuck: true,
            ..UartModel::default()
        };
        let mut uart = Pl011::new(model);
        uart.console_write(b"abc");
        assert!(uart.regs.tx.borrow().is_empty());
        assert_eq!(uart.dropped(), 3);
    }

    #[test]
    fn formatted_output_goes_out_unchanged() {
        use core::fmt::Write;
        let mut uart = Pl011::new(UartModel::default());
        let platform = "pi4";
        write!(uart, "platform={platform}").unwrap();
        assert_eq!(uart.regs.tx.borrow().as_slice(), b"platform=pi4");
    }

    #[test]
    fn reads_drain_the_fifo_and_skip_errored_bytes() {
        let model = UartModel::default();
        model
            .rx
            .borrow_mut()
            .extend([u32::from(b'o'), 0x400 | u32::from(b'x'), u32::from(b'k')]);
        let mut uart = Pl011::new(model);
        let mut buf = [0u8; 8];
        assert_eq!(uart.console_read(&mut buf), 2);
        assert_eq!(&buf[..2], b"ok");
        assert_eq!(uart.rx_errors(), 1);
        assert_eq!(uart.console_read(&mut buf), 0);
    }
}
