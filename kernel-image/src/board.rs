//! What the generic boot needs from a platform's machine, beyond the HAL traits themselves.

use alloc::string::String;
use alloc::vec::Vec;

pub use cohesix_kernel_image::plan::BlobFault;

use hal::Hal;
use hal_smoltcp::{Ipv4Cidr, NetConfig};

/// The network came up as asked: the station address to report.
pub struct NetUp {
    pub mac: [u8; 6],
}

pub trait Board {
    type Hal: Hal;

    fn hal(&mut self) -> &mut Self::Hal;

    /// The raw provisioning blob (see `hal_virt::provision` for its format).
    fn provision_blob(&mut self) -> Result<Vec<u8>, BlobFault>;

    /// The interface address and gateway used when the blob names none.
    fn default_address(&self) -> (Ipv4Cidr, Option<[u8; 4]>);

    /// Keys the machine's entropy with the provisioned boot seed.
    fn seed_entropy(&mut self, seed: Option<[u8; 32]>);

    /// Brings the NIC up under `config` and listens on `ports`. Called at most once; without
    /// it the machine has no network at all.
    fn start_network(&mut self, config: NetConfig, ports: &[u16]) -> Result<NetUp, String>;

    /// Moves frames; `true` if anything happened.
    fn poll_net(&mut self) -> bool;

    /// Waits up to `max_us` for the NIC to signal when the machine can sleep; otherwise
    /// returns at once and the loop keeps polling.
    fn idle(&mut self, max_us: u64);

    /// How the loop waits when there is nothing to do: `wfi` or `poll`.
    fn idle_mode(&self) -> &'static str;
}
