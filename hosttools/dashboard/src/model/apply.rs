//! Folding events into the model. Simulator transcript events (`worker.spawned`,
//! `worker.online`, `agent.cut`, `lifecycle`, `fault.*`, ...) and the hive's own audit events
//! (`spawn`, `worker`, `revoke`, `attach`, `deny`, ...) land here; names are matched by family
//! so that new detail fields never break the view. Grouped transcript lines name many workers
//! at once (`n=3 ids=w0001..w0002,w0005`); they are expanded, up to `IDS_MAX` per line.

use super::{drop_row, put_row, DashboardWorkerState, Model};
use crate::transcript::Record;

/// Most worker ids one grouped line may expand to.
pub const IDS_MAX: usize = 100_000;

/// The workers a record names: `id=`, `worker=`, or the ranges of `ids=`.
pub fn ids_of(r: &Record) -> Vec<String> {
    if let Some(id) = r.get("id").or_else(|| r.get("worker")) {
        return vec![id.to_string()];
    }
    r.get("ids").map(expand_ids).unwrap_or_default()
}

/// Expands `w0001..w0003,w0007` into each id (zero padding kept).
pub fn expand_ids(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        let room = IDS_MAX.saturating_sub(out.len());
        if room == 0 {
            break;
        }
        match part.split_once("..") {
            Some((a, b)) => expand_range(a, b, room, &mut out),
            None => out.push(part.to_string()),
        }
    }
    out
}

fn expand_range(a: &str, b: &str, room: usize, out: &mut Vec<String>) {
    let split = |id: &str| {
        let at = id.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let (prefix, digits) = id.split_at(at);
        (prefix.to_string(), digits.len(), digits.parse::<u64>().ok())
    };
    let ((pa, width, na), (pb, _, nb)) = (split(a), split(b));
    match (na, nb) {
        (Some(na), Some(nb)) if pa == pb && na <= nb => {
            for n in (na..=nb).take(room) {
                out.push(format!("{pa}{n:0width$}"));
            }
        }
        _ => {
            out.push(a.to_string());
            out.push(b.to_string());
        }
    }
}

impl Model {
    /// Applies one event and records it in the audit tail.
    pub fn apply(&mut self, r: &Record) {
        self.events += 1;
        self.now_ms = self.now_ms.max(r.t_ms());
        if self.hive == "-" && !r.hive.is_empty() {
            self.hive = r.hive.clone();
        }
        self.push_audit(audit_text(r));
        let ev = r.ev.as_str();
        let (head, tail) = ev.split_once('.').unwrap_or((ev, ""));
        match head {
            "spawn" => self.on_spawn(r),
            "worker" | "workers" => self.on_worker(r, tail),
            "revoke" | "revoked" => self.on_revoke(r),
            "ticket" if tail.starts_with("revoke") => self.on_revoke(r),
            "agent" => self.on_agent(r, tail),
            "lifecycle" | "node" | "hive" => self.on_lifecycle(r),
            "telemetry" => self.on_telemetry(r),
            "attach" | "session" | "session-close" | "sessions" => self.on_session(r, head, tail),
            "deny" | "refused" | "refusal" | "pressure" => self.on_refusal(r),
            "lease" => self.on_lease(r, tail),
            "sched" | "schedule" => self.on_sched(r, tail),
            "root" | "cut" => self.on_root(r, head, tail),
            _ => {}
        }
        self.heard(r);
    }

    /// Any event naming a known worker counts as hearing from it.
    fn heard(&mut self, r: &Record) {
        let t = r.t_ms();
        for id in ids_of(r) {
            if let Some(w) = self.worker_mut(&id) {
                w.last_seen_ms = w.last_seen_ms.max(t);
            }
        }
    }

