//! Fixed addresses and clocks of the BCM2711 in its low-peripheral mode, as the Raspberry Pi
//! firmware leaves it (BCM2711 ARM Peripherals, section 1.2; Linux `bcm2711.dtsi`).

/// Start of the main peripheral window as seen by the ARM cores.
pub const PERIPHERAL_BASE: usize = 0xFE00_0000;
/// GPIO block (function select and pull control).
pub const GPIO_BASE: usize = PERIPHERAL_BASE + 0x20_0000;
/// Size of the GPIO register window.
pub const GPIO_LEN: usize = 0x100;
/// UART0, the PL011 wired to GPIO 14/15 (and to QEMU's first serial port on `raspi4b`).
pub const UART0_BASE: usize = PERIPHERAL_BASE + 0x20_1000;
/// Size of a PL011 register window.
pub const UART_LEN: usize = 0x1000;
/// GENET v5 Ethernet MAC (bus address 0x7D58_0000 in `bcm2711.dtsi`).
pub const GENET_BASE: usize = 0xFD58_0000;
/// Size of the GENET register window.
pub const GENET_LEN: usize = 0x1_0000;
/// MDIO address of the BCM54213PE PHY on the Pi 4 board.
pub const GENET_PHY_ADDR: u8 = 1;
/// UART reference clock the firmware programs by default (`init_uart_clock`).
pub const UART_CLOCK_HZ: u32 = 48_000_000;
/// Console speed used by the image and by `config.txt`.
pub const CONSOLE_BAUD: u32 = 115_200;
/// Generic-timer frequency the Pi 4 firmware sets in CNTFRQ_EL0.
pub const TIMER_FREQ_HZ: u64 = 54_000_000;
/// Load address of `kernel8.img` for the firmware loader and for U-Boot's `booti`/`go`.
pub const KERNEL_LOAD_ADDR: usize = 0x8_0000;
