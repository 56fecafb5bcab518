//! In-memory connections for clients that live in the hive's own process (the heartbeat agents
//! of `cohsh serve`). A real loopback TCP connection costs two file descriptors, so 10,000
//! in-process agents would need 20,000; a local pipe costs none. The hive side sees local
//! pipes through the same `Net` trait as sockets (`StdNet::with_local`): `poll_accept` on the
//! port a pipe was opened to, `recv`, `send`, `close`.
//!
//! Each direction holds at most `PIPE_BYTES` (a full pipe takes nothing, like a full socket
//! buffer) and at most `BACKLOG` pipes wait to be accepted, so nothing here grows without
//! bound. Each side is woken through a `mio::Waker` only when its ready set goes from empty to
//! non-empty, so a burst of replies costs one wake-up.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use mio::Waker;

/// Bytes buffered per direction of one pipe.
pub const PIPE_BYTES: usize = 64 * 1024;
/// Pipes opened but not yet accepted by the hive.
pub const BACKLOG: usize = 4096;

#[derive(Default)]
struct Pipe {
    to_hive: VecDeque<u8>,
    to_client: VecDeque<u8>,
    hive_closed: bool,
    client_closed: bool,
}

#[derive(Default)]
struct Shared {
    pipes: BTreeMap<u64, Pipe>,
    next: u64,
    /// `(port, pipe)` opened by a client, waiting for `poll_accept`.
    backlog: VecDeque<(u16, u64)>,
    /// Pipes with bytes or a hang-up the hive has not read.
    hive_ready: BTreeSet<u64>,
    /// Pipes with bytes or a hang-up the client has not read.
    client_ready: BTreeSet<u64>,
    hive_waker: Option<Arc<Waker>>,
    client_waker: Option<Arc<Waker>>,
}

impl Shared {
    fn hive_idle(&self) -> bool {
        self.backlog.is_empty() && self.hive_ready.is_empty()
    }

    fn wake_hive(&self) {
        if let Some(w) = &self.hive_waker {
            let _ = w.wake();
        }
    }

    fn wake_client(&self) {
        if let Some(w) = &self.client_waker {
            let _ = w.wake();
        }
    }
}

/// The shared table of local pipes; clone it to hand one side to another thread.
#[derive(Clone, Default)]
pub struct LocalLinks {
    shared: Arc<Mutex<Shared>>,
}

fn copy_out(from: &mut VecDeque<u8>, buf: &mut [u8]) -> usize {
    let n = buf.len().min(from.len());
    for (dst, src) in buf.iter_mut().zip(from.drain(..n)) {
        *dst = src;
    }
    n
}

fn copy_in(to: &mut VecDeque<u8>, buf: &[u8]) -> usize {
    let n = buf.len().min(PIPE_BYTES.saturating_sub(to.len()));
    to.extend(&buf[..n]);
    n
}

