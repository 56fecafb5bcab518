//! The whole core behind both ports: a pump over the memory HAL with the real NineDoor
//! namespace, fed arbitrary bytes on an attached and a fresh Secure9P connection, an
//! attached and a fresh TCP console, and the serial console, interleaved with turns, clock
//! steps and hang-ups. No input may panic; every reply must be a well-formed frame; a
//! Secure9P connection the hive kept open has answered each of its requests exactly once, in
//! order.
#![no_main]

use hal::mem::{MemConn, MemHal};
use hal::{CONSOLE_PORT, NINEP_PORT};
use libfuzzer_sys::fuzz_target;
use manifest::Manifest;
use pump::{Provision, Pump};
use secure9p::codec::Limits;
use secure9p::{decode_response, frame_len, ClientCodec};
use ticket::{Claims, Keyring, Role};

const TOKEN: &[u8] = b"console-token-0123";

fn keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(b"fuzz", "hive"));
    keys
}

fn queen_ticket() -> String {
    let claims = Claims::new(1, 1 << 41, Role::Queen, "fuzz", 0, 86_400_000);
    ticket::mint(&keys(), &claims).expect("mint")
}

/// One connection's view from the client side: what it sent and what came back.
struct Peer {
    conn: MemConn,
    ninep: bool,
    sent: Vec<u8>,
    received: Vec<u8>,
}

impl Peer {
    fn send(&mut self, bytes: &[u8]) {
        let taken = self.conn.send(bytes);
        self.sent.extend_from_slice(&bytes[..taken]);
    }

    fn drain(&mut self) {
        self.conn.recv(&mut self.received);
    }
}

struct Rig {
    hal: MemHal,
    pump: Pump,
    peers: Vec<Peer>,
}

impl Rig {
    fn new() -> Self {
        let hal = MemHal::new(9).with_net_capacity(64 * 1024);
        hal.listen(NINEP_PORT);
        hal.listen(CONSOLE_PORT);
        let provision = Provision {
            keys: keys(),
            console_token: Some(TOKEN.to_vec()),
            platform: "fuzz",
            hive_id: Some(0),
        };
        let pump = Pump::new(Manifest::default(), provision, 0);
        let mut rig = Self {
            hal,
            pump,
            peers: Vec::new(),
        };
        rig.connect(true);
        rig.connect(true);
        rig.connect(false);
        rig.connect(false);
        rig.attach_ninep(0);
        rig.attach_console(2);
        rig
    }

    fn connect(&mut self, ninep: bool) {
        let port = if ninep { NINEP_PORT } else { CONSOLE_PORT };
        let conn = self.hal.connect(port).expect("listening");
        self.peers.push(Peer {
            conn,
            ninep,
            sent: Vec::new(),
            received: Vec::new(),
        });
    }

    fn turn(&mut self) {
        self.pump.turn(&mut self.hal);
        for peer in &mut self.peers {
            peer.drain();
        }
        // The serial console's output is not checked, only kept from growing.
        let _ = self.hal.take_output();
    }

    /// version, auth, the ticket written to the auth fid, attach: a queen session.
    fn attach_ninep(&mut self, at: usize) {
        let mut codec = ClientCodec::new(Limits::default());
        let ticket = queen_ticket();
        let mut out = Vec::new();
        codec.version(&mut out).expect("version");
        let (_, afid) = codec.auth("fuzz", "queen", &mut out).expect("auth");
        codec
            .write(afid, 0, ticket.as_bytes(), &mut out)
            .expect("write");
        codec
            .attach(Some(afid), "fuzz", "queen", &mut out)
            .expect("attach");
        self.peers[at].send(&out);
        for _ in 0..4 {
            self.turn();
        }
    }

    fn attach_console(&mut self, at: usize) {
        let token = String::from_utf8_lossy(TOKEN).into_owned();
        let mut out = Vec::new();
        console::encode_frame(&format!("AUTH {token}"), &mut out);
        console::encode_frame(&format!("ATTACH queen {}", queen_ticket()), &mut out);
        self.peers[at].send(&out);
        for _ in 0..4 {
            self.turn();
        }
    }
}

/// The tags of the whole frames in `bytes`, by their size fields alone.
fn tags(mut bytes: &[u8]) -> Vec<u16> {
    let mut tags = Vec::new();
    while bytes.len() >= 7 {
        let size = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        if size < 7 || size > bytes.len() {
            break;
        }
        tags.push(u16::from_le_bytes([bytes[5], bytes[6]]));
        bytes = &bytes[size..];
    }
    tags
}

fn check_ninep(peer: &Peer) {
    let limits = Limits::default();
    let mut out = peer.received.as_slice();
    while !out.is_empty() {
        let len = match frame_len(out, limits.msize) {
            Ok(Some(len)) if len <= out.len() => len,
            other => panic!("pump wrote a bad 9P frame: {other:?}"),
        };
        if let Err(e) = decode_response(&out[..len], &limits) {
            panic!("pump wrote an undecodable reply: {e:?}");
        }
        out = &out[len..];
    }
    let asked = tags(&peer.sent);
    let answered = tags(&peer.received);
    if peer.conn.is_closed() {
        assert!(answered.len() <= asked.len(), "more answers than requests");
        assert_eq!(answered, asked[..answered.len()], "answers out of order");
    } else {
        assert_eq!(
            answered, asked,
            "an open connection answers every request once"
        );
    }
}

fn check_console(peer: &Peer) {
    let mut out = peer.received.as_slice();
    while !out.is_empty() {
        assert!(out.len() >= 4, "torn console frame");
        let len = u32::from_le_bytes([out[0], out[1], out[2], out[3]]) as usize;
        assert!(
            (4..=out.len()).contains(&len),
            "bad console frame length {len}"
        );
        let line = std::str::from_utf8(&out[4..len]).expect("console replies are UTF-8");
        assert!(
            !line.contains(['\r', '\n']),
            "a reply line holds a line break"
        );
        out = &out[len..];
    }
}

fuzz_target!(|bytes: &[u8]| {
    let mut rig = Rig::new();
    let mut rest = bytes;
    // Each step: an opcode byte, a length byte, then that many bytes of payload.
    while let [op, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        match op % 8 {
            n @ 0..=3 => rig.peers[usize::from(n)].send(payload),
            4 => rig.hal.push_input(payload),
            5 => rig
                .hal
                .advance_ms(u64::from(*payload.first().unwrap_or(&1)) * 1000),
            6 => {
                let at = usize::from(payload.first().copied().unwrap_or(0) % 4);
                rig.peers[at].conn.close();
            }
            _ => {}
        }
        rig.turn();
    }
    for _ in 0..8 {
        rig.turn();
    }
    for peer in &rig.peers {
        if peer.ninep {
            check_ninep(peer);
        } else {
            check_console(peer);
        }
    }
});
