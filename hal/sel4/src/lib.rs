//! Glue that runs the image as an seL4 root task.
#![no_std]
