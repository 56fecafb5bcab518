//! The VideoCore mailbox property interface (channel 8), used for the one thing the image
//! needs from the firmware: the board's MAC address (tag 0x0001_0003). Message format from
//! the Raspberry Pi firmware wiki "Mailbox property interface"; the mailbox registers are
//! those of Linux `drivers/mailbox/bcm2835-mailbox.c`.

use crate::board::PERIPHERAL_BASE;
use crate::dma::DmaBuf;
use crate::mmio::Regs;

/// Mailbox 0 (ARM <- VideoCore) and mailbox 1 (ARM -> VideoCore) register window.
pub const MAILBOX_BASE: usize = PERIPHERAL_BASE + 0xB880;
pub const MAILBOX_LEN: usize = 0x40;
const READ: usize = 0x00;
const STATUS: usize = 0x18;
const WRITE: usize = 0x20;
const STATUS_FULL: u32 = 1 << 31;
const STATUS_EMPTY: u32 = 1 << 30;
const CHANNEL_PROPERTY: u32 = 8;
const TAG_GET_BOARD_MAC: u32 = 0x0001_0003;
const RESPONSE_OK: u32 = 0x8000_0000;
/// Bytes of the property message: header, one tag with an 8-byte value, end tag.
pub const MESSAGE_LEN: usize = 32;
/// Polls of the status register per direction.
pub const POLL_LIMIT: u32 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxError {
    /// The buffer is too small, misaligned or above 4 GiB.
    BadBuffer,
    Timeout,
    /// The firmware answered with an error code (the message's code word).
    Rejected(u32),
}

fn put(msg: &mut [u8], word: usize, value: u32) {
    msg[word * 4..word * 4 + 4].copy_from_slice(&value.to_le_bytes());
}

fn get(msg: &[u8], word: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&msg[word * 4..word * 4 + 4]);
    u32::from_le_bytes(w)
}

/// Asks the firmware for the board's MAC address. `buf` holds the message; it must be at
/// least [`MESSAGE_LEN`] bytes, 16-byte aligned and below 4 GiB on the bus.
pub fn board_mac<R: Regs>(mbox: &R, buf: &mut DmaBuf) -> Result<[u8; 6], MailboxError> {
    let bus = buf.bus_addr(0).ok_or(MailboxError::BadBuffer)?;
    if bus & 0xF != 0 || bus > u64::from(u32::MAX) {
        return Err(MailboxError::BadBuffer);
    }
    let msg = buf
        .slice_mut(0, MESSAGE_LEN)
        .ok_or(MailboxError::BadBuffer)?;
    msg.fill(0);
    put(msg, 0, MESSAGE_LEN as u32);
    put(msg, 2, TAG_GET_BOARD_MAC);
    put(msg, 3, 8);
    buf.sync_for_device(0, MESSAGE_LEN);

    let request = (bus as u32) | CHANNEL_PROPERTY;
    wait(|| mbox.read32(STATUS) & STATUS_FULL == 0)?;
    mbox.write32(WRITE, request);
    // Replies for other channels are skipped; ours carries our address back.
    let mut answered = false;
    for _ in 0..16 {
        wait(|| mbox.read32(STATUS) & STATUS_EMPTY == 0)?;
        if mbox.read32(READ) == request {
            answered = true;
            break;
        }
    }
    if !answered {
        return Err(MailboxError::Timeout);
    }
    buf.sync_for_cpu(0, MESSAGE_LEN);
    let msg = buf.slice(0, MESSAGE_LEN).ok_or(MailboxError::BadBuffer)?;
    let code = get(msg, 1);
    let tag_code = get(msg, 4);
    if code != RESPONSE_OK || tag_code & RESPONSE_OK == 0 || tag_code & !RESPONSE_OK < 6 {
        return Err(MailboxError::Rejected(code));
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&msg[20..26]);
    Ok(mac)
}

fn wait(mut ready: impl FnMut() -> bool) -> Result<(), MailboxError> {
    for _ in 0..POLL_LIMIT {
        if ready() {
            return Ok(());
        }
        core::hint::spin_loop();
    }
    Err(MailboxError::Timeout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dma::test_buf;
    use core::cell::{Cell, RefCell};
    use std::collections::VecDeque;

    /// Firmware model: answers GET_BOARD_MAC by writing into the message in place.
    #[derive(Default)]
    struct Firmware {
        replies: RefCell<VecDeque<u32>>,
        silent: Cell<bool>,
        reject: Cell<bool>,
        /// Where the message buffer really is; the driver only knows its bus address.
        host_ptr: Cell<usize>,
    }

    impl Regs for Firmware {
        fn read32(&self, offset: usize) -> u32 {
            match offset {
                STATUS if self.replies.borrow().is_empty() => STATUS_EMPTY,
                STATUS => 0,
                READ => self.replies.borrow_mut().pop_front().unwrap_or(0),
                _ => 0,
            }
        }

        fn write32(&self, offset: usize, value: u32) {
            if offset != WRITE || self.silent.get() {
                return;
            }
            assert_eq!(
                value & !0xF,
                BUS,
                "the request names the buffer's bus address"
            );
            let addr = self.host_ptr.get() as *mut u8;
            // SAFETY: `host_ptr` is a live, leaked test buffer of MESSAGE_LEN bytes.
            let msg = unsafe { core::slice::from_raw_parts_mut(addr, MESSAGE_LEN) };
            assert_eq!(get(msg, 2), TAG_GET_BOARD_MAC);
            put(
                msg,
                1,
                if self.reject.get() {
                    0x8000_0001
                } else {
                    RESPONSE_OK
                },
            );
            put(msg, 4, RESPONSE_OK | 6);
            msg[20..26].copy_from_slice(&[0xDC, 0xA6, 0x32, 0xAA, 0xBB, 0xCC]);
            // A stray message on another channel first, then ours.
            self.replies.borrow_mut().extend([0x1234_5671, value]);
        }
    }

    /// A bus address below 4 GiB, as on the Pi; the host memory behind it is elsewhere.
    const BUS: u32 = 0x0010_0000;

    fn aligned_buf(fw: &Firmware) -> DmaBuf {
        let host = test_buf(MESSAGE_LEN);
        let ptr = core::ptr::NonNull::new(host.bus_addr(0).unwrap() as usize as *mut u8).unwrap();
        fw.host_ptr.set(ptr.as_ptr() as usize);
        // SAFETY: the leaked test buffer lives for the rest of the test process.
        unsafe { DmaBuf::new(ptr, MESSAGE_LEN, u64::from(BUS)) }
    }

    #[test]
    fn reads_the_board_mac() {
        let fw = Firmware::default();
        assert_eq!(
            board_mac(&fw, &mut aligned_buf(&fw)),
            Ok([0xDC, 0xA6, 0x32, 0xAA, 0xBB, 0xCC])
        );
    }

    #[test]
    fn failures_are_named() {
        let fw = Firmware::default();
        fw.silent.set(true);
        assert_eq!(
            board_mac(&fw, &mut aligned_buf(&fw)),
            Err(MailboxError::Timeout)
        );
        let fw = Firmware::default();
        fw.reject.set(true);
        assert_eq!(
            board_mac(&fw, &mut aligned_buf(&fw)),
            Err(MailboxError::Rejected(0x8000_0001))
        );
        let mut small = test_buf(8);
        assert_eq!(board_mac(&fw, &mut small), Err(MailboxError::BadBuffer));
    }
}
