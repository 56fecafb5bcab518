//! The ENA driver against `FakeEna`.

use core::cell::Cell;
use smoltcp::phy::{Device, RxToken, TxToken};
use smoltcp::time::Instant;
use std::vec;
use std::vec::Vec;

use crate::admin::cmd;
use crate::device::{Ena, EnaConfig, EnaError};
use crate::dma::test_arena;
use crate::model::{FakeEna, MAC};

/// A clock that moves 1 ms every time it is read, so timeouts pass quickly in tests.
struct TickClock(Cell<u64>);

impl hal::Clock for TickClock {
    fn now_us(&self) -> u64 {
        self.0.set(self.0.get() + 1_000);
        self.0.get()
    }
}

fn clock() -> TickClock {
    TickClock(Cell::new(0))
}

fn config(depth: u16) -> EnaConfig {
    EnaConfig {
        queue_depth: depth,
        admin_depth: 4,
        aenq_depth: 4,
        ..EnaConfig::default()
    }
}

fn try_bring_up(model: &FakeEna, cfg: EnaConfig) -> Result<Ena<&FakeEna>, EnaError> {
    let arena = test_arena(cfg.arena_bytes());
    model.allow(arena.bus(), arena.len());
    Ena::init(model, &clock(), cfg, arena)
}

fn bring_up(model: &FakeEna, depth: u16) -> Ena<&FakeEna> {
    let nic = try_bring_up(model, config(depth)).expect("init");
    assert!(
        model.state.borrow().protocol_errors.is_empty(),
        "{:?}",
        model.state.borrow().protocol_errors
    );
    nic
}

fn frame(tag: u8, len: usize) -> Vec<u8> {
    let mut f = vec![tag; len];
    f[..6].copy_from_slice(&MAC);
    f
}

#[test]
fn init_runs_the_documented_bring_up_sequence() {
    let model = FakeEna::new();
    let nic = bring_up(&model, 16);
    let st = model.state.borrow();
    let expected = [
        (cmd::OP_GET_FEATURE, cmd::FEAT_DEVICE_ATTRIBUTES),
        (cmd::OP_GET_FEATURE, cmd::FEAT_MAX_QUEUES_NUM),
        (cmd::OP_SET_FEATURE, cmd::FEAT_MTU),
        (cmd::OP_GET_FEATURE, cmd::FEAT_AENQ_CONFIG),
        (cmd::OP_SET_FEATURE, cmd::FEAT_AENQ_CONFIG),
        (cmd::OP_CREATE_CQ, 0),
        (cmd::OP_CREATE_SQ, 0),
        (cmd::OP_CREATE_CQ, 0),
        (cmd::OP_CREATE_SQ, 0),
    ];
    assert_eq!(st.opcodes, expected);
    assert_eq!(
        st.set_features,
        [(cmd::FEAT_MTU, 1500), (cmd::FEAT_AENQ_CONFIG, 0b10111)]
    );
    // Queues: TX CQ of 8-byte entries bound to the TX SQ, RX CQ of 16-byte entries.
    assert_eq!((st.cqs[0].entry_bytes, st.cqs[1].entry_bytes), (8, 16));
    assert_eq!((st.sqs[0].direction, st.sqs[0].cq), (cmd::DIRECTION_TX, 0));
    assert_eq!((st.sqs[1].direction, st.sqs[1].cq), (cmd::DIRECTION_RX, 1));
    assert!(st
        .sqs
        .iter()
        .all(|s| s.ring.depth == 16 && s.ring.base % 4096 == 0));
    // Every receive buffer but one is posted.
    assert_eq!(st.rx_posted.len(), 15);
    assert!(!st.in_reset);
    drop(st);
    assert_eq!(nic.mac(), MAC);
    assert_eq!(nic.info().attr.max_mtu, 9216);
    assert_eq!(nic.info().dma_width, 48);
    assert!(nic.link_up());
}

#[test]
fn reset_failures_are_named() {
    let model = FakeEna::new();
    model.never_ready.set(true);
    assert_eq!(
        try_bring_up(&model, config(8)).err(),
        Some(EnaError::NotReady)
    );

    let model = FakeEna::new();
    model.reset_stuck.set(true);
    assert_eq!(
        try_bring_up(&model, config(8)).err(),
        Some(EnaError::ResetTimeout)
    );

    let model = FakeEna::new();
    model.caps.set(48 << 8);
    assert_eq!(
        try_bring_up(&model, config(8)).err(),
        Some(EnaError::BadCaps(48 << 8))
    );

    let model = FakeEna::new();
    model.version.set(0x0109);
    assert_eq!(
        try_bring_up(&model, config(8)).err(),
        Some(EnaError::UnsupportedVersion(0x0109))
    );
}

