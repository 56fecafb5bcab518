//! Crashes in the middle of a write: a backend that lets a number of writes through, then
//! writes half of the next one and fails everything after it, as power loss would. Whatever
//! the crash point, the reopened store holds every acknowledged record, in order, and nothing
//! but whole records that were appended (at most the one whose acknowledgement was lost).

use super::*;
use redb::backends::FileBackend;
use redb::StorageBackend;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Debug)]
struct CrashAfter {
    inner: FileBackend,
    writes_left: Arc<AtomicUsize>,
}

fn crashed() -> io::Error {
    io::Error::other("power lost")
}

impl StorageBackend for CrashAfter {
    fn len(&self) -> Result<u64, io::Error> {
        self.inner.len()
    }

    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, io::Error> {
        self.inner.read(offset, len)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        if self.writes_left.load(Ordering::SeqCst) == 0 {
            return Err(crashed());
        }
        self.inner.set_len(len)
    }

    fn sync_data(&self, eventual: bool) -> Result<(), io::Error> {
        if self.writes_left.load(Ordering::SeqCst) == 0 {
            return Err(crashed());
        }
        self.inner.sync_data(eventual)
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        match self.writes_left.load(Ordering::SeqCst) {
            0 => Err(crashed()),
            1 => {
                // The torn write: half of it reaches the medium.
                self.writes_left.store(0, Ordering::SeqCst);
                self.inner.write(offset, &data[..data.len() / 2])?;
                Err(crashed())
            }
            n => {
                self.writes_left.store(n - 1, Ordering::SeqCst);
                self.inner.write(offset, data)
            }
        }
    }
}

fn record(i: usize) -> Vec<u8> {
    format!("entry {i} ").repeat(1 + i % 7).into_bytes()
}

/// Appends until the crash, then reopens; returns (acknowledged, read back).
fn crash_at(writes: usize) -> (usize, Vec<Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    let mut acknowledged = 0;
    {
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .unwrap();
        let backend = CrashAfter {
            inner: FileBackend::new(file).unwrap(),
            writes_left: Arc::new(AtomicUsize::new(writes)),
        };
        let Ok(mut store) = StdStore::over(backend) else {
            return (0, Vec::new());
        };
        while acknowledged < 40 && store.store_append("journal", &record(acknowledged)).is_ok() {
            acknowledged += 1;
        }
    }
    match StdStore::dir(dir.path()) {
        Ok(again) => (acknowledged, again.log("journal")),
        Err(e) => panic!("crash after {writes} writes: the store does not reopen: {e}"),
    }
}

#[test]
fn a_torn_write_is_never_read_and_nothing_acknowledged_is_lost() {
    let mut torn_seen = 0;
    for writes in (1..120).step_by(3) {
        let (acknowledged, records) = crash_at(writes);
        assert!(
            records.len() >= acknowledged && records.len() <= acknowledged + 1,
            "crash after {writes} writes: {acknowledged} acknowledged, {} read",
            records.len()
        );
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r, &record(i), "crash after {writes} writes: record {i}");
        }
        if acknowledged < 40 {
            torn_seen += 1;
        }
    }
    assert!(torn_seen > 10, "the crash points fall inside the appends");
}
