//! A tiny in-memory namespace for driving sessions in tests, and a client harness around it.
#![allow(dead_code)]

use secure9p::codec::{Limits, Response};
use secure9p::{
    Attr, Backend, ClientCodec, ClientError, DirEntry, Error, Qid, RequestKind, Session, QT_APPEND,
    QT_DIR, QT_FILE,
};

pub const GOOD_TICKET: &[u8] = b"cohesix-ticket-00ff.aa55";

#[derive(Debug, Clone)]
struct TreeNode {
    name: &'static str,
    children: Vec<usize>,
    dir: bool,
    append: bool,
    writable: bool,
    data: Vec<u8>,
}

/// `/proc/boot` (read-only), `/log/queen.log` (append-only), `/tmp/` (creation allowed).
#[derive(Debug)]
pub struct Tree {
    nodes: Vec<TreeNode>,
    /// Returned by every `admit` while set.
    pub admit_error: Option<Error>,
    pub admitted: Vec<RequestKind>,
    pub attaches: Vec<(String, String, Option<Vec<u8>>)>,
    pub opened: Vec<(usize, u32)>,
    pub clunked: Vec<usize>,
}

impl Tree {
    pub fn new() -> Self {
        let mut tree = Tree {
            nodes: Vec::new(),
            admit_error: None,
            admitted: Vec::new(),
            attaches: Vec::new(),
            opened: Vec::new(),
            clunked: Vec::new(),
        };
        let root = tree.add(None, "", true, false, false, b"");
        let proc_ = tree.add(Some(root), "proc", true, false, false, b"");
        tree.add(
            Some(proc_),
            "boot",
            false,
            false,
            false,
            b"platform=sim msize=8192\n",
        );
        let log = tree.add(Some(root), "log", true, false, false, b"");
        tree.add(Some(log), "queen.log", false, true, true, b"");
        tree.add(Some(root), "tmp", true, false, true, b"");
        tree
    }

    fn add(
        &mut self,
        parent: Option<usize>,
        name: &'static str,
        dir: bool,
        append: bool,
        writable: bool,
        data: &[u8],
    ) -> usize {
        let id = self.nodes.len();
        self.nodes.push(TreeNode {
            name,
            children: Vec::new(),
            dir,
            append,
            writable,
            data: data.to_vec(),
        });
        if let Some(p) = parent {
            self.nodes[p].children.push(id);
        }
        id
    }

    pub fn content(&self, path: &[&str]) -> Vec<u8> {
        let mut node = 0;
        for name in path {
            node = *self.nodes[node]
                .children
                .iter()
                .find(|&&c| self.nodes[c].name == *name)
                .expect("test path exists");
        }
        self.nodes[node].data.clone()
    }
}

impl Backend for Tree {
    type Node = usize;

    fn attach(&mut self, uname: &str, aname: &str, ticket: Option<&[u8]>) -> Result<usize, Error> {
        self.attaches.push((
            uname.to_string(),
            aname.to_string(),
            ticket.map(<[u8]>::to_vec),
        ));
        match ticket {
            Some(t) if t == GOOD_TICKET => Ok(0),
            None if aname == "queen" => Ok(0),
            _ => Err(Error::Perm),
        }
    }

    fn admit(&mut self, kind: RequestKind) -> Result<(), Error> {
        self.admitted.push(kind);
        self.admit_error.map_or(Ok(()), Err)
    }

    fn walk(&mut self, from: &usize, name: &str) -> Result<usize, Error> {
        self.nodes[*from]
            .children
            .iter()
            .copied()
            .find(|&c| self.nodes[c].name == name)
            .ok_or(Error::NotFound)
    }

    fn qid(&self, node: &usize) -> Qid {
        let n = &self.nodes[*node];
        let ty = if n.dir {
            QT_DIR
        } else if n.append {
            QT_APPEND
        } else {
            QT_FILE
        };
        Qid {
            ty,
            version: 0,
            path: *node as u64,
        }
    }

    fn open(&mut self, node: &usize, flags: u32) -> Result<(), Error> {
        if flags & 3 != 0 && !self.nodes[*node].writable {
            return Err(Error::Perm);
        }
        self.opened.push((*node, flags));
        Ok(())
    }

    fn create(&mut self, dir: &usize, name: &str, _flags: u32) -> Result<usize, Error> {
        if self.nodes[*dir].name != "tmp" {
            return Err(Error::Perm);
        }
        let name: &'static str = Box::leak(name.to_string().into_boxed_str());
        Ok(self.add(Some(*dir), name, false, false, true, b""))
    }

