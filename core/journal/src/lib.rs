//! The Queen journal's durable form: every authority decision is appended, in checksummed
//! batches, to a `hal::Store` log before it is acknowledged, and a periodic snapshot bounds
//! what a restart must replay. Recovery drops a torn tail (the record a crash cut short) but
//! refuses corruption anywhere else, so nothing acknowledged is lost and nothing torn is misread.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod frame;

use alloc::vec::Vec;
use frame::{FrameError, Kind};
use hal::{Store, StoreError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The store log of authority batches.
pub const LOG: &str = "journal";
/// The store log of audit lines, one record per turn that wrote any.
pub const AUDIT_LOG: &str = "journal.audit";
/// The store key of the latest snapshot.
pub const SNAPSHOT_KEY: &str = "journal.snapshot";

/// Records read from the store per call during recovery.
const READ_CHUNK: usize = 256;

/// Authority entries decided together, stamped with hive time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch<E> {
    pub at_ms: u64,
    pub entries: Vec<E>,
}

/// The whole authority state as of log index `covers` (the first record it does not include).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot<T> {
    pub covers: u64,
    pub audit_covers: u64,
    pub at_ms: u64,
    pub state: T,
}

/// Why the journal could not be read back. A hive refuses to boot on any of these rather than
/// run with authority it cannot account for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverError {
    /// A record before the last one of `log` is damaged.
    Corrupt { log: &'static str, index: u64 },
    /// An intact record whose contents this version cannot read.
    Undecodable { log: &'static str, index: u64 },
    /// The snapshot is damaged or unreadable.
    Snapshot,
    /// The store failed.
    Store(StoreError),
}

impl RecoverError {
    /// A short tag for audit lines and boot messages.
    pub fn tag(&self) -> &'static str {
        match self {
            RecoverError::Corrupt { .. } => "journal-corrupt",
            RecoverError::Undecodable { .. } => "journal-undecodable",
            RecoverError::Snapshot => "snapshot-corrupt",
            RecoverError::Store(StoreError::Full) => "store-full",
            RecoverError::Store(StoreError::Io) => "store-io",
        }
    }
}

/// What a restart finds in the store.
#[derive(Debug)]
pub struct Recovered<E, T> {
    pub snapshot: Option<Snapshot<T>>,
    /// Batches after the snapshot, oldest first.
    pub batches: Vec<Batch<E>>,
    /// Audit records after the snapshot: newline-terminated lines.
    pub audit: Vec<Vec<u8>>,
    /// Whether a torn final record was found (and ignored) in either log.
    pub torn: bool,
    /// Where the writer continues.
    pub writer: Writer,
}

impl<E, T> Recovered<E, T> {
    /// Entries replayed, for boot reports.
    pub fn entries(&self) -> usize {
        self.batches.iter().map(|b| b.entries.len()).sum()
    }
}

/// Reads the snapshot and every record after it.
pub fn recover<S, E, T>(store: &S) -> Result<Recovered<E, T>, RecoverError>
where
    S: Store,
    E: DeserializeOwned,
    T: DeserializeOwned,
{
    let snapshot = read_snapshot::<S, T>(store)?;
    let (from, audit_from) = snapshot
        .as_ref()
        .map_or((0, 0), |s| (s.covers, s.audit_covers));
    let mut batches = Vec::new();
    let (next, torn_log) = read_log(store, LOG, from, Kind::Batch, |index, payload| {
        let batch = serde_json::from_slice(payload)
            .map_err(|_| RecoverError::Undecodable { log: LOG, index })?;
        batches.push(batch);
        Ok(())
    })?;
    let mut audit = Vec::new();
    let (audit_next, torn_audit) =
        read_log(store, AUDIT_LOG, audit_from, Kind::Audit, |_, payload| {
            audit.push(payload.to_vec());
            Ok(())
        })?;
    Ok(Recovered {
        snapshot,
        batches,
        audit,
        torn: torn_log || torn_audit,
        writer: Writer {
            next,
            audit_next,
            since_snapshot: 0,
        },
    })
}

fn read_snapshot<S: Store, T: DeserializeOwned>(
    store: &S,
) -> Result<Option<Snapshot<T>>, RecoverError> {
    let mut bytes = Vec::new();
    if store.store_get(SNAPSHOT_KEY, &mut bytes).is_none() {
        return Ok(None);
    }
    // A put is atomic, so a damaged snapshot is corruption, never a torn write.
    let (kind, payload) = frame::decode(&bytes).map_err(|_| RecoverError::Snapshot)?;
    if kind != Kind::Snapshot {
        return Err(RecoverError::Snapshot);
    }
    serde_json::from_slice(payload)
        .map(Some)
        .map_err(|_| RecoverError::Snapshot)
}

