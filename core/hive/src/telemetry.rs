//! Telemetry ingest (docs/interfaces.md §7): whole records into per-worker rings.

use crate::registry::RegistryState;
use crate::{Hive, Refusal, RingRead};
use secure9p::Error;

impl Hive {
    /// Appends one record to a worker's telemetry ring. Records are one text line (UTF-8, at
    /// most one trailing newline) or one CBOR map frame; anything else is refused.
    pub fn append_telemetry(
        &mut self,
        id: &str,
        record: &[u8],
        now_ms: u64,
    ) -> Result<usize, Refusal> {
        if !self.lifecycle.state.accepts_telemetry() {
            return Err(Refusal::new(Error::Cut, "lifecycle"));
        }
        if record.len() > self.manifest.telemetry.record_max as usize {
            return Err(Refusal::new(Error::TooBig, "record-too-big"));
        }
        if !well_formed(record) {
            return Err(Refusal::new(Error::Invalid, "record-malformed"));
        }
        let worker = self
            .registry
            .get_mut(id)
            .ok_or(Refusal::new(Error::Closed, "no-such-worker"))?;
        if worker
            .meter
            .charge_bytes(&worker.budget, record.len() as u64)
            .is_err()
        {
            return Err(Refusal::new(Error::Quota, "budget-bytes"));
        }
        if !worker.telemetry.push(record) {
            return Err(Refusal::new(Error::TooBig, "record-too-big"));
        }
        worker.records += 1;
        worker.last_seen_ms = now_ms;
        if worker.state == RegistryState::Offline && worker.sessions > 0 {
            self.set_worker_state(id, RegistryState::Online, "heard", now_ms);
        }
        Ok(record.len())
    }

    /// Reads a worker's telemetry from an absolute cursor.
    pub fn read_telemetry(&self, id: &str, cursor: u64, max: usize) -> Option<RingRead> {
        Some(self.registry.get(id)?.telemetry.read(cursor, max))
    }
}

fn well_formed(record: &[u8]) -> bool {
    match record.first() {
        None => false,
        // CBOR major type 5 (map): a `{schema, seq, t_ms, kind, fields}` frame.
        Some(0xa0..=0xbf) => true,
        Some(_) => {
            let body = record.strip_suffix(b"\n").unwrap_or(record);
            !body.is_empty()
                && core::str::from_utf8(body).is_ok()
                && !body.iter().any(|&b| b == b'\n' || b == 0)
        }
    }
}

impl Hive {
    /// Queues one command line for a worker (`/shard/<s>/worker/<id>/ctl`).
    pub fn push_worker_command(
        &mut self,
        id: &str,
        line: &[u8],
        who: &str,
        now_ms: u64,
    ) -> Result<usize, Refusal> {
        let result = self.queue_command(id, line);
        match result {
            Ok(_) => {
                let what = alloc::format!("worker-ctl id={id}");
                self.accepted(now_ms, who, "ctl", &what);
            }
            Err(refusal) => self.refused(now_ms, who, "worker-ctl", refusal),
        }
        result
    }

    pub(crate) fn queue_command(&mut self, id: &str, line: &[u8]) -> Result<usize, Refusal> {
        if line.len() > crate::ctl::WORKER_COMMANDS_BYTES / 4 {
            return Err(Refusal::new(Error::TooBig, "command-too-big"));
        }
        if !well_formed(line) || line.first().is_some_and(|b| *b >= 0xa0) {
            return Err(Refusal::new(Error::Invalid, "command-malformed"));
        }
        let worker = self
            .registry
            .get_mut(id)
            .ok_or(Refusal::new(Error::NotFound, "no-such-worker"))?;
        let mut record = alloc::vec::Vec::with_capacity(line.len() + 1);
        record.extend_from_slice(line.strip_suffix(b"\n").unwrap_or(line));
        record.push(b'\n');
        let kept = worker.commands.push(&record);
        debug_assert!(kept, "a command of at most a quarter ring always fits");
        Ok(line.len())
    }

    /// Reads a worker's queued commands from an absolute cursor.
    pub fn read_worker_commands(&self, id: &str, cursor: u64, max: usize) -> Option<RingRead> {
        Some(self.registry.get(id)?.commands.read(cursor, max))
    }
}
