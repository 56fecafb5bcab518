//! A `#![no_std]` crate that links every core crate with default features off. It defines its
//! own `#[panic_handler]`, which collides with std's (`duplicate lang item`) if any core crate
//! pulls std in, so `cargo build -p cohesix-nostd-check --features prove` failing means the
//! core lost no_std.
#![no_std]
#![forbid(unsafe_code)]

pub use console as _console;
pub use hal as _hal;
pub use hive as _hive;
pub use journal as _journal;
pub use kv as _kv;
pub use manifest as _manifest;
pub use ninedoor as _ninedoor;
pub use pump as _pump;
pub use refusal as _refusal;
pub use secure9p as _secure9p;
pub use ticket as _ticket;
pub use worker as _worker;

#[cfg(all(feature = "prove", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
