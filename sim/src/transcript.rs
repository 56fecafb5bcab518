//! The transcript: one line per observable event in virtual time (docs/interfaces.md §11),
//! `t=<seconds, 6 decimals> hive=<h> src=<host> ev=<event> k=v ...`, sorted by time and then
//! by a stable sequence number. Per-worker events of the same kind, source and fields that
//! fall in the same window are folded into one line with a count and id ranges, so a
//! thousand workers coming online read as a few lines, not a thousand. Values are written in
//! the log style of the `key=value` format (`kv::Style::Log`), as audit lines are.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub t_us: u64,
    pub seq: u64,
    pub hive: String,
    pub src: String,
    pub ev: &'static str,
    /// The worker this event is about; such events may be folded together.
    pub id: Option<String>,
    pub fields: Vec<(&'static str, String)>,
}

/// Records of one run, bounded: past `limit` records are counted, not kept.
#[derive(Debug, Clone)]
pub struct Transcript {
    records: Vec<Record>,
    seq: u64,
    limit: usize,
    dropped: u64,
}

/// Events folded together when they fall in the same window of this many microseconds.
pub const FOLD_WINDOW_US: u64 = 1_000_000;

impl Transcript {
    pub fn new(limit: usize) -> Self {
        Self {
            records: Vec::new(),
            seq: 0,
            limit,
            dropped: 0,
        }
    }

    pub fn push(
        &mut self,
        t_us: u64,
        hive: &str,
        src: &str,
        ev: &'static str,
        id: Option<&str>,
        fields: Vec<(&'static str, String)>,
    ) {
        self.seq += 1;
        if self.records.len() >= self.limit {
            self.dropped += 1;
            return;
        }
        self.records.push(Record {
            t_us,
            seq: self.seq,
            hive: hive.to_string(),
            src: src.to_string(),
            ev,
            id: id.map(str::to_string),
            fields,
        });
    }

    /// Events recorded, kept or not.
    pub fn events(&self) -> u64 {
        self.seq
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The transcript text, one line per (folded) event.
    pub fn render(&self) -> String {
        let mut sorted: Vec<&Record> = self.records.iter().collect();
        sorted.sort_by_key(|r| (r.t_us, r.seq));
        let items = fold(&sorted);
        let mut out = String::new();
        for item in items {
            render_item(&item, &mut out);
        }
        if self.dropped > 0 {
            let _ = writeln!(out, "# {} events not kept (transcript bound)", self.dropped);
        }
        out
    }
}

/// A line to print: one record, or several folded ones (same key, same window). A folded
/// line stands where its last event happened: everything it lists had happened by then.
struct Item<'a> {
    first: &'a Record,
    last: &'a Record,
    ids: Vec<&'a str>,
}

type FoldKey<'a> = (&'a str, &'a str, &'static str, &'a [(&'static str, String)]);

fn fold<'a>(sorted: &[&'a Record]) -> Vec<Item<'a>> {
    let mut items: Vec<Item<'a>> = Vec::new();
    let mut open: BTreeMap<FoldKey<'a>, usize> = BTreeMap::new();
    let mut window = u64::MAX;
    for record in sorted {
        let Some(id) = record.id.as_deref() else {
            items.push(Item {
                first: record,
                last: record,
                ids: Vec::new(),
            });
            continue;
        };
        if record.t_us / FOLD_WINDOW_US != window {
            window = record.t_us / FOLD_WINDOW_US;
            open.clear();
        }
        let key = (
            record.hive.as_str(),
            record.src.as_str(),
            record.ev,
            record.fields.as_slice(),
        );
        match open.get(&key) {
            Some(&index) => {
                items[index].ids.push(id);
                items[index].last = record;
            }
            None => {
                open.insert(key, items.len());
                items.push(Item {
                    first: record,
                    last: record,
                    ids: vec![id],
                });
            }
        }
    }
    items.sort_by_key(|item| (item.last.t_us, item.last.seq));
    items
}

fn render_item(item: &Item<'_>, out: &mut String) {
    let r = item.first;
    let _ = write!(
        out,
        "t={} hive={} src={} ev={}",
        format_time(item.last.t_us),
        r.hive,
        r.src,
        r.ev
    );
    match item.ids.len() {
        0 => {}
        1 => {
            let _ = write!(out, " id={}", item.ids[0]);
        }
        n => {
            let _ = write!(out, " n={n} ids={}", id_ranges(&item.ids));
        }
    }
    for (k, v) in &r.fields {
        kv::push_pair(out, k, v, kv::Style::Log);
    }
    out.push('\n');
}

/// `000012.345678`: seconds padded so columns line up and text order is time order.
pub fn format_time(t_us: u64) -> String {
    format!("{:06}.{:06}", t_us / 1_000_000, t_us % 1_000_000)
}

/// `w0001..w0003,w0007`: sorted ids with runs of consecutive numbers collapsed.
pub fn id_ranges(ids: &[&str]) -> String {
    let mut parsed: Vec<(&str, u64, &str)> = ids
        .iter()
        .map(|id| {
            let split = id.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            let (prefix, digits) = id.split_at(split);
            (prefix, digits.parse().unwrap_or(u64::MAX), *id)
        })
        .collect();
    parsed.sort();
    parsed.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < parsed.len() {
        let mut j = i;
        while j + 1 < parsed.len()
            && parsed[j + 1].0 == parsed[i].0
            && parsed[j].1 != u64::MAX
            && parsed[j + 1].1 == parsed[j].1 + 1
        {
            j += 1;
        }
        parts.push(if j == i {
            parsed[i].2.to_string()
        } else {
            format!("{}..{}", parsed[i].2, parsed[j].2)
        });
        i = j + 1;
    }
    parts.join(",")
}

/// The first 16 hex digits of SHA-256.
pub fn digest(bytes: &[u8]) -> String {
    let full = Sha256::digest(bytes);
    hex::encode(&full[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_sort_by_time_then_sequence_and_fold_per_window() {
        let mut t = Transcript::new(100);
        t.push(2_000_000, "a", "s01", "agent.online", Some("w0002"), vec![]);
        t.push(
            1_500_000,
            "a",
            "op",
            "op.cmd",
            None,
            vec![("line", "ping x".into())],
        );
        t.push(2_100_000, "a", "s01", "agent.online", Some("w0001"), vec![]);
        t.push(2_200_000, "a", "s01", "agent.online", Some("w0005"), vec![]);
        t.push(3_000_000, "a", "s01", "agent.online", Some("w0003"), vec![]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "t=000001.500000 hive=a src=op ev=op.cmd line=\"ping x\"",
                "t=000002.200000 hive=a src=s01 ev=agent.online n=3 ids=w0001..w0002,w0005",
                "t=000003.000000 hive=a src=s01 ev=agent.online id=w0003",
            ]
        );
    }

    #[test]
    fn the_bound_counts_what_it_drops() {
        let mut t = Transcript::new(1);
        t.push(0, "a", "x", "e", None, vec![]);
        t.push(0, "a", "x", "e", None, vec![]);
        assert_eq!((t.events(), t.dropped()), (2, 1));
        assert!(t
            .render()
            .ends_with("# 1 events not kept (transcript bound)\n"));
    }

    #[test]
    fn helpers() {
        assert_eq!(
            id_ranges(&["w0003", "w0001", "w0002", "x"]),
            "w0001..w0003,x"
        );
        assert_eq!(digest(b"abc"), "ba7816bf8f01cfea");
    }
}
