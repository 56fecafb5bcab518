//! GPIO pin routing for the console (BCM2711 ARM Peripherals, chapter 5): GPIO 14/15 to
//! UART0 (function ALT0) with pulls disabled. The firmware does this when `config.txt` has
//! `enable_uart=1`; doing it again makes the image independent of that setting.

use crate::mmio::Regs;

const GPFSEL1: usize = 0x04;
const GPIO_PUP_PDN_CNTRL_REG0: usize = 0xE4;
const FSEL_ALT0: u32 = 0b100;
const FSEL_MASK: u32 = 0b111;

/// Routes GPIO 14 (TXD0) and 15 (RXD0) to the PL011 and turns their pulls off.
pub fn route_uart0<R: Regs>(gpio: &R) {
    // GPFSEL1 holds pins 10..19, three bits each: pin 14 at bit 12, pin 15 at bit 15.
    let clear = (FSEL_MASK << 12) | (FSEL_MASK << 15);
    let set = (FSEL_ALT0 << 12) | (FSEL_ALT0 << 15);
    gpio.modify32(GPFSEL1, clear, set);
    // Two bits per pin (00 = no pull): pin 14 at bit 28, pin 15 at bit 30.
    gpio.modify32(GPIO_PUP_PDN_CNTRL_REG0, (0b11 << 28) | (0b11 << 30), 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmio::fake::FakeRegs;

    #[test]
    fn uart_pins_get_alt0_and_other_pins_are_kept() {
        let gpio = FakeRegs::default();
        gpio.set(GPFSEL1, 0x3FFF_FFFF);
        gpio.set(GPIO_PUP_PDN_CNTRL_REG0, u32::MAX);
        route_uart0(&gpio);
        let fsel = gpio.get(GPFSEL1);
        assert_eq!((fsel >> 12) & 0b111, 0b100);
        assert_eq!((fsel >> 15) & 0b111, 0b100);
        assert_eq!(fsel & 0xFFF, 0xFFF);
        assert_eq!(fsel >> 18, 0x3FFF_FFFF >> 18);
        assert_eq!(gpio.get(GPIO_PUP_PDN_CNTRL_REG0), 0x0FFF_FFFF);
    }
}
