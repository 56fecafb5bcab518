//! An in-process hive on the memory HAL, and a small Secure9P client that drives it.
#![allow(dead_code)]

use cohesix_pump::{Provision, Pump};
use hal::mem::{MemConn, MemHal};
use hal::{CONSOLE_PORT, NINEP_PORT};
use manifest::Manifest;
use secure9p::codec::{Limits, Response};
use secure9p::{ClientCodec, ClientError, Error};
use ticket::{Claims, Keyring, Role};

pub const SEED: &[u8] = b"pump-integration";
pub const TOKEN: &[u8] = b"console-token-0123";

pub fn keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(1, Keyring::derive_key(SEED, "hive"));
    keys
}

pub struct TestHive {
    pub hal: MemHal,
    pub pump: Pump,
}

impl TestHive {
    pub fn boot(manifest: Manifest) -> Self {
        let hal = MemHal::new(7).with_net_capacity(64 * 1024);
        hal.listen(NINEP_PORT);
        hal.listen(CONSOLE_PORT);
        let provision = Provision {
            keys: keys(),
            console_token: Some(TOKEN.to_vec()),
            platform: "test",
            hive_id: Some(0),
        };
        let pump = Pump::new(manifest, provision, 0);
        let mut hive = Self { hal, pump };
        hive.turn();
        hive
    }

    /// A crash and restart: a new machine over the same store, booted from its journal.
    /// The clock keeps going from where it was (hive time is anchored in the journal).
    pub fn restart(&mut self) -> cohesix_pump::BootReport {
        let hal = MemHal::new(8)
            .with_net_capacity(64 * 1024)
            .with_store(self.hal.store().clone());
        hal.listen(NINEP_PORT);
        hal.listen(CONSOLE_PORT);
        let provision = Provision {
            keys: keys(),
            console_token: Some(TOKEN.to_vec()),
            platform: "test",
            hive_id: Some(0),
        };
        let manifest = self.pump.hive().manifest().clone();
        self.hal = hal;
        let (pump, report) =
            Pump::boot(&mut self.hal, manifest, provision).expect("journal reads back");
        self.pump = pump;
        self.turn();
        report
    }

    pub fn turn(&mut self) {
        self.pump.turn(&mut self.hal);
    }

    /// Turns until every connection has been serviced at least once.
    pub fn settle(&mut self) {
        let per_turn = self.pump.hive().manifest().pump.conns_per_turn as usize;
        let turns = self.pump.connections() / per_turn.max(1) + 20;
        for _ in 0..turns {
            self.turn();
        }
    }

    pub fn connect(&mut self) -> NineClient {
        let conn = self.hal.connect(NINEP_PORT).expect("564 is listening");
        let limits = Limits::from_manifest(self.pump.hive().manifest());
        NineClient {
            conn,
            codec: ClientCodec::new(limits),
            inbuf: Vec::new(),
            root: None,
        }
    }
}

pub fn queen_ticket(ticket_id: u64) -> String {
    let claims = Claims::new(1, ticket_id, Role::Queen, "operator", 0, 86_400_000);
    ticket::mint(&keys(), &claims).expect("mint")
}

/// A Secure9P client over a memory connection. `start_*` queues a request; `finish` reads the
/// reply after the hive has turned, so many clients can be in flight together.
pub struct NineClient {
    pub conn: MemConn,
    pub codec: ClientCodec,
    inbuf: Vec<u8>,
    pub root: Option<u32>,
}

pub type Reply = Result<Response, Error>;

impl NineClient {
    pub fn send(&mut self, build: impl FnOnce(&mut ClientCodec, &mut Vec<u8>)) {
        let mut out = Vec::new();
        build(&mut self.codec, &mut out);
        assert_eq!(
            self.conn.send(&out),
            out.len(),
            "memory pipe is large enough"
        );
    }

    /// The next reply, if one has arrived.
    pub fn poll(&mut self) -> Option<Reply> {
        self.conn.recv(&mut self.inbuf);
        let len = self.codec.frame_len(&self.inbuf).ok()??;
        if self.inbuf.len() < len {
            return None;
        }
        let frame: Vec<u8> = self.inbuf.drain(..len).collect();
        Some(match self.codec.parse(&frame) {
            Ok((_, response)) => Ok(response),
            Err(ClientError::Remote(error)) => Err(error),
            Err(other) => panic!("client protocol error: {other:?}"),
        })
    }

    pub fn wait(&mut self, hive: &mut TestHive) -> Reply {
        for _ in 0..64 {
            if let Some(reply) = self.poll() {
                return reply;
            }
            hive.turn();
        }
        panic!(
            "no reply after 64 turns (closed: {})",
            self.conn.is_closed()
        );
    }