impl LocalLinks {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panicking holder leaves the byte queues consistent (no half-done update spans a
        // panic point), so a poisoned lock is still usable.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Who wakes the hive's readiness wait when a client writes (set by `StdNet::with_local`).
    pub fn set_hive_waker(&self, waker: Arc<Waker>) {
        self.lock().hive_waker = Some(waker);
    }

    /// Who wakes the clients' loop when the hive replies or hangs up.
    pub fn set_client_waker(&self, waker: Arc<Waker>) {
        self.lock().client_waker = Some(waker);
    }

    // ---- client side ----

    /// Opens a pipe to a logical port; `WouldBlock` while `BACKLOG` pipes wait to be accepted.
    pub fn connect(&self, port: u16) -> io::Result<u64> {
        let mut s = self.lock();
        if s.backlog.len() >= BACKLOG {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let id = s.next;
        s.next += 1;
        s.pipes.insert(id, Pipe::default());
        let was_idle = s.hive_idle();
        s.backlog.push_back((port, id));
        if was_idle {
            s.wake_hive();
        }
        Ok(id)
    }

    /// Pipes with something for the client to read; the set is emptied.
    pub fn take_client_ready(&self) -> Vec<u64> {
        let mut s = self.lock();
        let ready = std::mem::take(&mut s.client_ready);
        ready.into_iter().collect()
    }

    /// Like a non-blocking socket: `WouldBlock` when empty, `Ok(0)` once the hive hung up.
    pub fn client_read(&self, id: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut s = self.lock();
        let pipe = s.pipes.get_mut(&id).ok_or(io::ErrorKind::NotConnected)?;
        let n = copy_out(&mut pipe.to_client, buf);
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        if pipe.hive_closed {
            Ok(0)
        } else {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    /// Queues bytes for the hive; `WouldBlock` when the pipe is full.
    pub fn client_write(&self, id: u64, buf: &[u8]) -> io::Result<usize> {
        let mut s = self.lock();
        let pipe = s.pipes.get_mut(&id).ok_or(io::ErrorKind::NotConnected)?;
        if pipe.hive_closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let n = copy_in(&mut pipe.to_hive, buf);
        if n == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let was_idle = s.hive_idle();
        s.hive_ready.insert(id);
        if was_idle {
            s.wake_hive();
        }
        Ok(n)
    }

    /// The client is done with the pipe: the hive reads what is left, then a hang-up.
    pub fn client_close(&self, id: u64) {
        let mut s = self.lock();
        let Some(pipe) = s.pipes.get_mut(&id) else {
            return;
        };
        pipe.client_closed = true;
        if pipe.hive_closed {
            s.pipes.remove(&id);
            s.client_ready.remove(&id);
            s.hive_ready.remove(&id);
            return;
        }
        let was_idle = s.hive_idle();
        s.hive_ready.insert(id);
        if was_idle {
            s.wake_hive();
        }
    }

    // ---- hive side ----

    /// True when a pipe waits to be accepted or has bytes or a hang-up for the hive.
    pub(crate) fn hive_pending(&self) -> bool {
        !self.lock().hive_idle()
    }

    pub(crate) fn accept(&self, port: u16) -> Option<u64> {
        let mut s = self.lock();
        let at = s.backlog.iter().position(|(p, _)| *p == port)?;
        let (_, id) = s.backlog.remove(at)?;
        // Bytes written before the accept are found by the first read.
        s.hive_ready.insert(id);
        Some(id)
    }

    /// `Ok(None)` when the client hung up and everything was read.
    pub(crate) fn hive_read(&self, id: u64, buf: &mut [u8]) -> Option<Option<usize>> {
        let mut s = self.lock();
        let pipe = s.pipes.get_mut(&id)?;
        let n = copy_out(&mut pipe.to_hive, buf);
        let drained = pipe.to_hive.is_empty();
        let gone = drained && pipe.client_closed;
        if drained && !gone {
            s.hive_ready.remove(&id);
        }
        if n == 0 && gone {
            return Some(None);
        }
        Some(Some(n))
    }

    /// `None` when the pipe is unknown or its client has gone.
    pub(crate) fn hive_write(&self, id: u64, buf: &[u8]) -> Option<usize> {
        let mut s = self.lock();
        let pipe = s.pipes.get_mut(&id)?;
        if pipe.client_closed {
            return None;
        }
        let n = copy_in(&mut pipe.to_client, buf);
        if n > 0 {
            let was_empty = s.client_ready.is_empty();
            s.client_ready.insert(id);
            if was_empty {
                s.wake_client();
            }
        }
        Some(n)
    }

    pub(crate) fn hive_close(&self, id: u64) {
        let mut s = self.lock();
        let Some(pipe) = s.pipes.get_mut(&id) else {
            return;
        };
        pipe.hive_closed = true;
        let client_closed = pipe.client_closed;
        s.hive_ready.remove(&id);
        if client_closed {
            s.pipes.remove(&id);
            s.client_ready.remove(&id);
            return;
        }
        let was_empty = s.client_ready.is_empty();
        s.client_ready.insert(id);
        if was_empty {
            s.wake_client();
        }
    }

    /// Pipes open now (either side still holding them).
    pub fn open(&self) -> usize {
        self.lock().pipes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_flow_both_ways_and_hang_ups_are_seen() {
        let links = LocalLinks::new();
        assert!(!links.hive_pending());
        let id = links.connect(564).unwrap();
        assert!(links.hive_pending());
        assert_eq!(
            links.accept(31337),
            None,
            "another port's pipe is not taken"
        );
        assert_eq!(links.accept(564), Some(id));
        assert_eq!(links.client_write(id, b"Tversion").unwrap(), 8);
        let mut buf = [0u8; 16];
        assert_eq!(links.hive_read(id, &mut buf), Some(Some(8)));
        assert_eq!(&buf[..8], b"Tversion");
        assert!(!links.hive_pending(), "drained");
        assert_eq!(links.hive_write(id, b"Rversion"), Some(8));
        assert_eq!(links.take_client_ready(), vec![id]);
        assert_eq!(links.client_read(id, &mut buf).unwrap(), 8);
        let err = links.client_read(id, &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        links.client_close(id);
        assert_eq!(links.hive_read(id, &mut buf), Some(None));
        links.hive_close(id);
        assert_eq!(links.open(), 0);
    }

    #[test]
    fn a_full_pipe_takes_nothing_more() {
        let links = LocalLinks::new();
        let id = links.connect(564).unwrap();
        links.accept(564).unwrap();
        let big = vec![7u8; PIPE_BYTES + 10];
        assert_eq!(links.client_write(id, &big).unwrap(), PIPE_BYTES);
        let err = links.client_write(id, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(links.hive_write(id, &big), Some(PIPE_BYTES));
        assert_eq!(links.hive_write(id, b"x"), Some(0));
        links.hive_close(id);
        let mut buf = vec![0u8; PIPE_BYTES];
        assert_eq!(links.client_read(id, &mut buf).unwrap(), PIPE_BYTES);
        assert_eq!(links.client_read(id, &mut buf).unwrap(), 0, "hung up");
    }
}
