//! `/gpu/<id>/job` and `/gpu/<id>/status`: the lease holder submits jobs and appends ordered
//! status breadcrumbs; anyone reads them. A write without a live lease on that GPU is refused
//! `Perm` and audited, whatever the namespace policy let through.

use crate::{Hive, Refusal, RingRead};
use secure9p::Error;

/// The two append-only streams of a GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuStream {
    Job,
    Status,
}

impl GpuStream {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "job" => Some(GpuStream::Job),
            "status" => Some(GpuStream::Status),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GpuStream::Job => "job",
            GpuStream::Status => "status",
        }
    }
}

impl Hive {
    /// Appends one record for `worker`, which must hold a lease on `gpu` that has not lapsed.
    pub fn gpu_append(
        &mut self,
        gpu: &str,
        stream: GpuStream,
        worker: Option<&str>,
        data: &[u8],
        now_ms: u64,
    ) -> Result<usize, Refusal> {
        let result = self.gpu_push(gpu, stream, worker, data, now_ms);
        let who = worker.unwrap_or("-");
        match &result {
            Ok(_) if stream == GpuStream::Job => {
                let what = alloc::format!("gpu={gpu}");
                self.accepted(now_ms, who, "job", &what);
            }
            Ok(_) => {}
            Err(refusal) => self.refused(now_ms, who, stream.as_str(), *refusal),
        }
        result
    }

    fn gpu_push(
        &mut self,
        gpu: &str,
        stream: GpuStream,
        worker: Option<&str>,
        data: &[u8],
        now_ms: u64,
    ) -> Result<usize, Refusal> {
        let holds = worker.is_some_and(|w| self.gpu.broker.holds(w, gpu, now_ms));
        if !holds {
            return Err(Refusal::new(Error::Perm, "no-live-lease"));
        }
        let limit = self.manifest.gpu.stream_bytes as usize / 4;
        if data.is_empty() || data.len() > limit {
            return Err(Refusal::new(Error::TooBig, "record-size"));
        }
        let dev = self
            .gpu
            .broker
            .device_mut(gpu)
            .ok_or(Refusal::new(Error::NotFound, "no-such-gpu"))?;
        let ring = match stream {
            GpuStream::Job => &mut dev.job,
            GpuStream::Status => &mut dev.status,
        };
        // A record of at most a quarter ring always fits; older ones are dropped, in order.
        let kept = ring.push(data);
        debug_assert!(kept);
        Ok(data.len())
    }

    pub fn read_gpu_stream(
        &self,
        gpu: &str,
        stream: GpuStream,
        cursor: u64,
        max: usize,
    ) -> Option<RingRead> {
        let dev = self.gpu.broker.device(gpu)?;
        let ring = match stream {
            GpuStream::Job => &dev.job,
            GpuStream::Status => &dev.status,
        };
        Some(ring.read(cursor, max))
    }
}
