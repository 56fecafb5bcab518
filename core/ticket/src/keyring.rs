//! Hive MAC keys by key id: one active key for minting, older keys kept for verifying until
//! they are retired.

use alloc::collections::BTreeMap;
use core::fmt;

use crate::error::TicketError;

/// BLAKE3 `derive_key` context; fixed so derived keys never collide with other uses of a seed.
const DERIVE_CONTEXT: &str = "cohesix ticket mac key v1";

/// Keys by id. The key bytes never leave the crate except through MAC computation, and
/// `Debug` shows only the ids.
#[derive(Clone, Default)]
pub struct Keyring {
    keys: BTreeMap<u8, [u8; 32]>,
    active: Option<u8>,
}

impl Keyring {
    pub fn new() -> Self {
        Keyring::default()
    }

    /// Adds or replaces the key under `key_id`. The first key inserted into a ring with no
    /// active key becomes active.
    pub fn insert(&mut self, key_id: u8, key: [u8; 32]) {
        self.keys.insert(key_id, key);
        if self.active.is_none() {
            self.active = Some(key_id);
        }
    }

    /// Makes `key_id` the key new tickets are minted under.
    pub fn set_active(&mut self, key_id: u8) -> Result<(), TicketError> {
        if !self.keys.contains_key(&key_id) {
            return Err(TicketError::UnknownKey);
        }
        self.active = Some(key_id);
        Ok(())
    }

    /// Removes a key; tickets minted under it stop verifying. Retiring the active key leaves
    /// the ring without one until [`Keyring::set_active`] names another.
    pub fn retire(&mut self, key_id: u8) -> bool {
        let removed = self.keys.remove(&key_id).is_some();
        if self.active == Some(key_id) {
            self.active = None;
        }
        removed
    }

    pub fn active_id(&self) -> Option<u8> {
        self.active
    }

    pub fn contains(&self, key_id: u8) -> bool {
        self.keys.contains_key(&key_id)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Key ids present, ascending.
    pub fn ids(&self) -> impl Iterator<Item = u8> + '_ {
        self.keys.keys().copied()
    }

    pub(crate) fn key(&self, key_id: u8) -> Option<&[u8; 32]> {
        self.keys.get(&key_id)
    }

    /// Derives a 32-byte key from a seed and a label (e.g. the scenario seed and `"hive-key-1"`)
    /// for simulations and tests. The label is length-prefixed so `(seed, label)` pairs cannot
    /// run into each other.
    pub fn derive_key(seed: &[u8], label: &str) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new_derive_key(DERIVE_CONTEXT);
        hasher.update(&(label.len() as u64).to_le_bytes());
        hasher.update(label.as_bytes());
        hasher.update(seed);
        *hasher.finalize().as_bytes()
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("ids", &self.keys.keys().collect::<alloc::vec::Vec<_>>())
            .field("active", &self.active)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn first_insert_becomes_active() {
        let mut ring = Keyring::new();
        assert_eq!(ring.active_id(), None);
        ring.insert(4, [1; 32]);
        ring.insert(5, [2; 32]);
        assert_eq!(ring.active_id(), Some(4));
        assert_eq!(ring.set_active(9), Err(TicketError::UnknownKey));
        assert_eq!(ring.set_active(5), Ok(()));
        assert_eq!(ring.active_id(), Some(5));
        assert_eq!(ring.ids().collect::<alloc::vec::Vec<_>>(), [4, 5]);
    }

    #[test]
    fn retire_removes_and_clears_active() {
        let mut ring = Keyring::new();
        ring.insert(1, [1; 32]);
        assert!(ring.retire(1));
        assert!(!ring.retire(1));
        assert_eq!(ring.active_id(), None);
        assert!(ring.is_empty());
        ring.insert(2, [2; 32]);
        assert_eq!(ring.active_id(), Some(2));
    }

    #[test]
    fn debug_hides_key_bytes() {
        let mut ring = Keyring::new();
        ring.insert(7, [0xab; 32]);
        let shown = format!("{ring:?}");
        assert!(shown.contains('7'));
        assert!(!shown.contains("171"), "{shown}");
        assert!(!shown.to_lowercase().contains("ab"), "{shown}");
    }

    #[test]
    fn derived_keys_depend_on_seed_and_label() {
        let a = Keyring::derive_key(b"seed", "k1");
        assert_eq!(a, Keyring::derive_key(b"seed", "k1"));
        assert_ne!(a, Keyring::derive_key(b"seed", "k2"));
        assert_ne!(a, Keyring::derive_key(b"seee", "k1"));
        assert_ne!(
            Keyring::derive_key(b"1seed", "k"),
            Keyring::derive_key(b"seed", "k1")
        );
    }
}
