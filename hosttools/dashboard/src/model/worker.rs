//! One worker as the dashboard sees it: lifecycle state, where it lives, and a bounded tail of
//! its telemetry with numeric samples for the sparkline.

use std::collections::VecDeque;

/// Telemetry lines kept per worker.
pub const TAIL_LINES: usize = 64;
/// Sparkline samples kept per worker.
pub const SAMPLES: usize = 120;

/// A worker's state as the dashboard sees it: the lifecycle states (docs/interfaces.md §10)
/// plus the registry's PENDING (`hive::RegistryState`) and the dashboard's REVOKED for workers
/// whose ticket is gone. The agent's own view is `worker::AgentState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DashboardWorkerState {
    Pending,
    Booting,
    Online,
    Degraded,
    Draining,
    Quiesced,
    Offline,
    Revoked,
}

impl DashboardWorkerState {
    pub const ALL: [DashboardWorkerState; 8] = [
        DashboardWorkerState::Pending,
        DashboardWorkerState::Booting,
        DashboardWorkerState::Online,
        DashboardWorkerState::Degraded,
        DashboardWorkerState::Draining,
        DashboardWorkerState::Quiesced,
        DashboardWorkerState::Offline,
        DashboardWorkerState::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DashboardWorkerState::Pending => "PENDING",
            DashboardWorkerState::Booting => "BOOTING",
            DashboardWorkerState::Online => "ONLINE",
            DashboardWorkerState::Degraded => "DEGRADED",
            DashboardWorkerState::Draining => "DRAINING",
            DashboardWorkerState::Quiesced => "QUIESCED",
            DashboardWorkerState::Offline => "OFFLINE",
            DashboardWorkerState::Revoked => "REVOKED",
        }
    }

    /// Case-insensitive; also takes unambiguous prefixes (`on`, `off`, `pend`).
    pub fn parse(text: &str) -> Option<Self> {
        let upper = text.trim().to_ascii_uppercase();
        if upper.len() < 2 {
            return None;
        }
        let mut hits = Self::ALL
            .into_iter()
            .filter(|s| s.as_str().starts_with(&upper));
        let first = hits.next()?;
        if first.as_str() == upper || hits.next().is_none() {
            Some(first)
        } else {
            None
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A worker row. Everything is bounded: the tail and samples are rings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    pub id: String,
    pub kind: String,
    pub site: String,
    pub shard: String,
    pub state: DashboardWorkerState,
    pub reason: String,
    pub last_seen_ms: u64,
    pub records: u64,
    pub ops: String,
    pub ticket: String,
    pub tail: VecDeque<String>,
    pub samples: VecDeque<u64>,
}

impl Worker {
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_string(),
            kind: String::from("-"),
            site: String::from("-"),
            shard: String::from("-"),
            state: DashboardWorkerState::Pending,
            reason: String::new(),
            last_seen_ms: 0,
            records: 0,
            ops: String::from("-"),
            ticket: String::new(),
            tail: VecDeque::new(),
            samples: VecDeque::new(),
        }
    }

    /// Appends a telemetry line, dropping the oldest past `TAIL_LINES`.
    pub fn push_line(&mut self, line: String) {
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line);
    }

    pub fn push_sample(&mut self, value: u64) {
        if self.samples.len() == SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(value);
    }

    /// Case-insensitive match of one filter term (see `Term`).
    pub fn matches(&self, term: &str) -> bool {
        Term::parse(term).matches(self)
    }
}

/// One filter term, parsed once per filter rather than once per worker: `state:on`,
/// `site:s3`, `kind:gpu`, `shard:1a`, or a substring of the id. Matching never allocates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    State(Option<DashboardWorkerState>),
    Site(String),
    Kind(String),
    Shard(String),
    Id(String),
    /// An unknown `key:`; matches nothing.
    Never,
}

impl Term {
    pub fn parse(text: &str) -> Self {
        let lower = text.to_ascii_lowercase();
        let Some((key, want)) = lower.split_once(':') else {
            return Term::Id(lower);
        };
        let want = want.to_string();
        match key {
            "state" | "s" => Term::State(DashboardWorkerState::parse(&want)),
            "site" => Term::Site(want),
            "kind" | "k" => Term::Kind(want),
            "shard" => Term::Shard(want),
            _ => Term::Never,
        }
    }

    pub fn matches(&self, w: &Worker) -> bool {
        match self {
            Term::State(state) => *state == Some(w.state),
            Term::Site(want) => contains_ci(&w.site, want),
            Term::Kind(want) => contains_ci(&w.kind, want),
            Term::Shard(want) => w.shard.eq_ignore_ascii_case(want),
            Term::Id(want) => contains_ci(&w.id, want),
            Term::Never => false,
        }
    }
}

/// ASCII case-insensitive substring test; `needle` is already lower case.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// A number worth plotting from a telemetry line: the first of a few well-known fields, else
/// the first number found.
pub fn sample_of(line: &str) -> Option<u64> {
    const KEYS: [&str; 6] = ["value", "load", "latency_ms", "tick", "seq", "tokens"];
    let pairs: Vec<(&str, &str)> = line
        .split_whitespace()
        .filter_map(|t| t.split_once('='))
        .collect();
    for key in KEYS {
        if let Some((_, v)) = pairs.iter().find(|(k, _)| *k == key) {
            if let Some(n) = leading_number(v) {
                return Some(n);
            }
        }
    }
    pairs
        .iter()
        .filter(|(k, _)| *k != "t" && *k != "t_ms")
        .find_map(|(_, v)| leading_number(v))
}

fn leading_number(text: &str) -> Option<u64> {
    let digits: &str = &text[..text.bytes().take_while(u8::is_ascii_digit).count()];
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_parse_by_prefix() {
        assert_eq!(
            DashboardWorkerState::parse("online"),
            Some(DashboardWorkerState::Online)
        );
        assert_eq!(
            DashboardWorkerState::parse("on"),
            Some(DashboardWorkerState::Online)
        );
        assert_eq!(
            DashboardWorkerState::parse("off"),
            Some(DashboardWorkerState::Offline)
        );
        assert_eq!(DashboardWorkerState::parse("d"), None);
        assert_eq!(
            DashboardWorkerState::parse("de"),
            Some(DashboardWorkerState::Degraded)
        );
        assert_eq!(DashboardWorkerState::parse("nope"), None);
    }

    #[test]
    fn tails_are_bounded() {
        let mut w = Worker::new("w1");
        for i in 0..200u64 {
            w.push_line(format!("tick={i}"));
            w.push_sample(i);
        }
        assert_eq!(w.tail.len(), TAIL_LINES);
        assert_eq!(w.samples.len(), SAMPLES);
        assert_eq!(w.tail.back().map(String::as_str), Some("tick=199"));
    }

    #[test]
    fn filter_terms() {
        let mut w = Worker::new("w0412");
        w.site = String::from("s3");
        w.state = DashboardWorkerState::Online;
        assert!(w.matches("041"));
        assert!(w.matches("state:online"));
        assert!(w.matches("SITE:S3"));
        assert!(!w.matches("state:offline"));
        assert!(!w.matches("bogus:x"));
    }

    #[test]
    fn samples_from_lines() {
        assert_eq!(sample_of("t=5 load=42 x=1"), Some(42));
        assert_eq!(sample_of("t=5 foo=7ms"), Some(7));
        assert_eq!(sample_of("hello"), None);
    }
}
