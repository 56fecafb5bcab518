//! Write-ahead for the hive's authority: the journal writer, the hive clock's anchor, and boot
//! from the store. Every connection commits the hive's pending entries before its replies are
//! sent (`commit`), so nothing is acknowledged that a restart would not find again.

use alloc::vec::Vec;
use hal::{Hal, StoreError};
use hive::{Hive, JournalEntry, JournalState, Restored};
use journal::{RecoverError, Writer};
use manifest::Manifest;
use ninedoor::NineDoor;
use ticket::Keyring;

/// The store key of this hive's identity (8 bytes, little-endian), generated at first boot.
pub const HIVE_ID_KEY: &str = "hive.id";

/// Audit bytes read from the ring per flush; a turn writes far fewer.
const AUDIT_FLUSH_MAX: usize = 256 * 1024;

/// Why a hive would not boot from its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootError {
    /// The journal could not be read back; booting would forget authority decisions.
    Journal(RecoverError),
    /// The hive id could not be written at first boot.
    Store(StoreError),
}

impl BootError {
    pub fn tag(&self) -> &'static str {
        match self {
            BootError::Journal(e) => e.tag(),
            BootError::Store(StoreError::Full) => "store-full",
            BootError::Store(StoreError::Io) => "store-io",
        }
    }
}

/// What a boot found in the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BootReport {
    pub hive_id: u64,
    pub restored: Restored,
    /// A torn final record was found and dropped.
    pub torn: bool,
}

pub(crate) struct Durability {
    writer: Writer,
    /// Audit bytes already made durable (an absolute offset in the audit ring).
    audit_cursor: u64,
    snapshot_every: u64,
    /// Added to the HAL's monotonic clock to give hive time (wall time where the machine has a
    /// clock, so ticket lifetimes mean the same across restarts).
    pub(crate) offset_ms: u64,
    /// The store refused a write: replies already decided must not be sent.
    pub(crate) fault: Option<StoreError>,
    /// The entries of the batch the store refused, for the rebuild to re-decide what must
    /// not be forgotten (revocations the hive made on its own).
    pub(crate) refused: Vec<JournalEntry>,
}

impl Durability {
    pub(crate) fn fresh(manifest: &Manifest, hive: &Hive) -> Self {
        Self {
            writer: Writer::new(),
            // The boot lines already written are flushed with the first turn's.
            audit_cursor: hive.audit().start(),
            snapshot_every: u64::from(manifest.journal.snapshot_every),
            offset_ms: 0,
            fault: None,
            refused: Vec::new(),
        }
    }

    /// Makes the hive's pending decisions durable. `false` means the store refused them: the
    /// caller must not send the replies that depend on them.
    #[must_use = "replies must be withheld when the journal refused their decisions"]
    pub(crate) fn commit<H: Hal>(&mut self, hal: &mut H, nd: &mut NineDoor, now_ms: u64) -> bool {
        if self.fault.is_some() {
            return false;
        }
        let hive = nd.hive_mut();
        if !hive.journal_pending() {
            return true;
        }
        let entries = hive.take_journal();
        if let Err(error) = self.writer.append(hal, now_ms, &entries) {
            self.fault = Some(error);
            self.refused = entries;
            return false;
        }
        true
    }

    /// Where the durable part of the audit log ends (an absolute offset in the audit ring).
    pub(crate) fn audit_cursor(&self) -> u64 {
        self.audit_cursor
    }

    /// End of turn: the audit lines written this turn, and a snapshot when one is due.
    pub(crate) fn settle<H: Hal>(&mut self, hal: &mut H, nd: &mut NineDoor, now_ms: u64) {
        if !self.commit(hal, nd, now_ms) {
            return;
        }
        let audit = nd.hive().audit();
        if audit.end() != self.audit_cursor {
            let read = audit.read(self.audit_cursor, AUDIT_FLUSH_MAX);
            // Audit lines acknowledge nothing; a store that refuses them costs history, not
            // authority, so they are retried with the next turn's lines.
            if self.writer.append_audit(hal, &read.data).is_ok() {
                self.audit_cursor = read.next;
            }
        }
        if self.writer.since_snapshot() >= self.snapshot_every {
            // A failed snapshot is retried next turn; the journal still holds everything.
            let _ = self.snapshot(hal, nd.hive(), now_ms);
        }
    }

