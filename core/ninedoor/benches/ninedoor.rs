//! In-process Secure9P throughput: request frames are encoded once with the real client codec,
//! then each timed iteration hands them to the real session engine over a NineDoor backend and
//! reuses one output buffer, so the figures cover decode, session, namespace, hive and encode.
//!
//! `cargo bench -p cohesix-ninedoor --bench ninedoor`; docs/performance.md records the results.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cohesix_ninedoor::{NineDoor, Node, SessionId, Transport};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hive::{Hive, ShardLabel, SystemEvent};
use manifest::Manifest;
use secure9p::codec::msg::RLERROR;
use secure9p::codec::Response;
use secure9p::{ClientCodec, Limits, Session};
use ticket::{Claims, Keyring, Role};

const SEED: &[u8] = b"ninedoor-bench";
/// Every request runs at one instant: nothing expires and no tick runs during a measurement.
const NOW: u64 = 1_000;
/// Workers registered while the data-path benchmarks run (one full spawn batch).
const FLEET: u32 = 1_024;
/// Session-table sizes the attach benchmark compares.
const POPULATIONS: [usize; 2] = [10, 10_000];
/// One heartbeat record as a worker appends it.
const HEARTBEAT: &[u8] = b"hb seq=1 t_ms=1000 load=0.42 temp_c=51\n";
/// `Tlopen` access modes.
const O_RDONLY: u32 = 0;
const O_WRONLY: u32 = 1;

fn keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(SEED, "hive"));
    keys
}

fn queen_ticket() -> String {
    let claims = Claims::new(1, 1 << 40, Role::Queen, "operator", 0, 86_400_000);
    ticket::mint(&keys(), &claims).expect("mint queen ticket")
}

/// A booted hive; the session table has room for the largest attach population.
fn boot() -> NineDoor {
    let mut manifest = Manifest::default();
    manifest.sessions.max = 16_384;
    let mut hive = Hive::new(manifest, keys(), 0, 0);
    hive.system_event(SystemEvent::BootComplete, 0)
        .expect("boot completes");
    NineDoor::new(hive, "bench")
}

/// One connection: the server-side engine and its NineDoor session, plus the client codec.
struct Conn {
    sid: SessionId,
    session: Session<Node>,
    codec: ClientCodec,
    root: u32,
}

impl Conn {
    /// Opens a session and attaches it with `ticket` through the Secure9P handshake.
    fn attach(nd: &mut NineDoor, role: &str, uname: &str, ticket: &str) -> Self {
        let limits = Limits::from_manifest(nd.hive().manifest());
        let sid = nd
            .open_session(Transport::Local, NOW)
            .expect("room for a session");
        let mut conn = Self {
            sid,
            session: Session::new(limits),
            codec: ClientCodec::new(limits),
            root: 0,
        };
        // One step at a time: the codec's fid bookkeeping follows each reply.
        let mut frame = Vec::new();
        conn.codec.version(&mut frame).expect("version fits");
        conn.call(nd, &frame);
        frame.clear();
        let (_, afid) = conn.codec.auth(uname, role, &mut frame).expect("auth fits");
        conn.call(nd, &frame);
        frame.clear();
        conn.codec
            .write(afid, 0, ticket.as_bytes(), &mut frame)
            .expect("ticket fits");
        conn.call(nd, &frame);
        frame.clear();
        let (_, root) = conn
            .codec
            .attach(Some(afid), uname, role, &mut frame)
            .expect("attach fits");
        assert!(matches!(conn.call(nd, &frame), Response::Attach { .. }));
        conn.root = root;
        conn
    }

    /// Runs one frame and decodes its reply; any refusal fails the benchmark.
    fn call(&mut self, nd: &mut NineDoor, frame: &[u8]) -> Response {
        let mut out = Vec::new();
        self.session
            .handle(frame, &mut nd.backend(self.sid, NOW), &mut out)
            .expect("frame is delimited");
        match self.codec.parse(&out) {
            Ok((_, response)) => response,
            Err(e) => panic!("request refused: {e} (type {})", frame[4]),
        }
    }

