//! Conformance checks for `Store` implementations: the semantics every store must share, as
//! the in-memory `MemStore` defines them. Each check panics with a message naming the rule it
//! found broken; a store's own tests call `all` with a constructor of fresh, empty stores.
//!
//! ```
//! use cohesix_hal::{conformance, mem::MemStore};
//! conformance::all(MemStore::new);
//! ```

use alloc::vec;
use alloc::vec::Vec;

use crate::Store;

/// Runs every check, each on a fresh store from `fresh`.
pub fn all<S: Store>(mut fresh: impl FnMut() -> S) {
    keys_put_get_overwrite(&mut fresh());
    logs_keep_order_and_indices(&mut fresh());
    missing_log_reads_as_empty(&mut fresh());
    read_is_bounded_and_resumable(&mut fresh());
    trim_keeps_indices(&mut fresh());
    trim_everything_then_append(&mut fresh());
    logs_and_keys_are_separate(&mut fresh());
}

/// Reads every kept record of `log` from `from`, in pages of 2.
pub fn read_all<S: Store>(store: &S, log: &str, from: u64) -> (Vec<Vec<u8>>, u64) {
    let mut out = Vec::new();
    let mut next = from;
    loop {
        let before = out.len();
        next = store.store_read(log, next, 2, &mut out).expect("read");
        if out.len() == before {
            return (out, next);
        }
    }
}

pub fn keys_put_get_overwrite<S: Store>(store: &mut S) {
    let mut out = Vec::from(&b"stale"[..]);
    assert_eq!(store.store_get("a/b", &mut out), None, "absent key");
    store.store_put("a/b", b"one").unwrap();
    store.store_put("a/b", b"three").unwrap();
    assert_eq!(store.store_get("a/b", &mut out), Some(5), "overwrite");
    assert_eq!(out, b"three", "get replaces the contents of out");
    store.store_put("empty", b"").unwrap();
    assert_eq!(store.store_get("empty", &mut out), Some(0), "empty value");
    assert!(out.is_empty());
    store.store_put("../odd key", b"x").unwrap();
    assert_eq!(
        store.store_get("../odd key", &mut out),
        Some(1),
        "any key text"
    );
}

pub fn logs_keep_order_and_indices<S: Store>(store: &mut S) {
    store.store_append("spool", b"r0").unwrap();
    store.store_append("spool", b"").unwrap();
    store.store_append("spool", b"r2").unwrap();
    store.store_append("other", b"x").unwrap();
    let (records, next) = read_all(store, "spool", 0);
    assert_eq!(
        records,
        [b"r0".to_vec(), vec![], b"r2".to_vec()],
        "append order"
    );
    assert_eq!(next, 3, "index after the last record");
    let mut out = vec![b"kept".to_vec()];
    assert_eq!(store.store_read("spool", 1, 10, &mut out).unwrap(), 3);
    assert_eq!(
        out,
        [b"kept".to_vec(), vec![], b"r2".to_vec()],
        "read appends to out"
    );
    assert_eq!(read_all(store, "other", 0).0, [b"x".to_vec()]);
}

pub fn missing_log_reads_as_empty<S: Store>(store: &mut S) {
    let mut out = Vec::new();
    assert_eq!(store.store_read("none", 0, 8, &mut out).unwrap(), 0);
    assert_eq!(
        store.store_read("none", 5, 8, &mut out).unwrap(),
        5,
        "returns from"
    );
    assert!(out.is_empty());
    store.store_trim("none", 3).unwrap();
    store.store_append("one", b"a").unwrap();
    assert_eq!(
        store.store_read("one", 4, 8, &mut out).unwrap(),
        4,
        "past the end"
    );
    assert!(out.is_empty());
}

pub fn read_is_bounded_and_resumable<S: Store>(store: &mut S) {
    for i in 0u8..5 {
        store.store_append("j", &[i]).unwrap();
    }
    let mut out = Vec::new();
    assert_eq!(store.store_read("j", 0, 2, &mut out).unwrap(), 2);
    assert_eq!(store.store_read("j", 2, 2, &mut out).unwrap(), 4);
    assert_eq!(store.store_read("j", 4, 2, &mut out).unwrap(), 5);
    assert_eq!(store.store_read("j", 5, 2, &mut out).unwrap(), 5);
    assert_eq!(out, (0u8..5).map(|i| vec![i]).collect::<Vec<_>>());
    let mut none = Vec::new();
    assert_eq!(store.store_read("j", 1, 0, &mut none).unwrap(), 1, "max 0");
    assert!(none.is_empty());
}

pub fn trim_keeps_indices<S: Store>(store: &mut S) {
    for i in 0u8..6 {
        store.store_append("j", &[i]).unwrap();
    }
    store.store_trim("j", 3).unwrap();
    store.store_trim("j", 1).unwrap(); // already gone: nothing changes
    let (records, next) = read_all(store, "j", 0);
    assert_eq!(
        records,
        [vec![3], vec![4], vec![5]],
        "a trimmed start reads from the first kept"
    );
    assert_eq!(next, 6);
    let mut out = Vec::new();
    assert_eq!(
        store.store_read("j", 1, 1, &mut out).unwrap(),
        4,
        "from a trimmed index"
    );
    assert_eq!(out, [vec![3]]);
    store.store_append("j", b"6").unwrap();
    assert_eq!(
        read_all(store, "j", 6).0,
        [b"6".to_vec()],
        "indices continue"
    );
}

pub fn trim_everything_then_append<S: Store>(store: &mut S) {
    store.store_append("j", b"a").unwrap();
    store.store_append("j", b"b").unwrap();
    store.store_trim("j", 100).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        store.store_read("j", 0, 8, &mut out).unwrap(),
        2,
        "all trimmed"
    );
    assert!(out.is_empty());
    store.store_append("j", b"c").unwrap();
    assert_eq!(store.store_read("j", 0, 8, &mut out).unwrap(), 3);
    assert_eq!(
        out,
        [b"c".to_vec()],
        "the next index is kept across a full trim"
    );
}

pub fn logs_and_keys_are_separate<S: Store>(store: &mut S) {
    store.store_put("same", b"key").unwrap();
    store.store_append("same", b"record").unwrap();
    let mut out = Vec::new();
    assert_eq!(store.store_get("same", &mut out), Some(3));
    assert_eq!(read_all(store, "same", 0).0, [b"record".to_vec()]);
}
