//! Folding what a live hive serves into the model: `/shard/<s>/worker/<id>/status` lines,
//! `/proc/9p/sessions`, `/proc/pressure/<class>` and `/proc/lifecycle/state`.

use super::{DashboardWorkerState, Model, Sessions, PRESSURE};
use crate::transcript::tokenize;

/// The fields of one status line that the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub id: String,
    pub kind: String,
    pub state: DashboardWorkerState,
    pub reason: String,
    pub shard: String,
    pub site: String,
    pub ticket: String,
    pub ops: String,
    pub last_seen_ms: u64,
    pub records: u64,
}

/// Parses `id=.. kind=.. state=.. reason=.. shard=.. site=.. ticket=.. ops=a/b ...`.
pub fn parse_status(line: &str) -> Option<Status> {
    let pairs = tokenize(line.trim()).ok()?;
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| String::from("-"))
    };
    let num = |key: &str| get(key).parse::<u64>().unwrap_or(0);
    Some(Status {
        id: pairs.iter().find(|(k, _)| k == "id")?.1.clone(),
        kind: get("kind"),
        state: DashboardWorkerState::parse(&get("state"))?,
        reason: get("reason"),
        shard: get("shard"),
        site: get("site"),
        ticket: get("ticket"),
        ops: get("ops"),
        last_seen_ms: num("last_seen_ms"),
        records: num("records"),
    })
}

/// Counts `/proc/9p/sessions` lines (`id=.. state=SETUP|ACTIVE|DRAINING|CLOSED ...`).
pub fn parse_sessions(text: &str) -> Sessions {
    let mut s = Sessions::default();
    for line in text.lines() {
        let Some(state) = line
            .split_whitespace()
            .find_map(|t| t.strip_prefix("state="))
        else {
            continue;
        };
        match state {
            "SETUP" => s.setup += 1,
            "ACTIVE" => s.active += 1,
            "DRAINING" => s.draining += 1,
            "CLOSED" => s.closed += 1,
            _ => {}
        }
    }
    s
}

impl Model {
    /// Applies one worker status line; returns whether it named a worker.
    pub fn apply_status(&mut self, line: &str) -> bool {
        let Some(st) = parse_status(line) else {
            return false;
        };
        self.set_state(&st.id, st.state, &st.reason);
        if let Some(w) = self.worker_mut(&st.id) {
            w.kind = st.kind;
            w.shard = st.shard;
            w.site = st.site;
            w.ticket = st.ticket;
            w.ops = st.ops;
            w.last_seen_ms = st.last_seen_ms;
            w.records = st.records;
        }
        true
    }

    /// Registers a worker seen in a shard listing (state unknown until its status is read).
    pub fn apply_listed(&mut self, shard: &str, id: &str) {
        if let Some(w) = self.upsert(id) {
            if w.shard == "-" {
                w.shard = shard.to_string();
            }
        }
    }

    /// Marks workers the roster no longer lists as revoked (the registry drops them).
    pub fn apply_absent(&mut self, id: &str) {
        if self.index_of(id).is_some() {
            self.set_state(id, DashboardWorkerState::Revoked, "gone");
        }
    }

    /// Sets a `/proc/pressure/<class>` counter.
    pub fn apply_pressure(&mut self, class: &str, text: &str) {
        if let (Some(i), Ok(n)) = (
            PRESSURE.iter().position(|c| *c == class),
            text.trim().parse::<u64>(),
        ) {
            self.pressure[i] = n;
        }
    }

    /// Appends telemetry records read from a worker's ring.
    pub fn apply_telemetry(&mut self, id: &str, text: &str) {
        let Some(w) = self.worker_mut(id) else { return };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(v) = super::sample_of(line) {
                w.push_sample(v);
            }
            w.push_line(line.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "id=w0001 kind=heartbeat state=ONLINE reason=attach shard=1a site=- \
        ticket=1 ops=3/500 ticks=0/- expires_ms=120000 last_seen_ms=900 records=4 sessions=1";

    #[test]
    fn status_lines_update_workers() {
        let mut m = Model::new("h");
        assert!(m.apply_status(STATUS));
        let w = m.get("w0001").unwrap();
        assert_eq!(w.state, DashboardWorkerState::Online);
        assert_eq!(w.shard, "1a");
        assert_eq!(w.ops, "3/500");
        assert_eq!(w.records, 4);
        assert!(!m.apply_status("garbage"));
    }

    #[test]
    fn sessions_are_counted() {
        let s = parse_sessions(
            "id=1 state=ACTIVE transport=9p owner=queen since_ms=0\n\
             id=2 state=SETUP transport=9p owner=- since_ms=5\n\
             id=3 state=ACTIVE transport=console owner=w1 since_ms=9\n",
        );
        assert_eq!((s.active, s.setup, s.closed), (2, 1, 0));
    }

    #[test]
    fn pressure_and_absence() {
        let mut m = Model::new("h");
        m.apply_pressure("quota", "7\n");
        m.apply_pressure("bogus", "7");
        assert_eq!(m.pressure[1], 7);
        m.apply_listed("1a", "w9");
        m.apply_absent("w9");
        assert_eq!(
            m.get("w9").map(|w| w.state),
            Some(DashboardWorkerState::Revoked)
        );
    }
}
