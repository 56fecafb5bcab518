//! The GENET driver against the register-level model in `model.rs`.

use smoltcp::phy::{Device, RxToken, TxToken};
use smoltcp::time::Instant;
use std::vec;
use std::vec::Vec;

use super::mdio::*;
use super::model::GenetModel;
use super::regs::*;
use super::*;
use crate::dma::test_buf;

const MAC: [u8; 6] = [0xDC, 0xA6, 0x32, 0x01, 0x02, 0x03];

fn config(rx: u16, tx: u16) -> GenetConfig {
    GenetConfig {
        rx_descs: rx,
        tx_descs: tx,
        ..GenetConfig::pi4(MAC)
    }
}

fn driver(model: &GenetModel, cfg: GenetConfig) -> Genet<&GenetModel> {
    let (rx_len, tx_len) = cfg.buffer_bytes();
    let rx = test_buf(rx_len);
    let tx = test_buf(tx_len);
    model.allow(rx.bus_addr(0).unwrap(), rx_len);
    model.allow(tx.bus_addr(0).unwrap(), tx_len);
    Genet::new(model, cfg, rx, tx).unwrap()
}

fn up(model: &GenetModel, cfg: GenetConfig) -> Genet<&GenetModel> {
    let mut nic = driver(model, cfg);
    nic.init().unwrap();
    model.phy.borrow_mut().link_up = true;
    assert!(matches!(nic.poll_link().unwrap(), Link::Up { .. }));
    nic
}

fn frame(tag: u8, len: usize) -> Vec<u8> {
    let mut f = vec![tag; len];
    f[..6].copy_from_slice(&MAC);
    f
}

#[test]
fn new_refuses_bad_ring_sizes_and_short_buffers() {
    let model = GenetModel::new();
    let cfg = config(48, 16);
    let res = Genet::new(&model, cfg, test_buf(48 * BUF_LEN), test_buf(16 * BUF_LEN));
    assert_eq!(res.err(), Some(GenetError::BadConfig));
    let cfg = config(16, 16);
    let res = Genet::new(
        &model,
        cfg,
        test_buf(16 * BUF_LEN - 1),
        test_buf(16 * BUF_LEN),
    );
    assert_eq!(res.err(), Some(GenetError::BadConfig));
}

#[test]
fn init_refuses_other_revisions() {
    let model = GenetModel::new();
    model.revision.set(0x0500_0000);
    let mut nic = driver(&model, config(16, 16));
    assert_eq!(nic.init(), Err(GenetError::UnsupportedVersion(0x0500_0000)));
    assert_eq!(nic.poll_link(), Err(GenetError::NotStarted));
}

