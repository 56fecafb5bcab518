//! Providers: each top-level directory of the namespace is served by one module here
//! (`queen.rs` serves `/queen`). A provider resolves paths to entries, lists directories,
//! renders read-only text, serves append-only streams and takes control writes.

mod gated;
mod gpu;
mod log;
mod proc;
mod queen;
mod shard;

use crate::NineDoor;
use alloc::string::String;
use alloc::vec::Vec;
use hive::{Principal, RingRead};
use secure9p::Error;

/// Who a node's mode lets in (after the view has made it visible at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Nobody,
    Anyone,
    Queen,
    QueenOrRelay,
    /// The worker named by the entry's `owner`.
    Owner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    /// Rendered text; read-only.
    Text,
    /// Append-only records read with absolute cursors.
    Stream,
    /// Control file: every write is a command; never readable.
    Control,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Root,
    Proc,
    Queen,
    Shard,
    Log,
    Gated,
    Gpu,
}

/// A resolved node: what it is, who may read and write it, and which worker owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    pub provider: Provider,
    pub read: Who,
    pub write: Who,
    pub owner: Option<String>,
}

impl Entry {
    pub(crate) fn dir(provider: Provider) -> Self {
        Self {
            kind: EntryKind::Dir,
            provider,
            read: Who::Anyone,
            write: Who::Nobody,
            owner: None,
        }
    }

    pub(crate) fn text(provider: Provider, read: Who) -> Self {
        Self {
            kind: EntryKind::Text,
            provider,
            read,
            write: Who::Nobody,
            owner: None,
        }
    }

    pub(crate) fn control(provider: Provider, write: Who) -> Self {
        Self {
            kind: EntryKind::Control,
            provider,
            read: Who::Nobody,
            write,
            owner: None,
        }
    }

    pub(crate) fn stream(provider: Provider, read: Who, write: Who) -> Self {
        Self {
            kind: EntryKind::Stream,
            provider,
            read,
            write,
            owner: None,
        }
    }

    pub(crate) fn owned_by(mut self, owner: &str) -> Self {
        self.owner = Some(String::from(owner));
        self
    }

    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Dir
    }
}

/// Resolves path elements (already bind-rewritten) to an entry, if the node exists.
pub fn resolve(nd: &NineDoor, elems: &[&str]) -> Option<Entry> {
    let Some((first, rest)) = elems.split_first() else {
        return Some(Entry::dir(Provider::Root));
    };
    match *first {
        "proc" => proc::resolve(nd, rest),
        "queen" => queen::resolve(nd, rest),
        "shard" => shard::resolve(nd, rest),
        "log" => log::resolve(rest),
        other => gated::resolve(nd, other, rest),
    }
}

/// Children of a directory entry, in a stable order.
pub fn list(nd: &NineDoor, entry: &Entry, elems: &[&str]) -> Vec<String> {
    let rest = elems.get(1..).unwrap_or(&[]);
    match entry.provider {
        Provider::Root => {
            let mut names: Vec<String> = ["proc", "queen", "shard", "log"]
                .into_iter()
                .map(String::from)
                .collect();
            names.extend(gated::enabled(nd).map(String::from));
            names
        }
        Provider::Proc => proc::list(nd, rest),
        Provider::Queen => queen::list(nd, rest),
        Provider::Shard => shard::list(nd, rest),
        Provider::Log => log::list(),
        Provider::Gated => Vec::new(),
        Provider::Gpu => gpu::list(nd, rest),
    }
}

/// Renders a text entry.
pub fn text(nd: &NineDoor, entry: &Entry, elems: &[&str], now_ms: u64) -> Option<String> {
    let rest = elems.get(1..).unwrap_or(&[]);
    match entry.provider {
        Provider::Proc => proc::text(nd, rest, now_ms),
        Provider::Shard => shard::text(nd, rest),
        Provider::Gpu => gpu::text(nd, rest),
        _ => None,
    }
}

/// Reads a stream entry from an absolute cursor.
pub fn stream(
    nd: &NineDoor,
    entry: &Entry,
    elems: &[&str],
    cursor: u64,
    max: usize,
) -> Option<RingRead> {
    let rest = elems.get(1..).unwrap_or(&[]);
    match entry.provider {
        Provider::Shard => shard::stream(nd, rest, cursor, max),
        Provider::Gpu => gpu::stream(nd, rest, cursor, max),
        Provider::Log => match rest {
            ["security.log"] => Some(nd.security().read(cursor, max)),
            _ => Some(nd.hive().audit().read(cursor, max)),
        },
        _ => None,
    }
}

/// Applies a write to a stream or control entry; the policy has already allowed it.
/// Control writes also return the reply line of the last command.
pub fn write(
    nd: &mut NineDoor,
    entry: &Entry,
    elems: &[&str],
    principal: &Principal,
    data: &[u8],
    now_ms: u64,
) -> Result<(usize, Option<String>), Error> {
    let rest = elems.get(1..).unwrap_or(&[]);
    match entry.provider {
        Provider::Queen => queen::write(nd, rest, principal, data, now_ms),
        Provider::Shard => shard::write(nd, rest, principal, data, now_ms).map(|n| (n, None)),
        Provider::Gpu => gpu::write(nd, rest, principal, data, now_ms),
        Provider::Log => log::write(nd, rest, principal, data, now_ms).map(|n| (n, None)),
        _ => Err(Error::Perm),
    }
}
