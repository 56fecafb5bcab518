//! Connection options shared by both clients.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::error::ClientError;

/// Deadlines of one client. A call that misses its deadline fails with `Timeout` and leaves
/// the connection unusable (a late reply would be mistaken for the next one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the TCP connection.
    pub connect: Duration,
    /// Waiting for the complete reply to one request.
    pub reply: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            reply: Duration::from_secs(10),
        }
    }
}

/// Connects to the first address `addr` resolves to that accepts, within `timeout` each.
pub(crate) fn connect(
    addr: impl ToSocketAddrs,
    timeout: Duration,
) -> Result<TcpStream, ClientError> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                // Requests are small and latency-bound.
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => ClientError::from_io("connect", e),
        None => ClientError::Protocol(String::from("address resolves to nothing")),
    })
}