    /// A worker's own view of its Queen: `agent.cut` until `agent.online` (or revocation).
    fn on_agent(&mut self, r: &Record, tail: &str) {
        let reason = r.get("reason").unwrap_or("network_unreachable");
        for id in ids_of(r) {
            if tail.starts_with("cut") || tail.contains("unreachable") {
                self.root.cut.insert(id, reason.to_string());
            } else {
                self.root.cut.remove(&id);
            }
        }
        self.root.known = true;
    }

    fn on_spawn(&mut self, r: &Record) {
        let (kind, site, shard) = (r.get("kind"), r.get("site"), r.get("shard"));
        let ticket = r.get("ticket");
        for id in ids_of(r) {
            let Some(w) = self.upsert(&id) else { return };
            if let Some(t) = ticket {
                w.ticket = t.to_string();
            }
            if let Some(k) = kind {
                w.kind = k.to_string();
            }
            if let Some(s) = site {
                w.site = s.to_string();
            }
            if let Some(s) = shard {
                w.shard = s.to_string();
            }
        }
    }

    fn on_worker(&mut self, r: &Record, tail: &str) {
        let reason = r.get("reason").unwrap_or("");
        if matches!(tail, "spawn" | "spawned") {
            return self.on_spawn(r);
        }
        if tail == "telemetry" {
            return self.on_telemetry(r);
        }
        let named = if tail.starts_with("revoke") {
            Some(DashboardWorkerState::Revoked)
        } else {
            r.get("state")
                .or_else(|| r.get("new"))
                .or_else(|| r.get("to"))
                .and_then(DashboardWorkerState::parse)
                .or_else(|| DashboardWorkerState::parse(tail))
        };
        let Some(state) = named else { return };
        for id in ids_of(r) {
            self.set_state(&id, state, reason);
        }
    }

    fn on_revoke(&mut self, r: &Record) {
        let reason = r.get("reason").unwrap_or("revoked");
        let mut ids = ids_of(r);
        if ids.is_empty() {
            if let Some(ticket) = r.get("ticket") {
                let owner = self.workers().iter().find(|w| w.ticket == ticket);
                ids.extend(owner.map(|w| w.id.clone()));
            }
        }
        for id in ids {
            if self.index_of(&id).is_some() {
                self.set_state(&id, DashboardWorkerState::Revoked, reason);
            }
        }
    }

    fn on_lifecycle(&mut self, r: &Record) {
        let new = r
            .get("new")
            .or_else(|| r.get("to"))
            .or_else(|| r.get("state"));
        let Some(new) = new else { return };
        match r.get("id") {
            Some(id) => {
                if let Some(state) = DashboardWorkerState::parse(new) {
                    let id = id.to_string();
                    self.set_state(&id, state, r.get("reason").unwrap_or(""));
                }
            }
            None => self.lifecycle = new.to_ascii_uppercase(),
        }
    }

    fn on_telemetry(&mut self, r: &Record) {
        let Some(id) = r.get("id").or_else(|| r.get("worker")) else {
            return;
        };
        let id = id.to_string();
        let t = r.t_ms();
        let line = r
            .fields
            .iter()
            .filter(|(k, _)| k != "id" && k != "worker")
            .map(|(k, v)| format!("{k}={}", crate::transcript::quote(v)))
            .collect::<Vec<_>>()
            .join(" ");
        let added = r.num("records").unwrap_or(1);
        if let Some(w) = self.upsert(&id) {
            w.records += added;
            if let Some(v) = super::sample_of(&line) {
                w.push_sample(v);
            }
            w.push_line(format!("{:>10.3} {line}", t as f64 / 1000.0));
        }
    }

    fn on_session(&mut self, r: &Record, head: &str, tail: &str) {
        let s = &mut self.sessions;
        if head == "sessions" || tail == "summary" {
            s.active = r.num("active").unwrap_or(s.active);
            s.setup = r.num("setup").unwrap_or(s.setup);
            s.draining = r.num("draining").unwrap_or(s.draining);
            s.closed = r.num("closed").unwrap_or(s.closed);
            return;
        }
        let closing = head == "session-close" || tail.starts_with("clos") || tail == "end";
        if closing {
            s.active = s.active.saturating_sub(1);
            s.closed += 1;
        } else if head == "attach" || matches!(tail, "open" | "opened" | "attach" | "active") {
            s.active += 1;
            s.opened += 1;
        }
    }

