//! `/log`: the Queen's audit log and the security log, readable as streams by the queen and
//! relays only, written only by the hive itself.

use super::{Entry, Provider, Who};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

pub(super) fn resolve(rest: &[&str]) -> Option<Entry> {
    match rest {
        [] => Some(Entry::dir(Provider::Log)),
        ["queen.log"] | ["security.log"] => {
            Some(Entry::stream(Provider::Log, Who::QueenOrRelay, Who::Nobody))
        }
        _ => None,
    }
}

pub(super) fn list() -> Vec<String> {
    vec![String::from("queen.log"), String::from("security.log")]
}
