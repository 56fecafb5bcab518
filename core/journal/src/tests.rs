use super::*;
use alloc::string::String;
use alloc::vec;
use hal::mem::MemStore;

type Rec = Recovered<String, Vec<String>>;

fn recover_strings(store: &MemStore) -> Result<Rec, RecoverError> {
    recover::<_, String, Vec<String>>(store)
}

fn entries(rec: &Rec) -> Vec<String> {
    rec.batches.iter().flat_map(|b| b.entries.clone()).collect()
}

fn s(text: &str) -> String {
    String::from(text)
}

#[test]
fn batches_come_back_in_order() {
    let mut store = MemStore::new();
    let mut writer = Writer::new();
    writer.append(&mut store, 10, &[s("a"), s("b")]).unwrap();
    writer.append::<_, String>(&mut store, 11, &[]).unwrap();
    writer.append(&mut store, 12, &[s("c")]).unwrap();
    writer.append_audit(&mut store, b"t=1 x\n").unwrap();
    let rec = recover_strings(&store).unwrap();
    assert_eq!(entries(&rec), [s("a"), s("b"), s("c")]);
    assert_eq!(rec.batches[1].at_ms, 12);
    assert_eq!(rec.audit, [b"t=1 x\n".to_vec()]);
    assert!(!rec.torn);
    assert_eq!(rec.writer.next_index(), 2, "an empty batch writes nothing");
}

#[test]
fn a_torn_tail_is_dropped_and_the_writer_continues_after_it() {
    let mut store = MemStore::new();
    let mut writer = Writer::new();
    writer.append(&mut store, 1, &[s("kept")]).unwrap();
    let whole = frame::encode(Kind::Batch, br#"{"at_ms":2,"entries":["lost"]}"#);
    store.store_append(LOG, &whole[..whole.len() - 3]).unwrap();
    let rec = recover_strings(&store).unwrap();
    assert_eq!(entries(&rec), [s("kept")]);
    assert!(rec.torn);
    // A snapshot after recovery trims the torn record, so a later append never sits behind it.
    let mut writer = rec.writer;
    writer.snapshot(&mut store, 3, &vec![s("kept")]).unwrap();
    writer.append(&mut store, 4, &[s("next")]).unwrap();
    let rec = recover_strings(&store).unwrap();
    assert!(!rec.torn);
    assert_eq!(rec.snapshot.as_ref().unwrap().state, [s("kept")]);
    assert_eq!(entries(&rec), [s("next")]);
}

#[test]
fn damage_before_the_last_record_is_corruption() {
    let mut store = MemStore::new();
    let mut writer = Writer::new();
    writer.append(&mut store, 1, &[s("one")]).unwrap();
    let mut bad = frame::encode(Kind::Batch, br#"{"at_ms":2,"entries":["two"]}"#);
    let last = bad.len() - 2;
    bad[last] ^= 0x20;
    store.store_append(LOG, &bad).unwrap();
    writer.next = 2;
    writer.append(&mut store, 3, &[s("three")]).unwrap();
    assert_eq!(
        recover_strings(&store).unwrap_err(),
        RecoverError::Corrupt { log: LOG, index: 1 }
    );
}

#[test]
fn an_intact_record_of_unknown_shape_is_refused() {
    let mut store = MemStore::new();
    store
        .store_append(LOG, &frame::encode(Kind::Batch, b"{\"nope\":1}"))
        .unwrap();
    assert_eq!(
        recover_strings(&store).unwrap_err(),
        RecoverError::Undecodable { log: LOG, index: 0 }
    );
}

#[test]
fn a_snapshot_bounds_replay_and_trims_the_logs() {
    let mut store = MemStore::new();
    let mut writer = Writer::new();
    for i in 0..10u64 {
        writer
            .append(&mut store, i, &[alloc::format!("e{i}")])
            .unwrap();
        writer.append_audit(&mut store, b"line\n").unwrap();
    }
    assert_eq!(writer.since_snapshot(), 10);
    writer.snapshot(&mut store, 10, &vec![s("state")]).unwrap();
    assert_eq!(writer.since_snapshot(), 0);
    writer.append(&mut store, 11, &[s("after")]).unwrap();
    assert_eq!(store.log(LOG).len(), 1, "covered records are trimmed");
    assert_eq!(store.log(AUDIT_LOG).len(), 0);
    let rec = recover_strings(&store).unwrap();
    let snap = rec.snapshot.as_ref().unwrap();
    assert_eq!((snap.covers, snap.audit_covers), (10, 10));
    assert_eq!(entries(&rec), [s("after")]);
    assert_eq!(rec.writer.next_index(), 11);
}

#[test]
fn a_crash_between_snapshot_and_trim_applies_nothing_twice() {
    let mut store = MemStore::new();
    let mut writer = Writer::new();
    writer.append(&mut store, 1, &[s("a")]).unwrap();
    // The snapshot lands but the trim does not (the store refuses it).
    let snapshot = SnapshotRef {
        covers: 1,
        audit_covers: 0,
        at_ms: 2,
        state: &vec![s("a")],
    };
    let payload = serde_json::to_vec(&snapshot).unwrap();
    store
        .store_put(SNAPSHOT_KEY, &frame::encode(Kind::Snapshot, &payload))
        .unwrap();
    let rec = recover_strings(&store).unwrap();
    assert!(entries(&rec).is_empty());
    assert_eq!(rec.writer.next_index(), 1);
}

#[test]
fn a_damaged_snapshot_refuses_recovery() {
    let mut store = MemStore::new();
    store.store_put(SNAPSHOT_KEY, b"CJ\x02garbage").unwrap();
    assert_eq!(recover_strings(&store).unwrap_err(), RecoverError::Snapshot);
}

#[test]
fn a_failed_append_changes_nothing() {
    let mut store = MemStore::new();
    let mut writer = Writer::new();
    store.set_failing(true);
    assert_eq!(writer.append(&mut store, 1, &[s("x")]), Err(StoreError::Io));
    store.set_failing(false);
    assert_eq!(writer.next_index(), 0);
    writer.append(&mut store, 2, &[s("y")]).unwrap();
    assert_eq!(entries(&recover_strings(&store).unwrap()), [s("y")]);
}
