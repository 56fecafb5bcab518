use super::*;
use crate::{CONSOLE_PORT, NINEP_PORT};

fn read_all(net: &mut MemNet, conn: ConnId) -> Result<Vec<u8>, NetError> {
    let mut out = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        match net.recv(conn, &mut buf)? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn connect_requires_a_listener() {
    let net = MemNet::new();
    assert!(net.connect(NINEP_PORT).is_none());
    net.listen(NINEP_PORT);
    assert!(net.connect(NINEP_PORT).is_some());
    assert!(net.connect(CONSOLE_PORT).is_none());
}

#[test]
fn accept_is_per_port_and_in_order() {
    let mut net = MemNet::new();
    net.listen(NINEP_PORT);
    net.listen(CONSOLE_PORT);
    assert_eq!(net.poll_accept(NINEP_PORT), None);
    let a = net.connect(NINEP_PORT).unwrap();
    let b = net.connect(CONSOLE_PORT).unwrap();
    let c = net.connect(NINEP_PORT).unwrap();
    assert_eq!(a.id(), None);
    // Ids follow accept order, not connect order.
    assert_eq!(net.poll_accept(CONSOLE_PORT), Some(1));
    assert_eq!(net.poll_accept(NINEP_PORT), Some(2));
    assert_eq!(net.poll_accept(NINEP_PORT), Some(3));
    assert_eq!(net.poll_accept(NINEP_PORT), None);
    assert_eq!((a.id(), b.id(), c.id()), (Some(2), Some(1), Some(3)));
}

#[test]
fn bytes_flow_both_ways() {
    let mut net = MemNet::new();
    net.listen(NINEP_PORT);
    let client = net.connect(NINEP_PORT).unwrap();
    let id = net.poll_accept(NINEP_PORT).unwrap();
    assert_eq!(net.recv(id, &mut [0u8; 4]), Ok(0));
    assert_eq!(client.send(b"Tversion"), 8);
    assert_eq!(read_all(&mut net, id).unwrap(), b"Tversion");
    assert_eq!(net.send(id, b"Rversion"), Ok(8));
    assert_eq!(client.take_all(), b"Rversion");
    assert!(client.take_all().is_empty());
    let mut out = Vec::from(&b">"[..]);
    net.send(id, b"more").unwrap();
    assert_eq!(client.recv(&mut out), 4);
    assert_eq!(out, b">more");
}

#[test]
fn client_sees_short_writes_when_buffer_full() {
    let mut net = MemNet::with_capacity(10);
    net.listen(NINEP_PORT);
    let client = net.connect(NINEP_PORT).unwrap();
    let id = net.poll_accept(NINEP_PORT).unwrap();
    assert_eq!(client.send(b"0123456"), 7);
    assert_eq!(client.send_space(), 3);
    assert_eq!(client.send(b"789abc"), 3);
    assert_eq!(client.send(b"x"), 0);
    let mut buf = [0u8; 4];
    assert_eq!(net.recv(id, &mut buf), Ok(4));
    assert_eq!(client.send(b"defgh"), 4);
    assert_eq!(read_all(&mut net, id).unwrap(), b"456789defg");
}

#[test]
fn server_sees_short_writes_when_client_does_not_read() {
    let mut net = MemNet::with_capacity(5);
    net.listen(CONSOLE_PORT);
    let client = net.connect(CONSOLE_PORT).unwrap();
    let id = net.poll_accept(CONSOLE_PORT).unwrap();
    assert_eq!(net.send(id, b"OK PING"), Ok(5));
    assert_eq!(net.send(id, b" reply"), Ok(0));
    assert_eq!(client.take_all(), b"OK PI");
    assert_eq!(net.send(id, b"NG"), Ok(2));
    assert_eq!(client.take_all(), b"NG");
}

#[test]
fn client_close_drains_then_reads_closed() {
    let mut net = MemNet::new();
    net.listen(NINEP_PORT);
    let client = net.connect(NINEP_PORT).unwrap();
    let id = net.poll_accept(NINEP_PORT).unwrap();
    assert_eq!(client.send(b"bye"), 3);
    client.close();
    assert!(client.is_closed());
    assert_eq!(client.send(b"ignored"), 0);
    // Bytes sent before the close are delivered first, then the close.
    let mut buf = [0u8; 32];
    assert_eq!(net.recv(id, &mut buf), Ok(3));
    assert_eq!(&buf[..3], b"bye");
    assert_eq!(net.recv(id, &mut buf), Err(NetError::Closed));
    assert_eq!(net.recv(id, &mut buf), Err(NetError::Closed));
    assert_eq!(net.send(id, b"late"), Err(NetError::Closed));
}

#[test]
fn server_close_is_seen_by_client() {
    let mut net = MemNet::new();
    net.listen(CONSOLE_PORT);
    let client = net.connect(CONSOLE_PORT).unwrap();
    let id = net.poll_accept(CONSOLE_PORT).unwrap();
    client.send(b"unread");
    net.send(id, b"OK QUIT").unwrap();
    net.close(id);
    assert!(client.is_closed());
    assert_eq!(client.send(b"more"), 0);
    // What the server sent before closing is still delivered.
    assert_eq!(client.take_all(), b"OK QUIT");
    assert_eq!(net.recv(id, &mut [0u8; 4]), Err(NetError::Unknown));
    assert_eq!(net.send(id, b"x"), Err(NetError::Unknown));
    assert_eq!(net.peer(id), None);
    // A second close is harmless.
    net.close(id);
}

#[test]
fn dropping_the_client_closes_and_both_closes_free_the_pipe() {
    let mut net = MemNet::new();
    net.listen(NINEP_PORT);
    let client = net.connect(NINEP_PORT).unwrap();
    let id = net.poll_accept(NINEP_PORT).unwrap();
    assert_eq!(net.open_connections(), 1);
    drop(client);
    assert_eq!(net.recv(id, &mut [0u8; 4]), Err(NetError::Closed));
    assert_eq!(net.open_connections(), 1);
    net.close(id);
    assert_eq!(net.open_connections(), 0);
}

#[test]
fn connection_closed_before_accept_reads_closed() {
    let mut net = MemNet::new();
    net.listen(NINEP_PORT);
    let client = net.connect(NINEP_PORT).unwrap();
    client.send(b"hi");
    client.close();
    let id = net.poll_accept(NINEP_PORT).unwrap();
    assert_eq!(read_all(&mut net, id), Err(NetError::Closed));
}

#[test]
fn unknown_connection_is_refused() {
    let mut net = MemNet::new();
    assert_eq!(net.recv(9, &mut [0u8; 4]), Err(NetError::Unknown));
    assert_eq!(net.send(9, b"x"), Err(NetError::Unknown));
    assert_eq!(net.peer(9), None);
}

#[test]
fn peer_is_derived_from_the_id() {
    let mut net = MemNet::new();
    net.listen(NINEP_PORT);
    let _a = net.connect(NINEP_PORT).unwrap();
    let id = net.poll_accept(NINEP_PORT).unwrap();
    let peer = net.peer(id).unwrap();
    assert_eq!(peer.ip, [10, 0, 0, 1]);
    assert_eq!(peer, peer_of(1));
    assert_eq!(peer_of(0x0102).ip, [10, 0, 1, 2]);
    assert_eq!(peer_of(0x0102).port, EPHEMERAL_BASE + 0x0102);
    assert_ne!(peer_of(1), peer_of(2));
    assert_eq!(alloc::format!("{}", peer_of(3)), "10.0.0.3:49155");
}

#[test]
fn same_script_same_ids() {
    fn run() -> Vec<(ConnId, PeerAddr)> {
        let mut net = MemNet::new();
        net.listen(NINEP_PORT);
        net.listen(CONSOLE_PORT);
        let conns: Vec<_> = (0..6)
            .map(|i| {
                let port = if i % 2 == 0 { NINEP_PORT } else { CONSOLE_PORT };
                net.connect(port).unwrap()
            })
            .collect();
        let mut seen = Vec::new();
        for port in [CONSOLE_PORT, NINEP_PORT, CONSOLE_PORT, NINEP_PORT] {
            if let Some(id) = net.poll_accept(port) {
                seen.push((id, net.peer(id).unwrap()));
            }
        }
        drop(conns);
        seen
    }
    assert_eq!(run(), run());
    assert_eq!(run().len(), 4);
}