    fn on_refusal(&mut self, r: &Record) {
        let class = r
            .get("reason")
            .or_else(|| r.get("class"))
            .unwrap_or("invalid")
            .to_string();
        *self.pressure_slot(&class) += 1;
    }

    fn on_lease(&mut self, r: &Record, tail: &str) {
        let key = r
            .get("lease")
            .or_else(|| r.get("gpu"))
            .or_else(|| r.get("id"))
            .unwrap_or("-")
            .to_string();
        let ending = [
            "release", "expire", "revoke", "end", "done", "preempt", "drop",
        ];
        if ending.iter().any(|e| tail.starts_with(e)) {
            drop_row(&mut self.leases, &key);
            if tail.starts_with("preempt") {
                self.preemptions += 1;
            }
        } else {
            put_row(&mut self.leases, &key, detail_of(r, &["lease", "gpu"]));
        }
    }

    fn on_sched(&mut self, r: &Record, tail: &str) {
        let key = r
            .get("job")
            .or_else(|| r.get("id"))
            .or_else(|| r.get("worker"))
            .unwrap_or("-")
            .to_string();
        let leaving = [
            "dispatch", "dequeue", "start", "done", "drop", "cancel", "reject",
        ];
        if leaving.iter().any(|e| tail.starts_with(e)) {
            drop_row(&mut self.queue, &key);
        } else if !tail.is_empty() {
            put_row(&mut self.queue, &key, detail_of(r, &["job", "id"]));
        }
    }

    fn on_root(&mut self, r: &Record, head: &str, tail: &str) {
        let who = r
            .get("site")
            .or_else(|| r.get("host"))
            .or_else(|| r.get("id"))
            .unwrap_or(&r.src)
            .to_string();
        let reason = r
            .get("reason")
            .or_else(|| r.get("cut_reason"))
            .unwrap_or("network_unreachable")
            .to_string();
        let cut = match (r.get("reachable"), head) {
            (Some(v), _) => v == "no" || v == "false",
            (None, "cut") => true,
            (None, _) if tail.contains("unreachable") || tail.starts_with("cut") => true,
            (None, _) if tail.contains("reachable") || tail.starts_with("heal") => false,
            _ => return,
        };
        self.root.known = true;
        if cut {
            self.root.cut.insert(who, reason);
        } else {
            self.root.cut.remove(&who);
        }
    }
}

