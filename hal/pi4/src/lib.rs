//! Drivers of the Raspberry Pi 4: PL011, generic timer, GENET.
#![no_std]
