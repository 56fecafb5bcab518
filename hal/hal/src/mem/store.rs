//! A store in memory: a `BTreeMap` of keys plus named append logs, with an optional size
//! limit and an injectable medium failure.
//!
//! Durability: every write is durable when it returns. `crash()` models a power loss and keeps
//! everything written before it. A scenario may ask for a torn write at the next crash
//! (`tear_at_crash`): the crash then leaves part of a record that was never acknowledged at
//! the tail of the last log written, as a medium would when power fails mid-write. Readers
//! never see it (a real store truncates a torn tail when it opens), and the next append takes
//! its place; `torn_tail` keeps it, with the index it sat at, until the next crash, so checks
//! can prove it was not misread. `acknowledged` counts the appends that returned
//! `Ok`, kept apart from the records themselves so a check can tell whether any were lost.

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
    /// Per log: the index after the last acknowledged append.
    acknowledged: BTreeMap<String, u64>,
    /// The log last appended to, where a torn write would land.
    last_log: Option<String>,
    tear_at_crash: bool,
    /// Per log: the index and bytes of a torn, unacknowledged write left by the last crash.
    torn: BTreeMap<String, (u64, Vec<u8>)>,
    /// Writes refused (`Full` or `Io`) so far.
    refused: u64,
}

impl StoreState {
    /// Refuses a write that would change usage from `used` to `after`, counting refusals.
    fn admit(&mut self, after: usize) -> Result<(), StoreError> {
        let verdict = if self.failing {
            Err(StoreError::Io)
        } else {
            match self.capacity {
                Some(cap) if after > cap => Err(StoreError::Full),
                _ => Ok(()),
            }
        };
        if verdict.is_err() {
            self.refused += 1;
        }
        verdict
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

    /// Limits the store to `bytes` from now on (`None`: unbounded); a limit below the bytes
    /// in use refuses every growing write with `Full` (a full disk).
    pub fn set_capacity(&self, bytes: Option<usize>) {
        self.state.borrow_mut().capacity = bytes;
    }

    /// Makes the next `crash()` tear a write: see the module documentation.
    pub fn tear_at_crash(&self, tear: bool) {
        self.state.borrow_mut().tear_at_crash = tear;
    }

    /// A power loss. Writes are durable on return, so nothing acknowledged is lost; if a tear
    /// was asked for, the last log written gains a torn tail. The count is kept for checks.
    pub fn crash(&self) {
        let mut state = self.state.borrow_mut();
        state.crashes += 1;
        state.torn.clear();
        if core::mem::take(&mut state.tear_at_crash) {
            if let Some(name) = state.last_log.clone() {
                // Half of a record like the last one: what was on its way to the medium.
                let Some(log) = state.logs.get(&name) else {
                    return;
                };
                let at = log.first + log.records.len() as u64;
                let last = log.records.last();
                let mut partial = last.map_or_else(Vec::new, |r| r[..r.len() / 2].to_vec());
                partial.push(0xFF);
                state.torn.insert(name, (at, partial));
            }
        }
    }

    /// The index after the last append to `log` that returned `Ok` (trims do not lower it).
    pub fn acknowledged(&self, log: &str) -> u64 {
        self.state
            .borrow()
            .acknowledged
            .get(log)
            .copied()
            .unwrap_or(0)
    }

    /// The index and bytes of the write torn at the tail of `log` by the last crash, if any.
    pub fn torn_tail(&self, log: &str) -> Option<(u64, Vec<u8>)> {
        self.state.borrow().torn.get(log).cloned()
    }

    /// Every log with a torn tail from the last crash.
    pub fn torn_logs(&self) -> Vec<String> {
        self.state.borrow().torn.keys().cloned().collect()
    }

    /// The names of every log, in order.
    pub fn log_names(&self) -> Vec<String> {
        self.state.borrow().logs.keys().cloned().collect()
    }

    /// How many writes the store refused (`Full` or `Io`) so far.
    pub fn refused(&self) -> u64 {
        self.state.borrow().refused
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
        let entry = state.logs.entry(String::from(log)).or_default();
        entry.records.push(record.to_vec());
        let next = entry.first + entry.records.len() as u64;
        state.acknowledged.insert(String::from(log), next);
        if state.last_log.as_deref() != Some(log) {
            state.last_log = Some(String::from(log));
        }
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

    #[test]
    fn conforms() {
        crate::conformance::all(MemStore::new);
    }

    #[test]
    fn a_torn_tail_is_kept_apart_and_never_read() {
        let mut store = MemStore::new();
        store.store_append("journal", b"abcd").unwrap();
        store.store_append("journal", b"efgh").unwrap();
        store.tear_at_crash(true);
        store.crash();
        assert_eq!(store.torn_tail("journal").unwrap(), (2, b"ef\xFF".to_vec()));
        assert_eq!(store.torn_logs(), ["journal"]);
        assert_eq!(store.acknowledged("journal"), 2);
        assert_eq!(store.log("journal"), [b"abcd".to_vec(), b"efgh".to_vec()]);
        store.store_append("journal", b"ijkl").unwrap();
        assert_eq!(
            store.log("journal")[2],
            b"ijkl",
            "the next append takes its place"
        );
        assert_eq!(store.acknowledged("journal"), 3);
        store.crash(); // the tear was for one crash only
        assert_eq!(store.torn_tail("journal"), None);
    }

    #[test]
    fn a_full_disk_refuses_growth_until_healed() {
        let mut store = MemStore::new();
        store.store_append("j", b"a").unwrap();
        store.set_capacity(Some(store.used_bytes()));
        assert_eq!(store.store_append("j", b"b"), Err(StoreError::Full));
        assert_eq!(store.acknowledged("j"), 1);
        store.set_capacity(None);
        store.store_append("j", b"b").unwrap();
        assert_eq!(store.acknowledged("j"), 2);
    }
}
