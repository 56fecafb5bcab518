//! The store of a hosted hive: a `redb` database (an embedded ACID store) in a file on disk,
//! or the same database in memory for throwaway hives.
//!
//! Why a database rather than files of our own: every write here is one transaction, made
//! durable (fsync) before it returns and checksummed, so a crash leaves each key and each log
//! exactly as the last acknowledged write left it — a torn write is rolled back when the file
//! is opened again, never read as a record. The semantics are those of `hal::mem::MemStore`,
//! checked by the shared `hal::conformance` tests.
//!
//! Layout: table `kv` (key -> value); table `records` ((log, absolute index) -> record); table
//! `logs` (log -> (first kept index, next index)), so indices survive trimming every record.

// The helpers return redb's own (large) error, converted to `StoreError` at the trait
// boundary; it is built only on a failing write, never on the hot path.
#![allow(clippy::result_large_err)]

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use hal::{Store, StoreError};
use redb::{Database, ReadableTable, TableDefinition};

const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
const RECORDS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("records");
const LOGS: TableDefinition<&str, (u64, u64)> = TableDefinition::new("logs");

/// The database file inside a store directory.
pub const STORE_FILE: &str = "cohesix.redb";

pub struct StdStore {
    db: Database,
    path: Option<PathBuf>,
}

impl StdStore {
    /// A store in memory: gone when the process exits.
    pub fn memory() -> Self {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            // Creating an empty database in memory fails only if allocation does.
            .expect("an in-memory database opens");
        Self { db, path: None }
    }

    /// The store in `dir` (the file `cohesix.redb`), created owner-only if missing. Fails if
    /// another process has it open: two hives on one store would each believe their journal.
    pub fn dir(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        create_private_dir(&dir)?;
        let path = dir.join(STORE_FILE);
        let db = Database::create(&path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{} is in use by another process", path.display()),
            ),
            other => io::Error::other(format!("opening {}: {other}", path.display())),
        })?;
        Ok(Self {
            db,
            path: Some(path),
        })
    }

    /// A store over any `redb` backend (tests use one that fails mid-write, as a crash does).
    #[cfg(test)]
    fn over(backend: impl redb::StorageBackend) -> Result<Self, redb::DatabaseError> {
        let db = Database::builder().create_with_backend(backend)?;
        Ok(Self { db, path: None })
    }

    /// The database file, or `None` for a memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The kept records of a log, oldest first (for tools and tests).
    pub fn log(&self, name: &str) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut next = 0;
        loop {
            let before = out.len();
            match self.store_read(name, next, 1024, &mut out) {
                Ok(after) if out.len() > before => next = after,
                _ => return out,
            }
        }
    }

    fn append(&self, log: &str, record: &[u8]) -> Result<(), redb::Error> {
        let txn = self.db.begin_write()?;
        {
            let mut logs = txn.open_table(LOGS)?;
            let (first, next) = logs.get(log)?.map_or((0, 0), |b| b.value());
            txn.open_table(RECORDS)?.insert((log, next), record)?;
            logs.insert(log, (first, next + 1))?;
        }
        txn.commit()?;
        Ok(())
    }

    fn read(
        &self,
        log: &str,
        from: u64,
        max: usize,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<u64, redb::Error> {
        let txn = self.db.begin_read()?;
        let logs = match txn.open_table(LOGS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(from),
            Err(e) => return Err(e.into()),
        };
        let Some((first, next)) = logs.get(log)?.map(|b| b.value()) else {
            return Ok(from);
        };
        let start = from.max(first);
        if start >= next || max == 0 {
            return Ok(start);
        }
        let records = txn.open_table(RECORDS)?;
        let before = out.len();
        for entry in records.range((log, start)..(log, next))?.take(max) {
            out.push(entry?.1.value().to_vec());
        }
        Ok(start + (out.len() - before) as u64)
    }

    fn trim(&self, log: &str, before: u64) -> Result<(), redb::Error> {
        let txn = self.db.begin_write()?;
        {
            let mut logs = txn.open_table(LOGS)?;
            let Some((first, next)) = logs.get(log)?.map(|b| b.value()) else {
                return Ok(()); // dropping the transaction changes nothing
            };
            let upto = before.min(next);
            if upto <= first {
                return Ok(());
            }
            let mut records = txn.open_table(RECORDS)?;
            for index in first..upto {
                records.remove((log, index))?;
            }
            logs.insert(log, (upto, next))?;
        }
        txn.commit()?;
        Ok(())
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), redb::Error> {
        let txn = self.db.begin_write()?;
        txn.open_table(KV)?.insert(key, value)?;
        txn.commit()?;
        Ok(())
    }

    fn get(&self, key: &str, out: &mut Vec<u8>) -> Result<Option<usize>, redb::Error> {
        let txn = self.db.begin_read()?;
        let table = match txn.open_table(KV) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(value) = table.get(key)? else {
            return Ok(None);
        };
        out.clear();
        out.extend_from_slice(value.value());
        Ok(Some(out.len()))
    }
}

