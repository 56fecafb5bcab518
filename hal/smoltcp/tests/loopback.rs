//! `SmolNet` against a plain smoltcp client over an in-memory wire: connections open, carry
//! bytes both ways and close; buffers and socket counts stay within their bounds; descriptor
//! exhaustion, a cut link and peer resets are survived without a panic.

mod support;

use cohesix_hal_smoltcp::smoltcp::socket::tcp::State;
use cohesix_hal_smoltcp::NetConfig;
use hal::{Net, NetError};
use support::{server_config, Lab, CLIENT_IP, PORT};

fn accept(lab: &mut Lab) -> u32 {
    for _ in 0..50 {
        if let Some(id) = lab.server.poll_accept(PORT) {
            return id;
        }
        lab.step(1);
    }
    panic!("no connection accepted");
}

fn read_server(lab: &mut Lab, conn: u32, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    for _ in 0..2000 {
        match lab.server.recv(conn, &mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("recv failed after {} bytes: {e:?}", got.len()),
        }
        if got.len() >= want {
            return got;
        }
        lab.step(1);
    }
    panic!("only {} of {want} bytes arrived", got.len());
}

#[test]
fn connect_send_recv_close() {
    let mut lab = Lab::new(server_config(), 64);
    let h = lab.client.connect(PORT, 4096);
    lab.step(5);
    let conn = accept(&mut lab);
    let peer = lab.server.peer(conn).expect("peer known");
    assert_eq!(peer.ip, CLIENT_IP);
    assert_eq!(peer.port, 40000);

    assert_eq!(lab.client.send(h, b"ping"), 4);
    lab.step(3);
    assert_eq!(read_server(&mut lab, conn, 4), b"ping");

    assert_eq!(lab.server.send(conn, b"pong"), Ok(4));
    lab.step(3);
    assert_eq!(lab.client.recv_all(h), b"pong");

    lab.client.socket(h).close();
    lab.step(5);
    let mut buf = [0u8; 8];
    assert_eq!(lab.server.recv(conn, &mut buf), Err(NetError::Closed));
    lab.server.close(conn);
    lab.step(5);
    assert_eq!(lab.server.stats().open, 0);
    assert_eq!(
        lab.server.stats().closing,
        0,
        "socket freed after the FIN exchange"
    );
    assert_eq!(lab.client.state(h), State::TimeWait);
    assert_eq!(lab.server.recv(conn, &mut buf), Err(NetError::Unknown));
    lab.server.close(conn); // a second close is harmless
}

#[test]
fn several_clients_attach_to_one_port_at_once() {
    let mut lab = Lab::new(server_config(), 64);
    let handles: Vec<_> = (0..4).map(|_| lab.client.connect(PORT, 4096)).collect();
    lab.step(5);
    let mut conns = Vec::new();
    while let Some(id) = lab.server.poll_accept(PORT) {
        conns.push(id);
    }
    assert_eq!(
        conns.len(),
        4,
        "backlog of 4 takes four simultaneous handshakes"
    );
    for (i, h) in handles.iter().enumerate() {
        lab.client.send(*h, format!("client-{i}").as_bytes());
    }
    lab.step(3);
    for (i, conn) in conns.iter().enumerate() {
        let peer = lab.server.peer(*conn).unwrap();
        let index = usize::from(peer.port - 40000);
        assert_eq!(
            read_server(&mut lab, *conn, 8),
            format!("client-{index}").as_bytes()
        );
        assert!(i < 4);
    }
    assert_eq!(
        lab.server.stats().listening,
        4,
        "listeners were replenished"
    );
}

