//! GPU leases and their scheduler (docs/interfaces.md §8.4). `broker` decides grants and
//! preemptions, `queue` orders waiting requests, `ctl` applies control lines to the hive
//! (journaling every decision before it is acknowledged), `render` writes the `/proc` views.

pub mod broker;
mod ctl;
pub mod grammar;
pub mod queue;
mod render;
mod replay;
mod streams;

pub use broker::{Ask, Broker, Decision, Device, Lease, Preemption, Stats};
pub use queue::{Queue, Request};
pub use streams::GpuStream;

use manifest::Manifest;

/// Requests the scheduler may pass over in one decision round when the best one cannot be
/// placed yet (a smaller one may still fit a free GPU); bounds a round's cost.
pub const DECIDE_SKIPS: usize = 8;

/// The lease broker and its queue, as the hive holds them.
pub struct Gpus {
    pub broker: Broker,
    pub queue: Queue,
    /// Capacity or the queue changed since the scheduler last ran.
    pub(crate) dirty: bool,
}

impl Gpus {
    pub fn new(manifest: &Manifest) -> Self {
        Self {
            broker: Broker::new(manifest.gpu.clone()),
            queue: Queue::new(manifest.schedule.age_step_ms),
            dirty: false,
        }
    }

    /// Re-places a tenant's queue head after its leases or its queue changed.
    pub fn refresh(&mut self, tenant: &str) {
        let held = self.broker.held(tenant);
        let eligible = held < self.broker.quota(tenant);
        self.queue.refresh(tenant, held, eligible);
    }
}

#[cfg(test)]
mod tests;
