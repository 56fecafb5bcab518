//! `/shard/<s>/worker/<id>/`: each worker's telemetry ring, status, command queue and (for the
//! Queen) its ticket, sharded by the first byte of SHA-256(id).

use super::{Entry, Provider, Who};
use crate::NineDoor;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use hive::{Principal, RingRead};
use secure9p::Error;

const WORKER_FILES: [&str; 4] = ["ctl", "status", "telemetry", "ticket"];

fn worker_in<'a>(nd: &'a NineDoor, shard: &str, id: &str) -> Option<&'a hive::Worker> {
    nd.hive()
        .registry()
        .get(id)
        .filter(|w| w.shard.as_str() == shard)
}

pub(super) fn resolve(nd: &NineDoor, rest: &[&str]) -> Option<Entry> {
    let dir = Entry::dir(Provider::Shard);
    match rest {
        [] => Some(dir),
        [s] | [s, "worker"] => nd.hive().registry().has_shard(s).then_some(dir),
        [s, "worker", id] => worker_in(nd, s, id).map(|_| dir),
        [s, "worker", id, file] => {
            worker_in(nd, s, id)?;
            let entry = match *file {
                "telemetry" => Entry::stream(Provider::Shard, Who::Queen, Who::Owner),
                "ctl" => Entry::stream(Provider::Shard, Who::Anyone, Who::Queen),
                "status" => Entry::text(Provider::Shard, Who::Anyone),
                "ticket" => Entry::text(Provider::Shard, Who::Queen),
                _ => return None,
            };
            Some(entry.owned_by(id))
        }
        _ => None,
    }
}

pub(super) fn list(nd: &NineDoor, rest: &[&str]) -> Vec<String> {
    let registry = nd.hive().registry();
    match rest {
        [] => registry
            .shards()
            .map(|s| String::from(s.as_str()))
            .collect(),
        [_] => alloc::vec![String::from("worker")],
        [s, "worker"] => registry.in_shard(s).map(|w| w.id.clone()).collect(),
        [_, "worker", _] => WORKER_FILES.iter().map(|f| String::from(*f)).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn text(nd: &NineDoor, rest: &[&str]) -> Option<String> {
    let [s, "worker", id, file] = rest else {
        return None;
    };
    let w = worker_in(nd, s, id)?;
    let meter = nd.hive().worker_meter(w);
    let mut out = String::new();
    match *file {
        "ticket" => {
            out.push_str(&w.ticket);
            out.push('\n');
        }
        _ => {
            let limit =
                |v: Option<u64>| v.map_or_else(|| String::from("-"), |v| alloc::format!("{v}"));
            let _ = writeln!(
                out,
                "id={} kind={} state={} reason={} shard={} site={} ticket={} ops={}/{} ticks={}/{} expires_ms={} last_seen_ms={} records={} sessions={}",
                w.id,
                w.kind.as_str(),
                w.state.as_str(),
                w.state_reason,
                w.shard.as_str(),
                w.site.as_deref().unwrap_or("-"),
                w.ticket_id,
                meter.ops,
                limit(w.budget.ops),
                meter.ticks,
                limit(w.budget.ticks),
                w.expires_at_ms,
                w.last_seen_ms,
                w.records,
                w.sessions,
            );
        }
    }
    Some(out)
}

pub(super) fn stream(nd: &NineDoor, rest: &[&str], cursor: u64, max: usize) -> Option<RingRead> {
    match rest {
        [_, "worker", id, "telemetry"] => nd.hive().read_telemetry(id, cursor, max),
        [_, "worker", id, "ctl"] => nd.hive().read_worker_commands(id, cursor, max),
        _ => None,
    }
}

pub(super) fn write(
    nd: &mut NineDoor,
    rest: &[&str],
    principal: &Principal,
    data: &[u8],
    now_ms: u64,
) -> Result<usize, Error> {
    let who = principal.subject.as_str();
    let result = match rest {
        [_, "worker", id, "telemetry"] => nd
            .hive_mut()
            .append_telemetry(id, data, now_ms)
            .inspect_err(|refusal| {
                nd.hive_mut().refused(now_ms, who, "telemetry", *refusal);
            }),
        [_, "worker", id, "ctl"] => nd.hive_mut().push_worker_command(id, data, who, now_ms),
        _ => return Err(Error::Perm),
    };
    result.map_err(|r| r.error)
}
