//! GENET v5 register map. Offsets and bits are those of the Linux driver
//! (`drivers/net/ethernet/broadcom/genet/bcmgenet.h`) and U-Boot's `drivers/net/bcmgenet.c`,
//! which uses the same single-default-queue layout as this driver.

// System block.
pub const SYS_REV_CTRL: usize = 0x00;
pub const SYS_PORT_CTRL: usize = 0x04;
pub const PORT_MODE_EXT_GPHY: u32 = 3;
pub const SYS_RBUF_FLUSH_CTRL: usize = 0x08;

// Extension block: RGMII out-of-band control.
pub const EXT_RGMII_OOB_CTRL: usize = 0x80 + 0x0C;
pub const RGMII_LINK: u32 = 1 << 4;
pub const OOB_DISABLE: u32 = 1 << 5;
pub const RGMII_MODE_EN: u32 = 1 << 6;
pub const ID_MODE_DIS: u32 = 1 << 16;

// Level-2 interrupt controllers (masked: this driver polls).
pub const INTRL2_0: usize = 0x200;
pub const INTRL2_1: usize = 0x240;
pub const INTRL2_CPU_CLEAR: usize = 0x08;
pub const INTRL2_CPU_MASK_SET: usize = 0x10;

// Receive buffer block.
pub const RBUF_CTRL: usize = 0x300;
pub const RBUF_ALIGN_2B: u32 = 1 << 1;
pub const RBUF_TBUF_SIZE_CTRL: usize = 0x300 + 0xB4;

// UniMAC.
pub const UMAC_CMD: usize = 0x800 + 0x008;
pub const UMAC_MAC0: usize = 0x800 + 0x00C;
pub const UMAC_MAC1: usize = 0x800 + 0x010;
pub const UMAC_MAX_FRAME_LEN: usize = 0x800 + 0x014;
pub const UMAC_TX_FLUSH: usize = 0x800 + 0x334;
pub const UMAC_MIB_CTRL: usize = 0x800 + 0x580;
pub const MDIO_CMD: usize = 0x800 + 0x614;

pub const CMD_TX_EN: u32 = 1 << 0;
pub const CMD_RX_EN: u32 = 1 << 1;
pub const CMD_SPEED_SHIFT: u32 = 2;
pub const CMD_HD_EN: u32 = 1 << 10;
pub const CMD_SW_RESET: u32 = 1 << 13;
pub const CMD_LCL_LOOP_EN: u32 = 1 << 15;
pub const MIB_RESET_RX: u32 = 1 << 0;
pub const MIB_RESET_RUNT: u32 = 1 << 1;
pub const MIB_RESET_TX: u32 = 1 << 2;

pub const MDIO_START_BUSY: u32 = 1 << 29;
pub const MDIO_READ_FAIL: u32 = 1 << 28;
pub const MDIO_RD: u32 = 2 << 26;
pub const MDIO_WR: u32 = 1 << 26;
pub const MDIO_PMD_SHIFT: u32 = 21;
pub const MDIO_REG_SHIFT: u32 = 16;

/// Largest frame the MAC accepts: 1500 + header 14 + VLAN 4 + Broadcom tag 6 + FCS 4 + pad 8.
pub const MAX_FRAME_LEN: u32 = 1536;

// DMA. 256 on-chip descriptors per direction, three words each, followed by the ring
// registers of 17 rings (16 priority queues and the default queue 16) and the DMA
// control registers.
pub const TOTAL_DESCS: usize = 256;
pub const DESC_SIZE: usize = 12;
pub const DEFAULT_Q: usize = 16;
const RING_REGS_SIZE: usize = 0x40;

pub const RX_DESC_BASE: usize = 0x2000;
pub const TX_DESC_BASE: usize = 0x4000;
const RDMA_REG_OFF: usize = RX_DESC_BASE + TOTAL_DESCS * DESC_SIZE;
const TDMA_REG_OFF: usize = TX_DESC_BASE + TOTAL_DESCS * DESC_SIZE;
pub const RDMA_RING: usize = RDMA_REG_OFF + DEFAULT_Q * RING_REGS_SIZE;
pub const TDMA_RING: usize = TDMA_REG_OFF + DEFAULT_Q * RING_REGS_SIZE;
pub const RDMA_CTRL_BASE: usize = RDMA_REG_OFF + (DEFAULT_Q + 1) * RING_REGS_SIZE;
pub const TDMA_CTRL_BASE: usize = TDMA_REG_OFF + (DEFAULT_Q + 1) * RING_REGS_SIZE;

// Per-ring registers (offsets inside RDMA_RING / TDMA_RING). The read/write pointer and
// producer/consumer index positions differ between the two directions.
pub const RDMA_WRITE_PTR: usize = 0x00;
pub const RDMA_PROD_INDEX: usize = 0x08;
pub const RDMA_CONS_INDEX: usize = 0x0C;
pub const RDMA_XON_XOFF_THRESH: usize = 0x28;
pub const RDMA_READ_PTR: usize = 0x2C;
pub const TDMA_READ_PTR: usize = 0x00;
pub const TDMA_CONS_INDEX: usize = 0x08;
pub const TDMA_PROD_INDEX: usize = 0x0C;
pub const TDMA_MBUF_DONE_THRESH: usize = 0x24;
pub const TDMA_FLOW_PERIOD: usize = 0x28;
pub const TDMA_WRITE_PTR: usize = 0x2C;
pub const DMA_RING_BUF_SIZE: usize = 0x10;
pub const DMA_START_ADDR: usize = 0x14;
pub const DMA_END_ADDR: usize = 0x1C;

// DMA control registers (offsets inside RDMA_CTRL_BASE / TDMA_CTRL_BASE).
pub const DMA_RING_CFG: usize = 0x00;
pub const DMA_CTRL: usize = 0x04;
pub const DMA_STATUS: usize = 0x08;
pub const DMA_SCB_BURST_SIZE: usize = 0x0C;
pub const DMA_EN: u32 = 1 << 0;
pub const DMA_DISABLED: u32 = 1 << 0;
pub const DMA_RING_BUF_EN_SHIFT: u32 = 1;
pub const DMA_MAX_BURST_LENGTH: u32 = 8;
pub const DMA_RING_SIZE_SHIFT: u32 = 16;

// Descriptor words.
pub const DESC_LENGTH_STATUS: usize = 0x00;
pub const DESC_ADDRESS_LO: usize = 0x04;
pub const DESC_ADDRESS_HI: usize = 0x08;
pub const DMA_BUFLENGTH_SHIFT: u32 = 16;
pub const DMA_BUFLENGTH_MASK: u32 = 0x0FFF;
pub const DMA_OWN: u32 = 0x8000;
pub const DMA_EOP: u32 = 0x4000;
pub const DMA_SOP: u32 = 0x2000;
pub const DMA_TX_APPEND_CRC: u32 = 0x0040;
pub const DMA_TX_QTAG_SHIFT: u32 = 7;
pub const DMA_TX_QTAG_MASK: u32 = 0x3F;
/// Receive status bits that mean the frame is damaged: overrun, CRC error, receive error,
/// no buffer, oversize.
pub const DMA_RX_ERRORS: u32 = 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0010;

/// Byte offset of descriptor `index` in a descriptor area.
pub const fn desc(base: usize, index: usize) -> usize {
    base + index * DESC_SIZE
}