    /// Writes a snapshot; it holds the audit ring, so the audit log is trimmed with it.
    fn snapshot<H: Hal>(
        &mut self,
        hal: &mut H,
        hive: &Hive,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let state = hive.snapshot();
        self.writer.snapshot(hal, now_ms, &state)?;
        self.audit_cursor = hive.audit().end();
        Ok(())
    }
}

/// This hive's id: provisioned, or the one in the store, or a new random one kept there.
fn hive_id<H: Hal>(hal: &mut H, provisioned: Option<u64>) -> Result<u64, StoreError> {
    let mut bytes = Vec::new();
    let stored = hal
        .store_get(HIVE_ID_KEY, &mut bytes)
        .and_then(|_| <[u8; 8]>::try_from(bytes.as_slice()).ok())
        .map(u64::from_le_bytes);
    if let Some(id) = provisioned.or(stored) {
        if stored != Some(id) {
            hal.store_put(HIVE_ID_KEY, &id.to_le_bytes())?;
        }
        return Ok(id);
    }
    let mut fresh = [0u8; 8];
    hal.fill_bytes(&mut fresh);
    hal.store_put(HIVE_ID_KEY, &fresh)?;
    Ok(u64::from_le_bytes(fresh))
}

/// Rebuilds the hive from the store. Hive time continues from the wall clock where there is
/// one, otherwise from the last journaled instant (so it never runs backwards).
pub(crate) fn boot<H: Hal>(
    hal: &mut H,
    manifest: Manifest,
    keys: Keyring,
    provisioned_id: Option<u64>,
) -> Result<(Hive, Durability, BootReport), BootError> {
    let hive_id = hive_id(hal, provisioned_id).map_err(BootError::Store)?;
    let recovered =
        journal::recover::<H, JournalEntry, JournalState>(hal).map_err(BootError::Journal)?;
    let mono = hal.now_ms();
    let last_ms = recovered
        .batches
        .last()
        .map(|b| b.at_ms)
        .or(recovered.snapshot.as_ref().map(|s| s.at_ms))
        .unwrap_or(0);
    let offset_ms = match hal.wall_ms() {
        Some(wall) => wall.saturating_sub(mono).max(last_ms.saturating_sub(mono)),
        None => last_ms.saturating_sub(mono),
    };
    let now_ms = mono + offset_ms;
    let state = recovered.snapshot.as_ref().map(|s| &s.state);
    let entries = recovered.batches.iter().flat_map(|b| b.entries.iter());
    let audit = recovered.audit.iter().map(Vec::as_slice);
    let snapshot_every = u64::from(manifest.journal.snapshot_every);
    let (hive, restored) = Hive::restore(manifest, keys, hive_id, now_ms, state, entries, audit);
    let replayed = recovered.entries() as u64;
    let mut durability = Durability {
        writer: recovered.writer,
        // This boot's `boot` and `restore` lines follow the history and are flushed with the
        // first turn's lines.
        audit_cursor: restored.audit_end,
        snapshot_every,
        offset_ms,
        fault: None,
        refused: Vec::new(),
    };
    let report = BootReport {
        hive_id,
        restored,
        torn: recovered.torn,
    };
    // A torn record must be trimmed before anything is appended behind it, and a long replay
    // is folded into a snapshot so the next boot is quick.
    if recovered.torn {
        durability
            .snapshot(hal, &hive, now_ms)
            .map_err(BootError::Store)?;
    } else if replayed >= snapshot_every {
        let _ = durability.snapshot(hal, &hive, now_ms);
    }
    Ok((hive, durability, report))
}
