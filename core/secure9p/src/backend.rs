use crate::Error;
use alloc::string::String;
use alloc::vec::Vec;

/// Qid type bits.
pub const QT_DIR: u8 = 0x80;
pub const QT_APPEND: u8 = 0x40;
pub const QT_FILE: u8 = 0x00;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Qid {
    pub ty: u8,
    pub version: u32,
    pub path: u64,
}

/// What the backend reports for `Tgetattr`; the engine fills the remaining 9P2000.L fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attr {
    pub qid: Qid,
    /// Unix mode bits including the file type (`0o040000` dir, `0o100000` regular).
    pub mode: u32,
    pub size: u64,
    /// Modification time in milliseconds of hive uptime.
    pub mtime_ms: u64,
}

/// A child of a directory as `Treaddir` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub qid: Qid,
    pub name: String,
}

/// Request classes, so the backend can charge budgets before anything runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Walk,
    Open,
    Create,
    Read,
    Write,
    Clunk,
    Getattr,
    Readdir,
    Flush,
}

/// The namespace a session engine serves. One backend value speaks for one session; the
/// engine owns fids and wire details, the backend owns paths, authority and content.
pub trait Backend {
    /// A walked position in the namespace (cheap to clone).
    type Node: Clone;

    /// `Tattach`. `ticket` is the text written to the afid, or `None` when afid is NOFID.
    fn attach(
        &mut self,
        uname: &str,
        aname: &str,
        ticket: Option<&[u8]>,
    ) -> Result<Self::Node, Error>;

    /// Whether `Tauth` with this `aname` gets an auth fid. A backend whose `aname` can carry
    /// the credential itself answers false, and `Tauth` is refused `NotFound` (`ENOENT`),
    /// which stock clients (diod's libnpclient) read as "no authentication needed" and then
    /// attach with `afid = NOFID`.
    fn auth_fid_needed(&self, _aname: &str) -> bool {
        true
    }

    /// Called before every request after attach. `Err(Closed)` means the session is revoked;
    /// other errors refuse only this request.
    fn admit(&mut self, kind: RequestKind) -> Result<(), Error>;

    /// One step of `Twalk`; `name` is already validated (no `/`, `.`, `..`, NUL, empty).
    fn walk(&mut self, from: &Self::Node, name: &str) -> Result<Self::Node, Error>;

    fn qid(&self, node: &Self::Node) -> Qid;

    /// `Tlopen`; `flags` are Linux open flags (O_RDONLY=0, O_WRONLY=1, O_RDWR=2, O_APPEND...).
    fn open(&mut self, node: &Self::Node, flags: u32) -> Result<(), Error>;

    /// `Tlcreate`: only providers that allow OS-named creation say yes.
    fn create(&mut self, dir: &Self::Node, name: &str, flags: u32) -> Result<Self::Node, Error> {
        let _ = (dir, name, flags);
        Err(Error::Perm)
    }

    /// `Tread`: append at most `count` bytes to `out`.
    fn read(
        &mut self,
        node: &Self::Node,
        offset: u64,
        count: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), Error>;

    /// `Twrite`: returns bytes accepted (append-only nodes accept whole writes or refuse).
    fn write(&mut self, node: &Self::Node, offset: u64, data: &[u8]) -> Result<u32, Error>;

    /// Children of a directory node, in a stable order.
    fn list(&mut self, dir: &Self::Node) -> Result<Vec<DirEntry>, Error>;

    fn getattr(&mut self, node: &Self::Node) -> Result<Attr, Error>;

    /// The fid holding `node` was clunked (or the session closed).
    fn clunk(&mut self, node: &Self::Node) {
        let _ = node;
    }
}
