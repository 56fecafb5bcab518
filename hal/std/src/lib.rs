//! The HAL on a hosted operating system: real TCP sockets, a monotonic clock, OS entropy.
