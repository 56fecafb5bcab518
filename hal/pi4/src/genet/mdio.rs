//! MDIO access through the UniMAC and the BCM54213PE PHY: reset, RGMII delay setup,
//! auto-negotiation and link resolution. Generic MII registers are IEEE 802.3 clause 22;
//! the Broadcom shadow registers follow Linux `drivers/net/phy/broadcom.c` and
//! `include/linux/brcmphy.h` (`bcm54xx_config_clock_delay`).

use super::regs::*;
use super::{GenetError, Link, Speed};
use crate::mmio::Regs;

/// Polls of MDIO_CMD before an access is declared lost. An MDIO frame at 2.5 MHz takes
/// about 26 µs; this bound is generous for that and still ends on a dead bus.
pub const MDIO_POLL_LIMIT: u32 = 100_000;

pub const MII_BMCR: u8 = 0x00;
pub const MII_BMSR: u8 = 0x01;
pub const MII_ADVERTISE: u8 = 0x04;
pub const MII_LPA: u8 = 0x05;
pub const MII_CTRL1000: u8 = 0x09;
pub const MII_STAT1000: u8 = 0x0A;
const MII_BCM54XX_AUX_CTL: u8 = 0x18;
const MII_BCM54XX_SHD: u8 = 0x1C;

pub const BMCR_RESET: u16 = 1 << 15;
pub const BMCR_ANENABLE: u16 = 1 << 12;
pub const BMCR_ANRESTART: u16 = 1 << 9;
pub const BMSR_LSTATUS: u16 = 1 << 2;
pub const BMSR_ANEGCOMPLETE: u16 = 1 << 5;
const ADVERTISE_CSMA: u16 = 0x0001;
pub const ADVERTISE_10HALF: u16 = 0x0020;
pub const ADVERTISE_10FULL: u16 = 0x0040;
pub const ADVERTISE_100HALF: u16 = 0x0080;
pub const ADVERTISE_100FULL: u16 = 0x0100;
pub const ADVERTISE_1000FULL: u16 = 0x0200;
pub const LPA_1000FULL: u16 = 0x0800;

const AUXCTL_SHDWSEL_MISC: u16 = 0x07;
const AUXCTL_SHDWSEL_MASK: u16 = 0x07;
const AUXCTL_SHDWSEL_READ_SHIFT: u16 = 12;
const AUXCTL_MISC_WREN: u16 = 0x8000;
const AUXCTL_MISC_RGMII_SKEW_EN: u16 = 0x0100;
const SHD_WRITE: u16 = 0x8000;
const SHD_CLK_CTL: u16 = 0x03;
const SHD_CLK_GTXCLK_EN: u16 = 1 << 9;

/// Clause-22 MDIO through the GENET's UniMAC.
pub struct Mdio<'a, R: Regs> {
    regs: &'a R,
    phy: u8,
}

impl<'a, R: Regs> Mdio<'a, R> {
    pub fn new(regs: &'a R, phy: u8) -> Self {
        Self { regs, phy }
    }

    fn command(&self, op: u32, reg: u8, data: u16) -> Result<u32, GenetError> {
        let cmd = op
            | (u32::from(self.phy & 0x1F) << MDIO_PMD_SHIFT)
            | (u32::from(reg & 0x1F) << MDIO_REG_SHIFT)
            | u32::from(data);
        self.regs.write32(MDIO_CMD, cmd);
        self.regs.write32(MDIO_CMD, cmd | MDIO_START_BUSY);
        for _ in 0..MDIO_POLL_LIMIT {
            let status = self.regs.read32(MDIO_CMD);
            if status & MDIO_START_BUSY == 0 {
                return Ok(status);
            }
            core::hint::spin_loop();
        }
        Err(GenetError::MdioTimeout)
    }

    pub fn read(&self, reg: u8) -> Result<u16, GenetError> {
        let status = self.command(MDIO_RD, reg, 0)?;
        if status & MDIO_READ_FAIL != 0 {
            return Err(GenetError::MdioReadFail);
        }
        Ok((status & 0xFFFF) as u16)
    }

