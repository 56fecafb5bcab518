//! A console-protocol client over simulated TCP (docs/interfaces.md §2): length-prefixed lines,
//! `AUTH` then `ATTACH`, and replies collected up to their status line (or `END` for the
//! streaming verbs).

use console::frame::{encode_frame, FrameDecoder};
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use turmoil::net::TcpStream;

/// Verbs whose `OK` line is followed by data lines and `END`.
const STREAMING: [&str; 4] = ["LS", "CAT", "TAIL", "LOG"];

pub struct ConsoleClient {
    stream: TcpStream,
    decoder: FrameDecoder,
    chunk: Vec<u8>,
}

fn broken(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

impl ConsoleClient {
    /// Connects, presents the console token and attaches as the queen with `ticket`.
    pub async fn open(host: &str, port: u16, token: &[u8], ticket: &str) -> io::Result<Self> {
        let stream = TcpStream::connect((host, port)).await?;
        let mut client = Self {
            stream,
            decoder: FrameDecoder::with_bounds(8192, 8188, 64 * 1024),
            chunk: vec![0u8; 8192],
        };
        let token = String::from_utf8_lossy(token).to_string();
        let auth = client.call(&format!("AUTH {token}"), "AUTH").await?;
        if !auth.last().is_some_and(|l| l.starts_with("OK ")) {
            return Err(broken("console token refused"));
        }
        let attach = client
            .call(&format!("ATTACH queen {ticket}"), "ATTACH")
            .await?;
        if !attach.last().is_some_and(|l| l.starts_with("OK ")) {
            return Err(broken("queen attach refused"));
        }
        Ok(client)
    }

    /// True when the Queen has hung up (or reset) since the last reply. The console never
    /// speaks unasked, so any bytes waiting are kept for the next reply.
    pub fn is_closed(&mut self) -> bool {
        let mut buf = [0u8; 1024];
        // Read no more than the decoder holds, so nothing read is dropped.
        let room = self.decoder.room().min(buf.len());
        if room == 0 {
            return false;
        }
        match crate::hal::try_read(&mut self.stream, &mut buf[..room]) {
            Ok(n) => {
                let taken = self.decoder.push(&buf[..n]);
                debug_assert_eq!(taken, n);
                false
            }
            Err(_) => true,
        }
    }

    pub async fn send(&mut self, line: &str) -> io::Result<()> {
        let mut out = Vec::new();
        encode_frame(line, &mut out);
        self.stream.write_all(&out).await
    }

    /// The lines of one reply to a command labelled `label`.
    pub async fn reply(&mut self, label: &str) -> io::Result<Vec<String>> {
        let streaming = STREAMING.contains(&label);
        let mut lines: Vec<String> = Vec::new();
        loop {
            while let Some(line) = self.decoder.next_line(true).map_err(|_| broken("frame"))? {
                let status = line.starts_with("OK ") || line.starts_with("ERR ");
                let first_status = status && !lines.iter().any(|l| is_status(l));
                let done = (first_status && (!streaming || line.starts_with("ERR ")))
                    || (line == "END" && lines.iter().any(|l| is_status(l)));
                lines.push(line);
                if done {
                    return Ok(lines);
                }
            }
            let n = self.stream.read(&mut self.chunk).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "console closed",
                ));
            }
            let mut offset = 0;
            while offset < n {
                let taken = self.decoder.push(&self.chunk[offset..n]);
                if taken == 0 {
                    return Err(broken("reply larger than the client buffer"));
                }
                offset += taken;
            }
        }
    }

    pub async fn call(&mut self, line: &str, label: &str) -> io::Result<Vec<String>> {
        self.send(line).await?;
        self.reply(label).await
    }
}

fn is_status(line: &str) -> bool {
    line.starts_with("OK ") || line.starts_with("ERR ")
}
