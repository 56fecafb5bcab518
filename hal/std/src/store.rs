//! The store of a hosted hive: a directory on disk, or memory.
//!
//! On disk every key is one file under `kv/` (written to a temporary file and renamed, so a
//! crash leaves the old or the new value, never half of one), and every log is one file under
//! `log/` of length-prefixed records appended in one write each.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use hal::{Store, StoreError};

pub enum StdStore {
    Memory {
        kv: BTreeMap<String, Vec<u8>>,
        logs: BTreeMap<String, Vec<Vec<u8>>>,
    },
    Dir(PathBuf),
}

impl StdStore {
    pub fn memory() -> Self {
        StdStore::Memory {
            kv: BTreeMap::new(),
            logs: BTreeMap::new(),
        }
    }

    /// A store in `dir`, created if missing.
    pub fn dir(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(dir.join("kv"))?;
        fs::create_dir_all(dir.join("log"))?;
        Ok(StdStore::Dir(dir))
    }

    /// The records of a log, oldest first (for tools and tests).
    pub fn log(&self, name: &str) -> Vec<Vec<u8>> {
        match self {
            StdStore::Memory { logs, .. } => logs.get(name).cloned().unwrap_or_default(),
            StdStore::Dir(dir) => {
                read_log(&dir.join("log").join(file_name(name))).unwrap_or_default()
            }
        }
    }
}

/// A key as a file name: `[A-Za-z0-9._-]` kept, everything else `%XX`, so no key can reach
/// outside the store's directory.
fn file_name(key: &str) -> String {
    let mut name = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_') || (b == b'.' && !name.is_empty())
        {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    if name.is_empty() {
        name.push('%');
    }
    name
}

fn io_error(e: io::Error) -> StoreError {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => StoreError::Full,
        _ => StoreError::Io,
    }
}

fn put_file(dir: &Path, key: &str, value: &[u8]) -> io::Result<()> {
    let path = dir.join("kv").join(file_name(key));
    // `~` never appears in an escaped key, so the temporary name collides with no key.
    let mut tmp = path.clone().into_os_string();
    tmp.push("~");
    let tmp = PathBuf::from(tmp);
    let mut file = File::create(&tmp)?;
    file.write_all(value)?;
    file.sync_data()?;
    fs::rename(&tmp, &path)
}

fn append_file(dir: &Path, log: &str, record: &[u8]) -> io::Result<()> {
    let len = u32::try_from(record.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "record over 4 GiB"))?;
    let mut framed = Vec::with_capacity(record.len() + 4);
    framed.extend_from_slice(&len.to_le_bytes());
    framed.extend_from_slice(record);
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("log").join(file_name(log)))?;
    file.write_all(&framed)?;
    file.sync_data()
}

fn read_log(path: &Path) -> io::Result<Vec<Vec<u8>>> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let mut records = Vec::new();
    let mut rest = bytes.as_slice();
    while let Some((len, tail)) = rest.split_first_chunk::<4>() {
        let len = u32::from_le_bytes(*len) as usize;
        // A torn final record (a crash mid-append) is dropped, never misread.
        let Some(record) = tail.get(..len) else { break };
        records.push(record.to_vec());
        rest = &tail[len..];
    }
    Ok(records)
}

impl Store for StdStore {
    fn store_get(&self, key: &str, out: &mut Vec<u8>) -> Option<usize> {
        match self {
            StdStore::Memory { kv, .. } => {
                let value = kv.get(key)?;
                out.clear();
                out.extend_from_slice(value);
                Some(value.len())
            }
            StdStore::Dir(dir) => {
                let value = fs::read(dir.join("kv").join(file_name(key))).ok()?;
                out.clear();
                out.extend_from_slice(&value);
                Some(value.len())
            }
        }
    }

    fn store_put(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        match self {
            StdStore::Memory { kv, .. } => {
                kv.insert(key.to_string(), value.to_vec());
                Ok(())
            }
            StdStore::Dir(dir) => put_file(dir, key, value).map_err(io_error),
        }
    }

    fn store_append(&mut self, log: &str, record: &[u8]) -> Result<(), StoreError> {
        match self {
            StdStore::Memory { logs, .. } => {
                logs.entry(log.to_string())
                    .or_default()
                    .push(record.to_vec());
                Ok(())
            }
            StdStore::Dir(dir) => append_file(dir, log, record).map_err(io_error),
        }
    }

    fn store_read(
        &self,
        log: &str,
        from: u64,
        max: usize,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<u64, StoreError> {
        let records = self.log(log);
        let start = usize::try_from(from)
            .unwrap_or(usize::MAX)
            .min(records.len());
        let before = out.len();
        out.extend(records.into_iter().skip(start).take(max));
        Ok(start as u64 + (out.len() - before) as u64)
    }

    fn store_trim(&mut self, _log: &str, _before: u64) -> Result<(), StoreError> {
        // Trimming is an optimisation the directory format does not offer: records stay.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(store: &mut StdStore) {
        let mut out = Vec::new();
        assert_eq!(store.store_get("a/b", &mut out), None);
        store.store_put("a/b", b"one").unwrap();
        store.store_put("a/b", b"two").unwrap();
        assert_eq!(store.store_get("a/b", &mut out), Some(3));
        assert_eq!(out, b"two");
        store.store_append("spool", b"r1").unwrap();
        store.store_append("spool", b"").unwrap();
        store.store_append("spool", b"r3").unwrap();
        assert_eq!(store.log("spool"), [b"r1".to_vec(), vec![], b"r3".to_vec()]);
    }

    #[test]
    fn memory_and_directory_stores_agree() {
        exercise(&mut StdStore::memory());
        let dir = tempfile::tempdir().unwrap();
        let mut store = StdStore::dir(dir.path()).unwrap();
        exercise(&mut store);
        // Reopening sees the same contents.
        let again = StdStore::dir(dir.path()).unwrap();
        let mut out = Vec::new();
        assert_eq!(again.store_get("a/b", &mut out), Some(3));
        assert_eq!(again.log("spool").len(), 3);
    }

    #[test]
    fn keys_cannot_escape_the_directory() {
        assert_eq!(file_name("../etc/passwd"), "%2E.%2Fetc%2Fpasswd");
        assert_eq!(file_name(""), "%");
        assert_eq!(file_name("cas.chunk-1"), "cas.chunk-1");
    }
}