    pub fn write(&self, reg: u8, value: u16) -> Result<(), GenetError> {
        self.command(MDIO_WR, reg, value).map(|_| ())
    }

    /// Resets the PHY and waits (bounded) for the reset bit to clear.
    pub fn reset_phy(&self) -> Result<(), GenetError> {
        self.write(MII_BMCR, BMCR_RESET)?;
        for _ in 0..MDIO_POLL_LIMIT / 100 {
            if self.read(MII_BMCR)? & BMCR_RESET == 0 {
                return Ok(());
            }
        }
        Err(GenetError::PhyResetTimeout)
    }

    /// The Pi 4 wires the PHY as `rgmii-rxid`: the PHY delays the receive clock, the MAC
    /// side adds no delay, and the PHY's own transmit clock delay is off.
    pub fn configure_rgmii_rxid(&self) -> Result<(), GenetError> {
        let select = AUXCTL_SHDWSEL_MASK | (AUXCTL_SHDWSEL_MISC << AUXCTL_SHDWSEL_READ_SHIFT);
        self.write(MII_BCM54XX_AUX_CTL, select)?;
        let misc = self.read(MII_BCM54XX_AUX_CTL)?;
        let misc = misc | AUXCTL_MISC_WREN | AUXCTL_MISC_RGMII_SKEW_EN;
        self.write(MII_BCM54XX_AUX_CTL, AUXCTL_SHDWSEL_MISC | misc)?;

        self.write(MII_BCM54XX_SHD, (SHD_CLK_CTL & 0x1F) << 10)?;
        let clk = self.read(MII_BCM54XX_SHD)? & 0x03FF;
        let clk = clk & !SHD_CLK_GTXCLK_EN;
        self.write(
            MII_BCM54XX_SHD,
            SHD_WRITE | ((SHD_CLK_CTL & 0x1F) << 10) | clk,
        )
    }

    /// Advertises 10/100/1000 full and half (1000 full only) and restarts negotiation.
    pub fn start_autoneg(&self) -> Result<(), GenetError> {
        let adv = ADVERTISE_CSMA
            | ADVERTISE_10HALF
            | ADVERTISE_10FULL
            | ADVERTISE_100HALF
            | ADVERTISE_100FULL;
        self.write(MII_ADVERTISE, adv)?;
        let ctrl1000 = self.read(MII_CTRL1000)?;
        self.write(MII_CTRL1000, ctrl1000 | ADVERTISE_1000FULL)?;
        self.write(MII_BMCR, BMCR_ANENABLE | BMCR_ANRESTART)
    }

    /// The current link. BMSR's link bit latches low, so it is read twice.
    pub fn link(&self) -> Result<Link, GenetError> {
        let _latched = self.read(MII_BMSR)?;
        let bmsr = self.read(MII_BMSR)?;
        if bmsr & BMSR_LSTATUS == 0 || bmsr & BMSR_ANEGCOMPLETE == 0 {
            return Ok(Link::Down);
        }
        let ctrl1000 = self.read(MII_CTRL1000)?;
        let stat1000 = self.read(MII_STAT1000)?;
        if ctrl1000 & ADVERTISE_1000FULL != 0 && stat1000 & LPA_1000FULL != 0 {
            return Ok(Link::Up {
                speed: Speed::Mbps1000,
                full_duplex: true,
            });
        }
        let common = self.read(MII_ADVERTISE)? & self.read(MII_LPA)?;
        let link = if common & (ADVERTISE_100FULL | ADVERTISE_100HALF) != 0 {
            Link::Up {
                speed: Speed::Mbps100,
                full_duplex: common & ADVERTISE_100FULL != 0,
            }
        } else {
            Link::Up {
                speed: Speed::Mbps10,
                full_duplex: common & ADVERTISE_10FULL != 0,
            }
        };
        Ok(link)
    }
}
