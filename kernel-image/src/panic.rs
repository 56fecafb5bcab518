//! A panic prints its message and location on the serial console and parks the core. The
//! core crates do not panic on outside input; reaching this is a bug worth a loud report.

use core::fmt::Write;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut out = crate::platform::early_console();
    let _ = write!(out, "\r\ncohesix: panic: {info}\r\n");
    crate::arch::park()
}