#[test]
fn init_programs_address_rings_dma_and_phy() {
    let model = GenetModel::new();
    model.regs.set(RDMA_RING + RDMA_PROD_INDEX, 0x1234);
    model.regs.set(TDMA_RING + TDMA_CONS_INDEX, 0xFFF0);
    let mut nic = driver(&model, config(32, 16));
    nic.init().unwrap();
    let r = &model.regs;
    assert_eq!(r.get(UMAC_MAC0), 0xDCA6_3201);
    assert_eq!(r.get(UMAC_MAC1), 0x0203);
    assert_eq!(r.get(SYS_PORT_CTRL), PORT_MODE_EXT_GPHY);
    assert_eq!(r.get(RBUF_CTRL) & RBUF_ALIGN_2B, RBUF_ALIGN_2B);
    // Rings: 32 and 16 descriptors of three words, 2 KiB buffers, indices aligned.
    assert_eq!(r.get(RDMA_RING + DMA_END_ADDR), 32 * 3 - 1);
    assert_eq!(r.get(RDMA_RING + DMA_RING_BUF_SIZE), (32 << 16) | 2048);
    assert_eq!(r.get(RDMA_RING + RDMA_CONS_INDEX), 0x1234);
    assert_eq!(r.get(TDMA_RING + DMA_END_ADDR), 16 * 3 - 1);
    assert_eq!(r.get(TDMA_RING + TDMA_PROD_INDEX), 0xFFF0);
    // Every receive descriptor points at its own buffer.
    let base = u64::from(r.get(desc(RX_DESC_BASE, 0) + DESC_ADDRESS_LO))
        | (u64::from(r.get(desc(RX_DESC_BASE, 0) + DESC_ADDRESS_HI)) << 32);
    let fifth = u64::from(r.get(desc(RX_DESC_BASE, 5) + DESC_ADDRESS_LO))
        | (u64::from(r.get(desc(RX_DESC_BASE, 5) + DESC_ADDRESS_HI)) << 32);
    assert_eq!(fifth - base, 5 * BUF_LEN as u64);
    // DMA on for the default queue, interrupts masked.
    let ctrl = (1 << 17) | DMA_EN;
    assert_eq!(r.get(TDMA_CTRL_BASE + DMA_CTRL), ctrl);
    assert_eq!(r.get(RDMA_CTRL_BASE + DMA_CTRL) & ctrl, ctrl);
    assert_eq!(r.get(INTRL2_0 + INTRL2_CPU_MASK_SET), u32::MAX);
    // PHY: negotiation restarted, receive skew on, transmit clock delay off.
    let phy = model.phy.borrow();
    assert_eq!(
        phy.regs[usize::from(MII_BMCR)],
        BMCR_ANENABLE | BMCR_ANRESTART
    );
    assert_ne!(phy.regs[usize::from(MII_CTRL1000)] & ADVERTISE_1000FULL, 0);
    assert_ne!(phy.aux_misc & 0x0100, 0);
    assert_eq!(phy.shadow[3] & (1 << 9), 0);
    assert_eq!(model.stray_dma.get(), 0);
}

#[test]
fn link_up_sets_speed_and_enables_the_mac_and_link_down_stops_it() {
    let model = GenetModel::new();
    let mut nic = driver(&model, config(16, 16));
    nic.init().unwrap();
    assert_eq!(nic.poll_link(), Ok(Link::Down));
    assert_eq!(model.regs.get(UMAC_CMD) & (CMD_TX_EN | CMD_RX_EN), 0);

    model.phy.borrow_mut().link_up = true;
    let link = nic.poll_link().unwrap();
    assert_eq!(
        link,
        Link::Up {
            speed: Speed::Mbps1000,
            full_duplex: true
        }
    );
    let cmd = model.regs.get(UMAC_CMD);
    assert_eq!((cmd >> CMD_SPEED_SHIFT) & 3, 2);
    assert_eq!(cmd & (CMD_TX_EN | CMD_RX_EN), CMD_TX_EN | CMD_RX_EN);
    assert_eq!(cmd & CMD_SW_RESET, 0);
    let oob = model.regs.get(EXT_RGMII_OOB_CTRL);
    assert_eq!(
        oob & (RGMII_LINK | RGMII_MODE_EN | ID_MODE_DIS),
        RGMII_LINK | RGMII_MODE_EN | ID_MODE_DIS
    );

    model.phy.borrow_mut().link_up = false;
    assert_eq!(nic.poll_link(), Ok(Link::Down));
    assert_eq!(model.regs.get(UMAC_CMD) & (CMD_TX_EN | CMD_RX_EN), 0);
}

#[test]
fn a_100_mbit_half_duplex_partner_is_resolved() {
    let model = GenetModel::new();
    {
        let mut phy = model.phy.borrow_mut();
        phy.partner_gig = false;
        phy.partner_lpa = ADVERTISE_100HALF | ADVERTISE_10HALF;
    }
    let nic = up(&model, config(16, 16));
    assert_eq!(
        nic.link(),
        Link::Up {
            speed: Speed::Mbps100,
            full_duplex: false
        }
    );
    let cmd = model.regs.get(UMAC_CMD);
    assert_eq!((cmd >> CMD_SPEED_SHIFT) & 3, 1);
    assert_ne!(cmd & CMD_HD_EN, 0);
}

#[test]
fn no_frames_flow_before_the_link_is_up() {
    let model = GenetModel::new();
    let mut nic = driver(&model, config(16, 16));
    nic.init().unwrap();
    assert!(model.inject(&frame(1, 64), 0));
    assert!(nic.receive(Instant::from_millis(0)).is_none());
    assert!(nic.transmit(Instant::from_millis(0)).is_none());
}