    /// Encodes walk + open + (read | write) + clunk of `path` and runs the cycle once so the
    /// replies are checked before anything is timed. The same frames can then be replayed:
    /// the clunk frees the walked fid for the next walk to create again.
    fn cycle(&mut self, nd: &mut NineDoor, path: &str, payload: Option<&[u8]>) -> Vec<Vec<u8>> {
        let mut frames = vec![Vec::new(); 4];
        let (_, fid) = self
            .codec
            .walk_path(self.root, path, &mut frames[0])
            .expect("walk fits");
        let flags = if payload.is_some() {
            O_WRONLY
        } else {
            O_RDONLY
        };
        self.codec
            .lopen(fid, flags, &mut frames[1])
            .expect("open fits");
        match payload {
            Some(data) => self.codec.write(fid, 0, data, &mut frames[2]),
            None => self.codec.read(fid, 0, 4096, &mut frames[2]),
        }
        .expect("io fits");
        self.codec.clunk(fid, &mut frames[3]).expect("clunk fits");
        let replies: Vec<Response> = frames.iter().map(|f| self.call(nd, f)).collect();
        let depth = path.split('/').filter(|n| !n.is_empty()).count();
        assert!(matches!(&replies[0], Response::Walk { qids } if qids.len() == depth));
        match (&replies[2], payload) {
            (Response::Write { count }, Some(data)) => assert_eq!(*count as usize, data.len()),
            (Response::Read { data }, None) => assert!(!data.is_empty()),
            (other, _) => panic!("unexpected io reply {other:?}"),
        }
        assert!(matches!(replies[3], Response::Clunk));
        frames
    }

    fn replay(&mut self, nd: &mut NineDoor, frames: &[Vec<u8>], out: &mut Vec<u8>) -> bool {
        replay(nd, self.sid, &mut self.session, frames, out)
    }
}

/// The timed loop body: replays `frames` into the engine, reusing `out`. Returns whether every
/// reply was a success (one byte compare per reply, so the check costs next to nothing).
fn replay(
    nd: &mut NineDoor,
    sid: SessionId,
    session: &mut Session<Node>,
    frames: &[Vec<u8>],
    out: &mut Vec<u8>,
) -> bool {
    let mut ok = true;
    for frame in frames {
        out.clear();
        let mut backend = nd.backend(sid, NOW);
        ok &= session.handle(frame, &mut backend, out).is_ok() && out[4] != RLERROR;
    }
    ok
}

/// Tversion, Tauth, the ticket written to the auth fid, Tattach, encoded up front for replay
/// into fresh sessions.
fn attach_frames(codec: &mut ClientCodec, role: &str, uname: &str, ticket: &str) -> [Vec<u8>; 4] {
    let mut frames: [Vec<u8>; 4] = Default::default();
    codec.version(&mut frames[0]).expect("version fits");
    let (_, afid) = codec.auth(uname, role, &mut frames[1]).expect("auth fits");
    codec
        .write(afid, 0, ticket.as_bytes(), &mut frames[2])
        .expect("ticket fits");
    codec
        .attach(Some(afid), uname, role, &mut frames[3])
        .expect("attach fits");
    frames
}