    pub fn call(
        &mut self,
        hive: &mut TestHive,
        build: impl FnOnce(&mut ClientCodec, &mut Vec<u8>),
    ) -> Reply {
        self.send(build);
        self.wait(hive)
    }

    /// version + auth + ticket write + attach.
    pub fn attach(
        &mut self,
        hive: &mut TestHive,
        role: &str,
        uname: &str,
        ticket: &str,
    ) -> Result<(), Error> {
        self.call(hive, |c, out| {
            c.version(out).unwrap();
        })?;
        let mut afid = 0;
        self.call(hive, |c, out| {
            afid = c.auth(uname, role, out).unwrap().1;
        })?;
        let text = ticket.as_bytes().to_vec();
        self.call(hive, |c, out| {
            c.write(afid, 0, &text, out).unwrap();
        })?;
        let mut fid = 0;
        self.call(hive, |c, out| {
            fid = c.attach(Some(afid), uname, role, out).unwrap().1;
        })?;
        self.root = Some(fid);
        Ok(())
    }

    /// walk + open + (read | write) + clunk of one path; returns the data read or the count.
    pub fn open(&mut self, hive: &mut TestHive, path: &str, flags: u32) -> Result<u32, Error> {
        let root = self.root.expect("attached");
        let mut fid = 0;
        let depth = path.split('/').filter(|n| !n.is_empty()).count();
        let walked = self.call(hive, |c, out| {
            fid = c.walk_path(root, path, out).unwrap().1;
        })?;
        // A partial walk means the rest of the path does not exist (and no fid was made).
        if walked.into_qids().unwrap().len() < depth {
            return Err(Error::NotFound);
        }
        match self.call(hive, |c, out| {
            c.lopen(fid, flags, out).unwrap();
        }) {
            Ok(_) => Ok(fid),
            Err(e) => {
                let _ = self.call(hive, |c, out| {
                    c.clunk(fid, out).unwrap();
                });
                Err(e)
            }
        }
    }

    pub fn read_file(&mut self, hive: &mut TestHive, path: &str) -> Result<Vec<u8>, Error> {
        let fid = self.open(hive, path, 0)?;
        let data = self.call(hive, |c, out| {
            c.read(fid, 0, 8000, out).unwrap();
        });
        self.call(hive, |c, out| {
            c.clunk(fid, out).unwrap();
        })?;
        Ok(data?.into_data().unwrap())
    }

    pub fn write_file(
        &mut self,
        hive: &mut TestHive,
        path: &str,
        data: &[u8],
    ) -> Result<u32, Error> {
        let fid = self.open(hive, path, 1)?;
        let owned = data.to_vec();
        let count = self.call(hive, |c, out| {
            c.write(fid, 0, &owned, out).unwrap();
        });
        let _ = self.call(hive, |c, out| {
            c.clunk(fid, out).unwrap();
        });
        Ok(count?.into_count().unwrap())
    }
}

/// A TCP console client over a memory connection: length-prefixed frames in and out.
pub struct ConsoleClient {
    pub conn: MemConn,
    inbuf: Vec<u8>,
}

impl ConsoleClient {
    pub fn open(hive: &mut TestHive) -> Self {
        let conn = hive.hal.connect(CONSOLE_PORT).expect("31337 is listening");
        Self::over(conn)
    }

    /// A console connection from source address `ip`.
    pub fn open_from(hive: &mut TestHive, ip: [u8; 4]) -> Self {
        let conn = hive.hal.connect_from(CONSOLE_PORT, ip).expect("listening");
        Self::over(conn)
    }

    fn over(conn: MemConn) -> Self {
        Self {
            conn,
            inbuf: Vec::new(),
        }
    }

    pub fn send_frame(&mut self, line: &str) {
        let mut frame = ((line.len() + 4) as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(line.as_bytes());
        self.conn.send(&frame);
    }

    pub fn lines(&mut self) -> Vec<String> {
        self.conn.recv(&mut self.inbuf);
        let mut lines = Vec::new();
        while self.inbuf.len() >= 4 {
            let len = u32::from_le_bytes(self.inbuf[..4].try_into().unwrap()) as usize;
            if self.inbuf.len() < len {
                break;
            }
            let frame: Vec<u8> = self.inbuf.drain(..len).collect();
            lines.push(String::from_utf8(frame[4..].to_vec()).unwrap());
        }
        lines
    }

    pub fn say(&mut self, hive: &mut TestHive, line: &str) -> Vec<String> {
        self.send_frame(line);
        hive.settle();
        self.lines()
    }
}
