//! The journal reader over arbitrary store contents: `journal::recover` and a whole pump
//! boot (snapshot, journal replay, audit log, hive id) from a store the input fills. Records
//! are written raw or wrapped in a valid journal frame, so both the frame checks and the
//! JSON entries and snapshot behind them are reached. No input may panic; a hive that boots
//! must run, and must boot again from what it left in the store with the same workers.
#![no_main]

use hal::mem::{MemHal, MemStore};
use hal::Store;
use hive::{JournalEntry, JournalState};
use journal::frame::{self, Kind};
use journal::{AUDIT_LOG, LOG, SNAPSHOT_KEY};
use libfuzzer_sys::fuzz_target;
use manifest::Manifest;
use pump::{Provision, Pump, HIVE_ID_KEY};
use ticket::Keyring;

fn provision() -> Provision {
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(b"fuzz", "hive"));
    Provision {
        keys,
        console_token: None,
        platform: "fuzz",
        hive_id: None,
    }
}

/// Each item: a tag byte, a little-endian `u16` length, then the bytes. The tag's low two
/// bits pick the place (journal, audit log, snapshot, hive id), bit 2 asks for a valid frame
/// around the bytes, bits 3-4 its kind.
fn fill(bytes: &[u8]) -> MemStore {
    let mut store = MemStore::new();
    let mut rest = bytes;
    while let [tag, lo, hi, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        let record = if tag & 4 != 0 {
            let kind = match (tag >> 3) & 3 {
                1 => Kind::Snapshot,
                2 => Kind::Audit,
                _ => Kind::Batch,
            };
            frame::encode(kind, payload)
        } else {
            payload.to_vec()
        };
        let _ = match tag & 3 {
            0 => store.store_append(LOG, &record),
            1 => store.store_append(AUDIT_LOG, &record),
            2 => store.store_put(SNAPSHOT_KEY, &record),
            _ => store.store_put(HIVE_ID_KEY, &record),
        };
    }
    store
}

fuzz_target!(|bytes: &[u8]| {
    let store = fill(bytes);
    let _ = journal::recover::<_, JournalEntry, JournalState>(&store);
    let mut hal = MemHal::new(5).with_store(store.clone());
    let Ok((mut pump, _)) = Pump::boot(&mut hal, Manifest::default(), provision()) else {
        return;
    };
    // The clock stands still, so nothing may change that the store would not show again.
    for _ in 0..3 {
        pump.turn(&mut hal);
    }
    let workers = pump.hive().registry().len();
    let mut again = MemHal::new(6).with_store(store);
    let (pump, _) = Pump::boot(&mut again, Manifest::default(), provision())
        .expect("a hive boots from the store it left");
    assert_eq!(pump.hive().registry().len(), workers);
});