/// Feeds every intact record of `log` from `from` to `each`; returns the index after the last
/// record and whether the last one was torn. Only the final record may be damaged.
fn read_log<S: Store>(
    store: &S,
    log: &'static str,
    from: u64,
    want: Kind,
    mut each: impl FnMut(u64, &[u8]) -> Result<(), RecoverError>,
) -> Result<(u64, bool), RecoverError> {
    let mut index = from;
    let mut damaged: Option<u64> = None;
    let mut chunk = Vec::new();
    loop {
        chunk.clear();
        let start = index;
        let end = store
            .store_read(log, index, READ_CHUNK, &mut chunk)
            .map_err(RecoverError::Store)?;
        // The first record read may sit after a trimmed gap.
        let first = end - chunk.len() as u64;
        for (offset, record) in chunk.iter().enumerate() {
            let at = first + offset as u64;
            if let Some(bad) = damaged {
                return Err(RecoverError::Corrupt { log, index: bad });
            }
            match frame::decode(record) {
                Ok((kind, payload)) if kind == want => each(at, payload)?,
                Ok(_) => return Err(RecoverError::Corrupt { log, index: at }),
                Err(FrameError::Short | FrameError::Malformed | FrameError::Checksum) => {
                    damaged = Some(at);
                }
            }
        }
        index = end;
        if chunk.is_empty() || end == start {
            break;
        }
    }
    Ok((index, damaged.is_some()))
}

/// Appends batches and audit lines, and writes snapshots. It remembers where each log ends, so
/// a snapshot can trim exactly what it covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writer {
    next: u64,
    audit_next: u64,
    since_snapshot: u64,
}

impl Writer {
    /// A writer for an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries appended since the last snapshot.
    pub fn since_snapshot(&self) -> u64 {
        self.since_snapshot
    }

    /// The index the next batch will get.
    pub fn next_index(&self) -> u64 {
        self.next
    }

    /// Makes `entries` durable as one batch. On `Err` nothing was written.
    pub fn append<S: Store, E: Serialize>(
        &mut self,
        store: &mut S,
        at_ms: u64,
        entries: &[E],
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let batch = BatchRef { at_ms, entries };
        let payload = serde_json::to_vec(&batch).expect("journal entries always serialise");
        store.store_append(LOG, &frame::encode(Kind::Batch, &payload))?;
        self.next += 1;
        self.since_snapshot += entries.len() as u64;
        Ok(())
    }

    /// Makes newline-terminated audit `lines` durable as one record.
    pub fn append_audit<S: Store>(
        &mut self,
        store: &mut S,
        lines: &[u8],
    ) -> Result<(), StoreError> {
        if lines.is_empty() {
            return Ok(());
        }
        store.store_append(AUDIT_LOG, &frame::encode(Kind::Audit, lines))?;
        self.audit_next += 1;
        Ok(())
    }

    /// Writes `state` as the snapshot covering everything appended so far, then trims both logs
    /// up to it. A crash between the two leaves records the snapshot already covers; recovery
    /// starts after them, so they are never applied twice.
    pub fn snapshot<S: Store, T: Serialize>(
        &mut self,
        store: &mut S,
        at_ms: u64,
        state: &T,
    ) -> Result<(), StoreError> {
        let snapshot = SnapshotRef {
            covers: self.next,
            audit_covers: self.audit_next,
            at_ms,
            state,
        };
        let payload = serde_json::to_vec(&snapshot).expect("snapshots always serialise");
        store.store_put(SNAPSHOT_KEY, &frame::encode(Kind::Snapshot, &payload))?;
        self.since_snapshot = 0;
        // Trimming only reclaims space: a failure here loses nothing.
        let _ = store.store_trim(LOG, self.next);
        let _ = store.store_trim(AUDIT_LOG, self.audit_next);
        Ok(())
    }
}

#[derive(Serialize)]
struct BatchRef<'a, E> {
    at_ms: u64,
    entries: &'a [E],
}

#[derive(Serialize)]
struct SnapshotRef<'a, T> {
    covers: u64,
    audit_covers: u64,
    at_ms: u64,
    state: &'a T,
}

#[cfg(test)]
mod tests;