/// Creates `dir` (and missing parents) readable by its owner only: the journal holds every
/// authority decision of the hive.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// A database error as the HAL names it: out of space is `Full`, anything else `Io`.
fn store_error(e: redb::Error) -> StoreError {
    match e {
        redb::Error::Io(e)
            if matches!(
                e.kind(),
                io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
            ) =>
        {
            StoreError::Full
        }
        _ => StoreError::Io,
    }
}

impl Store for StdStore {
    fn store_get(&self, key: &str, out: &mut Vec<u8>) -> Option<usize> {
        // The trait has no error for reads of keys: an unreadable value reads as absent, and
        // the caller's next write reports the failing medium.
        self.get(key, out).ok().flatten()
    }

    fn store_put(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.put(key, value).map_err(store_error)
    }

    fn store_append(&mut self, log: &str, record: &[u8]) -> Result<(), StoreError> {
        self.append(log, record).map_err(store_error)
    }

    fn store_read(
        &self,
        log: &str,
        from: u64,
        max: usize,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<u64, StoreError> {
        let before = out.len();
        self.read(log, from, max, out).map_err(|e| {
            // A failed read adds nothing, not half a page.
            out.truncate(before);
            store_error(e)
        })
    }

    fn store_trim(&mut self, log: &str, before: u64) -> Result<(), StoreError> {
        self.trim(log, before).map_err(store_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_conforms() {
        hal::conformance::all(StdStore::memory);
    }

    #[test]
    fn disk_store_conforms() {
        let dir = tempfile::tempdir().unwrap();
        let mut n = 0;
        hal::conformance::all(|| {
            n += 1;
            StdStore::dir(dir.path().join(n.to_string())).unwrap()
        });
    }

    #[test]
    fn reopening_sees_every_acknowledged_write() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = StdStore::dir(dir.path()).unwrap();
            store.store_put("a/b", b"two").unwrap();
            for i in 0u8..5 {
                store.store_append("journal", &[i]).unwrap();
            }
            store.store_trim("journal", 2).unwrap();
        }
        let again = StdStore::dir(dir.path()).unwrap();
        let mut out = Vec::new();
        assert_eq!(again.store_get("a/b", &mut out), Some(3));
        assert_eq!(again.log("journal"), [vec![2], vec![3], vec![4]]);
        let mut page = Vec::new();
        assert_eq!(again.store_read("journal", 0, 8, &mut page).unwrap(), 5);
    }

    #[test]
    fn one_store_one_process() {
        let dir = tempfile::tempdir().unwrap();
        let _held = StdStore::dir(dir.path()).unwrap();
        let err = StdStore::dir(dir.path())
            .err()
            .expect("a second open is refused");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }

    #[cfg(unix)]
    #[test]
    fn the_store_directory_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/store");
        let store = StdStore::dir(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(store.path(), Some(path.join(STORE_FILE).as_path()));
    }
}

#[cfg(test)]
#[path = "store_crash.rs"]
mod crash;
