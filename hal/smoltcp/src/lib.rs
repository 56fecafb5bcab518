//! The Net trait over smoltcp for any frame-level network device.
#![no_std]
