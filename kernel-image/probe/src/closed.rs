//! `closed`: proves a port is shut on the hive side. Behind QEMU's port forwarding the host
//! side always accepts, so "closed" means: the connection ends (EOF or reset) without a reply.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::opts::Opts;

pub fn run(opts: &Opts) -> Result<(), String> {
    let addr = opts.console_addr();
    let mut stream = match TcpStream::connect(&addr) {
        Ok(s) => s,
        Err(e) => {
            println!("closed: {addr} refused the connection ({e})");
            return Ok(());
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let line = b"AUTH probe-token-probe";
    let mut frame = ((line.len() + 4) as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(line);
    // A write may already fail on a reset connection; that is a closed port too.
    let _ = stream.write_all(&frame);
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => {
            println!("closed: {addr} hung up without a reply");
            Ok(())
        }
        Err(e)
            if e.kind() != std::io::ErrorKind::WouldBlock
                && e.kind() != std::io::ErrorKind::TimedOut =>
        {
            println!("closed: {addr} reset ({e})");
            Ok(())
        }
        Ok(n) => Err(format!("{addr} answered {n} bytes: the port is open")),
        Err(_) => Err(format!("{addr} neither answered nor hung up within 5 s")),
    }
}
