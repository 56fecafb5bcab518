//! `/gpu/<id>/{info,lease,job,status,ctl}` (docs/interfaces.md §8.4): one directory per GPU a
//! bridge published. `job` and `status` take appends only from the holder of a live lease on
//! that GPU (the hive checks it, so a lapsed or preempted lease is refused at once); `ctl`
//! renews or releases that GPU's lease.

use super::{Entry, Provider, Who};
use crate::NineDoor;
use alloc::string::String;
use alloc::vec::Vec;
use hive::gpu::GpuStream;
use hive::{Principal, RingRead};
use secure9p::Error;

const FILES: [&str; 5] = ["ctl", "info", "job", "lease", "status"];

pub(super) fn resolve(nd: &NineDoor, rest: &[&str]) -> Option<Entry> {
    let gpus = nd.hive().gpus();
    match rest {
        [] => Some(Entry::dir(Provider::Gpu)),
        [id] => gpus.broker.device(id).map(|_| Entry::dir(Provider::Gpu)),
        [id, file] => {
            gpus.broker.device(id)?;
            Some(match *file {
                "info" | "lease" => Entry::text(Provider::Gpu, Who::Anyone),
                "job" | "status" => Entry::stream(Provider::Gpu, Who::Anyone, Who::Anyone),
                "ctl" => Entry {
                    read: Who::Anyone,
                    ..Entry::control(Provider::Gpu, Who::Anyone)
                },
                _ => return None,
            })
        }
        _ => None,
    }
}

pub(super) fn list(nd: &NineDoor, rest: &[&str]) -> Vec<String> {
    match rest {
        [] => nd
            .hive()
            .gpus()
            .broker
            .devices()
            .map(|d| d.id.clone())
            .collect(),
        [_] => FILES.iter().map(|f| String::from(*f)).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn text(nd: &NineDoor, rest: &[&str]) -> Option<String> {
    match rest {
        [id, "info"] => nd.hive().gpu_info(id),
        [id, "lease"] => nd.hive().gpu_lease(id),
        _ => None,
    }
}

pub(super) fn stream(nd: &NineDoor, rest: &[&str], cursor: u64, max: usize) -> Option<RingRead> {
    let [id, file] = rest else {
        return None;
    };
    nd.hive()
        .read_gpu_stream(id, GpuStream::parse(file)?, cursor, max)
}

pub(super) fn write(
    nd: &mut NineDoor,
    rest: &[&str],
    principal: &Principal,
    data: &[u8],
    now_ms: u64,
) -> Result<(usize, Option<String>), Error> {
    match rest {
        [id, "ctl"] => super::queen::lines(nd, data, now_ms, |nd, line| {
            nd.hive_mut().lease_ctl(line, principal, Some(id), now_ms)
        }),
        [id, file] => {
            let stream = GpuStream::parse(file).ok_or(Error::Perm)?;
            let worker = principal.worker_id();
            nd.hive_mut()
                .gpu_append(id, stream, worker, data, now_ms)
                .map(|n| (n, None))
                .map_err(|r| r.error)
        }
        _ => Err(Error::Perm),
    }
}