#[test]
fn socket_budget_bounds_connections_and_recovers() {
    let mut config = server_config();
    config.sockets_max = 3;
    config.backlog = 2;
    let mut lab = Lab::new(config, 64);
    let accept_all = |lab: &mut Lab| {
        let mut conns = Vec::new();
        for _ in 0..10 {
            while let Some(id) = lab.server.poll_accept(PORT) {
                conns.push(id);
            }
            lab.step(5);
        }
        conns
    };
    // A burst larger than the backlog: two handshakes complete, the rest are reset.
    let burst: Vec<_> = (0..6).map(|_| lab.client.connect(PORT, 1024)).collect();
    lab.step(20);
    let mut conns = accept_all(&mut lab);
    assert_eq!(conns.len(), 2);
    let reset = burst
        .iter()
        .filter(|h| lab.client.state(**h) == State::Closed)
        .count();
    assert_eq!(reset, 4, "refused with a reset, not left hanging");

    // One more fits in the budget; after it, nothing listens.
    lab.client.connect(PORT, 1024);
    lab.step(5);
    conns.extend(accept_all(&mut lab));
    assert_eq!(conns.len(), 3);
    let stats = lab.server.stats();
    assert_eq!((stats.open, stats.listening), (3, 0), "{stats:?}");
    let refused = lab.client.connect(PORT, 1024);
    lab.step(10);
    assert_eq!(lab.client.state(refused), State::Closed);
    assert!(accept_all(&mut lab).is_empty());

    // Closing one frees a socket for a newcomer once its close completes or lingers out
    // (this peer never sends its own FIN).
    lab.server.close(conns[0]);
    lab.step(20);
    assert_eq!(lab.server.stats().closing, 1);
    lab.jump_ms(2_000);
    lab.step(5);
    let late = lab.client.connect(PORT, 1024);
    lab.step(5);
    let conn = accept(&mut lab);
    lab.client.send(late, b"late");
    lab.step(3);
    assert_eq!(read_server(&mut lab, conn, 4), b"late");
    let stats = lab.server.stats();
    assert!(
        stats.open + stats.listening + stats.closing <= 3,
        "{stats:?}"
    );
}

#[test]
fn send_is_bounded_by_the_transmit_buffer() {
    let mut config = server_config();
    config.tx_buffer = 4096;
    config.rx_buffer = 2048;
    let mut lab = Lab::new(config, 64);
    let h = lab.client.connect(PORT, 64 * 1024);
    lab.step(5);
    let conn = accept(&mut lab);

    let big = vec![0xa5u8; 64 * 1024];
    let first = lab.server.send(conn, &big).unwrap();
    assert_eq!(first, 4096, "a short write, never more than the buffer");
    assert_eq!(
        lab.server.send(conn, &big).unwrap(),
        0,
        "full until acknowledged"
    );
    let mut sent = first;
    let mut received = Vec::new();
    for _ in 0..500 {
        lab.step(1);
        received.extend(lab.client.recv_all(h));
        if sent < big.len() {
            sent += lab.server.send(conn, &big[sent..]).unwrap();
        }
        if received.len() == big.len() {
            break;
        }
    }
    assert_eq!(received, big);

    // The receive side: the client can only push as much as the server's window allows.
    let pushed = lab.client.send(h, &big);
    lab.step(10);
    let mut buf = vec![0u8; 64 * 1024];
    let n = lab.server.recv(conn, &mut buf).unwrap();
    assert!(n <= 2048, "receive buffer bound held: {n}");
    let rest = read_server(&mut lab, conn, pushed - n);
    assert_eq!(n + rest.len(), pushed);
}

#[test]
fn descriptor_exhaustion_slows_but_never_breaks_a_transfer() {
    let mut lab = Lab::new(server_config(), 1);
    let h = lab.client.connect(PORT, 64 * 1024);
    lab.step(10);
    let conn = accept(&mut lab);
    let data: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
    let mut sent = 0;
    let mut received = Vec::new();
    for _ in 0..20_000 {
        if sent < data.len() {
            sent += lab.server.send(conn, &data[sent..]).unwrap();
        }
        lab.step(1);
        received.extend(lab.client.recv_all(h));
        if received.len() == data.len() {
            break;
        }
    }
    assert_eq!(received, data);
    assert!(
        lab.server.stats().frames.tx_busy > 0,
        "the single descriptor was exhausted at least once"
    );
}

#[test]
fn a_short_link_cut_is_survived() {
    let mut lab = Lab::new(server_config(), 64);
    let h = lab.client.connect(PORT, 4096);
    lab.step(5);
    let conn = accept(&mut lab);
    lab.wire.set_link(false);
    assert_eq!(lab.server.send(conn, b"during the cut"), Ok(14));
    lab.step(200);
    lab.wire.set_link(true);
    let mut got = Vec::new();
    for _ in 0..100 {
        lab.jump_ms(100);
        got.extend(lab.client.recv_all(h));
        if got.len() == 14 {
            break;
        }
    }
    assert_eq!(
        got, b"during the cut",
        "retransmitted after the link came back"
    );
    assert!(lab.wire.dropped() > 0);
}