/// A hive with a queen attached and a fleet of heartbeat workers spawned; returns the queen
/// connection and one worker's id and ticket.
fn fleet(nd: &mut NineDoor) -> (Conn, String, String) {
    let queen = Conn::attach(nd, "queen", "operator", &queen_ticket());
    let line = format!(r#"{{"spawn":"heartbeat","count":{FLEET}}}"#);
    nd.append(queen.sid, "/queen/ctl", line.as_bytes(), NOW)
        .expect("spawn accepted");
    assert_eq!(nd.hive().registry().len(), FLEET as usize);
    // A worker from the middle of the registry, so lookups are not served by the first entry.
    let worker = nd
        .hive()
        .registry()
        .iter()
        .nth(FLEET as usize / 2)
        .expect("fleet is spawned");
    let (id, ticket) = (worker.id.clone(), worker.ticket.clone());
    (queen, id, ticket)
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

/// walk + open + read + clunk: one element per 9P request.
fn read_paths(c: &mut Criterion) {
    let mut nd = boot();
    let (mut queen, id, ticket) = fleet(&mut nd);
    let mut worker = Conn::attach(&mut nd, "worker-heartbeat", &id, &ticket);
    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Elements(4));
    let mut out = Vec::with_capacity(8192);

    let frames = queen.cycle(&mut nd, "/proc/lifecycle/state", None);
    group.bench_function("queen_lifecycle_state", |b| {
        let mut ok = true;
        b.iter(|| ok &= queen.replay(&mut nd, &frames, &mut out));
        assert!(ok, "a request was refused");
    });

    let frames = worker.cycle(&mut nd, "/proc/boot", None);
    group.bench_function("worker_proc_boot", |b| {
        let mut ok = true;
        b.iter(|| ok &= worker.replay(&mut nd, &frames, &mut out));
        assert!(ok, "a request was refused");
    });
    group.finish();
    black_box(out);
}

/// walk + open + write + clunk of one heartbeat record to the worker's own telemetry: one
/// element per append (4 requests).
fn append_telemetry(c: &mut Criterion) {
    let mut nd = boot();
    let (_queen, id, ticket) = fleet(&mut nd);
    let mut worker = Conn::attach(&mut nd, "worker-heartbeat", &id, &ticket);
    let path = format!(
        "/shard/{}/worker/{id}/telemetry",
        ShardLabel::of(&id).as_str()
    );
    let frames = worker.cycle(&mut nd, &path, Some(HEARTBEAT));
    let records = |nd: &NineDoor| nd.hive().registry().get(&id).map_or(0, |w| w.records);
    let mut out = Vec::with_capacity(256);
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(1));
    group.bench_function("worker_telemetry", |b| {
        let before = records(&nd);
        let mut ok = true;
        b.iter(|| ok &= worker.replay(&mut nd, &frames, &mut out));
        assert!(ok, "a request was refused");
        assert!(records(&nd) > before, "appends reach the ring");
    });
    group.finish();
}

/// Version + auth + ticket write + attach of a fresh session (the session is opened inside
/// the timed part and closed outside it), against tables of `POPULATIONS` attached sessions.
fn attach_cost(c: &mut Criterion) {
    let ticket = queen_ticket();
    let mut group = c.benchmark_group("attach");
    group.throughput(Throughput::Elements(1));
    for population in POPULATIONS {
        let mut nd = boot();
        let held: Vec<Conn> = (0..population)
            .map(|_| Conn::attach(&mut nd, "queen", "operator", &ticket))
            .collect();
        let limits = Limits::from_manifest(nd.hive().manifest());
        let frames = attach_frames(&mut ClientCodec::new(limits), "queen", "operator", &ticket);
        let mut out = Vec::with_capacity(256);
        group.bench_with_input(
            BenchmarkId::new("fresh_session", population),
            &frames,
            |b, frames| {
                let mut ok = true;
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let start = Instant::now();
                        let sid = nd.open_session(Transport::Local, NOW);
                        let Ok(sid) = sid else {
                            ok = false;
                            continue;
                        };
                        let mut session = Session::new(limits);
                        ok &= replay(&mut nd, sid, &mut session, frames, &mut out);
                        total += start.elapsed();
                        nd.close_session(sid, NOW);
                    }
                    total
                });
                assert!(ok, "an attach was refused");
            },
        );
        assert_eq!(nd.sessions().count(), held.len());
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = read_paths, append_telemetry, attach_cost
}
criterion_main!(benches);
