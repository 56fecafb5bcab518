//! `/log`: the Queen's audit log and the security log, readable as streams by the queen and
//! relays only. The hive writes both; the queen may append operator notes to `queen.log`,
//! each recorded as its own `ev=note` audit line, never as raw bytes in the log.

use super::{Entry, Provider, Who};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use hive::Principal;
use secure9p::Error;

use crate::NineDoor;

pub(super) fn resolve(rest: &[&str]) -> Option<Entry> {
    match rest {
        [] => Some(Entry::dir(Provider::Log)),
        ["queen.log"] => Some(Entry::stream(Provider::Log, Who::QueenOrRelay, Who::Queen)),
        ["security.log"] => Some(Entry::stream(Provider::Log, Who::QueenOrRelay, Who::Nobody)),
        _ => None,
    }
}

pub(super) fn list() -> Vec<String> {
    vec![String::from("queen.log"), String::from("security.log")]
}

/// Appends operator notes: one audit line per non-empty line of the write. A write that is
/// not UTF-8 or holds no text is refused whole.
pub(super) fn write(
    nd: &mut NineDoor,
    rest: &[&str],
    principal: &Principal,
    data: &[u8],
    now_ms: u64,
) -> Result<usize, Error> {
    if rest != ["queen.log"] {
        return Err(Error::Perm);
    }
    let text = core::str::from_utf8(data).map_err(|_| Error::Invalid)?;
    let mut notes = text
        .split('\n')
        .map(str::trim_end)
        .filter(|l| !l.is_empty());
    let first = notes.next().ok_or(Error::Invalid)?;
    let who = principal.subject.clone();
    for note in core::iter::once(first).chain(notes) {
        nd.hive_mut().note(now_ms, &who, note);
    }
    Ok(data.len())
}
