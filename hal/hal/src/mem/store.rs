//! A store in memory: a `BTreeMap` of keys plus named append logs, with an optional size
//! limit and an injectable medium failure.
//!
//! Durability: every write is durable when it returns. `crash()` models a power loss and keeps
//! everything written before it; it exists so scenarios can script a crash without the store
//! inventing torn writes the real media do not promise to avoid.

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::{Store, StoreError};

/// One append log: the records kept and the absolute index of the first of them.
#[derive(Debug, Default, Clone)]
struct MemLog {
    first: u64,
    records: Vec<Vec<u8>>,
}

#[derive(Debug, Default)]
struct StoreState {
    kv: BTreeMap<String, Vec<u8>>,
    logs: BTreeMap<String, MemLog>,
    /// Bytes in use: key and log names plus values and records.
    used: usize,
    capacity: Option<usize>,
    failing: bool,
    crashes: u64,
}

impl StoreState {
    /// Refuses a write that would change usage from `used` to `after`.
    fn admit(&self, after: usize) -> Result<(), StoreError> {
        if self.failing {
            return Err(StoreError::Io);
        }
        match self.capacity {
            Some(cap) if after > cap => Err(StoreError::Full),
            _ => Ok(()),
        }
    }
}

/// An in-memory `Store`. Clones share the same contents, so a test can keep a handle and
/// inspect what the code under test wrote.
#[derive(Clone, Debug, Default)]
pub struct MemStore {
    state: Rc<RefCell<StoreState>>,
}

impl MemStore {
    /// An unbounded store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store refusing with `StoreError::Full` any write that would take it past `bytes`
    /// (names, values and records all count).
    pub fn with_capacity(bytes: usize) -> Self {
        let store = Self::new();
        store.state.borrow_mut().capacity = Some(bytes);
        store
    }

    /// Bytes in use.
    pub fn used_bytes(&self) -> usize {
        self.state.borrow().used
    }

    /// A copy of the value of `key`.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.state.borrow().kv.get(key).cloned()
    }

    /// The records of `log` in append order (empty if the log does not exist).
    pub fn log(&self, log: &str) -> Vec<Vec<u8>> {
        self.state
            .borrow()
            .logs
            .get(log)
            .map(|l| l.records.clone())
            .unwrap_or_default()
    }

    /// While `failing` is set every write returns `StoreError::Io` and changes nothing.
    pub fn set_failing(&self, failing: bool) {
        self.state.borrow_mut().failing = failing;
    }

    /// A power loss. Writes are durable on return, so nothing is lost; the count is kept for
    /// scenario checks.
    pub fn crash(&self) {
        self.state.borrow_mut().crashes += 1;
    }

    /// How many times `crash()` was called.
    pub fn crashes(&self) -> u64 {
        self.state.borrow().crashes
    }
}

impl Store for MemStore {
    /// Replaces the contents of `out` with the value.
    fn store_get(&self, key: &str, out: &mut Vec<u8>) -> Option<usize> {
        let state = self.state.borrow();
        let value = state.kv.get(key)?;
        out.clear();
        out.extend_from_slice(value);
        Some(value.len())
    }

    fn store_put(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let mut state = self.state.borrow_mut();
        let old = state.kv.get(key).map_or(0, |v| key.len() + v.len());
        let after = (state.used - old).saturating_add(key.len() + value.len());
        state.admit(after)?;
        state.kv.insert(String::from(key), value.to_vec());
        state.used = after;
        Ok(())
    }

    fn store_append(&mut self, log: &str, record: &[u8]) -> Result<(), StoreError> {
        let mut state = self.state.borrow_mut();
        let name_cost = if state.logs.contains_key(log) {
            0
        } else {
            log.len()
        };
        let after = state.used.saturating_add(name_cost + record.len());
        state.admit(after)?;
        state
            .logs
            .entry(String::from(log))
            .or_default()
            .records
            .push(record.to_vec());
        state.used = after;
        Ok(())
    }