    fn read(
        &mut self,
        node: &usize,
        offset: u64,
        count: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let data = &self.nodes[*node].data;
        let start = (offset as usize).min(data.len());
        let end = (start + count as usize).min(data.len());
        out.extend_from_slice(&data[start..end]);
        Ok(())
    }

    fn write(&mut self, node: &usize, offset: u64, data: &[u8]) -> Result<u32, Error> {
        let n = &mut self.nodes[*node];
        if !n.writable || n.dir {
            return Err(Error::Perm);
        }
        if n.append {
            n.data.extend_from_slice(data);
        } else {
            let start = offset as usize;
            if n.data.len() < start + data.len() {
                n.data.resize(start + data.len(), 0);
            }
            n.data[start..start + data.len()].copy_from_slice(data);
        }
        Ok(data.len() as u32)
    }

    fn list(&mut self, dir: &usize) -> Result<Vec<DirEntry>, Error> {
        if !self.nodes[*dir].dir {
            return Err(Error::Invalid);
        }
        Ok(self.nodes[*dir]
            .children
            .iter()
            .map(|&c| DirEntry {
                qid: self.qid(&c),
                name: self.nodes[c].name.to_string(),
            })
            .collect())
    }

    fn getattr(&mut self, node: &usize) -> Result<Attr, Error> {
        let n = &self.nodes[*node];
        Ok(Attr {
            qid: self.qid(node),
            mode: if n.dir { 0o040555 } else { 0o100644 },
            size: n.data.len() as u64,
            mtime_ms: 12_345,
        })
    }

    fn clunk(&mut self, node: &usize) {
        self.clunked.push(*node);
    }
}

/// A session, its backend and a client, wired together frame by frame.
pub struct Harness {
    pub session: Session<usize>,
    pub tree: Tree,
    pub client: ClientCodec,
}

impl Harness {
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    pub fn with_limits(limits: Limits) -> Self {
        Harness {
            session: Session::new(limits),
            tree: Tree::new(),
            client: ClientCodec::new(limits),
        }
    }

    /// Hands one request frame to the session and returns the single response frame.
    pub fn exchange(&mut self, frame: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.session
            .handle(frame, &mut self.tree, &mut out)
            .expect("frame is delimited");
        let len = secure9p::frame_len(&out, u32::MAX).unwrap().unwrap();
        assert_eq!(len, out.len(), "exactly one response per request");
        out
    }

    /// Builds a request with the client, runs it, and parses the reply.
    pub fn call(
        &mut self,
        build: impl FnOnce(&mut ClientCodec, &mut Vec<u8>) -> Result<u16, ClientError>,
    ) -> Result<Response, ClientError> {
        let mut frame = Vec::new();
        let tag = build(&mut self.client, &mut frame)?;
        let reply = self.exchange(&frame);
        let (reply_tag, response) = self.client.parse(&reply)?;
        assert_eq!(reply_tag, tag);
        Ok(response)
    }

    /// `call` for builders that also hand out a fid.
    pub fn call_fid(
        &mut self,
        build: impl FnOnce(&mut ClientCodec, &mut Vec<u8>) -> Result<(u16, u32), ClientError>,
    ) -> (u32, Result<Response, ClientError>) {
        let mut fid = u32::MAX;
        let result = self.call(|c, out| {
            let (tag, f) = build(c, out)?;
            fid = f;
            Ok(tag)
        });
        (fid, result)
    }

    /// Version, auth, ticket write, attach: returns the root fid.
    pub fn attach_with_ticket(&mut self, ticket: &[u8]) -> Result<u32, ClientError> {
        self.call(|c, out| c.version(out))?;
        let (afid, r) = self.call_fid(|c, out| c.auth("w1", "worker-heartbeat", out));
        r?;
        self.call(|c, out| c.write(afid, 0, ticket, out))?;
        let (fid, r) = self.call_fid(|c, out| c.attach(Some(afid), "w1", "worker-heartbeat", out));
        r?;
        Ok(fid)
    }

    /// Walks from `fid` along `path` to a new fid.
    pub fn walk(&mut self, fid: u32, path: &str) -> Result<u32, ClientError> {
        let (newfid, r) = self.call_fid(|c, out| c.walk_path(fid, path, out));
        r?;
        Ok(newfid)
    }

    pub fn open(&mut self, fid: u32, flags: u32) -> Result<Qid, ClientError> {
        self.call(|c, out| c.lopen(fid, flags, out))?.into_qid()
    }
}

/// The errno in an `Rlerror` frame (panics on anything else).
pub fn errno_of(frame: &[u8]) -> u32 {
    match secure9p::decode_response(frame, &Limits::default()) {
        Ok((_, Response::Lerror { ecode })) => ecode,
        other => panic!("expected Rlerror, got {other:?}"),
    }
}
