//! The image's frame-level seam, `hal_smoltcp::NetDevice`, over the ENA. Asynchronous
//! events (link changes, fatal errors) are drained every [`EVENT_POLL_EVERY`] receive polls.

use hal_smoltcp::{DeviceError, NetDevice};

use crate::device::Ena;
use crate::io::MAX_FRAME;
use crate::regs::Regs;

/// Receive polls between two AENQ/DEV_STS checks.
pub const EVENT_POLL_EVERY: u32 = 256;

impl<R: Regs> NetDevice for Ena<R> {
    fn mac(&self) -> [u8; 6] {
        self.info.attr.mac
    }

    fn max_frame(&self) -> usize {
        MAX_FRAME
    }

    fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.polls = self.polls.wrapping_add(1);
        if self.polls % EVENT_POLL_EVERY == 1 {
            // A fatal error is remembered in `link_up()`; nothing more to do here.
            let _ = self.poll_events();
        }
        self.receive_with(|frame| {
            let dst = buf.get_mut(..frame.len())?;
            dst.copy_from_slice(frame);
            Some(frame.len())
        })
        .flatten()
    }

    fn can_transmit(&mut self) -> bool {
        self.link_up() && self.tx.has_room(&self.regs)
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<(), DeviceError> {
        if !self.link_up() {
            return Err(DeviceError::Down);
        }
        if frame.len() > MAX_FRAME || !self.tx.has_room(&self.regs) {
            return Err(DeviceError::Busy);
        }
        self.transmit_with(frame.len(), |buf| buf.copy_from_slice(frame));
        Ok(())
    }
}
