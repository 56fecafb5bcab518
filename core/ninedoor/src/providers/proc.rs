//! `/proc`: read-only views of the node itself — boot facts and limits, the session table,
//! refusal pressure, the node lifecycle and the node's view of its root authority. Small
//! state files read `key=value` (as the original Cohesix served them), so scripts can match
//! `state=DEGRADED` without knowing which file they read.

use super::{Entry, Provider, Who};
use crate::{NineDoor, SessionId};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

const TOP: [&str; 5] = ["boot", "9p", "pressure", "lifecycle", "root"];
/// Present only when the manifest enables GPUs.
const GPU_TOP: [&str; 2] = ["lease", "schedule"];
const LEASE: [&str; 3] = ["summary", "active", "preemptions"];
const SCHEDULE: [&str; 2] = ["summary", "queue"];
const PRESSURE: [&str; 5] = ["busy", "quota", "cut", "policy", "exhausted"];
const LIFECYCLE: [&str; 3] = ["state", "reason", "since_ms"];
const SESSION: [&str; 3] = ["state", "owner", "since_ms"];
const ROOT: [&str; 3] = ["reachable", "last_seen_ms", "cut_reason"];

fn session_of(nd: &NineDoor, text: &str) -> Option<SessionId> {
    let id: u32 = text.parse().ok()?;
    nd.session(SessionId(id)).map(|_| SessionId(id))
}

fn gpu_on(nd: &NineDoor) -> bool {
    nd.hive().manifest().features.gpu
}

pub(super) fn resolve(nd: &NineDoor, rest: &[&str]) -> Option<Entry> {
    if rest.first().is_some_and(|f| GPU_TOP.contains(f)) && !gpu_on(nd) {
        return None;
    }
    let dir = || Some(Entry::dir(Provider::Proc));
    let text = || Some(Entry::text(Provider::Proc, Who::Anyone));
    match rest {
        [] | ["9p"] | ["pressure"] | ["lifecycle"] | ["root"] | ["9p", "session"] => dir(),
        ["lease"] | ["schedule"] => dir(),
        ["lease", f] if LEASE.contains(f) => text(),
        ["schedule", f] if SCHEDULE.contains(f) => text(),
        ["boot"] | ["9p", "sessions"] | ["9p", "session", "active"] => text(),
        ["pressure", c] if PRESSURE.contains(c) => text(),
        ["lifecycle", f] if LIFECYCLE.contains(f) => text(),
        ["root", f] if ROOT.contains(f) => text(),
        ["9p", "session", id] => session_of(nd, id).and_then(|_| dir()),
        ["9p", "session", id, f] if SESSION.contains(f) => session_of(nd, id).and_then(|_| text()),
        _ => None,
    }
}

pub(super) fn list(nd: &NineDoor, rest: &[&str]) -> Vec<String> {
    let names: &[&str] = match rest {
        [] if gpu_on(nd) => {
            return TOP
                .iter()
                .chain(GPU_TOP.iter())
                .map(|n| String::from(*n))
                .collect();
        }
        [] => &TOP,
        ["9p"] => &["sessions", "session"],
        ["pressure"] => &PRESSURE,
        ["lifecycle"] => &LIFECYCLE,
        ["lease"] => &LEASE,
        ["schedule"] => &SCHEDULE,
        ["root"] => &ROOT,
        ["9p", "session", _] => &SESSION,
        ["9p", "session"] => {
            let ids = nd.sessions().map(|(sid, _)| alloc::format!("{}", sid.0));
            return core::iter::once(String::from("active"))
                .chain(ids)
                .collect();
        }
        _ => &[],
    };
    names.iter().map(|n| String::from(*n)).collect()
}

pub(super) fn text(nd: &NineDoor, rest: &[&str], now_ms: u64) -> Option<String> {
    let hive = nd.hive();
    let mut out = String::new();
    match rest {
        ["boot"] => boot(nd, now_ms, &mut out),
        ["lease", file] => out = hive.lease_proc(file)?,
        ["schedule", file] => out = hive.schedule_proc(file, now_ms)?,
        ["9p", "sessions"] => sessions(nd, false, &mut out),
        // The original's name for the attached sessions only.
        ["9p", "session", "active"] => sessions(nd, true, &mut out),
        ["9p", "session", id, field] => {
            let info = nd.session(session_of(nd, id)?)?;
            let _ = match *field {
                "state" => writeln!(out, "{}", info.state.as_str()),
                "owner" => writeln!(out, "{}", NineDoor::owner_label(info)),
                _ => writeln!(out, "{}", info.since_ms),
            };
        }
        ["pressure", "exhausted"] => out = nd.security().exhausted.render(),
        ["pressure", class] => {
            let (_, n) = hive
                .pressure()
                .list()
                .into_iter()
                .find(|(c, _)| c == class)?;
            let _ = writeln!(out, "{n}");
        }
        ["lifecycle", field] => {
            let lc = hive.lifecycle();
            let _ = match *field {
                "state" => writeln!(out, "state={}", lc.state),
                "reason" => writeln!(out, "reason={}", lc.reason),
                _ => writeln!(out, "since_ms={}", lc.since_ms),
            };
        }
        ["root", field] => root(nd, field, now_ms, &mut out),
        _ => return None,
    }
    Some(out)
}

/// The node's view of its root authority (docs/interfaces.md §10.4). The Queen's authority
/// lives in this hive, so it is reachable while the node is not `OFFLINE` and was last seen
/// now; an offline node reports the cut.
fn root(nd: &NineDoor, field: &str, now_ms: u64, out: &mut String) {
    let offline = nd.hive().lifecycle().state == hive::NodeState::Offline;
    let _ = match field {
        "reachable" => writeln!(out, "reachable={}", if offline { "no" } else { "yes" }),
        "last_seen_ms" => {
            let seen = if offline {
                nd.hive().lifecycle().since_ms
            } else {
                now_ms
            };
            writeln!(out, "last_seen_ms={seen}")
        }
        _ => {
            let reason = if offline { "lifecycle_offline" } else { "none" };
            writeln!(out, "cut_reason={reason}")
        }
    };
}

/// The session table, one line per session (`active_only`: ACTIVE sessions only).
fn sessions(nd: &NineDoor, active_only: bool, out: &mut String) {
    for (sid, info) in nd.sessions() {
        if active_only && info.state != crate::SessionState::Active {
            continue;
        }
        let _ = writeln!(
            out,
            "id={} state={} transport={} owner={} since_ms={}",
            sid.0,
            info.state.as_str(),
            info.transport.as_str(),
            NineDoor::owner_label(info),
            info.since_ms
        );
    }
}

fn boot(nd: &NineDoor, now_ms: u64, out: &mut String) {
    let hive = nd.hive();
    let m = hive.manifest();
    let _ = writeln!(out, "hive={}", m.hive.name);
    let _ = writeln!(out, "platform={}", nd.platform());
    let _ = writeln!(out, "manifest={:016x}", hive.manifest_fingerprint());
    let _ = writeln!(out, "uptime_ms={}", now_ms.saturating_sub(hive.boot_ms()));
    let _ = writeln!(out, "link={}", nd.link());
    let _ = writeln!(out, "lifecycle={}", hive.lifecycle().state);
    for bound in manifest::BOUNDS {
        let _ = writeln!(out, "{}={}", bound.field, (bound.get)(m));
    }
    for (name, on) in m.features.list() {
        let _ = writeln!(out, "features.{name}={}", if on { "on" } else { "off" });
    }
}