#[test]
fn admin_failures_are_named() {
    let model = FakeEna::new();
    model.admin_silent.set(true);
    let err = try_bring_up(&model, config(8)).err();
    assert_eq!(
        err,
        Some(EnaError::AdminTimeout {
            opcode: cmd::OP_GET_FEATURE
        })
    );

    let model = FakeEna::new();
    model.fail_opcode.set(Some((cmd::OP_CREATE_SQ, 1)));
    let err = try_bring_up(&model, config(8)).err();
    assert_eq!(
        err,
        Some(EnaError::AdminStatus {
            opcode: cmd::OP_CREATE_SQ,
            status: 1
        })
    );

    let model = FakeEna::new();
    model.wrong_command_id.set(true);
    let err = try_bring_up(&model, config(8)).err();
    assert_eq!(
        err,
        Some(EnaError::AdminMismatch {
            expected: 0,
            got: 1
        })
    );
}

#[test]
fn device_limits_and_bad_doorbells_are_refused() {
    let model = FakeEna::new();
    model.max_depth.set(8);
    let err = try_bring_up(&model, config(16)).err();
    assert_eq!(
        err,
        Some(EnaError::QueueTooDeep {
            max_sq: 8,
            max_cq: 8
        })
    );

    let model = FakeEna::new();
    model.sq_doorbell_base.set(0x54);
    assert_eq!(
        try_bring_up(&model, config(8)).err(),
        Some(EnaError::BadDoorbell(0x54))
    );
}

#[test]
fn bad_configurations_are_refused_before_touching_the_device() {
    let model = FakeEna::new();
    let cfg = config(48);
    let arena = test_arena(EnaConfig::default().arena_bytes());
    assert_eq!(
        Ena::init(&model, &clock(), cfg, arena).err(),
        Some(EnaError::BadConfig)
    );
    let arena = test_arena(4096);
    assert_eq!(
        Ena::init(&model, &clock(), config(8), arena).err(),
        Some(EnaError::BadConfig)
    );
    assert!(model.regs.borrow().is_empty());
}

#[test]
fn the_admin_queue_survives_many_wraps() {
    let model = FakeEna::new();
    let mut nic = bring_up(&model, 8);
    for _ in 0..100 {
        let e = nic
            .admin_command(&clock(), cmd::get_feature(cmd::FEAT_DEVICE_ATTRIBUTES))
            .unwrap();
        assert_eq!(cmd::device_attr(&e).mac, MAC);
    }
    assert!(model.state.borrow().protocol_errors.is_empty());
}

#[test]
fn frames_round_trip_through_the_smoltcp_device() {
    let model = FakeEna::new();
    let mut nic = bring_up(&model, 8);
    let incoming = frame(0x42, 342);
    assert!(model.inject_rx(&incoming));
    let (rx, tx) = nic.receive(Instant::from_millis(0)).unwrap();
    assert_eq!(rx.consume(|f| f.to_vec()), incoming);
    tx.consume(64, |b| b.fill(0x17));
    let st = model.state.borrow();
    assert_eq!(st.sent, vec![vec![0x17u8; 64]]);
    // The consumed buffer went back to the device.
    assert_eq!(st.rx_posted.len(), 7);
    drop(st);
    assert!(nic.receive(Instant::from_millis(1)).is_none());
    let stats = nic.stats();
    assert_eq!((stats.rx_frames, stats.tx_frames), (1, 1));
}

#[test]
fn queues_wrap_many_times_without_losing_frames() {
    let model = FakeEna::new();
    let mut nic = bring_up(&model, 8);
    for i in 0..300usize {
        let f = frame(i as u8, 60 + i % 200);
        assert!(model.inject_rx(&f), "rx {i}");
        assert_eq!(
            nic.receive_with(|b| b.to_vec()).as_deref(),
            Some(f.as_slice()),
            "rx {i}"
        );
        nic.transmit_with(60 + i % 50, |b| b.fill(i as u8));
    }
    let st = model.state.borrow();
    assert_eq!(st.sent.len(), 300);
    assert!(st
        .sent
        .iter()
        .enumerate()
        .all(|(i, f)| f[0] == i as u8 && f.len() == 60 + i % 50));
    assert!(st.protocol_errors.is_empty(), "{:?}", st.protocol_errors);
}

