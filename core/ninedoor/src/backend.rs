//! The Secure9P backend: one session's view of NineDoor, as the session engine calls it.

use crate::path::{join, qid_path};
use crate::policy::Verb;
use crate::providers::EntryKind;
use crate::{NineDoor, SessionId};
use alloc::string::String;
use alloc::vec::Vec;
use secure9p::{Attr, Backend, DirEntry, Error, Qid, RequestKind, QT_APPEND, QT_DIR, QT_FILE};

/// A walked position: the path as the session named it and the qid it resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub path: String,
    pub qid: Qid,
}

/// `NineDoor` seen by one session at one instant.
pub struct SessionBackend<'a> {
    pub nd: &'a mut NineDoor,
    pub sid: SessionId,
    pub now_ms: u64,
}

impl NineDoor {
    /// The Secure9P backend for session `sid` at time `now_ms`.
    pub fn backend(&mut self, sid: SessionId, now_ms: u64) -> SessionBackend<'_> {
        SessionBackend {
            nd: self,
            sid,
            now_ms,
        }
    }

    fn node(&self, sid: SessionId, path: String) -> Result<Node, Error> {
        let (entry, _) = self.lookup(sid, &path)?;
        let ty = match entry.kind {
            EntryKind::Dir => QT_DIR,
            EntryKind::Stream | EntryKind::Control => QT_APPEND,
            EntryKind::Text => QT_FILE,
        };
        let qid = Qid {
            ty,
            version: 0,
            path: qid_path(&path),
        };
        Ok(Node { path, qid })
    }
}

/// Linux `O_ACCMODE` values in `Tlopen` flags.
const O_ACCMODE: u32 = 3;
const O_RDONLY: u32 = 0;
const O_WRONLY: u32 = 1;

impl Backend for SessionBackend<'_> {
    type Node = Node;

    fn attach(&mut self, uname: &str, aname: &str, ticket: Option<&[u8]>) -> Result<Node, Error> {
        match ticket {
            // No afid, and `aname` is a ticket rather than a role: the original's form.
            None if aname.trim_start().starts_with(ticket::PREFIX) => self
                .nd
                .attach_with_aname_ticket(self.sid, uname, aname, self.now_ms)?,
            _ => self
                .nd
                .attach(self.sid, aname, uname, ticket, self.now_ms)?,
        }
        self.nd.node(self.sid, String::from("/"))
    }

    /// A ticket in `aname` is the credential itself: no auth fid is needed
    /// (docs/interfaces.md §3.2).
    fn auth_fid_needed(&self, aname: &str) -> bool {
        !aname.trim_start().starts_with(ticket::PREFIX)
    }

    fn admit(&mut self, _kind: RequestKind) -> Result<(), Error> {
        self.nd.admit(self.sid, self.now_ms)
    }

    fn walk(&mut self, from: &Node, name: &str) -> Result<Node, Error> {
        self.nd.node(self.sid, join(&from.path, name))
    }

    fn qid(&self, node: &Node) -> Qid {
        node.qid
    }

    fn open(&mut self, node: &Node, flags: u32) -> Result<(), Error> {
        let (entry, _) = self.nd.lookup(self.sid, &node.path)?;
        let verbs: &[Verb] = match flags & O_ACCMODE {
            O_RDONLY => &[Verb::Read],
            O_WRONLY => &[Verb::Write],
            _ => &[Verb::Read, Verb::Write],
        };
        if entry.is_dir() && verbs.contains(&Verb::Write) {
            return Err(Error::Perm);
        }
        for verb in verbs {
            self.nd
                .authorize(self.sid, &entry, &node.path, *verb, self.now_ms)?;
        }
        Ok(())
    }

    fn read(
        &mut self,
        node: &Node,
        offset: u64,
        count: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        self.nd
            .read_at(self.sid, &node.path, offset, count, out, self.now_ms)
    }

    fn write(&mut self, node: &Node, _offset: u64, data: &[u8]) -> Result<u32, Error> {
        // Append-only and control files ignore the offset: whole writes or nothing.
        let n = self.nd.append(self.sid, &node.path, data, self.now_ms)?;
        u32::try_from(n).map_err(|_| Error::TooBig)
    }

    fn list(&mut self, dir: &Node) -> Result<Vec<DirEntry>, Error> {
        let (entry, target) = self.nd.lookup(self.sid, &dir.path)?;
        if !entry.is_dir() {
            return Err(Error::Invalid);
        }
        self.nd
            .authorize(self.sid, &entry, &dir.path, Verb::Read, self.now_ms)?;
        let names = self.nd.children(self.sid, &entry, &dir.path, &target);
        let mut entries = Vec::with_capacity(names.len());
        for name in names {
            let child = self.nd.node(self.sid, join(&dir.path, &name))?;
            entries.push(DirEntry {
                qid: child.qid,
                name,
            });
        }
        Ok(entries)
    }

    fn getattr(&mut self, node: &Node) -> Result<Attr, Error> {
        let (entry, target) = self.nd.lookup(self.sid, &node.path)?;
        let (mode, size) = match entry.kind {
            EntryKind::Dir => (0o040_555, 0),
            EntryKind::Text => {
                let mut out = Vec::new();
                self.nd.read_entry(
                    self.sid,
                    &entry,
                    &target,
                    0,
                    u32::MAX,
                    &mut out,
                    self.now_ms,
                )?;
                (0o100_444, out.len() as u64)
            }
            EntryKind::Stream => (0o100_644, 0),
            EntryKind::Control => (0o100_222, 0),
        };
        Ok(Attr {
            qid: node.qid,
            mode,
            size,
            mtime_ms: self.now_ms,
        })
    }
}