#[test]
fn frames_round_trip_through_the_smoltcp_device() {
    let model = GenetModel::new();
    let mut nic = up(&model, config(16, 16));
    let incoming = frame(0xAB, 98);
    assert!(model.inject(&incoming, 0));
    let (rx, tx) = nic.receive(Instant::from_millis(1)).unwrap();
    let got = rx.consume(|f| f.to_vec());
    assert_eq!(got, incoming);
    // The paired transmit token answers; a short frame is padded to 60 bytes.
    tx.consume(42, |buf| buf.fill(0x5A));
    let sent = model.sent.borrow();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].len(), MIN_FRAME);
    assert!(sent[0][..42].iter().all(|&b| b == 0x5A));
    assert!(sent[0][42..].iter().all(|&b| b == 0));
    drop(sent);
    assert!(nic.receive(Instant::from_millis(2)).is_none());
    let stats = nic.stats();
    assert_eq!((stats.rx_frames, stats.tx_frames), (1, 1));
}

#[test]
fn receive_wraps_the_ring_and_the_16_bit_index() {
    let model = GenetModel::new();
    model.regs.set(RDMA_RING + RDMA_PROD_INDEX, 0xFFF8);
    let mut nic = up(&model, config(8, 8));
    for i in 0..100u32 {
        let f = frame(i as u8, 60 + (i as usize % 40));
        assert!(model.inject(&f, 0), "frame {i}");
        let got = nic.receive_with(|b| b.to_vec()).unwrap();
        assert_eq!(got, f, "frame {i}");
    }
    assert_eq!(
        model.regs.get(RDMA_RING + RDMA_CONS_INDEX),
        (0xFFF8 + 100) & 0xFFFF
    );
    assert_eq!(nic.stats().rx_frames, 100);
}

#[test]
fn a_full_receive_ring_is_drained_in_order() {
    let model = GenetModel::new();
    let mut nic = up(&model, config(8, 8));
    for i in 0..8u8 {
        assert!(model.inject(&frame(i, 64), 0));
    }
    assert!(!model.inject(&frame(99, 64), 0));
    for i in 0..8u8 {
        assert_eq!(nic.receive_with(|b| b[10]), Some(i));
    }
    assert_eq!(nic.receive_with(|b| b[10]), None);
}

#[test]
fn damaged_frames_are_dropped_and_counted() {
    let model = GenetModel::new();
    let mut nic = up(&model, config(8, 8));
    assert!(model.inject(&frame(1, 64), 0x0002));
    assert!(model.inject(&frame(2, 8), 0));
    assert!(model.inject(&frame(3, 64), 0));
    assert_eq!(nic.receive_with(|b| b[10]), Some(3));
    assert_eq!(nic.stats().rx_dropped, 2);
}

#[test]
fn transmit_exhaustion_is_refused_not_a_panic() {
    let model = GenetModel::new();
    model.tx_stuck.set(true);
    let mut nic = up(&model, config(8, 4));
    for _ in 0..4 {
        let tok = nic.transmit(Instant::from_millis(0)).expect("room");
        tok.consume(100, |b| b.fill(1));
    }
    assert!(nic.transmit(Instant::from_millis(0)).is_none());
    // The direct path builds the frame anyway and counts the refusal.
    let built = nic.transmit_with(100, |b| b.len());
    assert_eq!(built, 100);
    assert_eq!(nic.stats().tx_full, 1);
    assert_eq!(nic.stats().tx_frames, 4);
    // The device catches up: descriptors come back and transmission resumes.
    model.tx_stuck.set(false);
    model.write32(
        TDMA_RING + TDMA_PROD_INDEX,
        model.regs.get(TDMA_RING + TDMA_PROD_INDEX),
    );
    assert_eq!(model.sent.borrow().len(), 4);
    assert!(nic.transmit(Instant::from_millis(1)).is_some());
}