    fn store_read(
        &self,
        log: &str,
        from: u64,
        max: usize,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<u64, StoreError> {
        let state = self.state.borrow();
        let Some(log) = state.logs.get(log) else {
            return Ok(from);
        };
        let start = from.max(log.first);
        let skip = usize::try_from(start - log.first).unwrap_or(usize::MAX);
        let taken = log.records.iter().skip(skip).take(max);
        let before = out.len();
        out.extend(taken.cloned());
        Ok(start + (out.len() - before) as u64)
    }

    fn store_trim(&mut self, log: &str, before: u64) -> Result<(), StoreError> {
        let mut state = self.state.borrow_mut();
        if state.failing {
            return Err(StoreError::Io);
        }
        let Some(entry) = state.logs.get_mut(log) else {
            return Ok(());
        };
        let drop = usize::try_from(before.saturating_sub(entry.first))
            .unwrap_or(usize::MAX)
            .min(entry.records.len());
        let freed: usize = entry.records.drain(..drop).map(|r| r.len()).sum();
        entry.first += drop as u64;
        state.used -= freed;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_and_overwrite() {
        let mut store = MemStore::new();
        let mut out = Vec::from(&b"stale"[..]);
        assert_eq!(store.store_get("k", &mut out), None);
        store.store_put("k", b"one").unwrap();
        assert_eq!(store.store_get("k", &mut out), Some(3));
        assert_eq!(out, b"one");
        store.store_put("k", b"three").unwrap();
        assert_eq!(store.store_get("k", &mut out), Some(5));
        assert_eq!(out, b"three");
        assert_eq!(store.used_bytes(), 1 + 5);
    }

    #[test]
    fn logs_keep_order() {
        let mut store = MemStore::new();
        store.store_append("spool", b"a").unwrap();
        store.store_append("spool", b"bc").unwrap();
        store.store_append("other", b"x").unwrap();
        assert_eq!(store.log("spool"), [b"a".to_vec(), b"bc".to_vec()]);
        assert_eq!(store.log("other"), [b"x".to_vec()]);
        assert!(store.log("missing").is_empty());
        assert_eq!(store.used_bytes(), 5 + 3 + 5 + 1);
    }

    #[test]
    fn capacity_refuses_with_full_and_changes_nothing() {
        let mut store = MemStore::with_capacity(10);
        store.store_put("key", b"1234").unwrap(); // 7 bytes
        assert_eq!(store.store_put("other", b"xy"), Err(StoreError::Full));
        assert_eq!(store.store_append("log", b"1"), Err(StoreError::Full)); // 7 + 3 + 1
        assert_eq!(store.store_append("lg", b"1"), Ok(())); // 7 + 2 + 1 = 10
        assert_eq!(store.used_bytes(), 10);
        assert!(store.log("log").is_empty());
        assert_eq!(store.get("other"), None);
    }

    #[test]
    fn overwrite_counts_the_difference() {
        let mut store = MemStore::with_capacity(8);
        store.store_put("k", b"1234567").unwrap(); // 8 bytes, full
        store.store_put("k", b"abcdefg").unwrap(); // same size: fits
        assert_eq!(store.store_put("k", b"abcdefgh"), Err(StoreError::Full));
        assert_eq!(store.get("k").unwrap(), b"abcdefg");
        store.store_put("k", b"").unwrap();
        assert_eq!(store.used_bytes(), 1);
    }

    #[test]
    fn append_past_capacity_is_full() {
        let mut store = MemStore::with_capacity(6);
        store.store_append("log", b"ab").unwrap(); // 3 + 2
        assert_eq!(store.store_append("log", b"cd"), Err(StoreError::Full));
        store.store_append("log", b"c").unwrap();
        assert_eq!(store.log("log"), [b"ab".to_vec(), b"c".to_vec()]);
    }

    #[test]
    fn injected_failure_is_io_and_changes_nothing() {
        let mut store = MemStore::new();
        store.set_failing(true);
        assert_eq!(store.store_put("k", b"v"), Err(StoreError::Io));
        assert_eq!(store.store_append("log", b"r"), Err(StoreError::Io));
        assert_eq!(store.used_bytes(), 0);
        store.set_failing(false);
        store.store_put("k", b"v").unwrap();
        assert_eq!(store.get("k").unwrap(), b"v");
    }

    #[test]
    fn crash_keeps_everything_written() {
        let mut store = MemStore::new();
        let observer = store.clone();
        store.store_put("settings", b"on").unwrap();
        store.store_append("spool", b"r1").unwrap();
        store.crash();
        assert_eq!(observer.crashes(), 1);
        assert_eq!(observer.get("settings").unwrap(), b"on");
        assert_eq!(observer.log("spool"), [b"r1".to_vec()]);
    }
}
