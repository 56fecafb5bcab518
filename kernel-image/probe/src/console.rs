//! A console-protocol client: 4-byte little-endian length (counting itself) + one UTF-8 line.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Console {
    stream: TcpStream,
}

impl Console {
    pub fn connect(addr: &str) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Self { stream })
    }

    pub fn send(&mut self, line: &str) -> Result<(), String> {
        let mut frame = ((line.len() + 4) as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(line.as_bytes());
        self.stream
            .write_all(&frame)
            .map_err(|e| format!("send: {e}"))
    }

    pub fn frame(&mut self) -> Result<String, String> {
        let mut len = [0u8; 4];
        self.stream
            .read_exact(&mut len)
            .map_err(|e| format!("read: {e}"))?;
        let len = u32::from_le_bytes(len) as usize;
        if !(4..=8192).contains(&len) {
            return Err(format!("bad frame length {len}"));
        }
        let mut body = vec![0u8; len - 4];
        self.stream
            .read_exact(&mut body)
            .map_err(|e| format!("read: {e}"))?;
        String::from_utf8(body).map_err(|_| "reply is not UTF-8".into())
    }

    /// One whole reply: lines up to the `OK`/`ERR` line, and for streams (`lines=`) up to `END`.
    pub fn reply(&mut self) -> Result<Vec<String>, String> {
        let mut lines = Vec::new();
        let mut streaming = false;
        loop {
            let line = self.frame()?;
            let done = if streaming {
                line == "END"
            } else if line.starts_with("ERR ") {
                true
            } else if line.starts_with("OK ") {
                streaming = line.contains(" lines=");
                !streaming
            } else {
                false
            };
            lines.push(line);
            if done {
                return Ok(lines);
            }
        }
    }

    pub fn say(&mut self, line: &str) -> Result<Vec<String>, String> {
        self.send(line)?;
        self.reply()
    }
}