#[test]
fn transmit_wraps_the_16_bit_index() {
    let model = GenetModel::new();
    model.regs.set(TDMA_RING + TDMA_CONS_INDEX, 0xFFFD);
    let mut nic = up(&model, config(8, 4));
    for i in 0..10u8 {
        nic.transmit_with(64, |b| b.fill(i));
    }
    let sent = model.sent.borrow();
    assert_eq!(sent.len(), 10);
    assert!(sent.iter().enumerate().all(|(i, f)| f[0] == i as u8));
    assert_eq!(
        model.regs.get(TDMA_RING + TDMA_PROD_INDEX),
        (0xFFFD + 10) & 0xFFFF
    );
}

#[test]
fn oversize_frames_are_refused() {
    let model = GenetModel::new();
    let mut nic = up(&model, config(8, 4));
    nic.transmit_with(MAX_FRAME + 1, |_| ());
    assert!(model.sent.borrow().is_empty());
    assert_eq!(nic.stats().tx_full, 1);
}

#[test]
fn an_impossible_consumer_index_faults_the_path_without_panicking() {
    let model = GenetModel::new();
    let mut nic = up(&model, config(8, 4));
    model.regs.set(TDMA_RING + TDMA_CONS_INDEX, 0x4000);
    assert!(nic.transmit(Instant::from_millis(0)).is_none());
    assert!(matches!(nic.fault(), Some(GenetError::Ring(_))));
    // Receive keeps working.
    assert!(model.inject(&frame(7, 64), 0));
    assert_eq!(nic.receive_with(|b| b[10]), Some(7));
}

#[test]
fn an_impossible_producer_index_faults_receive() {
    let model = GenetModel::new();
    let mut nic = up(&model, config(8, 4));
    let cons = model.regs.get(RDMA_RING + RDMA_CONS_INDEX);
    model
        .regs
        .set(RDMA_RING + RDMA_PROD_INDEX, (cons + 9) & 0xFFFF);
    assert!(nic.receive_with(|_| ()).is_none());
    assert!(nic.fault().is_some());
}

#[test]
fn dma_that_never_stops_and_a_dead_mdio_bus_are_named_errors() {
    let model = GenetModel::new();
    model.dma_stuck.set(true);
    model.regs.set(TDMA_CTRL_BASE + DMA_CTRL, DMA_EN);
    let mut nic = driver(&model, config(8, 4));
    assert_eq!(nic.init(), Err(GenetError::DmaStopTimeout));

    let model = GenetModel::new();
    model.mdio_dead.set(true);
    let mut nic = driver(&model, config(8, 4));
    assert_eq!(nic.init(), Err(GenetError::MdioTimeout));
}

#[test]
fn capabilities_describe_an_ethernet_mtu() {
    let model = GenetModel::new();
    let nic = driver(&model, config(8, 4));
    let caps = nic.capabilities();
    assert_eq!(caps.max_transmission_unit, 1514);
    assert_eq!(caps.medium, smoltcp::phy::Medium::Ethernet);
}

#[test]
fn the_net_device_seam_copies_frames_and_brings_the_link_up_by_itself() {
    use hal_smoltcp::{DeviceError, NetDevice};
    let model = GenetModel::new();
    let mut nic = driver(&model, config(8, 4));
    nic.init().unwrap();
    assert_eq!(
        NetDevice::transmit(&mut nic, &frame(1, 64)),
        Err(DeviceError::Down)
    );
    model.phy.borrow_mut().link_up = true;
    let mut buf = [0u8; 1514];
    assert_eq!(NetDevice::receive(&mut nic, &mut buf), None);
    assert!(matches!(nic.link(), Link::Up { .. }));
    assert!(model.inject(&frame(9, 100), 0));
    assert_eq!(NetDevice::receive(&mut nic, &mut buf), Some(100));
    assert_eq!(buf[10], 9);
    // A frame larger than the caller's buffer is dropped, not truncated.
    assert!(model.inject(&frame(8, 200), 0));
    assert_eq!(NetDevice::receive(&mut nic, &mut buf[..50]), None);
    NetDevice::transmit(&mut nic, &frame(3, 70)).unwrap();
    assert_eq!(model.sent.borrow()[0].len(), 70);
    assert_eq!(NetDevice::mac(&nic), MAC);
    assert_eq!(
        NetDevice::transmit(&mut nic, &[0u8; 1515]),
        Err(DeviceError::Busy)
    );
}
