//! The pump.
#![no_std]
extern crate alloc;