#[test]
fn a_long_link_cut_times_the_connection_out() {
    let mut config: NetConfig = server_config();
    config.timeout_ms = 2_000;
    config.keep_alive_ms = Some(500);
    let mut lab = Lab::new(config, 64);
    let _h = lab.client.connect(PORT, 4096);
    lab.step(5);
    let conn = accept(&mut lab);
    lab.wire.set_link(false);
    let mut buf = [0u8; 16];
    let mut outcome = Ok(0);
    for _ in 0..100 {
        lab.jump_ms(100);
        outcome = lab.server.recv(conn, &mut buf);
        if outcome.is_err() {
            break;
        }
    }
    assert_eq!(outcome, Err(NetError::Closed));
    assert_eq!(lab.server.send(conn, b"x"), Err(NetError::Closed));
    lab.server.close(conn);
    lab.step(5);
    assert_eq!(lab.server.stats().open + lab.server.stats().closing, 0);
}

#[test]
fn a_peer_reset_surfaces_as_closed() {
    let mut lab = Lab::new(server_config(), 64);
    let h = lab.client.connect(PORT, 4096);
    lab.step(5);
    let conn = accept(&mut lab);
    lab.client.socket(h).abort();
    lab.step(5);
    let mut buf = [0u8; 16];
    assert_eq!(lab.server.recv(conn, &mut buf), Err(NetError::Closed));
    assert_eq!(lab.server.send(conn, b"late"), Err(NetError::Closed));
    lab.server.close(conn);
    lab.step(3);
    assert_eq!(lab.server.stats().closing, 0);
}

#[test]
fn reset_connections_drops_every_peer_and_keeps_listening() {
    let mut lab = Lab::new(server_config(), 64);
    let h = lab.client.connect(PORT, 4096);
    lab.step(5);
    let conn = accept(&mut lab);
    lab.server.reset_connections();
    lab.step(5);
    assert_eq!(lab.client.state(h), State::Closed, "the peer saw the reset");
    let mut buf = [0u8; 4];
    assert_eq!(lab.server.recv(conn, &mut buf), Err(NetError::Closed));
    lab.server.close(conn);
    let again = lab.client.connect(PORT, 4096);
    lab.step(5);
    let conn = accept(&mut lab);
    lab.client.send(again, b"back");
    lab.step(3);
    assert_eq!(read_server(&mut lab, conn, 4), b"back");
}

#[test]
fn a_closed_connection_that_never_finishes_lingers_out() {
    let mut config = server_config();
    config.linger_ms = 300;
    let mut lab = Lab::new(config, 64);
    let _h = lab.client.connect(PORT, 4096);
    lab.step(5);
    let conn = accept(&mut lab);
    lab.wire.set_link(false); // the FIN can never be acknowledged
    lab.server.close(conn);
    lab.step(5);
    assert_eq!(lab.server.stats().closing, 1);
    for _ in 0..10 {
        lab.jump_ms(100);
    }
    let stats = lab.server.stats();
    assert_eq!(stats.closing, 0);
    assert_eq!(stats.lingered_out, 1);
}

#[test]
fn garbage_and_oversized_frames_are_ignored() {
    let mut lab = Lab::new(server_config(), 64);
    lab.wire.inject(0, &[0u8; 3]);
    lab.wire.inject(0, &[0xffu8; 60]);
    lab.wire.inject(0, &vec![0x42u8; 9000]);
    let mut junk = vec![0u8; 1514];
    for (i, b) in junk.iter_mut().enumerate() {
        *b = (i * 31 % 251) as u8;
    }
    lab.wire.inject(0, &junk);
    lab.step(5);
    let h = lab.client.connect(PORT, 4096);
    lab.step(5);
    let conn = accept(&mut lab);
    lab.client.send(h, b"still fine");
    lab.step(3);
    assert_eq!(read_server(&mut lab, conn, 10), b"still fine");
    assert_eq!(
        lab.wire.dropped(),
        1,
        "the oversized frame was dropped by the device"
    );
}

#[test]
fn nothing_is_accepted_on_a_port_that_does_not_listen() {
    let mut lab = Lab::new(server_config(), 64);
    let h = lab.client.connect(564, 4096);
    lab.step(10);
    assert_eq!(lab.server.poll_accept(564), None);
    assert_eq!(lab.client.state(h), State::Closed, "refused with a reset");
    assert!(lab.server.listen(564).is_ok());
    assert!(
        lab.server.listen(564).is_err(),
        "listening twice is refused"
    );
    assert!(lab.server.listen(0).is_err());
}
