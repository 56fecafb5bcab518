//! The 9P2000.L directory entry packed into `Rreaddir` data:
//! `qid[13] offset[8] type[1] name[s]`.

use super::wire::{self, Reader};
use super::{DecodeError, Limits};
use crate::{Error, Qid, QT_DIR};
use alloc::string::String;
use alloc::vec::Vec;

/// `d_type` of a directory.
pub const DT_DIR: u8 = 4;
/// `d_type` of a regular file.
pub const DT_REG: u8 = 8;
/// Bytes of a dirent besides its name: `qid[13] offset[8] type[1]` and the name's `len[2]`.
pub const DIRENT_FIXED_LEN: usize = 13 + 8 + 1 + 2;

/// One directory entry; `offset` is the cookie a client passes to continue after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirent {
    pub qid: Qid,
    pub offset: u64,
    pub ty: u8,
    pub name: String,
}

impl Dirent {
    /// The `d_type` matching a qid type.
    pub fn dtype(qid: &Qid) -> u8 {
        if qid.ty & QT_DIR != 0 {
            DT_DIR
        } else {
            DT_REG
        }
    }

    /// Encoded length.
    pub fn wire_len(&self) -> usize {
        DIRENT_FIXED_LEN + self.name.len()
    }
}

/// Appends one dirent.
pub fn encode_dirent(entry: &Dirent, out: &mut Vec<u8>) -> Result<(), Error> {
    put_dirent(out, &entry.qid, entry.offset, entry.ty, &entry.name)
}

/// `encode_dirent` from borrowed parts, so the engine need not copy names.
pub(crate) fn put_dirent(
    out: &mut Vec<u8>,
    qid: &Qid,
    offset: u64,
    ty: u8,
    name: &str,
) -> Result<(), Error> {
    let start = out.len();
    wire::put_qid(out, qid);
    wire::put_u64(out, offset);
    wire::put_u8(out, ty);
    wire::put_str(out, name).inspect_err(|_| out.truncate(start))
}

/// Splits `Rreaddir` data into entries. Names obey the same rules as walk names.
pub fn decode_dirents(data: &[u8], limits: &Limits) -> Result<Vec<Dirent>, DecodeError> {
    let mut r = Reader::new(data, 0, 0);
    let mut entries = Vec::new();
    while r.remaining() > 0 {
        let qid = r.qid()?;
        let offset = r.u64()?;
        let ty = r.u8()?;
        let raw = r.str_bytes()?;
        let name = super::validate_name(raw, limits.name_max).map_err(|e| r.refuse(e))?;
        entries.push(Dirent {
            qid,
            offset,
            ty,
            name: String::from(name),
        });
    }
    Ok(entries)
}
