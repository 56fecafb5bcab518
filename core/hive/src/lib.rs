//! The Queen's authority.
#![no_std]
extern crate alloc;
