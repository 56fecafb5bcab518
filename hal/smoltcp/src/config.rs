//! Addressing and the bounds of the TCP/IP adapter: how many sockets, how large their buffers,
//! how much work one poll may do.

/// An IPv4 address with its prefix length (`10.0.2.15/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Cidr {
    pub addr: [u8; 4],
    pub prefix_len: u8,
}

/// Everything `SmolNet` needs besides the device. Every field is a bound or an address; none
/// grows at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConfig {
    /// The interface address.
    pub ip: Ipv4Cidr,
    /// The default gateway, if the hive is reached from outside its subnet.
    pub gateway: Option<[u8; 4]>,
    /// Listening sockets kept ready per port: how many handshakes may complete before the
    /// pump accepts them. Several clients can attach at the same moment up to this number.
    pub backlog: usize,
    /// TCP sockets of every kind at once (listening, open, closing). The hard memory bound:
    /// at most `sockets_max * (rx_buffer + tx_buffer)` bytes of socket buffers.
    pub sockets_max: usize,
    /// Receive buffer per socket (also the most the peer may have in flight).
    pub rx_buffer: usize,
    /// Transmit buffer per socket (`send` accepts at most what fits).
    pub tx_buffer: usize,
    /// Frames taken from the device per poll, so a flood cannot starve the pump.
    pub frames_per_poll: usize,
    /// Seed of the stack's initial sequence numbers and ephemeral choices.
    pub seed: u64,
    /// A connection whose peer stops acknowledging for this long is reset.
    pub timeout_ms: u64,
    /// Keep-alive probe interval on open connections, to notice peers that vanished.
    pub keep_alive_ms: Option<u64>,
    /// How long a connection we closed may spend finishing its FIN exchange before it is
    /// reset and its socket reused.
    pub linger_ms: u64,
}

impl NetConfig {
    /// Defaults sized for a hive: 4 listeners per port, 64 sockets of 16 KiB + 16 KiB.
    pub fn new(ip: Ipv4Cidr) -> Self {
        Self {
            ip,
            gateway: None,
            backlog: 4,
            sockets_max: 64,
            rx_buffer: 16 * 1024,
            tx_buffer: 16 * 1024,
            frames_per_poll: 64,
            seed: 0,
            timeout_ms: 30_000,
            keep_alive_ms: Some(10_000),
            linger_ms: 2_000,
        }
    }

    /// Socket buffer memory the configuration can pin at most.
    pub fn buffer_bytes_max(&self) -> usize {
        self.sockets_max
            .saturating_mul(self.rx_buffer.saturating_add(self.tx_buffer))
    }
}
