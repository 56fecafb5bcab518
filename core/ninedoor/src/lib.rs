//! NineDoor.
#![no_std]
extern crate alloc;
