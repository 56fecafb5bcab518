//! Entropy from the operating system (`getrandom`).

use hal::Entropy;

#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        // The OS source fails only when the platform has none at all, where no hive can
        // mint keys safely; stopping is the only honest answer.
        if let Err(e) = getrandom::fill(buf) {
            panic!("the operating system has no entropy source: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_differently_each_time() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        OsEntropy.fill_bytes(&mut a);
        OsEntropy.fill_bytes(&mut b);
        assert_ne!(a, b);
    }
}
