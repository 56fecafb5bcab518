//! The queen's memory per attached worker (session, registry entry, ring, connection state)
//! must stay under 8 KiB plus the ring size. A counting allocator measures what the core
//! allocates while it works; the client side of the test is not counted.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};

use manifest::Manifest;
use support::{queen_ticket, TestHive};

struct Counting;

static NET: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            NET.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.with(Cell::get) {
            NET.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            NET.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` with its allocations counted as queen state.
fn counted<T>(f: impl FnOnce() -> T) -> T {
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    out
}

const WORKERS: usize = 1000;

#[test]
fn queen_state_per_attached_worker_is_bounded() {
    let manifest = Manifest::default();
    let ring = manifest.telemetry.ring_bytes as usize;
    let mut hive = TestHive::boot(manifest);
    let mut q = hive.connect();
    q.attach(&mut hive, "queen", "operator", &queen_ticket(1 << 40))
        .unwrap();
    let before = NET.load(Ordering::Relaxed);

    let spawn = format!(r#"{{"spawn":"heartbeat","count":{WORKERS}}}"#);
    q.send(|c, out| {
        let fid = c.walk_path(q_root(), "/queen/ctl", out).unwrap().1;
        c.lopen(fid, 1, out).unwrap();
        c.write(fid, 0, spawn.as_bytes(), out).unwrap();
        c.clunk(fid, out).unwrap();
    });
    counted(|| hive.settle());
    for _ in 0..4 {
        q.poll().expect("reply").expect("spawn accepted");
    }

    let ids: Vec<String> = (1..=WORKERS).map(|n| format!("w{n:04}")).collect();
    let mut workers: Vec<_> = ids.iter().map(|_| hive.connect()).collect();
    for (i, w) in workers.iter_mut().enumerate() {
        let ticket = hive
            .pump
            .hive()
            .registry()
            .get(&ids[i])
            .unwrap()
            .ticket
            .clone();
        let dir = format!(
            "/shard/{}/worker/{}",
            hive::ShardLabel::of(&ids[i]).as_str(),
            ids[i]
        );
        let id = ids[i].clone();
        w.send(|c, out| {
            c.version(out).unwrap();
            let afid = c.auth(&id, "worker-heartbeat", out).unwrap().1;
            c.write(afid, 0, ticket.as_bytes(), out).unwrap();
            let root = c
                .attach(Some(afid), &id, "worker-heartbeat", out)
                .unwrap()
                .1;
            c.clunk(afid, out).unwrap();
            let fid = c
                .walk_path(root, &format!("{dir}/telemetry"), out)
                .unwrap()
                .1;
            c.lopen(fid, 1, out).unwrap();
            // Enough records to fill the ring completely.
            for seq in 0..9 {
                let record = format!("hb id={id} seq={seq:04} {}\n", "x".repeat(440));
                c.write(fid, 0, record.as_bytes(), out).unwrap();
            }
        });
    }
    counted(|| {
        for _ in 0..64 {
            hive.turn();
        }
    });
    let registry = hive.pump.hive().registry();
    assert_eq!(registry.counts().1, WORKERS, "all online");
    assert!(
        registry.iter().all(|w| w.telemetry.end() > ring as u64),
        "rings wrapped"
    );
    for w in workers.iter_mut() {
        while w.poll().is_some() {}
    }

    let total = (NET.load(Ordering::Relaxed) - before) as usize;
    let per_worker = total / WORKERS;
    let reported = (hive.pump.hive().worker_heap_bytes()
        + hive.pump.ninedoor().session_heap_bytes()
        + hive.pump.ninep_heap_bytes())
        / WORKERS;
    println!(
        "queen state per attached worker: {per_worker} bytes measured ({reported} self-reported), \
         ring {ring} bytes, budget {} bytes",
        8192 + ring
    );
    assert!(per_worker < 8192 + ring, "{per_worker} bytes per worker");
    assert!(
        per_worker > ring,
        "the ring itself is counted: {per_worker}"
    );
}

fn q_root() -> u32 {
    // The queen's attach fid: auth fid 0, attach fid 1.
    1
}