#[test]
fn transmit_exhaustion_is_refused_and_recovers() {
    let model = FakeEna::new();
    model.tx_stall.set(true);
    let mut nic = bring_up(&model, 8);
    for _ in 0..7 {
        let tok = nic.transmit(Instant::from_millis(0)).expect("room");
        tok.consume(100, |b| b.fill(9));
    }
    assert!(nic.transmit(Instant::from_millis(0)).is_none());
    assert_eq!(nic.transmit_with(100, |b| b.len()), 100);
    assert_eq!(nic.stats().tx_refused, 1);
    model.unstall_tx();
    assert_eq!(model.state.borrow().sent.len(), 7);
    assert!(nic.transmit(Instant::from_millis(1)).is_some());
}

#[test]
fn oversize_frames_and_bogus_completions_are_counted_not_fatal() {
    let model = FakeEna::new();
    let mut nic = bring_up(&model, 8);
    nic.transmit_with(1515, |_| ());
    assert_eq!(nic.stats().tx_refused, 1);
    model.tx_complete(0, 5);
    model.tx_complete(0, 999);
    assert!(nic.transmit(Instant::from_millis(0)).is_some());
    assert_eq!(nic.stats().bad_completions, 2);
}

#[test]
fn frames_spanning_buffers_are_dropped_and_their_buffers_reposted() {
    let model = FakeEna::new();
    let mut nic = bring_up(&model, 8);
    assert!(model.inject_rx_flags(&frame(1, 100), true, false));
    assert!(model.inject_rx(&frame(2, 100)));
    assert_eq!(nic.receive_with(|b| b[10]), Some(2));
    assert_eq!(nic.stats().rx_dropped, 1);
    assert_eq!(model.state.borrow().rx_posted.len(), 7);
}

#[test]
fn aenq_events_drive_link_state_and_fatal_errors() {
    let model = FakeEna::new();
    let mut nic = bring_up(&model, 8);
    model.post_event(cmd::AENQ_KEEP_ALIVE, 0, 0);
    model.post_event(cmd::AENQ_LINK_CHANGE, 0, 0);
    assert_eq!(nic.poll_events(), Ok(2));
    assert!(!nic.link_up());
    assert!(model.inject_rx(&frame(3, 64)));
    assert!(nic.receive(Instant::from_millis(0)).is_none());
    // Wrap the AENQ (depth 4) with link flaps; the last one says up.
    for i in 0..9u32 {
        model.post_event(cmd::AENQ_LINK_CHANGE, 0, i % 2);
        nic.poll_events().unwrap();
    }
    assert!(!nic.link_up());
    model.post_event(cmd::AENQ_LINK_CHANGE, 0, 1);
    nic.poll_events().unwrap();
    assert_eq!(nic.receive_with(|b| b[10]), Some(3));
    model.post_event(cmd::AENQ_FATAL_ERROR, 0, 0);
    assert_eq!(nic.poll_events(), Err(EnaError::Fatal));
    assert!(!nic.link_up());
}

#[test]
fn the_net_device_seam_copies_frames_and_notices_events() {
    use hal_smoltcp::{DeviceError, NetDevice};
    let model = FakeEna::new();
    let mut nic = bring_up(&model, 8);
    let mut buf = [0u8; 1514];
    assert!(model.inject_rx(&frame(5, 128)));
    assert_eq!(NetDevice::receive(&mut nic, &mut buf), Some(128));
    assert_eq!(buf[10], 5);
    assert!(model.inject_rx(&frame(6, 300)));
    assert_eq!(
        NetDevice::receive(&mut nic, &mut buf[..100]),
        None,
        "too long: dropped"
    );
    NetDevice::transmit(&mut nic, &frame(7, 90)).unwrap();
    assert_eq!(model.state.borrow().sent[0].len(), 90);
    assert_eq!(
        NetDevice::transmit(&mut nic, &[0u8; 1515]),
        Err(DeviceError::Busy)
    );
    model.post_event(cmd::AENQ_LINK_CHANGE, 0, 0);
    for _ in 0..crate::EVENT_POLL_EVERY {
        NetDevice::receive(&mut nic, &mut buf);
    }
    assert_eq!(
        NetDevice::transmit(&mut nic, &frame(7, 90)),
        Err(DeviceError::Down)
    );
    assert_eq!(NetDevice::mac(&nic), MAC);
}
