//! Drivers of the QEMU virt machine: PL011, generic timer, virtio-net over virtio-mmio, GIC.
#![no_std]
