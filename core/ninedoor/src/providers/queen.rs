//! `/queen`: the control files through which the hive is commanded.

use super::{Entry, Provider, Who};
use crate::NineDoor;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use hive::ctl::{self, Command};
use hive::{Principal, Refusal};
use secure9p::Error;
use ticket::Role;

/// `/queen/lease` and `/queen/schedule` exist only when the manifest enables GPUs.
fn gpu_on(nd: &NineDoor) -> bool {
    nd.hive().manifest().features.gpu
}

pub(super) fn resolve(nd: &NineDoor, rest: &[&str]) -> Option<Entry> {
    if matches!(rest.first(), Some(&"lease") | Some(&"schedule")) && !gpu_on(nd) {
        return None;
    }
    match rest {
        [] | ["lifecycle"] | ["lease"] | ["schedule"] => Some(Entry::dir(Provider::Queen)),
        // GPU workers, bridges and the Queen write here; the hive checks each line's role.
        ["lease", "ctl"] | ["schedule", "ctl"] => Some(Entry {
            read: Who::Anyone,
            ..Entry::control(Provider::Queen, Who::Anyone)
        }),
        // Reading `/queen/ctl` returns the reply to this session's last control line.
        ["ctl"] => Some(Entry {
            read: Who::QueenOrRelay,
            ..Entry::control(Provider::Queen, Who::QueenOrRelay)
        }),
        ["lifecycle", "ctl"] => Some(Entry::control(Provider::Queen, Who::Queen)),
        _ => None,
    }
}

pub(super) fn list(nd: &NineDoor, rest: &[&str]) -> Vec<String> {
    match rest {
        [] if gpu_on(nd) => vec![
            String::from("ctl"),
            String::from("lease"),
            String::from("lifecycle"),
            String::from("schedule"),
        ],
        [] => vec![String::from("ctl"), String::from("lifecycle")],
        _ => vec![String::from("ctl")],
    }
}

/// Each line of the write is one command with its own ACK/ERR and audit line; the first
/// refused line stops the write and its error is the reply (earlier lines stand).
pub(super) fn write(
    nd: &mut NineDoor,
    rest: &[&str],
    principal: &Principal,
    data: &[u8],
    now_ms: u64,
) -> Result<(usize, Option<String>), Error> {
    let who = principal.subject.as_str();
    lines(nd, data, now_ms, |nd, line| match rest {
        ["ctl"] => {
            if principal.role == Role::Relay && !relay_may_send(line) {
                let refusal = Refusal::new(Error::Perm, "relay-needs-envelope");
                nd.hive_mut().refused(now_ms, who, "ctl", refusal);
                Err(refusal)
            } else {
                nd.hive_mut().ctl(line, who, now_ms)
            }
        }
        ["lifecycle", "ctl"] => nd.hive_mut().lifecycle_ctl(line, who, now_ms),
        ["lease", "ctl"] => nd.hive_mut().lease_ctl(line, principal, None, now_ms),
        ["schedule", "ctl"] => nd.hive_mut().schedule_ctl(line, principal, now_ms),
        _ => Err(Refusal::new(Error::Perm, "not-writable")),
    })
}

/// Runs each line of a control write through `run`: each has its own ACK/ERR and audit line,
/// and the first refused line stops the write with its error (earlier lines stand).
pub(super) fn lines(
    nd: &mut NineDoor,
    data: &[u8],
    now_ms: u64,
    mut run: impl FnMut(&mut NineDoor, &str) -> Result<String, Refusal>,
) -> Result<(usize, Option<String>), Error> {
    let text = core::str::from_utf8(data).map_err(|_| Error::Invalid)?;
    let mut lines = text.split('\n').filter(|l| !l.trim().is_empty()).peekable();
    if lines.peek().is_none() {
        return Err(Error::Invalid);
    }
    let mut reply = None;
    for line in lines {
        let result = run(nd, line);
        // Kills, budget cuts and preemptions close sessions at once, before the next line.
        nd.sync_revocations(now_ms);
        reply = Some(result.map_err(|r| r.error)?);
    }
    Ok((data.len(), reply))
}

/// Relays forward work between hives inside envelopes; they never reshape this hive's
/// namespace or its keys (no bind, unbind, revoke or key retirement, even wrapped).
fn relay_may_send(line: &str) -> bool {
    match ctl::parse(line) {
        Ok(Command::Envelope { cmd, .. }) => matches!(
            *cmd,
            Command::Spawn(_) | Command::Kill(_) | Command::Budget(_)
        ),
        _ => false,
    }
}
