//! The serial console of a hosted hive: the process's stdin/stdout, or nothing.
//!
//! Reading stdin blocks, and the HAL must not, so a reader thread moves bytes into a bounded
//! channel and `console_read` only drains it.

use std::io::{Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::thread;

use hal::Console;

/// Chunks buffered between the reader thread and the pump; a full channel makes the reader
/// wait, which is the back-pressure a UART gives.
const CHUNKS_BUFFERED: usize = 64;

pub struct StdConsole {
    input: Option<Receiver<Vec<u8>>>,
    /// Bytes of a chunk the last read could not take.
    carry: Vec<u8>,
    output: bool,
}

impl StdConsole {
    /// No console: reads find nothing and writes go nowhere.
    pub fn none() -> Self {
        Self {
            input: None,
            carry: Vec::new(),
            output: false,
        }
    }

    /// The process's stdin and stdout.
    pub fn stdio() -> Self {
        let (tx, rx) = sync_channel(CHUNKS_BUFFERED);
        let spawned = thread::Builder::new()
            .name(String::from("console-stdin"))
            .spawn(move || {
                let mut stdin = std::io::stdin().lock();
                let mut buf = [0u8; 256];
                loop {
                    match stdin.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if tx.send(buf[..n].to_vec()).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        Self {
            input: spawned.ok().map(|_| rx),
            carry: Vec::new(),
            output: true,
        }
    }
}

impl Console for StdConsole {
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        if self.carry.is_empty() {
            let Some(input) = &self.input else {
                return 0;
            };
            match input.try_recv() {
                Ok(chunk) => self.carry = chunk,
                Err(TryRecvError::Empty) => return 0,
                Err(TryRecvError::Disconnected) => {
                    self.input = None;
                    return 0;
                }
            }
        }
        let n = buf.len().min(self.carry.len());
        buf[..n].copy_from_slice(&self.carry[..n]);
        self.carry.drain(..n);
        n
    }

    fn console_write(&mut self, bytes: &[u8]) {
        if self.output {
            let mut out = std::io::stdout().lock();
            // A closed stdout leaves the hive running without a console, like a cut UART.
            let _ = out.write_all(bytes).and_then(|()| out.flush());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_console_reads_nothing() {
        let mut console = StdConsole::none();
        let mut buf = [0u8; 8];
        assert_eq!(console.console_read(&mut buf), 0);
        console.console_write(b"dropped");
    }
}
