//! Append cost of the hosted store: one journal-sized record (200 bytes) appended durably to
//! the on-disk `redb` store (one fsynced transaction each), beside the same append to the
//! in-memory `redb` store and to the reference `MemStore`, in the same run so the figures
//! compare. Run: `cargo bench -p cohesix-hal-std --bench store`.

use cohesix_hal_std::StdStore;
use criterion::{criterion_group, criterion_main, Criterion};
use hal::mem::MemStore;
use hal::Store;

const RECORD: [u8; 200] = [0x5A; 200];

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("store_append");
    group.sample_size(20);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut disk = StdStore::dir(dir.path()).expect("the store opens");
    group.bench_function("redb_disk", |b| {
        b.iter(|| disk.store_append("journal", &RECORD).expect("append"))
    });
    let mut memory = StdStore::memory();
    group.bench_function("redb_memory", |b| {
        b.iter(|| memory.store_append("journal", &RECORD).expect("append"))
    });
    let mut mem = MemStore::new();
    group.bench_function("mem_store", |b| {
        b.iter(|| mem.store_append("journal", &RECORD).expect("append"))
    });
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
