//! The per-session fid table: a small vector searched linearly (at most `fids` entries), so a
//! session holding a handful of fids costs a handful of entries and nothing more.

use crate::codec::NOFID;
use crate::Error;
use alloc::vec::Vec;

/// What a fid refers to.
#[derive(Debug)]
pub(crate) enum Fid<N> {
    /// An auth fid from `Tauth`; writes accumulate the ticket text.
    Auth { ticket: Vec<u8> },
    /// A walked position; `open` holds the `Tlopen`/`Tlcreate` flags once opened.
    Node { node: N, open: Option<u32> },
}

#[derive(Debug)]
pub(crate) struct FidTable<N> {
    entries: Vec<(u32, Fid<N>)>,
}

impl<N> FidTable<N> {
    pub(crate) const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn contains(&self, fid: u32) -> bool {
        self.entries.iter().any(|(f, _)| *f == fid)
    }

    pub(crate) fn get(&self, fid: u32) -> Option<&Fid<N>> {
        self.entries.iter().find(|(f, _)| *f == fid).map(|(_, e)| e)
    }

    pub(crate) fn get_mut(&mut self, fid: u32) -> Option<&mut Fid<N>> {
        self.entries
            .iter_mut()
            .find(|(f, _)| *f == fid)
            .map(|(_, e)| e)
    }

    /// Checks that `fid` could be added without adding it: NOFID and fids in use are
    /// `Invalid`, a full table is `Quota`.
    pub(crate) fn check_new(&self, fid: u32, max: u32) -> Result<(), Error> {
        if fid == NOFID || self.contains(fid) {
            return Err(Error::Invalid);
        }
        if self.entries.len() >= max as usize {
            return Err(Error::Quota);
        }
        Ok(())
    }

    pub(crate) fn insert(&mut self, fid: u32, entry: Fid<N>, max: u32) -> Result<(), Error> {
        self.check_new(fid, max)?;
        // Grow one slot at a time: sessions mostly hold few fids.
        self.entries.reserve_exact(1);
        self.entries.push((fid, entry));
        Ok(())
    }

    pub(crate) fn remove(&mut self, fid: u32) -> Option<Fid<N>> {
        let index = self.entries.iter().position(|(f, _)| *f == fid)?;
        Some(self.entries.remove(index).1)
    }

    /// Empties the table, handing back every entry in the order the fids were created.
    pub(crate) fn take_all(&mut self) -> Vec<(u32, Fid<N>)> {
        core::mem::take(&mut self.entries)
    }

    /// Heap bytes held by the table and its auth buffers.
    pub(crate) fn heap_bytes(&self) -> usize {
        let slots = self.entries.capacity() * core::mem::size_of::<(u32, Fid<N>)>();
        let tickets: usize = self
            .entries
            .iter()
            .map(|(_, e)| match e {
                Fid::Auth { ticket } => ticket.capacity(),
                Fid::Node { .. } => 0,
            })
            .sum();
        slots + tickets
    }
}
