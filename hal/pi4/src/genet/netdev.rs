//! The image's frame-level seam, `hal_smoltcp::NetDevice`, over the GENET. The PHY is
//! polled from here every [`LINK_POLL_EVERY`] receive polls so a cable plugged in later
//! brings the link up without anyone calling [`Genet::poll_link`].

use hal_smoltcp::{DeviceError, NetDevice};

use super::{Genet, Link, MAX_FRAME};
use crate::mmio::Regs;

/// Receive polls between two PHY reads (an MDIO read costs tens of microseconds).
pub const LINK_POLL_EVERY: u32 = 4096;

impl<R: Regs> Genet<R> {
    fn maybe_poll_link(&mut self) {
        self.polls = self.polls.wrapping_add(1);
        if self.polls % LINK_POLL_EVERY == 1 && self.started {
            // A failed MDIO read leaves the link as it was; the next round retries.
            let _ = self.poll_link();
        }
    }
}

impl<R: Regs> NetDevice for Genet<R> {
    fn mac(&self) -> [u8; 6] {
        self.cfg.mac
    }

    fn max_frame(&self) -> usize {
        MAX_FRAME
    }

    fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.maybe_poll_link();
        self.receive_with(|frame| {
            let dst = buf.get_mut(..frame.len())?;
            dst.copy_from_slice(frame);
            Some(frame.len())
        })
        .flatten()
    }

    fn can_transmit(&mut self) -> bool {
        Genet::can_transmit(self)
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<(), DeviceError> {
        if !matches!(self.link, Link::Up { .. }) || !self.started {
            return Err(DeviceError::Down);
        }
        if frame.len() > MAX_FRAME || !Genet::can_transmit(self) {
            return Err(DeviceError::Busy);
        }
        self.transmit_with(frame.len(), |buf| buf.copy_from_slice(frame));
        Ok(())
    }
}