/// `key=value` pairs of a record other than the ones used as its key.
fn detail_of(r: &Record, skip: &[&str]) -> String {
    r.fields
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={}", crate::transcript::quote(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One audit-panel line: time, source and the event with its fields.
fn audit_text(r: &Record) -> String {
    let secs = r.t_us / 1_000_000;
    let millis = (r.t_us / 1000) % 1000;
    if r.src.is_empty() {
        format!("{secs:>6}.{millis:03} {}", r.summary())
    } else {
        format!("{secs:>6}.{millis:03} {:<8} {}", r.src, r.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{parse_audit_line, parse_line};

    fn feed(m: &mut Model, lines: &[&str]) {
        for l in lines {
            m.apply(&parse_line(l).unwrap());
        }
    }

    #[test]
    fn worker_lifecycle_from_transcript() {
        let mut m = Model::new("-");
        feed(
            &mut m,
            &[
                "t=1 hive=a src=queen ev=worker.spawn id=w0001 kind=heartbeat site=s3",
                "t=2 hive=a src=s3 ev=worker.online id=w0001",
                "t=3 hive=a src=s3 ev=telemetry id=w0001 load=42",
                "t=4 hive=a src=queen ev=worker.revoked id=w0001 reason=budget",
            ],
        );
        let w = m.get("w0001").unwrap();
        assert_eq!(m.hive, "a");
        assert_eq!(w.site, "s3");
        assert_eq!(w.state, DashboardWorkerState::Revoked);
        assert_eq!(w.reason, "budget");
        assert_eq!(w.samples.back(), Some(&42));
        assert_eq!(w.last_seen_ms, 4000);
        assert_eq!(m.audit.len(), 4);
    }

    #[test]
    fn audit_events_from_the_hive() {
        let mut m = Model::new("h");
        for l in [
            "t=10 ev=spawn id=w0001 kind=heartbeat ticket=1",
            "t=11 ev=attach role=worker-heartbeat who=w0001 ticket=1",
            "t=12 ev=worker id=w0001 state=ONLINE reason=attach",
            "t=13 ev=deny who=w0002 verb=attach reason=policy detail=x",
            "t=14 ev=lifecycle old=ONLINE new=DRAINING reason=drain",
            "t=15 ev=session-close session=3 who=w0001 reason=eof",
        ] {
            m.apply(&parse_audit_line(l, "h").unwrap());
        }
        assert_eq!(m.count(DashboardWorkerState::Online), 1);
        assert_eq!(m.pressure[3], 1);
        assert_eq!(m.lifecycle, "DRAINING");
        assert_eq!(m.sessions.opened, 1);
        assert_eq!(m.sessions.active, 0);
        assert_eq!(m.sessions.closed, 1);
    }

    #[test]
    fn grouped_simulator_lines() {
        let mut m = Model::new("-");
        feed(
            &mut m,
            &[
                "t=000001.000000 hive=a src=queen ev=worker.spawned n=4 ids=w0001..w0003,w0007 site=s01",
                "t=000002.000000 hive=a src=queen ev=worker.online n=3 ids=w0001..w0002,w0007",
                "t=000003.000000 hive=a src=s01 ev=agent.cut n=2 ids=w0001..w0002 reason=network_unreachable",
                "t=000004.000000 hive=a src=queen ev=worker.revoked id=w0003 reason=budget",
            ],
        );
        assert_eq!(m.len(), 4);
        assert_eq!(m.count(DashboardWorkerState::Online), 3);
        assert_eq!(m.count(DashboardWorkerState::Revoked), 1);
        assert_eq!(m.get("w0007").map(|w| w.site.as_str()), Some("s01"));
        assert_eq!(m.root.cut.len(), 2);
        feed(
            &mut m,
            &["t=5 hive=a src=s01 ev=agent.online n=2 ids=w0001..w0002"],
        );
        assert!(m.root.reachable());
    }

    #[test]
    fn id_ranges_expand_and_stay_bounded() {
        assert_eq!(
            expand_ids("w0009..w0011,x"),
            vec!["w0009", "w0010", "w0011", "x"]
        );
        assert_eq!(expand_ids("w5..w3"), vec!["w5", "w3"]);
        assert_eq!(expand_ids("a1..b2"), vec!["a1", "b2"]);
        assert_eq!(expand_ids("w0..w99999999").len(), IDS_MAX);
    }

    #[test]
    fn leases_queue_and_root() {
        let mut m = Model::new("a");
        feed(
            &mut m,
            &[
                "t=1 hive=a src=queen ev=lease.grant gpu=GPU-0 worker=w0002 mem_mb=4096",
                "t=1 hive=a src=queen ev=sched.enqueue job=j1 worker=w0003",
                "t=2 hive=a src=site2 ev=root.unreachable reason=network_unreachable",
                "t=3 hive=a src=queen ev=lease.preempt gpu=GPU-0",
            ],
        );
        assert!(m.leases.is_empty());
        assert_eq!(m.preemptions, 1);
        assert_eq!(m.queue.len(), 1);
        assert!(!m.root.reachable());
        feed(&mut m, &["t=4 hive=a src=site2 ev=root.reachable"]);
        assert!(m.root.reachable());
        assert!(m.root.known);
    }
}
