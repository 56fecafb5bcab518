//! Checkpoints: a periodic line per hive summarising the Queen's state with digests, so two
//! transcripts that agree on every checkpoint agree on the whole namespace, while bulk
//! telemetry stays out of the transcript.

use crate::queen::AUDIT_LOG;
use crate::transcript::digest;
use crate::world::World;
use pump::Pump;
use sha2::{Digest, Sha256};
use std::fmt::Write;
use worker::AgentState;

/// Bytes the Queen holds for connections, sessions and workers.
pub fn queen_heap(pump: &Pump) -> usize {
    pump.ninep_heap_bytes() + pump.ninedoor().session_heap_bytes() + pump.hive().worker_heap_bytes()
}

/// Agents of one hive by state: (online, cut, revoked, other).
pub fn agent_counts(world: &World, hive: usize) -> (usize, usize, usize, usize) {
    let mut counts = (0, 0, 0, 0);
    for site in world.sites_of(hive) {
        for view in world.sites[site].agents.borrow().values() {
            match view.state {
                AgentState::Online => counts.0 += 1,
                AgentState::Cut(_) => counts.1 += 1,
                AgentState::Revoked(_) => counts.2 += 1,
                _ => counts.3 += 1,
            }
        }
    }
    counts
}

/// Records one `check` line per hive.
pub fn record(world: &World) {
    for (index, cell) in world.hives.iter().enumerate() {
        let journal = cell.store.log(AUDIT_LOG);
        let journal_digest = digest(&journal.concat());
        let (a_on, a_cut, a_rev, a_other) = agent_counts(world, index);
        let mut fields = Vec::new();
        match cell.pump.borrow().as_ref() {
            Some(pump) => {
                let registry = pump.hive().registry();
                let (pending, online, offline) = registry.counts();
                let records: u64 = registry.iter().map(|w| w.records).sum();
                fields.push(("queen", "up".to_string()));
                fields.push(("workers", registry.len().to_string()));
                fields.push(("pending", pending.to_string()));
                fields.push(("online", online.to_string()));
                fields.push(("offline", offline.to_string()));
                fields.push(("sessions", pump.ninedoor().sessions().count().to_string()));
                fields.push(("records", records.to_string()));
                fields.push(("telemetry", telemetry_digest(pump)));
                fields.push(("ns", namespace_digest(pump)));
                fields.push((
                    "lifecycle",
                    pump.hive().lifecycle().state.as_str().to_string(),
                ));
                fields.push(("mem", queen_heap(pump).to_string()));
            }
            None => fields.push(("queen", "down".to_string())),
        }
        fields.push(("agents_online", a_on.to_string()));
        fields.push(("agents_cut", a_cut.to_string()));
        fields.push(("agents_revoked", a_rev.to_string()));
        if a_other > 0 {
            fields.push(("agents_other", a_other.to_string()));
        }
        fields.push(("journal", journal.len().to_string()));
        fields.push(("journal_digest", journal_digest));
        world.record(&cell.name, "check", "checkpoint", None, fields);
    }
}

/// Every worker's telemetry ring, in id order.
pub fn telemetry_digest(pump: &Pump) -> String {
    let mut hasher = Sha256::new();
    for worker in pump.hive().registry().iter() {
        let read = worker.telemetry.read(0, usize::MAX);
        hasher.update(worker.id.as_bytes());
        hasher.update(read.next.to_le_bytes());
        hasher.update(&read.data);
    }
    hex::encode(&hasher.finalize()[..8])
}

/// The Queen's namespace as a listing: lifecycle, each worker's directory with its state,
/// site, record count and ticket id, and the session table's shape.
pub fn namespace_digest(pump: &Pump) -> String {
    let hive = pump.hive();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "/proc/lifecycle/state {}",
        hive.lifecycle().state.as_str()
    );
    for w in hive.registry().iter() {
        let _ = writeln!(
            text,
            "/shard/{}/worker/{} {} {} {} {}",
            w.shard.as_str(),
            w.id,
            w.state.as_str(),
            w.site.as_deref().unwrap_or("-"),
            w.records,
            w.ticket_id
        );
    }
    for (sid, info) in pump.ninedoor().sessions() {
        let owner = info.principal.as_ref().map_or("-", |p| p.subject.as_str());
        let _ = writeln!(
            text,
            "/proc/9p/session/{} {} {}",
            sid.0,
            info.state.as_str(),
            owner
        );
    }
    digest(text.as_bytes())
}
